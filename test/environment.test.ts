import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, CfnElement, RemovalPolicy, Stack, Stage, Tags, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import {
  Environment, EnvironmentProps, EnvironmentTemplate, EnvironmentTemplateVersion, IEnvironmentTemplateVersion, Provisioning,
  RepositoryProvider, TemplateBundle,
} from '../src';

const SAMPLES = join(__dirname, 'fixtures/proton-samples');
const FARGATE_ENV = join(SAMPLES, 'environment-templates/fargate-env');

/** The `spec:` inputs of a sample spec file. */
function sampleInputs(file: string): { [key: string]: any } {
  return parse(readFileSync(file, 'utf8')).spec;
}

/** A bundle in a temporary folder: `schema/schema.yaml` with the given input type, and a CloudFormation template. */
export function writeEnvironmentBundle(inputType: object): string {
  const root = mkdtempSync(join(tmpdir(), 'env-bundle-'));
  const files: { [path: string]: string } = {
    'schema/schema.yaml': JSON.stringify({
      schema: { format: { openapi: '3.0.0' }, environment_input_type: 'Input', types: { Input: { type: 'object', ...inputType } } },
    }),
    'infrastructure/manifest.yaml': 'infrastructure:\n  templates:\n    - file: cloudformation.yaml\n      rendering_engine: jinja\n      template_language: cloudformation\n',
    'infrastructure/cloudformation.yaml': 'Resources: {}\n',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const SERVICE_ROLE_ARN = 'arn:aws:iam::111122223333:role/proton-service';

/** A provisioning mode (Proton provisions environments of these templates, which needs one): the Proton service role. */
function provisioned(stack: Stack): Pick<EnvironmentProps, 'protonServiceRole'> {
  const existing = stack.node.tryFindChild('ProtonServiceRole') as iam.IRole | undefined;
  return { protonServiceRole: existing ?? iam.Role.fromRoleArn(stack, 'ProtonServiceRole', SERVICE_ROLE_ARN) };
}

/** The props, with the Proton service role when they give no provisioning mode of their own. */
function withProvisioning(stack: Stack, props: EnvironmentProps): EnvironmentProps {
  const modes = [props.protonServiceRole, props.codebuildRole, props.environmentAccountConnectionId, props.provisioningRepository];
  return modes.some(mode => mode !== undefined) ? props : { ...provisioned(stack), ...props };
}

function setup(bundleDirectory = join(FARGATE_ENV, 'v1')) {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'us-east-1' } });
  const template = new EnvironmentTemplate(stack, 'FargateTemplate', { environmentTemplateName: 'fargate-env' });
  const version = new EnvironmentTemplateVersion(stack, 'FargateV1', { template, bundle: TemplateBundle.fromDirectory(bundleDirectory) });
  return { stack, template, version };
}

function environment(props: Partial<EnvironmentProps> = {}, bundleDirectory?: string) {
  const { stack, version } = setup(bundleDirectory);
  const env = new Environment(stack, 'Prod', withProvisioning(stack, { templateVersion: version, ...props }));
  return { stack, env, version };
}

const resourceProperties = (stack: Stack) => {
  const resources = Template.fromStack(stack).findResources('Custom::ProtonEnvironment');
  return Object.values(resources)[0].Properties;
};

describe('Environment', () => {
  test('sends the sample spec with the schema defaults applied, and the template version by its bundle hash', () => {
    const { stack, version } = environment({
      environmentName: 'fargate-env-prod',
      spec: { vpc_cidr: '10.1.0.0/16' },
      description: 'production',
    });
    const properties = resourceProperties(stack);
    expect(properties).toMatchObject({
      EnvironmentName: 'fargate-env-prod',
      TemplateName: 'fargate-env',
      TemplateMajorVersion: '1',
      TemplateBundleHash: version.bundle!.contentHash,
      Description: 'production',
    });
    // The minor is resolved by the handler at deploy time: nothing reads an attribute of the version resource.
    expect(properties.TemplateMinorVersion).toBeUndefined();
    const versionId = stack.getLogicalId(version.node.findAll().find(CfnElement.isCfnElement) as CfnElement);
    expect(JSON.stringify(properties)).not.toContain(versionId);
    expect(properties.AdoptExisting).toBeUndefined();
    expect(JSON.parse(properties.Spec)).toEqual({
      ...sampleInputs(join(FARGATE_ENV, 'spec/spec.yaml')),
      vpc_cidr: '10.1.0.0/16',
    });
    expect(properties.OutputKeys).toBeUndefined();
  });

  test('accepts the spec files of the sample environment templates', () => {
    for (const [bundle, spec] of [
      ['environment-templates/fargate-env/v1', 'environment-templates/fargate-env/spec/spec.yaml'],
      ['environment-templates/vpc-env/v1', 'environment-templates/vpc-env/spec/spec.yaml'],
      ['lambda-multi-svc/lambda-env/v1', 'lambda-multi-svc/specs/env-spec.yaml'],
    ]) {
      const { stack } = environment({ spec: sampleInputs(join(SAMPLES, spec)) }, join(SAMPLES, bundle));
      expect(JSON.parse(resourceProperties(stack).Spec)).toEqual(expect.objectContaining(sampleInputs(join(SAMPLES, spec))));
    }
  });

  test('generates a valid, unique name when none is given', () => {
    const { stack } = setup();
    const version = stack.node.findChild('FargateV1') as EnvironmentTemplateVersion;
    new Environment(stack, 'Beta', { ...provisioned(stack), templateVersion: version });
    new Environment(stack, 'Gamma', { ...provisioned(stack), templateVersion: version });
    const names = Object.values(Template.fromStack(stack).findResources('Custom::ProtonEnvironment')).map(r => r.Properties.EnvironmentName);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name).toMatch(/^[0-9A-Za-z]+[0-9A-Za-z_-]*$/);
  });

  test('exposes the name as the resource reference and the ARN in the stack\'s account and region', () => {
    const { stack, env } = environment({ environmentName: 'prod' });
    expect(stack.resolve(env.environmentName)).toEqual({ Ref: expect.stringMatching(/^Prod/) });
    expect(stack.resolve(env.environmentArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:environment/', { Ref: expect.stringMatching(/^Prod/) }]],
    });
  });

  test('imports an environment by name', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    const imported = Environment.fromEnvironmentName(stack, 'Imported', 'shared-env');
    expect(imported.environmentName).toBe('shared-env');
    expect(stack.resolve(imported.environmentArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:eu-west-1:111122223333:environment/shared-env']],
    });
    expect(imported.templateVersion).toBeUndefined();
  });

  test('getOutput returns an attribute token and asks the handler for that output only', () => {
    const { stack, env } = environment();
    const vpc = env.getOutput('VPC');
    env.getOutput('Cluster');
    env.getOutput('VPC');
    expect(stack.resolve(vpc)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Prod/), 'Outputs.VPC'] });
    expect(JSON.parse(resourceProperties(stack).OutputKeys)).toEqual(['Outputs.Cluster', 'Outputs.VPC']);
  });

  test('getOutput rejects an empty key', () => {
    const { env } = environment();
    expect(() => env.getOutput('')).toThrow(/Platform\/Prod: output key "" must be a literal string of 1 to 1024 characters/);
  });

  test('tags set with Tags.of reach the environment', () => {
    const { stack, env } = environment();
    Tags.of(stack).add('team', 'platform');
    Tags.of(env).add('stage', 'prod');
    expect(JSON.parse(resourceProperties(stack).Tags)).toEqual([{ key: 'stage', value: 'prod' }, { key: 'team', value: 'platform' }]);
  });

  test('spec values may be tokens: the spec becomes a CloudFormation expression and the pattern check is left to Proton', () => {
    const { stack } = setup();
    const version = stack.node.findChild('FargateV1') as EnvironmentTemplateVersion;
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('proton.amazonaws.com') });
    new Environment(stack, 'Prod', { ...provisioned(stack), templateVersion: version, spec: { vpc_cidr: role.roleArn } });
    const spec = resourceProperties(stack).Spec;
    expect(spec).toEqual({ 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [expect.stringMatching(/^Role/), 'Arn'] }])] });
  });

  test('passes the provisioning and component roles and lets the handler pass them to Proton', () => {
    const { stack } = setup();
    const version = stack.node.findChild('FargateV1') as EnvironmentTemplateVersion;
    const serviceRole = iam.Role.fromRoleArn(stack, 'ServiceRole', 'arn:aws:iam::111122223333:role/proton-service');
    const componentRole = iam.Role.fromRoleArn(stack, 'ComponentRole', 'arn:aws:iam::111122223333:role/proton-components');
    new Environment(stack, 'Prod', { environmentName: 'prod', templateVersion: version, protonServiceRole: serviceRole, componentRole });
    expect(resourceProperties(stack)).toMatchObject({
      ProtonServiceRoleArn: 'arn:aws:iam::111122223333:role/proton-service',
      ComponentRoleArn: 'arn:aws:iam::111122223333:role/proton-components',
    });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap(p => p.Properties.PolicyDocument.Statement);
    // One PassRole statement for every role, and only to Proton.
    const passRole = statements.filter(s => s.Action === 'iam:PassRole');
    expect(passRole).toEqual([{
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: ['arn:aws:iam::111122223333:role/proton-service', 'arn:aws:iam::111122223333:role/proton-components'],
      Condition: { StringEquals: { 'iam:PassedToService': 'proton.amazonaws.com' } },
    }]);
    const environmentStatement = statements.find(s => Array.isArray(s.Action) && s.Action.includes('proton:CreateEnvironment'));
    const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:proton:us-east-1:111122223333:environment/prod${suffix}`]] });
    // An environment has no sub-resources: its ARN alone.
    expect([environmentStatement.Resource].flat()).toEqual([arn('')]);
    expect(environmentStatement.Action).not.toContain('proton:*');
  });

  test('sends the provisioning repository as JSON', () => {
    const { stack } = environment({
      provisioningRepository: { provider: RepositoryProvider.GITHUB, name: 'acme/infra', branch: 'main' },
    });
    expect(JSON.parse(resourceProperties(stack).ProvisioningRepository)).toEqual({ provider: 'GITHUB', name: 'acme/infra', branch: 'main' });
  });

  test('removalPolicy RETAIN keeps the environment when it leaves the stack', () => {
    const { stack } = environment({ removalPolicy: RemovalPolicy.RETAIN });
    Template.fromStack(stack).hasResource('Custom::ProtonEnvironment', { DeletionPolicy: 'Retain' });
  });

  test('is deleted with the stack by default; an adopted environment is retained by default', () => {
    const { stack, version } = setup();
    new Environment(stack, 'Own', { ...provisioned(stack), environmentName: 'own', templateVersion: version });
    new Environment(stack, 'Adopted', { ...provisioned(stack), environmentName: 'legacy', templateVersion: version, adoptExisting: true });
    new Environment(stack, 'AdoptedDeleted', {
      ...provisioned(stack),
      environmentName: 'legacy2',
      templateVersion: version,
      adoptExisting: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const byName = Object.fromEntries(Object.values(Template.fromStack(stack).findResources('Custom::ProtonEnvironment'))
      .map(r => [r.Properties.EnvironmentName, { adopt: r.Properties.AdoptExisting, deletion: r.DeletionPolicy }]));
    expect(byName).toEqual({
      own: { adopt: undefined, deletion: 'Delete' },
      legacy: { adopt: 'true', deletion: 'Retain' },
      legacy2: { adopt: 'true', deletion: 'Delete' },
    });
  });

  test('deploys after the version it runs on, in the same stack', () => {
    const { stack, version } = environment();
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::ProtonEnvironment'));
    const versionId = stack.getLogicalId(version.node.findAll().find(CfnElement.isCfnElement) as CfnElement);
    expect(resource.DependsOn).toContain(versionId);
  });

  test('the same environment name twice in one app is a synth error naming both constructs', () => {
    const { stack, version } = setup();
    new Environment(stack, 'Prod', { ...provisioned(stack), environmentName: 'prod', templateVersion: version });
    const team = new Stack(stack.node.root as App, 'Team', { env: { account: '111122223333', region: 'us-east-1' } });
    expect(() => new Environment(team, 'AlsoProd', { ...provisioned(team), environmentName: 'prod', templateVersion: version }))
      .toThrow(/Team\/AlsoProd: environmentName "prod" is already used by Platform\/Prod/);
  });

  test('the same environment name in another account is another environment', () => {
    const { stack, version } = setup();
    new Environment(stack, 'Prod', { ...provisioned(stack), environmentName: 'prod', templateVersion: version });
    const other = new Stack(stack.node.root as App, 'Other', { env: { account: '444455556666', region: 'us-east-1' } });
    const imported = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(other, 'V', {
      template: EnvironmentTemplate.fromEnvironmentTemplateName(other, 'T', 'fargate-env'), majorVersion: '1',
    });
    expect(() => new Environment(other, 'Prod', { ...provisioned(other), environmentName: 'prod', templateVersion: imported })).not.toThrow();
  });

  test('one provider serves every environment of the stack', () => {
    const { stack } = setup();
    const version = stack.node.findChild('FargateV1') as EnvironmentTemplateVersion;
    new Environment(stack, 'A', { ...provisioned(stack), templateVersion: version });
    new Environment(stack, 'B', { ...provisioned(stack), templateVersion: version });
    const tokens = Object.values(Template.fromStack(stack).findResources('Custom::ProtonEnvironment')).map(r => JSON.stringify(r.Properties.ServiceToken));
    expect(new Set(tokens).size).toBe(1);
  });

  test('an imported template version without a bundle is not validated', () => {
    const stack = new Stack(new App(), 'S');
    const template = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'T', 'fargate-env');
    const version: IEnvironmentTemplateVersion = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'V', {
      template, majorVersion: '1', minorVersion: '2',
    });
    new Environment(stack, 'Prod', { ...provisioned(stack), templateVersion: version, spec: { anything: 'goes' } });
    expect(resourceProperties(stack)).toMatchObject({ TemplateMinorVersion: '2', Spec: '{"anything":"goes"}' });
  });

  test('an environment of a CUSTOMER_MANAGED template takes the external stack\'s outputs as its spec', () => {
    const bundle = mkdtempSync(join(tmpdir(), 'customer-managed-'));
    mkdirSync(join(bundle, 'schema'));
    writeFileSync(join(bundle, 'schema/schema.yaml'), JSON.stringify({
      schema: {
        format: { openapi: '3.0.0' },
        environment_input_type: 'Outputs',
        types: { Outputs: { type: 'object', properties: { VpcId: { type: 'string' } }, required: ['VpcId'] } },
      },
    }));
    const stack = new Stack(new App(), 'S');
    const template = new EnvironmentTemplate(stack, 'T', { provisioning: Provisioning.CUSTOMER_MANAGED });
    const version = new EnvironmentTemplateVersion(stack, 'V', { template, bundle: TemplateBundle.fromDirectory(bundle) });
    new Environment(stack, 'Imported', {
      templateVersion: version,
      spec: { VpcId: 'vpc-1234' },
      provisioningRepository: { provider: RepositoryProvider.GITHUB, name: 'acme/infra', branch: 'main' },
    });
    expect(JSON.parse(resourceProperties(stack).Spec)).toEqual({ VpcId: 'vpc-1234' });
    expect(() => new Environment(stack, 'Missing', { templateVersion: version })).toThrow(/S\/Missing: spec .*\n.*input "VpcId" is required/);
  });
});

describe('Environment on a version of another stack', () => {
  function platformAndTeam() {
    const app = new App();
    const env = { account: '111122223333', region: 'us-east-1' };
    const platform = new Stack(app, 'Platform', { env });
    const template = new EnvironmentTemplate(platform, 'FargateTemplate', { environmentTemplateName: 'fargate-env' });
    const bundle = TemplateBundle.fromDirectory(join(FARGATE_ENV, 'v1'));
    const version = new EnvironmentTemplateVersion(platform, 'FargateV1', { template, bundle });
    const team = new Stack(app, 'Team', { env });
    const environmentConstruct = new Environment(team, 'Prod', { ...provisioned(team), environmentName: 'prod', templateVersion: version });
    return { app, platform, team, version, bundle, environmentConstruct };
  }

  test('carries the bundle hash, not an import of the minor: an upgrade changes no export', () => {
    const { team, bundle } = platformAndTeam();
    const teamTemplate = Template.fromStack(team);
    expect(JSON.stringify(teamTemplate.toJSON())).not.toContain('Fn::ImportValue');
    expect(resourceProperties(team)).toMatchObject({
      TemplateName: 'fargate-env', TemplateMajorVersion: '1', TemplateBundleHash: bundle.contentHash,
    });
  });

  test('the team stack depends on the platform stack, and the platform stack exports nothing for it', () => {
    const { app, platform, team } = platformAndTeam();
    // CDK turns the construct dependency across stacks into a stack dependency when it prepares the app for synthesis.
    app.synth();
    expect(team.dependencies).toContain(platform);
    expect(platform.dependencies).not.toContain(team);
    expect(Template.fromStack(platform).toJSON().Outputs ?? {}).toEqual({});
  });

  test('across stages there is no dependency (CDK forbids it): the pipeline orders the stages', () => {
    const app = new App();
    const env = { account: '111122223333', region: 'us-east-1' };
    const platformStage = new Stage(app, 'PlatformStage', { env });
    const platform = new Stack(platformStage, 'Platform');
    const template = new EnvironmentTemplate(platform, 'FargateTemplate', { environmentTemplateName: 'fargate-env' });
    const version = new EnvironmentTemplateVersion(platform, 'FargateV1', { template, bundle: TemplateBundle.fromDirectory(join(FARGATE_ENV, 'v1')) });
    const teamStage = new Stage(app, 'TeamStage', { env });
    const team = new Stack(teamStage, 'Team');
    new Environment(team, 'Prod', { ...provisioned(team), environmentName: 'prod', templateVersion: version });
    expect(() => app.synth()).not.toThrow();
    expect(team.dependencies).toEqual([]);
    expect(resourceProperties(team).TemplateBundleHash).toBe(version.bundle!.contentHash);
  });
});

describe('Environment on an imported template version', () => {
  function importedVersion(attrs: { minorVersion?: string; bundle?: TemplateBundle }) {
    const stack = new Stack(new App(), 'Team', { env: { account: '111122223333', region: 'us-east-1' } });
    const template = EnvironmentTemplate.fromEnvironmentTemplateName(stack, 'T', 'fargate-env');
    const version = EnvironmentTemplateVersion.fromEnvironmentTemplateVersionAttributes(stack, 'V', { template, majorVersion: '1', ...attrs });
    new Environment(stack, 'Prod', { ...provisioned(stack), templateVersion: version });
    return { stack, version, properties: resourceProperties(stack) };
  }
  const fargateBundle = () => TemplateBundle.fromDirectory(join(FARGATE_ENV, 'v1'));

  test('with only a bundle: the version registered from it, found by its hash', () => {
    const b = fargateBundle();
    const { properties, version } = importedVersion({ bundle: b });
    expect(properties.TemplateMajorVersion).toBe('1');
    expect(properties.TemplateBundleHash).toBe(b.contentHash);
    expect(properties.TemplateMinorVersion).toBeUndefined();
    // Known at deploy time only: reading it at synth is an error that says so, not a silent undefined.
    expect(() => version.minorVersion).toThrow(/Team\/V: minorVersion is not known at synth time: the version was imported without a minorVersion/);
    expect(() => version.templateVersionArn).toThrow(/Team\/V: templateVersionArn is not known at synth time/);
  });

  test('with a minor: pinned to it, even when the bundle is given for validation', () => {
    const { properties, stack, version } = importedVersion({ minorVersion: '3', bundle: fargateBundle() });
    expect(properties.TemplateMinorVersion).toBe('3');
    expect(properties.TemplateBundleHash).toBeUndefined();
    expect(stack.resolve(version.templateVersionArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:environment-template/fargate-env:1.3']],
    });
  });

  test('with neither: the major\'s recommended minor, resolved at deploy time', () => {
    const { properties } = importedVersion({});
    expect(properties.TemplateMajorVersion).toBe('1');
    expect(properties.TemplateMinorVersion).toBeUndefined();
    expect(properties.TemplateBundleHash).toBeUndefined();
  });

  test('a minor that is not a number is refused', () => {
    expect(() => importedVersion({ minorVersion: 'latest' })).toThrow(/Team\/V: minorVersion "latest" is not a minor version number/);
  });
});

describe('Environment validation', () => {
  test('an unknown input names the input and the inputs the schema has', () => {
    expect(() => environment({ spec: { vpc_cidrs: '10.0.0.0/16' } }))
      .toThrow(/Platform\/Prod: spec does not match the template's input type FargateEnvironmentInput:\n.*unknown input "vpc_cidrs".*vpc_cidr, public_subnet_one_cidr/);
  });

  test('a value breaking the input\'s pattern names the value and the pattern', () => {
    expect(() => environment({ spec: { vpc_cidr: 'ten.zero' } })).toThrow(/input "vpc_cidr": "ten.zero" does not match the pattern/);
  });

  test('a missing required input', () => {
    const bundle = writeEnvironmentBundle({ properties: { name: { type: 'string' } }, required: ['name'] });
    expect(() => environment({}, bundle)).toThrow(/input "name" is required/);
  });

  test('a value of the wrong type', () => {
    const bundle = writeEnvironmentBundle({ properties: { size: { type: 'number' } } });
    expect(() => environment({ spec: { size: 'large' } }, bundle)).toThrow(/input "size": "large" is not a number/);
  });

  test('a value outside the enum lists the allowed values', () => {
    const bundle = writeEnvironmentBundle({ properties: { tier: { type: 'string', enum: ['small', 'large'] } } });
    expect(() => environment({ spec: { tier: 'medium' } }, bundle)).toThrow(/input "tier": "medium" is not one of small, large/);
  });

  test('values outside the bounds', () => {
    const bundle = writeEnvironmentBundle({
      properties: { port: { type: 'number', minimum: 1, maximum: 65535 }, label: { type: 'string', maxLength: 3 } },
    });
    expect(() => environment({ spec: { port: 70000 } }, bundle)).toThrow(/input "port": 70000 is greater than the maximum 65535/);
    expect(() => environment({ spec: { port: 0 } }, bundle)).toThrow(/input "port": 0 is less than the minimum 1/);
    expect(() => environment({ spec: { label: 'long' } }, bundle)).toThrow(/input "label": "long" is longer than the maximum length 3/);
  });

  test('the schema\'s defaults are applied', () => {
    const bundle = writeEnvironmentBundle({ properties: { size: { type: 'string', default: 'small' }, count: { type: 'number' } } });
    const { stack } = environment({ spec: { count: 2 } }, bundle);
    expect(JSON.parse(resourceProperties(stack).Spec)).toEqual({ size: 'small', count: 2 });
  });

  test('every problem is reported at once', () => {
    expect(() => environment({ spec: { vpc_cidr: 'x', unknown: 1 } })).toThrow(/(?=[\s\S]*input "vpc_cidr": "x")(?=[\s\S]*unknown input "unknown")/);
  });

  test('provisioning modes can\'t be combined', () => {
    const { stack, version } = setup();
    const role = iam.Role.fromRoleArn(stack, 'R', 'arn:aws:iam::111122223333:role/r');
    expect(() => new Environment(stack, 'Prod', {
      templateVersion: version, protonServiceRole: role, codebuildRole: role,
    })).toThrow(/Platform\/Prod: protonServiceRole and codebuildRole are different provisioning modes; give at most one/);
    expect(() => new Environment(stack, 'Prod2', {
      templateVersion: version,
      environmentAccountConnectionId: '4f3e1d3c-6c6d-4f70-9a0a-0d5d1c9a1b2c',
      provisioningRepository: { provider: RepositoryProvider.GITHUB, name: 'a/b', branch: 'main' },
    })).toThrow(/environmentAccountConnectionId and provisioningRepository are different provisioning modes/);
  });

  test('an environment account connection ID must be a UUID', () => {
    expect(() => environment({ environmentAccountConnectionId: 'conn-1' }))
      .toThrow(/environmentAccountConnectionId "conn-1" is not an environment account connection ID/);
  });

  test('a provisioning repository must be owner/repository', () => {
    expect(() => environment({ provisioningRepository: { provider: RepositoryProvider.GITHUB, name: 'infra', branch: 'main' } }))
      .toThrow(/provisioningRepository.name "infra" must be "owner\/repository"/);
  });

  test('the name must follow Proton\'s rules', () => {
    expect(() => environment({ environmentName: '-prod' })).toThrow(/Platform\/Prod: environmentName "-prod" must start with a letter or digit/);
    expect(() => environment({ environmentName: 'x'.repeat(101) })).toThrow(/environmentName "x+" must be 1 to 100 characters long \(got 101\)/);
  });

  test('the description is at most 500 characters', () => {
    expect(() => environment({ description: 'd'.repeat(501) })).toThrow(/description is 501 characters long; Proton accepts at most 500/);
  });
});
