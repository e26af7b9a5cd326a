/**
 * A repository link and the template and service sync configs that use it, end to end on an in-process proton-local
 * through the real bundled handler: created after what they name, updated in place, left alone by a deployment that
 * changes nothing, moved to a new link (created first, the old one deleted in cleanup once nothing uses it), and
 * destroyed leaving nothing. Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import { Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Harness, mutatingCalls, startHarness, synthesize } from './helpers';
import { TEMPLATES } from '../../examples/platform-app';
import {
  Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Repository, RepositoryProvider, Service, ServiceSyncConfig,
  ServiceTemplate, ServiceTemplateVersion, TemplateBundle, TemplateSyncConfig,
} from '../../src';
import { readProtonResources } from '../../src/local/deploy/output';

const ENV = { account: '123456789012', region: 'us-east-1' };
const CONNECTION = 'arn:aws:codestar-connections:us-east-1:123456789012:connection/0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6';

interface Revision {
  readonly repositoryName: string;
  readonly branch: string;
  readonly subdirectory?: string;
  readonly filePath: string;
  readonly tag?: string;
}

const FIRST: Revision = { repositoryName: 'acme/proton', branch: 'main', filePath: 'proton-ops.yaml' };
const SECOND: Revision = { ...FIRST, branch: 'release', subdirectory: 'templates', filePath: 'ops/proton-ops.yaml', tag: 'platform' };
const MOVED: Revision = { ...SECOND, repositoryName: 'acme/proton-v2' };

function app(revision: Revision) {
  return synthesize((cdkApp) => {
    const stack = new Stack(cdkApp, 'GitSync', { env: ENV });
    const repository = new Repository(stack, 'Repo', { provider: RepositoryProvider.GITHUB, repositoryName: revision.repositoryName, connectionArn: CONNECTION });
    if (revision.tag) Tags.of(repository).add('team', revision.tag);
    const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
    const envVersion = new EnvironmentTemplateVersion(stack, 'EnvVersion', {
      template: envTemplate, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env')),
    });
    const environment = new Environment(stack, 'Prod', {
      environmentName: 'prod',
      templateVersion: envVersion,
      protonServiceRole: new iam.Role(stack, 'ProtonRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') }),
    });
    const svcTemplate = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'api-svc', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED });
    const svcVersion = new ServiceTemplateVersion(stack, 'SvcVersion', {
      template: svcTemplate,
      bundle: TemplateBundle.fromDirectory(path.join(__dirname, 'fixtures', 'component-service')),
      compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
    });
    // Proton registers a service version only once its compatible environment major exists; the construct orders the
    // version after the environment template only (reported to the lead), so the test orders it after the version.
    svcVersion.node.addDependency(envVersion);
    const service = new Service(stack, 'Api', { serviceName: 'api', templateVersion: svcVersion, instances: [{ instanceName: 'prod', environment }] });
    new TemplateSyncConfig(stack, 'EnvSync', { environmentTemplate: envTemplate, repository, branch: revision.branch, subdirectory: revision.subdirectory });
    new TemplateSyncConfig(stack, 'SvcSync', { serviceTemplate: svcTemplate, repository, branch: revision.branch });
    new ServiceSyncConfig(stack, 'ApiSync', { service, repository, branch: revision.branch, filePath: revision.filePath });
  });
}

/** The rows of the kinds this test is about. */
async function syncRows(h: Harness): Promise<string[]> {
  return (await readProtonResources(h.client))
    .filter((row) => ['Repository', 'TemplateSyncConfig', 'ServiceSyncConfig'].includes(row.kind))
    .map((row) => `${row.kind} ${row.name} ${row.status}`);
}

/** Calls that changed something, but the engine's S3 uploads of stack templates. */
const protonCalls = (h: Harness) => mutatingCalls(h.local).filter((operation) => !operation.startsWith('S3.'));

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

test('lifecycle: create, update in place, no-op deploy, move to a new link, destroy leaving nothing', async () => {
  await h.engine().deploy(app(FIRST));
  expect(await syncRows(h)).toEqual([
    'TemplateSyncConfig fargate-env GITHUB:acme/proton@main',
    'TemplateSyncConfig api-svc GITHUB:acme/proton@main',
    'ServiceSyncConfig api GITHUB:acme/proton@main',
    'Repository GITHUB:acme/proton -',
  ]);
  const { repository } = await h.client.call('GetRepository', { provider: 'GITHUB', name: 'acme/proton' });
  expect(repository).toMatchObject({ connectionArn: CONNECTION, arn: 'arn:aws:proton:us-east-1:123456789012:repository/github:acme/proton' });
  expect(h.state.stack('GitSync')!.resources[Object.keys(h.state.stack('GitSync')!.resources).find((id) => id.startsWith('Repo'))!].physicalId)
    .toBe('GITHUB:acme/proton');

  h.local.requestLog.clear();
  await h.engine().deploy(app(SECOND));
  expect(protonCalls(h).sort()).toEqual(['TagResource', 'UpdateServiceSyncConfig', 'UpdateTemplateSyncConfig', 'UpdateTemplateSyncConfig']);
  const { templateSyncConfig } = await h.client.call('GetTemplateSyncConfig', { templateName: 'fargate-env', templateType: 'ENVIRONMENT' });
  expect(templateSyncConfig).toMatchObject({ branch: 'release', subdirectory: 'templates' });
  const { serviceSyncConfig } = await h.client.call('GetServiceSyncConfig', { serviceName: 'api' });
  expect(serviceSyncConfig).toMatchObject({ branch: 'release', filePath: 'ops/proton-ops.yaml' });
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: repository.arn });
  expect(tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'platform' }]));

  h.local.requestLog.clear();
  h.events.length = 0;
  await h.engine().deploy(app(SECOND));
  expect(mutatingCalls(h.local)).toEqual([]);
  expect(h.events).toEqual([]);

  // A new name is a new link: created first, the sync configs moved to it, then the old link deleted in cleanup.
  h.local.requestLog.clear();
  await h.engine().deploy(app(MOVED));
  const calls = protonCalls(h);
  expect([calls[0], calls[calls.length - 1]]).toEqual(['CreateRepository', 'DeleteRepository']);
  expect(calls.slice(1, -1).sort()).toEqual(['UpdateServiceSyncConfig', 'UpdateTemplateSyncConfig', 'UpdateTemplateSyncConfig']);
  expect((await syncRows(h)).filter((row) => row.startsWith('Repository'))).toEqual(['Repository GITHUB:acme/proton-v2 -']);

  await h.engine().destroy();
  expect(await readProtonResources(h.client)).toEqual([]);
  expect(h.local.state.templateSyncConfigs).toEqual({});
  expect(h.local.state.serviceSyncConfigs).toEqual({});
  expect(h.local.state.repositories).toEqual({});
  expect(Object.keys(h.local.state.tags)).toEqual([]);
});
