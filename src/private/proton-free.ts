/**
 * Proton-free deployment (`cdk-proton:mode` = `cloudformation`): each environment, service instance and pipeline is an
 * ordinary CloudFormation stack holding the template Proton would have rendered (CfnInclude of the rendered file, logical
 * ids preserved), wired as Proton wired it:
 *  - `environment.outputs.X` read by an instance or a pipeline becomes `Fn::ImportValue` of the environment stack's
 *    output X, exported as `<environment stack name>:X`; `service_instances[].outputs.X` likewise from instance stacks;
 *  - `environment.account_id` is the environment stack's account (`AWS::AccountId` when the stack is env-agnostic);
 *  - a string holding such values becomes `Fn::Sub`, with a variable for each (named `CdkProtonRef<n>X`).
 * Values are rendered at synth: a spec input that is a token can't be, and is an error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Aspects, CfnOutput, CfnResource, IAspect, Stack, Stage, TagManager, Token } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { Construct, IConstruct } from 'constructs';
import { ProtonMode } from '../proton-mode';
import { ProtonRenderer, RenderedTemplate, RenderEnvironmentReference, RenderPipelineInstance, RenderRepositoryParameters } from '../renderer';
import { TemplateBundle } from '../template-bundle';

/** A generated stack and the outputs its rendered template declares. */
export class ProtonFreeStack {
  constructor(
    public readonly stack: Stack,
    public readonly include: CfnInclude,
    public readonly rendered: RenderedTemplate,
    private readonly owner: string,
  ) {}

  /** The export an importing stack reads output `key` through; exported on first use. */
  public exportOf(key: string, reader: Construct, what: string): string {
    const output = this.output(key, reader, what);
    const exportName = `${this.stack.stackName}:${key}`;
    output.exportName = exportName;
    return exportName;
  }

  /** The included output `key`; an error naming the reader when the template does not declare it. */
  public output(key: string, reader: Construct, what: string): CfnOutput {
    if (!this.rendered.outputs.includes(key)) {
      throw new Error(`${reader.node.path}: ${what} reads output ${key}, which ${this.owner}'s template does not declare `
        + `(outputs: ${this.rendered.outputs.join(', ') || 'none'})`);
    }
    return this.include.getOutput(key);
  }
}

/** The generated stacks of the app's environments, by construct. */
const ENVIRONMENT_STACKS = new WeakMap<IConstruct, ProtonFreeStack>();

export interface EnvironmentStackOptions {
  readonly bundle?: TemplateBundle;
  readonly environmentName: string;
  readonly inputs: { [key: string]: unknown };
  readonly stackName?: string;
  /** Whether Proton provisions the environment in another account, through an environment account connection. */
  readonly connected: boolean;
  /** The environment's tags, which Proton propagated to its stack. */
  readonly tags: TagManager;
}

/** The stack of one environment; its outputs are read by the instances and pipelines of the app's services. */
export function addEnvironmentStack(environment: Construct, options: EnvironmentStackOptions): ProtonFreeStack {
  const name = literalName(environment, 'environmentName', options.environmentName);
  const bundle = requireBundle(environment, options.bundle);
  if (options.connected) {
    throw new Error(`${environment.node.path}: Proton-free mode deploys the environment's stack in this stack's account, but Proton provisions `
      + 'it in the account of its environment account connection; define the environment in a stack of that account, without the connection');
  }
  checkNoTokens(environment, 'spec', options.inputs);
  // The construct validated the inputs against the schema, as in Proton mode: the renderer doesn't judge them again.
  const rendered = renderOrExplain(environment, () => ProtonRenderer.renderEnvironment({
    bundle, environmentName: name, inputs: options.inputs, allowUnknownInputs: true,
  }));
  const stackName = stackNameFor(environment, `environment:${name}`, options.stackName);
  const generated = includeRendered(environment, `Environment-${name}`, stackName, rendered, new References(), `environment ${name}`);
  copyTagsAtSynth(options.tags, generated.stack);
  ENVIRONMENT_STACKS.set(environment, generated);
  return generated;
}

export interface InstanceStackOptions {
  readonly bundle?: TemplateBundle;
  readonly serviceName: string;
  readonly instanceName: string;
  readonly environment: IConstruct & { readonly environmentName: string };
  readonly inputs: { [key: string]: unknown };
  readonly repository?: RenderRepositoryParameters;
  readonly stackName?: string;
  /** The service's tags, which Proton propagated to its instances' and pipeline's stacks. */
  readonly tags: TagManager;
}

/** The stack of one service instance. */
export function addInstanceStack(service: Construct, where: string, options: InstanceStackOptions): ProtonFreeStack {
  const serviceName = literalName(service, 'serviceName', options.serviceName);
  const bundle = requireBundle(service, options.bundle);
  checkNoTokens(service, `${where}.spec`, options.inputs);
  checkNoTokens(service, 'repository', options.repository);
  const references = new References();
  const environment = environmentReference(service, where, options.environment, references);
  const rendered = renderOrExplain(service, () => ProtonRenderer.renderServiceInstance({
    bundle,
    serviceName,
    instanceName: options.instanceName,
    environment,
    inputs: options.inputs,
    repository: options.repository,
    allowUnknownInputs: true,
  }));
  const stackName = stackNameFor(service, `instance:${serviceName}/${options.instanceName}`, options.stackName);
  // Proton provisions an instance where its environment is.
  const placement = ENVIRONMENT_STACKS.get(options.environment)?.stack;
  const generated = includeRendered(service, `ServiceInstance-${serviceName}-${options.instanceName}`, stackName, rendered, references,
    `instance ${options.instanceName} of service ${serviceName}`, placement);
  copyTagsAtSynth(options.tags, generated.stack);
  return generated;
}

export interface PipelineStackOptions {
  readonly bundle?: TemplateBundle;
  readonly serviceName: string;
  readonly inputs: { [key: string]: unknown };
  readonly repository?: RenderRepositoryParameters;
  readonly instances: Array<{
    name: string; environment: IConstruct & { readonly environmentName: string }; inputs: { [key: string]: unknown }; stack: ProtonFreeStack;
  }>;
  readonly stackName?: string;
  readonly tags: TagManager;
}

/** The stack of a service's pipeline, replacing the one built before (instances may be added until synth). */
export function addPipelineStack(service: Construct, options: PipelineStackOptions): ProtonFreeStack {
  const serviceName = literalName(service, 'serviceName', options.serviceName);
  const bundle = requireBundle(service, options.bundle);
  checkNoTokens(service, 'pipelineSpec', options.inputs);
  checkNoTokens(service, 'repository', options.repository);
  const references = new References();
  const instances: RenderPipelineInstance[] = options.instances.map((instance, i) => ({
    name: instance.name,
    inputs: instance.inputs,
    environment: environmentReference(service, `instances[${i}]`, instance.environment, references),
    outputs: references.outputs(key => ({ 'Fn::ImportValue': instance.stack.exportOf(key, service, 'the pipeline'), 'dependency': instance.stack.stack })),
  }));
  const rendered = renderOrExplain(service, () => ProtonRenderer.renderPipeline({
    bundle, serviceName, inputs: options.inputs, instances, repository: options.repository, allowUnknownInputs: true,
  }));
  const id = `ServicePipeline-${serviceName}`;
  stageOf(service).node.tryRemoveChild(id);
  const generated = includeRendered(service, id, stackNameFor(service, `pipeline:${serviceName}`, options.stackName), rendered, references,
    `the pipeline of service ${serviceName}`);
  copyTagsAtSynth(options.tags, generated.stack);
  return generated;
}

/** The context key mapping resources (`environment:<name>`, `instance:<service>/<instance>`, `pipeline:<service>`) to stack names. */
export const STACK_NAMES_CONTEXT = 'cdk-proton:stack-names';

/**
 * The stack name given to the construct, else the one the context `cdk-proton:stack-names` maps the resource to: a
 * mapping, or the path of a JSON file holding one (`proton-local export`'s manifest.json, whose `stackNames` it reads).
 */
function stackNameFor(scope: Construct, resource: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  let names: unknown = scope.node.tryGetContext(STACK_NAMES_CONTEXT);
  if (names === undefined) return undefined;
  if (typeof names === 'string') {
    let document: { stackNames?: unknown };
    try {
      document = JSON.parse(fs.readFileSync(names, 'utf8'));
    } catch (e) {
      throw new Error(`${scope.node.path}: context ${STACK_NAMES_CONTEXT} "${names}" is not a readable JSON file: ${(e as Error).message}`);
    }
    names = document.stackNames ?? document;
  }
  if (!names || typeof names !== 'object' || Array.isArray(names)) {
    throw new Error(`${scope.node.path}: context ${STACK_NAMES_CONTEXT} must map resources to stack names `
      + '({"environment:<name>": "<stack>", "instance:<service>/<instance>": ..., "pipeline:<service>": ...}) or name a JSON file of them');
  }
  const name = (names as { [resource: string]: unknown })[resource];
  if (name !== undefined && typeof name !== 'string') {
    throw new Error(`${scope.node.path}: context ${STACK_NAMES_CONTEXT}: "${resource}" maps to ${JSON.stringify(name)}, not a stack name`);
  }
  return name;
}

/** In Proton-free mode, removes the Proton custom resources (templates, versions, account settings) and their provider. */
export function removeProtonResourcesAtSynth(stack: Stack): void {
  if (!ProtonMode.isProtonFree(stack)) return;
  Aspects.of(stack).add(new RemoveProtonResources(stack));
}

class RemoveProtonResources implements IAspect {
  private done = false;
  constructor(private readonly stack: Stack) {}
  public visit(node: IConstruct): void {
    if (node !== this.stack || this.done) return;
    this.done = true;
    const removed = this.stack.node.findAll().filter(c =>
      (c instanceof CfnResource && c.cfnResourceType.startsWith('Custom::Proton')) || (c.node.id === PROVIDER_ID && c.node.scope === this.stack));
    for (const construct of removed) {
      // A custom resource's CfnResource is its default child: remove the CustomResource.
      const target = construct instanceof CfnResource && construct.node.id === 'Default' ? construct.node.scope! : construct;
      target.node.scope?.node.tryRemoveChild(target.node.id);
    }
  }
}

/**
 * Gives `stack` the tags of an environment or service, as Proton tagged the stacks it provisioned. The construct's tags
 * are set by Tags aspects, which have visited it (its stack comes first in the app) when the generated stack is visited.
 */
function copyTagsAtSynth(tags: TagManager, stack: Stack): void {
  Aspects.of(stack).add({
    visit: (node: IConstruct) => {
      if (node !== stack) return;
      for (const [key, value] of Object.entries(tags.tagValues())) stack.tags.setTag(key, value);
    },
  });
}

/** ProtonProvider's id in its stack (src/private/provider.ts). */
const PROVIDER_ID = 'CdkProtonProvider';

/** A marker, whole. */
const MARKER = /^CdkProtonRef\d+X$/;
const markerIndex = (marker: string) => Number(marker.slice('CdkProtonRef'.length, -1));

/** What stands in a rendering for a value only the deployment knows; replaced in the parsed template. */
interface Reference {
  readonly 'Fn::ImportValue'?: string;
  readonly 'Ref'?: string;
  readonly 'dependency'?: Stack;
}

/** Markers rendered in place of deploy-time values (alphanumeric, so that they survive YAML and Jinja filters). */
class References {
  private readonly resolvers: Array<() => Reference> = [];
  private readonly resolved = new Map<number, Reference>();

  public marker(resolve: () => Reference): string {
    this.resolvers.push(resolve);
    return `CdkProtonRef${this.resolvers.length - 1}X`;
  }

  /** An output map whose every key renders a marker. */
  public outputs(resolve: (key: string) => Reference): { [key: string]: string } {
    const markers = new Map<string, string>();
    return new Proxy({}, {
      get: (_target, key) => {
        if (typeof key !== 'string') return undefined;
        if (!markers.has(key)) markers.set(key, this.marker(() => resolve(key)));
        return markers.get(key);
      },
      has: (_target, key) => typeof key === 'string',
    });
  }

  /** The template with every marker replaced by its CloudFormation reference; returns the stacks it depends on. */
  public substitute(template: unknown, where: Construct): { template: unknown; dependencies: Stack[] } {
    const dependencies = new Set<Stack>();
    const reference = (index: number): unknown => {
      if (!this.resolved.has(index)) this.resolved.set(index, this.resolvers[index]());
      const { dependency, ...value } = this.resolved.get(index)!;
      if (dependency) dependencies.add(dependency);
      return value;
    };
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string') {
        if (/cdkprotonref\d+x/i.test(value.replace(/CdkProtonRef\d+X/g, ''))) {
          // `{{ environment.outputs.X | upper }}` and the like: Jinja changed a value only the deployment knows.
          throw new Error(`${where.node.path}: the rendered template transforms a deploy-time value (an output or account id) with a Jinja `
            + `filter or operation, in "${value}"; Proton-free mode can reference such values only as they are`);
        }
        if (!/CdkProtonRef\d+X/.test(value)) return value;
        const parts = value.split(/(CdkProtonRef\d+X)/).filter(part => part !== '');
        if (parts.length === 1) return reference(markerIndex(parts[0]));
        // A string holding deploy-time values: Fn::Sub, whose variables are named after the markers.
        const variables: { [name: string]: unknown } = {};
        const text = parts.map(part => {
          if (!MARKER.test(part)) return part.replace(/\$\{/g, '${!');
          variables[part] = reference(markerIndex(part));
          return `\${${part}}`;
        }).join('');
        return { 'Fn::Sub': [text, variables] };
      }
      if (Array.isArray(value)) return value.map(walk);
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([key, v]) => {
          if (/CdkProtonRef\d+X/.test(key)) {
            throw new Error(`${where.node.path}: the rendered template uses a deploy-time value (an output or account id) in the key "${key}"; `
              + 'Proton-free mode can reference such values only in property values');
          }
          return [key, walk(v)];
        }));
      }
      return value;
    };
    return { template: walk(template), dependencies: [...dependencies] };
  }
}

function environmentReference(reader: Construct, where: string, environment: IConstruct & { readonly environmentName: string },
  references: References): RenderEnvironmentReference {
  const generated = ENVIRONMENT_STACKS.get(environment);
  const name = environment.environmentName;
  const missing = (what: string) => (): Reference => {
    throw new Error(`${reader.node.path}: ${where} is in environment ${Token.isUnresolved(name) ? environment.node.path : name}, which this app `
      + `does not deploy in Proton-free mode (an imported environment), and its template reads ${what}: define the environment with the `
      + 'Environment construct in this app');
  };
  const account = generated?.stack.account;
  return {
    name: Token.isUnresolved(name) ? literalName(reader, `${where}.environment.environmentName`, name) : name,
    accountId: account !== undefined && !Token.isUnresolved(account) ? account
      : references.marker(generated ? () => ({ Ref: 'AWS::AccountId' }) : missing('environment.account_id')),
    outputs: references.outputs(key => generated
      ? { 'Fn::ImportValue': generated.exportOf(key, reader, where), 'dependency': generated.stack }
      : missing(`environment.outputs.${key}`)()),
  };
}

/**
 * A stack holding the rendered template, in the account and region of `placement` (where Proton provisioned it: an
 * environment where it is defined, an instance in its environment's, a pipeline where its service is).
 */
function includeRendered(owner: Construct, id: string, stackName: string | undefined, rendered: RenderedTemplate, references: References,
  what: string, placement: Stack = Stack.of(owner)): ProtonFreeStack {
  if (!rendered.template) {
    throw new Error(`${owner.node.path}: ${what} is provisioned with ${rendered.language} (${rendered.file}); Proton-free mode deploys `
      + 'CloudFormation templates only');
  }
  const stage = stageOf(owner);
  const { template, dependencies } = references.substitute(rendered.template, owner);
  const literal = (value: string) => Token.isUnresolved(value) ? undefined : value;
  const env = { account: literal(placement.account), region: literal(placement.region) };
  // The template's Description comes with CfnInclude.
  const stack = new Stack(stage, id, { stackName, env });
  for (const dependency of dependencies) {
    // Fn::ImportValue reads exports of its own account and region only.
    const differ = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a !== b;
    if (differ(env.account, literal(dependency.account)) || differ(env.region, literal(dependency.region))) {
      throw new Error(`${owner.node.path}: ${what} (account ${env.account}, region ${env.region}) reads outputs of stack ${dependency.stackName} `
        + `(account ${dependency.account}, region ${dependency.region}); Proton-free mode imports outputs within one account and region only`);
    }
    stack.addDependency(dependency, `${what} reads its outputs`);
  }
  // CfnInclude reads a file: the rendered template is written next to the assembly.
  const directory = path.join(stage.outdir, 'proton-free');
  fs.mkdirSync(directory, { recursive: true });
  const templateFile = path.join(directory, `${id}.template.json`);
  fs.writeFileSync(templateFile, JSON.stringify(template, undefined, 1));
  // Dehydrated: each resource is included as written, not converted to CDK's L1 types (which would turn "80" into 80,
  // or add the app's tags to the resource's properties); stack tags reach the resources as they did with Proton.
  const resourceIds = Object.keys((template as { Resources?: object }).Resources ?? {});
  const include = new CfnInclude(stack, 'Template', { templateFile, dehydratedResources: resourceIds });
  // Dehydrated resources don't keep their logical ids by themselves; the rendered template's ids are the stack's.
  const resources = (template as { Resources: { [id: string]: { DependsOn?: unknown; Condition?: unknown } } }).Resources ?? {};
  for (const logicalId of resourceIds) {
    const resource = include.getResource(logicalId);
    resource.overrideLogicalId(logicalId);
    // Nor their DependsOn and Condition: written back as rendered.
    const { DependsOn: dependsOn, Condition: condition } = resources[logicalId];
    if (dependsOn !== undefined) resource.addOverride('DependsOn', dependsOn);
    if (condition !== undefined) resource.addOverride('Condition', condition);
  }
  return new ProtonFreeStack(stack, include, rendered, what);
}

function stageOf(scope: Construct): Stage {
  const stage = Stage.of(scope);
  if (!stage) throw new Error(`${scope.node.path}: Proton-free mode adds stacks to the app: the construct must be in an App or a Stage`);
  return stage;
}

function requireBundle(scope: Construct, bundle: TemplateBundle | undefined): TemplateBundle {
  if (!bundle) {
    throw new Error(`${scope.node.path}: Proton-free mode renders the template version's bundle, and templateVersion has none: define the `
      + 'version with `bundle`, or import it with fromEnvironmentTemplateVersionAttributes/fromServiceTemplateVersionAttributes and its `bundle`');
  }
  return bundle;
}

function literalName(scope: Construct, property: string, name: string): string {
  if (Token.isUnresolved(name)) {
    throw new Error(`${scope.node.path}: ${property} is a token; Proton-free mode renders the template at synth and needs a literal name`);
  }
  return name;
}

/** Proton renders a spec at deploy time; here it is rendered at synth, where a token has no value yet. */
function checkNoTokens(scope: Construct, property: string, value: unknown, at = property): void {
  if (typeof value === 'string' || typeof value === 'number') {
    if (Token.isUnresolved(value)) {
      throw new Error(`${scope.node.path}: ${at} is a token (${String(value)}); Proton-free mode renders the template at synth, where a token `
        + 'has no value: give a literal value');
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkNoTokens(scope, property, item, `${at}[${i}]`));
  } else if (value && typeof value === 'object') {
    if (Token.isUnresolved(value)) {
      throw new Error(`${scope.node.path}: ${at} is a token; Proton-free mode renders the template at synth: give a literal value`);
    }
    Object.entries(value).forEach(([key, item]) => checkNoTokens(scope, property, item, `${at}.${key}`));
  }
}

function renderOrExplain(scope: Construct, render: () => RenderedTemplate): RenderedTemplate {
  try {
    return render();
  } catch (e) {
    throw new Error(`${scope.node.path}: Proton-free mode: ${(e as Error).message}`);
  }
}
