import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountSettings, RepositoryProvider } from '../src';

function stack() {
  return new Stack(new App(), 'Account', { env: { account: '111122223333', region: 'us-east-1' } });
}

test('sets the pipeline role and repository, and lets the handler pass the role', () => {
  const s = stack();
  const role = iam.Role.fromRoleArn(s, 'PipelineRole', 'arn:aws:iam::111122223333:role/proton-pipelines');
  new AccountSettings(s, 'Settings', {
    pipelineServiceRole: role,
    pipelineProvisioningRepository: { provider: RepositoryProvider.GITHUB, name: 'acme/pipelines', branch: 'main' },
  });
  const template = Template.fromStack(s);
  const properties = Object.values(template.findResources('Custom::ProtonAccountSettings'))[0].Properties;
  expect(properties.PipelineServiceRoleArn).toBe('arn:aws:iam::111122223333:role/proton-pipelines');
  expect(properties.PipelineCodebuildRoleArn).toBeUndefined();
  expect(JSON.parse(properties.PipelineProvisioningRepository)).toEqual({ provider: 'GITHUB', name: 'acme/pipelines', branch: 'main' });
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement);
  expect(statements).toContainEqual(expect.objectContaining({ Action: 'iam:PassRole', Resource: 'arn:aws:iam::111122223333:role/proton-pipelines' }));
  expect(statements).toContainEqual(expect.objectContaining({ Action: ['proton:GetAccountSettings', 'proton:UpdateAccountSettings'], Resource: '*' }));
});

test('needs at least one setting', () => {
  expect(() => new AccountSettings(stack(), 'Settings', {}))
    .toThrow(/Account\/Settings: give at least one of pipelineServiceRole, pipelineCodebuildRole, pipelineProvisioningRepository/);
});

test('a second AccountSettings for the same account and region is a synth error naming the first', () => {
  const app = new App();
  const env = { account: '111122223333', region: 'us-east-1' };
  const role = (s: Stack) => iam.Role.fromRoleArn(s, 'Role', 'arn:aws:iam::111122223333:role/proton-pipelines');
  const first = new Stack(app, 'PlatformA', { env });
  new AccountSettings(first, 'Settings', { pipelineServiceRole: role(first) });
  const elsewhere = new Stack(app, 'OtherRegion', { env: { ...env, region: 'eu-west-1' } });
  new AccountSettings(elsewhere, 'Settings', { pipelineServiceRole: role(elsewhere) });
  const second = new Stack(app, 'PlatformB', { env });
  expect(() => new AccountSettings(second, 'Settings', { pipelineServiceRole: role(second) }))
    .toThrow('PlatformB/Settings: Proton account settings are already defined by PlatformA/Settings, for the same account and region');
});

test('adoptExisting is sent only when set', () => {
  const s = stack();
  new AccountSettings(s, 'Settings', {
    pipelineServiceRole: iam.Role.fromRoleArn(s, 'Role', 'arn:aws:iam::111122223333:role/proton-pipelines'),
    adoptExisting: true,
  });
  const s2 = stack();
  new AccountSettings(s2, 'Settings', { pipelineServiceRole: iam.Role.fromRoleArn(s2, 'Role', 'arn:aws:iam::111122223333:role/proton-pipelines') });
  const properties = (st: Stack) => Object.values(Template.fromStack(st).findResources('Custom::ProtonAccountSettings'))[0].Properties;
  expect(properties(s).AdoptExisting).toBe('true');
  expect(properties(s2).AdoptExisting).toBeUndefined();
});
