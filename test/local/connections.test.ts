import {
  AcceptEnvironmentAccountConnectionCommand, CreateEnvironmentAccountConnectionCommand, CreateEnvironmentAccountConnectionCommandInput,
  CreateEnvironmentCommand, DeleteEnvironmentAccountConnectionCommand, GetEnvironmentAccountConnectionCommand,
  ListEnvironmentAccountConnectionsCommand, RejectEnvironmentAccountConnectionCommand, UpdateEnvironmentAccountConnectionCommand,
  UpdateEnvironmentCommand,
} from '@aws-sdk/client-proton';
import { protonClient } from './helpers';
import { ACCOUNT, COMPONENT_ROLE, ENV_SPEC, SERVICE_ROLE, useWorkloads } from './workload-helpers';

const MANAGEMENT_ACCOUNT = '111122223333';

describe('proton-local environment account connections', () => {
  const w = useWorkloads();
  /** The environment account: the configured one (the test client's access key id is not an account id). */
  const proton = () => w.env.proton;
  /** The management account: proton-local takes a 12-digit access key id for the calling account. */
  const management = () => protonClient(w.env.local.endpoint, { credentials: { accessKeyId: MANAGEMENT_ACCOUNT, secretAccessKey: 'x' } });
  const request = async (input: Partial<CreateEnvironmentAccountConnectionCommandInput> = {}) =>
    (await proton().send(new CreateEnvironmentAccountConnectionCommand({
      managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod', roleArn: SERVICE_ROLE, ...input,
    }))).environmentAccountConnection!;
  const createEnvironment = (environmentAccountConnectionId: string, name = 'prod') => management().send(new CreateEnvironmentCommand({
    name, templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, environmentAccountConnectionId,
  }));

  test('PENDING, then CONNECTED (idempotently), then usable by its environment only', async () => {
    await w.environmentTemplate('env');
    const pending = await request({ clientToken: 'eac-1' });
    expect(pending).toMatchObject({ status: 'PENDING', environmentAccountId: ACCOUNT, managementAccountId: MANAGEMENT_ACCOUNT });
    expect(pending.arn).toBe(`arn:aws:proton:us-east-1:${ACCOUNT}:environment-account-connection/${pending.id}`);
    expect((await request({ clientToken: 'eac-1' })).id).toBe(pending.id);
    await expect(request({ clientToken: 'eac-2' })).rejects.toMatchObject({ name: 'ConflictException' });
    await expect(createEnvironment(pending.id!)).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('PENDING') });

    const accepted = (await management().send(new AcceptEnvironmentAccountConnectionCommand({ id: pending.id }))).environmentAccountConnection!;
    expect(accepted.status).toBe('CONNECTED');
    expect((await management().send(new AcceptEnvironmentAccountConnectionCommand({ id: pending.id }))).environmentAccountConnection!.status).toBe('CONNECTED');
    await expect(createEnvironment(pending.id!, 'staging'))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('made for environment \'prod\'') });
    const environment = (await createEnvironment(pending.id!)).environment!;
    expect(environment).toMatchObject({
      environmentAccountConnectionId: pending.id, environmentAccountId: ACCOUNT, arn: `arn:aws:proton:us-east-1:${MANAGEMENT_ACCOUNT}:environment/prod`,
    });
    w.advance();
    await expect(management().send(new UpdateEnvironmentCommand({
      name: 'prod', deploymentType: 'NONE', environmentAccountConnectionId: pending.id, protonServiceRoleArn: SERVICE_ROLE,
    }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(management().send(new RejectEnvironmentAccountConnectionCommand({ id: pending.id })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('\'prod\'') });
  });

  test('REJECTED is terminal', async () => {
    const pending = await request();
    const rejected = (await management().send(new RejectEnvironmentAccountConnectionCommand({ id: pending.id }))).environmentAccountConnection!;
    expect(rejected.status).toBe('REJECTED');
    await expect(management().send(new AcceptEnvironmentAccountConnectionCommand({ id: pending.id })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('REJECTED') });
    expect((await request()).status).toBe('PENDING');
  });

  test('update, get, delete (idempotent) and list by requester, environment and status', async () => {
    const first = await request();
    const mine = await request({ managementAccountId: ACCOUNT, environmentName: 'dev' });
    await proton().send(new AcceptEnvironmentAccountConnectionCommand({ id: mine.id }));
    const updated = (await proton().send(new UpdateEnvironmentAccountConnectionCommand({ id: first.id, componentRoleArn: COMPONENT_ROLE })))
      .environmentAccountConnection!;
    expect(updated).toMatchObject({ componentRoleArn: COMPONENT_ROLE, roleArn: SERVICE_ROLE });

    const list = async (input: Partial<ConstructorParameters<typeof ListEnvironmentAccountConnectionsCommand>[0]>) =>
      (await proton().send(new ListEnvironmentAccountConnectionsCommand({ requestedBy: 'ENVIRONMENT_ACCOUNT', ...input })))
        .environmentAccountConnections!.map(c => c.environmentName);
    expect(await list({})).toEqual(['prod', 'dev']);
    expect(await list({ requestedBy: 'MANAGEMENT_ACCOUNT' })).toEqual(['dev']);
    expect(await list({ statuses: ['PENDING'] })).toEqual(['prod']);
    expect(await list({ environmentName: 'dev' })).toEqual(['dev']);

    expect((await proton().send(new DeleteEnvironmentAccountConnectionCommand({ id: first.id }))).environmentAccountConnection!.id).toBe(first.id);
    expect((await proton().send(new DeleteEnvironmentAccountConnectionCommand({ id: first.id }))).environmentAccountConnection).toBeUndefined();
    await expect(proton().send(new GetEnvironmentAccountConnectionCommand({ id: first.id }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('each side makes its own calls; other accounts do not see the connection', async () => {
    await w.environmentTemplate('env');
    const pending = await request();
    await expect(proton().send(new AcceptEnvironmentAccountConnectionCommand({ id: pending.id }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: `AcceptEnvironmentAccountConnection is called from the management account of environment account connection ${pending.id} `
        + `(${MANAGEMENT_ACCOUNT}), not from account ${ACCOUNT}`,
    });
    await expect(proton().send(new RejectEnvironmentAccountConnectionCommand({ id: pending.id })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('from the management account') });
    await expect(management().send(new UpdateEnvironmentAccountConnectionCommand({ id: pending.id, componentRoleArn: COMPONENT_ROLE })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining(`from the environment account of environment account connection ${pending.id} (${ACCOUNT})`) });
    await expect(management().send(new DeleteEnvironmentAccountConnectionCommand({ id: pending.id })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('from the environment account') });
    // Both sides read it and list it, each by its own role.
    expect((await management().send(new GetEnvironmentAccountConnectionCommand({ id: pending.id }))).environmentAccountConnection!.status).toBe('PENDING');
    expect((await management().send(new ListEnvironmentAccountConnectionsCommand({ requestedBy: 'MANAGEMENT_ACCOUNT' })))
      .environmentAccountConnections!.map(c => c.id)).toEqual([pending.id]);
    expect((await management().send(new ListEnvironmentAccountConnectionsCommand({ requestedBy: 'ENVIRONMENT_ACCOUNT' })))
      .environmentAccountConnections).toEqual([]);
    const stranger = protonClient(w.env.local.endpoint, { credentials: { accessKeyId: '999999999999', secretAccessKey: 'x' } });
    await expect(stranger.send(new GetEnvironmentAccountConnectionCommand({ id: pending.id }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    await management().send(new AcceptEnvironmentAccountConnectionCommand({ id: pending.id }));
    // Only an environment of the management account deploys through it.
    await expect(proton().send(new CreateEnvironmentCommand({
      name: 'prod', templateName: 'env', templateMajorVersion: '1', spec: ENV_SPEC, environmentAccountConnectionId: pending.id,
    }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: `environmentAccountConnectionId ${pending.id} connects to management account ${MANAGEMENT_ACCOUNT}: only an environment in that `
        + `account can use it, not one in account ${ACCOUNT}`,
    });
  });
});
