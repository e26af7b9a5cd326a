/**
 * What proton-local validates in template bundles and specs, checked against the Proton documentation rather than
 * against our own code: proton-local checks bundles with the constructs' shared code (src/private/bundle.ts,
 * schema.ts), so a test written from that code would only agree with itself. Each case quotes (or cites) the User
 * Guide statement it checks. Bundles are packed with the system's tar, as the User Guide does
 * ("tar -zcvf env-template.tar.gz ..."), uploaded to proton-local's S3 and registered through the SDK.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import {
  CreateEnvironmentCommand, CreateEnvironmentTemplateCommand, CreateEnvironmentTemplateVersionCommand, CreateServiceTemplateCommand,
  CreateServiceTemplateVersionCommand, GetEnvironmentCommand, GetEnvironmentTemplateVersionCommand, GetServiceTemplateVersionCommand,
  UpdateEnvironmentTemplateVersionCommand,
} from '@aws-sdk/client-proton';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SERVICE_ROLE, useWorkloads } from './workload-helpers';

type Files = { [path: string]: string };

/** "tar -zcvf" of the files (at the archive root, the documented layout). */
function tarGz(files: Files): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'documented-bundle-'));
  try {
    const root = join(dir, 'bundle');
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    execFileSync('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', root, ...Object.keys(files)]);
    return readFileSync(join(dir, 'bundle.tar.gz'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The User Guide's examples ("Schema file", "Wrap up template files").
const ENV_SCHEMA = [
  'schema:',
  '  format:',
  '    openapi: "3.0.0"',
  '  environment_input_type: "PublicEnvironmentInput"',
  '  types:',
  '    PublicEnvironmentInput:',
  '      type: object',
  '      description: "Input properties for my environment"',
  '      properties:',
  '        vpc_cidr:',
  '          type: string',
  '          description: "This CIDR range for your VPC"',
  '          default: 10.0.0.0/16',
  '          pattern: ([0-9]{1,3}\\.){3}[0-9]{1,3}($|/(16|24))',
  '        my_other_sample_input:',
  '          type: string',
  '          description: "Another sample input"',
  '      required:',
  '        - my_other_sample_input',
  '',
].join('\n');
const CFN_MANIFEST = 'infrastructure:\n  templates:\n    - file: "cloudformation.yaml"\n      rendering_engine: jinja\n      template_language: cloudformation\n';
const CFN = [
  'AWSTemplateFormatVersion: "2010-09-09"',
  'Resources:',
  '  VPC:',
  '    Type: AWS::EC2::VPC',
  '    Properties:',
  '      CidrBlock: "{{ environment.inputs.vpc_cidr }}"',
  '      Tags:',
  '        - Key: other',
  '          Value: "{{ environment.inputs.my_other_sample_input }}"',
  'Outputs:',
  '  VpcId:',
  '    Value: !Ref VPC',
  '',
].join('\n');
const ENV_BUNDLE: Files = {
  'schema/schema.yaml': ENV_SCHEMA,
  'infrastructure/manifest.yaml': CFN_MANIFEST,
  'infrastructure/cloudformation.yaml': CFN,
};

describe('proton-local validates bundles and specs as the Proton documentation describes', () => {
  const w = useWorkloads();
  const proton = () => w.env.proton;
  let uploads = 0;

  async function upload(files: Files) {
    const key = `documented-${++uploads}.tar.gz`;
    try {
      await w.env.s3.send(new CreateBucketCommand({ Bucket: 'documented' }));
    } catch (e) {
      if ((e as Error).name !== 'BucketAlreadyOwnedByYou') throw e;
    }
    await w.env.s3.send(new PutObjectCommand({ Bucket: 'documented', Key: key, Body: tarGz(files) }));
    return { s3: { bucket: 'documented', key } };
  }

  /** Registers an environment template version; returns its status and message once registration ended. */
  async function registerEnvironment(files: Files, provisioning?: 'CUSTOMER_MANAGED') {
    const name = `env${uploads + 1}`;
    await proton().send(new CreateEnvironmentTemplateCommand({ name, provisioning }));
    const created = (await proton().send(new CreateEnvironmentTemplateVersionCommand({ templateName: name, source: await upload(files) })))
      .environmentTemplateVersion!;
    w.advance();
    const version = (await proton().send(new GetEnvironmentTemplateVersionCommand({
      templateName: name, majorVersion: created.majorVersion, minorVersion: created.minorVersion,
    }))).environmentTemplateVersion!;
    const { status, statusMessage, majorVersion, minorVersion } = version;
    return { name, status, statusMessage, majorVersion: majorVersion!, minorVersion: minorVersion! };
  }

  async function registerService(files: Files, compatibleTemplate: string, pipelineProvisioning?: 'CUSTOMER_MANAGED') {
    const name = `svc${uploads + 1}`;
    await proton().send(new CreateServiceTemplateCommand({ name, pipelineProvisioning }));
    const created = (await proton().send(new CreateServiceTemplateVersionCommand({
      templateName: name, source: await upload(files), compatibleEnvironmentTemplates: [{ templateName: compatibleTemplate, majorVersion: '1' }],
    }))).serviceTemplateVersion!;
    w.advance();
    const version = (await proton().send(new GetServiceTemplateVersionCommand({
      templateName: name, majorVersion: created.majorVersion, minorVersion: created.minorVersion,
    }))).serviceTemplateVersion!;
    return { status: version.status, statusMessage: version.statusMessage };
  }

  describe('template bundles ("Wrap up template files", "Schema file", "AWS Proton quotas")', () => {
    test('the User Guide\'s example environment bundle registers', async () => {
      expect(await registerEnvironment(ENV_BUNDLE)).toMatchObject({ status: 'DRAFT' });
    });

    test('"An environment_input_type must be included": a schema without one fails registration', async () => {
      const schema = ENV_SCHEMA.replace('  environment_input_type: "PublicEnvironmentInput"\n', '');
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'schema/schema.yaml': schema }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('environment_input_type') });
    });

    test('"To follow the Open API schema model, you must include types": a schema without types fails registration', async () => {
      const schema = 'schema:\n  format:\n    openapi: "3.0.0"\n  environment_input_type: "PublicEnvironmentInput"\n';
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'schema/schema.yaml': schema }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('types') });
    });

    test('"you must include the formatted headers" (format: openapi: "3.0.0"): a schema without them fails registration', async () => {
      const schema = ENV_SCHEMA.replace('  format:\n    openapi: "3.0.0"\n', '');
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'schema/schema.yaml': schema }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('openapi') });
    });

    test('"Following types, you must define an environment_input_type type": naming an undefined type fails registration', async () => {
      const schema = ENV_SCHEMA.replace('environment_input_type: "PublicEnvironmentInput"', 'environment_input_type: "Missing"');
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'schema/schema.yaml': schema }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('Missing') });
    });

    test('"You must also create a manifest YAML file": an infrastructure directory without manifest.yaml fails registration', async () => {
      const { 'infrastructure/manifest.yaml': _, ...withoutManifest } = ENV_BUNDLE;
      expect(await registerEnvironment(withoutManifest))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('manifest.yaml') });
    });

    test('"With CloudFormation, you list a single file": a CloudFormation manifest listing two fails registration', async () => {
      const manifest = `${CFN_MANIFEST}    - file: "second.yaml"\n      rendering_engine: jinja\n      template_language: cloudformation\n`;
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'infrastructure/manifest.yaml': manifest, 'infrastructure/second.yaml': CFN }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('manifest.yaml') });
    });

    test('"With terraform, you can ... use the wildcard * ... The wildcard only includes files whose names end with .tf": a Terraform bundle registers', async () => {
      const files: Files = {
        'schema/schema.yaml': ENV_SCHEMA,
        'infrastructure/manifest.yaml': 'infrastructure:\n  templates:\n    - file: "*"\n      rendering_engine: hcl\n      template_language: terraform\n',
        'infrastructure/main.tf': 'resource "aws_vpc" "main" {\n  cidr_block = var.environment.inputs.vpc_cidr\n}\n',
        'infrastructure/outputs.tf': 'output "vpc_id" {\n  value = aws_vpc.main.id\n}\n',
      };
      expect(await registerEnvironment(files)).toMatchObject({ status: 'DRAFT' });
    });

    test('a manifest whose file is not in the bundle fails registration (the manifest "lists the IaC files in a directory")', async () => {
      const { 'infrastructure/cloudformation.yaml': _, ...withoutTemplate } = ENV_BUNDLE;
      expect(await registerEnvironment({ ...withoutTemplate, 'infrastructure/other.yaml': CFN }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('cloudformation.yaml') });
    });

    test('"Template files per bundle: 10" (quotas): an eleventh file fails registration', async () => {
      const extra = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`infrastructure/extra${i}.yaml`, 'a: 1\n']));
      expect(await registerEnvironment({ ...ENV_BUNDLE, ...extra })).toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('10') });
    });

    test('"Manifest file size: 50 KB" (quotas): a larger schema file fails registration', async () => {
      const schema = `${ENV_SCHEMA}# ${'x'.repeat(51 * 1024)}\n`;
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'schema/schema.yaml': schema }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('schema/schema.yaml') });
    });

    test('"Template file size: 200 KB" (quotas): a larger IaC file fails registration, a 150 KB one registers', async () => {
      const padded = (kb: number) => `${CFN}# ${'x'.repeat(kb * 1024)}\n`;
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'infrastructure/cloudformation.yaml': padded(201) }))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('cloudformation.yaml') });
      expect(await registerEnvironment({ ...ENV_BUNDLE, 'infrastructure/cloudformation.yaml': padded(150) })).toMatchObject({ status: 'DRAFT' });
    });

    test('customer-managed environments: "you\'re responsible for providing the same outputs" in the spec; the bundle is a schema only', async () => {
      expect(await registerEnvironment({ 'schema/schema.yaml': ENV_SCHEMA }, 'CUSTOMER_MANAGED')).toMatchObject({ status: 'DRAFT' });
    });

    test('a service template with a pipeline needs pipeline_input_type ("Missing property [pipelineInputType]"); CUSTOMER_MANAGED pipelines need none', async () => {
      const schema = (pipeline: boolean) => [
        'schema:', '  format:', '    openapi: "3.0.0"', '  service_input_type: "SvcInput"',
        ...pipeline ? ['  pipeline_input_type: "PipelineInput"'] : [],
        '  types:', '    SvcInput:', '      type: object', '      properties:', '        port:', '          type: number', '          default: 80',
        ...pipeline ? ['    PipelineInput:', '      type: object', '      properties:', '        dockerfile:', '          type: string', '          default: Dockerfile'] : [],
        '',
      ].join('\n');
      const iac = 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: "{{ service_instance.inputs.port }}"\n';
      const pipelineIac = 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: "{{ pipeline.inputs.dockerfile }}"\n';
      const withPipeline: Files = {
        'schema/schema.yaml': schema(false),
        'instance_infrastructure/manifest.yaml': CFN_MANIFEST,
        'instance_infrastructure/cloudformation.yaml': iac,
        'pipeline_infrastructure/manifest.yaml': CFN_MANIFEST,
        'pipeline_infrastructure/cloudformation.yaml': pipelineIac,
      };
      const { name: environmentTemplate } = await registerEnvironment(ENV_BUNDLE);
      expect(await registerService(withPipeline, environmentTemplate))
        .toMatchObject({ status: 'REGISTRATION_FAILED', statusMessage: expect.stringContaining('pipeline_input_type') });
      expect(await registerService({ ...withPipeline, 'schema/schema.yaml': schema(true) }, environmentTemplate)).toMatchObject({ status: 'DRAFT' });
      const { 'pipeline_infrastructure/manifest.yaml': _, 'pipeline_infrastructure/cloudformation.yaml': __, ...instanceOnly } = withPipeline;
      expect(await registerService(instanceOnly, environmentTemplate, 'CUSTOMER_MANAGED')).toMatchObject({ status: 'DRAFT' });
    });
  });

  describe('specs against the schema ("Schema file": "AWS Proton uses the schema file to match, validate, and inject")', () => {
    async function publishedEnvironmentTemplate() {
      const version = await registerEnvironment(ENV_BUNDLE);
      await proton().send(new UpdateEnvironmentTemplateVersionCommand({
        templateName: version.name, majorVersion: version.majorVersion, minorVersion: version.minorVersion, status: 'PUBLISHED',
      }));
      return version.name;
    }
    const create = (templateName: string, spec: string) => proton().send(new CreateEnvironmentCommand({
      name: 'prod', templateName, templateMajorVersion: '1', spec, protonServiceRoleArn: SERVICE_ROLE,
    }));

    test('"If a parameter doesn\'t have a default value and is listed as a required property, you must provide a value for it"', async () => {
      const template = await publishedEnvironmentTemplate();
      await expect(create(template, 'proton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.1.0.0/16\n'))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('my_other_sample_input') });
    });

    test('"you can accept the default values or provide your own": an input with a default may be left out', async () => {
      const template = await publishedEnvironmentTemplate();
      await create(template, 'proton: EnvironmentSpec\nspec:\n  my_other_sample_input: hello\n');
      w.advance();
      expect((await proton().send(new GetEnvironmentCommand({ name: 'prod' }))).environment!.deploymentStatus).toBe('SUCCEEDED');
    });

    test('the schema\'s pattern is validated: a vpc_cidr that does not match it is refused', async () => {
      const template = await publishedEnvironmentTemplate();
      await expect(create(template, 'proton: EnvironmentSpec\nspec:\n  my_other_sample_input: hello\n  vpc_cidr: not-a-cidr\n'))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('vpc_cidr') });
    });

    test('the schema\'s types are validated: a string input given a mapping is refused', async () => {
      const template = await publishedEnvironmentTemplate();
      await expect(create(template, 'proton: EnvironmentSpec\nspec:\n  my_other_sample_input:\n    nested: value\n'))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('my_other_sample_input') });
    });

    test('a spec file starts with "proton: EnvironmentSpec" (the User Guide\'s spec examples): another kind is refused', async () => {
      const template = await publishedEnvironmentTemplate();
      await expect(create(template, 'proton: ServiceSpec\nspec:\n  my_other_sample_input: hello\n'))
        .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('EnvironmentSpec') });
    });
  });
});
