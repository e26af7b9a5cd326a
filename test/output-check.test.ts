import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import {
  Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service, ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../src';
import { parseTemplateSchema } from '../src/private/schema';
import { declaredOutputsOf } from '../src/render/render';

const SAMPLES = join(__dirname, 'fixtures', 'proton-samples');

function writeBundle(files: { [path: string]: string }): string {
  const root = mkdtempSync(join(tmpdir(), 'output-check-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function platform(serviceBundle = join(SAMPLES, 'service-templates/load-balanced-fargate-svc/v1')) {
  const stack = new Stack(new App(), 'Apps', { env: { account: '111122223333', region: 'us-east-1' } });
  const envTemplate = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const envVersion = new EnvironmentTemplateVersion(stack, 'EnvV1', {
    template: envTemplate, bundle: TemplateBundle.fromDirectory(join(SAMPLES, 'environment-templates/fargate-env/v1')),
  });
  const protonServiceRole = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  const env = new Environment(stack, 'Prod', { environmentName: 'prod', templateVersion: envVersion, protonServiceRole });
  const template = new ServiceTemplate(stack, 'SvcTemplate', { serviceTemplateName: 'web' });
  const version = new ServiceTemplateVersion(stack, 'SvcV1', {
    template, bundle: TemplateBundle.fromDirectory(serviceBundle), compatibleEnvironmentTemplates: [{ template: envTemplate, majorVersion: '1' }],
  });
  const service = new Service(stack, 'Web', {
    templateVersion: version,
    instances: [{ instanceName: 'web-prod', environment: env }],
    pipelineSpec: {},
    repository: { connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/abc', repositoryId: 'owner/repo', branchName: 'main' },
  });
  return { stack, env, service, envTemplate };
}

describe('output keys are checked against the bundle at synth', () => {
  test('Environment.getOutput: a declared output passes, another names the construct, the key and the outputs', () => {
    const { env } = platform();
    expect(() => env.getOutput('VPC')).not.toThrow();
    expect(() => env.getOutput('ClusterName')).toThrow(new RegExp(
      '^Apps/Prod: getOutput: output "ClusterName" is not declared by the environment infrastructure \\(infrastructure/\\) of template bundle '
      + '.*fargate-env/v1: its outputs are Cluster, ClusterArn, ServiceTaskDefExecutionRoleArn, SNSTopicArn, SNSTopicName, SNSRegion, VPC, '
      + 'PublicSubnet1, PublicSubnet2, PrivateSubnet1, PrivateSubnet2, CloudMapNamespaceId$'));
  });

  test('Service.getInstanceOutput and getPipelineOutput check the instance and pipeline templates', () => {
    const { service } = platform();
    expect(() => service.getInstanceOutput('web-prod', 'ServiceURL')).not.toThrow();
    expect(() => service.getPipelineOutput('PipelineEndpoint')).not.toThrow();
    expect(() => service.getInstanceOutput('web-prod', 'URL'))
      .toThrow(/^Apps\/Web: getInstanceOutput: output "URL" is not declared by the service instance infrastructure \(instance_infrastructure\/\) .*: its outputs are ServiceURL$/);
    expect(() => service.getPipelineOutput('ServiceURL'))
      .toThrow(/^Apps\/Web: getPipelineOutput: output "ServiceURL" is not declared by the pipeline infrastructure .*: its outputs are PipelineEndpoint$/);
  });

  test('a CUSTOMER_MANAGED environment template\'s outputs are its inputs', () => {
    const stack = new Stack(new App(), 'S');
    const bundle = writeBundle({
      'schema/schema.yaml': 'schema:\n  format:\n    openapi: "3.0.0"\n  environment_input_type: In\n  types:\n    In:\n      type: object\n      properties:\n        VpcId: {type: string}\n',
    });
    const template = new EnvironmentTemplate(stack, 'Tpl', { environmentTemplateName: 'imported', provisioning: Provisioning.CUSTOMER_MANAGED });
    const version = new EnvironmentTemplateVersion(stack, 'V1', { template, bundle: TemplateBundle.fromDirectory(bundle) });
    const env = new Environment(stack, 'Env', { templateVersion: version, spec: { VpcId: 'vpc-1' } });
    expect(() => env.getOutput('VpcId')).not.toThrow();
    expect(() => env.getOutput('Vpc')).toThrow(/output "Vpc" is not declared .*: its outputs are VpcId$/);
  });
});

describe('declared outputs without a spec', () => {
  const schema = parseTemplateSchema([
    'schema:', '  format:', '    openapi: "3.0.0"', '  environment_input_type: In', '  types:', '    In:', '      type: object',
    '      required: [name, size, tier]', '      properties:', '        name: {type: string, pattern: "^[a-z]+$"}', '        size: {type: number, minimum: 3}',
    '        tier: {type: string, enum: [gold, silver]}', '',
  ].join('\n'));
  const manifest = 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n';
  const files = (template: string) => [
    { path: 'infrastructure/manifest.yaml', content: Buffer.from(manifest) },
    { path: 'infrastructure/cloudformation.yaml', content: Buffer.from(template) },
  ];

  test('required inputs without defaults get stand-ins of their type, so Jinja branches on them render', () => {
    const template = [
      'Resources: {}',
      'Outputs:',
      '{% if environment.inputs.tier == "gold" %}',
      '  Gold:',
      '    Value: "{{ environment.inputs.size * 2 }}"',
      '{% endif %}',
      '  Name:',
      '    Value: "{{ environment.inputs.name }}"',
      '',
    ].join('\n');
    expect(declaredOutputsOf(files(template), schema, 'ENVIRONMENT')).toEqual(['Gold', 'Name']);
  });

  test('a template that does not render without a spec is read for its Outputs section', () => {
    // A required pattern the stand-in does not match fails validation, so the section is read as written.
    const patterned = parseTemplateSchema([
      'schema:', '  format:', '    openapi: "3.0.0"', '  environment_input_type: In', '  types:', '    In:', '      type: object',
      '      required: [id]', '      properties:', '        id: {type: string, pattern: "^vpc-[0-9a-f]+$"}', '',
    ].join('\n'));
    const template = 'Resources: {}\nOutputs:\n  VpcId: # the VPC\n    Value: "{{ environment.inputs.id }}"\n  Other:\n    Value: x\nMappings: {}\n';
    expect(declaredOutputsOf(files(template), patterned, 'ENVIRONMENT')).toEqual(['VpcId', 'Other']);
    expect(declaredOutputsOf([], patterned, 'ENVIRONMENT')).toBeUndefined();
  });
});
