/** Imports by attributes, Service.addInstance and the grantRead methods of environments and services. */
import { join } from 'path';
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  Environment, EnvironmentTemplate, EnvironmentTemplateVersion, IEnvironment, IService, Service, ServiceTemplate, ServiceTemplateVersion,
  TemplateBundle,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const REPOSITORY = { connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/abc', repositoryId: 'acme/web', branchName: 'main' };

/** fargate-env:1 with two environments, vpc-env:1, and load-balanced-fargate-svc:1 compatible with fargate-env:1 only. */
function setup() {
  const stack = new Stack(new App(), 'Apps', { env: { account: '111122223333', region: 'us-east-1' } });
  const protonServiceRole = new iam.Role(stack, 'ProtonRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  const envTemplate = new EnvironmentTemplate(stack, 'FargateEnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(stack, 'FargateEnvV1', {
    template: envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
  });
  const prod = new Environment(stack, 'Prod', { environmentName: 'prod', templateVersion: envVersion, protonServiceRole });
  const staging = new Environment(stack, 'Staging', { environmentName: 'staging', templateVersion: envVersion, protonServiceRole });
  const vpcTemplate = new EnvironmentTemplate(stack, 'VpcTemplate', { environmentTemplateName: 'vpc-env' });
  const vpcVersion = new EnvironmentTemplateVersion(stack, 'VpcV1', {
    template: vpcTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/vpc-env/v1')),
  });
  const template = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'lb-fargate' });
  const version = new ServiceTemplateVersion(stack, 'SvcV1', {
    template,
    bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'service-templates/load-balanced-fargate-svc/v1')),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });
  const service = new Service(stack, 'Web', {
    serviceName: 'web', templateVersion: version, pipelineSpec: {}, repository: REPOSITORY, instances: [{ instanceName: 'prod', environment: prod }],
  });
  return { stack, prod, staging, envVersion, vpcVersion, version, service };
}

/** The service's Instances property, its Fn::Join put together with each Ref written as `<Ref logical id>`. */
const instancesOf = (stack: Stack): Array<{ name: string; environment: string; spec: { [key: string]: unknown } }> => {
  const properties = Object.values(Template.fromStack(stack).findResources('Custom::ProtonService'))[0].Properties;
  const value = properties.Instances;
  const text = typeof value === 'string' ? value
    : value['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join('');
  return JSON.parse(text);
};

describe('Environment.fromEnvironmentAttributes', () => {
  test('the name and, when given, the template version, which services check compatibility with', () => {
    const { stack, envVersion, vpcVersion, service } = setup();
    const imported = Environment.fromEnvironmentAttributes(stack, 'Imported', { environmentName: 'shared', templateVersion: envVersion });
    expect(imported.environmentName).toBe('shared');
    expect(imported.templateVersion).toBe(envVersion);
    expect(stack.resolve(imported.environmentArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:environment/shared']],
    });
    service.addInstance({ instanceName: 'shared', environment: imported });
    const incompatible = Environment.fromEnvironmentAttributes(stack, 'Vpc', { environmentName: 'vpc', templateVersion: vpcVersion });
    expect(() => service.addInstance({ instanceName: 'vpc', environment: incompatible })).toThrow(
      'Apps/Web: addInstance("vpc") ("vpc") is in environment Apps/Vpc, whose template vpc-env:1 is not compatible with the service template '
      + 'version (compatible: fargate-env:1)');
  });

  test('fromEnvironmentName is the same without a template version', () => {
    const { stack } = setup();
    expect(Environment.fromEnvironmentName(stack, 'ByName', 'shared').templateVersion).toBeUndefined();
  });

  test('the name must follow Proton\'s rules', () => {
    const { stack } = setup();
    expect(() => Environment.fromEnvironmentAttributes(stack, 'Bad', { environmentName: 'bad name' }))
      .toThrow('Apps/Bad: environmentName "bad name" must start with a letter or digit and contain only letters, digits, "-" and "_"');
  });
});

describe('Service.fromServiceAttributes', () => {
  test('the name, the ARN and the template version', () => {
    const { stack, version, service } = setup();
    const imported: IService = Service.fromServiceAttributes(stack, 'Imported', { serviceName: 'orders', templateVersion: version });
    expect(imported.serviceName).toBe('orders');
    expect(imported.templateVersion).toBe(version);
    expect(service.templateVersion).toBe(version);
    expect(Service.fromServiceName(stack, 'ByName', 'orders').templateVersion).toBeUndefined();
  });

  test('the name must follow Proton\'s rules', () => {
    const { stack } = setup();
    expect(() => Service.fromServiceAttributes(stack, 'Bad', { serviceName: '-orders' }))
      .toThrow('Apps/Bad: serviceName "-orders" must start with a letter or digit and contain only letters, digits, "-" and "_"');
  });
});

describe('Service.addInstance', () => {
  test('adds the instance, with the schema\'s defaults, after those of the constructor; its outputs can be read', () => {
    const { stack, staging, service } = setup();
    service.addInstance({ instanceName: 'staging', environment: staging, spec: { desired_count: 2 } });
    const instances = instancesOf(stack);
    expect(instances.map(i => [i.name, i.environment])).toEqual([['prod', expect.stringMatching(/^<Prod/)], ['staging', expect.stringMatching(/^<Staging/)]]);
    // The given input, and a default of the sample schema applied as for the constructor's instances.
    expect(instances[1].spec).toMatchObject({ desired_count: 2, port: 80 });
    expect(stack.resolve(service.getInstanceOutput('staging', 'ServiceURL')))
      .toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Web/), 'Instances.staging.Outputs.ServiceURL'] });
  });

  test('instance names are unique in a service', () => {
    const { staging, service } = setup();
    expect(() => service.addInstance({ instanceName: 'prod', environment: staging }))
      .toThrow('Apps/Web: addInstance("prod").instanceName "prod" is used by another instance; instance names must be unique in a service');
  });

  test('instance names follow Proton\'s rules', () => {
    const { staging, service } = setup();
    expect(() => service.addInstance({ instanceName: 'bad name', environment: staging }))
      .toThrow('Apps/Web: addInstance("bad name").instanceName "bad name" must start with a letter or digit');
  });

  test('the spec is validated against the schema', () => {
    const { staging, service } = setup();
    expect(() => service.addInstance({ instanceName: 'staging', environment: staging, spec: { desired_count: 'many' } }))
      .toThrow(/^Apps\/Web: addInstance\("staging"\).spec does not match the template's input type \w+:\n {2}- .*desired_count/);
  });

  test('an instance refused leaves the service as it was', () => {
    const { stack, staging, service } = setup();
    expect(() => service.addInstance({ instanceName: 'staging', environment: staging, spec: { desired_count: 'many' } })).toThrow();
    expect(() => service.getInstanceOutput('staging', 'ServiceURL')).toThrow('"staging" is not an instance of this service (instances: prod)');
    expect(instancesOf(stack).map(i => i.name)).toEqual(['prod']);
  });
});

describe('grantRead', () => {
  test('environment.grantRead: the environment, its outputs and provisioned resources', () => {
    const { stack, prod } = setup();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    const imported: IEnvironment = Environment.fromEnvironmentName(stack, 'Shared', 'shared');
    prod.grantRead(reader);
    imported.grantRead(reader);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['proton:GetEnvironment', 'proton:ListEnvironmentOutputs', 'proton:ListEnvironmentProvisionedResources'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:environment/', { Ref: Match.stringLikeRegexp('^Prod') }]] },
          },
          {
            Effect: 'Allow',
            Action: ['proton:GetEnvironment', 'proton:ListEnvironmentOutputs', 'proton:ListEnvironmentProvisionedResources'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:environment/shared']] },
          },
        ],
      },
    });
  });

  test('service.grantRead: the service, its instances and its pipeline', () => {
    const { stack, service } = setup();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    service.grantRead(reader);
    const arn = ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:service/', { Ref: Match.stringLikeRegexp('^Web') }];
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
      PolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: [
            'proton:GetService', 'proton:GetServiceInstance', 'proton:ListServiceInstanceOutputs', 'proton:ListServiceInstanceProvisionedResources',
            'proton:ListServicePipelineOutputs', 'proton:ListServicePipelineProvisionedResources',
          ],
          Resource: [{ 'Fn::Join': ['', arn] }, { 'Fn::Join': ['', [...arn, '/*']] }],
        }],
      },
    });
  });
});
