import { execFile } from 'child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { promisify } from 'util';
import { SAMPLES_DIR } from './helpers';
import { main } from '../../src/local/cli';
import { parseCloudFormation } from '../../src/render/cloudformation';

const ROOT = join(__dirname, '..', '..');
const sample = (path: string) => join(SAMPLES_DIR, path);
const VPC_ENV = sample('environment-templates/vpc-env/v1');
const BACKEND_SVC = sample('service-templates/backend-fargate-svc/v1');
const APIGW_SVC = sample('service-templates/apigw-lambda-svc/v1');

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'render-cli-')), name);
  writeFileSync(path, content);
  return path;
}

/** Runs `proton-local render ...` in this process; returns the exit code and what it wrote. */
async function render(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(['render', ...args]);
    const text = (spy: jest.SpyInstance) => spy.mock.calls.map(call => String(call[0])).join('');
    return { code, stdout: text(stdout), stderr: text(stderr) };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('proton-local render', () => {
  test('an EnvironmentSpec renders the environment template: inputs in place, the CloudFormation parses', async () => {
    const result = await render('--bundle', VPC_ENV, '--spec', sample('environment-templates/vpc-env/spec/spec.yaml'), '--name', 'prod');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const template = parseCloudFormation(result.stdout, 'stdout');
    expect((template.Mappings as any).SubnetConfig.Public1.CIDR).toBe('10.0.0.0/18');
    expect(template.Outputs!.VPC.Value).toEqual({ Ref: 'VPC' });
  });

  test('a ServiceSpec with one instance renders it, with placeholders for the environment outputs not given', async () => {
    const result = await render('--bundle', BACKEND_SVC, '--spec', sample('service-templates/backend-fargate-svc/spec/spec.yaml'), '--name', 'backend');
    expect(result.code).toBe(0);
    const resources = parseCloudFormation(result.stdout, 'stdout').Resources as any;
    expect(resources.Service.Properties.Cluster).toBe('<environment.outputs.Cluster>');
    expect(resources.ServiceTaskDef.Properties.Family).toBe('backend_backend-fargate-svc-prod');
  });

  test('--environment-outputs takes ListEnvironmentOutputs\' JSON or a plain mapping', async () => {
    const spec = sample('service-templates/backend-fargate-svc/spec/spec.yaml');
    const listed = tempFile('outputs.json', JSON.stringify({ outputs: [{ key: 'Cluster', valueString: 'prod-cluster' }, { key: 'VPC', valueString: 'vpc-1' }] }));
    const mapping = tempFile('outputs.yaml', 'Cluster: prod-cluster\nVPC: vpc-1\n');
    for (const file of [listed, mapping]) {
      const result = await render('--bundle', BACKEND_SVC, '--spec', spec, '--environment-outputs', file);
      expect(result.code).toBe(0);
      const resources = parseCloudFormation(result.stdout, 'stdout').Resources as any;
      expect(resources.Service.Properties.Cluster).toBe('prod-cluster');
      // Outputs the file does not give are placeholders still.
      expect(resources.ServiceTaskDef.Properties.ExecutionRoleArn).toBe('<environment.outputs.ServiceTaskDefExecutionRoleArn>');
    }
  });

  test('--pipeline renders the pipeline with the instances\' rendered outputs', async () => {
    const result = await render('--bundle', APIGW_SVC, '--spec', sample('service-templates/apigw-lambda-svc/spec/spec.yaml'), '--pipeline');
    expect(result.code).toBe(0);
    // apigw-lambda-svc reads service_instances[0].outputs.LambdaRuntime, an instance output that echoes its nodejs12.x default.
    expect(result.stdout).toContain('"runtime-versions": {"nodejs": "12.x"},');
    expect(result.stdout).toContain('<service.repository_id>');
    expect(Object.keys(parseCloudFormation(result.stdout, 'stdout').Resources!)).toContain('Deploy1Project');
  });

  test('--instance picks one of several instances; without it the command names them', async () => {
    const spec = tempFile('spec.yaml', [
      'proton: ServiceSpec',
      'pipeline: {}',
      'instances:',
      '  - name: beta',
      '    environment: fargate-env-beta',
      '    spec: {port: 81}',
      '  - name: prod',
      '    environment: fargate-env-prod',
      '',
    ].join('\n'));
    const beta = await render('--bundle', BACKEND_SVC, '--spec', spec, '--instance', 'beta', '--name', 'b');
    expect(beta.code).toBe(0);
    expect(parseCloudFormation(beta.stdout, 'stdout').Outputs!.BackendURL.Value).toBe('beta.b.fargate-env-beta.local:81');
    const neither = await render('--bundle', BACKEND_SVC, '--spec', spec);
    expect(neither).toMatchObject({ code: 2, stdout: '' });
    expect(neither.stderr).toContain('proton-local: the spec has 2 instances (beta, prod): choose one with --instance, or --pipeline');
    const unknown = await render('--bundle', BACKEND_SVC, '--spec', spec, '--instance', 'gamma');
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('--instance gamma: the spec\'s instances are beta, prod');
  });

  test.each([
    [['--spec', 'x.yaml'], 2, 'render needs --bundle DIR and --spec FILE'],
    [['--bundle', VPC_ENV, '--spec', sample('environment-templates/vpc-env/spec/spec.yaml'), '--pipeline'], 2,
      '--instance and --pipeline render a ServiceSpec; the spec is an EnvironmentSpec'],
    [['--bundle', VPC_ENV, '--spec', 'missing.yaml'], 1, '--spec missing.yaml: no such file'],
    [['--bundle', VPC_ENV, '--spec', sample('service-templates/backend-fargate-svc/spec/spec.yaml'), '--instance', 'a', '--pipeline'], 2,
      '--instance and --pipeline are exclusive'],
    [['--bundle', join(SAMPLES_DIR, 'environment-templates'), '--spec', sample('environment-templates/vpc-env/spec/spec.yaml')], 1,
      'no schema/schema.yaml: --bundle must be a template bundle\'s root folder'],
  ])('render %j exits %d naming the problem', async (args, code, message) => {
    const result = await render(...args);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
  });

  test('inputs the schema refuses exit 1 naming the instance, the input and the rule', async () => {
    const spec = tempFile('spec.yaml', 'proton: ServiceSpec\ninstances:\n  - name: one\n    environment: e\n    spec: {port: "not a number"}\n');
    const result = await render('--bundle', BACKEND_SVC, '--spec', spec);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the inputs of service instance one do not match the schema\'s BackendFargateServiceInput: input "port": "not a number" is not a number');
  });

  test('a template that does not render exits 1 with the file, the line and the problem', async () => {
    const bundle = mkdtempSync(join(tmpdir(), 'render-cli-bundle-'));
    const files: { [path: string]: string } = {
      'schema/schema.yaml': 'schema:\n  format:\n    openapi: "3.0.0"\n  environment_input_type: In\n  types:\n    In:\n      type: object\n',
      'infrastructure/manifest.yaml': 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n',
      'infrastructure/cloudformation.yaml': 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: {% if %}\n',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(bundle, path)), { recursive: true });
      writeFileSync(join(bundle, path), content);
    }
    const result = await render('--bundle', bundle, '--spec', tempFile('spec.yaml', 'proton: EnvironmentSpec\nspec: {}\n'));
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`proton-local: ${bundle}: infrastructure/cloudformation.yaml: Jinja rendering failed at line 5: `
      + 'unexpected token: %} (line 5: TopicName: {% if %})\n');
  });

  test('the proton-local executable prints the rendered template', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'local', 'cli.ts'),
      'render', '--bundle', VPC_ENV, '--spec', sample('environment-templates/vpc-env/spec/spec.yaml'),
    ], { cwd: ROOT });
    expect(parseCloudFormation(stdout, 'stdout').Resources).toHaveProperty('VPC');
  });
});
