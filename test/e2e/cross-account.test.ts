/**
 * One app, two accounts, through the real bundled handler on proton-local: the environment account's stack requests an
 * environment account connection; the management account's stack accepts it and deploys an environment through it.
 * The engine signs each stack's calls with the stack's account as the access key id, which proton-local takes for the
 * calling account (src/local/server.ts accountOf). The connection's ID crosses accounts as a context value, as it would
 * in a real app (a token can't be referenced across accounts). Needs the handler bundle (`npx projen bundle`).
 */
import * as path from 'path';
import {
  CreateEnvironmentAccountConnectionCommand, GetEnvironmentAccountConnectionCommand, GetEnvironmentCommand, ListEnvironmentAccountConnectionsCommand,
  ProtonClient,
} from '@aws-sdk/client-proton';
import { App, CfnOutput, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Harness, mutatingCalls, startHarness, synthesize } from './helpers';
import { TEMPLATES } from '../../examples/platform-app';
import {
  Environment, EnvironmentAccountConnection, EnvironmentAccountConnectionAcceptance, EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle,
} from '../../src';
import { DeployEngine } from '../../src/local/deploy/engine';
import { readProtonResources } from '../../src/local/deploy/output';

const REGION = 'us-east-1';
const ENVIRONMENT_ACCOUNT = '111111111111';
const MANAGEMENT_ACCOUNT = '222222222222';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

/** A Proton client calling as `account` (proton-local reads the account from the access key id). */
const protonAs = (account: string) => new ProtonClient({
  endpoint: h.local.endpoint, region: REGION, credentials: { accessKeyId: account, secretAccessKey: 'x' },
});

interface AppOptions {
  /** The connection's ID, known once the environment account's stack is deployed: the management stack is defined then. */
  readonly connectionId?: string;
  readonly componentRole?: boolean;
  readonly adoptExisting?: boolean;
  readonly rejectOnDelete?: boolean;
}

function buildApp(app: App, options: AppOptions) {
  const environmentAccount = new Stack(app, 'EnvironmentAccount', { env: { account: ENVIRONMENT_ACCOUNT, region: REGION } });
  const provisioningRole = new iam.Role(environmentAccount, 'ProvisioningRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  const componentRole = options.componentRole
    ? new iam.Role(environmentAccount, 'ComponentRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') }) : undefined;
  const connection = new EnvironmentAccountConnection(environmentAccount, 'Connection', {
    managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod', role: provisioningRole, componentRole, adoptExisting: options.adoptExisting,
  });
  new CfnOutput(environmentAccount, 'ConnectionId', { value: connection.environmentAccountConnectionId });
  if (!options.connectionId) return;

  const management = new Stack(app, 'Management', { env: { account: MANAGEMENT_ACCOUNT, region: REGION } });
  // Deployed after the connection, destroyed before it.
  management.addDependency(environmentAccount);
  const template = new EnvironmentTemplate(management, 'Template', { environmentTemplateName: 'fargate-env' });
  const version = new EnvironmentTemplateVersion(management, 'Version', {
    template, bundle: TemplateBundle.fromDirectory(path.join(TEMPLATES, 'fargate-env')),
  });
  const acceptance = new EnvironmentAccountConnectionAcceptance(management, 'Acceptance', {
    connectionId: options.connectionId, rejectOnDelete: options.rejectOnDelete,
  });
  new Environment(management, 'Prod', { environmentName: 'prod', templateVersion: version, environmentAccountConnection: acceptance });
}

test('the environment account requests, the management account accepts and deploys an environment through the connection', async () => {
  await h.engine().deploy(synthesize(app => buildApp(app, {})));
  const connectionId = h.state.stack('EnvironmentAccount')!.outputs.ConnectionId as string;
  expect(connectionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const requested = (await protonAs(ENVIRONMENT_ACCOUNT).send(new GetEnvironmentAccountConnectionCommand({ id: connectionId })))
    .environmentAccountConnection!;
  expect(requested).toMatchObject({
    status: 'PENDING',
    environmentAccountId: ENVIRONMENT_ACCOUNT,
    managementAccountId: MANAGEMENT_ACCOUNT,
    environmentName: 'prod',
    roleArn: expect.stringContaining(`arn:aws:iam::${ENVIRONMENT_ACCOUNT}:role/`),
  });

  await h.engine().deploy(synthesize(app => buildApp(app, { connectionId })));

  const management = protonAs(MANAGEMENT_ACCOUNT);
  const { environment } = await management.send(new GetEnvironmentCommand({ name: 'prod' }));
  expect(environment).toMatchObject({
    deploymentStatus: 'SUCCEEDED',
    environmentAccountConnectionId: connectionId,
    environmentAccountId: ENVIRONMENT_ACCOUNT,
    arn: `arn:aws:proton:${REGION}:${MANAGEMENT_ACCOUNT}:environment/prod`,
  });
  const accepted = (await management.send(new ListEnvironmentAccountConnectionsCommand({ requestedBy: 'MANAGEMENT_ACCOUNT' })))
    .environmentAccountConnections!;
  expect(accepted.map(c => [c.id, c.status])).toEqual([[connectionId, 'CONNECTED']]);
  // The acceptance's physical id is the connection's: the environment's EnvironmentAccountConnectionId is its Ref.
  const resources = Object.entries(h.state.stack('Management')!.resources);
  expect(resources.filter(([logicalId]) => logicalId.startsWith('Acceptance')).map(([, record]) => record.physicalId)).toEqual([connectionId]);

  // Nothing changed: a second deployment of both stacks makes no mutating call.
  h.local.requestLog.clear();
  await h.engine().deploy(synthesize(app => buildApp(app, { connectionId })));
  expect(mutatingCalls(h.local).filter(call => !call.startsWith('S3.'))).toEqual([]);

  // Dependents first: the environment, then (acceptance left as it is) the connection.
  await h.engine().destroy();
  await expect(management.send(new GetEnvironmentCommand({ name: 'prod' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  for (const [account, requestedBy] of [[ENVIRONMENT_ACCOUNT, 'ENVIRONMENT_ACCOUNT'], [MANAGEMENT_ACCOUNT, 'MANAGEMENT_ACCOUNT']] as const) {
    expect((await protonAs(account).send(new ListEnvironmentAccountConnectionsCommand({ requestedBy }))).environmentAccountConnections).toEqual([]);
  }
  expect(await h.client.listAll('ListEnvironmentTemplates', 'templates')).toEqual([]);
  expect(Object.keys(h.state.stacks)).toEqual([]);
});

test('the connection alone: create, update its roles in place, re-deploy without a mutating call, delete', async () => {
  await h.engine().deploy(synthesize(app => buildApp(app, {})));
  const connectionId = h.state.stack('EnvironmentAccount')!.outputs.ConnectionId as string;
  const environmentAccount = protonAs(ENVIRONMENT_ACCOUNT);
  const get = async () => (await environmentAccount.send(new GetEnvironmentAccountConnectionCommand({ id: connectionId })))
    .environmentAccountConnection!;
  expect((await get()).componentRoleArn).toBeUndefined();
  const { tags } = await h.client.call('ListTagsForResource', { resourceArn: (await get()).arn });
  expect(tags).toEqual([{ key: 'cdk-proton:owner', value: expect.stringMatching(/^EnvironmentAccount\/Connection/) }]);

  h.local.requestLog.clear();
  await h.engine().deploy(synthesize(app => buildApp(app, { componentRole: true })));
  expect(mutatingCalls(h.local).filter(call => call.includes('EnvironmentAccountConnection'))).toEqual(['UpdateEnvironmentAccountConnection']);
  expect(h.state.stack('EnvironmentAccount')!.outputs.ConnectionId).toBe(connectionId);
  expect(await get()).toMatchObject({ status: 'PENDING', componentRoleArn: expect.stringContaining(`arn:aws:iam::${ENVIRONMENT_ACCOUNT}:role/`) });

  h.local.requestLog.clear();
  await h.engine().deploy(synthesize(app => buildApp(app, { componentRole: true })));
  expect(mutatingCalls(h.local).filter(call => !call.startsWith('S3.'))).toEqual([]);

  await h.engine().destroy();
  await expect(get()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  expect((await environmentAccount.send(new ListEnvironmentAccountConnectionsCommand({ requestedBy: 'ENVIRONMENT_ACCOUNT' })))
    .environmentAccountConnections).toEqual([]);
});

test('a re-delivered create requests one connection', async () => {
  const engine = new DeployEngine({ state: h.state, client: h.client, endpoint: h.local.endpoint, pollIntervalMs: 10, redeliverEvents: true });
  await engine.deploy(synthesize(app => buildApp(app, {})));
  expect(mutatingCalls(h.local).filter(call => call === 'CreateEnvironmentAccountConnection')).toEqual(['CreateEnvironmentAccountConnection']);
  const { environmentAccountConnections } = await protonAs(ENVIRONMENT_ACCOUNT).send(
    new ListEnvironmentAccountConnectionsCommand({ requestedBy: 'ENVIRONMENT_ACCOUNT' }));
  expect(environmentAccountConnections!.map(c => c.id)).toEqual([h.state.stack('EnvironmentAccount')!.outputs.ConnectionId]);
});

test('a connection no stack made: refused without adoptExisting, taken over and retained with it', async () => {
  const { environmentAccountConnection: existing } = await protonAs(ENVIRONMENT_ACCOUNT).send(new CreateEnvironmentAccountConnectionCommand({
    managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod', roleArn: `arn:aws:iam::${ENVIRONMENT_ACCOUNT}:role/by-hand`,
  }));
  await expect(h.engine().deploy(synthesize(app => buildApp(app, {})))).rejects.toThrow(
    `the environment account connection for environment 'prod' of management account ${MANAGEMENT_ACCOUNT} (${existing!.id}) already exists `
    + 'in Proton and was not created by this stack');

  await h.engine().deploy(synthesize(app => buildApp(app, { adoptExisting: true })));
  expect(h.state.stack('EnvironmentAccount')!.outputs.ConnectionId).toBe(existing!.id);
  const get = () => protonAs(ENVIRONMENT_ACCOUNT).send(new GetEnvironmentAccountConnectionCommand({ id: existing!.id }));
  // Brought to the stack's definition: the stack's role replaces the one set by hand.
  expect((await get()).environmentAccountConnection!.roleArn).toMatch(new RegExp(`^arn:aws:iam::${ENVIRONMENT_ACCOUNT}:role/EnvironmentAccount-`));

  await h.engine().destroy();
  expect((await get()).environmentAccountConnection!.status).toBe('PENDING');
});

test.each([
  [false, 'CONNECTED'],
  [true, 'REJECTED'],
])('removing the acceptance (rejectOnDelete %s) leaves the connection %s', async (rejectOnDelete, status) => {
  await h.engine().deploy(synthesize(app => buildApp(app, {})));
  const connectionId = h.state.stack('EnvironmentAccount')!.outputs.ConnectionId as string;
  await h.engine().deploy(synthesize(app => buildApp(app, { connectionId, rejectOnDelete })));

  // The environment goes first (it depends on the acceptance), then the acceptance.
  await h.engine().destroy(['Management']);
  const { environmentAccountConnection } = await protonAs(MANAGEMENT_ACCOUNT).send(new GetEnvironmentAccountConnectionCommand({ id: connectionId }));
  expect(environmentAccountConnection!.status).toBe(status);
  await h.engine().destroy();
});

test('the status table lists the connections of the configured account', async () => {
  // h.client signs nothing: proton-local's configured account, 123456789012.
  await h.client.call('CreateEnvironmentAccountConnection', { managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod' });
  expect(await readProtonResources(h.client)).toEqual([
    { kind: 'EnvironmentAccountConnection', name: `prod (123456789012 -> ${MANAGEMENT_ACCOUNT})`, template: '-', version: '-', status: 'PENDING' },
  ]);
});
