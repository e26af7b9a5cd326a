import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, CfnElement, DefaultStackSynthesizer, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import {
  ComponentSource,
  EnvironmentTemplate,
  EnvironmentTemplateVersion,
  Provisioning,
  ServiceTemplate,
  ServiceTemplateVersion,
  TemplateBundle,
  TemplateBundleKind,
} from '../src';
import { usualBundleObjectKey } from '../src/private/bundle-key';

const SAMPLES = join(__dirname, 'fixtures', 'proton-samples');
const ENV_BUNDLE = TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates', 'vpc-env', 'v1'));
const SVC_BUNDLE = TemplateBundle.fromDirectory(join(SAMPLES, 'service-templates', 'load-balanced-fargate-svc', 'v1'));
const SCHEMA = `schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "EnvInput"
  types:
    EnvInput:
      type: object
      properties:
        size:
          type: string
`;

/** A bundle with only schema/schema.yaml: what a CUSTOMER_MANAGED environment template registers. */
function schemaOnlyBundle(): TemplateBundle {
  const dir = mkdtempSync(join(tmpdir(), 'schema-only-'));
  mkdirSync(join(dir, 'schema'));
  writeFileSync(join(dir, 'schema', 'schema.yaml'), SCHEMA);
  return TemplateBundle.fromDirectory(dir);
}

function newStack(id = 'Platform'): Stack {
  return new Stack(new App(), id, { env: { account: '123456789012', region: 'us-east-1' } });
}

/** The logical id of the CloudFormation resource a construct defines (a custom resource's is nested in it). */
function logicalId(stack: Stack, construct: IConstruct): string {
  const resources = construct.node.findAll().filter(CfnElement.isCfnElement);
  if (resources.length !== 1) throw new Error(`${construct.node.path} defines ${resources.length} CloudFormation resources`);
  return stack.getLogicalId(resources[0] as CfnElement);
}

function environmentVersion(stack: Stack, props: Partial<ConstructorParameters<typeof EnvironmentTemplateVersion>[2]> = {}) {
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'vpc' });
  const version = new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: ENV_BUNDLE, ...props });
  return { template, version };
}

describe('EnvironmentTemplateVersion', () => {
  test('defines a Custom::ProtonEnvironmentTemplateVersion whose properties are all strings', () => {
    const stack = newStack();
    const { template } = environmentVersion(stack, { description: 'first version' });
    const resources = Template.fromStack(stack).findResources('Custom::ProtonEnvironmentTemplateVersion');
    const [resource] = Object.values(resources);
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^CdkProtonProviderframeworkonEvent/), 'Arn'] },
      TemplateName: 'vpc',
      MajorVersion: '1',
      Description: 'first version',
      // Published: the handler's default when Publish is absent. The bucket is the stack's bundle bucket, set once in the
      // handler's environment, and the key the usual one of the bundle's asset, which the handler derives from BundleHash.
      // Content-addressed: the handler adopts a version registered from the same bundle, and others find it by this hash.
      BundleHash: ENV_BUNDLE.contentHash,
    });
    expect(ENV_BUNDLE.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(usualBundleObjectKey(ENV_BUNDLE.contentHash)).toBe(ENV_BUNDLE.bind(stack, { kind: TemplateBundleKind.ENVIRONMENT }).objectKey);
    const handlers = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Description: 'lambda/proton.lambda.ts' } });
    expect(Object.values(handlers).map(f => f.Properties.Environment.Variables.PROTON_BUNDLE_BUCKET))
      .toEqual(['cdk-hnb659fds-assets-123456789012-us-east-1', 'cdk-hnb659fds-assets-123456789012-us-east-1']);
    expect(resource.DependsOn).toContain(logicalId(stack, template));
    // Deleted with the stack: CloudFormation's default when DeletionPolicy and UpdateReplacePolicy are absent.
    expect(resource.DeletionPolicy).toBeUndefined();
    expect(resource.UpdateReplacePolicy).toBeUndefined();
  });

  test('publish false, another major, no description', () => {
    const stack = newStack();
    // An adopted template may already have major 1 in Proton: its versions may start at any major.
    const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'vpc', adoptExisting: true });
    new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: ENV_BUNDLE, publish: false, majorVersion: '2' });
    Template.fromStack(stack).hasResourceProperties('Custom::ProtonEnvironmentTemplateVersion', {
      Publish: 'false', MajorVersion: '2', Description: Match.absent(),
    });
  });

  test('RemovalPolicy.RETAIN keeps the version in Proton', () => {
    const stack = newStack();
    environmentVersion(stack, { removalPolicy: RemovalPolicy.RETAIN });
    Template.fromStack(stack).hasResource('Custom::ProtonEnvironmentTemplateVersion', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('exposes the major version, and the minor version and ARN Proton assigns', () => {
    const stack = newStack();
    const { version, template } = environmentVersion(stack);
    const id = logicalId(stack, version);
    expect(version.majorVersion).toBe('1');
    expect(stack.resolve(version.minorVersion)).toEqual({ 'Fn::GetAtt': [id, 'MinorVersion'] });
    expect(stack.resolve(version.templateVersionArn)).toEqual({ 'Fn::GetAtt': [id, 'TemplateVersionArn'] });
    expect(version.template).toBe(template);
    expect(version.bundle).toBe(ENV_BUNDLE);
  });

  test('the handler role may manage only this template and its versions, and read only this bundle', () => {
    const stack = newStack();
    environmentVersion(stack);
    const templateArn = (suffix: string) =>
      ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:123456789012:environment-template/vpc${suffix}`]] });
    const synthesized = Template.fromStack(stack);
    const [version] = Object.values(synthesized.findResources('Custom::ProtonEnvironmentTemplateVersion'));
    synthesized.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }],
      PolicyDocument: {
        Statement: [
          {
            // One statement for the template family: the template's and its versions' calls together.
            Effect: 'Allow',
            Action: [
              'proton:CreateEnvironmentTemplate',
              'proton:CreateEnvironmentTemplateVersion',
              'proton:DeleteEnvironmentTemplate',
              'proton:DeleteEnvironmentTemplateVersion',
              'proton:GetEnvironmentTemplate',
              'proton:GetEnvironmentTemplateVersion',
              'proton:ListEnvironmentTemplateVersions',
              'proton:ListTagsForResource',
              'proton:TagResource',
              'proton:UntagResource',
              'proton:UpdateEnvironmentTemplate',
              'proton:UpdateEnvironmentTemplateVersion',
            ],
            Resource: [templateArn(''), templateArn(':*')],
          },
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::cdk-hnb659fds-assets-123456789012-us-east-1/${usualBundleObjectKey(version.Properties.BundleHash)}`]],
            },
          },
        ],
      },
    });
  });

  test('no statement of the handler role allows proton:* or every resource', () => {
    const stack = newStack();
    environmentVersion(stack);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }] },
    });
    const statements = Object.values(policies).flatMap(p => p.Properties.PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect([statement.Action].flat()).not.toContain('proton:*');
      expect([statement.Resource].flat()).not.toContain('*');
    }
  });

  test('the bundle layout is checked for the template\'s provisioning', () => {
    const customerManaged = EnvironmentTemplate.fromEnvironmentTemplateAttributes(newStack(), 'T', {
      environmentTemplateName: 'managed-elsewhere', provisioning: Provisioning.CUSTOMER_MANAGED,
    });
    expect(() => new EnvironmentTemplateVersion(customerManaged.stack, 'V', { template: customerManaged, bundle: schemaOnlyBundle() })).not.toThrow();

    const stack = newStack();
    const protonManaged = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'T', 'managed-by-proton');
    expect(() => new EnvironmentTemplateVersion(stack, 'V', { template: protonManaged, bundle: schemaOnlyBundle() })).toThrow(/infrastructure/);
  });

  describe('validation', () => {
    test.each(['0', '01', 'v1', '1.0', '', '1'.repeat(21)])('majorVersion %j', (majorVersion) => {
      expect(() => environmentVersion(newStack(), { majorVersion }))
        .toThrow(`Platform/Version: majorVersion "${majorVersion}" is not a major version number; use a whole number from 1`);
    });

    test('a description longer than 500 characters', () => {
      expect(() => environmentVersion(newStack(), { description: 'x'.repeat(501) }))
        .toThrow(/Platform\/Version: description is 501 characters long; Proton accepts at most 500/);
    });
  });

  test('fromEnvironmentTemplateVersionAttributes builds the version ARN from the template ARN', () => {
    const stack = newStack();
    const template = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'T', 'shared');
    const version = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'V', {
      template, majorVersion: '2', minorVersion: '3', bundle: ENV_BUNDLE,
    });
    expect(stack.resolve(version.templateVersionArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:123456789012:environment-template/shared:2.3']],
    });
    expect(version.bundle).toBe(ENV_BUNDLE);
    expect(() => EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'Bad', { template, majorVersion: 'x', minorVersion: '0' }))
      .toThrow(/majorVersion "x" is not a major version number/);
  });
});

describe('ServiceTemplateVersion', () => {
  function serviceVersion(stack: Stack, props: Partial<ConstructorParameters<typeof ServiceTemplateVersion>[2]> = {}) {
    const environmentTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'vpc' });
    // The compatible major must exist: the app registers it.
    new EnvironmentTemplateVersion(stack, 'EnvVersion', { template: environmentTemplate, bundle: ENV_BUNDLE });
    const template = new ServiceTemplate(stack, 'Template', { serviceTemplateName: 'web' });
    const version = new ServiceTemplateVersion(stack, 'Version', {
      template,
      bundle: SVC_BUNDLE,
      compatibleEnvironmentTemplates: [{ template: environmentTemplate, majorVersion: '1' }],
      ...props,
    });
    return { environmentTemplate, template, version };
  }

  test('defines a Custom::ProtonServiceTemplateVersion with JSON list properties', () => {
    const stack = newStack();
    const { environmentTemplate, template, version } = serviceVersion(stack, {
      supportedComponentSources: [ComponentSource.DIRECTLY_DEFINED, ComponentSource.DIRECTLY_DEFINED],
    });
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::ProtonServiceTemplateVersion'));
    expect(resource.Properties).toMatchObject({
      TemplateName: 'web',
      MajorVersion: '1',
      CompatibleEnvironmentTemplates: '[{"templateName":"vpc","majorVersion":"1"}]',
      SupportedComponentSources: '["DIRECTLY_DEFINED"]',
      BundleHash: SVC_BUNDLE.contentHash,
    });
    expect(resource.Properties.Publish).toBeUndefined(); // published: the handler's default
    expect(resource.Properties.SourceS3Key).toBeUndefined(); // the usual key, derived from BundleHash
    expect(resource.DependsOn).toEqual(expect.arrayContaining([logicalId(stack, template), logicalId(stack, environmentTemplate)]));
    expect(version.compatibleEnvironmentTemplates).toEqual([{ template: environmentTemplate, majorVersion: '1' }]);
  });

  test('no component sources: the property is absent', () => {
    const stack = newStack();
    serviceVersion(stack);
    Template.fromStack(stack).hasResourceProperties('Custom::ProtonServiceTemplateVersion', { SupportedComponentSources: Match.absent() });
  });

  test('the handler role may manage only this service template and its versions', () => {
    const stack = newStack();
    serviceVersion(stack);
    const templateArn = (suffix: string) =>
      ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:123456789012:service-template/web${suffix}`]] });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: [
            'proton:CreateServiceTemplate',
            'proton:CreateServiceTemplateVersion',
            'proton:DeleteServiceTemplate',
            'proton:DeleteServiceTemplateVersion',
            'proton:GetServiceTemplate',
            'proton:GetServiceTemplateVersion',
            'proton:ListServiceTemplateVersions',
            'proton:ListTagsForResource',
            'proton:TagResource',
            'proton:UntagResource',
            'proton:UpdateServiceTemplate',
            'proton:UpdateServiceTemplateVersion',
          ],
          Resource: [templateArn(''), templateArn(':*')],
        }]),
      },
    });
  });

  test('the same bundle twice in one major of a service template is a synth error; in another major it is another version', () => {
    const stack = newStack();
    const { template, environmentTemplate } = serviceVersion(stack);
    const compatibleEnvironmentTemplates = [{ template: environmentTemplate, majorVersion: '1' }];
    expect(() => new ServiceTemplateVersion(stack, 'Again', { template, bundle: SVC_BUNDLE, compatibleEnvironmentTemplates }))
      .toThrow(/Platform\/Again: bundle "web major 1 bundle [0-9a-f]{12}" is already used by Platform\/Version/);
    expect(() => new ServiceTemplateVersion(stack, 'Major2', { template, bundle: SVC_BUNDLE, compatibleEnvironmentTemplates, majorVersion: '2' }))
      .not.toThrow();
  });

  test('a CUSTOMER_MANAGED pipeline takes a bundle without pipeline_infrastructure/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-pipeline-'));
    for (const file of ['schema/schema.yaml', 'instance_infrastructure/cloudformation.yaml', 'instance_infrastructure/manifest.yaml']) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
    }
    writeFileSync(join(dir, 'schema', 'schema.yaml'), SCHEMA.replace('environment_input_type: "EnvInput"', 'service_input_type: "EnvInput"'));
    writeFileSync(join(dir, 'instance_infrastructure', 'cloudformation.yaml'), 'Resources: {}\n');
    writeFileSync(join(dir, 'instance_infrastructure', 'manifest.yaml'),
      'infrastructure:\n  templates:\n    - file: "cloudformation.yaml"\n      rendering_engine: jinja\n      template_language: cloudformation\n');
    const bundle = TemplateBundle.fromDirectory(dir);

    const stack = newStack();
    const environmentTemplate = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'Env', 'vpc');
    const customerManaged = ServiceTemplate.fromServiceTemplateAttributes(stack, 'Managed', {
      serviceTemplateName: 'web', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
    });
    const compatibleEnvironmentTemplates = [{ template: environmentTemplate, majorVersion: '1' }];
    expect(() => new ServiceTemplateVersion(stack, 'V1', { template: customerManaged, bundle, compatibleEnvironmentTemplates })).not.toThrow();
    const withPipeline = ServiceTemplate.fromServiceTemplateName(stack, 'WithPipeline', 'web2');
    expect(() => new ServiceTemplateVersion(stack, 'V2', { template: withPipeline, bundle, compatibleEnvironmentTemplates }))
      .toThrow(/with a Proton pipeline.*set pipelineProvisioning CUSTOMER_MANAGED/);
  });

  describe('validation', () => {
    test('no compatible environment template', () => {
      expect(() => serviceVersion(newStack(), { compatibleEnvironmentTemplates: [] }))
        .toThrow('Platform/Version: compatibleEnvironmentTemplates has 0 entries; Proton accepts 1 to 10');
    });

    test('more than 10 compatible environment templates', () => {
      const stack = newStack();
      const templates = Array.from({ length: 11 }, (_, i) => ({
        template: EnvironmentTemplate.fromEnvironmentTemplateName(stack, `E${i}`, `env${i}`), majorVersion: '1',
      }));
      expect(() => serviceVersion(stack, { compatibleEnvironmentTemplates: templates }))
        .toThrow('Platform/Version: compatibleEnvironmentTemplates has 11 entries; Proton accepts 1 to 10');
    });

    test('a compatible major version that is not a number', () => {
      const stack = newStack();
      const template = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'E', 'vpc');
      expect(() => serviceVersion(stack, { compatibleEnvironmentTemplates: [{ template, majorVersion: 'latest' }] }))
        .toThrow(/compatibleEnvironmentTemplates\[0\]\.majorVersion "latest" is not a major version number/);
    });

    test('the same environment template major listed twice', () => {
      const stack = newStack();
      const template = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'E', 'vpc');
      expect(() => serviceVersion(stack, { compatibleEnvironmentTemplates: [{ template, majorVersion: '1' }, { template, majorVersion: '1' }] }))
        .toThrow(/compatibleEnvironmentTemplates\[1\] repeats vpc major version 1; list each environment template major version once/);
    });

    test('majorVersion', () => {
      expect(() => serviceVersion(newStack(), { majorVersion: '1.1' })).toThrow(/majorVersion "1.1" is not a major version number/);
    });
  });

  test('fromServiceTemplateVersionAttributes keeps the compatible environment templates', () => {
    const stack = newStack();
    const environmentTemplate = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'E', 'vpc');
    const version = ServiceTemplateVersion.fromServiceTemplateVersionAttributes(stack, 'V', {
      template: ServiceTemplate.fromServiceTemplateName(stack, 'T', 'web'),
      majorVersion: '1',
      minorVersion: '4',
      compatibleEnvironmentTemplates: [{ template: environmentTemplate, majorVersion: '2' }],
    });
    expect(version.compatibleEnvironmentTemplates[0].majorVersion).toBe('2');
    expect(stack.resolve(version.templateVersionArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:123456789012:service-template/web:1.4']],
    });
  });
});

test('a retained version of a template deleted with the stack gets a warning', () => {
  const stack = newStack();
  const template = new EnvironmentTemplate(stack, 'Template');
  new EnvironmentTemplateVersion(stack, 'Kept', { template, bundle: ENV_BUNDLE, removalPolicy: RemovalPolicy.RETAIN });
  new EnvironmentTemplateVersion(stack, 'Deleted', { template, bundle: ENV_BUNDLE, majorVersion: '2' });
  const retainedTemplate = new EnvironmentTemplate(stack, 'RetainedTemplate', { removalPolicy: RemovalPolicy.RETAIN });
  new EnvironmentTemplateVersion(stack, 'KeptWithTemplate', { template: retainedTemplate, bundle: ENV_BUNDLE, removalPolicy: RemovalPolicy.RETAIN });
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('retain the template too'));
  expect(warnings.map(w => w.id)).toEqual(['/Platform/Kept']);
  expect(warnings[0].entry.data).toMatch(/removalPolicy retain keeps this version in Proton, but its template Platform\/Template is deleted with the stack/);
});

test('the same bundle folder gives the same asset in every app', () => {
  const keyOf = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('Custom::ProtonEnvironmentTemplateVersion'))[0].Properties.SourceS3Key;
  const first = newStack('First');
  environmentVersion(first);
  const second = newStack('Second');
  new EnvironmentTemplateVersion(second, 'Other', {
    template: EnvironmentTemplate.fromEnvironmentTemplateName(second, 'T', 'vpc'),
    bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates', 'vpc-env', 'v1')),
  });
  expect(keyOf(second)).toBe(keyOf(first));
});

test('a service template version deploys after the app\'s versions of its compatible environment template majors', () => {
  const app = new App();
  const stack = new Stack(app, 'Platform');
  const envTemplate = new EnvironmentTemplate(stack, 'EnvT', { environmentTemplateName: 'env-t' });
  const envVersion = new EnvironmentTemplateVersion(stack, 'EnvV1', {
    template: envTemplate, bundle: TemplateBundle.fromDirectory(join(__dirname, 'fixtures/proton-samples/environment-templates/fargate-env/v1')),
  });
  const svcTemplate = new ServiceTemplate(stack, 'SvcT', { serviceTemplateName: 'svc-t' });
  new ServiceTemplateVersion(stack, 'SvcV1', {
    template: svcTemplate,
    bundle: TemplateBundle.fromDirectory(join(__dirname, 'fixtures/proton-samples/service-templates/backend-fargate-svc/v1')),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });
  const template = Template.fromStack(stack);
  const [svcVersionId] = Object.keys(template.findResources('Custom::ProtonServiceTemplateVersion'));
  const envVersionId = stack.getLogicalId(envVersion.node.defaultChild as CfnElement);
  expect(template.toJSON().Resources[svcVersionId].DependsOn).toContain(envVersionId);
});

test('a bundle key other than the usual one (a synthesizer with a bucket prefix) is sent', () => {
  const stack = new Stack(new App(), 'Prefixed', {
    env: { account: '123456789012', region: 'us-east-1' }, synthesizer: new DefaultStackSynthesizer({ bucketPrefix: 'bundles/' }),
  });
  const template = new EnvironmentTemplate(stack, 'Template', { environmentTemplateName: 'vpc' });
  new EnvironmentTemplateVersion(stack, 'Version', { template, bundle: ENV_BUNDLE });
  Template.fromStack(stack).hasResourceProperties('Custom::ProtonEnvironmentTemplateVersion', {
    SourceS3Key: `bundles/${usualBundleObjectKey(ENV_BUNDLE.contentHash)}`,
    SourceS3Bucket: Match.absent(),
  });
});

describe('tags on template versions', () => {
  const tagsOf = (stack: Stack, type: string) => Object.values(Template.fromStack(stack).findResources(type))
    .map(r => r.Properties.Tags === undefined ? undefined : JSON.parse(r.Properties.Tags));

  test('the tags prop and Tags.of() reach an environment template version, in Proton\'s field names', () => {
    const stack = newStack();
    const { version } = environmentVersion(stack, { tags: { team: 'platform' } });
    Tags.of(version).add('cost-center', '42');
    expect(tagsOf(stack, 'Custom::ProtonEnvironmentTemplateVersion'))
      .toEqual([[{ key: 'cost-center', value: '42' }, { key: 'team', value: 'platform' }]]);
  });

  test('a stack\'s tags reach a service template version; none: no Tags property', () => {
    const tagged = newStack('Tagged');
    const env = new EnvironmentTemplate(tagged, 'EnvTemplate', { environmentTemplateName: 'vpc' });
    new EnvironmentTemplateVersion(tagged, 'EnvVersion', { template: env, bundle: ENV_BUNDLE });
    new ServiceTemplateVersion(tagged, 'Version', {
      template: new ServiceTemplate(tagged, 'Template', { serviceTemplateName: 'web' }),
      bundle: SVC_BUNDLE,
      compatibleEnvironmentTemplates: [{ template: env, majorVersion: '1' }],
    });
    Tags.of(tagged).add('owner', 'team-a');
    expect(tagsOf(tagged, 'Custom::ProtonServiceTemplateVersion')).toEqual([[{ key: 'owner', value: 'team-a' }]]);

    const untagged = newStack('Untagged');
    environmentVersion(untagged);
    expect(tagsOf(untagged, 'Custom::ProtonEnvironmentTemplateVersion')).toEqual([undefined]);
  });

  test('tags break Proton\'s rules: an error naming the version, the tag and the rule', () => {
    expect(() => environmentVersion(newStack(), { tags: { 'cdk-proton:bundle-sha256': 'x' } }))
      .toThrow('Platform/Version: tags: key "cdk-proton:bundle-sha256" uses the prefix cdk-proton:, which this library reserves for its own tags');
    expect(() => environmentVersion(newStack(), { tags: { 'AWS:team': 'x' } }))
      .toThrow('Platform/Version: tags: key "AWS:team" uses the prefix aws:, which AWS reserves (in any case)');
    const many = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`tag-${i}`, 'v']));
    expect(() => environmentVersion(newStack(), { tags: many }))
      .toThrow('Platform/Version: tags: 48 tags; Proton allows 50 per resource, of which cdk-proton uses 3');
    // Added with Tags.of(): checked at synth.
    const stack = newStack();
    const { version } = environmentVersion(stack);
    Tags.of(version).add('team', 'x'.repeat(257));
    expect(() => Template.fromStack(stack))
      .toThrow('Platform/Version: tags: the value of "team" is 257 characters long; Proton accepts at most 256');
  });
});
