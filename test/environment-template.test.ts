import { App, RemovalPolicy, Stack, Tags, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EnvironmentTemplate, Provisioning } from '../src';

function newStack(): Stack {
  return new Stack(new App(), 'Platform', { env: { account: '123456789012', region: 'us-east-1' } });
}

const TEMPLATE_TYPE = 'Custom::ProtonEnvironmentTemplate';

test('defines a Custom::ProtonEnvironmentTemplate served by the stack\'s provider, with every property a string', () => {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  new EnvironmentTemplate(stack, 'Template', {
    environmentTemplateName: 'vpc-env',
    displayName: 'VPC environment',
    description: 'A VPC with public and private subnets',
    encryptionKey: key,
    provisioning: Provisioning.CUSTOMER_MANAGED,
  });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Proton::EnvironmentTemplate', 0);
  template.hasResourceProperties(TEMPLATE_TYPE, {
    ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdkProtonProviderframeworkonEvent'), 'Arn'] },
    TemplateName: 'vpc-env',
    DisplayName: 'VPC environment',
    Description: 'A VPC with public and private subnets',
    EncryptionKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    Provisioning: 'CUSTOMER_MANAGED',
    AdoptExisting: Match.absent(),
    Tags: Match.absent(),
  });
});

test('is deleted with the stack by default (CloudFormation\'s default: no policy written), retained on request', () => {
  const stack = newStack();
  new EnvironmentTemplate(stack, 'Deleted');
  new EnvironmentTemplate(stack, 'Retained', { removalPolicy: RemovalPolicy.RETAIN });
  const template = Template.fromStack(stack);
  expect(Object.values(template.findResources(TEMPLATE_TYPE)).map(r => [r.DeletionPolicy, r.UpdateReplacePolicy]))
    .toEqual([[undefined, undefined], ['Retain', 'Retain']]);
});

describe('adoptExisting', () => {
  test('is sent to the handler and makes the template retained by default', () => {
    const stack = newStack();
    new EnvironmentTemplate(stack, 'Adopted', { environmentTemplateName: 'legacy-vpc', adoptExisting: true });
    Template.fromStack(stack).hasResource(TEMPLATE_TYPE, {
      Properties: Match.objectLike({ TemplateName: 'legacy-vpc', AdoptExisting: 'true' }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('an explicit removal policy wins over the adoption default', () => {
    const stack = newStack();
    new EnvironmentTemplate(stack, 'Adopted', { environmentTemplateName: 'legacy-vpc', adoptExisting: true, removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource(TEMPLATE_TYPE, {
      Properties: Match.objectLike({ AdoptExisting: 'true' }),
      DeletionPolicy: Match.absent(),
    });
  });

  test('false sends nothing', () => {
    const stack = newStack();
    new EnvironmentTemplate(stack, 'Own', { environmentTemplateName: 'vpc-env', adoptExisting: false });
    Template.fromStack(stack).hasResource(TEMPLATE_TYPE, {
      Properties: Match.objectLike({ TemplateName: 'vpc-env', AdoptExisting: Match.absent() }),
      DeletionPolicy: Match.absent(),
    });
  });
});

test('generates a valid, unique name when none is given', () => {
  const stack = newStack();
  const a = new EnvironmentTemplate(stack, 'A'.repeat(120));
  const b = new EnvironmentTemplate(stack, 'B');
  for (const name of [a.environmentTemplateName, b.environmentTemplateName]) {
    expect(name).toMatch(/^[0-9A-Za-z]+[0-9A-Za-z_-]*$/);
    expect(name.length).toBeLessThanOrEqual(100);
  }
  expect(a.environmentTemplateName).not.toEqual(b.environmentTemplateName);
  Template.fromStack(stack).hasResourceProperties(TEMPLATE_TYPE, { TemplateName: b.environmentTemplateName });
});

test('exposes the name, and the ARN computed from it (no GetAtt, so other stacks need no export)', () => {
  const stack = newStack();
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'vpc-env' });
  expect(template.environmentTemplateName).toBe('vpc-env');
  expect(stack.resolve(template.environmentTemplateArn)).toEqual({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:123456789012:environment-template/vpc-env']],
  });
});

test('tags reach the template as a JSON list in Proton\'s field names', () => {
  const stack = newStack();
  const template = new EnvironmentTemplate(stack, 'Template');
  Tags.of(stack).add('team', 'platform');
  template.tags.setTag('cost-center', '42');
  const [resource] = Object.values(Template.fromStack(stack).findResources(TEMPLATE_TYPE));
  expect(JSON.parse(resource.Properties.Tags)).toEqual([{ key: 'cost-center', value: '42' }, { key: 'team', value: 'platform' }]);
});

test('the same template name twice in one account and region is a synth error naming both constructs', () => {
  const stack = newStack();
  new EnvironmentTemplate(stack, 'First', { environmentTemplateName: 'vpc-env' });
  const other = new Stack(stack.node.root as App, 'Other', { env: { account: '123456789012', region: 'us-east-1' } });
  expect(() => new EnvironmentTemplate(other, 'Second', { environmentTemplateName: 'vpc-env' }))
    .toThrow(/Other\/Second: environmentTemplateName "vpc-env" is already used by Platform\/First/);
});

test('the same name in another region is another template', () => {
  const stack = newStack();
  new EnvironmentTemplate(stack, 'First', { environmentTemplateName: 'vpc-env' });
  const other = new Stack(stack.node.root as App, 'Other', { env: { account: '123456789012', region: 'eu-west-1' } });
  expect(() => new EnvironmentTemplate(other, 'Second', { environmentTemplateName: 'vpc-env' })).not.toThrow();
});

test('the handler role may manage only this template', () => {
  const stack = newStack();
  new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'vpc-env' });
  const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:123456789012:environment-template/vpc-env${suffix}`]] });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }],
    PolicyDocument: {
      Statement: [{
        Effect: 'Allow',
        Action: Match.arrayWith(['proton:CreateEnvironmentTemplate', 'proton:DeleteEnvironmentTemplate', 'proton:TagResource']),
        // The template and its versions (`<name>:<major>.<minor>`).
        Resource: [arn(''), arn(':*')],
      }],
    },
  });
});

describe('validation', () => {
  test('a name with characters Proton does not allow', () => {
    expect(() => new EnvironmentTemplate(newStack(), 'T', { environmentTemplateName: 'vpc env' }))
      .toThrow(/environmentTemplateName "vpc env" must start with a letter or digit and contain only letters, digits, "-" and "_"/);
  });

  test('a name that starts with a dash', () => {
    expect(() => new EnvironmentTemplate(newStack(), 'T', { environmentTemplateName: '-vpc' }))
      .toThrow(/environmentTemplateName "-vpc" must start with a letter or digit/);
  });

  test('a name longer than 100 characters', () => {
    expect(() => new EnvironmentTemplate(newStack(), 'T', { environmentTemplateName: 'a'.repeat(101) }))
      .toThrow(/environmentTemplateName "a{101}" must be 1 to 100 characters long \(got 101\)/);
  });

  test('an empty display name', () => {
    expect(() => new EnvironmentTemplate(newStack(), 'T', { displayName: '' }))
      .toThrow(/displayName "" is 0 characters long; Proton accepts 1 to 100/);
  });

  test('a display name longer than 100 characters', () => {
    expect(() => new EnvironmentTemplate(newStack(), 'T', { displayName: 'd'.repeat(101) }))
      .toThrow(/displayName "d{101}" is 101 characters long; Proton accepts 1 to 100/);
  });

  test('a description longer than 500 characters', () => {
    expect(() => new EnvironmentTemplate(newStack(), 'T', { description: 'x'.repeat(501) }))
      .toThrow(/description is 501 characters long; Proton accepts at most 500/);
  });

  test('tokens are left to deploy time', () => {
    const stack = newStack();
    const name = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }).roleName;
    expect(() => new EnvironmentTemplate(stack, 'T', { environmentTemplateName: name })).not.toThrow();
  });
});

describe('import', () => {
  test('fromEnvironmentTemplateName builds the ARN', () => {
    const stack = newStack();
    const imported = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'Imported', 'shared-vpc');
    expect(imported.environmentTemplateName).toBe('shared-vpc');
    expect(stack.resolve(imported.environmentTemplateArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:123456789012:environment-template/shared-vpc']],
    });
    expect(imported.provisioning).toBeUndefined();
  });

  test('fromEnvironmentTemplateAttributes keeps the provisioning', () => {
    const imported = EnvironmentTemplate.fromEnvironmentTemplateAttributes(newStack(), 'Imported', {
      environmentTemplateName: 'shared', provisioning: Provisioning.CUSTOMER_MANAGED,
    });
    expect(imported.provisioning).toBe(Provisioning.CUSTOMER_MANAGED);
  });

  test('an imported name is validated too', () => {
    expect(() => EnvironmentTemplate.fromEnvironmentTemplateName(newStack(), 'Imported', 'not valid'))
      .toThrow(/environmentTemplateName "not valid"/);
  });
});

test('grantRead allows reading the template and its versions, and nothing else', () => {
  const stack = newStack();
  const imported = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'Imported', 'shared-vpc');
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  imported.grantRead(role);
  const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:123456789012:environment-template/shared-vpc${suffix}`]] });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: [{
        Effect: 'Allow',
        Action: ['proton:GetEnvironmentTemplate', 'proton:ListEnvironmentTemplateVersions', 'proton:GetEnvironmentTemplateVersion'],
        Resource: [arn(''), arn(':*')],
      }],
    },
  });
});
