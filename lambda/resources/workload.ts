/**
 * What the environment and service handlers share: their CloudFormation lifecycle, template version moves, tags,
 * outputs returned as Data, and the "one step at a time" convention of their isComplete phase.
 */
import { ListTagsForResourceCommand, Output, ProtonClient, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-proton';
import { protonClient } from '../shared/client';
import { isConflict } from '../shared/errors';
import { log } from '../shared/log';
import { PropertyReader } from '../shared/properties';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse, ResourceHandler } from '../shared/types';

/**
 * What one reconciliation pass found: everything is in place (`done`), or it issued a call or is waiting for a
 * deployment (`pending`, with a reason for the log).
 */
export type Progress = { readonly done: true } | { readonly done: false; readonly reason: string };
export const DONE: Progress = { done: true };
export const pending = (reason: string): Progress => ({ done: false, reason });

/** Deployment statuses during which Proton rejects changes: wait for them to end. */
const BUSY = new Set(['IN_PROGRESS', 'CANCELLING', 'DELETE_IN_PROGRESS']);
export const isBusy = (status: string | undefined) => status !== undefined && BUSY.has(status);

/**
 * Runs a mutating call; a ConflictException (the resource is busy with another operation) is not a failure but a
 * reason to wait and retry on the next poll.
 */
export async function whenFree(reason: string, call: () => Promise<unknown>): Promise<Progress> {
  try {
    await call();
    return pending(reason);
  } catch (error) {
    if (isConflict(error)) {
      return pending(`${reason}: Proton reported a conflict, retrying on the next poll`);
    }
    throw error;
  }
}

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

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export function readTags(properties: PropertyReader, name: string): Tag[] {
  return properties.objectList(name, ['key', 'value'] as const) ?? [];
}

/**
 * Brings the resource's tags to the desired ones with at most one call: tags that changed or are new are set first,
 * then tags the previous properties had and the new ones dropped are removed. Tags set outside the stack and Proton's
 * own `aws:` tags are left alone.
 */
export async function syncTags(client: ProtonClient, arn: string, desired: Tag[], previous: Tag[]): Promise<Progress> {
  const current = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListTagsForResourceCommand({ resourceArn: arn, nextToken }));
    for (const tag of page.tags ?? []) current.set(tag.key!, tag.value!);
    nextToken = page.nextToken;
  } while (nextToken);

  const changed = desired.filter(t => current.get(t.key) !== t.value);
  if (changed.length > 0) {
    return whenFree('setting tags', () => client.send(new TagResourceCommand({ resourceArn: arn, tags: changed })));
  }
  const dropped = previous.map(t => t.key).filter(key => current.has(key) && !desired.some(t => t.key === key));
  if (dropped.length > 0) {
    return whenFree('removing tags', () => client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: dropped })));
  }
  return DONE;
}

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

/** How one kind of named Proton workload (an environment, a service) moves toward the state its properties describe. */
export interface NamedWorkload<Desired extends { readonly name: string }> {
  /** The desired state, and for an Update that keeps the name, the previous one. */
  read(event: OnEventRequest | IsCompleteRequest): { desired: Desired; previous?: Desired };
  /** The single create call (idempotent). */
  create(client: ProtonClient, desired: Desired): Promise<void>;
  /** One reconciliation step toward `desired`; `retryFailed` on the first step of an event. */
  advance(client: ProtonClient, event: OnEventRequest | IsCompleteRequest, desired: Desired, previous: Desired | undefined,
    retryFailed: boolean): Promise<Progress>;
  /** One step of deleting the named workload; done once it is gone. */
  advanceDeletion(client: ProtonClient, name: string, retryFailed: boolean): Promise<Progress>;
  /** The resource's Data once it is in place. */
  data(client: ProtonClient, desired: Desired): Promise<{ [attribute: string]: string }>;
}

/**
 * The CloudFormation lifecycle of a named workload: the physical id is the name, a new name is a new resource
 * (CloudFormation deletes the old one in its cleanup phase), and isComplete takes one step per call.
 */
export function namedWorkloadHandler<Desired extends { readonly name: string }>(workload: NamedWorkload<Desired>): ResourceHandler {
  const report = (event: OnEventRequest, progress: Progress) => {
    if (!progress.done) log(progress.reason, event);
    return progress;
  };
  return {
    async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
      const client = protonClient();
      if (event.RequestType === 'Delete') {
        report(event, await workload.advanceDeletion(client, event.PhysicalResourceId, true));
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
      const { desired, previous } = workload.read(event);
      if (event.RequestType === 'Update' && desired.name === event.PhysicalResourceId) {
        report(event, await workload.advance(client, event, desired, previous, true));
      } else {
        await workload.create(client, desired);
      }
      return { PhysicalResourceId: desired.name };
    },

    async isComplete(event: IsCompleteRequest): Promise<IsCompleteResponse> {
      const client = protonClient();
      if (event.RequestType === 'Delete') {
        return { IsComplete: report(event, await workload.advanceDeletion(client, event.PhysicalResourceId, false)).done };
      }
      const { desired, previous } = workload.read(event);
      const progress = report(event, await workload.advance(client, event, desired, previous, false));
      return progress.done ? { IsComplete: true, Data: await workload.data(client, desired) } : { IsComplete: false };
    },
  };
}
