import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, RemovalPolicy, Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  Component, ComponentBundle, ComponentProps, ComponentSource, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Service,
  ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const S3_COMPONENT = join(SAMPLES, 'component-templates/s3-bucket-component');
const MANIFEST = 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n';
const TEMPLATE = 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\nOutputs:\n  BucketName:\n    Value: !Ref Bucket\n';

/** fargate-env:1 with two environments (one with a component role), and backend-fargate-svc:1 running in both. */
function setup(options: { componentSources?: ComponentSource[]; componentRole?: boolean } = {}) {
  const stack = new Stack(new App(), 'Apps', { env: { account: '111122223333', region: 'us-east-1' } });
  const protonServiceRole = iam.Role.fromRoleName(stack, 'ProtonRole', 'proton-service');
  const componentRole = iam.Role.fromRoleName(stack, 'ComponentRole', 'proton-components');
  const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(stack, 'EnvV1', {
    template: envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
  });
  const env = new Environment(stack, 'Prod', {
    environmentName: 'prod', templateVersion: envVersion, protonServiceRole, componentRole: options.componentRole === false ? undefined : componentRole,
  });
  const staging = new Environment(stack, 'Staging', { environmentName: 'staging', templateVersion: envVersion, protonServiceRole, componentRole });
  const template = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'backend' });
  const version = new ServiceTemplateVersion(stack, 'SvcV1', {
    template,
    bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'service-templates/backend-fargate-svc/v1')),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
    supportedComponentSources: options.componentSources ?? [ComponentSource.DIRECTLY_DEFINED],
  });
  const service = new Service(stack, 'Api', {
    serviceName: 'api',
    templateVersion: version,
    instances: [{ instanceName: 'prod', environment: env }, { instanceName: 'staging', environment: staging }],
    pipelineSpec: {},
    repository: { connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/abc', repositoryId: 'acme/api', branchName: 'main' },
  });
  return { stack, env, staging, service };
}

const bundle = () => ComponentBundle.fromContents(MANIFEST, TEMPLATE);

function component(props: Partial<ComponentProps> = {}, options: Parameters<typeof setup>[0] = {}) {
  const s = setup(options);
  const c = new Component(s.stack, 'Bucket', { bundle: bundle(), environment: s.env, ...props });
  return { ...s, component: c };
}

const properties = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('Custom::ProtonComponent'))[0];

describe('ComponentBundle', () => {
  test('fromDirectory reads the AWS sample: manifest.yaml and the template file it names', () => {
    const b = ComponentBundle.fromDirectory(S3_COMPONENT);
    expect(b.manifest).toContain('rendering_engine: jinja');
    expect(b.templateFile).toContain('AWS::S3::Bucket');
    expect(b.directory).toBe(S3_COMPONENT);
  });

  test('fromDirectory names a missing folder, manifest and template file', () => {
    const root = mkdtempSync(join(tmpdir(), 'component-'));
    expect(() => ComponentBundle.fromDirectory(join(root, 'nope'))).toThrow(/^ComponentBundle.fromDirectory: ".*nope" is not a folder$/);
    expect(() => ComponentBundle.fromDirectory(root)).toThrow(/manifest.yaml is missing \(a component folder holds manifest.yaml/);
    writeFileSync(join(root, 'manifest.yaml'), MANIFEST);
    expect(() => ComponentBundle.fromDirectory(root)).toThrow(/cloudformation.yaml is missing \(.*manifest.yaml names it\)$/);
    writeFileSync(join(root, 'manifest.yaml'), 'infrastructure: {templates: [{rendering_engine: jinja}]}');
    expect(() => ComponentBundle.fromDirectory(root)).toThrow(/infrastructure.templates\[0\].file must name the CloudFormation template file next to it, got undefined/);
  });
});

describe('Component', () => {
  test('attached to an environment: name, files, environment, tags; ordered after the environment', () => {
    const { stack, component: c } = component({ componentName: 'bucket', bundle: ComponentBundle.fromDirectory(S3_COMPONENT), description: 'data' });
    Tags.of(c).add('team', 'data');
    const resource = properties(stack);
    expect(resource.Properties).toEqual({
      ServiceToken: expect.anything(),
      ComponentName: 'bucket',
      Manifest: expect.stringContaining('template_language: cloudformation'),
      TemplateFile: expect.stringContaining('S3BucketAccessPolicy'),
      EnvironmentName: { Ref: expect.stringMatching(/^Prod/) },
      Description: 'data',
      Tags: JSON.stringify([{ key: 'team', value: 'data' }]),
    });
    expect(resource.DeletionPolicy).toBe('Delete');
  });

  test('attached to a service instance: service and instance names, the spec; Proton derives the environment', () => {
    const { stack, service } = setup();
    new Component(stack, 'Cache', { bundle: bundle(), service, serviceInstanceName: 'prod', serviceSpec: 'proton: ServiceSpec\n' });
    const { Properties: p } = properties(stack);
    expect(p).toMatchObject({ ServiceName: { Ref: expect.stringMatching(/^Api/) }, ServiceInstanceName: 'prod', ServiceSpec: 'proton: ServiceSpec\n' });
    expect(p.EnvironmentName).toBeUndefined();
    expect(p.ComponentName).toMatch(/^Apps-Cache-/);
  });

  test('getOutput reads an output attribute and records its key; adoptExisting retains by default', () => {
    const { stack, component: c } = component({ adoptExisting: true });
    const value = c.getOutput('BucketName');
    expect(stack.resolve(value)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Bucket/), 'Outputs.BucketName'] });
    const resource = properties(stack);
    expect(resource.Properties).toMatchObject({ OutputKeys: '["Outputs.BucketName"]', AdoptExisting: 'true' });
    expect(resource.DeletionPolicy).toBe('Retain');
    const { stack: other } = component({ removalPolicy: RemovalPolicy.RETAIN });
    expect(properties(other).DeletionPolicy).toBe('Retain');
  });

  test('the handler may manage components of that name and read deployments', () => {
    const { stack } = component({ componentName: 'bucket' });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Action: expect.arrayContaining(['proton:CreateComponent', 'proton:DeleteComponent', 'proton:UpdateComponent']),
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:component/bucket']] },
      }),
      expect.objectContaining({
        Action: 'proton:GetDeployment',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:deployment/*']] },
      }),
    ]));
  });

  describe('rejects', () => {
    test('an invalid componentName', () => {
      expect(() => component({ componentName: 'my bucket' })).toThrow(
        'Apps/Bucket: componentName "my bucket" must start with a letter or digit and contain only letters, digits, "-" and "_"');
    });

    test('a name another component of the account and region uses', () => {
      const { stack, env } = setup();
      new Component(stack, 'One', { componentName: 'bucket', bundle: bundle(), environment: env });
      expect(() => new Component(stack, 'Two', { componentName: 'bucket', bundle: bundle(), environment: env })).toThrow(
        /^Apps\/Two: componentName "bucket" is already used by Apps\/One/);
    });

    test('a description over 500 characters', () => {
      expect(() => component({ description: 'x'.repeat(501) })).toThrow('Apps/Bucket: description is 501 characters long; Proton accepts at most 500');
    });

    test('neither environment nor service', () => {
      expect(() => component({ environment: undefined })).toThrow(
        'Apps/Bucket: neither environment nor service is given; a component is deployed to an environment (environment), or attached to a service instance');
    });

    test('service without serviceInstanceName, and serviceInstanceName without service', () => {
      const { stack, service } = setup();
      expect(() => new Component(stack, 'A', { bundle: bundle(), service })).toThrow(
        'Apps/A: service is given without serviceInstanceName; give both to attach the component to a service instance, or neither');
      expect(() => new Component(stack, 'B', { bundle: bundle(), serviceInstanceName: 'prod' } as ComponentProps)).toThrow(
        'Apps/B: serviceInstanceName "prod" is given without service; give both');
    });

    test('a serviceInstanceName that is not an instance of the service', () => {
      const { stack, service } = setup();
      expect(() => new Component(stack, 'C', { bundle: bundle(), service, serviceInstanceName: 'dev' })).toThrow(
        'Apps/C: serviceInstanceName "dev" is not an instance of Apps/Api');
    });

    test('an invalid serviceInstanceName', () => {
      const { stack, service } = setup();
      expect(() => new Component(stack, 'C', { bundle: bundle(), service, serviceInstanceName: '-prod' })).toThrow(
        'Apps/C: serviceInstanceName "-prod" must start with a letter or digit');
    });

    test('an environment other than the service instance\'s', () => {
      const { stack, service, staging } = setup();
      expect(() => new Component(stack, 'C', { bundle: bundle(), service, serviceInstanceName: 'prod', environment: staging })).toThrow(
        'Apps/C: environment is Apps/Staging, but service instance "prod" of Apps/Api is in Apps/Prod: an attached component is deployed to its '
        + 'instance\'s environment (omit environment)');
    });

    test('serviceSpec on a component attached to no service instance', () => {
      expect(() => component({ serviceSpec: 'proton: ServiceSpec' })).toThrow(
        'Apps/Bucket: serviceSpec is only for a component attached to a service instance: give service and serviceInstanceName too');
    });

    test('a serviceSpec over 51,200 characters', () => {
      const { stack, service } = setup();
      expect(() => new Component(stack, 'C', { bundle: bundle(), service, serviceInstanceName: 'prod', serviceSpec: 'x'.repeat(51_201) })).toThrow(
        'Apps/C: serviceSpec is 51201 characters long; Proton accepts 1 to 51200');
    });

    test('an environment without componentRole', () => {
      expect(() => component({}, { componentRole: false })).toThrow(
        'Apps/Bucket: environment Apps/Prod has no componentRole: Proton deploys directly defined components with the environment\'s component role. '
        + 'Set componentRole on the environment');
    });

    test('a service instance whose environment has no componentRole', () => {
      const { stack, service } = setup({ componentRole: false });
      expect(() => new Component(stack, 'C', { bundle: bundle(), service, serviceInstanceName: 'prod' })).toThrow(
        'Apps/C: environment Apps/Prod has no componentRole');
    });

    test('a service template version without supportedComponentSources DIRECTLY_DEFINED', () => {
      const { stack, service } = setup({ componentSources: [] });
      expect(() => new Component(stack, 'C', { bundle: bundle(), service, serviceInstanceName: 'prod' })).toThrow(
        'Apps/C: service Apps/Api runs template version Apps/SvcV1, whose supportedComponentSources (none) doesn\'t include DIRECTLY_DEFINED: '
        + 'Proton attaches no component to its instances. Set supportedComponentSources: [ComponentSource.DIRECTLY_DEFINED] on the version');
    });

    test('a manifest over 1024 characters', () => {
      const manifest = `${MANIFEST}# ${'x'.repeat(1024)}\n`;
      expect(() => component({ bundle: ComponentBundle.fromContents(manifest, TEMPLATE) })).toThrow(
        `Apps/Bucket: bundle: manifest is ${manifest.length} characters long; Proton accepts 1 to 1024`);
    });

    test('a template file over 51,200 characters', () => {
      const template = `${TEMPLATE}# ${'x'.repeat(51_200)}\n`;
      expect(() => component({ bundle: ComponentBundle.fromContents(MANIFEST, template) })).toThrow(
        `Apps/Bucket: bundle: templateFile is ${template.length} characters long; Proton accepts 1 to 51200`);
    });

    test('a manifest that is not valid YAML', () => {
      expect(() => component({ bundle: ComponentBundle.fromContents('infrastructure: [templates', TEMPLATE) })).toThrow(
        /^Apps\/Bucket: bundle: manifest.yaml: not valid YAML \(every file but Terraform's must be\): /);
    });

    test('a template file that is not valid YAML', () => {
      expect(() => component({ bundle: ComponentBundle.fromContents(MANIFEST, 'Resources: {Bucket: [}\n') })).toThrow(
        /^Apps\/Bucket: bundle: templateFile: not valid YAML \(every file but Terraform's must be\): /);
    });

    test('a manifest listing two templates', () => {
      const two = `${MANIFEST}    - file: other.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n`;
      expect(() => component({ bundle: ComponentBundle.fromContents(two, TEMPLATE) })).toThrow(
        'Apps/Bucket: bundle: manifest.yaml: infrastructure.templates lists 2 templates; a component manifest lists exactly one CloudFormation template');
    });

    test('a rendering engine other than jinja', () => {
      const hcl = MANIFEST.replace('rendering_engine: jinja', 'rendering_engine: hcl');
      expect(() => component({ bundle: ComponentBundle.fromContents(hcl, TEMPLATE) })).toThrow(
        'Apps/Bucket: bundle: manifest.yaml: infrastructure.templates[0].rendering_engine "hcl" is not allowed; directly defined components are '
        + 'CloudFormation templates rendered with jinja');
    });

    test('a template language other than cloudformation', () => {
      const terraform = MANIFEST.replace('template_language: cloudformation', 'template_language: terraform');
      expect(() => component({ bundle: ComponentBundle.fromContents(terraform, TEMPLATE) })).toThrow(
        'Apps/Bucket: bundle: manifest.yaml: infrastructure.templates[0].template_language "terraform" is not allowed; it must be cloudformation');
    });

    test('an output key that is not a literal of 1 to 1024 characters', () => {
      const { component: c } = component();
      expect(() => c.getOutput('')).toThrow('Apps/Bucket: output key "" must be a literal string of 1 to 1024 characters');
    });
  });
});
