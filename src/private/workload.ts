/**
 * Synth-time helpers shared by the Environment and Service constructs: names, spec validation, output attributes, tags.
 * Kept apart from spec.ts, which the handler bundles and which therefore must not import aws-cdk-lib.
 */
import { Names, Stack, Stage, TagManager, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { SYSTEM_TAG_COUNT, SystemTags } from './properties';
import { TemplateSchema, validateInputs } from './schema';
import { resourceNameProblem, SpecInputs } from './spec';

/**
 * Renders a spec at synth, as the handler will, so that Proton's SpecContents limit (51,200 characters) fails here,
 * naming the construct. A spec with tokens in it is rendered by the handler at deploy time instead.
 */
export function checkSpecSize(scope: IConstruct, property: string, render: () => string): void {
  try {
    render();
  } catch (error) {
    throw new Error(`${scope.node.path}: ${property}: ${(error as Error).message}`);
  }
}

const DESCRIPTION_MAX_LENGTH = 500;

// Marks on constructs (symbols: invisible to jsii and to users) that let the two sides of an ordering find each other.
const ACCOUNT_SETTINGS = Symbol.for('cdk-proton.AccountSettings');
const PIPELINE_SERVICE = Symbol.for('cdk-proton.PipelineService');

/**
 * Proton refuses to create a service pipeline until the account's pipeline settings exist, so every service with a
 * pipeline deploys after the AccountSettings of its account and region, whichever of the two the app declares first.
 * Only within one Stage: CDK forbids dependencies across stages, whose order their pipeline decides.
 */
export function orderPipelinesAfterAccountSettings(construct: IConstruct, side: 'accountSettings' | 'pipelineService'): void {
  const [mine, theirs] = side === 'accountSettings' ? [ACCOUNT_SETTINGS, PIPELINE_SERVICE] : [PIPELINE_SERVICE, ACCOUNT_SETTINGS];
  (construct as any)[mine] = true;
  const here = Stack.of(construct);
  for (const other of construct.node.root.node.findAll()) {
    const there = (other as any)[theirs] ? Stack.of(other) : undefined;
    if (there && there.account === here.account && there.region === here.region && Stage.of(there) === Stage.of(here)) {
      const [service, settings] = side === 'accountSettings' ? [other, construct] : [construct, other];
      service.node.addDependency(settings);
    }
  }
}

/** A valid, unique Proton resource name derived from the construct path. */
export function generateResourceName(scope: IConstruct): string {
  return Names.uniqueResourceName(scope, { maxLength: 100, separator: '-', allowedSpecialCharacters: '-_' });
}

/** Throws when a literal name breaks Proton's `ResourceName` rule. */
export function checkResourceName(scope: IConstruct, property: string, name: string): void {
  if (Token.isUnresolved(name)) return;
  const problem = resourceNameProblem(name);
  if (problem) {
    throw new Error(`${scope.node.path}: ${property} "${name}" ${problem}`);
  }
}

export function checkDescription(scope: IConstruct, description: string | undefined): void {
  if (description !== undefined && !Token.isUnresolved(description) && description.length > DESCRIPTION_MAX_LENGTH) {
    throw new Error(`${scope.node.path}: description is ${description.length} characters long; Proton accepts at most ${DESCRIPTION_MAX_LENGTH}`);
  }
}

/**
 * Validates a spec section's inputs against the schema's input type and returns them with the schema's defaults applied.
 * Values that are tokens are left to Proton: their value is known only at deploy time.
 *
 * @param property the construct property holding the inputs, for the message (`spec`, `instances[0].spec`...)
 */
export function validateSpecInputs(
  scope: IConstruct, property: string, schema: TemplateSchema, typeName: string, inputs: SpecInputs | undefined,
): SpecInputs {
  const result = validateInputs(schema, typeName, inputs ?? {});
  const errors = result.errors.filter(e => !Token.isUnresolved(e.value));
  if (errors.length > 0) {
    const lines = errors.map(e => `  - ${e.message}`).join('\n');
    throw new Error(`${scope.node.path}: ${property} does not match the template's input type ${typeName}:\n${lines}`);
  }
  return result.inputs;
}

const OUTPUT_KEY_MAX_LENGTH = 1024;

/**
 * The output attributes a construct's readers asked for. The handler returns only these in the custom resource's
 * Data, which keeps the response within CloudFormation's 4 KB.
 */
export class OutputKeys {
  private readonly attributes = new Set<string>();

  /**
   * Records an output and returns its attribute name: the prefix, then the output key.
   *
   * @param prefix `Outputs.`, `Instances.<name>.Outputs.` or `Pipeline.Outputs.`
   */
  public add(scope: IConstruct, key: string, prefix: string): string {
    if (Token.isUnresolved(key) || key.length < 1 || key.length > OUTPUT_KEY_MAX_LENGTH) {
      throw new Error(`${scope.node.path}: output key "${key}" must be a literal string of 1 to ${OUTPUT_KEY_MAX_LENGTH} characters`);
    }
    const attribute = `${prefix}${key}`;
    this.attributes.add(attribute);
    return attribute;
  }

  /** The JSON list of attribute names, sorted so the property is stable; undefined when none was asked for. */
  public render(): string | undefined {
    return this.attributes.size > 0 ? JSON.stringify([...this.attributes].sort()) : undefined;
  }
}

const MAX_TAGS = 50;
const TAG_KEY_MAX_LENGTH = 128;
const TAG_VALUE_MAX_LENGTH = 256;

/**
 * Proton's tag rules (API reference, Tag; user guide, "AWS Proton resources and tagging"): at most 50 tags, of which
 * the library uses up to SYSTEM_TAG_COUNT; keys 1 to 128 characters, values 0 to 256; the `aws:` prefix (in any case)
 * is reserved. Tokens are left to Proton.
 */
export function checkTags(scope: IConstruct, tags: Array<{ Key: string; Value: string }>): void {
  const allowed = MAX_TAGS - SYSTEM_TAG_COUNT;
  if (tags.length > allowed) {
    throw new Error(`${scope.node.path}: tags: ${tags.length} tags; Proton allows ${MAX_TAGS} per resource, of which cdk-proton uses `
      + `${SYSTEM_TAG_COUNT} (${Object.values(SystemTags).join(', ')}): give at most ${allowed}`);
  }
  for (const { Key: key, Value: value } of tags) {
    if (Token.isUnresolved(key)) continue;
    if (key.length < 1 || key.length > TAG_KEY_MAX_LENGTH) {
      throw new Error(`${scope.node.path}: tags: key "${key}" is ${key.length} characters long; Proton accepts 1 to ${TAG_KEY_MAX_LENGTH}`);
    }
    if (/^aws:/i.test(key)) {
      throw new Error(`${scope.node.path}: tags: key "${key}" uses the prefix aws:, which AWS reserves (in any case)`);
    }
    if (key.startsWith('cdk-proton:')) {
      throw new Error(`${scope.node.path}: tags: key "${key}" uses the prefix cdk-proton:, which this library reserves for its own tags`);
    }
    if (!Token.isUnresolved(value) && value.length > TAG_VALUE_MAX_LENGTH) {
      throw new Error(`${scope.node.path}: tags: the value of "${key}" is ${value.length} characters long; Proton accepts at most ${TAG_VALUE_MAX_LENGTH}`);
    }
  }
}

/** The tags as a JSON list of `{ key, value }` (Proton's field names); undefined when there are none. */
export function renderTags(scope: IConstruct, tags: TagManager): string | undefined {
  const rendered: Array<{ Key: string; Value: string }> | undefined = tags.renderTags();
  if (!rendered || rendered.length === 0) return undefined;
  checkTags(scope, rendered);
  return Stack.of(scope).toJsonString(rendered.map(t => ({ key: t.Key, value: t.Value })));
}

/** The properties that have a value: optional props the user left out are not sent. */
export function definedProperties(properties: { [name: string]: string | undefined }): { [name: string]: string } {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined)) as { [name: string]: string };
}

/** The names claimed in each app: `<account>/<region>/<kind>/<name>` to the path of the construct that claimed it. */
const claimedNames = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Claims a Proton name for a construct; a second construct claiming the same name in the same account and region is
 * a synth error: two constructs would silently own one Proton resource, and removing one would delete it under the
 * other. Names in stacks whose account or region is unknown at synth are scoped to their stage.
 */
export function claimName(scope: IConstruct, kind: string, name: string, property: string, why?: string): void {
  const owner = claim(scope, `${kind}/${name}`);
  if (owner !== undefined) {
    throw new Error(`${scope.node.path}: ${property} ${JSON.stringify(name)} is already used by ${owner} (${kind}s are named per account and `
      + `region): two constructs would own one Proton resource${why ? ` (${why})` : ''}. Give one of them another name`);
  }
}

/**
 * Claims an account-wide singleton (such as the account settings) for `scope`: a second construct of the same kind
 * for the same account and region in the app is a synth error naming the first.
 */
export function claimSingleton(scope: IConstruct, kind: string): void {
  const owner = claim(scope, kind);
  if (owner !== undefined) {
    throw new Error(`${scope.node.path}: ${kind} are already defined by ${owner}, for the same account and region: they are one per `
      + 'account and region, and two constructs would restore each other\'s values. Define them in one stack only');
  }
}

/** Records `scope` as the owner of `what` in its account and region; returns the other owner if there is one. */
function claim(scope: IConstruct, what: string): string | undefined {
  const stack = Stack.of(scope);
  const located = !Token.isUnresolved(stack.account) && !Token.isUnresolved(stack.region);
  const where = located ? `${stack.account}/${stack.region}` : `stage ${Stage.of(stack)?.node.path ?? ''}`;
  const key = `${where}/${what}`;
  let names = claimedNames.get(scope.node.root);
  if (!names) {
    names = new Map();
    claimedNames.set(scope.node.root, names);
  }
  const owner = names.get(key);
  if (owner !== undefined && owner !== scope.node.path) return owner;
  names.set(key, scope.node.path);
  return undefined;
}
