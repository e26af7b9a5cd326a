import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { BundleError, BundleFile, checkBundle, packBundle, packBundleSync, TemplateKind, unpackBundle } from '../src/private/bundle';
import { validateInputs } from '../src/private/schema';

const SAMPLES = join(__dirname, 'fixtures', 'proton-samples');

/** Every file under a folder, dotfiles included, as `tar -zcvf` of the folder would hold them. */
function readFolder(root: string): BundleFile[] {
  const files: BundleFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push({ path: relative(root, path).split(sep).join('/'), content: readFileSync(path) });
    }
  };
  walk(root);
  return files;
}

function file(path: string, text: string): BundleFile {
  return { path, content: Buffer.from(text) };
}

const CFN_MANIFEST = 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n';
const CFN = 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: "{{ environment.name }}"\n';
const ENV_SCHEMA = 'schema:\n  format: { openapi: "3.0.0" }\n  environment_input_type: EnvInput\n  types:\n    EnvInput: { type: object, properties: { name: { type: string } } }\n';
const SVC_SCHEMA = 'schema:\n  format: { openapi: "3.0.0" }\n  service_input_type: SvcInput\n  pipeline_input_type: PipeInput\n  types:\n'
  + '    SvcInput: { type: object, properties: { port: { type: number } } }\n    PipeInput: { type: object, properties: { dockerfile: { type: string } } }\n';
const SVC_SCHEMA_NO_PIPELINE = 'schema:\n  format: { openapi: "3.0.0" }\n  service_input_type: SvcInput\n  types:\n    SvcInput: { type: object, properties: { port: { type: number } } }\n';

function envBundle(): BundleFile[] {
  return [file('schema/schema.yaml', ENV_SCHEMA), file('infrastructure/manifest.yaml', CFN_MANIFEST), file('infrastructure/cloudformation.yaml', CFN)];
}

/** In path order. */
function serviceBundle(): BundleFile[] {
  return [
    file('instance_infrastructure/cloudformation.yaml', CFN),
    file('instance_infrastructure/manifest.yaml', CFN_MANIFEST),
    file('pipeline_infrastructure/cloudformation.yaml', CFN),
    file('pipeline_infrastructure/manifest.yaml', CFN_MANIFEST),
    file('schema/schema.yaml', SVC_SCHEMA),
  ];
}

function replace(files: BundleFile[], path: string, text: string): BundleFile[] {
  return files.map(f => (f.path === path ? file(path, text) : f));
}

function without(files: BundleFile[], prefix: string): BundleFile[] {
  return files.filter(f => !f.path.startsWith(prefix));
}

function withManifest(manifest: string, extra: BundleFile[] = []): BundleFile[] {
  return [...replace(envBundle(), 'infrastructure/manifest.yaml', manifest), ...extra];
}

function check(files: BundleFile[], kind: TemplateKind = 'ENVIRONMENT', customerManaged = false) {
  return () => checkBundle(files, kind, customerManaged);
}

/** Builds a tar.gz with tar-stream's own packer, the way other tools lay archives out. */
async function tarGz(entries: Array<{ header: Partial<tar.Header> & { name: string }; content?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.content === undefined) pack.entry(entry.header);
    else pack.entry(entry.header, entry.content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

async function tarHeaders(archive: Buffer): Promise<tar.Header[]> {
  const extract = tar.extract();
  extract.end(gunzipSync(archive));
  const headers: tar.Header[] = [];
  for await (const entry of extract) {
    headers.push(entry.header);
    entry.resume();
  }
  return headers;
}

describe('the AWS sample bundles', () => {
  const bundles: Array<[string, TemplateKind]> = [
    ['environment-templates/vpc-env/v1', 'ENVIRONMENT'],
    ['environment-templates/fargate-env/v1', 'ENVIRONMENT'],
    ['lambda-multi-svc/lambda-env/v1', 'ENVIRONMENT'],
    ['service-templates/apigw-lambda-svc/v1', 'SERVICE'],
    ['service-templates/backend-fargate-svc/v1', 'SERVICE'],
    ['service-templates/load-balanced-fargate-svc/v1', 'SERVICE'],
    ['lambda-multi-svc/service-crud/v1', 'SERVICE'],
    ['lambda-multi-svc/service-data-processing/v1', 'SERVICE'],
  ];

  test.each(bundles)('%s passes checkBundle as %s and round-trips through pack and unpack', async (dir, kind) => {
    const files = readFolder(join(SAMPLES, dir));
    const checked = checkBundle(files, kind, false);
    expect(checked.files).toBe(files);
    expect(kind === 'ENVIRONMENT' ? checked.schema.environmentInputType : checked.schema.serviceInputType).toBeDefined();
    const unpacked = await unpackBundle(await packBundle(files));
    expect(unpacked).toEqual([...files].sort((a, b) => (a.path < b.path ? -1 : 1)));
  });

  test('every sample bundle is listed above', () => {
    const found = ['environment-templates', 'service-templates', 'lambda-multi-svc']
      .flatMap(group => readdirSync(join(SAMPLES, group)).map(name => `${group}/${name}/v1`))
      .filter(dir => { try { return statSync(join(SAMPLES, dir)).isDirectory(); } catch { return false; } });
    expect(found.sort()).toEqual(bundles.map(([dir]) => dir).sort());
  });

  function schemaOf(dir: string) {
    return checkBundle(readFolder(join(SAMPLES, dir)), bundles.find(([d]) => d === dir)![1], false).schema;
  }

  test.each([
    ['environment-templates/vpc-env', 'environment-templates/vpc-env/spec/spec.yaml'],
    ['environment-templates/fargate-env', 'environment-templates/fargate-env/spec/spec.yaml'],
    ['lambda-multi-svc/lambda-env', 'lambda-multi-svc/specs/env-spec.yaml'],
  ])('the environment spec of %s validates against environment_input_type', (template, specFile) => {
    const schema = schemaOf(`${template}/v1`);
    const spec = parseYaml(readFileSync(join(SAMPLES, specFile), 'utf8'));
    expect(spec.proton).toBe('EnvironmentSpec');
    expect(validateInputs(schema, schema.environmentInputType!, spec.spec).errors).toEqual([]);
  });

  test.each([
    'service-templates/apigw-lambda-svc',
    'service-templates/backend-fargate-svc',
    'service-templates/load-balanced-fargate-svc',
  ])('the service spec of %s validates: each instance against service_input_type, the pipeline against pipeline_input_type', template => {
    const schema = schemaOf(`${template}/v1`);
    const spec = parseYaml(readFileSync(join(SAMPLES, template, 'spec', 'spec.yaml'), 'utf8'));
    expect(spec.proton).toBe('ServiceSpec');
    for (const instance of spec.instances) {
      expect(validateInputs(schema, schema.serviceInputType!, instance.spec).errors).toEqual([]);
    }
    expect(validateInputs(schema, schema.pipelineInputType!, spec.pipeline).errors).toEqual([]);
  });

  test('the lambda-multi-svc service spec: its instance validates; its pipeline misspells packaging_command, an unknown input', () => {
    const schema = schemaOf('lambda-multi-svc/service-crud/v1');
    const spec = parseYaml(readFileSync(join(SAMPLES, 'lambda-multi-svc', 'specs', 'svc-spec.yaml'), 'utf8'));
    const instance = validateInputs(schema, schema.serviceInputType!, spec.instances[0].spec);
    expect(instance.errors).toEqual([]);
    expect(instance.inputs).toMatchObject({ resource_name: 'task', lambda_memory: 512, lambda_timeout: 30, lambda_runtime: 'ruby2.7' });
    expect(validateInputs(schema, schema.pipelineInputType!, spec.pipeline).errors.map(e => e.message))
      .toEqual(['unknown input "packaging_commands": the schema\'s inputs are unit_test_command, packaging_command']);
  });
});

describe('checkBundle limits and paths', () => {
  test('at most 10 files', () => {
    const files = [...envBundle(), ...Array.from({ length: 8 }, (_, i) => file(`extra/file${i}.yaml`, 'a: 1'))];
    expect(check(files)).toThrow(BundleError);
    expect(check(files)).toThrow(/^the bundle has 11 files \(extra\/file0.yaml, .*, schema\/schema.yaml\); a template bundle holds at most 10$/);
  });

  test('at most 50 KB for manifest and schema files', () => {
    const big = `${CFN_MANIFEST}# ${'x'.repeat(50 * 1024)}\n`;
    expect(check(replace(envBundle(), 'infrastructure/manifest.yaml', big)))
      .toThrow(`infrastructure/manifest.yaml: ${big.length} bytes is more than the 50 KB allowed for a manifest or schema file`);
    expect(check(replace(envBundle(), 'schema/schema.yaml', `${ENV_SCHEMA}# ${'x'.repeat(50 * 1024)}\n`)))
      .toThrow(/^schema\/schema.yaml: \d+ bytes is more than the 50 KB allowed for a manifest or schema file$/);
  });

  test('at most 200 KB for any other file', () => {
    const fits = `${CFN}# ${'x'.repeat(150 * 1024)}\n`;
    expect(check(replace(envBundle(), 'infrastructure/cloudformation.yaml', fits))).not.toThrow();
    const big = `${CFN}# ${'x'.repeat(200 * 1024)}\n`;
    expect(check(replace(envBundle(), 'infrastructure/cloudformation.yaml', big)))
      .toThrow(`infrastructure/cloudformation.yaml: ${big.length} bytes is more than the 200 KB allowed for a template file`);
  });

  test('a path may appear once', () => {
    expect(check([...envBundle(), file('infrastructure/cloudformation.yaml', CFN)])).toThrow('infrastructure/cloudformation.yaml: appears twice in the bundle');
  });

  test.each(['../escape.yaml', '/abs.yaml', 'a\\b.yaml', './schema/x.yaml', 'a//b.yaml', 'dir/'])('%s is not a valid bundle path', path => {
    expect(check([...envBundle(), file(path, 'a: 1')])).toThrow(`${JSON.stringify(path)}: not a valid bundle path`);
  });
});

describe('checkBundle schema and layout', () => {
  test('schema/schema.yaml is required', () => {
    expect(check(without(envBundle(), 'schema/'))).toThrow('schema/schema.yaml: missing (every template bundle needs schema/schema.yaml)');
  });

  test('schema errors become BundleErrors naming the schema file', () => {
    expect(check(replace(envBundle(), 'schema/schema.yaml', 'types: {}'))).toThrow(BundleError);
    expect(check(replace(envBundle(), 'schema/schema.yaml', 'types: {}'))).toThrow('schema/schema.yaml: the "schema" root key is required');
  });

  test('environment templates need environment_input_type', () => {
    expect(check(replace(envBundle(), 'schema/schema.yaml', SVC_SCHEMA_NO_PIPELINE)))
      .toThrow('schema/schema.yaml: schema.environment_input_type is required in an environment template');
  });

  test('environment templates may not declare service or pipeline input types', () => {
    const mixed = ENV_SCHEMA.replace('  types:', '  service_input_type: EnvInput\n  types:');
    expect(check(replace(envBundle(), 'schema/schema.yaml', mixed)))
      .toThrow('schema/schema.yaml: schema.service_input_type is not allowed in an environment template');
  });

  test('environment templates need infrastructure/manifest.yaml', () => {
    expect(check(without(envBundle(), 'infrastructure/manifest')))
      .toThrow('infrastructure/manifest.yaml: missing (environment templates need infrastructure/manifest.yaml)');
  });

  test('CUSTOMER_MANAGED environment templates hold only schema/', () => {
    expect(checkBundle(without(envBundle(), 'infrastructure/'), 'ENVIRONMENT', true).schema.environmentInputType).toBe('EnvInput');
    expect(check(envBundle(), 'ENVIRONMENT', true))
      .toThrow('infrastructure/cloudformation.yaml: not allowed (a CUSTOMER_MANAGED environment template holds only schema/');
  });

  test('service templates need service_input_type', () => {
    expect(check(replace(serviceBundle(), 'schema/schema.yaml', ENV_SCHEMA), 'SERVICE'))
      .toThrow('schema/schema.yaml: schema.service_input_type is required in a service template');
  });

  test('service templates may not declare environment_input_type', () => {
    const mixed = SVC_SCHEMA.replace('  types:', '  environment_input_type: SvcInput\n  types:');
    expect(check(replace(serviceBundle(), 'schema/schema.yaml', mixed), 'SERVICE'))
      .toThrow('schema/schema.yaml: schema.environment_input_type is not allowed in a service template');
  });

  test('service templates need instance_infrastructure/manifest.yaml', () => {
    expect(check(without(serviceBundle(), 'instance_infrastructure/'), 'SERVICE'))
      .toThrow('instance_infrastructure/manifest.yaml: missing (service templates need instance_infrastructure/manifest.yaml)');
  });

  test('service templates with a Proton pipeline need pipeline_infrastructure/manifest.yaml', () => {
    expect(check(without(serviceBundle(), 'pipeline_infrastructure/'), 'SERVICE'))
      .toThrow('pipeline_infrastructure/manifest.yaml: missing (service templates need pipeline_infrastructure/manifest.yaml)');
  });

  test('service templates with a Proton pipeline need pipeline_input_type', () => {
    expect(check(replace(serviceBundle(), 'schema/schema.yaml', SVC_SCHEMA_NO_PIPELINE), 'SERVICE'))
      .toThrow(/^schema\/schema.yaml: schema.pipeline_input_type is required in a service template with a Proton pipeline/);
  });

  test('service templates with a CUSTOMER_MANAGED pipeline have no pipeline', () => {
    const noPipeline = replace(without(serviceBundle(), 'pipeline_infrastructure/'), 'schema/schema.yaml', SVC_SCHEMA_NO_PIPELINE);
    expect(checkBundle(noPipeline, 'SERVICE', true).schema.pipelineInputType).toBeUndefined();
    expect(check(replace(serviceBundle(), 'schema/schema.yaml', SVC_SCHEMA_NO_PIPELINE), 'SERVICE', true))
      .toThrow('pipeline_infrastructure/cloudformation.yaml: not allowed when the pipeline is CUSTOMER_MANAGED');
    expect(check(without(serviceBundle(), 'pipeline_infrastructure/'), 'SERVICE', true))
      .toThrow('schema/schema.yaml: schema.pipeline_input_type is not allowed when the pipeline is CUSTOMER_MANAGED');
  });
});

describe('checkBundle manifests', () => {
  test('infrastructure.templates must be a non-empty list', () => {
    expect(check(withManifest('infrastructure:\n  templates: []\n')))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates must be a non-empty list of templates');
    expect(check(withManifest('templates: []\n'))).toThrow('infrastructure/manifest.yaml: infrastructure.templates must be a non-empty list');
  });

  test('each template is a mapping', () => {
    expect(check(withManifest('infrastructure:\n  templates: [cloudformation.yaml]\n')))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0] must be a mapping with file, rendering_engine and template_language');
  });

  test('rendering_engine is jinja, hcl or codebuild', () => {
    expect(check(withManifest(CFN_MANIFEST.replace('jinja', 'mustache'))))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].rendering_engine "mustache" is not one of jinja, hcl, codebuild');
  });

  test('template_language matches the engine', () => {
    expect(check(withManifest(CFN_MANIFEST.replace('cloudformation\n', 'terraform\n'))))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].template_language "terraform" must be cloudformation for the jinja rendering engine');
  });

  test('file is required', () => {
    expect(check(withManifest(CFN_MANIFEST.replace('- file: cloudformation.yaml\n      ', '- '))))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].file is required');
  });

  test('file "*" is for Terraform only', () => {
    expect(check(withManifest(CFN_MANIFEST.replace('file: cloudformation.yaml', 'file: "*"'))))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].file "*" is only allowed with the hcl rendering engine');
  });

  test('the referenced file must be in the bundle', () => {
    expect(check(withManifest(CFN_MANIFEST.replace('file: cloudformation.yaml', 'file: template.yaml'))))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].file "template.yaml" is not in the bundle (expected infrastructure/template.yaml)');
  });

  test('a CloudFormation manifest lists exactly one template', () => {
    const two = `${CFN_MANIFEST}    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n`;
    expect(check(withManifest(two))).toThrow('infrastructure/manifest.yaml: a CloudFormation manifest lists exactly one template file');
  });

  const TERRAFORM = 'infrastructure:\n  templates:\n    - file: "*"\n      rendering_engine: hcl\n      template_language: terraform\n';

  test('Terraform: "*" takes every .tf file, which need not be YAML', () => {
    const files = [...without(envBundle(), 'infrastructure/cloudformation'), file('infrastructure/main.tf', 'resource "aws_s3_bucket" "b" {\n  bucket = var.environment.inputs.name\n}\n')];
    expect(() => checkBundle(replace(files, 'infrastructure/manifest.yaml', TERRAFORM), 'ENVIRONMENT', false)).not.toThrow();
    expect(check(replace(without(envBundle(), 'infrastructure/cloudformation'), 'infrastructure/manifest.yaml', TERRAFORM)))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].file "*" matches no .tf file in infrastructure/');
  });

  test('codebuild needs settings.provision commands', () => {
    const codebuild = 'infrastructure:\n  templates:\n    - rendering_engine: codebuild\n      settings:\n        image: aws/codebuild/amazonlinux2-x86_64-standard:4.0\n';
    expect(check(withManifest(codebuild)))
      .toThrow('infrastructure/manifest.yaml: infrastructure.templates[0].settings.provision must be a non-empty list of commands for the codebuild rendering engine');
    const withProvision = `${codebuild}        provision:\n          - terraform apply -auto-approve\n`;
    expect(check(withManifest(withProvision))).not.toThrow();
  });

  test('a manifest must be valid YAML', () => {
    expect(check(withManifest('infrastructure: [\n'))).toThrow(/^infrastructure\/manifest.yaml: not valid YAML/);
  });
});

describe('checkBundle YAML', () => {
  test('every file but Terraform\'s must be valid YAML, whatever its name', () => {
    expect(check([...envBundle(), file('README.md', '# Title\n- a\nb: [')])).toThrow(/^README.md: not valid YAML \(every file but Terraform's must be\): /);
    expect(check([...envBundle(), file('infrastructure/values.tfvars', 'name = "x"\n{')])).not.toThrow();
  });

  test('CloudFormation tags such as !Ref are valid', () => {
    expect(check(replace(envBundle(), 'infrastructure/cloudformation.yaml', `${CFN}Outputs:\n  Arn:\n    Value: !Ref Topic\n`))).not.toThrow();
  });

  test('Jinja templates are checked with their Jinja blanked; other files are not', () => {
    const jinja = 'Resources:\n{% for name in environment.inputs.names %}\n  Topic{{ name }}:\n    Type: AWS::SNS::Topic\n{% endfor %}\n';
    expect(check(replace(envBundle(), 'infrastructure/cloudformation.yaml', jinja))).not.toThrow();
    expect(check([...envBundle(), file('extra/loop.yaml', jinja)])).toThrow(/^extra\/loop.yaml: not valid YAML/);
    const broken = 'Resources:\n{% if true %}\n  Topic: [\n{% endif %}\n';
    expect(check(replace(envBundle(), 'infrastructure/cloudformation.yaml', broken))).toThrow(/^infrastructure\/cloudformation.yaml: not valid YAML/);
  });
});

describe('packBundle', () => {
  test('the same files in any order give the same bytes, sync or async', async () => {
    const files = serviceBundle();
    const packed = await packBundle(files);
    expect((await packBundle([...files].reverse())).equals(packed)).toBe(true);
    expect(packBundleSync(files).equals(packed)).toBe(true);
  });

  test('a different content gives different bytes', async () => {
    const changed = replace(serviceBundle(), 'instance_infrastructure/cloudformation.yaml', `${CFN}# changed\n`);
    expect((await packBundle(changed)).equals(await packBundle(serviceBundle()))).toBe(false);
  });

  test('the gzip header has mtime 0 and the Unix OS byte, whatever the platform', async () => {
    const packed = await packBundle(envBundle());
    expect([...packed.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]);
    expect(packed.readUInt32LE(4)).toBe(0);
    expect(packed[9]).toBe(3);
  });

  test('entries are files at the archive root, sorted, with fixed metadata and no directories', async () => {
    const headers = await tarHeaders(await packBundle([...serviceBundle()].reverse()));
    expect(headers.map(h => h.name)).toEqual([
      'instance_infrastructure/cloudformation.yaml',
      'instance_infrastructure/manifest.yaml',
      'pipeline_infrastructure/cloudformation.yaml',
      'pipeline_infrastructure/manifest.yaml',
      'schema/schema.yaml',
    ]);
    for (const header of headers) {
      expect(header).toMatchObject({ type: 'file', mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date('2000-01-01T00:00:00Z') });
    }
  });

  test('long paths use the ustar prefix; paths a tar header cannot hold are refused', async () => {
    const deep = `${'d'.repeat(90)}/${'e'.repeat(90)}/file.yaml`;
    expect((await unpackBundle(await packBundle([file(deep, 'a: 1')]))).map(f => f.path)).toEqual([deep]);
    expect(() => packBundleSync([file('infrastructure/café.yaml', 'a: 1')]))
      .toThrow('infrastructure/café.yaml: a bundle path must be ASCII, at most 100 characters per file name and 255 in all');
    expect(() => packBundleSync([file('../x.yaml', 'a: 1')])).toThrow(BundleError);
  });
});

describe('unpackBundle', () => {
  test('round-trips packBundle, sorted by path', async () => {
    const files = serviceBundle();
    expect(await unpackBundle(await packBundle([...files].reverse()))).toEqual(files);
  });

  test('skips directory entries and strips a leading ./', async () => {
    const archive = await tarGz([
      { header: { name: './', type: 'directory' } },
      { header: { name: './schema/', type: 'directory' } },
      { header: { name: './schema/schema.yaml' }, content: ENV_SCHEMA },
      { header: { name: 'infrastructure/manifest.yaml' }, content: CFN_MANIFEST },
    ]);
    expect(await unpackBundle(archive)).toEqual([file('infrastructure/manifest.yaml', CFN_MANIFEST), file('schema/schema.yaml', ENV_SCHEMA)]);
  });

  test('strips a wrapping folder holding schema/schema.yaml, as `tar -zcvf x.tar.gz lambda-env/` lays out the samples', async () => {
    const sample = readFolder(join(SAMPLES, 'lambda-multi-svc', 'lambda-env'));
    const archive = await tarGz([
      { header: { name: 'lambda-env/', type: 'directory' } },
      { header: { name: 'lambda-env/v1/', type: 'directory' } },
      ...sample.map(f => ({ header: { name: `lambda-env/${f.path}` }, content: f.content.toString() })),
    ]);
    const unpacked = await unpackBundle(archive);
    expect(unpacked.map(f => f.path)).toEqual(['infrastructure/cloudformation.yaml', 'infrastructure/manifest.yaml', 'schema/schema.yaml']);
    expect(() => checkBundle(unpacked, 'ENVIRONMENT', false)).not.toThrow();
  });

  test('keeps the layout when files sit outside the folder holding the schema', async () => {
    const archive = await tarGz([
      { header: { name: 'v1/schema/schema.yaml' }, content: ENV_SCHEMA },
      { header: { name: 'README.md' }, content: 'readme' },
    ]);
    expect((await unpackBundle(archive)).map(f => f.path)).toEqual(['README.md', 'v1/schema/schema.yaml']);
  });

  test('refuses archives over 5 MB', async () => {
    await expect(unpackBundle(Buffer.alloc(5 * 1024 * 1024 + 1))).rejects.toThrow(
      'the bundle archive is 5242881 bytes, more than the 5 MB allowed for a template bundle');
  });

  test('refuses archives that are not gzip, or expand beyond 5 MB', async () => {
    await expect(unpackBundle(Buffer.from('not gzip'))).rejects.toThrow(/^the bundle archive is not a gzip-compressed tar file within 5 MB: /);
    await expect(unpackBundle(gzipSync(Buffer.alloc(6 * 1024 * 1024)))).rejects.toThrow(BundleError);
  });

  test('refuses gzip that is not a tar', async () => {
    await expect(unpackBundle(gzipSync(Buffer.from('x'.repeat(1024))))).rejects.toThrow(/^the bundle archive is not a valid tar file: /);
  });

  test('refuses links and paths outside the bundle', async () => {
    await expect(unpackBundle(await tarGz([{ header: { name: 'schema/schema.yaml', type: 'symlink', linkname: '/etc/passwd' } }])))
      .rejects.toThrow('schema/schema.yaml: a template bundle holds regular files only, not a symlink');
    await expect(unpackBundle(await tarGz([{ header: { name: '../schema.yaml' }, content: 'a: 1' }])))
      .rejects.toThrow('"../schema.yaml": not a valid bundle path');
  });
});
