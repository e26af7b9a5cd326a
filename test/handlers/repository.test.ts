/**
 * The repository and sync config handlers against proton-local: idempotent creates, what Proton can't change, configs
 * that belong to someone else, and deletes of what is already gone.
 */
import { CreateRepositoryCommand, CreateTemplateSyncConfigCommand, CreateEnvironmentTemplateCommand } from '@aws-sdk/client-proton';
import { failure, Properties, useHandlerWorkloads } from './workload-events';
import { POLL_BUDGET_VARIABLE } from '../../lambda/shared/lifecycle';
import { RepositoryProperties as R, ResourceTypes, ServiceSyncConfigProperties as S, TemplateSyncConfigProperties as T } from '../../src/private/properties';
import { CONNECTION_ARN } from '../local/workload-helpers';

const w = useHandlerWorkloads();
beforeAll(() => {
  process.env[POLL_BUDGET_VARIABLE] = '0';
});
afterAll(() => {
  delete process.env[POLL_BUDGET_VARIABLE];
});

const repository = (overrides: Properties = {}): Properties => ({
  [R.PROVIDER]: 'GITHUB', [R.REPOSITORY_NAME]: 'acme/proton', [R.CONNECTION_ARN]: CONNECTION_ARN, ...overrides,
});
const templateSync = (overrides: Properties = {}): Properties => ({
  [T.TEMPLATE_NAME]: 'fargate',
  [T.TEMPLATE_TYPE]: 'ENVIRONMENT',
  [T.REPOSITORY_PROVIDER]: 'GITHUB',
  [T.REPOSITORY_NAME]: 'acme/proton',
  [T.BRANCH]: 'main',
  ...overrides,
});
const calls = (operation: string) => w.env.local.requestLog.count(operation);

describe('repository', () => {
  test('created once however often the Create is delivered; physical id <provider>:<name>, Arn attribute', async () => {
    const create = w.event(ResourceTypes.REPOSITORY, 'Create', repository());
    const first = await w.deploy(create);
    const again = await w.deploy(create);
    expect(first).toEqual({ PhysicalResourceId: 'GITHUB:acme/proton', Data: { Arn: 'arn:aws:proton:us-east-1:123456789012:repository/github:acme/proton' } });
    expect(again).toEqual(first);
    expect(calls('CreateRepository')).toBe(1);
  });

  test('a new connection on the same link is an error naming the way out', async () => {
    await w.deploy(w.event(ResourceTypes.REPOSITORY, 'Create', repository()));
    const other = repository({ [R.CONNECTION_ARN]: `${CONNECTION_ARN}9` });
    const { message } = await failure(w.deploy(w.event(ResourceTypes.REPOSITORY, 'Update', other, {
      PhysicalResourceId: 'GITHUB:acme/proton', OldResourceProperties: repository(),
    })));
    expect(message).toBe(`repository GITHUB 'acme/proton' is linked through connection ${CONNECTION_ARN}, and Proton can't change a repository `
      + `link's connection to ${CONNECTION_ARN}9 (it has no UpdateRepository): delete the link first (remove it from the stack and deploy), then add it again`);
  });

  test('a link that exists without an owner is taken over only with AdoptExisting', async () => {
    await w.env.proton.send(new CreateRepositoryCommand({ provider: 'GITHUB', name: 'acme/proton', connectionArn: CONNECTION_ARN }));
    expect((await failure(w.deploy(w.event(ResourceTypes.REPOSITORY, 'Create', repository())))).message).toMatch(
      /^repository GITHUB 'acme\/proton' already exists in Proton and was not created by this stack/);
    await w.deploy(w.event(ResourceTypes.REPOSITORY, 'Create', repository({ [R.ADOPT_EXISTING]: 'true' })));
  });

  test('deleting a link that is gone is done', async () => {
    const result = await w.deploy(w.event(ResourceTypes.REPOSITORY, 'Delete', repository(), { PhysicalResourceId: 'GITHUB:acme/proton' }));
    expect(result.PhysicalResourceId).toBe('GITHUB:acme/proton');
    expect(calls('DeleteRepository')).toBe(1);
  });
});

describe('sync configs', () => {
  beforeEach(async () => {
    await w.env.proton.send(new CreateEnvironmentTemplateCommand({ name: 'fargate' }));
    await w.env.proton.send(new CreateRepositoryCommand({ provider: 'GITHUB', name: 'acme/proton', connectionArn: CONNECTION_ARN }));
  });

  test('a template sync config is created once, with physical id <type>:<template>', async () => {
    const create = w.event(ResourceTypes.TEMPLATE_SYNC_CONFIG, 'Create', templateSync());
    expect((await w.deploy(create)).PhysicalResourceId).toBe('ENVIRONMENT:fargate');
    await w.deploy(create);
    expect(calls('CreateTemplateSyncConfig')).toBe(1);
  });

  test('a template sync config that exists with other settings belongs to someone else', async () => {
    await w.env.proton.send(new CreateTemplateSyncConfigCommand({
      templateName: 'fargate', templateType: 'ENVIRONMENT', repositoryProvider: 'GITHUB', repositoryName: 'acme/proton', branch: 'dev',
    }));
    expect((await failure(w.deploy(w.event(ResourceTypes.TEMPLATE_SYNC_CONFIG, 'Create', templateSync())))).message).toBe(
      "the template sync config of environment template 'fargate' already exists, syncing from GITHUB acme/proton branch dev: a template has one "
      + 'sync config, and this one is not this stack\'s (it would sync from GITHUB acme/proton branch main). Delete it where it is managed first');
  });

  test('deleting sync configs that are gone is done', async () => {
    await w.deploy(w.event(ResourceTypes.TEMPLATE_SYNC_CONFIG, 'Delete', templateSync(), { PhysicalResourceId: 'SERVICE:gone' }));
    await w.deploy(w.event(ResourceTypes.SERVICE_SYNC_CONFIG, 'Delete', {
      [S.SERVICE_NAME]: 'gone', [S.REPOSITORY_PROVIDER]: 'GITHUB', [S.REPOSITORY_NAME]: 'acme/proton', [S.BRANCH]: 'main', [S.FILE_PATH]: 'ops.yaml',
    }, { PhysicalResourceId: 'gone' }));
    expect([calls('DeleteTemplateSyncConfig'), calls('DeleteServiceSyncConfig')]).toEqual([1, 1]);
  });
});
