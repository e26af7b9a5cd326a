import { appendFileSync, cpSync, mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
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
    // One bundle per major: the same bundle twice in one major would be one Proton version.
    new EnvironmentTemplateVersion(stack, `Version${i}`, { template, bundle: BUNDLE, majorVersion: String(i + 1) });
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

test('the two handler functions share one role; onEvent may retry for 14 minutes, isComplete polls within 2', () => {
  const template = Template.fromStack(stackWithVersions(new App(), 'Stack', 1));
  const functions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: HANDLER }));
  const byPhase = Object.fromEntries(functions.map(f => [f.Properties.Environment.Variables.PROTON_HANDLER_PHASE, f.Properties]));
  expect(Object.keys(byPhase).sort()).toEqual(['isComplete', 'onEvent']);
  expect(new Set(functions.map(f => JSON.stringify(f.Properties.Role))).size).toBe(1);
  expect(byPhase.onEvent.Timeout).toBe(840);
  expect(byPhase.isComplete.Timeout).toBe(120);
  // The budget isComplete polls within; the functions' environments differ only by the phase.
  for (const phase of ['onEvent', 'isComplete']) {
    expect(byPhase[phase].Environment.Variables.PROTON_POLL_BUDGET_MS).toBe('50000');
  }
  template.hasResourceProperties('AWS::IAM::Role', {
    ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }],
  });
});

test('the framework calls isComplete every 2 seconds, 51 times (its total timeout is 102 s)', () => {
  const template = Template.fromStack(stackWithVersions(new App(), 'Stack', 1));
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.stringify(machine.Properties.DefinitionString);
  expect(definition).toContain('\\"IntervalSeconds\\":2');
  expect(definition).toContain('\\"MaxAttempts\\":51');
});

test('every custom resource waits CloudFormation\'s default and maximum, 1 hour: ServiceTimeout is left out', () => {
  const resources = Template.fromStack(stackWithVersions(new App(), 'Stack', 1)).findResources('Custom::ProtonEnvironmentTemplateVersion');
  expect(Object.values(resources).map((r: any) => r.Properties.ServiceTimeout)).toEqual([undefined]);
});

test('the framework times out before CloudFormation does', () => {
  // Each isComplete attempt polls for up to POLL_BUDGET, then the framework waits QUERY_INTERVAL.
  const attempts = ProtonProvider.TOTAL_TIMEOUT.toSeconds() / ProtonProvider.QUERY_INTERVAL.toSeconds();
  const longestWait = ProtonProvider.ON_EVENT_TIMEOUT.toSeconds()
    + attempts * (ProtonProvider.POLL_BUDGET.toSeconds() + ProtonProvider.QUERY_INTERVAL.toSeconds());
  expect(longestWait).toBeLessThan(ProtonProvider.SERVICE_TIMEOUT.toSeconds());
  expect(ProtonProvider.SERVICE_TIMEOUT.toSeconds()).toBeLessThanOrEqual(Duration.hours(1).toSeconds());
  // The isComplete function outlives its poll budget, so it answers "not yet" rather than being killed.
  expect(ProtonProvider.IS_COMPLETE_TIMEOUT.toSeconds()).toBeGreaterThan(ProtonProvider.POLL_BUDGET.toSeconds());
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

test('the first bundle\'s bucket is the stack\'s bundle bucket, in both handler functions\' environment; another one is not', () => {
  const stack = new Stack(new App(), 'Stack');
  const provider = ProtonProvider.of(stack);
  expect(provider.grantBundleRead('bundles', 'one.tar.gz')).toBe(true);
  expect(provider.grantBundleRead('bundles', 'two.tar.gz')).toBe(true);
  expect(provider.grantBundleRead('elsewhere', 'three.tar.gz')).toBe(false);
  const handlers = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: HANDLER });
  expect(Object.values(handlers).map(f => f.Properties.Environment.Variables.PROTON_BUNDLE_BUCKET)).toEqual(['bundles', 'bundles']);
});

test('many versions of one bundle: the policy grants its object once, and the versions do not repeat its bucket', () => {
  const template = Template.fromStack(stackWithVersions(new App(), 'Stack', 30));
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }] },
  }));
  const reads = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Action === 's3:GetObject');
  expect(reads).toHaveLength(1);
  expect(Array.isArray(reads[0].Resource) ? reads[0].Resource : [reads[0].Resource]).toHaveLength(1);
  template.allResourcesProperties('Custom::ProtonEnvironmentTemplateVersion', { SourceS3Bucket: Match.absent() });
});

/** The policy document as IAM stores it: CloudFormation's Fn::Join of the partition resolved, no whitespace. */
function resolvedDocument(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolvedDocument);
  if (value && typeof value === 'object') {
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(part => (typeof part === 'string' ? part : 'aws')).join(join[0]);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolvedDocument(item)]));
  }
  return value;
}

describe('the provider role\'s Proton policy', () => {
  const SERVICE_ACTIONS = ['proton:CreateService', 'proton:GetService', 'proton:UpdateService', 'proton:DeleteService', 'proton:ListTagsForResource'];
  const policySize = (stack: Stack) => {
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }] },
    }));
    return JSON.stringify(resolvedDocument(policy.Properties.PolicyDocument)).length;
  };

  test('a family past 20 names takes one ARN pattern, so its size no longer grows with the resource count', () => {
    const sizes = [21, 200].map(count => {
      const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
      for (let i = 0; i < count; i++) ProtonProvider.of(stack).grantOn('service', `service-${i}`, SERVICE_ACTIONS);
      return policySize(stack);
    });
    expect(sizes[1]).toBe(sizes[0]);
  });

  // BUG (reported to the lead): provider.ts lists up to 20 names per family independently, so four families at 20
  // names each (plus PassRole roles and bundle objects) exceed IAM's 10,240-byte limit on a role's inline policies:
  // the stack fails to deploy. test.failing passes while the bug exists; once fixed it fails: make it a plain test then.
  test('the most the policy lists by name (20 of each family, long names) stays within IAM\'s 10,240 bytes', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
    const provider = ProtonProvider.of(stack);
    const name = (kind: string, i: number) => `${kind}-${'x'.repeat(60)}-${i}`;
    for (let i = 0; i < 20; i++) {
      provider.grantOn('service', name('service', i), SERVICE_ACTIONS);
      provider.grantOn('environment', name('environment', i), ['proton:GetEnvironment']);
      provider.grantOn('environment-template', name('env-template', i), ['proton:GetEnvironmentTemplate']);
      provider.grantOn('service-template', name('svc-template', i), ['proton:GetServiceTemplate']);
    }
    expect(policySize(stack)).toBeLessThanOrEqual(10_240);
  });
});

test('past 20 bundles, the policy grants their bucket\'s objects once', () => {
  const stack = new Stack(new App(), 'Stack');
  const template = new EnvironmentTemplate(stack, 'Template');
  const dir = mkdtempSync(path.join(tmpdir(), 'bundles-'));
  for (let i = 0; i < 21; i++) {
    const bundle = path.join(dir, `v${i}`);
    cpSync(`${__dirname}/fixtures/proton-samples/environment-templates/vpc-env/v1`, bundle, { recursive: true });
    appendFileSync(path.join(bundle, 'infrastructure', 'cloudformation.yaml'), `# version ${i}\n`);
    new EnvironmentTemplateVersion(stack, `Version${i}`, { template, bundle: TemplateBundle.fromDirectory(bundle), majorVersion: String(i + 1) });
  }
  const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }] },
  }));
  const [read] = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Action === 's3:GetObject');
  expect(JSON.stringify(read.Resource)).toMatch(/assets-.*\/\*/);
  expect(Array.isArray(read.Resource) ? read.Resource : [read.Resource]).toHaveLength(1);
});
