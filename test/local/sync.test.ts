import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  CreateRepositoryCommand, CreateServiceSyncConfigCommand, CreateTemplateSyncConfigCommand, DeleteServiceCommand, GetRepositorySyncStatusCommand,
  GetServiceInstanceSyncStatusCommand, GetServiceSyncBlockerSummaryCommand, GetTemplateSyncStatusCommand, ListRepositorySyncDefinitionsCommand,
  paginateListRepositorySyncDefinitions, UpdateServiceInstanceCommand, UpdateServiceSyncBlockerCommand,
} from '@aws-sdk/client-proton';
import { protonClient } from './helpers';
import { CONNECTION_ARN, serviceSpec, useWorkloads } from './workload-helpers';
import { ProtonLocal } from '../../src/local';

const REPOSITORY = { provider: 'GITHUB' as const, name: 'owner/templates' };
const repositoryInput = { repositoryProvider: REPOSITORY.provider, repositoryName: REPOSITORY.name };

describe('proton-local sync status operations', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  const linkRepository = () => proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }));

  /** A service without a pipeline, instance 'one' on environment 'prod', and a service sync config for it. */
  async function syncedService() {
    await w.environmentTemplate('env');
    await w.environment('prod', 'env');
    await w.serviceTemplate('svc', { compatible: [{ templateName: 'env', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.service('api', 'svc', serviceSpec([{ name: 'one', environment: 'prod' }], null), { withPipeline: false });
    await linkRepository();
    await proton().send(new CreateServiceSyncConfigCommand({ serviceName: 'api', ...repositoryInput, branch: 'main', filePath: 'proton-ops.yaml' }));
  }

  test('GetTemplateSyncStatus: no sync has happened, so no latestSync, latestSuccessfulSync or desiredState', async () => {
    await w.environmentTemplate('env');
    await linkRepository();
    await proton().send(new CreateTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT', ...repositoryInput, branch: 'main' }));
    const { $metadata, ...status } = await proton().send(new GetTemplateSyncStatusCommand({ templateName: 'env', templateType: 'ENVIRONMENT', templateVersion: '1' }));
    expect($metadata.httpStatusCode).toBe(200);
    expect(status).toEqual({});
  });

  test('GetTemplateSyncStatus: ResourceNotFoundException for an unknown template or one without a sync config', async () => {
    const input = { templateName: 'env', templateType: 'ENVIRONMENT' as const, templateVersion: '1' };
    await expect(proton().send(new GetTemplateSyncStatusCommand(input)))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('environment template does not exist: env') });
    await w.environmentTemplate('env');
    await expect(proton().send(new GetTemplateSyncStatusCommand(input)))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('CreateTemplateSyncConfig') });
    // A service template of the same name is another template.
    await linkRepository();
    await proton().send(new CreateTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT', ...repositoryInput, branch: 'main' }));
    await expect(proton().send(new GetTemplateSyncStatusCommand({ ...input, templateType: 'SERVICE' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('service template does not exist: env') });
  });

  test('GetTemplateSyncStatus: the model\'s constraints are a ValidationException', async () => {
    await expect(proton().send(new GetTemplateSyncStatusCommand({ templateName: 'env', templateType: 'ENVIRONMENT', templateVersion: '1.0' })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('templateVersion') });
  });

  test('GetRepositorySyncStatus: a linked repository has no sync attempt yet; an unlinked one is ResourceNotFoundException', async () => {
    const input = { ...repositoryInput, branch: 'main', syncType: 'TEMPLATE_SYNC' as const };
    await expect(proton().send(new GetRepositorySyncStatusCommand(input)))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('owner/templates') });
    await linkRepository();
    const { $metadata: _, ...status } = await proton().send(new GetRepositorySyncStatusCommand(input));
    expect(status).toEqual({});
    const { $metadata: __, ...serviceSync } = await proton().send(new GetRepositorySyncStatusCommand({ ...input, syncType: 'SERVICE_SYNC' }));
    expect(serviceSync).toEqual({});
  });

  test('ListRepositorySyncDefinitions: one definition per sync config of the repository, by sync type, in a single page', async () => {
    await w.environmentTemplate('env');
    await w.environmentTemplate('base');
    await linkRepository();
    await proton().send(new CreateRepositoryCommand({ provider: 'GITHUB', name: 'owner/other', connectionArn: CONNECTION_ARN }));
    await proton().send(new CreateTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT', ...repositoryInput, branch: 'main', subdirectory: 'templates' }));
    await proton().send(new CreateTemplateSyncConfigCommand({ templateName: 'base', templateType: 'ENVIRONMENT', ...repositoryInput, branch: 'dev' }));
    await w.serviceTemplate('svc', { compatible: [{ templateName: 'env', majorVersion: '1' }] });
    await proton().send(new CreateTemplateSyncConfigCommand({ templateName: 'svc', templateType: 'SERVICE', repositoryProvider: 'GITHUB', repositoryName: 'owner/other', branch: 'main' }));

    const list = (syncType: 'TEMPLATE_SYNC' | 'SERVICE_SYNC', repository = repositoryInput) =>
      proton().send(new ListRepositorySyncDefinitionsCommand({ ...repository, syncType }));
    const templates = await list('TEMPLATE_SYNC');
    expect(templates.syncDefinitions).toEqual([
      { target: 'base', parent: 'base', branch: 'dev', directory: '/' },
      { target: 'env', parent: 'env', branch: 'main', directory: 'templates' },
    ]);
    expect(templates.nextToken).toBeUndefined();
    expect((await list('SERVICE_SYNC')).syncDefinitions).toEqual([]);
    expect((await list('TEMPLATE_SYNC', { repositoryProvider: 'GITHUB', repositoryName: 'owner/other' })).syncDefinitions)
      .toEqual([{ target: 'svc', parent: 'svc', branch: 'main', directory: '/' }]);

    // The SDK's paginator ends after the single page.
    const pages = [];
    for await (const page of paginateListRepositorySyncDefinitions({ client: proton() }, { ...repositoryInput, syncType: 'TEMPLATE_SYNC' })) {
      pages.push(page.syncDefinitions);
    }
    expect(pages).toEqual([templates.syncDefinitions]);
  });

  test('ListRepositorySyncDefinitions: service sync configs; an unlinked repository lists nothing (the model has no ResourceNotFoundException)', async () => {
    await syncedService();
    expect((await proton().send(new ListRepositorySyncDefinitionsCommand({ ...repositoryInput, syncType: 'SERVICE_SYNC' }))).syncDefinitions)
      .toEqual([{ target: 'api', parent: 'api', branch: 'main', directory: 'proton-ops.yaml' }]);
    expect((await proton().send(new ListRepositorySyncDefinitionsCommand({ repositoryProvider: 'BITBUCKET', repositoryName: 'no/such', syncType: 'TEMPLATE_SYNC' })))
      .syncDefinitions).toEqual([]);
    await expect(proton().send(new ListRepositorySyncDefinitionsCommand({ ...repositoryInput, syncType: 'TEMPLATE_SYNC', nextToken: 'abc' })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('nextToken') });
  });

  test('GetServiceInstanceSyncStatus: no sync yet; unknown service or instance is ResourceNotFoundException', async () => {
    await syncedService();
    const { $metadata: _, ...status } = await proton().send(new GetServiceInstanceSyncStatusCommand({ serviceName: 'api', serviceInstanceName: 'one' }));
    expect(status).toEqual({});
    await expect(proton().send(new GetServiceInstanceSyncStatusCommand({ serviceName: 'api', serviceInstanceName: 'two' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('api/two') });
    await expect(proton().send(new GetServiceInstanceSyncStatusCommand({ serviceName: 'web', serviceInstanceName: 'one' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('service does not exist: web') });
  });

  test('a manual update of a synced instance creates an ACTIVE blocker; UpdateServiceSyncBlocker resolves it', async () => {
    await syncedService();
    const summary = async (serviceInstanceName?: string) =>
      (await proton().send(new GetServiceSyncBlockerSummaryCommand({ serviceName: 'api', serviceInstanceName }))).serviceSyncBlockerSummary;
    expect(await summary('one')).toEqual({ serviceName: 'api', serviceInstanceName: 'one', latestBlockers: [] });
    expect(await summary()).toEqual({ serviceName: 'api', latestBlockers: [] });

    await proton().send(new UpdateServiceInstanceCommand({ serviceName: 'api', name: 'one', deploymentType: 'CURRENT_VERSION' }));
    w.advance();
    const [blocker, ...others] = (await summary('one'))!.latestBlockers!;
    expect(others).toEqual([]);
    expect(blocker).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'AUTOMATED',
      status: 'ACTIVE',
      createdReason: expect.stringContaining('api/one'),
      createdAt: expect.any(Date),
      contexts: [{ key: 'serviceInstanceName', value: 'one' }],
    });
    // The service's summary holds the blockers that apply to all instances, not those of one instance.
    expect((await summary())!.latestBlockers).toEqual([]);
    // A second manual update while blocked adds no second blocker.
    await proton().send(new UpdateServiceInstanceCommand({ serviceName: 'api', name: 'one', deploymentType: 'CURRENT_VERSION' }));
    w.advance();
    expect((await summary('one'))!.latestBlockers).toHaveLength(1);

    const resolved = await proton().send(new UpdateServiceSyncBlockerCommand({ id: blocker.id!, resolvedReason: 'change kept in the ops file' }));
    expect(resolved).toMatchObject({
      serviceName: 'api',
      serviceInstanceName: 'one',
      serviceSyncBlocker: { id: blocker.id, status: 'RESOLVED', resolvedReason: 'change kept in the ops file', resolvedAt: expect.any(Date) },
    });
    expect((await summary('one'))!.latestBlockers).toEqual([]);
  });

  test('no blocker for a service without a service sync config, or for a NONE deployment', async () => {
    await syncedService();
    await proton().send(new UpdateServiceInstanceCommand({ serviceName: 'api', name: 'one', deploymentType: 'NONE' }));
    const summary = await proton().send(new GetServiceSyncBlockerSummaryCommand({ serviceName: 'api', serviceInstanceName: 'one' }));
    expect(summary.serviceSyncBlockerSummary!.latestBlockers).toEqual([]);
  });

  test('GetServiceSyncBlockerSummary and UpdateServiceSyncBlocker: ResourceNotFoundException for what does not exist', async () => {
    await expect(proton().send(new GetServiceSyncBlockerSummaryCommand({ serviceName: 'api' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('service does not exist: api') });
    await syncedService();
    await expect(proton().send(new GetServiceSyncBlockerSummaryCommand({ serviceName: 'api', serviceInstanceName: 'two' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('api/two') });
    await expect(proton().send(new UpdateServiceSyncBlockerCommand({ id: 'no-such-blocker', resolvedReason: 'x' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('no-such-blocker') });
  });

  test('a deleted service takes its blockers with it', async () => {
    await syncedService();
    await proton().send(new UpdateServiceInstanceCommand({ serviceName: 'api', name: 'one', deploymentType: 'CURRENT_VERSION' }));
    w.advance();
    const [blocker] = (await proton().send(new GetServiceSyncBlockerSummaryCommand({ serviceName: 'api', serviceInstanceName: 'one' })))
      .serviceSyncBlockerSummary!.latestBlockers!;
    await proton().send(new DeleteServiceCommand({ name: 'api' }));
    w.advance();
    await expect(proton().send(new UpdateServiceSyncBlockerCommand({ id: blocker.id!, resolvedReason: 'gone' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

test('service sync blockers are persisted: a resolution survives a restart (journal) and a snapshot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proton-local-sync-'));
  const stateFile = join(dir, 'state.json');
  const blocker = {
    id: '0a1b2c3d-0000-4000-8000-000000000001',
    type: 'AUTOMATED',
    status: 'ACTIVE',
    createdReason: 'Update of service instance api/one',
    createdAt: Date.UTC(2026, 0, 1),
    serviceName: 'api',
    serviceInstanceName: 'one',
    contexts: [{ key: 'serviceInstanceName', value: 'one' }],
  };
  const service = {
    name: 'api',
    arn: 'arn:aws:proton:us-east-1:123456789012:service/api',
    status: 'ACTIVE',
    instances: [{ name: 'one', arn: 'arn:aws:proton:us-east-1:123456789012:service/api/service-instance/one', serviceName: 'api' }],
  };
  writeFileSync(stateFile, JSON.stringify({ services: { api: service }, syncBlockers: { [blocker.id]: blocker } }));
  const summary = async (local: ProtonLocal) => {
    const client = protonClient(local.endpoint);
    try {
      return (await client.send(new GetServiceSyncBlockerSummaryCommand({ serviceName: 'api', serviceInstanceName: 'one' }))).serviceSyncBlockerSummary!;
    } finally {
      client.destroy();
    }
  };
  try {
    let local = await ProtonLocal.start({ stateFile });
    expect((await summary(local)).latestBlockers!.map(b => b.id)).toEqual([blocker.id]);
    const client = protonClient(local.endpoint);
    await client.send(new UpdateServiceSyncBlockerCommand({ id: blocker.id, resolvedReason: 'kept' }));
    client.destroy();
    // The resolution replays from the journal after a crash (the files as they are before any stop), and survives
    // the snapshot a stop writes.
    expect(local.state.syncBlockers[blocker.id]).toMatchObject({ status: 'RESOLVED', resolvedReason: 'kept' });
    const crashed = join(dir, 'crashed.json');
    copyFileSync(stateFile, crashed);
    copyFileSync(`${stateFile}.journal`, `${crashed}.journal`);
    const afterCrash = await ProtonLocal.start({ stateFile: crashed });
    expect((await summary(afterCrash)).latestBlockers).toEqual([]);
    expect(afterCrash.state.syncBlockers[blocker.id]).toMatchObject({ status: 'RESOLVED', resolvedReason: 'kept' });
    await afterCrash.stop();
    await local.stop();
    local = await ProtonLocal.start({ stateFile });
    expect((await summary(local)).latestBlockers).toEqual([]);
    await local.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
