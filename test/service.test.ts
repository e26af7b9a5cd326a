import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, CfnElement, Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { parse } from 'yaml';
import {
  AccountSettings, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service, ServiceProps, ServiceTemplate,
  ServiceTemplateVersion, TemplateBundle,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const LB_FARGATE = join(SAMPLES, 'service-templates/load-balanced-fargate-svc');
/** Environments of these templates are provisioned by Proton, with this role. */
const SERVICE_ROLE_ARN = 'arn:aws:iam::111122223333:role/proton-service';
const serviceRole = (stack: Stack): iam.IRole =>
  (stack.node.tryFindChild('ProtonServiceRole') as iam.IRole | undefined) ?? iam.Role.fromRoleArn(stack, 'ProtonServiceRole', SERVICE_ROLE_ARN);
const REPOSITORY = { connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/abc', repositoryId: 'acme/web', branchName: 'main' };

function sample(file: string): any {
  return parse(readFileSync(join(SAMPLES, file), 'utf8'));
}

/** A service bundle in a temporary folder with the given schema types; a pipeline when pipeline types are given. */
function writeServiceBundle(instanceType: object, pipeline?: object): string {
  const root = mkdtempSync(join(tmpdir(), 'svc-bundle-'));
  const manifest = 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n';
  const files: { [path: string]: string } = {
    'schema/schema.yaml': JSON.stringify({
      schema: {
        format: { openapi: '3.0.0' },
        service_input_type: 'Instance',
        ...(pipeline ? { pipeline_input_type: 'Pipeline' } : {}),
        types: { Instance: { type: 'object', ...instanceType }, ...(pipeline ? { Pipeline: { type: 'object', ...pipeline } } : {}) },
      },
    }),
    'instance_infrastructure/manifest.yaml': manifest,
    'instance_infrastructure/cloudformation.yaml': 'Resources: {}\n',
    ...(pipeline ? { 'pipeline_infrastructure/manifest.yaml': manifest, 'pipeline_infrastructure/cloudformation.yaml': 'Resources: {}\n' } : {}),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** fargate-env:1 with an environment, and load-balanced-fargate-svc:1 compatible with it. */
function setup(options: { serviceBundle?: string; pipelineProvisioning?: Provisioning } = {}) {
  const stack = new Stack(new App(), 'Apps', { env: { account: '111122223333', region: 'us-east-1' } });
  const envTemplate = new EnvironmentTemplate(stack, 'FargateEnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(stack, 'FargateEnvV1', {
    template: envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
  });
  const env = new Environment(stack, 'Prod', { environmentName: 'fargate-env-prod', templateVersion: envVersion, protonServiceRole: serviceRole(stack) });
  const template = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'lb-fargate', pipelineProvisioning: options.pipelineProvisioning });
  const version = new ServiceTemplateVersion(stack, 'SvcV1', {
    template,
    bundle: TemplateBundle.fromDirectory(options.serviceBundle ?? join(LB_FARGATE, 'v1')),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });
  return { stack, env, envTemplate, envVersion, version };
}

function service(props: Partial<ServiceProps> = {}, options: Parameters<typeof setup>[0] = {}) {
  const context = setup(options);
  const svc = new Service(context.stack, 'Web', {
    templateVersion: context.version,
    instances: [{ instanceName: 'web-prod', environment: context.env }],
    pipelineSpec: {},
    repository: REPOSITORY,
    ...props,
  });
  return { ...context, svc };
}

/** The logical id of the CloudFormation resource a construct defines. */
const logicalIdOf = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.findAll().find(CfnElement.isCfnElement) as CfnElement);

const resourceProperties = (stack: Stack) => {
  const resources = Template.fromStack(stack).findResources('Custom::ProtonService');
  return Object.values(resources)[0].Properties;
};

describe('Service', () => {
  test('sends the instances and the pipeline of the sample spec, with defaults applied', () => {
    const spec = sample('service-templates/load-balanced-fargate-svc/spec/spec.yaml');
    const { stack } = setup();
    const version = stack.node.findChild('SvcV1') as ServiceTemplateVersion;
    const env = stack.node.findChild('Prod') as Environment;
    new Service(stack, 'Web', {
      serviceName: 'lb-fargate-svc',
      templateVersion: version,
      instances: spec.instances.map((i: any) => ({ instanceName: i.name, environment: env, spec: { port: 8080 } })),
      pipelineSpec: spec.pipeline,
      repository: REPOSITORY,
      description: 'web front end',
    });
    const properties = resourceProperties(stack);
    expect(properties).toMatchObject({
      ServiceName: 'lb-fargate-svc',
      TemplateName: 'lb-fargate',
      TemplateMajorVersion: '1',
      TemplateBundleHash: version.bundle!.contentHash,
      RepositoryConnectionArn: REPOSITORY.connectionArn,
      RepositoryId: 'acme/web',
      BranchName: 'main',
      Description: 'web front end',
    });
    // The minor is resolved at deploy time: no attribute of the version resource is read.
    expect(properties.TemplateMinorVersion).toBeUndefined();
    expect(JSON.stringify(properties)).not.toContain(logicalIdOf(stack, version));
    expect(Object.values(Template.fromStack(stack).findResources('Custom::ProtonService'))[0].DependsOn).toContain(logicalIdOf(stack, version));
    expect(JSON.parse(properties.PipelineSpec)).toEqual(spec.pipeline);
    // The environment's name is its reference, so CloudFormation deploys the environment first.
    const instances = properties.Instances;
    expect(instances['Fn::Join'][1]).toContainEqual({ Ref: expect.stringMatching(/^Prod/) });
    const rendered = JSON.parse(stack.resolve(instances)['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'ENV')).join(''));
    expect(rendered).toEqual([{
      name: 'load-balanced-fargate-svc-prod',
      environment: 'ENV',
      spec: {
        port: 8080,
        desired_count: 1,
        task_size: 'x-small',
        subnet_type: 'public',
        loadbalancer_type: 'application',
        image: 'public.ecr.aws/nginx/nginx:1.21',
        backendurl: 'backend-svc-inst.backend-svc.fargate-env.local:80',
      },
    }]);
  });

  test('the lambda-multi-svc sample spec has a pipeline input its schema does not declare', () => {
    const spec = sample('lambda-multi-svc/specs/svc-spec.yaml');
    const stack = new Stack(new App(), 'Multi');
    const envTemplate = new EnvironmentTemplate(stack, 'LambdaEnv', { environmentTemplateName: 'lambda-env' });
    const envVersion = new EnvironmentTemplateVersion(stack, 'LambdaEnvV1', {
      template: envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'lambda-multi-svc/lambda-env/v1')),
    });
    const env = new Environment(stack, 'Beta', {
      environmentName: 'multi-svc-beta', templateVersion: envVersion, spec: { ttl_attribute: 'ttl' }, protonServiceRole: serviceRole(stack),
    });
    const version = new ServiceTemplateVersion(stack, 'CrudV1', {
      template: new ServiceTemplate(stack, 'Crud'),
      bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'lambda-multi-svc/service-crud/v1')),
      compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
    });
    const props: ServiceProps = {
      templateVersion: version,
      instances: spec.instances.map((i: any) => ({ instanceName: i.name, environment: env, spec: i.spec })),
      pipelineSpec: spec.pipeline,
      repository: REPOSITORY,
    };
    expect(() => new Service(stack, 'Crud1', props))
      .toThrow(/Multi\/Crud1: pipelineSpec does not match the template's input type PipelineInputs:\n.*unknown input "packaging_commands": the schema's inputs are unit_test_command, packaging_command/);
    const fixed = { ...spec.pipeline, packaging_command: spec.pipeline.packaging_commands };
    delete fixed.packaging_commands;
    new Service(stack, 'Crud2', { ...props, pipelineSpec: fixed });
  });

  test('imports a service by name', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
    const imported = Service.fromServiceName(stack, 'Imported', 'web');
    expect(imported.serviceName).toBe('web');
    expect(stack.resolve(imported.serviceArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:service/web']],
    });
  });

  test('instance and pipeline outputs are attribute tokens the handler is asked for', () => {
    const { stack, svc } = service({ serviceName: 'web' });
    expect(stack.resolve(svc.getInstanceOutput('web-prod', 'ServiceURL'))).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Web/), 'Instances.web-prod.Outputs.ServiceURL'],
    });
    expect(stack.resolve(svc.getPipelineOutput('PipelineEndpoint'))).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Web/), 'Pipeline.Outputs.PipelineEndpoint'],
    });
    expect(JSON.parse(resourceProperties(stack).OutputKeys)).toEqual(['Instances.web-prod.Outputs.ServiceURL', 'Pipeline.Outputs.PipelineEndpoint']);
  });

  test('getInstanceOutput names the instances when given another name; getPipelineOutput needs a pipeline', () => {
    const { svc } = service();
    expect(() => svc.getInstanceOutput('web-beta', 'URL')).toThrow(/Apps\/Web: getInstanceOutput: "web-beta" is not an instance of this service \(instances: web-prod\)/);
    const noPipeline = service({ pipelineSpec: undefined, repository: undefined }, {
      serviceBundle: writeServiceBundle({ properties: {} }), pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
    }).svc;
    expect(() => noPipeline.getPipelineOutput('X')).toThrow(/Apps\/Web: getPipelineOutput: the service has no pipeline/);
  });

  describe('a service with a pipeline deploys after the account\'s AccountSettings', () => {
    const settingsLogicalId = (stack: Stack) => Object.keys(Template.fromStack(stack).findResources('Custom::ProtonAccountSettings'))[0];
    const serviceDependsOn = (stack: Stack) => {
      const resource = Object.values(Template.fromStack(stack).findResources('Custom::ProtonService'))[0];
      return resource.DependsOn ?? [];
    };
    const stackDependencies = (stack: Stack) => (stack.node.root as App).synth().getStackArtifact(stack.artifactId)
      .dependencies.map(d => d.id).filter(id => !id.endsWith('.assets'));
    const pipelineRole = (stack: Stack) => iam.Role.fromRoleArn(stack, 'PipelineRole', 'arn:aws:iam::111122223333:role/pipelines');

    test('when the settings are declared first', () => {
      const context = setup();
      new AccountSettings(context.stack, 'Settings', { pipelineServiceRole: pipelineRole(context.stack) });
      new Service(context.stack, 'Web', { templateVersion: context.version, instances: [{ instanceName: 'a', environment: context.env }], pipelineSpec: {}, repository: REPOSITORY });
      expect(serviceDependsOn(context.stack)).toContain(settingsLogicalId(context.stack));
    });

    test('when the service is declared first', () => {
      const { stack } = service();
      new AccountSettings(stack, 'Settings', { pipelineServiceRole: pipelineRole(stack) });
      expect(serviceDependsOn(stack)).toContain(settingsLogicalId(stack));
    });

    test('across stacks of the same account and region, as a stack dependency', () => {
      const { stack } = service();
      const accountStack = new Stack(stack.node.root as App, 'Account', { env: { account: '111122223333', region: 'us-east-1' } });
      new AccountSettings(accountStack, 'Settings', { pipelineServiceRole: pipelineRole(accountStack) });
      expect(stackDependencies(stack)).toEqual(['Account']);
    });

    test('not a service without a pipeline, nor one in another account', () => {
      const { stack } = service({ pipelineSpec: undefined, repository: undefined }, {
        serviceBundle: writeServiceBundle({ properties: {} }), pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
      });
      new AccountSettings(stack, 'Settings', { pipelineServiceRole: pipelineRole(stack) });
      expect(serviceDependsOn(stack)).not.toContain(settingsLogicalId(stack));
      const other = service();
      const otherAccount = new Stack(other.stack.node.root as App, 'OtherAccount', { env: { account: '444455556666', region: 'us-east-1' } });
      new AccountSettings(otherAccount, 'Settings', { pipelineServiceRole: pipelineRole(otherAccount) });
      expect(stackDependencies(other.stack)).toEqual([]);
    });
  });

  test('tags and IAM statements scoped to the service, its instances and its pipeline', () => {
    const { stack, svc } = service({ serviceName: 'web' });
    Tags.of(svc).add('team', 'web');
    expect(JSON.parse(resourceProperties(stack).Tags)).toEqual([{ key: 'team', value: 'web' }]);
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement);
    const serviceStatement = statements.find(s => Array.isArray(s.Action) && s.Action.includes('proton:CreateService'));
    const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:111122223333:service/web${suffix}`]] });
    // The service, and its instances and pipeline below it.
    expect(serviceStatement.Resource).toEqual([arn(''), arn('/*')]);
    expect(serviceStatement.Action).toEqual(expect.arrayContaining(['proton:CreateServiceInstance', 'proton:UpdateServicePipeline']));
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['codestar-connections:PassConnection', 'codeconnections:PassConnection'], Resource: REPOSITORY.connectionArn,
    }));
  });

  test('an imported template version without a bundle is not validated', () => {
    const stack = new Stack(new App(), 'S');
    const env = Environment.fromEnvironmentName(stack, 'Env', 'shared');
    const version = ServiceTemplateVersion.fromServiceTemplateVersionAttributes(stack, 'V', {
      template: ServiceTemplate.fromServiceTemplateName(stack, 'T', 'svc'),
      majorVersion: '2',
      minorVersion: '0',
      compatibleEnvironmentTemplates: [{ template: EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'E', 'env'), majorVersion: '1' }],
    });
    new Service(stack, 'Svc', { templateVersion: version, instances: [{ instanceName: 'a', environment: env, spec: { free: 'form' } }] });
    expect(JSON.parse(resourceProperties(stack).Instances)).toEqual([{ name: 'a', environment: 'shared', spec: { free: 'form' } }]);
    expect(resourceProperties(stack)).toMatchObject({ TemplateMajorVersion: '2', TemplateMinorVersion: '0' });
    expect(resourceProperties(stack).TemplateBundleHash).toBeUndefined();
  });

  test('on a version of another stack: the bundle hash, no export, and a stack dependency', () => {
    const app = new App();
    const envProps = { env: { account: '111122223333', region: 'us-east-1' } };
    const platform = new Stack(app, 'Platform', envProps);
    const envTemplate = new EnvironmentTemplate(platform, 'FargateEnvTemplate', { environmentTemplateName: 'fargate-env' });
    const envVersion = new EnvironmentTemplateVersion(platform, 'FargateEnvV1', {
      template: envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
    });
    const prod = new Environment(platform, 'Prod', { environmentName: 'prod', templateVersion: envVersion, protonServiceRole: serviceRole(platform) });
    const version = new ServiceTemplateVersion(platform, 'SvcV1', {
      template: new ServiceTemplate(platform, 'SvcTemplate', { serviceTemplateName: 'lb-fargate' }),
      bundle: TemplateBundle.fromDirectory(join(LB_FARGATE, 'v1')),
      compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
    });
    const team = new Stack(app, 'Team', envProps);
    new Service(team, 'Web', {
      serviceName: 'web', templateVersion: version, instances: [{ instanceName: 'web-prod', environment: prod }], pipelineSpec: {}, repository: REPOSITORY,
    });
    const properties = resourceProperties(team);
    expect(properties).toMatchObject({ TemplateName: 'lb-fargate', TemplateMajorVersion: '1', TemplateBundleHash: version.bundle!.contentHash });
    expect(properties.TemplateMinorVersion).toBeUndefined();
    app.synth();
    expect(team.dependencies).toContain(platform);
    // The environment's name is the one export the team stack reads (its physical id); nothing of the version.
    const imports = JSON.stringify(Template.fromStack(team).toJSON()).match(/Fn::ImportValue[^}]*/g) ?? [];
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every(i => i.includes('Prod'))).toBe(true);
    expect(JSON.stringify(Template.fromStack(team).toJSON())).not.toMatch(/SvcV1/);
  });

  describe('an imported template version is designated by', () => {
    function importedService(attrs: { minorVersion?: string; bundle?: TemplateBundle }) {
      const stack = new Stack(new App(), 'Team', { env: { account: '111122223333', region: 'us-east-1' } });
      const version = ServiceTemplateVersion.fromServiceTemplateVersionAttributes(stack, 'V', {
        template: ServiceTemplate.fromServiceTemplateName(stack, 'T', 'lb-fargate'),
        majorVersion: '1',
        compatibleEnvironmentTemplates: [{ template: EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'E', 'fargate-env'), majorVersion: '1' }],
        ...attrs,
      });
      new Service(stack, 'Web', {
        templateVersion: version,
        instances: [{ instanceName: 'web-prod', environment: Environment.fromEnvironmentName(stack, 'Env', 'prod') }],
        pipelineSpec: {},
        repository: REPOSITORY,
      });
      return { version, properties: resourceProperties(stack) };
    }
    const bundle = () => TemplateBundle.fromDirectory(join(LB_FARGATE, 'v1'));

    test('its bundle\'s hash when only the bundle is given', () => {
      const { properties, version } = importedService({ bundle: bundle() });
      expect(properties).toMatchObject({ TemplateMajorVersion: '1', TemplateBundleHash: bundle().contentHash });
      expect(properties.TemplateMinorVersion).toBeUndefined();
      // Known at deploy time only: reading it at synth is an error that says so, not a silent undefined.
      expect(() => version.minorVersion).toThrow(/Team\/V: minorVersion is not known at synth time: the version was imported without a minorVersion/);
      expect(() => version.templateVersionArn).toThrow(/Team\/V: templateVersionArn is not known at synth time/);
    });

    test('its pinned minor when given (the bundle then only validates the specs)', () => {
      const { properties } = importedService({ minorVersion: '4', bundle: bundle() });
      expect(properties).toMatchObject({ TemplateMajorVersion: '1', TemplateMinorVersion: '4' });
      expect(properties.TemplateBundleHash).toBeUndefined();
    });

    test('neither: the major\'s recommended minor, resolved at deploy time', () => {
      const { properties } = importedService({});
      expect(properties.TemplateMajorVersion).toBe('1');
      expect(properties.TemplateMinorVersion).toBeUndefined();
      expect(properties.TemplateBundleHash).toBeUndefined();
    });
  });
});

describe('Service validation', () => {
  test('an instance input of the wrong type names the instance', () => {
    const { stack, env, version } = setup();
    expect(() => new Service(stack, 'Web', {
      templateVersion: version,
      pipelineSpec: {},
      repository: REPOSITORY,
      instances: [{ instanceName: 'a', environment: env }, { instanceName: 'b', environment: env, spec: { port: 'eighty' } }],
    })).toThrow(/Apps\/Web: instances\[1\].spec does not match the template's input type LoadBalancedFargateServiceInput:\n.*input "port": "eighty" is not a number/);
  });

  test('enum, bounds and unknown inputs of instances', () => {
    const { stack, env, version } = setup();
    const make = (id: string, spec: object) => new Service(stack, id, {
      templateVersion: version, pipelineSpec: {}, repository: REPOSITORY, instances: [{ instanceName: 'a', environment: env, spec }],
    });
    expect(() => make('A', { task_size: 'huge' })).toThrow(/input "task_size": "huge" is not one of x-small, small, medium, large, x-large/);
    expect(() => make('B', { desired_count: 0 })).toThrow(/input "desired_count": 0 is less than the minimum 1/);
    expect(() => make('C', { image: '' })).toThrow(/input "image": "" is shorter than the minimum length 1/);
    expect(() => make('D', { replicas: 2 })).toThrow(/unknown input "replicas"/);
  });

  test('a missing required input of an instance', () => {
    const bundle = writeServiceBundle({ properties: { code_uri: { type: 'string' } }, required: ['code_uri'] }, { properties: {} });
    expect(() => service({}, { serviceBundle: bundle })).toThrow(/instances\[0\].spec .*\n.*input "code_uri" is required/);
  });

  test('instance names must be valid and unique, and there must be at least one', () => {
    const { env } = setup();
    expect(() => service({ instances: [] })).toThrow(/Apps\/Web: instances is empty; a service needs at least one instance/);
    expect(() => service({ instances: [{ instanceName: 'bad name', environment: env }] })).toThrow(/instances\[0\].instanceName "bad name" must start with a letter or digit/);
    const context = setup();
    expect(() => new Service(context.stack, 'Web', {
      templateVersion: context.version,
      pipelineSpec: {},
      repository: REPOSITORY,
      instances: [{ instanceName: 'a', environment: context.env }, { instanceName: 'a', environment: context.env }],
    })).toThrow(/instances\[1\].instanceName "a" is used by another instance; instance names must be unique in a service/);
  });

  test('each instance\'s environment must run a compatible environment template and major', () => {
    const { stack, version } = setup();
    const vpcTemplate = new EnvironmentTemplate(stack, 'VpcTemplate', { environmentTemplateName: 'vpc-env' });
    const vpcVersion = new EnvironmentTemplateVersion(stack, 'VpcV1', {
      template: vpcTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/vpc-env/v1')),
    });
    const vpcEnv = new Environment(stack, 'Vpc', { templateVersion: vpcVersion, protonServiceRole: serviceRole(stack) });
    expect(() => new Service(stack, 'Web', {
      templateVersion: version, pipelineSpec: {}, repository: REPOSITORY, instances: [{ instanceName: 'a', environment: vpcEnv }],
    })).toThrow(/Apps\/Web: instances\[0\] \("a"\) is in environment Apps\/Vpc, whose template vpc-env:1 is not compatible with the service template version \(compatible: fargate-env:1\)/);

    const fargateTemplate = stack.node.findChild('FargateEnvTemplate') as EnvironmentTemplate;
    const fargateV2 = new EnvironmentTemplateVersion(stack, 'FargateEnvV2', {
      template: fargateTemplate, majorVersion: '2', bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
    });
    const v2Env = new Environment(stack, 'V2', { templateVersion: fargateV2, protonServiceRole: serviceRole(stack) });
    expect(() => new Service(stack, 'Web2', {
      templateVersion: version, pipelineSpec: {}, repository: REPOSITORY, instances: [{ instanceName: 'a', environment: v2Env }],
    })).toThrow(/whose template fargate-env:2 is not compatible with the service template version \(compatible: fargate-env:1\)/);
  });

  test('a template with a pipeline needs pipelineSpec and repository', () => {
    expect(() => service({ pipelineSpec: undefined, repository: undefined }))
      .toThrow(/Apps\/Web: the service template has a pipeline \(pipeline_input_type PipelineInputs\): give pipelineSpec/);
    expect(() => service({ repository: undefined })).toThrow(/Apps\/Web: pipelineSpec needs repository \(connectionArn, repositoryId, branchName\)/);
  });

  test('a template without a pipeline takes neither pipelineSpec nor repository', () => {
    const options = { serviceBundle: writeServiceBundle({ properties: {} }), pipelineProvisioning: Provisioning.CUSTOMER_MANAGED };
    expect(() => service({}, options)).toThrow(/Apps\/Web: pipelineSpec is given, but the service template's pipeline is CUSTOMER_MANAGED/);
    expect(() => service({ pipelineSpec: undefined }, options)).toThrow(/Apps\/Web: repository is given without pipelineSpec/);
    const { stack } = service({ pipelineSpec: undefined, repository: undefined }, options);
    expect(resourceProperties(stack).PipelineSpec).toBeUndefined();
  });

  test('a pipeline spec for a bundle without pipeline_input_type is refused', () => {
    const stack = new Stack(new App(), 'S');
    const env = Environment.fromEnvironmentName(stack, 'Env', 'shared');
    const version = ServiceTemplateVersion.fromServiceTemplateVersionAttributes(stack, 'V', {
      template: ServiceTemplate.fromServiceTemplateName(stack, 'T', 'svc'),
      majorVersion: '1',
      minorVersion: '0',
      compatibleEnvironmentTemplates: [{ template: EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'E', 'env'), majorVersion: '1' }],
      bundle: TemplateBundle.fromDirectory(writeServiceBundle({ properties: {} })),
    });
    expect(() => new Service(stack, 'Svc', { templateVersion: version, instances: [{ instanceName: 'a', environment: env }], pipelineSpec: {}, repository: REPOSITORY }))
      .toThrow(/S\/Svc: pipelineSpec is given, but the service template has no pipeline \(its schema declares no pipeline_input_type\)/);
  });

  test('pipeline inputs are validated', () => {
    expect(() => service({ pipelineSpec: { dockerfile: '' } })).toThrow(/Apps\/Web: pipelineSpec does not match .*\n.*input "dockerfile": "" is shorter than the minimum length 1/);
  });

  test('the name must follow Proton\'s rules', () => {
    expect(() => service({ serviceName: 'web service' })).toThrow(/Apps\/Web: serviceName "web service" must start with a letter or digit/);
  });
});

describe('the handler role at scale', () => {
  /** The policies attached to the Proton provider's role. */
  function providerPolicies(stack: Stack) {
    return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }] },
    }));
  }
  const FAMILIES = ['environment-template', 'service-template', 'environment', 'service'];
  /** The Proton resource family an ARN (as CloudFormation renders it) belongs to. */
  const familyOf = (resource: unknown) => /:proton:[^:]*:\d+:([a-z-]+)\//.exec(JSON.stringify(resource))?.[1];

  function stackWithServices(count: number) {
    const { stack, env, version } = setup();
    for (let i = 0; i < count; i++) {
      new Service(stack, `Web${i}`, {
        serviceName: `web-${i}`,
        templateVersion: version,
        instances: [{ instanceName: 'prod', environment: env }],
        pipelineSpec: {},
        repository: REPOSITORY,
      });
    }
    return stack;
  }

  test('100 services: one statement per family, the service family as an ARN pattern, PassRole only to Proton, no overflow policy', () => {
    const stack = stackWithServices(100);
    const policies = providerPolicies(stack);
    expect(policies).toHaveLength(1);
    const statements: any[] = policies[0].Properties.PolicyDocument.Statement;

    for (const family of FAMILIES) {
      const ofFamily = statements.filter(s => [s.Resource].flat().some(r => familyOf(r) === family));
      expect({ family, statements: ofFamily.length }).toEqual({ family, statements: 1 });
    }
    const serviceStatement = statements.find(s => [s.Resource].flat().some(r => familyOf(r) === 'service'));
    expect(serviceStatement.Resource).toEqual(
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:service/*']] });
    // The one environment is still listed by name.
    const environmentStatement = statements.find(s => [s.Resource].flat().some(r => familyOf(r) === 'environment'));
    expect(JSON.stringify(environmentStatement.Resource)).toContain('environment/fargate-env-prod');

    expect(statements.filter(s => [s.Action].flat().includes('iam:PassRole'))).toEqual([{
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: SERVICE_ROLE_ARN,
      Condition: { StringEquals: { 'iam:PassedToService': 'proton.amazonaws.com' } },
    }]);
    // 100 services on one connection: one statement, not 100.
    expect(statements.filter(s => [s.Action].flat().includes('codestar-connections:PassConnection'))).toHaveLength(1);

    Template.fromStack(stack).resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const size = Buffer.byteLength(JSON.stringify(policies[0].Properties.PolicyDocument));
    // IAM's limit for a role's inline policies (measured here before CloudFormation resolves the ARNs, which shortens them).
    expect(size).toBeLessThan(10_240);
  });

  test('up to 20 services are listed by ARN; the 21st turns the list into the family pattern', () => {
    const statementsOf = (stack: Stack): any[] => {
      const template = Template.fromStack(stack);
      const documents = [
        ...Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdkProtonProviderRole') }] } })),
        // CDK moves statements that do not fit in the inline policy to overflow managed policies.
        ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
      ].map(p => p.Properties.PolicyDocument);
      return documents.flatMap(d => d.Statement);
    };
    const servicesOf = (stack: Stack) => statementsOf(stack).filter(s => [s.Resource].flat().some(r => familyOf(r) === 'service'));
    const listed = servicesOf(stackWithServices(20));
    expect(listed).toHaveLength(1);
    // Each service: itself, and its instances and pipeline below it (/*).
    expect([listed[0].Resource].flat()).toHaveLength(40);
    expect(JSON.stringify(listed[0].Resource)).not.toContain('service/*');
    const pattern = servicesOf(stackWithServices(21));
    expect(pattern).toHaveLength(1);
    expect([pattern[0].Resource].flat()).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:service/*']] }]);
  });

  test('20 services (the most listed by name) fit in the inline policy: no overflow managed policy', () => {
    const stack = stackWithServices(20);
    Template.fromStack(stack).resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(Buffer.byteLength(JSON.stringify(providerPolicies(stack)[0].Properties.PolicyDocument))).toBeLessThan(10_240);
  });
});
