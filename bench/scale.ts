/**
 * Deploy and destroy at scale under throttling (issue 9, finding 6): one app of 50 environments and 100 services (each with
 * an instance on one of those environments, and a Proton pipeline), built from the real sample bundles
 * (test/fixtures/proton-samples: fargate-env, load-balanced-fargate-svc), deployed and then destroyed by the local
 * engine and the real bundled handler against a proton-local that answers at most 20 requests per second
 * (`throttleRps`, what `proton-local serve --throttle-rps 20` sets) and ThrottlingException (HTTP 400) above that.
 *
 * Throttling must slow the work down, never fail it: no resource may fail in the deploy or the destroy, and nothing may
 * be left in Proton afterwards. Each phase's time is compared with its ideal: the Proton calls it got answered, at the
 * rate limit. The destroy deletes each stack's independent resources at once (as CloudFormation does), so it is bound
 * by the rate limit, except at the end of each stack: the last resources to get through sleep in onEvent's backoff
 * (full jitter, capped at 30 s, lambda/shared/lifecycle.ts) while the limit sits idle. The deploy is not bound by the
 * rate limit: the local engine creates a stack's resources one at a time (see engine.ts), so most of its time is each
 * resource waiting for its own deployment, at far below 20 calls per second (unthrottled), and its time goal applies
 * only once it is throttled.
 *
 * Emulator delays: 500 ms for a template version's registration and for a deployment (proton-local's defaults are
 * 1000 and 2000 ms), so that the row takes about 4 minutes: with the defaults, each of the deploy's 155 resources would
 * wait 1.5 s longer for its own deployment, one after the other (about 4 minutes more). The destroy's figure hardly
 * depends on the delays: it is bound by the rate limit.
 *
 * Runs in a child process (its own proton-local; the in-process handler reads the endpoint from process.env).
 * test/reliability/scale.test.ts runs the same child at a smaller size, with more faults.
 */
import * as path from 'path';
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { childMain, newEngine, ROOT, runChild, synthesize } from './harness';
import { atMost, metric, Metric } from './metric';
import {
  AccountSettings, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Service, ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../src';
import { FaultOptions, ProtonLocal } from '../src/local';
import { readProtonResources } from '../src/local/deploy/output';
import { ProtonApiClient } from '../src/local/deploy/proton-client';

const SAMPLES = path.join(ROOT, 'test', 'fixtures', 'proton-samples');
const ENVIRONMENT_BUNDLE = path.join(SAMPLES, 'environment-templates', 'fargate-env', 'v1');
const SERVICE_BUNDLE = path.join(SAMPLES, 'service-templates', 'load-balanced-fargate-svc', 'v1');
const ENV = { account: '123456789012', region: 'us-east-1' };
const CONNECTION_ARN = 'arn:aws:codestar-connections:us-east-1:123456789012:connection/2d8f7a3e-5c1b-4f4e-9a7d-0b6c1e2f3a4b';

const ENVIRONMENTS = 50;
const SERVICES = 100;
const RATE = 20;
const REGISTRATION_DELAY_MS = 500;
const DEPLOYMENT_DELAY_MS = 500;

export interface ScaleAppSize {
  readonly environments: number;
  readonly services: number;
}

/**
 * Three stacks, as a platform team and its users would split them: ScalePlatform (the two templates and their
 * versions, the account's pipeline role), ScaleEnvironments (every environment), ScaleServices (every service, service
 * i with one instance on environment i mod `environments` and a pipeline).
 */
export function buildScaleApp(app: App, size: ScaleAppSize): void {
  const platform = new Stack(app, 'ScalePlatform', { env: ENV });
  const environmentsStack = new Stack(app, 'ScaleEnvironments', { env: ENV });
  const servicesStack = new Stack(app, 'ScaleServices', { env: ENV });
  const envTemplate = new EnvironmentTemplate(platform, 'EnvTemplate', { environmentTemplateName: 'scale-fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(platform, 'EnvVersion', {
    template: envTemplate, bundle: TemplateBundle.fromDirectory(ENVIRONMENT_BUNDLE),
  });
  const svcTemplate = new ServiceTemplate(platform, 'SvcTemplate', { serviceTemplateName: 'scale-web' });
  const svcVersion = new ServiceTemplateVersion(platform, 'SvcVersion', {
    template: svcTemplate,
    bundle: TemplateBundle.fromDirectory(SERVICE_BUNDLE),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });
  const protonRole = new iam.Role(platform, 'ProtonServiceRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  new AccountSettings(platform, 'AccountSettings', { pipelineServiceRole: protonRole });

  const environments = Array.from({ length: size.environments }, (_, i) => new Environment(environmentsStack, `Env${i}`, {
    environmentName: `env-${String(i).padStart(3, '0')}`, templateVersion: envVersion, protonServiceRole: protonRole,
  }));
  for (let i = 0; i < size.services; i++) {
    const name = `svc-${String(i).padStart(3, '0')}`;
    new Service(servicesStack, `Svc${i}`, {
      serviceName: name,
      templateVersion: svcVersion,
      instances: [{ instanceName: 'main', environment: environments[i % size.environments] }],
      pipelineSpec: {},
      repository: { connectionArn: CONNECTION_ARN, repositoryId: `acme/${name}`, branchName: 'main' },
    });
  }
}

/** Proton resources the app makes (as readProtonResources lists them, account settings not among them). */
export function expectedProtonResources(size: ScaleAppSize): number {
  // Two templates and a version of each, the environments, and per service the service, its instance and its pipeline.
  return 4 + size.environments + 3 * size.services;
}

export interface PhaseResult {
  readonly seconds: number;
  /** Resource operations that failed (FAILED events), and the error of the phase if it threw. */
  readonly failures: string[];
  /** Proton requests answered (not throttled) during the phase. */
  readonly answered: number;
  readonly throttled: number;
  /** Requests that proton-local's other faults hit (InternalServerException, dropped connection). */
  readonly faulted: number;
}

export interface ScaleResult {
  readonly deploy: PhaseResult;
  readonly destroy: PhaseResult;
  /** Proton resources listed after the deploy, and how many the app makes. */
  readonly deployed: number;
  readonly expected: number;
  /** Proton resources left after the destroy (kind name), and stacks left in the engine's state. */
  readonly left: string[];
  readonly stacksLeft: string[];
}

/**
 * Deploys the app on `local` with `faults`, then destroys it, and counts what failed and what is left.
 * The listings between and after the phases run without faults (they are the measurement's, not the system's); the
 * faults are restored for the destroy.
 */
async function runScaleScenario(local: ProtonLocal, size: ScaleAppSize, faults: FaultOptions): Promise<ScaleResult> {
  const client = new ProtonApiClient(local.endpoint);
  const assembly = synthesize(app => buildScaleApp(app, size));
  const failures: string[] = [];
  // The providers' own query interval and poll budget (an override would shorten the framework's timeout alike).
  const { engine, state } = newEngine(local.endpoint, (event) => {
    if (event.status === 'FAILED') failures.push(`${event.phase} ${event.stack} ${event.logicalId} ${event.action}: ${event.reason}`);
  });

  const phase = async (run: () => Promise<unknown>): Promise<PhaseResult> => {
    failures.length = 0;
    local.setFaults(faults);
    const first = local.requestLog.all.length;
    const started = Date.now();
    try {
      await run();
    } catch (error) {
      failures.push(`the phase failed: ${(error as Error).message}`);
    }
    const seconds = (Date.now() - started) / 1000;
    local.setFaults({});
    const requests = local.requestLog.all.slice(first).filter(entry => !entry.operation.startsWith('S3.'));
    return {
      seconds,
      failures: [...failures],
      answered: requests.filter(entry => entry.outcome !== 'ThrottlingException').length,
      throttled: requests.filter(entry => entry.outcome === 'ThrottlingException').length,
      faulted: requests.filter(entry => entry.outcome === 'InternalServerException' || entry.outcome === 'dropped').length,
    };
  };

  const deploy = await phase(() => engine.deploy(assembly));
  const deployed = (await readProtonResources(client)).length;
  const destroy = await phase(() => engine.destroy());
  const left = (await readProtonResources(client)).map(row => `${row.kind} ${row.name}${row.version === '-' ? '' : ` ${row.version}`}`);
  return { deploy, destroy, deployed, expected: expectedProtonResources(size), left, stacksLeft: Object.keys(state.stacks) };
}

/** The child's options: the row's by default; the reliability test runs a small app with more faults. */
export interface ScaleRun extends ScaleAppSize {
  readonly throttleRps: number;
  readonly errorRate?: number;
  readonly dropRate?: number;
  readonly seed?: number;
  readonly registrationDelayMs: number;
  readonly deploymentDelayMs: number;
}

export const SCALE_ROW: ScaleRun = {
  environments: ENVIRONMENTS,
  services: SERVICES,
  throttleRps: RATE,
  registrationDelayMs: REGISTRATION_DELAY_MS,
  deploymentDelayMs: DEPLOYMENT_DELAY_MS,
};

/**
 * Runs the scenario in a child process: `npx tsx bench/scale.ts --child [JSON of a ScaleRun]`. In a process of its own
 * the handler runs as on Lambda, in Node's own realm (under jest's module sandbox, errors of Node's http module are not
 * `instanceof Error` for the SDK, which then wraps a dropped connection into an error it does not retry).
 */
export function runScaleInChild(run: ScaleRun = SCALE_ROW): Promise<ScaleResult> {
  return runChild<ScaleResult>('scale', [JSON.stringify(run)]);
}

async function measureScaleInChild(args: string[]): Promise<ScaleResult> {
  const run: ScaleRun = args.length ? JSON.parse(args[0]) : SCALE_ROW;
  const local = await ProtonLocal.start({ registrationDelayMs: run.registrationDelayMs, deploymentDelayMs: run.deploymentDelayMs });
  const faults = { throttleRps: run.throttleRps, errorRate: run.errorRate, dropRate: run.dropRate, seed: run.seed };
  try {
    return await runScaleScenario(local, run, faults);
  } finally {
    await local.stop();
  }
}

export async function measureScale(): Promise<Metric[]> {
  const result = await runScaleInChild();
  const label = `${ENVIRONMENTS} environments + ${SERVICES} services at ${RATE} req/s`;
  for (const [name, phase] of [['deploy', result.deploy], ['destroy', result.destroy]] as const) {
    console.log(`  ${name}: ${phase.seconds.toFixed(1)} s, ${phase.answered} calls answered, ${phase.throttled} throttled; ${phase.failures.length} failed`);
    phase.failures.slice(0, 5).forEach(failure => console.log(`    ${failure}`));
  }
  console.log(`  ${result.deployed} Proton resources after the deploy (the app makes ${result.expected}), ${result.left.length} left after the destroy`
    + `${result.left.length ? `: ${result.left.slice(0, 5).join(', ')}` : ''}`);
  const failures = (name: string, phase: PhaseResult) => metric({
    name: `Scale, ${label}: ${name} failures`, value: phase.failures.length, unit: 'failures', baseline: 0, goal: '0 failures', passes: v => v === 0,
  });
  const ideal = (phase: PhaseResult) => phase.answered / RATE;
  const idealName = `ideal (answered calls / ${RATE} req/s)`;
  const timeName = (name: string, phase: PhaseResult) => `Scale, ${label}: ${name} time (${phase.answered} calls, ${phase.throttled} throttled)`;
  // The deploy runs one resource at a time: unless it was throttled, the rate limit did not bound it, and its time is
  // its resources' waits for their own deployments (see the module comment).
  const deployTime = metric({
    name: timeName('deploy', result.deploy),
    value: result.deploy.seconds,
    unit: 's',
    baseline: ideal(result.deploy),
    goal: result.deploy.throttled === 0
      ? 'informational: never throttled, so not bound by the rate (the local engine deploys one resource at a time)'
      : `≤ 1.3 x ${idealName}`,
    passes: (_, ratio) => ratio <= 1.3 || result.deploy.throttled === 0,
  });
  return [
    failures('deploy', result.deploy),
    metric({
      name: `Scale, ${label}: Proton resources after deploy`,
      value: result.deployed,
      unit: 'resources',
      baseline: result.expected,
      goal: `= ${result.expected} (the app's)`,
      passes: v => v === result.expected,
    }),
    failures('destroy', result.destroy),
    metric({
      name: `Scale, ${label}: Proton resources left after destroy`,
      value: result.left.length + result.stacksLeft.length,
      unit: 'resources',
      baseline: 0,
      goal: '0 left (nor stacks)',
      passes: v => v === 0,
    }),
    deployTime,
    atMost(timeName('destroy', result.destroy), result.destroy.seconds, 's', ideal(result.destroy), 1.3, idealName),
    metric({
      name: `Scale, ${label}: throttled responses (deploy + destroy)`,
      value: result.deploy.throttled + result.destroy.throttled,
      unit: 'responses',
      baseline: result.deploy.answered + result.destroy.answered,
      goal: '> 0 (the limit was reached)',
      passes: v => v > 0,
    }),
  ];
}

if (require.main === module) childMain(measureScaleInChild);
