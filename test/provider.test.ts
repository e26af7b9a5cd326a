import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EnvironmentTemplate, EnvironmentTemplateVersion, TemplateBundle } from '../src';
import { ProtonProvider } from '../src/private/provider';

const BUNDLE = TemplateBundle.fromDirectory(`${__dirname}/fixtures/proton-samples/environment-templates/vpc-env/v1`);
const HANDLER = { Description: 'lambda/proton.lambda.ts' };

function stackWithVersions(app: App, id: string, count: number): Stack {
  const stack = new Stack(app, id);
  const template = new EnvironmentTemplate(stack, 'Template');
  for (let i = 0; i < count; i++) {
    new EnvironmentTemplateVersion(stack, `Version${i}`, { template, bundle: BUNDLE });
  }
  return stack;
}

test('one provider per stack, however many resources it serves', () => {
  const app = new App();
  const stacks = [stackWithVersions(app, 'One', 3), stackWithVersions(app, 'Two', 2)];
  for (const stack of stacks) {
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', HANDLER, 2);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(ProtonProvider.of(stack)).toBe(ProtonProvider.of(stack.node.findChild('Template')));
  }
});

test('the two handler functions share one role and differ only by their phase', () => {
  const template = Template.fromStack(stackWithVersions(new App(), 'Stack', 1));
  const functions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: HANDLER }));
  expect(functions.map(f => f.Properties.Environment.Variables.PROTON_HANDLER_PHASE).sort()).toEqual(['isComplete', 'onEvent']);
  expect(new Set(functions.map(f => JSON.stringify(f.Properties.Role))).size).toBe(1);
  expect(functions.map(f => f.Properties.Timeout)).toEqual([300, 300]);
  template.hasResourceProperties('AWS::IAM::Role', {
    ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }],
  });
});

test('the framework polls isComplete every 10 seconds for 50 minutes', () => {
  const template = Template.fromStack(stackWithVersions(new App(), 'Stack', 1));
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.stringify(machine.Properties.DefinitionString);
  expect(definition).toContain('\\"IntervalSeconds\\":10');
  expect(definition).toContain('\\"MaxAttempts\\":300');
});

test('every custom resource waits at most CloudFormation\'s 1 hour', () => {
  Template.fromStack(stackWithVersions(new App(), 'Stack', 1))
    .hasResourceProperties('Custom::ProtonEnvironmentTemplateVersion', { ServiceTimeout: '3600' });
});

test('the framework times out before CloudFormation does', () => {
  const handlerBudget = ProtonProvider.TOTAL_TIMEOUT.plus(ProtonProvider.FUNCTION_TIMEOUT);
  expect(handlerBudget.toSeconds()).toBeLessThan(ProtonProvider.SERVICE_TIMEOUT.toSeconds());
  expect(ProtonProvider.SERVICE_TIMEOUT.toSeconds()).toBeLessThanOrEqual(Duration.hours(1).toSeconds());
});

test('grantBundleRead allows reading one object', () => {
  const stack = new Stack(new App(), 'Stack');
  ProtonProvider.of(stack).grantBundleRead('bucket', 'key.tar.gz');
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: [{
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::bucket/key.tar.gz']] },
      }],
    },
    Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }],
  });
});
