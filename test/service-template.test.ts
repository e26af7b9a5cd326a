import { App, RemovalPolicy, Stack, Tags, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Provisioning, ServiceTemplate } from '../src';

function newStack(): Stack {
  return new Stack(new App(), 'Platform', { env: { account: '123456789012', region: 'us-east-1' } });
}

const TEMPLATE_TYPE = 'Custom::ProtonServiceTemplate';
const templateArn = (suffix = '') =>
  ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:123456789012:service-template/web-service${suffix}`]] });

test('defines a Custom::ProtonServiceTemplate with every property; the ARN is computed from the name', () => {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  const template = new ServiceTemplate(stack, 'Template', {
    serviceTemplateName: 'web-service',
    displayName: 'Web service',
    description: 'A load-balanced Fargate service',
    encryptionKey: key,
    pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
  });
  const assertions = Template.fromStack(stack);
  assertions.resourceCountIs('AWS::Proton::ServiceTemplate', 0);
  assertions.hasResourceProperties(TEMPLATE_TYPE, {
    ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdkProtonProviderframeworkonEvent'), 'Arn'] },
    TemplateName: 'web-service',
    DisplayName: 'Web service',
    Description: 'A load-balanced Fargate service',
    EncryptionKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    Provisioning: 'CUSTOMER_MANAGED',
    AdoptExisting: Match.absent(),
  });
  expect(template.serviceTemplateName).toBe('web-service');
  expect(template.pipelineProvisioning).toBe(Provisioning.CUSTOMER_MANAGED);
  expect(stack.resolve(template.serviceTemplateArn)).toEqual(templateArn());
});

test('is deleted with the stack by default (CloudFormation\'s default: no policy written), retained on request', () => {
  const stack = newStack();
  new ServiceTemplate(stack, 'Deleted');
  new ServiceTemplate(stack, 'Retained', { removalPolicy: RemovalPolicy.RETAIN });
  expect(Object.values(Template.fromStack(stack).findResources(TEMPLATE_TYPE)).map(r => [r.DeletionPolicy, r.UpdateReplacePolicy]))
    .toEqual([[undefined, undefined], ['Retain', 'Retain']]);
});

test('an adopted template is retained by default, and the handler is told to adopt', () => {
  const stack = newStack();
  new ServiceTemplate(stack, 'Adopted', { serviceTemplateName: 'web-service', adoptExisting: true });
  new ServiceTemplate(stack, 'AdoptedDeleted', { serviceTemplateName: 'other', adoptExisting: true, removalPolicy: RemovalPolicy.DESTROY });
  const assertions = Template.fromStack(stack);
  assertions.hasResource(TEMPLATE_TYPE, {
    Properties: Match.objectLike({ TemplateName: 'web-service', AdoptExisting: 'true' }),
    DeletionPolicy: 'Retain',
  });
  assertions.hasResource(TEMPLATE_TYPE, {
    Properties: Match.objectLike({ TemplateName: 'other', AdoptExisting: 'true' }),
    DeletionPolicy: Match.absent(),
  });
});

test('generates a valid name when none is given, and takes tags', () => {
  const stack = newStack();
  const template = new ServiceTemplate(stack, 'Web');
  Tags.of(template).add('team', 'web');
  expect(template.serviceTemplateName).toMatch(/^[0-9A-Za-z]+[0-9A-Za-z_-]{0,99}$/);
  Template.fromStack(stack).hasResourceProperties(TEMPLATE_TYPE, {
    TemplateName: template.serviceTemplateName, Tags: JSON.stringify([{ key: 'team', value: 'web' }]),
  });
});

test('the same service template name twice in one app (same account and region) is a synth error', () => {
  const stack = newStack();
  new ServiceTemplate(stack, 'First', { serviceTemplateName: 'web-service' });
  expect(() => new ServiceTemplate(stack, 'Second', { serviceTemplateName: 'web-service' }))
    .toThrow(/Platform\/Second: serviceTemplateName "web-service" is already used by Platform\/First/);
});

describe('validation', () => {
  test('an invalid name', () => {
    expect(() => new ServiceTemplate(newStack(), 'T', { serviceTemplateName: 'web/service' }))
      .toThrow(/serviceTemplateName "web\/service" must start with a letter or digit and contain only letters, digits, "-" and "_"/);
  });

  test('a display name longer than 100 characters', () => {
    expect(() => new ServiceTemplate(newStack(), 'T', { displayName: 'd'.repeat(101) }))
      .toThrow(/displayName "d{101}" is 101 characters long; Proton accepts 1 to 100/);
  });

  test('a description longer than 500 characters', () => {
    expect(() => new ServiceTemplate(newStack(), 'T', { description: 'x'.repeat(501) }))
      .toThrow(/description is 501 characters long; Proton accepts at most 500/);
  });
});

test('fromServiceTemplateAttributes builds the ARN and keeps the pipeline provisioning', () => {
  const stack = newStack();
  const imported = ServiceTemplate.fromServiceTemplateAttributes(stack, 'Imported', {
    serviceTemplateName: 'shared-web', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
  });
  expect(stack.resolve(imported.serviceTemplateArn)).toEqual({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:123456789012:service-template/shared-web']],
  });
  expect(imported.pipelineProvisioning).toBe(Provisioning.CUSTOMER_MANAGED);
  expect(ServiceTemplate.fromServiceTemplateName(stack, 'ByName', 'shared-web').pipelineProvisioning).toBeUndefined();
});

test('grantRead allows reading the template and its versions', () => {
  const stack = newStack();
  const template = new ServiceTemplate(stack, 'Template', { serviceTemplateName: 'web' });
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  template.grantRead(role);
  const arn = (suffix: string) =>
    ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:123456789012:service-template/web${suffix}`]] });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
    PolicyDocument: {
      Statement: [{
        Effect: 'Allow',
        Action: ['proton:GetServiceTemplate', 'proton:ListServiceTemplateVersions', 'proton:GetServiceTemplateVersion'],
        Resource: [arn(''), arn(':*')],
      }],
    },
  });
});
