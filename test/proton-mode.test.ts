/**
 * The deployment mode switch (`cdk-proton:mode`) and Proton-free deployment: the same Environment and Service
 * definitions synthesized as one CloudFormation stack each (environment, instance, pipeline) holding the rendered
 * template, with no Proton resource, and the errors of what can't be rendered at synth.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, CfnOutput, Lazy, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  DeploymentMode, Environment, EnvironmentTemplate, EnvironmentTemplateVersion, IEnvironment, ProtonMode, ProtonRenderer, Provisioning, Service,
  ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../src';

const TEMPLATES = join(__dirname, '..', 'examples', 'templates');
const bundle = (name: string) => TemplateBundle.fromDirectory(join(TEMPLATES, name));
const ENV_SPEC = {
  vpc_cidr: '10.10.0.0/16',
  public_subnet_one_cidr: '10.10.0.0/18',
  public_subnet_two_cidr: '10.10.64.0/18',
  private_subnet_one_cidr: '10.10.128.0/18',
  private_subnet_two_cidr: '10.10.192.0/18',
};

function platform(mode?: string, context: { [key: string]: unknown } = {}) {
  const app = new App({ context: { ...(mode ? { [ProtonMode.CONTEXT_KEY]: mode } : {}), ...context } });
  const stack = new Stack(app, 'Platform');
  const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(stack, 'EnvVersion', { template: envTemplate, bundle: bundle('fargate-env') });
  const svcTemplate = new ServiceTemplate(stack, 'SvcTemplate', {
    serviceTemplateName: 'load-balanced-fargate-svc', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED,
  });
  const svcVersion = new ServiceTemplateVersion(stack, 'SvcVersion', {
    template: svcTemplate,
    bundle: bundle('load-balanced-fargate-svc'),
    compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: envVersion.majorVersion }],
  });
  const protonServiceRole = new iam.Role(stack, 'ProtonRole', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  const staging = new Environment(stack, 'Staging', { environmentName: 'staging', templateVersion: envVersion, spec: ENV_SPEC, protonServiceRole });
  return { app, stack, envTemplate, envVersion, svcVersion, staging, protonServiceRole };
}

const resourceTypes = (stack: Stack) => Object.values(Template.fromStack(stack).toJSON().Resources ?? {}).map((r: any) => r.Type as string);

describe('ProtonMode', () => {
  test('is Proton unless the context says cloudformation', () => {
    expect(ProtonMode.of(new App())).toBe(DeploymentMode.PROTON);
    expect(ProtonMode.of(new App({ context: { 'cdk-proton:mode': 'cloudformation' } }))).toBe(DeploymentMode.CLOUDFORMATION);
    const app = new App();
    ProtonMode.set(app, DeploymentMode.CLOUDFORMATION);
    expect(ProtonMode.isProtonFree(new Stack(app, 'S'))).toBe(true);
  });

  test('set after constructs were added, or an unknown mode, is an error', () => {
    const app = new App();
    new Stack(app, 'Early');
    expect(() => ProtonMode.set(app, DeploymentMode.CLOUDFORMATION)).toThrow(/ProtonMode.set must be called before constructs are added .*Early/);
    expect(() => ProtonMode.of(new App({ context: { 'cdk-proton:mode': 'terraform' } })))
      .toThrow(/context cdk-proton:mode "terraform" is not a deployment mode \(allowed: proton, cloudformation\)/);
  });

  test('in Proton mode the constructs manage Proton resources and add no stack', () => {
    const { app, stack } = platform();
    expect(resourceTypes(stack)).toEqual(expect.arrayContaining(['Custom::ProtonEnvironment', 'Custom::ProtonEnvironmentTemplateVersion']));
    expect(app.node.children.filter(Stack.isStack).map(c => c.node.id)).toEqual(['Platform']);
  });
});

describe('Proton-free mode', () => {
  test('an environment is a stack holding its rendered template; templates, versions and the provider are gone', () => {
    const { app, stack, staging } = platform('cloudformation');
    const assembly = app.synth();

    expect(resourceTypes(stack)).toEqual(['AWS::IAM::Role']);
    expect(staging.environmentName).toBe('staging');
    const template = assembly.getStackByName('Environment-staging').template;
    const rendered = ProtonRenderer.renderEnvironment({ bundle: bundle('fargate-env'), environmentName: 'staging', inputs: ENV_SPEC });
    // The rendered template, and what CDK's synthesizer adds (the bootstrap version check).
    const { Parameters: { BootstrapVersion }, Rules: { CheckBootstrapVersion }, ...rest } = template;
    expect(BootstrapVersion).toBeDefined();
    expect(CheckBootstrapVersion).toBeDefined();
    expect(rest).toEqual(rendered.template);
    expect(staging.cloudFormationStack!.stackName).toBe('Environment-staging');
  });

  test('an instance imports the environment outputs its template reads, from the environment stack', () => {
    const { app, staging, svcVersion, stack } = platform('cloudformation');
    const service = new Service(stack, 'Web', {
      serviceName: 'web', templateVersion: svcVersion, instances: [{ instanceName: 'staging', environment: staging, spec: { desired_count: 2 } }],
    });
    const assembly = app.synth();

    const instance = assembly.getStackByName('ServiceInstance-web-staging');
    expect(instance.dependencies.map(d => d.id)).toContain('Environment-staging');
    const text = JSON.stringify(instance.template);
    expect(text).toContain('{"Fn::ImportValue":"Environment-staging:VPC"}');
    // Every marker was replaced: what is left are the names of Fn::Sub's variables.
    expect(text.replace(/\$\{CdkProtonRef\d+X\}|"CdkProtonRef\d+X":/g, '')).not.toContain('CdkProtonRef');
    // Only what an instance reads is exported.
    const outputs = assembly.getStackByName('Environment-staging').template.Outputs;
    expect(outputs.VPC.Export).toEqual({ Name: 'Environment-staging:VPC' });
    expect(outputs.SNSTopicName.Export).toBeUndefined();
    expect(service.instanceCloudFormationStack('staging').stackName).toBe('ServiceInstance-web-staging');
    expect(() => service.pipelineCloudFormationStack()).toThrow(/the service has no pipeline/);
  });

  test('stack names: a prop, else the context mapping', () => {
    const { app, staging, svcVersion, stack, envVersion, protonServiceRole } = platform('cloudformation', {
      'cdk-proton:stack-names': { 'environment:production': 'AWSProton-production', 'instance:web/staging': 'AWSProton-web-staging' },
    });
    new Environment(stack, 'Production', { environmentName: 'production', templateVersion: envVersion, spec: ENV_SPEC, protonServiceRole });
    new Service(stack, 'Web', {
      serviceName: 'web',
      templateVersion: svcVersion,
      instances: [
        { instanceName: 'staging', environment: staging },
        { instanceName: 'other', environment: staging, cloudFormationStackName: 'Web-Other' },
      ],
    });
    const names = app.synth().stacks.map(s => s.stackName).sort();
    expect(names).toEqual(['AWSProton-production', 'AWSProton-web-staging', 'Environment-staging', 'Platform', 'Web-Other']);
  });

  test('names are unique in the app as in Proton mode; a stack-names context that is no mapping is an error', () => {
    const { stack, envVersion, protonServiceRole } = platform('cloudformation');
    expect(() => new Environment(stack, 'Again', { environmentName: 'staging', templateVersion: envVersion, spec: ENV_SPEC, protonServiceRole }))
      .toThrow(/Again: environmentName "staging" is already used by/);
    expect(() => platform('cloudformation', { 'cdk-proton:stack-names': 42 }))
      .toThrow(/Platform\/Staging: context cdk-proton:stack-names must map resources to stack names/);
  });

  test('getOutput is a cross-stack reference to the environment stack', () => {
    const { app, staging } = platform('cloudformation');
    const consumer = new Stack(app, 'Consumer');
    new CfnOutput(consumer, 'Vpc', { value: staging.getOutput('VPC') });
    expect(Template.fromStack(consumer).toJSON().Outputs.Vpc.Value).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Environment-staging:ExportsOutputRefVPC/) });
    expect(() => staging.getOutput('Nope')).toThrow(/getOutput reads output Nope, which environment staging's template does not declare \(outputs: Cluster, /);
  });

  test('the spec is validated as in Proton mode', () => {
    const { stack, envVersion, protonServiceRole } = platform('cloudformation');
    expect(() => new Environment(stack, 'Bad', { templateVersion: envVersion, spec: { vpc_cidr: 42 }, protonServiceRole }))
      .toThrow(/Bad: spec does not match the template's input type/);
  });

  test('a token in a spec cannot be rendered at synth', () => {
    const { stack, envVersion, protonServiceRole } = platform('cloudformation');
    expect(() => new Environment(stack, 'Tokens', {
      templateVersion: envVersion, spec: { ...ENV_SPEC, vpc_cidr: Lazy.string({ produce: () => '10.0.0.0/16' }) }, protonServiceRole,
    })).toThrow(/Tokens: spec.vpc_cidr is a token .*Proton-free mode renders the template at synth, where a token has no value: give a literal value/);
  });

  test('a version without a bundle cannot be rendered', () => {
    const { stack, envTemplate, protonServiceRole } = platform('cloudformation');
    const imported = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'Imported', { template: envTemplate, majorVersion: '1' });
    expect(() => new Environment(stack, 'NoBundle', { environmentName: 'nobundle', templateVersion: imported, protonServiceRole }))
      .toThrow(/NoBundle: Proton-free mode renders the template version's bundle, and templateVersion has none/);
  });

  test('an instance in an imported environment whose outputs it reads is an error', () => {
    const { stack, svcVersion, envVersion } = platform('cloudformation');
    const imported: IEnvironment = Environment.fromEnvironmentAttributes(stack, 'Elsewhere', { environmentName: 'elsewhere', templateVersion: envVersion });
    expect(() => new Service(stack, 'Web', { serviceName: 'web', templateVersion: svcVersion, instances: [{ instanceName: 'a', environment: imported }] }))
      .toThrow(/instances\[0\] is in environment elsewhere, which this app does not deploy in Proton-free mode .*reads environment.outputs.\w+/);
  });

  test('an instance is deployed where its environment is; a connected environment is an error', () => {
    const { app, staging, svcVersion, envVersion } = platform('cloudformation');
    const services = new Stack(app, 'Services', { env: { account: '222233334444', region: 'eu-west-1' } });
    new Service(services, 'Web', { serviceName: 'web', templateVersion: svcVersion, instances: [{ instanceName: 'staging', environment: staging }] });
    const assembly = app.synth();
    expect(assembly.getStackByName('ServiceInstance-web-staging').environment.account).toBe('unknown-account');

    const other = new Stack(app, 'Other');
    expect(() => new Environment(other, 'Connected', {
      environmentName: 'connected', templateVersion: envVersion, spec: ENV_SPEC, environmentAccountConnectionId: '0f0e0d0c-0b0a-4909-8807-060504030201',
    })).toThrow(/Connected: Proton-free mode deploys the environment's stack in this stack's account, but Proton provisions it in the account of its environment account connection/);
  });

  test('a Jinja filter applied to an environment output is an error', () => {
    const { stack, staging, svcVersion } = platform('cloudformation');
    const directory = mkdtempSync(join(tmpdir(), 'filtered-svc-'));
    cpSync(join(TEMPLATES, 'load-balanced-fargate-svc'), directory, { recursive: true });
    const file = join(directory, 'instance_infrastructure', 'cloudformation.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace("VpcId: '{{environment.outputs.VPC}}'", "VpcId: '{{environment.outputs.VPC | lower}}'"));
    const filtered = new ServiceTemplateVersion(stack, 'Filtered', {
      template: svcVersion.template,
      bundle: TemplateBundle.fromDirectory(directory),
      compatibleEnvironmentTemplates: svcVersion.compatibleEnvironmentTemplates,
    });
    expect(() => new Service(stack, 'Web', { serviceName: 'web', templateVersion: filtered, instances: [{ instanceName: 'a', environment: staging }] }))
      .toThrow(/Web: the rendered template transforms a deploy-time value .* in "cdkprotonref\d+x"; Proton-free mode can reference such values only as they are/);
  });

  test('a pipeline renders every instance, those added later too', () => {
    const app = new App({ context: { 'cdk-proton:mode': 'cloudformation' } });
    const stack = new Stack(app, 'Platform');
    const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
    const envVersion = new EnvironmentTemplateVersion(stack, 'EnvVersion', { template: envTemplate, bundle: bundle('fargate-env') });
    const protonServiceRole = iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::111122223333:role/proton');
    const staging = new Environment(stack, 'Staging', { environmentName: 'staging', templateVersion: envVersion, spec: ENV_SPEC, protonServiceRole });
    const version = new ServiceTemplateVersion(stack, 'BackendVersion', {
      template: new ServiceTemplate(stack, 'Backend', { serviceTemplateName: 'backend-fargate-svc' }),
      bundle: bundle('backend-fargate-svc'),
      compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: envVersion.majorVersion }],
    });
    const service = new Service(stack, 'Orders', {
      serviceName: 'orders',
      templateVersion: version,
      instances: [{ instanceName: 'one', environment: staging }],
      pipelineSpec: { service_dir: 'orders' },
      repository: { connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/abc', repositoryId: 'org/orders', branchName: 'main' },
    });
    service.addInstance({ instanceName: 'two', environment: staging });
    const pipeline = app.synth().getStackByName('ServicePipeline-orders').template;
    const projects = Object.keys(pipeline.Resources).filter(id => /^Deploy\dProject$/.test(id));
    expect(projects).toEqual(['Deploy1Project', 'Deploy2Project']);
    expect(service.pipelineCloudFormationStack().stackName).toBe('ServicePipeline-orders');
  });
});
