/**
 * Rows 2 and 3: how long after Proton finished a custom resource's Create completes (the handler polls inside
 * isComplete with a 1 s to 5 s backoff; the Provider framework's own query interval is used, not overridden), for a
 * template version (2 s registration) and for environments of several deployment durations, and how many isComplete
 * invocations a deployment costs per minute it runs.
 *
 * Each deployment duration runs in a child process of its own (proton-local's delays are per instance, and the
 * in-process handler reads the endpoint from the shared process.env), all at once.
 */
import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Environment, EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../src';
import { childMain, completionTimes, FARGATE_ENV_SPEC, handlerInvocations, mean, newEngine, runChild, SAMPLE_BUNDLE, synthesize } from './harness';
import { metric, Metric, withinBudget } from './metric';
import { ProtonLocal } from '../src/local';

const REGISTRATION_DELAY_MS = 2000;
/** Deployment durations: those of the deployments (41 s to 120 s) and two shorter ones. */
export const DEPLOYMENT_DELAYS_MS = [10_000, 20_000, 45_000, 75_000, 110_000];

interface LagSample {
  readonly deploymentDelayMs: number;
  readonly versionLagMs: number;
  readonly environmentLagMs: number;
  readonly deploymentMs: number;
  readonly isCompleteInvocations: number;
}

/** One stack: a template, its version (registration takes 2 s) and an environment of it (deploying takes `deploymentDelayMs`). */
async function measureOne(deploymentDelayMs: number): Promise<LagSample> {
  const local = await ProtonLocal.start({ registrationDelayMs: REGISTRATION_DELAY_MS, deploymentDelayMs });
  const times = completionTimes();
  const { engine, state } = newEngine(local.endpoint, times.onEvent);
  try {
    const assembly = synthesize((app) => {
      const stack = new Stack(app, 'LagBench');
      const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'lag-bench' });
      const version = new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: TemplateBundle.fromDirectory(SAMPLE_BUNDLE) });
      new Environment(stack, 'Environment', {
        environmentName: 'lag-bench',
        templateVersion: version,
        spec: FARGATE_ENV_SPEC,
        protonServiceRole: iam.Role.fromRoleArn(stack, 'ProtonServiceRole', 'arn:aws:iam::123456789012:role/proton-service'),
      });
    });
    const stack = assembly.stacks[0];
    const idOf = (type: string) => Object.entries<any>(stack.template.Resources).find(([, r]) => r.Type === type)![0];
    await engine.deploy(assembly);
    const version = local.state.environmentTemplates['lag-bench'].versions['1.0'];
    const deployment = Object.values<any>(local.state.deployments).find(d => d.environmentName === 'lag-bench' && d.targetResourceType === 'ENVIRONMENT');
    const environmentId = idOf('Custom::ProtonEnvironment');
    return {
      deploymentDelayMs,
      versionLagMs: times.at(stack.stackName, idOf('Custom::ProtonEnvironmentTemplateVersion'), 'CREATE') - (version.createdAt + REGISTRATION_DELAY_MS),
      environmentLagMs: times.at(stack.stackName, environmentId, 'CREATE') - deployment.completedAt,
      deploymentMs: deployment.completedAt - deployment.createdAt,
      isCompleteInvocations: handlerInvocations(state, environmentId, 'isComplete'),
    };
  } finally {
    await local.stop();
  }
}

export async function measureCompletionLag(): Promise<Metric[]> {
  const samples = await Promise.all(DEPLOYMENT_DELAYS_MS.map(delay => runChild<LagSample>('completion-lag', [String(delay)])));
  for (const s of samples) {
    console.log(`  deployment ${s.deploymentMs / 1000} s: environment lag ${(s.environmentLagMs / 1000).toFixed(2)} s, `
      + `${s.isCompleteInvocations} isComplete invocations; version lag ${(s.versionLagMs / 1000).toFixed(2)} s`);
  }
  const versionLags = samples.map(s => s.versionLagMs / 1000);
  const environmentLags = samples.map(s => s.environmentLagMs / 1000);
  const deploymentMinutes = samples.reduce((sum, s) => sum + s.deploymentMs, 0) / 60_000;
  const invocations = samples.reduce((sum, s) => sum + s.isCompleteInvocations, 0);
  const durations = `${samples.map(s => s.deploymentMs / 1000).join('/')} s`;
  return [
    withinBudget(`Completion lag, template version (2 s registration), mean of ${samples.length}`, mean(versionLags), 's', 1),
    metric({
      name: `Completion lag, template version (2 s registration), max of ${samples.length}`,
      value: Math.max(...versionLags),
      unit: 's',
      baseline: 1,
      goal: 'informational (goal is on the mean)',
      passes: () => true,
    }),
    withinBudget(`Completion lag, environment deployments (${durations}), mean`, mean(environmentLags), 's', 1.5),
    metric({
      name: `Completion lag, environment deployments (${durations}), max`,
      value: Math.max(...environmentLags),
      unit: 's',
      baseline: 1.5,
      goal: 'informational (goal is on the mean)',
      passes: () => true,
    }),
    withinBudget(`isComplete invocations per deployment minute (${invocations} in ${deploymentMinutes.toFixed(2)} min)`,
      invocations / deploymentMinutes, 'per min', 2),
  ];
}

if (require.main === module) childMain(args => measureOne(Number(args[0])));
