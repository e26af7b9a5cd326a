/**
 * Renders a bundle's infrastructure for one environment, service instance or service pipeline, as Proton does before
 * provisioning: the spec's inputs validated against the schema (defaults applied), Proton's parameter namespace built,
 * the manifest's IaC file rendered with Jinja (CloudFormation) and parsed, and the outputs the result declares.
 *
 * The namespace, by IaC file (User Guide: "AWS Proton parameters", "Environment CloudFormation IaC file parameter details
 * and examples" (env-parameters.html), "Service CloudFormation IaC file parameter details and examples" (svc-parameters.html)):
 *  - environment files: `environment.name`, `environment.inputs.X`; other resources' outputs are not available there;
 *  - service instance files: `service.name`, `service_instance.name`, `service_instance.inputs.X`, `environment.name`,
 *    `environment.outputs.X` (also as `service_instance.environment.outputs.X`), `service_instance.environment.name` and
 *    `.account_id`, `service_instance.components.default.outputs.X` (the attached component's outputs);
 *  - pipeline files: `pipeline.inputs.X`, `service.name`, `service.repository_id`, `service.branch_name`,
 *    `service.repository_connection_arn`, and `service_instances`, each with `name`, `inputs`, `outputs` (AWS's
 *    apigw-lambda-svc sample reads `service_instances[0].outputs.LambdaRuntime`) and `environment` (`name`,
 *    `account_id`, `outputs`), iterated with `{% for service_instance in service_instances %}`.
 *
 * CDK-free: proton-local, its CLI and the constructs share it.
 */
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CloudFormationTemplate, declaredOutputs, outputValues, parseCloudFormation, RenderError } from './cloudformation';
import { JinjaContext, renderJinja } from './jinja';
import { terraformOutputs, terraformOutputValue } from './terraform';
import type { BundleFile } from '../private/bundle';
import { TemplateSchema, validateInputs } from '../private/schema';

export { RenderError } from './cloudformation';

export type Inputs = { [name: string]: unknown };
export type OutputMap = { [key: string]: string };

/** An environment as service instance and pipeline files see it. */
export interface EnvironmentParameters {
  readonly name: string;
  /** The account the environment is provisioned in; omitted from the namespace when unknown. */
  readonly accountId?: string;
  /** The environment's outputs; undefined renders a placeholder `<environment.outputs.KEY>` for each one referenced. */
  readonly outputs?: OutputMap;
}

export interface ServiceParameters {
  readonly name: string;
  /** The service's source repository, when it has a pipeline. */
  readonly repositoryId?: string;
  readonly branchName?: string;
  readonly repositoryConnectionArn?: string;
}

export interface InstanceParameters {
  readonly name: string;
  /** The instance's spec inputs (schema defaults are applied by the renderer). */
  readonly inputs: Inputs;
  readonly environment: EnvironmentParameters;
  /** The outputs of the component attached to the instance; undefined when none is attached. */
  readonly componentOutputs?: OutputMap;
  /**
   * The instance's own outputs, which pipeline files read (`service_instances[0].outputs.X` in AWS's samples);
   * undefined renders placeholders `<service_instance.outputs.KEY>`.
   */
  readonly outputs?: OutputMap;
}

export type RenderRequest =
  | { readonly kind: 'ENVIRONMENT'; readonly environment: { readonly name: string; readonly inputs: Inputs } }
  | { readonly kind: 'SERVICE_INSTANCE'; readonly service: ServiceParameters; readonly instance: InstanceParameters }
  | { readonly kind: 'SERVICE_PIPELINE'; readonly service: ServiceParameters; readonly pipelineInputs: Inputs; readonly instances: InstanceParameters[] };

export interface RenderOptions {
  /** Accept inputs the schema does not declare (proton-local does, as Proton evidently does). @default false */
  readonly allowUnknownInputs?: boolean;
  /** Used for output values only: pseudo parameters and fake ARNs. @default '123456789012' */
  readonly account?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
}

export type IacLanguage = 'cloudformation' | 'terraform' | 'codebuild';

export interface Rendering {
  /** The rendered file's bundle path (CloudFormation), or the infrastructure folder (Terraform, CodeBuild). */
  readonly file: string;
  readonly language: IacLanguage;
  /** The rendered CloudFormation template; for Terraform, the parameter values file Proton generates (JSON). */
  readonly body: string;
  /** The parsed CloudFormation template; undefined for Terraform and CodeBuild. */
  readonly template?: CloudFormationTemplate;
  /** The output keys the IaC declares, in file order. */
  readonly outputs: string[];
  /** Each output's value as far as it is known without AWS (see cloudformation.ts outputValues). */
  readonly outputValues: OutputMap;
}

const INFRASTRUCTURE_DIR = { ENVIRONMENT: 'infrastructure', SERVICE_INSTANCE: 'instance_infrastructure', SERVICE_PIPELINE: 'pipeline_infrastructure' };
const DEFAULT_ACCOUNT = '123456789012';
const DEFAULT_REGION = 'us-east-1';

/**
 * Renders the bundle's IaC for one deployment target.
 *
 * @throws RenderError naming the file and the problem: a missing manifest or file, inputs the schema refuses, a Jinja
 * error, or a rendered template that is not valid YAML
 */
export function renderBundle(files: BundleFile[], schema: TemplateSchema, request: RenderRequest, options: RenderOptions = {}): Rendering {
  const dir = INFRASTRUCTURE_DIR[request.kind];
  const byPath = new Map(files.map(f => [f.path, f]));
  const manifestPath = `${dir}/manifest.yaml`;
  const manifest = byPath.get(manifestPath);
  if (!manifest) {
    throw new RenderError(`${manifestPath}: missing: the bundle has no ${describeKind(request.kind)} infrastructure to render`);
  }
  const template = firstTemplate(manifest);
  const context = namespaceFor(schema, request, options.allowUnknownInputs ?? false);
  const account = options.account ?? DEFAULT_ACCOUNT;
  const region = options.region ?? DEFAULT_REGION;

  switch (template.rendering_engine) {
    case 'jinja': {
      const path = posix.join(dir, String(template.file));
      const file = byPath.get(path);
      if (!file) {
        throw new RenderError(`${manifestPath}: file "${template.file}" is not in the bundle (expected ${path})`);
      }
      const body = renderJinja(file.content.toString('utf8'), path, context);
      const parsed = parseCloudFormation(body, path);
      return {
        file: path,
        language: 'cloudformation',
        body,
        template: parsed,
        outputs: declaredOutputs(parsed),
        outputValues: outputValues(parsed, { stackName: stackNameOf(request), account, region }),
      };
    }
    case 'hcl': {
      const tfFiles = files.filter(f => posix.dirname(f.path) === dir && f.path.endsWith('.tf'));
      const declared = tfFiles.flatMap(f => terraformOutputs(f.content.toString('utf8')));
      const inputsByNamespace = terraformInputs(context);
      const stack = stackNameOf(request);
      return {
        file: dir,
        language: 'terraform',
        body: JSON.stringify(context, null, 2),
        outputs: declared.map(o => o.name),
        outputValues: Object.fromEntries(declared.map(o =>
          [o.name, terraformOutputValue(o.expression, inputsByNamespace) ?? `${stack}-${o.name}`])),
      };
    }
    default:
      // CodeBuild provisioning runs the manifest's commands; their outputs are whatever the commands report.
      return { file: dir, language: 'codebuild', body: '', outputs: [], outputValues: {} };
  }
}

function firstTemplate(manifest: BundleFile): { [key: string]: unknown } {
  let document: any;
  try {
    document = parseYaml(manifest.content.toString('utf8'), { logLevel: 'error' });
  } catch (e) {
    throw new RenderError(`${manifest.path}: not valid YAML: ${(e as Error).message}`);
  }
  const template = document?.infrastructure?.templates?.[0];
  if (typeof template !== 'object' || template === null) {
    throw new RenderError(`${manifest.path}: infrastructure.templates must list the template to render`);
  }
  return template;
}

function describeKind(kind: RenderRequest['kind']): string {
  return { ENVIRONMENT: 'environment', SERVICE_INSTANCE: 'service instance', SERVICE_PIPELINE: 'service pipeline' }[kind];
}

function stackNameOf(request: RenderRequest): string {
  switch (request.kind) {
    case 'ENVIRONMENT': return `AWSProton-${request.environment.name}`;
    case 'SERVICE_INSTANCE': return `AWSProton-${request.service.name}-${request.instance.name}`;
    case 'SERVICE_PIPELINE': return `AWSProton-${request.service.name}-pipeline`;
  }
}

function checkedInputs(schema: TemplateSchema, typeField: 'environmentInputType' | 'serviceInputType' | 'pipelineInputType',
  inputs: Inputs, where: string, allowUnknownInputs: boolean): Inputs {
  const typeName = schema[typeField];
  if (typeName === undefined) {
    const key = typeField.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);
    throw new RenderError(`schema/schema.yaml: declares no ${key}, so the bundle cannot render ${where}`);
  }
  const result = validateInputs(schema, typeName, inputs, { allowUnknownInputs });
  if (result.errors.length > 0) {
    throw new RenderError(`the inputs of ${where} do not match the schema's ${typeName}: ${result.errors.map(e => e.message).join('; ')}`);
  }
  return result.inputs;
}

function compact(values: { [key: string]: unknown }): { [key: string]: unknown } {
  // A parameter Proton does not know (an account id, a repository) is absent, so referencing it fails like a typo.
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

function environmentNamespace(environment: EnvironmentParameters): { [key: string]: unknown } {
  return compact({
    name: environment.name,
    account_id: environment.accountId,
    outputs: environment.outputs ?? placeholders('environment.outputs'),
  });
}

function serviceNamespace(service: ServiceParameters): { [key: string]: unknown } {
  return compact({
    name: service.name,
    repository_id: service.repositoryId,
    branch_name: service.branchName,
    repository_connection_arn: service.repositoryConnectionArn,
  });
}

function instanceNamespace(instance: InstanceParameters, inputs: Inputs, forPipeline: boolean): { [key: string]: unknown } {
  return {
    name: instance.name,
    inputs,
    environment: environmentNamespace(instance.environment),
    // Proton names the attached component "default" (svc-parameters.html: service_instance.components.default.outputs).
    components: instance.componentOutputs ? { default: { outputs: instance.componentOutputs } } : {},
    // An instance file cannot read its own outputs; the pipeline, deployed after the instances, reads theirs.
    ...(forPipeline ? { outputs: instance.outputs ?? placeholders('service_instance.outputs') } : {}),
  };
}

function namespaceFor(schema: TemplateSchema, request: RenderRequest, allowUnknown: boolean): JinjaContext {
  switch (request.kind) {
    case 'ENVIRONMENT': {
      const { name, inputs } = request.environment;
      return { environment: { name, inputs: checkedInputs(schema, 'environmentInputType', inputs, `environment ${name}`, allowUnknown) } };
    }
    case 'SERVICE_INSTANCE': {
      const { service, instance } = request;
      const inputs = checkedInputs(schema, 'serviceInputType', instance.inputs, `service instance ${instance.name}`, allowUnknown);
      return {
        environment: environmentNamespace(instance.environment),
        service: serviceNamespace(service),
        service_instance: instanceNamespace(instance, inputs, false),
      };
    }
    case 'SERVICE_PIPELINE': {
      const { service, pipelineInputs, instances } = request;
      const inputs = checkedInputs(schema, 'pipelineInputType', pipelineInputs, `the pipeline of service ${service.name}`, allowUnknown);
      return {
        pipeline: { inputs },
        service: serviceNamespace(service),
        service_instances: instances.map(instance => instanceNamespace(instance,
          checkedInputs(schema, 'serviceInputType', instance.inputs, `service instance ${instance.name}`, allowUnknown), true)),
      };
    }
  }
}

/**
 * Outputs Proton would know and the caller did not give: `{{ environment.outputs.VPC }}` renders `<environment.outputs.VPC>`
 * unless `known` has VPC.
 */
export function placeholders(namespace: string, known: OutputMap = {}): OutputMap {
  return new Proxy({ ...known }, {
    get: (target, key) => (typeof key === 'string' && !Object.hasOwn(target, key) ? `<${namespace}.${key}>` : Reflect.get(target, key)),
    has: (_target, key) => typeof key === 'string',
  });
}

/** Terraform reads the inputs as `var.<namespace>.inputs.<name>`. */
function terraformInputs(context: JinjaContext): { [namespace: string]: Inputs } {
  const result: { [namespace: string]: Inputs } = {};
  for (const [namespace, value] of Object.entries(context)) {
    const inputs = (value as { inputs?: Inputs } | undefined)?.inputs;
    if (inputs) result[namespace] = inputs;
  }
  return result;
}

/**
 * The output keys the bundle's IaC for one kind of target declares, without a spec: the file is rendered with the
 * schema's defaults (and a stand-in of the declared type for each required input without one), placeholder names,
 * environment outputs and repository; a file that still does not render is read for its `Outputs:` section directly.
 *
 * @returns undefined when the bundle has no such infrastructure or only its provisioning knows the outputs (CodeBuild)
 */
export function declaredOutputsOf(files: BundleFile[], schema: TemplateSchema, kind: RenderRequest['kind']): string[] | undefined {
  const dir = INFRASTRUCTURE_DIR[kind];
  const manifest = files.find(f => f.path === `${dir}/manifest.yaml`);
  if (!manifest) return undefined;
  const placeholderService: ServiceParameters = {
    name: '<service>', repositoryId: '<owner/repository>', branchName: '<branch>', repositoryConnectionArn: '<connection>',
  };
  const instance = (name: string): InstanceParameters => ({
    name, inputs: standInInputs(schema, 'serviceInputType'), environment: { name: '<environment>', accountId: '111111111111' },
  });
  const request: RenderRequest = kind === 'ENVIRONMENT'
    ? { kind, environment: { name: '<environment>', inputs: standInInputs(schema, 'environmentInputType') } }
    : kind === 'SERVICE_INSTANCE'
      ? { kind, service: placeholderService, instance: instance('<instance>') }
      : { kind, service: placeholderService, pipelineInputs: standInInputs(schema, 'pipelineInputType'), instances: [instance('<instance>')] };
  try {
    const rendering = renderBundle(files, schema, request, { allowUnknownInputs: true });
    return rendering.language === 'codebuild' ? undefined : rendering.outputs;
  } catch (e) {
    if (!(e instanceof RenderError)) throw e;
    const template = firstTemplate(manifest);
    const file = files.find(f => f.path === posix.join(dir, String(template.file)));
    return file ? outputsSectionKeys(file.content.toString('utf8')) : [];
  }
}

/** Inputs that satisfy the schema's type: its defaults, and for a required input without one a value of its type. */
function standInInputs(schema: TemplateSchema, typeField: 'environmentInputType' | 'serviceInputType' | 'pipelineInputType'): Inputs {
  const typeName = schema[typeField];
  const model = typeName === undefined ? undefined : schema.types[typeName];
  const properties: { [name: string]: any } = model?.properties ?? {};
  const required: string[] = Array.isArray(model?.required) ? model.required : [];
  const inputs: Inputs = {};
  for (const name of required) {
    const property = properties[name] ?? {};
    if (property.default !== undefined) continue;
    if (Array.isArray(property.enum) && property.enum.length > 0) {
      inputs[name] = property.enum[0];
      continue;
    }
    const byType: { [type: string]: unknown } = {
      number: property.minimum ?? 0, integer: property.minimum ?? 0, boolean: false, array: [], object: {},
    };
    inputs[name] = byType[property.type] ?? `<${name}>`;
  }
  return inputs;
}

/** The keys of a template's top-level `Outputs:` mapping, read line by line (for a file whose Jinja could not render). */
function outputsSectionKeys(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex(line => /^Outputs:\s*(#.*)?$/.test(line));
  if (start < 0) return [];
  const keys: string[] = [];
  let indent: number | undefined;
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line) && !/^\{[%#]/.test(line)) break; // the next top-level section
    const match = /^(\s+)([A-Za-z0-9{}._ -]+?):\s*(#.*)?$/.exec(line) ?? /^(\s+)([A-Za-z0-9{}._ -]+?):\s/.exec(line);
    if (!match) continue;
    indent ??= match[1].length;
    if (match[1].length === indent) keys.push(match[2].trim());
  }
  return keys;
}
