import { join } from 'path';
import { App, Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  Environment, EnvironmentAccountConnection, EnvironmentAccountConnectionAcceptance, EnvironmentAccountConnectionProps, EnvironmentTemplate,
  EnvironmentTemplateVersion, TemplateBundle,
} from '../src';

const ENVIRONMENT_ACCOUNT = '111111111111';
const MANAGEMENT_ACCOUNT = '222222222222';
const CONNECTION_ID = '4f3e1d3c-6c6d-4f70-9a0a-0d5d1c9a1b2c';
const FARGATE_ENV = join(__dirname, 'fixtures/proton-samples/environment-templates/fargate-env/v1');

const stackIn = (app: App, id: string, account: string) => new Stack(app, id, { env: { account, region: 'us-east-1' } });
const role = (stack: Stack, id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });

function connection(props: Partial<EnvironmentAccountConnectionProps> = {}) {
  const stack = stackIn(new App(), 'EnvAccount', ENVIRONMENT_ACCOUNT);
  const created = new EnvironmentAccountConnection(stack, 'Connection', {
    managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod', ...props,
  });
  return { stack, connection: created };
}

function managementStack() {
  const stack = stackIn(new App(), 'Management', MANAGEMENT_ACCOUNT);
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'fargate-env' });
  const version = new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: TemplateBundle.fromDirectory(FARGATE_ENV) });
  return { stack, version };
}

const properties = (stack: Stack, type: string) => Object.values(Template.fromStack(stack).findResources(type))[0].Properties;

describe('EnvironmentAccountConnection', () => {
  test('sends the management account, environment, role ARNs and tags; Id is the physical id', () => {
    const stack = stackIn(new App(), 'EnvAccount', ENVIRONMENT_ACCOUNT);
    const provisioning = role(stack, 'Provisioning');
    const created = new EnvironmentAccountConnection(stack, 'Connection', {
      managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod', role: provisioning, componentRole: role(stack, 'Component'),
    });
    Tags.of(created).add('team', 'platform');
    const props = properties(stack, 'Custom::ProtonEnvironmentAccountConnection');
    expect(props).toMatchObject({
      ManagementAccountId: MANAGEMENT_ACCOUNT,
      EnvironmentName: 'prod',
      RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^Provisioning/), 'Arn'] },
      ComponentRoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^Component/), 'Arn'] },
      Tags: JSON.stringify([{ key: 'team', value: 'platform' }]),
    });
    expect(props.CodebuildRoleArn).toBeUndefined();
    expect(props.AdoptExisting).toBeUndefined();
    expect(stack.resolve(created.environmentAccountConnectionId)).toEqual({ Ref: expect.stringMatching(/^Connection/) });
    expect(stack.resolve(created.environmentAccountConnectionArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Connection/), 'Arn'] });
    expect(stack.resolve(created.environmentAccountConnectionStatus)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Connection/), 'Status'] });
  });

  test('the handler may create and list connections account-wide, manage them, and pass the roles to Proton only', () => {
    const { stack } = connection({ role: undefined });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: ['proton:CreateEnvironmentAccountConnection', 'proton:ListEnvironmentAccountConnections'], Resource: '*' },
          Match.objectLike({
            Action: Match.arrayWith(['proton:UpdateEnvironmentAccountConnection', 'proton:DeleteEnvironmentAccountConnection']),
            Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`:${ENVIRONMENT_ACCOUNT}:environment-account-connection/\\*$`)])] },
          }),
        ]),
      },
    });
    const withRole = stackIn(new App(), 'EnvAccount', ENVIRONMENT_ACCOUNT);
    new EnvironmentAccountConnection(withRole, 'Connection', {
      managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod', codebuildRole: role(withRole, 'CodeBuild'),
    });
    Template.fromStack(withRole).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CodeBuild'), 'Arn'] },
          Condition: { StringEquals: { 'iam:PassedToService': 'proton.amazonaws.com' } },
        }]),
      },
    });
  });

  test('adoptExisting is sent, and retains the connection by default', () => {
    const { stack } = connection({ adoptExisting: true });
    expect(properties(stack, 'Custom::ProtonEnvironmentAccountConnection').AdoptExisting).toBe('true');
    Template.fromStack(stack).hasResource('Custom::ProtonEnvironmentAccountConnection', { DeletionPolicy: 'Retain' });
  });

  test('managementAccountId must be 12 digits', () => {
    expect(() => connection({ managementAccountId: '2222' }))
      .toThrow('EnvAccount/Connection: managementAccountId "2222" is not an AWS account ID: 12 digits are required');
  });

  test('managementAccountId must be another account', () => {
    expect(() => connection({ managementAccountId: ENVIRONMENT_ACCOUNT }))
      .toThrow(`EnvAccount/Connection: managementAccountId "${ENVIRONMENT_ACCOUNT}" is the stack's own account: a connection joins two accounts`);
  });

  test('environmentName must follow Proton\'s rules', () => {
    expect(() => connection({ environmentName: 'bad name' }))
      .toThrow('EnvAccount/Connection: environmentName "bad name" must start with a letter or digit and contain only letters, digits, "-" and "_"');
  });

  test('one connection per management account and environment in an account', () => {
    const { stack } = connection();
    expect(() => new EnvironmentAccountConnection(stack, 'Again', { managementAccountId: MANAGEMENT_ACCOUNT, environmentName: 'prod' }))
      .toThrow(`EnvAccount/Again: managementAccountId and environmentName "${MANAGEMENT_ACCOUNT}/prod" is already used by EnvAccount/Connection`);
  });

  test('fromEnvironmentAccountConnectionId takes a lowercase UUID', () => {
    const stack = stackIn(new App(), 'Management', MANAGEMENT_ACCOUNT);
    expect(EnvironmentAccountConnection.fromEnvironmentAccountConnectionId(stack, 'Imported', CONNECTION_ID).environmentAccountConnectionId)
      .toBe(CONNECTION_ID);
    expect(() => EnvironmentAccountConnection.fromEnvironmentAccountConnectionId(stack, 'Bad', 'conn-1'))
      .toThrow('Management/Bad: environmentAccountConnectionId "conn-1" is not an environment account connection ID: a lowercase UUID is required');
  });
});

describe('EnvironmentAccountConnectionAcceptance', () => {
  test('accepts by ID; an environment given the acceptance waits for it and may only read and accept that connection', () => {
    const { stack, version } = managementStack();
    const acceptance = new EnvironmentAccountConnectionAcceptance(stack, 'Acceptance', { connectionId: CONNECTION_ID });
    new Environment(stack, 'Prod', { environmentName: 'prod', templateVersion: version, environmentAccountConnection: acceptance });

    expect(properties(stack, 'Custom::ProtonEnvironmentAccountConnectionAcceptance')).toMatchObject({ ConnectionId: CONNECTION_ID });
    expect(properties(stack, 'Custom::ProtonEnvironmentAccountConnectionAcceptance').RejectOnDelete).toBeUndefined();
    // The environment's connection ID is the acceptance's Ref: CloudFormation creates the environment once it is accepted.
    expect(properties(stack, 'Custom::ProtonEnvironment').EnvironmentAccountConnectionId)
      .toEqual({ Ref: expect.stringMatching(/^Acceptance/) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: ['proton:GetEnvironmentAccountConnection', 'proton:AcceptEnvironmentAccountConnection'],
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:*:environment-account-connection/${CONNECTION_ID}`]] },
        }]),
      },
    });
  });

  test('rejectOnDelete is sent and allows RejectEnvironmentAccountConnection', () => {
    const stack = stackIn(new App(), 'Management', MANAGEMENT_ACCOUNT);
    new EnvironmentAccountConnectionAcceptance(stack, 'Acceptance', { connectionId: CONNECTION_ID, rejectOnDelete: true });
    expect(properties(stack, 'Custom::ProtonEnvironmentAccountConnectionAcceptance').RejectOnDelete).toBe('true');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['proton:RejectEnvironmentAccountConnection']) })]) },
    });
  });

  test('connectionId must be a lowercase UUID', () => {
    const stack = stackIn(new App(), 'Management', MANAGEMENT_ACCOUNT);
    expect(() => new EnvironmentAccountConnectionAcceptance(stack, 'Acceptance', { connectionId: CONNECTION_ID.toUpperCase() }))
      .toThrow(`Management/Acceptance: connectionId "${CONNECTION_ID.toUpperCase()}" is not an environment account connection ID: a lowercase UUID is required`);
  });

  test('a connection is accepted by one construct per account', () => {
    const stack = stackIn(new App(), 'Management', MANAGEMENT_ACCOUNT);
    new EnvironmentAccountConnectionAcceptance(stack, 'Acceptance', { connectionId: CONNECTION_ID });
    expect(() => new EnvironmentAccountConnectionAcceptance(stack, 'Again', { connectionId: CONNECTION_ID }))
      .toThrow(`Management/Again: connectionId "${CONNECTION_ID}" is already used by Management/Acceptance`);
  });
});

describe('Environment through a connection', () => {
  test('an imported connection sends its ID', () => {
    const { stack, version } = managementStack();
    const imported = EnvironmentAccountConnection.fromEnvironmentAccountConnectionId(stack, 'Connection', CONNECTION_ID);
    new Environment(stack, 'Prod', { environmentName: 'prod', templateVersion: version, environmentAccountConnection: imported });
    expect(properties(stack, 'Custom::ProtonEnvironment').EnvironmentAccountConnectionId).toBe(CONNECTION_ID);
  });

  test('environmentAccountConnection and environmentAccountConnectionId together are refused', () => {
    const { stack, version } = managementStack();
    const imported = EnvironmentAccountConnection.fromEnvironmentAccountConnectionId(stack, 'Connection', CONNECTION_ID);
    expect(() => new Environment(stack, 'Prod', {
      templateVersion: version, environmentAccountConnection: imported, environmentAccountConnectionId: CONNECTION_ID,
    })).toThrow(`Management/Prod: environmentAccountConnection and environmentAccountConnectionId "${CONNECTION_ID}" both name a connection; give only one`);
  });

  test('a connection is a provisioning mode of its own: not with protonServiceRole', () => {
    const { stack, version } = managementStack();
    const imported = EnvironmentAccountConnection.fromEnvironmentAccountConnectionId(stack, 'Connection', CONNECTION_ID);
    expect(() => new Environment(stack, 'Prod', {
      templateVersion: version, environmentAccountConnection: imported, protonServiceRole: role(stack, 'ServiceRole'),
    })).toThrow('Management/Prod: protonServiceRole and environmentAccountConnection are different provisioning modes; give at most one');
  });
});
