import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { TemplateBundle, TemplateBundleKind } from '../src';
import * as bundleModule from '../src/private/bundle';

const SAMPLES = join(__dirname, 'fixtures', 'proton-samples');
const VPC_ENV = join(SAMPLES, 'environment-templates', 'vpc-env', 'v1');
const FARGATE_SVC = join(SAMPLES, 'service-templates', 'load-balanced-fargate-svc', 'v1');

const scratch: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdk-proton-test-'));
  scratch.push(dir);
  return dir;
}
afterAll(() => scratch.forEach(dir => rmSync(dir, { recursive: true, force: true })));

/** A copy of a sample bundle, to change freely. */
function copyOf(bundle: string): string {
  const dir = join(tempDir(), 'bundle');
  cpSync(bundle, dir, { recursive: true });
  return dir;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map(p => join(dir, p)).filter(p => statSync(p).isFile());
}

/**
 * Binds a bundle in a fresh app, packing it afresh (the bundle cache is cleared first),
 * and returns the staged archive's bytes and the asset hash.
 */
function synthesizeArchive(directory: string, kind = TemplateBundleKind.ENVIRONMENT): { bytes: Buffer; assetHash: string } {
  const bundle = TemplateBundle.fromDirectory(directory);
  rmSync(join(tmpdir(), 'cdk-proton-bundles', `${bundle.contentHash}.tar.gz`), { force: true });
  const app = new App({ outdir: tempDir() });
  const stack = new Stack(app, 'Stack');
  const { asset } = bundle.bind(stack, { kind });
  const assembly = app.synth();
  return { bytes: readFileSync(join(assembly.directory, asset.assetPath)), assetHash: asset.assetHash };
}

describe('TemplateBundle.fromDirectory', () => {
  test('reads the schema\'s input types', () => {
    const env = TemplateBundle.fromDirectory(VPC_ENV);
    expect(env.directory).toBe(VPC_ENV);
    expect(env.environmentInputType).toBe('VPCEnvironmentInput');
    expect(env.serviceInputType).toBeUndefined();
    const svc = TemplateBundle.fromDirectory(FARGATE_SVC);
    expect(svc.serviceInputType).toBe('LoadBalancedFargateServiceInput');
    expect(svc.pipelineInputType).toBe('PipelineInputs');
    expect(svc.environmentInputType).toBeUndefined();
  });

  test('resolves a relative directory', () => {
    const relativeDir = join('test', 'fixtures', 'proton-samples', 'environment-templates', 'vpc-env', 'v1');
    expect(TemplateBundle.fromDirectory(relativeDir).directory).toBe(join(process.cwd(), relativeDir));
  });

  test('a missing folder is an error naming it', () => {
    expect(() => TemplateBundle.fromDirectory('no/such/folder')).toThrow('TemplateBundle.fromDirectory: "no/such/folder" is not a folder');
  });

  test('a missing schema is an error naming the file', () => {
    const dir = copyOf(VPC_ENV);
    rmSync(join(dir, 'schema'), { recursive: true });
    expect(() => TemplateBundle.fromDirectory(dir)).toThrow(`Template bundle ${dir}: schema/schema.yaml: missing`);
  });

  test('an invalid schema throws at once, naming the file and the rule', () => {
    const dir = copyOf(VPC_ENV);
    const schemaFile = join(dir, 'schema', 'schema.yaml');
    writeFileSync(schemaFile, readFileSync(schemaFile, 'utf8').replace('"3.0.0"', '"2.0"'));
    expect(() => TemplateBundle.fromDirectory(dir))
      .toThrow(`Template bundle ${dir}: schema/schema.yaml: schema.format.openapi must be "3.0.0", got string "2.0"`);
  });
});

describe('TemplateBundle.contentHash', () => {
  test('skips dotfiles such as .compatible-envs', () => {
    const dir = copyOf(FARGATE_SVC);
    const before = TemplateBundle.fromDirectory(dir).contentHash;
    rmSync(join(dir, '.compatible-envs'));
    writeFileSync(join(dir, 'schema', '.DS_Store'), 'finder junk');
    expect(TemplateBundle.fromDirectory(dir).contentHash).toBe(before);
  });

  test('changes with any content or path', () => {
    const original = TemplateBundle.fromDirectory(VPC_ENV).contentHash;
    const edited = copyOf(VPC_ENV);
    writeFileSync(join(edited, 'infrastructure', 'cloudformation.yaml'), '# edited\n', { flag: 'a' });
    expect(TemplateBundle.fromDirectory(edited).contentHash).not.toBe(original);
    const moved = copyOf(VPC_ENV);
    cpSync(join(moved, 'infrastructure', 'cloudformation.yaml'), join(moved, 'infrastructure', 'template.yaml'));
    rmSync(join(moved, 'infrastructure', 'cloudformation.yaml'));
    expect(TemplateBundle.fromDirectory(moved).contentHash).not.toBe(original);
  });

  test('a copy elsewhere with other file times and permissions gives the same hash and the same archive bytes', () => {
    const copy = copyOf(VPC_ENV);
    for (const path of allFiles(copy)) {
      utimesSync(path, new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
      chmodSync(path, 0o600);
    }
    expect(TemplateBundle.fromDirectory(copy).contentHash).toBe(TemplateBundle.fromDirectory(VPC_ENV).contentHash);
    const original = synthesizeArchive(VPC_ENV);
    const copied = synthesizeArchive(copy);
    expect(copied.bytes.equals(original.bytes)).toBe(true);
    expect(copied.assetHash).toBe(original.assetHash);
  });
});

describe('TemplateBundle.validateInputs', () => {
  const bundle = TemplateBundle.fromDirectory(FARGATE_SVC);

  test('returns the inputs with the schema\'s defaults', () => {
    expect(bundle.validateInputs('LoadBalancedFargateServiceInput', { port: 8080 })).toEqual({
      port: 8080,
      desired_count: 1,
      task_size: 'x-small',
      subnet_type: 'public',
      loadbalancer_type: 'application',
      image: 'public.ecr.aws/nginx/nginx:1.21',
      backendurl: 'backend-svc-inst.backend-svc.fargate-env.local:80',
    });
  });

  test('throws listing every problem', () => {
    expect(() => bundle.validateInputs('LoadBalancedFargateServiceInput', { port: 70000, task_size: 'huge', prot: 1 })).toThrow([
      `Invalid inputs for LoadBalancedFargateServiceInput of template bundle ${FARGATE_SVC}:`,
      '  - unknown input "prot": the schema\'s inputs are port, desired_count, task_size, subnet_type, loadbalancer_type, image, backendurl',
      '  - input "port": 70000 is greater than the maximum 65535',
      '  - input "task_size": "huge" is not one of x-small, small, medium, large, x-large',
    ].join('\n'));
  });

  test('an unknown input type is an error naming the types', () => {
    expect(() => bundle.validateInputs('Nope', {})).toThrow('the schema has no type "Nope" (types: LoadBalancedFargateServiceInput, PipelineInputs)');
  });
});

describe('TemplateBundle.bind', () => {
  test('uploads the bundle as an asset keyed by the content hash, once per stack whatever the scope', () => {
    const stack = new Stack();
    const bundle = TemplateBundle.fromDirectory(FARGATE_SVC);
    const config = bundle.bind(new Construct(stack, 'VersionOne'), { kind: TemplateBundleKind.SERVICE });
    const again = TemplateBundle.fromDirectory(FARGATE_SVC).bind(new Construct(stack, 'VersionTwo'), { kind: TemplateBundleKind.SERVICE });
    expect(again.asset).toBe(config.asset);
    expect(stack.node.children.filter(c => c.node.id.startsWith('TemplateBundle'))).toHaveLength(1);
    // The CDK hashes a custom asset hash once more.
    expect(config.asset.assetHash).toBe(createHash('sha256').update(bundle.contentHash).digest('hex'));

    new CfnOutput(stack, 'Bucket', { value: config.bucketName });
    new CfnOutput(stack, 'Key', { value: config.objectKey });
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(outputs.Key.Value).toBe(`${config.asset.assetHash}.gz`);
    expect(JSON.stringify(outputs.Bucket.Value)).toContain('cdk-hnb659fds-assets');
  });

  test('the asset hash follows the content, not the folder', () => {
    const original = synthesizeArchive(VPC_ENV);
    const edited = copyOf(VPC_ENV);
    writeFileSync(join(edited, 'infrastructure', 'cloudformation.yaml'), '# edited\n', { flag: 'a' });
    expect(synthesizeArchive(edited).assetHash).not.toBe(original.assetHash);
  });

  test('each stack gets its own asset', () => {
    const app = new App();
    const bundle = TemplateBundle.fromDirectory(VPC_ENV);
    const one = bundle.bind(new Stack(app, 'One'), { kind: TemplateBundleKind.ENVIRONMENT });
    const two = bundle.bind(new Stack(app, 'Two'), { kind: TemplateBundleKind.ENVIRONMENT });
    expect(two.asset).not.toBe(one.asset);
    expect(two.asset.assetHash).toBe(one.asset.assetHash);
  });

  test('a bundle that breaks a rule for its kind throws at synth, naming the file and the rule', () => {
    const stack = new Stack();
    expect(() => TemplateBundle.fromDirectory(FARGATE_SVC).bind(stack, { kind: TemplateBundleKind.ENVIRONMENT }))
      .toThrow(`Template bundle ${FARGATE_SVC}: schema/schema.yaml: schema.environment_input_type is required in an environment template`);
    expect(() => TemplateBundle.fromDirectory(VPC_ENV).bind(stack, { kind: TemplateBundleKind.ENVIRONMENT, customerManaged: true }))
      .toThrow(`Template bundle ${VPC_ENV}: infrastructure/cloudformation.yaml: not allowed (a CUSTOMER_MANAGED environment template holds only schema/`);
  });

  test('a manifest naming a missing file throws at synth', () => {
    const dir = copyOf(VPC_ENV);
    rmSync(join(dir, 'infrastructure', 'cloudformation.yaml'));
    expect(() => TemplateBundle.fromDirectory(dir).bind(new Stack(), { kind: TemplateBundleKind.ENVIRONMENT }))
      .toThrow(`Template bundle ${dir}: infrastructure/manifest.yaml: infrastructure.templates[0].file "cloudformation.yaml" is not in the bundle`);
  });

  test('a bundle\'s layout is checked once per content and kind: versions of one bundle do not check it again', () => {
    const dir = copyOf(VPC_ENV);
    writeFileSync(join(dir, 'infrastructure', 'cloudformation.yaml'), '# checked once\n', { flag: 'a' });
    const check = jest.spyOn(bundleModule, 'checkBundle');
    try {
      const app = new App();
      for (const id of ['One', 'Two', 'Three']) {
        TemplateBundle.fromDirectory(dir).bind(new Stack(app, id), { kind: TemplateBundleKind.ENVIRONMENT });
      }
      expect(check).toHaveBeenCalledTimes(1);
      // Another kind, or CUSTOMER_MANAGED, is a check of its own: the passed one does not stand for it.
      expect(() => TemplateBundle.fromDirectory(dir).bind(new Stack(app, 'Service'), { kind: TemplateBundleKind.SERVICE }))
        .toThrow(`Template bundle ${dir}: schema/schema.yaml:`);
      expect(() => TemplateBundle.fromDirectory(dir).bind(new Stack(app, 'Managed'), { kind: TemplateBundleKind.ENVIRONMENT, customerManaged: true }))
        .toThrow('not allowed (a CUSTOMER_MANAGED environment template holds only schema/');
      expect(check).toHaveBeenCalledTimes(3);
    } finally {
      check.mockRestore();
    }
  });

  test('a CUSTOMER_MANAGED environment bundle holding only schema/ binds', () => {
    const dir = copyOf(VPC_ENV);
    rmSync(join(dir, 'infrastructure'), { recursive: true });
    const config = TemplateBundle.fromDirectory(dir).bind(new Stack(), { kind: TemplateBundleKind.ENVIRONMENT, customerManaged: true });
    expect(config.asset.assetHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
