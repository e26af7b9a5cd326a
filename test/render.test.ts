import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import * as nunjucks from 'nunjucks';
import { parse } from 'yaml';
import { ProtonRenderer, RenderedTemplate, TemplateBundle } from '../src';
import { packBundleSync, unpackBundle, unpackBundleSync } from '../src/private/bundle';
import { parseTemplateSchema } from '../src/private/schema';
import { outputValues, parseCloudFormation } from '../src/render/cloudformation';
import { renderJinja } from '../src/render/jinja';
import { renderBundle } from '../src/render/render';
import { terraformOutputs, terraformOutputValue } from '../src/render/terraform';

const SAMPLES = join(__dirname, 'fixtures', 'proton-samples');
const bundleOf = (dir: string) => TemplateBundle.fromDirectory(join(SAMPLES, dir));
const specOf = (file: string) => parse(readFileSync(join(SAMPLES, file), 'utf8'));

/** Every environment template sample with its sample spec. */
const ENVIRONMENTS = [
  { name: 'vpc-env', bundle: 'environment-templates/vpc-env/v1', spec: 'environment-templates/vpc-env/spec/spec.yaml' },
  { name: 'fargate-env', bundle: 'environment-templates/fargate-env/v1', spec: 'environment-templates/fargate-env/spec/spec.yaml' },
  { name: 'lambda-env', bundle: 'lambda-multi-svc/lambda-env/v1', spec: 'lambda-multi-svc/specs/env-spec.yaml' },
];

/** Every service template sample, its sample spec and its compatible environment (.compatible-envs). */
const SERVICES = [
  { name: 'apigw-lambda-svc', bundle: 'service-templates/apigw-lambda-svc/v1', spec: 'service-templates/apigw-lambda-svc/spec/spec.yaml', env: 'vpc-env' },
  { name: 'load-balanced-fargate-svc', bundle: 'service-templates/load-balanced-fargate-svc/v1', spec: 'service-templates/load-balanced-fargate-svc/spec/spec.yaml', env: 'fargate-env' },
  { name: 'backend-fargate-svc', bundle: 'service-templates/backend-fargate-svc/v1', spec: 'service-templates/backend-fargate-svc/spec/spec.yaml', env: 'fargate-env' },
  // The lambda-multi-svc spec passes packaging_commands, which the schema does not declare (see schema.ts).
  { name: 'service-crud', bundle: 'lambda-multi-svc/service-crud/v1', spec: 'lambda-multi-svc/specs/svc-spec.yaml', env: 'lambda-env', allowUnknownInputs: true },
  { name: 'service-data-processing', bundle: 'lambda-multi-svc/service-data-processing/v1', spec: 'lambda-multi-svc/specs/svc-spec.yaml', env: 'lambda-env', allowUnknownInputs: true },
];

const renderedEnvironments = new Map<string, RenderedTemplate>();
function renderEnvironment(name: string): RenderedTemplate {
  if (!renderedEnvironments.has(name)) {
    const sample = ENVIRONMENTS.find(e => e.name === name)!;
    renderedEnvironments.set(name, ProtonRenderer.renderEnvironment({
      bundle: bundleOf(sample.bundle), environmentName: `${name}-prod`, inputs: specOf(sample.spec).spec,
    }));
  }
  return renderedEnvironments.get(name)!;
}

const REPOSITORY = { repositoryId: 'owner/repo', branchName: 'main', repositoryConnectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc' };

describe('every AWS sample bundle renders with its sample spec and parses', () => {
  test.each(ENVIRONMENTS)('environment $name', ({ name }) => {
    const rendered = renderEnvironment(name);
    expect(rendered.language).toBe('cloudformation');
    expect(rendered.file).toBe('infrastructure/cloudformation.yaml');
    expect(rendered.template!.Resources).toBeDefined();
    expect(rendered.outputs.length).toBeGreaterThan(0);
    expect(Object.keys(rendered.outputValues)).toEqual(rendered.outputs);
    expect(rendered.body).not.toMatch(/\{\{|\{%/);
  });

  test.each(SERVICES)('service $name: every instance and the pipeline, with the environment\'s rendered outputs', (sample) => {
    const spec = specOf(sample.spec);
    const bundle = bundleOf(sample.bundle);
    const environment = renderEnvironment(sample.env);
    const instances = spec.instances.map((i: any) => {
      const instance = {
        name: i.name, inputs: i.spec ?? {}, environment: { name: i.environment, accountId: '111122223333', outputs: environment.outputValues },
      };
      const rendered = ProtonRenderer.renderServiceInstance({
        bundle,
        serviceName: sample.name,
        instanceName: instance.name,
        environment: instance.environment,
        inputs: instance.inputs,
        repository: REPOSITORY,
        allowUnknownInputs: sample.allowUnknownInputs,
      });
      expect(rendered.file).toBe('instance_infrastructure/cloudformation.yaml');
      expect(rendered.template!.Resources).toBeDefined();
      expect(rendered.outputs.length).toBeGreaterThan(0);
      expect(rendered.body).not.toMatch(/\{\{|\{%|<environment\.outputs/);
      // The pipeline reads the instances' outputs (apigw-lambda-svc: service_instances[0].outputs.LambdaRuntime).
      return { ...instance, outputs: rendered.outputValues };
    });
    const pipeline = ProtonRenderer.renderPipeline({
      bundle, serviceName: sample.name, inputs: spec.pipeline, instances, repository: REPOSITORY, allowUnknownInputs: sample.allowUnknownInputs,
    });
    expect(pipeline.file).toBe('pipeline_infrastructure/cloudformation.yaml');
    expect(pipeline.outputs).toEqual(['PipelineEndpoint']);
    expect(pipeline.body).not.toMatch(/\{\{|\{%/);
  });
});

describe('rendered values', () => {
  test('environment inputs and names land where the template reads them, short forms in long form', () => {
    const rendered = renderEnvironment('vpc-env');
    const template = rendered.template!;
    // vpc-env reads its CIDRs in a Mappings section.
    expect(template.Mappings.SubnetConfig.VPC.CIDR).toBe('10.0.0.0/16');
    expect(template.Mappings.SubnetConfig.Private2.CIDR).toBe('10.0.192.0/18');
    expect(template.Outputs.VPC.Value).toEqual({ Ref: 'VPC' });
    expect(template.Outputs.SNSRegion.Value).toEqual({ Ref: 'AWS::Region' });
  });

  test('schema defaults are applied before rendering', () => {
    const rendered = ProtonRenderer.renderEnvironment({ bundle: bundleOf('environment-templates/fargate-env/v1'), environmentName: 'dev' });
    expect(rendered.template!.Mappings.SubnetConfig.VPC.CIDR).toBe('10.0.0.0/16');
  });

  test('output values: pseudo parameters and literals as they are, stable placeholder ids and ARNs for resources', () => {
    const first = renderEnvironment('vpc-env').outputValues;
    expect(first.SNSRegion).toBe('us-east-1');
    // Ref of a VPC is its id, in AWS's shape (vpc- and 17 hex digits).
    expect(first.VPC).toMatch(/^vpc-[0-9a-f]{17}$/);
    // Ref of an SNS topic is its ARN.
    expect(first.SNSTopicArn).toMatch(/^arn:aws:sns:us-east-1:123456789012:AWSProton-vpc-env-prod-pingSNSTopic-[0-9a-f]{12}$/);
    const again = ProtonRenderer.renderEnvironment({
      bundle: bundleOf('environment-templates/vpc-env/v1'), environmentName: 'vpc-env-prod', inputs: specOf('environment-templates/vpc-env/spec/spec.yaml').spec,
    }).outputValues;
    expect(again).toEqual(first);
    const other = ProtonRenderer.renderEnvironment({ bundle: bundleOf('environment-templates/vpc-env/v1'), environmentName: 'other' }).outputValues;
    expect(other.VPC).not.toBe(first.VPC);
  });

  test('service instance: names, inputs, `==` branches, environment outputs and the output values', () => {
    const env = renderEnvironment('fargate-env');
    const rendered = ProtonRenderer.renderServiceInstance({
      bundle: bundleOf('service-templates/backend-fargate-svc/v1'),
      serviceName: 'backend',
      instanceName: 'prod',
      environment: { name: 'fargate-env-prod', outputs: env.outputValues },
      inputs: { subnet_type: 'public', port: 8080 },
    });
    const resources = rendered.template!.Resources;
    expect(resources.ServiceTaskDef.Properties.Family).toBe('backend_prod');
    // The sample quotes the port: '{{service_instance.inputs.port}}'.
    expect(resources.ServiceTaskDef.Properties.ContainerDefinitions[0].PortMappings[0].ContainerPort).toBe('8080');
    expect(resources.Service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
    expect(resources.Service.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets)
      .toEqual([env.outputValues.PublicSubnet1, env.outputValues.PublicSubnet2]);
    expect(resources.Service.Properties.Cluster).toBe(env.outputValues.Cluster);
    expect(rendered.outputValues).toEqual({ BackendURL: 'prod.backend.fargate-env-prod.local:8080' });
  });

  test('`is defined` picks the branch for an input given or not', () => {
    const render = (inputs: object) => ProtonRenderer.renderServiceInstance({
      bundle: bundleOf('service-templates/apigw-lambda-svc/v1'),
      serviceName: 'api',
      instanceName: 'one',
      environment: { name: 'vpc-env-prod', outputs: renderEnvironment('vpc-env').outputValues },
      inputs,
    }).template!.Resources.LambdaFunction.Properties;
    expect(render({})).toMatchObject({ Handler: 'index.handler' });
    expect(render({})).toHaveProperty('InlineCode');
    expect(render({ code_uri: 's3://bucket/code.zip', lambda_handler: 'app.handler' })).toMatchObject({ Handler: 'app.handler', CodeUri: 's3://bucket/code.zip' });
  });

  test('pipeline: one stage per instance with loop.index, repository and account parameters', () => {
    const bundle = bundleOf('service-templates/apigw-lambda-svc/v1');
    const environment = (account: string) => ({ name: 'vpc-env-prod', accountId: account, outputs: {} });
    const outputs = { LambdaRuntime: 'python3.8' };
    const rendered = ProtonRenderer.renderPipeline({
      bundle,
      serviceName: 'api',
      inputs: { code_dir: 'src' },
      repository: REPOSITORY,
      instances: [{ name: 'beta', environment: environment('111111111111'), outputs }, { name: 'prod', environment: environment('222222222222'), outputs }],
    });
    // {{ {...}[service_instances[0].outputs.LambdaRuntime] | tojson }}: Python's json.dumps layout.
    expect(rendered.body).toContain('"runtime-versions": {"python": "3.8"},');
    const resources = rendered.template!.Resources;
    expect(Object.keys(resources)).toEqual(expect.arrayContaining(['Deploy1Project', 'Deploy2Project']));
    expect(resources.Deploy3Project).toBeUndefined();
    expect(rendered.body).toContain('"arn:aws:iam::222222222222:root"');
    const source = resources.Pipeline.Properties.Stages[0].Actions[0].Configuration;
    expect(source).toMatchObject({ ConnectionArn: REPOSITORY.repositoryConnectionArn, FullRepositoryId: 'owner/repo', BranchName: 'main' });
    expect(rendered.outputValues.PipelineEndpoint).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/codesuite\/codepipeline\/pipelines\/AWSProton-api-pipeline-Pipeline-[0-9a-f]{12}\/view\?region=us-east-1$/);
  });

  test('the sample component\'s outputs reach the instance through Proton\'s filters, indented where the expression stands', () => {
    const componentText = readFileSync(join(SAMPLES, 'component-templates/s3-bucket-component/cloudformation.yaml'), 'utf8');
    const component = parseCloudFormation(componentText, 'cloudformation.yaml');
    const componentOutputs = outputValues(component, { stackName: 'AWSProton-bucket', account: '123456789012', region: 'us-east-1' });
    expect(componentOutputs.BucketAccessPolicyArn).toMatch(/^arn:aws:iam::123456789012:policy\//);
    const rendered = ProtonRenderer.renderServiceInstance({
      bundle: bundleOf('service-templates/load-balanced-fargate-svc/v1'),
      serviceName: 'web',
      instanceName: 'prod',
      environment: { name: 'fargate-env-prod', outputs: renderEnvironment('fargate-env').outputValues },
      componentOutputs,
    });
    const resources = rendered.template!.Resources;
    expect(resources.ServiceTaskDefTaskRole.Properties.ManagedPolicyArns).toEqual([
      { Ref: 'BaseTaskRoleManagedPolicy' }, componentOutputs.BucketAccessPolicyArn,
    ]);
    expect(resources.ServiceTaskDef.Properties.ContainerDefinitions[0].Environment).toEqual(expect.arrayContaining([
      { Name: 'BACKEND_URL', Value: expect.any(String) },
      { Name: 'BucketName', Value: componentOutputs.BucketName },
      { Name: 'BucketAccessPolicyArn', Value: componentOutputs.BucketAccessPolicyArn },
    ]));
  });

  test('without a component, the filters render nothing and the template still parses', () => {
    const rendered = ProtonRenderer.renderServiceInstance({
      bundle: bundleOf('service-templates/load-balanced-fargate-svc/v1'), serviceName: 'web', instanceName: 'prod', environment: { name: 'e' },
    });
    expect(rendered.template!.Resources.ServiceTaskDefTaskRole.Properties.ManagedPolicyArns).toEqual([{ Ref: 'BaseTaskRoleManagedPolicy' }]);
  });

  test('environment outputs not given render as placeholders', () => {
    const rendered = ProtonRenderer.renderServiceInstance({
      bundle: bundleOf('service-templates/backend-fargate-svc/v1'), serviceName: 'b', instanceName: 'i', environment: { name: 'e' },
    });
    expect(rendered.template!.Resources.Service.Properties.Cluster).toBe('<environment.outputs.Cluster>');
  });
});

describe('Proton\'s parameter filters and Jinja features', () => {
  const outputs = { A: 'hello', B: 'arn:aws:iam::123456789012:policy/p', C: 'with space' };
  const render = (source: string) => renderJinja(source, 'x.yaml', { outputs });

  test('proton_cfn_lambda_function_formatted_env_vars and the raw=False check', () => {
    expect(parse(render('Variables:\n  {{ outputs | proton_cfn_lambda_function_formatted_env_vars }}\n'))).toEqual({ Variables: outputs });
    expect(() => render('{{ outputs | proton_cfn_ecs_task_definition_formatted_env_vars(raw=False) }}'))
      .toThrow(/x\.yaml: Jinja rendering failed.*output B value "arn:aws:iam::123456789012:policy\/p" does not match \^\[a-zA-Z0-9_-\]\*\$/);
  });

  test('values print as Jinja prints them (Python\'s str): booleans, lists and mappings that YAML reads back', () => {
    const context = { inputs: { on: true, subnets: ['a', "it's"], tags: { team: 'web', size: 2 }, port: 80 } };
    const rendered = renderJinja('On: {{ inputs.on }}\nSubnets: {{ inputs.subnets }}\nTags: {{ inputs.tags }}\nPort: {{ inputs.port }}\n', 'x.yaml', context);
    expect(rendered).toBe('On: True\nSubnets: [\'a\', "it\'s"]\nTags: {\'team\': \'web\', \'size\': 2}\nPort: 80\n');
    expect(parse(rendered)).toEqual({ On: true, Subnets: ['a', "it's"], Tags: { team: 'web', size: 2 }, Port: 80 });
    // Only while a Proton file renders: other nunjucks users in the process print as nunjucks does.
    expect(nunjucks.renderString('{{ on }}', { on: true })).toBe('true');
  });

  test('proton_cfn_iam_policy_arns keeps only policy ARNs; default fills a missing reference', () => {
    expect(parse(render('Arns:\n  {{ outputs | proton_cfn_iam_policy_arns }}\n'))).toEqual({ Arns: ['arn:aws:iam::123456789012:policy/p'] });
    expect(render('{{ outputs.Missing | default("none") }}')).toBe('none');
    expect(render('{%- for k in ["a", "b"] %}\n{{ loop.index }}{{ k }}{%- endfor %}')).toBe('\n1a\n2b');
  });
});

describe('failures name the file, the line and the problem', () => {
  const envBundle = () => bundleOf('environment-templates/vpc-env/v1');

  test('a reference to a parameter that does not exist', () => {
    expect(() => renderJinja('a: 1\nb: "{{ environment.inputs.typo }}"\n', 'infrastructure/cloudformation.yaml', { environment: { inputs: {} } }))
      .toThrow('infrastructure/cloudformation.yaml: Jinja rendering failed at line 2: a referenced parameter is not defined'
        + ' (an input, output or resource parameter that does not exist here; use `is defined` or `| default(...)` for optional ones)'
        + ' (line 2: b: "{{ environment.inputs.typo }}")');
  });

  test('a Jinja syntax error and an unknown filter', () => {
    expect(() => renderJinja('a: 1\n{% if %}\n', 'f.yaml', {})).toThrow(/^f\.yaml: Jinja rendering failed at line 2: unexpected token: %\} \(line 2: \{% if %\}\)$/);
    expect(() => renderJinja('{{ 1 | nofilter }}', 'f.yaml', {})).toThrow('f.yaml: Jinja rendering failed: filter not found: nofilter');
  });

  test('a rendered template that is not valid YAML, or not a mapping', () => {
    expect(() => parseCloudFormation('Resources:\n  A: [unclosed\n', 'f.yaml')).toThrow(/^f\.yaml: the rendered template is not valid YAML: /);
    expect(() => parseCloudFormation('- a\n', 'f.yaml')).toThrow('f.yaml: the rendered template must be a YAML mapping of CloudFormation sections, got a list');
  });

  test('inputs the schema refuses, through the public API with the bundle named', () => {
    expect(() => ProtonRenderer.renderEnvironment({ bundle: envBundle(), environmentName: 'e', inputs: { vpc_cidr: 12 } }))
      .toThrow(/^Template bundle .*vpc-env\/v1: the inputs of environment e do not match the schema's VPCEnvironmentInput: input "vpc_cidr": 12 is not a string$/);
    expect(() => ProtonRenderer.renderEnvironment({ bundle: envBundle(), environmentName: 'e', inputs: { vpc_cdr: 'x' } }))
      .toThrow(/unknown input "vpc_cdr"/);
  });

  test('a service file that reads the repository of a service without one', () => {
    expect(() => ProtonRenderer.renderPipeline({
      bundle: bundleOf('service-templates/backend-fargate-svc/v1'), serviceName: 's', instances: [],
    })).toThrow(/pipeline_infrastructure\/cloudformation\.yaml: Jinja rendering failed at line \d+: a referenced parameter is not defined.*service\.repository/);
  });

  test('a bundle without the infrastructure asked for', () => {
    const schema = parseTemplateSchema('schema:\n  format: {openapi: "3.0.0"}\n  environment_input_type: In\n  types:\n    In: {type: object}\n');
    expect(() => renderBundle([], schema, { kind: 'ENVIRONMENT', environment: { name: 'e', inputs: {} } }))
      .toThrow('infrastructure/manifest.yaml: missing: the bundle has no environment infrastructure to render');
  });
});

describe('Terraform bundles', () => {
  const TF = [
    '# output "commented" { value = "no" }',
    'output "vpc_id" {',
    '  value = aws_vpc.main.id',
    '}',
    'output "cidr" {',
    '  description = "the {braced} CIDR"',
    '  value       = var.environment.inputs.vpc_cidr',
    '}',
    'output  "greeting"  { value = "hello" }',
    'output "templated" { value = "${var.x}-y" }',
  ].join('\n');

  test('output blocks, their literal and input values, placeholders for the rest', () => {
    expect(terraformOutputs(TF).map(o => o.name)).toEqual(['vpc_id', 'cidr', 'greeting', 'templated']);
    const schema = parseTemplateSchema('schema:\n  format: {openapi: "3.0.0"}\n  environment_input_type: In\n  types:\n    In:\n      type: object\n      properties:\n        vpc_cidr: {type: string, default: 10.0.0.0/16}\n');
    const files = [
      { path: 'infrastructure/manifest.yaml', content: Buffer.from('infrastructure:\n  templates:\n    - file: "*"\n      rendering_engine: hcl\n      template_language: terraform\n') },
      { path: 'infrastructure/main.tf', content: Buffer.from(TF) },
    ];
    const rendered = renderBundle(files, schema, { kind: 'ENVIRONMENT', environment: { name: 'dev', inputs: {} } });
    expect(rendered.language).toBe('terraform');
    expect(JSON.parse(rendered.body)).toEqual({ environment: { name: 'dev', inputs: { vpc_cidr: '10.0.0.0/16' } } });
    expect(rendered.outputValues).toEqual({ vpc_id: 'AWSProton-dev-vpc_id', cidr: '10.0.0.0/16', greeting: 'hello', templated: 'AWSProton-dev-templated' });
    expect(terraformOutputValue(undefined, {})).toBeUndefined();
  });
});

describe('stored bundles are read synchronously, as the asynchronous reader reads them', () => {
  test('a packed bundle, and a GNU tar archive with a wrapping folder and a path longer than a ustar name', async () => {
    const files = bundleOf('environment-templates/vpc-env/v1')._files();
    expect(unpackBundleSync(packBundleSync(files))).toEqual(files);

    const dir = mkdtempSync(join(tmpdir(), 'render-tar-'));
    const longFolder = `infrastructure/${'nested-folder-'.repeat(8)}`;
    for (const [path, content] of [['wrapper/schema/schema.yaml', 'schema: {}\n'], [`wrapper/${longFolder}/file.yaml`, 'a: 1\n']]) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    execFileSync('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', dir, 'wrapper']);
    const archive = readFileSync(join(dir, 'bundle.tar.gz'));
    const unpacked = unpackBundleSync(archive);
    expect(unpacked.map(f => f.path)).toEqual([`${longFolder}/file.yaml`, 'schema/schema.yaml']);
    expect(unpacked).toEqual(await unpackBundle(archive));
  });
});
