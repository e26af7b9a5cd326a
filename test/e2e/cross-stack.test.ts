/**
 * Platform and team stacks through the real bundled handler on proton-local: a platform stack publishes templates and
 * versions; a team stack deploys account settings, two environments and a service with two instances and a pipeline.
 * Upgrades roll through without an export of the minor version; rollbacks converge; superseded versions are deleted by
 * whichever deployment frees them. Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Harness, mutatingCalls, startHarness, synthesize } from './helpers';
import { CONNECTION_ARN, TEMPLATES } from '../../examples/platform-app';
import {
  AccountSettings, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Service, ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../../src';

const ENV = { account: '123456789012', region: 'us-east-1' };

interface AppOptions {
  /** 1: fargate-env as first published; 2: the upgraded bundle. */
  readonly revision: 1 | 2;
  /** One stack holding everything, or a platform stack and a team stack. */
  readonly oneStack?: boolean;
  /** Adds a service whose deployment proton-local fails. */
  readonly failingService?: boolean;
}

function buildApp(app: App, options: AppOptions) {
  const platform = new Stack(app, 'Platform', { env: ENV });
  const team = options.oneStack ? platform : new Stack(app, 'Team', { env: ENV });
  const envTemplate = new EnvironmentTemplate(platform, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(platform, 'EnvVersion', {
    template: envTemplate,
    bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, options.revision === 1 ? 'fargate-env' : 'fargate-env-v1.1')),
  });
  const svcTemplate = new ServiceTemplate(platform, 'SvcTemplate', { serviceTemplateName: 'backend-fargate-svc' });
  const svcVersion = new ServiceTemplateVersion(platform, 'SvcVersion', {
    template: svcTemplate,
    bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'backend-fargate-svc')),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });

  const protonRole = new iam.Role(team, 'ProtonServiceRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  new AccountSettings(team, 'AccountSettings', { pipelineServiceRole: protonRole });
  const names = ['staging', 'production'];
  const environments = names.map(name => new Environment(team, `Env-${name}`, {
    environmentName: name, templateVersion: envVersion, protonServiceRole: protonRole,
  }));
  new Service(team, 'Backend', {
    serviceName: 'orders',
    templateVersion: svcVersion,
    instances: environments.map((environment, i) => ({ instanceName: names[i], environment })),
    pipelineSpec: {},
    repository: { connectionArn: CONNECTION_ARN, repositoryId: 'acme/orders', branchName: 'main' },
  });
  if (options.failingService) {
    new Service(team, 'Payments', {
      serviceName: 'payments',
      templateVersion: svcVersion,
      instances: [{ instanceName: 'staging', environment: environments[0] }],
      pipelineSpec: {},
      repository: { connectionArn: CONNECTION_ARN, repositoryId: 'acme/payments', branchName: 'main' },
    });
  }
  return { platform, team };
}

const assembly = (options: AppOptions) => synthesize(app => buildApp(app, options));

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});

/** The payments service fails to deploy once (its deletion by the rollback then works, as a transient failure would). */
function failPaymentsOnce(): void {
  h.local.failDeploymentsFor('payments');
  const engine = h.engine.bind(h);
  h.engine = () => {
    const built = engine();
    const emit = (built as any).options.onEvent;
    (built as any).options = {
      ...(built as any).options,
      onEvent: (event: any) => {
        if (event.logicalId.startsWith('Payments') && event.status === 'FAILED') h.local.stopFailingDeploymentsFor('payments');
        emit(event);
      },
    };
    return built;
  };
}
afterEach(() => h.stop());

async function envVersions(): Promise<string[]> {
  const versions = await h.client.listAll('ListEnvironmentTemplateVersions', 'templateVersions', { templateName: 'fargate-env' });
  return versions.map((v: any) => `${v.majorVersion}.${v.minorVersion}`).sort();
}

async function environmentVersions(): Promise<string[]> {
  const environments = await h.client.listAll('ListEnvironments', 'environments');
  return environments.map((e: any) => `${e.name} ${e.templateMajorVersion}.${e.templateMinorVersion} ${e.deploymentStatus}`).sort();
}

async function everything(): Promise<unknown[]> {
  return [
    ...await h.client.listAll('ListEnvironmentTemplates', 'templates'),
    ...await h.client.listAll('ListServiceTemplates', 'templates'),
    ...await h.client.listAll('ListEnvironments', 'environments'),
    ...await h.client.listAll('ListServices', 'services'),
  ];
}

test('the team stack references no export of the platform and depends on the platform stack', () => {
  const app = new App();
  const { platform, team } = buildApp(app, { revision: 1 });
  const cloudAssembly = app.synth();
  const teamTemplate = JSON.stringify(cloudAssembly.getStackByName(team.stackName).template);
  expect(teamTemplate).not.toContain('Fn::ImportValue');
  expect(JSON.stringify(cloudAssembly.getStackByName(platform.stackName).template.Outputs ?? {})).not.toContain('MinorVersion');
  expect(team.dependencies).toContain(platform);
});

test('an upgrade rolls through: a new minor, then every environment moves to it, the old minor goes, destroy leaves nothing', async () => {
  const first = await h.engine().deploy(assembly({ revision: 1 }));
  expect(first.map(o => o.status)).toEqual(['CREATE_COMPLETE', 'CREATE_COMPLETE']);
  expect(await environmentVersions()).toEqual(['production 1.0 SUCCEEDED', 'staging 1.0 SUCCEEDED']);

  const upgrade = await h.engine().deploy(assembly({ revision: 2 }));

  expect(upgrade.map(o => o.status)).toEqual(['UPDATE_COMPLETE', 'UPDATE_COMPLETE']);
  // The platform's cleanup could not delete 1.0 (the team's environments ran on it): kept, with a notice, not a failure.
  expect(upgrade[0].warnings.join('\n')).toMatch(/Proton keeps the environment template version fargate-env:1\.0 .*cdk-proton:superseded/);
  expect(await environmentVersions()).toEqual(['production 1.1 SUCCEEDED', 'staging 1.1 SUCCEEDED']);
  // The team's deployment freed 1.0 and deleted it.
  expect(await envVersions()).toEqual(['1.1']);

  await h.engine().destroy();
  expect(await everything()).toEqual([]);
});

test('two stacks: an upgrade that fails on a new service rolls back to the old minor; the same upgrade without the failure converges', async () => {
  await h.engine().deploy(assembly({ revision: 1 }));
  failPaymentsOnce();

  await expect(h.engine().deploy(assembly({ revision: 2, failingService: true }))).rejects.toThrow(/Stack Team failed: .*Payments.*Rolled back\.$/);

  expect(h.state.stack('Platform')!.status).toBe('UPDATE_COMPLETE');
  expect(h.state.stack('Team')!.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(await environmentVersions()).toEqual(['production 1.0 SUCCEEDED', 'staging 1.0 SUCCEEDED']);
  expect((await h.client.listAll('ListServices', 'services')).map((s: any) => s.name)).toEqual(['orders']);
  expect(await envVersions()).toEqual(['1.0', '1.1']);

  const converged = await h.engine().deploy(assembly({ revision: 2 }));
  expect(converged.map(o => o.status)).toEqual(['UPDATE_COMPLETE', 'UPDATE_COMPLETE']);
  expect(await environmentVersions()).toEqual(['production 1.1 SUCCEEDED', 'staging 1.1 SUCCEEDED']);
  expect(await envVersions()).toEqual(['1.1']);

  await h.engine().destroy();
  expect(await everything()).toEqual([]);
});

test('one stack: a failed upgrade keeps the new recommended minor Proton will not delete, and the next deploy reuses it', async () => {
  await h.engine().deploy(assembly({ revision: 1, oneStack: true }));
  failPaymentsOnce();

  await expect(h.engine().deploy(assembly({ revision: 2, oneStack: true, failingService: true }))).rejects.toThrow(/Rolled back\.$/);

  expect(h.state.stack('Platform')!.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(await environmentVersions()).toEqual(['production 1.0 SUCCEEDED', 'staging 1.0 SUCCEEDED']);
  expect((await h.client.listAll('ListServices', 'services')).map((s: any) => s.name)).toEqual(['orders']);
  // 1.1 is the recommended version now, and Proton deletes it only after 1.0: kept, marked superseded.
  expect(await envVersions()).toEqual(['1.0', '1.1']);
  const { tags } = await h.client.call('ListTagsForResource', {
    resourceArn: 'arn:aws:proton:us-east-1:123456789012:environment-template/fargate-env:1.1',
  });
  expect(tags).toEqual(expect.arrayContaining([{ key: 'cdk-proton:superseded', value: 'true' }]));

  h.local.requestLog.clear();
  await h.engine().deploy(assembly({ revision: 2, oneStack: true }));

  // The same bundle again: 1.1 is adopted, not registered a second time.
  expect(mutatingCalls(h.local)).not.toContain('CreateEnvironmentTemplateVersion');
  expect(await environmentVersions()).toEqual(['production 1.1 SUCCEEDED', 'staging 1.1 SUCCEEDED']);
  expect(await envVersions()).toEqual(['1.1']);
  const after = await h.client.call('ListTagsForResource', {
    resourceArn: 'arn:aws:proton:us-east-1:123456789012:environment-template/fargate-env:1.1',
  });
  expect(after.tags.map((t: any) => t.key)).not.toContain('cdk-proton:superseded');

  await h.engine().destroy();
  expect(await everything()).toEqual([]);
});

test('a re-delivered version Create adopts the version the first delivery registered', async () => {
  await h.engine().deploy(assembly({ revision: 1 }));
  // CloudFormation lost the first delivery's answer: its record of the version is gone, so it creates again.
  const platform = h.state.stack('Platform')!;
  const versionId = Object.keys(platform.resources).find(id => id.startsWith('EnvVersion'))!;
  const { [versionId]: forgotten, ...rest } = platform.resources;
  h.state.putStack('Platform', { ...platform, resources: rest });
  h.local.requestLog.clear();

  await h.engine().deploy(assembly({ revision: 1 }));

  expect(mutatingCalls(h.local)).not.toContain('CreateEnvironmentTemplateVersion');
  expect(h.state.stack('Platform')!.resources[versionId].physicalId).toBe(forgotten.physicalId);
  expect(await envVersions()).toEqual(['1.0']);
});
