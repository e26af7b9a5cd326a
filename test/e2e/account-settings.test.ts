/**
 * AccountSettings are one per account and region, with nowhere in Proton to record an owner: a stack whose settings
 * are already set to other values (another stack's, or set by hand) fails unless it opts in to take them over, and
 * each stack restores on delete the values it replaced. Needs the handler bundle (`npx projen bundle`).
 */
import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Harness, startHarness, synthesize } from './helpers';
import { AccountSettings } from '../../src';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.stop());

const ENV = { account: '123456789012', region: 'us-east-1' };
const roleArn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const settingsApp = (stackName: string, role: string, options: { adoptExisting?: boolean } = {}) => synthesize((app) => {
  const stack = new Stack(app, stackName, { env: ENV });
  new AccountSettings(stack, 'Settings', {
    pipelineServiceRole: iam.Role.fromRoleArn(stack, 'Role', roleArn(role)),
    adoptExisting: options.adoptExisting,
  });
});
const serviceRole = async () => (await h.client.call('GetAccountSettings', {})).accountSettings.pipelineServiceRoleArn;

test('a second stack setting other values fails, naming the values and adoptExisting, and changes nothing', async () => {
  await h.engine().deploy(settingsApp('PlatformA', 'role-a'));
  expect(await serviceRole()).toBe(roleArn('role-a'));

  await expect(h.engine().deploy(settingsApp('PlatformB', 'role-b'))).rejects.toThrow(
    /Proton's account settings are already set \(pipelineServiceRoleArn is "arn:aws:iam::123456789012:role\/role-a"\), by another stack .*adoptExisting: true to take over pipelineServiceRole/);
  expect(await serviceRole()).toBe(roleArn('role-a'));

  await h.engine().destroy(['PlatformB']);
  expect(await serviceRole()).toBe(roleArn('role-a'));
  await h.engine().destroy(['PlatformA']);
  expect(await serviceRole()).toBeFalsy();
});

test('with adoptExisting the settings are taken over, and removing the stack restores the values it replaced', async () => {
  await h.client.call('UpdateAccountSettings', { pipelineServiceRoleArn: roleArn('set-by-hand') });
  await expect(h.engine().deploy(settingsApp('Platform', 'role-a'))).rejects.toThrow(/already set .*set-by-hand/);

  await h.engine().deploy(settingsApp('Platform', 'role-a', { adoptExisting: true }));
  expect(await serviceRole()).toBe(roleArn('role-a'));

  await h.engine().destroy();
  expect(await serviceRole()).toBe(roleArn('set-by-hand'));
});

test('the same values set already (a re-delivered create) are not refused', async () => {
  await h.client.call('UpdateAccountSettings', { pipelineServiceRoleArn: roleArn('role-a') });
  await h.engine().deploy(settingsApp('Platform', 'role-a'));
  expect(await serviceRole()).toBe(roleArn('role-a'));
});
