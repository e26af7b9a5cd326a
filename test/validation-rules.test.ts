/**
 * Inputs that Proton would refuse at deploy time fail at synth, naming the construct path, the property, the value and
 * what is allowed (the reliability issue's list; docs/validation.md lists every rule). Limits are Proton's, from the API
 * reference: Tag (key 1-128, value 0-256, 50 per resource, `aws:` reserved), SpecContents (51,200), Arn, RepositoryId
 * and GitBranchName; the user guide's template-create page for majors starting at 1.
 */
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack, Tags, aws_iam as iam } from 'aws-cdk-lib';
import {
  Environment, EnvironmentTemplate, EnvironmentTemplateVersion, Provisioning, Service, ServiceTemplate, ServiceTemplateVersion, TemplateBundle,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const FARGATE_ENV = join(SAMPLES, 'environment-templates/fargate-env/v1');
// The example copy has no Proton pipeline (CUSTOMER_MANAGED pipeline provisioning).
const LB_SVC = join(__dirname, '../examples/templates/load-balanced-fargate-svc');
const BACKEND_SVC = join(SAMPLES, 'service-templates/backend-fargate-svc/v1');

function platform() {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'us-east-1' } });
  const template = new EnvironmentTemplate(stack, 'EnvTemplate', { environmentTemplateName: 'fargate-env' });
  const version = new EnvironmentTemplateVersion(stack, 'EnvV1', { template, bundle: TemplateBundle.fromDirectory(FARGATE_ENV) });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
  return { app, stack, template, version, role };
}

const synth = (app: App) => app.synth();

/** A minimal environment bundle whose input type is `inputType`. */
function writeEnvironmentBundle(inputType: object): string {
  const root = mkdtempSync(join(tmpdir(), 'env-bundle-'));
  mkdirSync(join(root, 'schema'));
  mkdirSync(join(root, 'infrastructure'));
  writeFileSync(join(root, 'schema/schema.yaml'), JSON.stringify({
    schema: { format: { openapi: '3.0.0' }, environment_input_type: 'Input', types: { Input: { type: 'object', ...inputType } } },
  }));
  writeFileSync(join(root, 'infrastructure/manifest.yaml'),
    'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n');
  writeFileSync(join(root, 'infrastructure/cloudformation.yaml'), 'Resources: {}\n');
  return root;
}

describe('tags', () => {
  test('more tags than Proton allows, less the library\'s own', () => {
    const { app, stack, version, role } = platform();
    const env = new Environment(stack, 'Env', { environmentName: 'prod', templateVersion: version, protonServiceRole: role });
    for (let i = 0; i < 48; i++) Tags.of(env).add(`k${i}`, 'v');
    expect(() => synth(app)).toThrow(/Platform\/Env: tags: 48 tags; Proton allows 50 per resource, of which cdk-proton uses 3 .*give at most 47/);
  });

  test.each(['aws:owner', 'AWS:owner', 'Aws:x'])('the reserved prefix in any case: %s', (key) => {
    const { app, stack, version, role } = platform();
    const env = new Environment(stack, 'Env', { environmentName: 'prod', templateVersion: version, protonServiceRole: role });
    Tags.of(env).add(key, 'v');
    expect(() => synth(app)).toThrow(new RegExp(`Platform/Env: tags: key "${key}" uses the prefix aws:, which AWS reserves`));
  });

  test('a key over 128 characters and a value over 256', () => {
    const long = platform();
    Tags.of(new Environment(long.stack, 'Env', { environmentName: 'prod', templateVersion: long.version, protonServiceRole: long.role })).add('k'.repeat(129), 'v');
    expect(() => synth(long.app)).toThrow(/Platform\/Env: tags: key "k{129}" is 129 characters long; Proton accepts 1 to 128/);
    const value = platform();
    Tags.of(value.template).add('team', 'v'.repeat(257));
    expect(() => synth(value.app)).toThrow(/Platform\/EnvTemplate: tags: the value of "team" is 257 characters long; Proton accepts at most 256/);
  });

  test('the library\'s own prefix', () => {
    const { app, template } = platform();
    Tags.of(template).add('cdk-proton:owner', 'me');
    expect(() => synth(app)).toThrow(/tags: key "cdk-proton:owner" uses the prefix cdk-proton:, which this library reserves/);
  });
});

test('a spec over Proton\'s 51,200 characters', () => {
  const { stack, template, role } = platform();
  const bundle = TemplateBundle.fromDirectory(writeEnvironmentBundle({ properties: { note: { type: 'string' } } }));
  const version = new EnvironmentTemplateVersion(stack, 'Free', { template, bundle, majorVersion: '2' });
  expect(() => new Environment(stack, 'Env', {
    environmentName: 'prod', templateVersion: version, protonServiceRole: role, spec: { note: 'x'.repeat(52_000) },
  })).toThrow(/Platform\/Env: spec: the EnvironmentSpec is 520\d\d characters long as YAML; Proton accepts at most 51200/);
  expect(() => new Environment(stack, 'Small', {
    environmentName: 'small', templateVersion: version, protonServiceRole: role, spec: { note: 'x'.repeat(50_000) },
  })).not.toThrow();
});

describe('majors', () => {
  test('majorVersion 3 on a template this app creates, with no major 1 or 2', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const template = new EnvironmentTemplate(stack, 'T', { environmentTemplateName: 't' });
    new EnvironmentTemplateVersion(stack, 'V3', { template, bundle: TemplateBundle.fromDirectory(FARGATE_ENV), majorVersion: '3' });
    expect(() => synth(app)).toThrow(/Platform\/T: its versions declare majorVersion 3 but no version of major 1, 2: Proton numbers a new template's majors from 1/);
  });

  test('an adopted template may start at any major', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const template = new EnvironmentTemplate(stack, 'T', { environmentTemplateName: 't', adoptExisting: true });
    new EnvironmentTemplateVersion(stack, 'V3', { template, bundle: TemplateBundle.fromDirectory(FARGATE_ENV), majorVersion: '3' });
    expect(() => synth(app)).not.toThrow();
  });

  test('a compatible major of an environment template the app creates without that major', () => {
    const { app, stack, template } = platform();
    const svc = new ServiceTemplate(stack, 'Svc', { serviceTemplateName: 'web', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED });
    new ServiceTemplateVersion(stack, 'SvcV1', {
      template: svc, bundle: TemplateBundle.fromDirectory(LB_SVC), compatibleEnvironmentTemplates: [{ template, majorVersion: '2' }],
    });
    expect(() => synth(app)).toThrow(/Platform\/SvcV1: compatibleEnvironmentTemplates\[0\] names major 2 of Platform\/EnvTemplate, which this app creates with no version of that major \(its majors: 1\)/);
  });
});

describe('repositories', () => {
  function service(repository: { connectionArn: string; repositoryId: string; branchName: string }) {
    const { stack, template, version, role } = platform();
    const svc = new ServiceTemplate(stack, 'Svc', { serviceTemplateName: 'backend' });
    const svcVersion = new ServiceTemplateVersion(stack, 'SvcV1', {
      template: svc, bundle: TemplateBundle.fromDirectory(BACKEND_SVC), compatibleEnvironmentTemplates: [{ template, majorVersion: '1' }],
    });
    const env = new Environment(stack, 'Env', { environmentName: 'prod', templateVersion: version, protonServiceRole: role });
    return () => new Service(stack, 'Backend', {
      templateVersion: svcVersion, instances: [{ instanceName: 'prod', environment: env }], pipelineSpec: {}, repository,
    });
  }
  const GOOD = { connectionArn: 'arn:aws:codestar-connections:us-east-1:111122223333:connection/abc', repositoryId: 'acme/web', branchName: 'main' };

  test('not an ARN', () => {
    expect(service({ ...GOOD, connectionArn: 'not-an-arn' })).toThrow(/Platform\/Backend: repository.connectionArn "not-an-arn" is not an ARN/);
  });
  test('no slash in the repository id', () => {
    expect(service({ ...GOOD, repositoryId: 'no-slash' })).toThrow(/Platform\/Backend: repository.repositoryId "no-slash" must be "owner\/repository"/);
  });
  test('an empty branch', () => {
    expect(service({ ...GOOD, branchName: '' })).toThrow(/Platform\/Backend: repository.branchName "" must be 1 to 200 characters long/);
  });
  test('a good repository passes', () => {
    expect(service(GOOD)).not.toThrow();
  });
});

describe('names', () => {
  test('two templates of one name in one app', () => {
    const { stack } = platform();
    expect(() => new EnvironmentTemplate(stack, 'Again', { environmentTemplateName: 'fargate-env' }))
      .toThrow(/Platform\/Again: environmentTemplateName "fargate-env" is already used by Platform\/EnvTemplate/);
  });
  test('two services of one name across two stacks of one account', () => {
    const { app, stack, version, role } = platform();
    const svc = new ServiceTemplate(stack, 'Svc', { serviceTemplateName: 'web', pipelineProvisioning: Provisioning.CUSTOMER_MANAGED });
    const svcVersion = new ServiceTemplateVersion(stack, 'SvcV1', {
      template: svc, bundle: TemplateBundle.fromDirectory(LB_SVC), compatibleEnvironmentTemplates: [{ template: version.template, majorVersion: '1' }],
    });
    const env = new Environment(stack, 'Env', { environmentName: 'prod', templateVersion: version, protonServiceRole: role });
    const other = new Stack(app, 'Other', { env: { account: '111122223333', region: 'us-east-1' } });
    new Service(stack, 'Web', { serviceName: 'web', templateVersion: svcVersion, instances: [{ instanceName: 'prod', environment: env }] });
    expect(() => new Service(other, 'Web', { serviceName: 'web', templateVersion: svcVersion, instances: [{ instanceName: 'prod', environment: env }] }))
      .toThrow(/Other\/Web: serviceName "web" is already used by Platform\/Web/);
  });
  test('the same name in two accounts is two resources', () => {
    const app = new App();
    for (const account of ['111122223333', '444455556666']) {
      const stack = new Stack(app, `P${account}`, { env: { account, region: 'us-east-1' } });
      new EnvironmentTemplate(stack, 'T', { environmentTemplateName: 'same' });
    }
    expect(() => synth(app)).not.toThrow();
  });
  test('the same bundle twice in one major', () => {
    const { stack, template } = platform();
    expect(() => new EnvironmentTemplateVersion(stack, 'Again', { template, bundle: TemplateBundle.fromDirectory(FARGATE_ENV) }))
      .toThrow(/Platform\/Again: bundle .* is already used by Platform\/EnvV1 .*the same bundle registered twice in one major/);
  });
});

test('a symbolic link loop in a bundle', () => {
  const root = mkdtempSync(join(tmpdir(), 'loop-bundle-'));
  cpSync(FARGATE_ENV, root, { recursive: true });
  mkdirSync(join(root, 'infrastructure', 'nested'));
  symlinkSync(root, join(root, 'infrastructure', 'nested', 'back'));
  expect(() => TemplateBundle.fromDirectory(root)).toThrow(/infrastructure\/nested\/back is a symbolic link loop/);
});

test('an environment with no provisioning mode, of a template Proton provisions', () => {
  const { stack, version } = platform();
  expect(() => new Environment(stack, 'Env', { environmentName: 'prod', templateVersion: version }))
    .toThrow(/Platform\/Env: no provisioning mode: Proton provisions environments of template fargate-env and needs one of protonServiceRole/);
});

test('an imported version without a pinned minor: its minor is resolved at deploy time and reading it says so', () => {
  const { stack, template } = platform();
  const byBundle = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'ByBundle', {
    template, majorVersion: '1', bundle: TemplateBundle.fromDirectory(FARGATE_ENV),
  });
  expect(() => byBundle.minorVersion).toThrow(/Platform\/ByBundle: minorVersion is not known at synth time: the version was imported without a minorVersion/);
  expect(() => byBundle.templateVersionArn).toThrow(/Platform\/ByBundle: templateVersionArn is not known at synth time/);
  const pinned = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'Pinned', { template, majorVersion: '1', minorVersion: '3' });
  expect(pinned.templateVersionArn).toMatch(/environment-template\/fargate-env:1\.3$/);
  expect(() => EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'Bad', { template, majorVersion: '1', minorVersion: '01' }))
    .toThrow(/Platform\/Bad: minorVersion "01" is not a minor version number/);
});
