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
