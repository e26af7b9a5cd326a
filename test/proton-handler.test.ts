import { App, Stack, aws_ec2 as ec2, aws_logs as logs } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EnvironmentTemplate, ProtonHandler } from '../src';

const handlerFunctions = { Description: 'lambda/proton.lambda.ts' };

test('memory, VPC, subnets, security groups and log retention reach both handler functions', () => {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc });
  ProtonHandler.configure(stack, {
    memorySize: 512,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
    logRetention: logs.RetentionDays.ONE_MONTH,
  });
  new EnvironmentTemplate(stack, 'T', { environmentTemplateName: 't' });
  const template = Template.fromStack(stack);
  template.resourcePropertiesCountIs('AWS::Lambda::Function', {
    ...handlerFunctions,
    MemorySize: 512,
    VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }], SubnetIds: Match.anyValue() },
  }, 2);
  template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 2);
  template.hasResourceProperties('AWS::IAM::Role', {
    ManagedPolicyArns: Match.arrayWith([{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('AWSLambdaVPCAccessExecutionRole')])] }]),
  });
});

test('defaults: 256 MiB, no VPC, logs kept a year', () => {
  const stack = new Stack(new App(), 'Platform');
  new EnvironmentTemplate(stack, 'T', { environmentTemplateName: 't' });
  const template = Template.fromStack(stack);
  template.resourcePropertiesCountIs('AWS::Lambda::Function', { ...handlerFunctions, MemorySize: 256, VpcConfig: Match.absent() }, 2);
  template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 365 }, 2);
});

test('configuring after the handler exists, a bad memory size, or subnets without a VPC fail', () => {
  const stack = new Stack(new App(), 'Platform');
  expect(() => ProtonHandler.configure(stack, { memorySize: 100 })).toThrow(/Platform: ProtonHandler memorySize 100 must be a whole number of MiB from 128 to 10240/);
  expect(() => ProtonHandler.configure(stack, { vpcSubnets: {} })).toThrow(/Platform: ProtonHandler vpcSubnets and securityGroups need vpc/);
  new EnvironmentTemplate(stack, 'T', { environmentTemplateName: 't' });
  expect(() => ProtonHandler.configure(stack, { memorySize: 512 })).toThrow(/must be called before the stack's first cdk-proton construct/);
});
