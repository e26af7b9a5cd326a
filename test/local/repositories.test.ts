import {
  CreateEnvironmentCommand, CreateRepositoryCommand, CreateServiceSyncConfigCommand, CreateTemplateSyncConfigCommand, DeleteEnvironmentCommand,
  DeleteRepositoryCommand, DeleteServiceSyncConfigCommand, DeleteTemplateSyncConfigCommand, GetRepositoryCommand, GetServiceSyncConfigCommand,
  GetTemplateSyncConfigCommand, ListRepositoriesCommand, UpdateServiceSyncConfigCommand, UpdateTemplateSyncConfigCommand,
} from '@aws-sdk/client-proton';
import { CONNECTION_ARN, ENV_SPEC, serviceSpec, useWorkloads } from './workload-helpers';

const REPOSITORY = { provider: 'GITHUB' as const, name: 'owner/infra' };

describe('proton-local repositories', () => {
  // The self-managed environments here (provisioningRepository) are expected to deploy and delete on their own.
  const w = useWorkloads({ autoCompleteSelfManaged: true });
  const proton = () => w.env.proton;

  test('create is idempotent by provider and name; get and list show it', async () => {
    const created = (await proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }))).repository!;
    expect(created).toEqual({ ...REPOSITORY, connectionArn: CONNECTION_ARN, arn: 'arn:aws:proton:us-east-1:123456789012:repository/github:owner/infra' });
    expect((await proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }))).repository).toEqual(created);
    await expect(proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: `${CONNECTION_ARN}2` })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Idempotent parameter mismatch') });
    expect((await proton().send(new GetRepositoryCommand(REPOSITORY))).repository).toEqual(created);
    await proton().send(new CreateRepositoryCommand({ provider: 'BITBUCKET', name: 'owner/app', connectionArn: CONNECTION_ARN }));
    const { repositories } = await proton().send(new ListRepositoriesCommand({}));
    expect(repositories!.map(r => `${r.provider}:${r.name}`)).toEqual(['BITBUCKET:owner/app', 'GITHUB:owner/infra']);
  });

  test('delete refuses a repository in use, then is idempotent', async () => {
    await w.environmentTemplate('env');
    await proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }));
    await proton().send(new CreateEnvironmentCommand({
      name: 'prod', templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, provisioningRepository: { ...REPOSITORY, branch: 'main' },
    }));
    w.advance();
    await expect(proton().send(new DeleteRepositoryCommand(REPOSITORY)))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('environment \'prod\'') });
    await proton().send(new DeleteEnvironmentCommand({ name: 'prod' }));
    w.advance();
    expect((await proton().send(new DeleteRepositoryCommand(REPOSITORY))).repository!.name).toBe('owner/infra');
    expect((await proton().send(new DeleteRepositoryCommand(REPOSITORY))).repository).toBeUndefined();
    await expect(proton().send(new GetRepositoryCommand(REPOSITORY))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('template sync configs: the template and the repository must exist; create is idempotent; the repository stays in use', async () => {
    const config = { templateName: 'env', templateType: 'ENVIRONMENT' as const, repositoryProvider: 'GITHUB' as const, repositoryName: 'owner/infra', branch: 'main' };
    await expect(proton().send(new CreateTemplateSyncConfigCommand(config)))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('template \'env\' does not exist') });
    await w.environmentTemplate('env');
    await expect(proton().send(new CreateTemplateSyncConfigCommand(config)))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('CreateRepository') });
    await proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }));
    expect((await proton().send(new CreateTemplateSyncConfigCommand(config))).templateSyncConfig).toEqual(config);
    expect((await proton().send(new CreateTemplateSyncConfigCommand(config))).templateSyncConfig).toEqual(config);
    await expect(proton().send(new CreateTemplateSyncConfigCommand({ ...config, branch: 'dev' })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Idempotent parameter mismatch') });
    const updated = await proton().send(new UpdateTemplateSyncConfigCommand({ ...config, branch: 'dev', subdirectory: 'templates' }));
    expect(updated.templateSyncConfig).toEqual({ ...config, branch: 'dev', subdirectory: 'templates' });
    expect((await proton().send(new GetTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT' }))).templateSyncConfig!.branch).toBe('dev');
    await expect(proton().send(new DeleteRepositoryCommand(REPOSITORY)))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('template sync config') });
    await proton().send(new DeleteTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT' }));
    expect((await proton().send(new DeleteTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT' }))).templateSyncConfig).toBeUndefined();
    await expect(proton().send(new GetTemplateSyncConfigCommand({ templateName: 'env', templateType: 'ENVIRONMENT' })))
      .rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('service sync configs: the service and the repository must exist', async () => {
    const config = { serviceName: 'svc', repositoryProvider: 'GITHUB' as const, repositoryName: 'owner/infra', branch: 'main', filePath: 'proton-ops.yaml' };
    await proton().send(new CreateRepositoryCommand({ ...REPOSITORY, connectionArn: CONNECTION_ARN }));
    await expect(proton().send(new CreateServiceSyncConfigCommand(config)))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('service \'svc\' does not exist') });
    await w.environmentTemplate('env');
    await w.environment('prod', 'env');
    await w.serviceTemplate('backend', { compatible: [{ templateName: 'env', majorVersion: '1' }], pipelineProvisioning: 'CUSTOMER_MANAGED' });
    await w.service('svc', 'backend', serviceSpec([{ name: 'one', environment: 'prod' }], null), { withPipeline: false });
    expect((await proton().send(new CreateServiceSyncConfigCommand(config))).serviceSyncConfig).toEqual(config);
    await proton().send(new UpdateServiceSyncConfigCommand({ ...config, filePath: 'ops/proton.yaml' }));
    expect((await proton().send(new GetServiceSyncConfigCommand({ serviceName: 'svc' }))).serviceSyncConfig!.filePath).toBe('ops/proton.yaml');
    expect((await proton().send(new DeleteServiceSyncConfigCommand({ serviceName: 'svc' }))).serviceSyncConfig!.serviceName).toBe('svc');
    await proton().send(new DeleteRepositoryCommand(REPOSITORY));
  });
});
