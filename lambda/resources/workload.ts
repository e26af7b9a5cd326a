/**
 * What the environment and service handlers share: template version moves, deployment statuses, and outputs returned
 * as Data.
 */
import { Output } from '@aws-sdk/client-proton';

/** Deployment statuses during which Proton rejects changes: wait for them to end. */
const BUSY = new Set(['IN_PROGRESS', 'CANCELLING', 'DELETE_IN_PROGRESS']);
export const isBusy = (status: string | undefined) => status !== undefined && BUSY.has(status);

export interface TemplateVersion {
  readonly major: string;
  readonly minor: string;
}

export interface VersionMove {
  readonly deploymentType: 'CURRENT_VERSION' | 'MINOR_VERSION' | 'MAJOR_VERSION';
  readonly templateMajorVersion?: string;
  readonly templateMinorVersion?: string;
}

/**
 * The deployment that takes a resource from its current template version to the desired one. Minors move both ways
 * within a major (MINOR_VERSION takes an explicit lower minor, which is how a rollback goes back); majors only go up.
 *
 * @param what the resource, for the error message ("environment 'prod'")
 */
export function versionMove(what: string, current: TemplateVersion, desired: TemplateVersion): VersionMove {
  if (current.major === desired.major) {
    return current.minor === desired.minor
      ? { deploymentType: 'CURRENT_VERSION' }
      : { deploymentType: 'MINOR_VERSION', templateMinorVersion: desired.minor };
  }
  if (Number(desired.major) > Number(current.major)) {
    return { deploymentType: 'MAJOR_VERSION', templateMajorVersion: desired.major, templateMinorVersion: desired.minor };
  }
  throw new Error(`${what} runs template version ${current.major}.${current.minor} and can't move to ${desired.major}.${desired.minor}: `
    + 'Proton never moves a resource to a lower major version. Deploy a new minor of major '
    + `${current.major} instead, or give the resource a new name to replace it`);
}

export const sameVersion = (a: TemplateVersion, b: TemplateVersion) => a.major === b.major && a.minor === b.minor;

/**
 * The most Data the handler returns. CloudFormation rejects custom resource responses over 4096 bytes, and the rest of
 * the response (status, ids, reason) takes up to about 600 of them.
 */
export const DATA_LIMIT_BYTES = 3500;

/** Where output attributes with a prefix get their values: the resource that has the outputs. */
export interface OutputSource {
  /** `Outputs.`, `Instances.<name>.Outputs.` or `Pipeline.Outputs.` */
  readonly prefix: string;
  /** The resource, for messages ("environment 'prod'"). */
  readonly owner: string;
  list(): Promise<Output[]>;
}

/**
 * The Data of a finished resource: the value of each output attribute the app reads, each source listed once.
 *
 * @throws when an attribute has no value, or when the values do not fit in CloudFormation's response
 */
export async function outputData(attributes: string[], sourceOf: (attribute: string) => OutputSource): Promise<{ [attribute: string]: string }> {
  const listed = new Map<string, Output[]>();
  const data: { [attribute: string]: string } = {};
  for (const attribute of attributes) {
    const source = sourceOf(attribute);
    let outputs = listed.get(source.prefix);
    if (!outputs) {
      outputs = await source.list();
      listed.set(source.prefix, outputs);
    }
    const key = attribute.slice(source.prefix.length);
    const output = outputs.find(o => o.key === key);
    if (!output) {
      throw new Error(`${source.owner} has no output '${key}' (its outputs: ${listOf(outputs.map(o => o.key!))})`);
    }
    data[attribute] = output.valueString ?? '';
  }
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > DATA_LIMIT_BYTES) {
    const sizes = attributes.map(a => `${a} (${Buffer.byteLength(data[a])} bytes)`).join(', ');
    throw new Error(`the outputs the app reads take ${size} bytes, more than the ${DATA_LIMIT_BYTES} that fit in a CloudFormation `
      + `custom resource response: ${sizes}. Read fewer or smaller outputs`);
  }
  return data;
}

export function listOf(values: string[]): string {
  return values.length > 0 ? values.join(', ') : 'none';
}

