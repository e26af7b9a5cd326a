/**
 * `proton-local render`: prints the IaC Proton would render for a bundle and a spec file, without a server.
 *
 *   proton-local render --bundle DIR --spec FILE [--name NAME] [--instance INSTANCE | --pipeline] [--environment-outputs FILE]
 *
 * The spec is a Proton spec file (`proton: EnvironmentSpec` or `proton: ServiceSpec`). What only a deployment knows is
 * rendered as a placeholder: an environment output not given becomes `<environment.outputs.KEY>`, a name not given
 * `<service.name>`. For a pipeline, each instance is rendered first and its outputs are the pipeline's
 * `service_instance.outputs`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { join, relative, resolve, sep } from 'path';
import { parseArgs } from 'util';
import { parse as parseYaml } from 'yaml';
import { BundleFile, byPath, SCHEMA_FILE } from '../private/bundle';
import { parseTemplateSchema, TemplateSchema } from '../private/schema';
import {
  EnvironmentParameters, InstanceParameters, OutputMap, placeholders, renderBundle, RenderError, Rendering, RenderRequest, ServiceParameters,
} from '../render/render';

export const RENDER_USAGE = '  proton-local render --bundle DIR --spec FILE [--name NAME] [--instance INSTANCE | --pipeline] [--environment-outputs FILE]';

/** A mistake in the command line: printed with the usage, exit code 2. */
export class RenderUsageError extends Error {}

/** Where the command writes: stdout gets the rendered template only, so it can be redirected to a file. */
export interface RenderOutput {
  stdout(text: string): void;
}

/** Runs `proton-local render`; returns the exit code. Errors other than usage errors are thrown with their message. */
export function runRenderCommand(argv: string[], output: RenderOutput): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'bundle': { type: 'string' },
      'spec': { type: 'string' },
      'name': { type: 'string' },
      'instance': { type: 'string' },
      'pipeline': { type: 'boolean' },
      'environment-outputs': { type: 'string' },
    },
  });
  if (values.bundle === undefined || values.spec === undefined) {
    throw new RenderUsageError('render needs --bundle DIR and --spec FILE');
  }
  if (values.instance !== undefined && values.pipeline) {
    throw new RenderUsageError('--instance and --pipeline are exclusive: render one instance or the pipeline');
  }
  const files = readBundleDirectory(values.bundle);
  const schemaFile = files.find(f => f.path === SCHEMA_FILE);
  if (!schemaFile) {
    throw new Error(`${values.bundle}: no ${SCHEMA_FILE}: --bundle must be a template bundle's root folder`);
  }
  const schema = parseTemplateSchema(schemaFile.content.toString('utf8'));
  const spec = readSpec(values.spec);
  const environmentOutputs = values['environment-outputs'] === undefined ? undefined : readOutputs(values['environment-outputs']);

  let rendering: Rendering;
  try {
    rendering = spec.proton === 'EnvironmentSpec'
      ? renderEnvironment(files, schema, spec, values)
      : renderService(files, schema, spec, { ...values, environmentOutputs });
  } catch (e) {
    if (e instanceof RenderError) {
      throw new Error(`${values.bundle}: ${e.message}`);
    }
    throw e;
  }
  output.stdout(rendering.body.endsWith('\n') ? rendering.body : `${rendering.body}\n`);
  return 0;
}

interface RenderValues {
  readonly name?: string;
  readonly instance?: string;
  readonly pipeline?: boolean;
  readonly environmentOutputs?: OutputMap;
}

function renderEnvironment(files: BundleFile[], schema: TemplateSchema, spec: { [key: string]: any }, values: RenderValues): Rendering {
  if (values.instance !== undefined || values.pipeline) {
    throw new RenderUsageError('--instance and --pipeline render a ServiceSpec; the spec is an EnvironmentSpec');
  }
  const request: RenderRequest = { kind: 'ENVIRONMENT', environment: { name: values.name ?? '<environment.name>', inputs: spec.spec ?? {} } };
  return renderBundle(files, schema, request, { allowUnknownInputs: true });
}

function renderService(files: BundleFile[], schema: TemplateSchema, spec: { [key: string]: any }, values: RenderValues): Rendering {
  const service: ServiceParameters = {
    name: values.name ?? '<service.name>',
    repositoryId: '<service.repository_id>',
    branchName: '<service.branch_name>',
    repositoryConnectionArn: '<service.repository_connection_arn>',
  };
  const entries: Array<{ name?: unknown; environment?: unknown; spec?: unknown }> = Array.isArray(spec.instances) ? spec.instances : [];
  const instances: InstanceParameters[] = entries.map((entry, i) => {
    if (typeof entry?.name !== 'string' || typeof entry.environment !== 'string') {
      throw new Error(`the spec's instances[${i}] needs a name and an environment`);
    }
    // Outputs the file does not give are placeholders too.
    const environment: EnvironmentParameters = {
      name: entry.environment, accountId: '<service_instance.environment.account_id>', outputs: placeholders('environment.outputs', values.environmentOutputs),
    };
    return { name: entry.name, inputs: (entry.spec ?? {}) as { [name: string]: unknown }, environment };
  });
  const options = { allowUnknownInputs: true };
  if (values.pipeline) {
    // The pipeline reads the instances' outputs: render each instance for them.
    const withOutputs = instances.map(instance => ({
      ...instance,
      outputs: renderBundle(files, schema, { kind: 'SERVICE_INSTANCE', service, instance }, options).outputValues,
    }));
    return renderBundle(files, schema, { kind: 'SERVICE_PIPELINE', service, pipelineInputs: spec.pipeline ?? {}, instances: withOutputs }, options);
  }
  const names = instances.map(i => i.name);
  if (values.instance === undefined && instances.length !== 1) {
    throw new RenderUsageError(`the spec has ${instances.length} instances (${names.join(', ') || 'none'}): choose one with --instance, or --pipeline`);
  }
  const instance = values.instance === undefined ? instances[0] : instances.find(i => i.name === values.instance);
  if (!instance) {
    throw new RenderUsageError(`--instance ${values.instance}: the spec's instances are ${names.join(', ') || 'none'}`);
  }
  return renderBundle(files, schema, { kind: 'SERVICE_INSTANCE', service, instance }, options);
}

function readSpec(file: string): { [key: string]: any } {
  const document = parseYaml(readText(file, '--spec'));
  const kind = document?.proton;
  if (kind !== 'EnvironmentSpec' && kind !== 'ServiceSpec') {
    throw new Error(`${file}: a Proton spec starts with "proton: EnvironmentSpec" or "proton: ServiceSpec", got proton: ${JSON.stringify(kind)}`);
  }
  return document;
}

/** A mapping of output keys to values, or the `outputs` list ListEnvironmentOutputs returns (`{key, valueString}`). */
function readOutputs(file: string): OutputMap {
  const document = parseYaml(readText(file, '--environment-outputs'));
  const list = Array.isArray(document) ? document : Array.isArray(document?.outputs) ? document.outputs : undefined;
  let entries: Array<[unknown, unknown]>;
  if (list) {
    entries = list.map((o: { key?: unknown; valueString?: unknown }) => [o?.key, o?.valueString]);
  } else if (typeof document === 'object' && document !== null) {
    entries = Object.entries(document);
  } else {
    throw new Error(`${file}: --environment-outputs takes a mapping of output keys to values, or ListEnvironmentOutputs' {"outputs": [{"key", "valueString"}]}`);
  }
  return Object.fromEntries(entries.map(([key, value]) => {
    if (typeof key !== 'string' || key === '') {
      throw new Error(`${file}: an output without a key: ${JSON.stringify(value)}`);
    }
    return [key, typeof value === 'string' ? value : JSON.stringify(value)];
  }));
}

function readText(file: string, option: string): string {
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new Error(`${option} ${file}: no such file`);
  }
  return readFileSync(file, 'utf8');
}

/** A bundle folder's files, as TemplateBundle.fromDirectory reads them (names starting with a dot skipped). */
function readBundleDirectory(directory: string): BundleFile[] {
  const root = resolve(directory);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`--bundle ${directory}: not a folder`);
  }
  const files: BundleFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else {
        files.push({ path: relative(root, path).split(sep).join('/'), content: readFileSync(path) });
      }
    }
  };
  walk(root);
  return files.sort(byPath);
}
