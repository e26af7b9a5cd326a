import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import {
  AccountSettings, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service, ServiceProps, ServiceTemplate,
  ServiceTemplateVersion, TemplateBundle,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const LB_FARGATE = join(SAMPLES, 'service-templates/load-balanced-fargate-svc');
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
  const env = new Environment(stack, 'Prod', { environmentName: 'fargate-env-prod', templateVersion: envVersion });
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
      TemplateMinorVersion: { 'Fn::GetAtt': [expect.stringMatching(/^SvcV1/), 'MinorVersion'] },
      RepositoryConnectionArn: REPOSITORY.connectionArn,
      RepositoryId: 'acme/web',
      BranchName: 'main',
      Description: 'web front end',
    });
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
    const env = new Environment(stack, 'Beta', { environmentName: 'multi-svc-beta', templateVersion: envVersion, spec: { ttl_attribute: 'ttl' } });
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
    expect(serviceStatement.Resource).toEqual([arn(''), arn('/pipeline'), arn('/service-instance/*')]);
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
    const vpcEnv = new Environment(stack, 'Vpc', { templateVersion: vpcVersion });
    expect(() => new Service(stack, 'Web', {
      templateVersion: version, pipelineSpec: {}, repository: REPOSITORY, instances: [{ instanceName: 'a', environment: vpcEnv }],
    })).toThrow(/Apps\/Web: instances\[0\] \("a"\) is in environment Apps\/Vpc, whose template vpc-env:1 is not compatible with the service template version \(compatible: fargate-env:1\)/);

    const fargateTemplate = stack.node.findChild('FargateEnvTemplate') as EnvironmentTemplate;
    const fargateV2 = new EnvironmentTemplateVersion(stack, 'FargateEnvV2', {
      template: fargateTemplate, majorVersion: '2', bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
    });
    const v2Env = new Environment(stack, 'V2', { templateVersion: fargateV2 });
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
