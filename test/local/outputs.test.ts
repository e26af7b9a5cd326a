/**
 * proton-local renders each deployment's bundle: outputs are the rendered template's Outputs, and a bundle that does not
 * render or parse fails its deployment. Driven through the real @aws-sdk/client-proton.
 */
import {
  CreateComponentCommand, GetEnvironmentCommand, GetServiceInstanceCommand, GetServiceCommand, ListComponentOutputsCommand,
  ListEnvironmentOutputsCommand, ListServiceInstanceOutputsCommand, ListServicePipelineOutputsCommand, UpdateEnvironmentCommand,
  UpdateServiceInstanceCommand,
} from '@aws-sdk/client-proton';
import { sampleBundle } from './helpers';
import { Bundle, bundle, COMPONENT_ROLE, FARGATE_ENV, serviceSpec, useWorkloads } from './workload-helpers';

const SCHEMA = (type: string, properties: string) => [
  'schema:',
  '  format:',
  '    openapi: "3.0.0"',
  `  ${type}`,
  '  types:',
  ...properties.split('\n').map(line => `    ${line}`),
  '',
].join('\n');

const CFN_MANIFEST = 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n';

/** A service template whose instance and pipeline outputs exercise every kind of output value. */
const SERVICE: Bundle = {
  'schema/schema.yaml': SCHEMA('service_input_type: In\n  pipeline_input_type: Pipe', [
    'In:',
    '  type: object',
    '  properties:',
    '    port: {type: number, default: 80}',
    'Pipe:',
    '  type: object',
    '  properties:',
    '    stage: {type: string, default: build}',
  ].join('\n')),
  'instance_infrastructure/manifest.yaml': CFN_MANIFEST,
  'instance_infrastructure/cloudformation.yaml': [
    'Parameters:',
    '  Tier:',
    '    Type: String',
    '    Default: web',
    'Resources:',
    '  Bucket:',
    '    Type: AWS::S3::Bucket',
    'Outputs:',
    '  Literal:',
    '    Value: hello',
    '  Port:',
    '    Value: "{{ service_instance.inputs.port }}"',
    '  Names:',
    '    Value: "{{ service.name }}/{{ service_instance.name }}/{{ environment.name }}"',
    '  EnvironmentVpc:',
    '    Value: "{{ environment.outputs.VPC }}"',
    '  TierDefault:',
    '    Value: !Ref Tier',
    '  BucketName:',
    '    Value: !Ref Bucket',
    '  BucketArn:',
    '    Value: !GetAtt Bucket.Arn',
    '  Region:',
    '    Value: !Sub "${AWS::Region}-${AWS::AccountId}"',
    '  ComponentBucket:',
    '    Value: "{{ service_instance.components.default.outputs.BucketName | default(\'none\') }}"',
    '',
  ].join('\n'),
  'pipeline_infrastructure/manifest.yaml': CFN_MANIFEST,
  'pipeline_infrastructure/cloudformation.yaml': [
    'Resources:',
    '{%- for service_instance in service_instances %}',
    '  Deploy{{ loop.index }}:',
    '    Type: AWS::CodeBuild::Project',
    '{%- endfor %}',
    'Outputs:',
    '  Stage:',
    '    Value: "{{ pipeline.inputs.stage }}"',
    '  FirstInstancePort:',
    '    Value: "{{ service_instances[0].outputs.Port }}"',
    '  Repository:',
    '    Value: "{{ service.repository_id }}@{{ service.branch_name }}"',
    '  Account:',
    '    Value: "{{ service_instances[0].environment.account_id }}"',
    '',
  ].join('\n'),
};

/** fargate-env's schema (the workload helpers' spec fits it) with another infrastructure template. */
function environmentWith(template: string): Bundle {
  const files = bundle(FARGATE_ENV);
  return { ...files, 'infrastructure/cloudformation.yaml': template };
}

describe('proton-local outputs come from the rendered bundle', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  const outputs = (list: Array<{ key?: string; valueString?: string }> | undefined) =>
    Object.fromEntries((list ?? []).map(o => [o.key, o.valueString]));
  const environmentOutputs = async (environmentName: string) =>
    outputs((await proton().send(new ListEnvironmentOutputsCommand({ environmentName }))).outputs);
  const instanceOutputs = async (serviceName: string, serviceInstanceName: string) =>
    outputs((await proton().send(new ListServiceInstanceOutputsCommand({ serviceName, serviceInstanceName }))).outputs);

  test('environment, instance and pipeline outputs: literals, inputs, names, environment outputs, parameter defaults and stable fake ids', async () => {
    await w.environmentTemplate('env');
    await w.environment('prod', 'env');
    await w.serviceTemplate('svc-tpl', { compatible: [{ templateName: 'env', majorVersion: '1' }], files: SERVICE });
    await w.service('svc', 'svc-tpl', serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 8080 } }, { name: 'two', environment: 'prod' }]));

    const env = await environmentOutputs('prod');
    expect(env.VPC).toMatch(/^vpc-[0-9a-f]{17}$/);
    const one = await instanceOutputs('svc', 'one');
    expect(one).toEqual({
      Literal: 'hello',
      Port: '8080',
      Names: 'svc/one/prod',
      EnvironmentVpc: env.VPC,
      TierDefault: 'web',
      BucketName: expect.stringMatching(/^AWSProton-svc-one-Bucket-[0-9a-f]{12}$/),
      BucketArn: expect.stringMatching(/^arn:aws:s3:us-east-1:123456789012:bucket\/AWSProton-svc-one-Bucket-[0-9a-f]{12}$/),
      Region: 'us-east-1-123456789012',
      ComponentBucket: 'none',
    });
    const two = await instanceOutputs('svc', 'two');
    expect(two.Port).toBe('80');
    expect(two.BucketName).not.toBe(one.BucketName);

    const pipeline = outputs((await proton().send(new ListServicePipelineOutputsCommand({ serviceName: 'svc' }))).outputs);
    expect(pipeline).toEqual({ Stage: 'build', FirstInstancePort: '8080', Repository: 'owner/repo@main', Account: '123456789012' });

    // A redeployment renders the same fake ids; an input change shows in the outputs.
    await proton().send(new UpdateServiceInstanceCommand({
      serviceName: 'svc', name: 'one', deploymentType: 'CURRENT_VERSION', spec: serviceSpec([{ name: 'one', environment: 'prod', spec: { port: 9090 } }]),
    }));
    w.advance();
    expect(await instanceOutputs('svc', 'one')).toEqual({ ...one, Port: '9090' });
  });

  test('an attached component\'s outputs reach its instance as service_instance.components.default.outputs', async () => {
    await w.environmentTemplate('env');
    await w.environment('prod', 'env', { componentRoleArn: COMPONENT_ROLE });
    await w.serviceTemplate('svc-tpl', {
      compatible: [{ templateName: 'env', majorVersion: '1' }], files: SERVICE, supportedComponentSources: ['DIRECTLY_DEFINED'],
    });
    await w.service('svc', 'svc-tpl', serviceSpec([{ name: 'one', environment: 'prod' }]));
    const component = sampleBundle('component-templates/s3-bucket-component');
    await proton().send(new CreateComponentCommand({
      name: 'bucket', serviceName: 'svc', serviceInstanceName: 'one', manifest: component['manifest.yaml'], templateFile: component['cloudformation.yaml'],
    }));
    w.advance();
    const componentOutputs = outputs((await proton().send(new ListComponentOutputsCommand({ componentName: 'bucket' }))).outputs);
    expect(componentOutputs).toEqual({
      BucketName: expect.stringMatching(/^arn:aws:s3:us-east-1:123456789012:bucket\/AWSProton-bucket-S3Bucket-[0-9a-f]{12}$/),
      BucketAccessPolicyArn: expect.stringMatching(/^arn:aws:iam::123456789012:policy\/AWSProton-bucket-S3BucketAccessPolicy-[0-9a-f]{12}$/),
    });
    await proton().send(new UpdateServiceInstanceCommand({ serviceName: 'svc', name: 'one', deploymentType: 'CURRENT_VERSION' }));
    w.advance();
    expect((await instanceOutputs('svc', 'one')).ComponentBucket).toBe(componentOutputs.BucketName);
  });

  test('a bundle that does not render fails the deployment with the file, the line and the problem', async () => {
    const template = 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: "{{ environment.inputs.no_such_input }}"\n';
    await w.environmentTemplate('env', { files: environmentWith(template) });
    await w.environment('prod', 'env');
    const environment = (await proton().send(new GetEnvironmentCommand({ name: 'prod' }))).environment!;
    expect(environment.deploymentStatus).toBe('FAILED');
    expect(environment.deploymentStatusMessage).toBe('Template rendering failed for env:1.0: infrastructure/cloudformation.yaml: Jinja rendering '
      + 'failed at line 5: a referenced parameter is not defined (an input, output or resource parameter that does not exist here; '
      + 'use `is defined` or `| default(...)` for optional ones) (line 5: TopicName: "{{ environment.inputs.no_such_input }}")');
    expect(await environmentOutputs('prod')).toEqual({});
  });

  test('a rendered template that is not valid YAML fails the deployment', async () => {
    // Registration checks the YAML with each expression as a plain word; rendered, this one opens a flow sequence it never closes.
    const template = 'Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: {{ "[" ~ environment.inputs.vpc_cidr }}\n';
    await w.environmentTemplate('env', { files: environmentWith(template) });
    await w.environment('prod', 'env');
    const environment = (await proton().send(new GetEnvironmentCommand({ name: 'prod' }))).environment!;
    expect(environment.deploymentStatus).toBe('FAILED');
    expect(environment.deploymentStatusMessage)
      .toMatch(/^Template rendering failed for env:1\.0: infrastructure\/cloudformation\.yaml: the rendered template is not valid YAML: .*at line \d+, column \d+/);
  });

  test('an instance referencing an output its environment does not have fails; the service reports it', async () => {
    await w.environmentTemplate('env');
    await w.environment('prod', 'env');
    const files = { ...SERVICE, 'instance_infrastructure/cloudformation.yaml': 'Outputs:\n  X:\n    Value: "{{ environment.outputs.NoSuchOutput }}"\n' };
    await w.serviceTemplate('svc-tpl', { compatible: [{ templateName: 'env', majorVersion: '1' }], files });
    await w.service('svc', 'svc-tpl', serviceSpec([{ name: 'one', environment: 'prod' }]));
    const instance = (await proton().send(new GetServiceInstanceCommand({ serviceName: 'svc', name: 'one' }))).serviceInstance!;
    expect(instance.deploymentStatus).toBe('FAILED');
    expect(instance.deploymentStatusMessage).toMatch(/^Template rendering failed for svc-tpl:1\.0: instance_infrastructure\/cloudformation\.yaml: .*line 3/);
    expect((await proton().send(new GetServiceCommand({ name: 'svc' }))).service!.status).toBe('CREATE_FAILED');
  });

  test('a redeployment renders its own inputs: changed inputs change the outputs, and going back gives the first ones again', async () => {
    const template = 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  Cidr:\n    Value: "{{ environment.inputs.vpc_cidr }}"\n';
    await w.environmentTemplate('echo', { files: environmentWith(template) });
    await w.environment('prod', 'echo');
    expect(await environmentOutputs('prod')).toEqual({ Cidr: '10.0.0.0/16' });
    const redeploy = async (cidr: string) => {
      await proton().send(new UpdateEnvironmentCommand({
        name: 'prod', deploymentType: 'CURRENT_VERSION', spec: `proton: EnvironmentSpec\nspec:\n  vpc_cidr: ${cidr}\n`,
      }));
      w.advance();
      return environmentOutputs('prod');
    };
    expect(await redeploy('10.1.0.0/16')).toEqual({ Cidr: '10.1.0.0/16' });
    expect(await redeploy('10.0.0.0/16')).toEqual({ Cidr: '10.0.0.0/16' });
    // An update without a spec redeploys the current one.
    await proton().send(new UpdateEnvironmentCommand({ name: 'prod', deploymentType: 'CURRENT_VERSION', description: 'again' }));
    w.advance();
    expect(await environmentOutputs('prod')).toEqual({ Cidr: '10.0.0.0/16' });
  });

  test('Terraform bundles: the output blocks, with literal and input values', async () => {
    const files: Bundle = {
      'schema/schema.yaml': SCHEMA('environment_input_type: In', 'In:\n  type: object\n  properties:\n    vpc_cidr: {type: string}'),
      'infrastructure/manifest.yaml': 'infrastructure:\n  templates:\n    - file: "*"\n      rendering_engine: hcl\n      template_language: terraform\n',
      'infrastructure/main.tf': [
        'resource "aws_vpc" "main" {',
        '  cidr_block = var.environment.inputs.vpc_cidr',
        '}',
        'output "vpc_id" {',
        '  value = aws_vpc.main.id',
        '}',
        'output "cidr" {',
        '  value = var.environment.inputs.vpc_cidr',
        '}',
        'output "owner" { value = "platform" }',
        '',
      ].join('\n'),
    };
    await w.environmentTemplate('tf', { files });
    await w.environment('prod', 'tf');
    // The workload helpers' environment spec sets vpc_cidr: 10.0.0.0/16.
    expect(await environmentOutputs('prod')).toEqual({ vpc_id: 'AWSProton-prod-vpc_id', cidr: '10.0.0.0/16', owner: 'platform' });
  });
});
