/**
 * The example platform app (examples/platform-app.ts) deployed end to end on an in-process proton-local through the
 * real bundled handler and constructs: lifecycle, upgrade, rollback of a failed deployment, and destroy.
 * Needs the handler bundle (`npx projen bundle`).
 */
import { Tags } from 'aws-cdk-lib';
import { Harness, eventLines, mutatingCalls, startHarness, synthesize } from './helpers';
import { buildPlatformApp, REVISION_CONTEXT } from '../../examples/platform-app';
import { Service } from '../../src';
import { readProtonResources } from '../../src/local/deploy/output';
import { ProtonApiClient } from '../../src/local/deploy/proton-client';

const platformApp = (revision: '1' | '2') => synthesize((app) => buildPlatformApp(app), { [REVISION_CONTEXT]: revision });

/** `kind name version status` of every Proton resource. */
async function table(client: ProtonApiClient): Promise<string[]> {
  return (await readProtonResources(client)).map((r) => `${r.kind} ${r.name} ${r.version} ${r.status}`);
}

const DEPLOYED = [
  'EnvironmentTemplate fargate-env 1.0 -',
  'EnvironmentTemplateVersion fargate-env 1.0 PUBLISHED',
  'EnvironmentTemplate vpc-env 1.0 -',
  'EnvironmentTemplateVersion vpc-env 1.0 PUBLISHED',
  'ServiceTemplate backend-fargate-svc 1.0 -',
  'ServiceTemplateVersion backend-fargate-svc 1.0 PUBLISHED',
  'ServiceTemplate load-balanced-fargate-svc 1.0 -',
  'ServiceTemplateVersion load-balanced-fargate-svc 1.0 PUBLISHED',
  'Environment production 1.0 SUCCEEDED',
  'Environment staging 1.0 SUCCEEDED',
  'Service orders-backend - ACTIVE',
  'ServicePipeline orders-backend 1.0 SUCCEEDED',
  'ServiceInstance orders-backend/production 1.0 SUCCEEDED',
  'ServiceInstance orders-backend/staging 1.0 SUCCEEDED',
  'Service storefront - ACTIVE',
  'ServiceInstance storefront/production 1.0 SUCCEEDED',
  'ServiceInstance storefront/staging 1.0 SUCCEEDED',
];

/** Every kind of resource the emulator holds, listed through the API where Proton lists it, else read from its state. */
async function everyResource(h: Harness): Promise<{ [kind: string]: unknown[] }> {
  const state = h.local.state;
  return {
    environmentTemplates: await h.client.listAll('ListEnvironmentTemplates', 'templates'),
    serviceTemplates: await h.client.listAll('ListServiceTemplates', 'templates'),
    environments: await h.client.listAll('ListEnvironments', 'environments'),
    services: await h.client.listAll('ListServices', 'services'),
    serviceInstances: await h.client.listAll('ListServiceInstances', 'serviceInstances'),
    repositories: await h.client.listAll('ListRepositories', 'repositories'),
    components: Object.values(state.components),
    environmentAccountConnections: Object.values(state.environmentAccountConnections),
    templateSyncConfigs: Object.values(state.templateSyncConfigs),
    serviceSyncConfigs: Object.values(state.serviceSyncConfigs),
    tags: Object.keys(state.tags),
  };
}

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

test('lifecycle: deploy the example app, deploy again with no mutating call, destroy leaving no Proton resource', async () => {
  const { accountSettings: before } = await h.client.call('GetAccountSettings', {});
  const outcomes = await h.engine().deploy(platformApp('1'));

  expect(outcomes).toEqual([
    { stackName: 'ProtonPlatform', status: 'CREATE_COMPLETE', warnings: [] },
    { stackName: 'ProtonServices', status: 'CREATE_COMPLETE', warnings: [] },
  ]);
  expect(await table(h.client)).toEqual(DEPLOYED);
  const { accountSettings } = await h.client.call('GetAccountSettings', {});
  expect(accountSettings.pipelineServiceRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/ProtonPlatform-PipelineServiceRole/);
  const { environment } = await h.client.call('GetEnvironment', { name: 'production' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: environment.arn });
  expect(tags).toEqual(expect.arrayContaining([
    { key: 'criticality', value: 'high' }, { key: 'managed-by', value: 'cdk-proton' }, { key: 'cost-center', value: 'platform-engineering' },
  ]));

  h.local.requestLog.clear();
  h.events.length = 0;
  await h.engine().deploy(platformApp('1'));
  expect(mutatingCalls(h.local)).toEqual([]);
  expect(h.events).toEqual([]);

  await h.engine().destroy();
  expect(Object.values(await everyResource(h)).flat()).toEqual([]);
  expect((await h.client.call('GetAccountSettings', {})).accountSettings).toEqual(before);
  expect(h.state.stacks).toEqual({});
});

test('upgrade: the version is replaced by a new minor that rolls out to both environments, then the old one is deleted in cleanup', async () => {
  await h.engine().deploy(platformApp('1'));
  const versionId = () => Object.entries(h.state.stack('ProtonPlatform')!.resources).find(([id]) => id.startsWith('FargateEnvVersion'))![1].physicalId;
  expect(versionId()).toBe('fargate-env:1.0');
  h.events.length = 0;

  const outcomes = await h.engine().deploy(platformApp('2'));

  expect(outcomes.map((o) => o.status)).toEqual(['UPDATE_COMPLETE', 'UPDATE_COMPLETE']);
  expect(eventLines(h.events, (e) => e.status !== 'IN_PROGRESS').map((line) => line.replace(/[0-9A-F]{8}\b/, ''))).toEqual([
    'FargateEnvVersion UPDATE COMPLETE',
    'Staging UPDATE COMPLETE',
    'Production UPDATE COMPLETE',
    // After the environments moved: deletes superseded versions (none here: cleanup deletes the old one itself).
    'CdkProtonSupersededVersions UPDATE COMPLETE',
    'FargateEnvVersion DELETE(cleanup) COMPLETE',
  ]);
  const upgraded = await table(h.client);
  expect(upgraded).toEqual(expect.arrayContaining([
    'EnvironmentTemplate fargate-env 1.1 -',
    'Environment production 1.1 SUCCEEDED',
    'Environment staging 1.1 SUCCEEDED',
  ]));
  expect(upgraded.filter((row) => row.startsWith('EnvironmentTemplateVersion fargate-env'))).toEqual(['EnvironmentTemplateVersion fargate-env 1.1 PUBLISHED']);
  expect(versionId()).toBe('fargate-env:1.1');
  const cleanup = h.events.find((e) => e.phase === 'cleanup' && e.status === 'COMPLETE')!;
  expect(cleanup.physicalId).toBe('fargate-env:1.0');
  // The services did not move: their template did not change.
  expect(upgraded).toEqual(expect.arrayContaining(DEPLOYED.filter((row) => row.startsWith('Service'))));
});

test('a failed deployment rolls back: the created service is deleted, the updated one gets its old properties back', async () => {
  await h.engine().deploy(platformApp('1'));
  h.local.failDeploymentsFor('payments');
  h.events.length = 0;
  const variant = synthesize((app) => {
    const { platform, services } = buildPlatformApp(app);
    Tags.of(services.node.findChild('Backend')).add('release', '2');
    new Service(services, 'Payments', {
      serviceName: 'payments',
      templateVersion: platform.frontendVersion,
      instances: [{ instanceName: 'staging', environment: platform.staging }],
    });
  }, { [REVISION_CONTEXT]: '1' });

  await expect(h.engine().deploy(variant)).rejects.toThrow(
    /^Stack ProtonServices failed: Payments\w+ \(Custom::ProtonService\) CREATE failed: .*failed on demand.*\. Rolled back\.$/);

  const lines = eventLines(h.events, (e) => e.status !== 'IN_PROGRESS' && e.status !== 'SKIPPED').map((line) => line.replace(/[0-9A-F]{8}\b/, ''));
  expect(lines.slice(0, 2)).toEqual(['Backend UPDATE COMPLETE', 'Payments CREATE FAILED']);
  // The two services do not depend on each other, so their rollbacks run concurrently, in no fixed order.
  expect(lines.slice(2).sort()).toEqual(['Backend UPDATE(rollback) COMPLETE', 'Payments DELETE(rollback) COMPLETE']);
  expect(await table(h.client)).toEqual(DEPLOYED);
  const { service } = await h.client.call('GetService', { name: 'orders-backend' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: service.arn });
  expect(tags.map((t: any) => t.key)).not.toContain('release');
  expect(h.state.stack('ProtonServices')!.status).toBe('UPDATE_ROLLBACK_COMPLETE');

  // The previous state is intact: deploying it again changes nothing.
  h.local.requestLog.clear();
  await h.engine().deploy(platformApp('1'));
  expect(mutatingCalls(h.local)).toEqual([]);
});
