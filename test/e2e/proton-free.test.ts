/**
 * Leaving Proton, end to end: the example platform app deployed through Proton on proton-local, exported with
 * `proton-local export`, then synthesized Proton-free (`cdk-proton:mode=cloudformation`) with the stack names the export
 * found. Every environment, instance and pipeline stack must hold what Proton rendered for the deployed specs.
 * Needs the handler bundle (`npx projen bundle`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { parse as parseYaml } from 'yaml';
import { Harness, startHarness, synthesize, temporaryDirectory } from './helpers';
import { buildPlatformApp, REVISION_CONTEXT } from '../../examples/platform-app';
import { ProtonRenderer, RenderedTemplate, RenderPipelineInstance, TemplateBundle } from '../../src';
import { main } from '../../src/local/cli';
import { exportAccount, ExportManifest } from '../../src/local/export-command';
import { packBundleSync } from '../../src/private/bundle';

/** The account proton-local provisions in. */
const ACCOUNT = '123456789012';

let h: Harness;
let out: string;
let manifest: ExportManifest;
beforeAll(async () => {
  h = await startHarness();
  await h.engine().deploy(synthesize((app) => buildPlatformApp(app), { [REVISION_CONTEXT]: '1' }));
  out = temporaryDirectory('export');
  manifest = await exportAccount(h.local.endpoint, out);
});
afterAll(() => h.stop());

const read = (file: string) => fs.readFileSync(path.join(out, file), 'utf8');
const readJson = (file: string) => JSON.parse(read(file));

test('export writes the templates with their bundles, the specs, the outputs and the provisioned stacks', async () => {
  expect(manifest.templates.map((t) => `${t.kind} ${t.name} ${t.versions.map((v) => `${v.version} ${v.status} ${v.bundle.path}`)}`)).toEqual([
    'ENVIRONMENT fargate-env 1.0 PUBLISHED templates/fargate-env/1.0/bundle',
    'ENVIRONMENT vpc-env 1.0 PUBLISHED templates/vpc-env/1.0/bundle',
    'SERVICE backend-fargate-svc 1.0 PUBLISHED templates/backend-fargate-svc/1.0/bundle',
    'SERVICE load-balanced-fargate-svc 1.0 PUBLISHED templates/load-balanced-fargate-svc/1.0/bundle',
  ]);
  // The exported bundle is the one the app registered, file for file.
  const exported = TemplateBundle.fromDirectory(path.join(out, 'templates/fargate-env/1.0/bundle'));
  const original = TemplateBundle.fromDirectory(path.join(__dirname, '../../examples/templates/fargate-env'));
  expect(exported._files()).toEqual(original._files());

  expect(manifest.stackNames).toEqual({
    'environment:production': 'AWSProton-production',
    'environment:staging': 'AWSProton-staging',
    'instance:orders-backend/production': 'AWSProton-orders-backend-production',
    'instance:orders-backend/staging': 'AWSProton-orders-backend-staging',
    'pipeline:orders-backend': 'AWSProton-orders-backend-pipeline',
    'instance:storefront/production': 'AWSProton-storefront-production',
    'instance:storefront/staging': 'AWSProton-storefront-staging',
  });
  const staging = parseYaml(read('environments/staging/spec.yaml'));
  expect(staging).toEqual({ proton: 'EnvironmentSpec', spec: expect.objectContaining({ vpc_cidr: '10.10.0.0/16' }) });
  const backend = parseYaml(read('services/orders-backend/spec.yaml'));
  expect(backend.proton).toBe('ServiceSpec');
  expect(backend.pipeline).toEqual(expect.objectContaining({ service_dir: 'orders' }));
  expect(backend.instances.map((i: any) => `${i.name} ${i.environment} ${i.spec.desired_count}`)).toEqual(['staging staging 1', 'production production 3']);
  const { outputs } = await h.client.call('ListEnvironmentOutputs', { environmentName: 'staging' });
  expect(readJson('environments/staging/outputs.json')).toEqual(Object.fromEntries(outputs.map((o: any) => [o.key, o.valueString])));

  // Through the command line too.
  const cliOut = temporaryDirectory('export-cli');
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await main(['export', '--endpoint', h.local.endpoint, '--out', cliOut])).toBe(0);
  } finally {
    write.mockRestore();
  }
  expect(JSON.parse(fs.readFileSync(path.join(cliOut, 'manifest.json'), 'utf8')).stackNames).toEqual(manifest.stackNames);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await main(['export', '--out', cliOut])).toBe(2);
    expect(String(stderr.mock.calls[0][0])).toMatch(/^proton-local: export needs --endpoint URL/);
  } finally {
    stderr.mockRestore();
  }
});

test('the Proton-free app deploys what Proton rendered, into the stacks Proton provisioned', () => {
  const app = new App({
    outdir: temporaryDirectory('proton-free'),
    context: { [REVISION_CONTEXT]: '1', 'cdk-proton:mode': 'cloudformation', 'cdk-proton:stack-names': path.join(out, 'manifest.json') },
  });
  buildPlatformApp(app);
  const assembly = app.synth();
  const stacks = new Map(assembly.stacks.map((s) => [s.stackName, s]));
  expect([...stacks.keys()].sort()).toEqual(['ProtonPlatform', 'ProtonServices', ...Object.values(manifest.stackNames)].sort());
  // No Proton resource, no custom resource provider.
  for (const name of ['ProtonPlatform', 'ProtonServices']) {
    const types = Object.values(stacks.get(name)!.template.Resources ?? {}).map((r: any) => r.Type);
    expect(types.filter((t) => t.startsWith('Custom::') || t === 'AWS::Lambda::Function')).toEqual([]);
  }

  // The tags of the environment or service (and the app's), as Proton tagged the stacks it provisioned.
  expect(stacks.get('AWSProton-production')!.tags).toEqual({ 'criticality': 'high', 'managed-by': 'cdk-proton', 'cost-center': 'platform-engineering' });
  expect(stacks.get('AWSProton-staging')!.tags).toEqual({ 'managed-by': 'cdk-proton', 'cost-center': 'platform-engineering' });
  expect(stacks.get('AWSProton-storefront-staging')!.tags).toEqual(expect.objectContaining({ team: 'web' }));
  expect(stacks.get('AWSProton-orders-backend-pipeline')!.tags).toEqual(expect.objectContaining({ team: 'orders' }));

  const bundleOf = (template: string) => {
    const entry = manifest.templates.find((t) => t.name === template)!.versions[0];
    return TemplateBundle.fromDirectory(path.join(out, entry.bundle.path!));
  };
  // Export name -> the value Proton reported for that output.
  const exported = new Map<string, string>();
  const outputsOf = (stackName: string, file: string) => {
    const values: { [key: string]: string } = readJson(file);
    Object.entries(values).forEach(([key, value]) => exported.set(`${stackName}:${key}`, value));
    return values;
  };

  const environments = new Map<string, { name: string; accountId: string; outputs: { [key: string]: string } }>();
  for (const environment of manifest.environments) {
    const spec = parseYaml(read(environment.spec));
    const rendered = ProtonRenderer.renderEnvironment({
      bundle: bundleOf(environment.templateName), environmentName: environment.name, inputs: spec.spec,
    });
    const stack = stacks.get(environment.stackName!)!;
    expectRendered(stack, rendered, exported);
    const outputs = outputsOf(environment.stackName!, environment.outputs);
    environments.set(environment.name, { name: environment.name, accountId: ACCOUNT, outputs });
  }

  let pipelines = 0;
  for (const service of manifest.services) {
    const spec = parseYaml(read(service.spec));
    const bundle = bundleOf(service.templateName);
    const repository = service.repository && {
      repositoryId: service.repository.repositoryId,
      branchName: service.repository.branchName,
      repositoryConnectionArn: service.repository.connectionArn,
    };
    const instances: RenderPipelineInstance[] = [];
    for (const instance of service.instances) {
      const inputs = spec.instances.find((i: any) => i.name === instance.name).spec;
      const environment = environments.get(instance.environment)!;
      const rendered = ProtonRenderer.renderServiceInstance({
        bundle, serviceName: service.name, instanceName: instance.name, environment, inputs, repository,
      });
      const stack = stacks.get(instance.stackName!)!;
      expectRendered(stack, rendered, exported);
      // The instance stack deploys after its environment's, whose outputs it imports.
      expect(stack.dependencies.map((d) => (d as CloudFormationStackArtifact).stackName)).toContain(`AWSProton-${instance.environment}`);
      instances.push({ name: instance.name, environment, inputs, outputs: outputsOf(instance.stackName!, instance.outputs) });
    }
    if (service.pipeline) {
      pipelines++;
      // service_instances in the spec's order.
      const ordered = spec.instances.map((entry: any) => instances.find((i) => i.name === entry.name)!);
      const rendered = ProtonRenderer.renderPipeline({ bundle, serviceName: service.name, inputs: spec.pipeline, instances: ordered, repository });
      expectRendered(stacks.get(service.pipeline.stackName!)!, rendered, exported);
    }
  }
  expect(pipelines).toBe(1);
});

/**
 * The stack holds the rendered template: the same resources, exactly (logical ids, types, properties, attributes), once
 * each imported output is replaced by the value Proton reported for it, and the same outputs.
 */
function expectRendered(stack: CloudFormationStackArtifact, rendered: RenderedTemplate, exported: Map<string, string>): void {
  const template = resolveImports(stack.template, exported) as { Resources: { [id: string]: any }; Outputs: { [id: string]: any } };
  const expected = rendered.template as { Resources: { [id: string]: any }; Outputs?: { [id: string]: any } };
  expect(Object.keys(template.Resources).sort()).toEqual(Object.keys(expected.Resources).sort());
  for (const [id, resource] of Object.entries(template.Resources)) {
    expect({ id, ...resource }).toEqual({ id, ...expected.Resources[id] });
  }
  expect((template as { Description?: string }).Description).toEqual((expected as { Description?: string }).Description);
  expect(Object.keys(template.Outputs ?? {})).toEqual(rendered.outputs);
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    const { Export: exportName, ...rest } = output;
    expect({ key, ...rest }).toEqual({ key, ...expected.Outputs![key] });
    if (exportName) expect(exportName).toEqual({ Name: `${stack.stackName}:${key}` });
  }
}

/**
 * `Fn::ImportValue` of an export replaced by its value, and the `Fn::Sub` Proton-free mode makes of a string holding such
 * values or the environment's account (variables named `CdkProtonRef<n>X`) substituted.
 */
function resolveImports(value: unknown, exported: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveImports(v, exported));
  if (!value || typeof value !== 'object') return value;
  const object = value as { [key: string]: unknown };
  if (typeof object['Fn::ImportValue'] === 'string' && Object.keys(object).length === 1) {
    const name = object['Fn::ImportValue'] as string;
    if (!exported.has(name)) throw new Error(`no output is exported as ${name}`);
    return exported.get(name);
  }
  const resolved = Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolveImports(v, exported)]));
  const sub = resolved['Fn::Sub'];
  if (Array.isArray(sub) && Object.keys(sub[1]).every((name) => /^CdkProtonRef\d+X$/.test(name))) {
    // The environment's account (AWS::AccountId: the stacks are env-agnostic) is the account proton-local deploys in.
    const variables = Object.fromEntries(Object.entries(sub[1] as { [name: string]: unknown })
      .map(([name, v]) => [name, (v as { Ref?: string })?.Ref === 'AWS::AccountId' ? ACCOUNT : v as string]));
    return (sub[0] as string).replace(/\$\{(CdkProtonRef\d+X)\}/g, (_match, name) => variables[name]).replace(/\$\{!/g, '${');
  }
  return resolved;
}

test('the version\'s bundle hash picks its bundle among the objects with its schema; without it, several are ambiguous', async () => {
  await h.engine().deploy(synthesize((app) => buildPlatformApp(app), { [REVISION_CONTEXT]: '2' }));
  // Another bundle with 1.1's schema in the bucket: a changed template.
  const v11 = TemplateBundle.fromDirectory(path.join(__dirname, '../../examples/templates/fargate-env-v1.1'));
  const lookalike = v11._files().map((f) => (f.path === 'infrastructure/cloudformation.yaml'
    ? { path: f.path, content: Buffer.concat([f.content, Buffer.from('\n# changed\n')]) } : f));
  const [bucket] = Object.keys(h.local.state.s3);
  const put = await fetch(`${h.local.endpoint}/${bucket}/lookalike.tar.gz`, { method: 'PUT', body: packBundleSync(lookalike) });
  expect(put.ok).toBe(true);

  const upgraded = await exportAccount(h.local.endpoint, temporaryDirectory('export-upgraded'));
  const versionOf = (m: ExportManifest) => m.templates.find((t) => t.name === 'fargate-env')!.versions;
  expect(versionOf(upgraded).map((v) => `${v.version} ${v.bundle.path}`)).toEqual(['1.1 templates/fargate-env/1.1/bundle']);
  expect(versionOf(upgraded)[0].bundle.sources).toEqual([expect.not.stringContaining('lookalike')]);
  expect(upgraded.environments.map((e) => `${e.name} ${e.templateVersion}`)).toEqual(['production 1.1', 'staging 1.1']);

  // A version registered by other tools has no hash: two bundles with its schema, none exported.
  const { environmentTemplateVersion } = await h.client.call('GetEnvironmentTemplateVersion', { templateName: 'fargate-env', majorVersion: '1', minorVersion: '1' });
  await h.client.call('UntagResource', { resourceArn: environmentTemplateVersion.arn, tagKeys: ['cdk-proton:bundle-sha256'] });
  const untagged = await exportAccount(h.local.endpoint, temporaryDirectory('export-untagged'));
  expect(versionOf(untagged)[0].bundle.path).toBeUndefined();
  expect(versionOf(untagged)[0].bundle.sources).toHaveLength(2);
});
