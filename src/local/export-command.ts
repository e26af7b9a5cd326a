/**
 * `proton-local export`: writes what a Proton account holds into a folder a CDK app can consume when it leaves Proton.
 *
 *   proton-local export --endpoint URL [--out DIR] [--bucket NAME]...
 *
 * The folder (default `export/`):
 *   manifest.json                                   every resource below, and `stackNames`: the stack Proton provisioned
 *                                                   for each environment, instance and pipeline (the value of the
 *                                                   context key `cdk-proton:stack-names`)
 *   templates/<name>/<major>.<minor>/version.json   the version record (Get*TemplateVersion)
 *   templates/<name>/<major>.<minor>/bundle/        the version's bundle, when found (see below)
 *   environments/<name>/spec.yaml                   the environment's spec (`proton: EnvironmentSpec`)
 *   environments/<name>/outputs.json                its outputs (ListEnvironmentOutputs), `{ key: value }`
 *   services/<name>/spec.yaml                       the service's spec (`proton: ServiceSpec`, with its instances)
 *   services/<name>/instances/<instance>/outputs.json, services/<name>/pipeline/outputs.json
 *
 * Proton's API has no bundle download and its version records do not say where a bundle was registered from: the
 * bundles are looked for in the account's S3 buckets (those given with --bucket, else every bucket listed), as the
 * gzipped tar objects whose `schema/schema.yaml` is the version's schema. A version whose schema matches no object, or
 * several different bundles, is exported without a bundle (the manifest lists the candidates). A version this library
 * registered carries its bundle's content hash (tag `cdk-proton:bundle-sha256`), which picks the bundle among several.
 */
import { createHash } from 'crypto';
import { mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { parseArgs } from 'util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { BundleFile, byPath, SCHEMA_FILE, unpackBundleSync } from '../private/bundle';
import { SystemTags } from '../private/properties';
import { ProtonApiClient } from './deploy/proton-client';

export const EXPORT_USAGE = '  proton-local export --endpoint URL [--out DIR] [--bucket NAME]...';

/** A mistake in the command line: printed with the usage, exit code 2. */
export class ExportUsageError extends Error {}

/** What `export` found for one template version's bundle. */
export interface ExportedBundle {
  /** The bundle's folder, relative to the export folder; undefined when not found. */
  readonly path?: string;
  /** The S3 object it was read from (`s3://bucket/key`), or the candidates when several bundles match. */
  readonly sources: string[];
}

export interface ExportManifest {
  readonly endpoint: string;
  readonly templates: Array<{ kind: 'ENVIRONMENT' | 'SERVICE'; name: string; versions: Array<{ version: string; status: string; record: string; bundle: ExportedBundle }> }>;
  readonly environments: Array<{ name: string; templateName: string; templateVersion: string; spec: string; outputs: string; stackName?: string }>;
  readonly services: Array<{
    name: string;
    templateName: string;
    spec: string;
    repository?: { connectionArn: string; repositoryId: string; branchName: string };
    instances: Array<{ name: string; environment: string; templateVersion: string; outputs: string; stackName?: string }>;
    pipeline?: { templateVersion: string; outputs: string; stackName?: string };
  }>;
  /** The stack Proton provisioned for each resource: `environment:<name>`, `instance:<service>/<instance>`, `pipeline:<service>`. */
  readonly stackNames: { [resource: string]: string };
}

/** Runs `proton-local export`; resolves to the exit code. */
export async function runExportCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      endpoint: { type: 'string' },
      out: { type: 'string' },
      bucket: { type: 'string', multiple: true },
    },
  });
  if (values.endpoint === undefined) {
    throw new ExportUsageError('export needs --endpoint URL (the Proton endpoint, e.g. http://127.0.0.1:4000)');
  }
  const manifest = await exportAccount(values.endpoint, values.out ?? 'export', values.bucket);
  log(`exported ${manifest.templates.length} templates, ${manifest.environments.length} environments and ${manifest.services.length} services `
    + `to ${values.out ?? 'export'}`);
  return 0;
}

/** Exports every template, version, environment and service of the account at `endpoint` into `out`. */
export async function exportAccount(endpoint: string, out: string, buckets?: string[]): Promise<ExportManifest> {
  const client = new ProtonApiClient(endpoint);
  const s3 = new BundleFinder(endpoint, buckets);
  const write = (path: string, content: string | Buffer) => {
    const file = join(out, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return path;
  };
  const stackNames: { [resource: string]: string } = {};
  const stackOf = (key: string, resources: Array<{ name: string; provisioningEngine?: string }>) => {
    const stack = resources.find(r => r.provisioningEngine === 'CLOUDFORMATION')?.name;
    if (stack) stackNames[key] = stack;
    return stack;
  };

  const templates: ExportManifest['templates'] = [];
  for (const kind of ['ENVIRONMENT', 'SERVICE'] as const) {
    const prefix = kind === 'ENVIRONMENT' ? 'Environment' : 'Service';
    for (const summary of await client.listAll(`List${prefix}Templates`, 'templates')) {
      const versions: ExportManifest['templates'][number]['versions'] = [];
      for (const v of await client.listAll(`List${prefix}TemplateVersions`, 'templateVersions', { templateName: summary.name })) {
        const version = `${v.majorVersion}.${v.minorVersion}`;
        const { [kind === 'ENVIRONMENT' ? 'environmentTemplateVersion' : 'serviceTemplateVersion']: record } = await client.call(
          `Get${prefix}TemplateVersion`, { templateName: summary.name, majorVersion: v.majorVersion, minorVersion: v.minorVersion });
        const folder = `templates/${summary.name}/${version}`;
        const { tags } = await client.call('ListTagsForResource', { resourceArn: record.arn });
        const sha256 = (tags as Array<{ key: string; value: string }>).find(t => t.key === SystemTags.BUNDLE_HASH)?.value;
        const found = await s3.find(record.schema, sha256);
        let bundle: ExportedBundle = { sources: found.map(f => f.source) };
        if (found.length === 1) {
          found[0].files.forEach(f => write(`${folder}/bundle/${f.path}`, f.content));
          bundle = { path: `${folder}/bundle`, sources: [found[0].source] };
        }
        versions.push({ version, status: record.status, record: write(`${folder}/version.json`, json(record)), bundle });
      }
      templates.push({ kind, name: summary.name, versions });
    }
  }

  const environments: ExportManifest['environments'] = [];
  for (const summary of await client.listAll('ListEnvironments', 'environments')) {
    const { environment } = await client.call('GetEnvironment', { name: summary.name });
    const folder = `environments/${environment.name}`;
    const outputs = await client.listAll('ListEnvironmentOutputs', 'outputs', { environmentName: environment.name });
    const resources = await client.listAll('ListEnvironmentProvisionedResources', 'provisionedResources', { environmentName: environment.name });
    environments.push({
      name: environment.name,
      templateName: environment.templateName,
      templateVersion: `${environment.templateMajorVersion}.${environment.templateMinorVersion}`,
      spec: write(`${folder}/spec.yaml`, specFile(environment.spec, 'EnvironmentSpec')),
      outputs: write(`${folder}/outputs.json`, json(outputMap(outputs))),
      stackName: stackOf(`environment:${environment.name}`, resources),
    });
  }

  const services: ExportManifest['services'] = [];
  for (const summary of await client.listAll('ListServices', 'services')) {
    const { service } = await client.call('GetService', { name: summary.name });
    const folder = `services/${service.name}`;
    const instances: ExportManifest['services'][number]['instances'] = [];
    for (const i of await client.listAll('ListServiceInstances', 'serviceInstances', { serviceName: service.name })) {
      const key = { serviceName: service.name, serviceInstanceName: i.name };
      const outputs = await client.listAll('ListServiceInstanceOutputs', 'outputs', key);
      const resources = await client.listAll('ListServiceInstanceProvisionedResources', 'provisionedResources', key);
      instances.push({
        name: i.name,
        environment: i.environmentName,
        templateVersion: `${i.templateMajorVersion}.${i.templateMinorVersion}`,
        outputs: write(`${folder}/instances/${i.name}/outputs.json`, json(outputMap(outputs))),
        stackName: stackOf(`instance:${service.name}/${i.name}`, resources),
      });
    }
    let pipeline: ExportManifest['services'][number]['pipeline'];
    if (service.pipeline) {
      const outputs = await client.listAll('ListServicePipelineOutputs', 'outputs', { serviceName: service.name });
      const resources = await client.listAll('ListServicePipelineProvisionedResources', 'provisionedResources', { serviceName: service.name });
      pipeline = {
        templateVersion: `${service.pipeline.templateMajorVersion}.${service.pipeline.templateMinorVersion}`,
        outputs: write(`${folder}/pipeline/outputs.json`, json(outputMap(outputs))),
        stackName: stackOf(`pipeline:${service.name}`, resources),
      };
    }
    services.push({
      name: service.name,
      templateName: service.templateName,
      spec: write(`${folder}/spec.yaml`, specFile(service.spec, 'ServiceSpec')),
      repository: service.repositoryId
        ? { connectionArn: service.repositoryConnectionArn, repositoryId: service.repositoryId, branchName: service.branchName } : undefined,
      instances,
      pipeline,
    });
  }

  const manifest: ExportManifest = { endpoint, templates, environments, services, stackNames };
  write('manifest.json', json(manifest));
  return manifest;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, undefined, 2)}\n`;
}

function outputMap(outputs: Array<{ key: string; valueString?: string }>): { [key: string]: string } {
  return Object.fromEntries(outputs.map(o => [o.key, o.valueString ?? '']));
}

/** The spec as Proton holds it, as a spec file (`proton: <kind>` first). */
function specFile(spec: string | undefined, kind: 'EnvironmentSpec' | 'ServiceSpec'): string {
  const { proton: _kind, ...document } = (spec ? parseYaml(spec) : undefined) ?? {};
  return stringifyYaml({ proton: kind, ...document });
}

/** The bundles among an account's S3 objects, by their schema (Proton's records do not say where a version came from). */
class BundleFinder {
  private candidates?: Promise<Array<{ source: string; schema: string; files: BundleFile[] }>>;

  constructor(private readonly endpoint: string, private readonly buckets?: string[]) {}

  /** The bundles with this schema, and this content hash when known. */
  public async find(schema: string, sha256: string | undefined): Promise<Array<{ source: string; files: BundleFile[] }>> {
    this.candidates ??= this.load();
    const matches = (await this.candidates).filter(c => c.schema === schema && (sha256 === undefined || contentHash(c.files) === sha256));
    // The same bundle uploaded under several keys is one bundle.
    const distinct = new Map<string, { source: string; files: BundleFile[] }>();
    for (const match of matches) {
      const identity = JSON.stringify(match.files.map(f => [f.path, f.content.toString('base64')]));
      if (!distinct.has(identity)) distinct.set(identity, match);
    }
    return [...distinct.values()];
  }

  private async load(): Promise<Array<{ source: string; schema: string; files: BundleFile[] }>> {
    const base = this.endpoint.replace(/\/+$/, '');
    const buckets = this.buckets ?? xmlTexts(await this.get(`${base}/`), 'Name');
    const result: Array<{ source: string; schema: string; files: BundleFile[] }> = [];
    for (const bucket of buckets) {
      let token: string | undefined;
      do {
        const page = await this.get(`${base}/${encodeURIComponent(bucket)}?list-type=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`);
        // Any object may be a bundle (CDK's asset keys end in .gz, others in .tar.gz): those that unpack with a schema are.
        for (const key of xmlTexts(page, 'Key')) {
          const response = await fetch(`${base}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`);
          if (!response.ok) continue;
          let files: BundleFile[];
          try {
            files = unpackBundleSync(Buffer.from(await response.arrayBuffer()));
          } catch {
            continue; // Not a bundle.
          }
          const schemaFile = files.find(f => f.path === SCHEMA_FILE);
          if (schemaFile) result.push({ source: `s3://${bucket}/${key}`, schema: schemaFile.content.toString('utf8'), files });
        }
        token = xmlTexts(page, 'NextContinuationToken')[0];
      } while (token);
    }
    return result;
  }

  private async get(url: string): Promise<string> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
    return response.text();
  }
}

/** TemplateBundle.contentHash: the files in path order, each as its path, its length and its content. */
function contentHash(files: BundleFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort(byPath)) {
    hash.update(`${file.path}\0${file.content.length}\0`).update(file.content);
  }
  return hash.digest('hex');
}

/** The texts of an S3 XML response's `<tag>` elements. */
function xmlTexts(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map(m => m[1]
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, '\'').replace(/&amp;/g, '&'));
}
