/**
 * The spec documents Proton expects, rendered from plain inputs.
 *
 * Shared by the handler (which renders the YAML once CloudFormation has resolved every token in the inputs)
 * and the constructs, so this module must not import aws-cdk-lib: the handler bundle would pull it in.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';

/** Proton's limit on a spec document (`SpecContents`). */
const SPEC_MAX_LENGTH = 51200;

/** Proton's `ResourceName` rule (environment, service and instance names). */
const RESOURCE_NAME = /^[0-9A-Za-z]+[0-9A-Za-z_-]*$/;
const RESOURCE_NAME_MAX_LENGTH = 100;

/** Inputs of one spec section: input names to values. */
export type SpecInputs = { [input: string]: unknown };

/** One instance of a service spec. */
export interface InstanceSpec {
  readonly name: string;
  /** The environment's name. */
  readonly environment: string;
  readonly spec: SpecInputs;
}

/** The parts of a service spec. */
export interface ServiceSpecParts {
  /** Absent when the service template has no pipeline. */
  readonly pipeline?: SpecInputs;
  readonly instances: InstanceSpec[];
}

/** Renders `proton: EnvironmentSpec` with the given inputs. */
export function renderEnvironmentSpec(inputs: SpecInputs): string {
  return render({ proton: 'EnvironmentSpec', spec: inputs });
}

/** Renders `proton: ServiceSpec` with its pipeline (when the template has one) and instances. */
export function renderServiceSpec(parts: ServiceSpecParts): string {
  return render({
    proton: 'ServiceSpec',
    ...(parts.pipeline !== undefined ? { pipeline: parts.pipeline } : {}),
    instances: parts.instances.map(i => ({ name: i.name, environment: i.environment, spec: i.spec })),
  });
}

function render(document: { readonly proton: string; readonly [section: string]: unknown }): string {
  const text = stringify(document);
  if (text.length > SPEC_MAX_LENGTH) {
    throw new Error(`the ${document.proton} is ${text.length} characters long as YAML; Proton accepts at most ${SPEC_MAX_LENGTH}`);
  }
  return text;
}

/** A spec document as Proton returns it (re-serialised YAML), parsed; an empty object for an absent spec. */
function parseSpec(text: string | undefined): any {
  return text ? parseYaml(text) ?? {} : {};
}

/** The inputs of an environment spec (`spec:`). */
export function environmentInputs(text: string | undefined): SpecInputs {
  return parseSpec(text).spec ?? {};
}

/** The parts of a service spec; instances without `spec:` have no inputs. */
export function serviceSpecParts(text: string | undefined): ServiceSpecParts {
  const document = parseSpec(text);
  const instances: any[] = Array.isArray(document.instances) ? document.instances : [];
  return {
    pipeline: document.pipeline ?? undefined,
    instances: instances.map(i => ({ name: String(i.name), environment: String(i.environment), spec: i.spec ?? {} })),
  };
}

/** Spec inputs compare by value: Proton re-serialises the YAML it returns, so text comparison would see false changes. */
export function sameInputs(a: SpecInputs | undefined, b: SpecInputs | undefined): boolean {
  return isDeepStrictEqual(a ?? {}, b ?? {});
}

/**
 * Why a name breaks Proton's `ResourceName` rule, or undefined when it is valid.
 */
export function resourceNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > RESOURCE_NAME_MAX_LENGTH) {
    return `must be 1 to ${RESOURCE_NAME_MAX_LENGTH} characters long (got ${name.length})`;
  }
  if (!RESOURCE_NAME.test(name)) {
    return 'must start with a letter or digit and contain only letters, digits, "-" and "_"';
  }
  return undefined;
}
