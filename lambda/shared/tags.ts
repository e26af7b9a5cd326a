/**
 * Tags: the user's, kept in sync with the properties, and the library's own `cdk-proton:` tags, which record on the
 * Proton resource what no single stack can know: which stack owns it, which bundle a version was registered from,
 * and that a replaced version waits to be deleted once nothing runs on it.
 */
import { createHash } from 'crypto';
import { paginateListTagsForResource, ProtonClient, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-proton';
import { isConflict } from './errors';
import { acted, DONE, pending, Progress, StepContext } from './lifecycle';
import { PropertyReader } from './properties';
import { SystemTags } from '../../src/private/properties';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export function readTags(properties: PropertyReader, name: string): Tag[] {
  return properties.objectList(name, ['key', 'value'] as const) ?? [];
}

/** Every tag of a resource (all pages), read once per poll. */
export function tagsOf(ctx: StepContext, resourceArn: string): Promise<Map<string, string>> {
  return ctx.cached(`tags ${resourceArn}`, () => listTags(ctx.client, resourceArn));
}

/** Every tag of a resource (all pages). */
export async function listTags(client: ProtonClient, resourceArn: string): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  for await (const page of paginateListTagsForResource({ client }, { resourceArn })) {
    for (const tag of page.tags ?? []) tags.set(tag.key!, tag.value!);
  }
  return tags;
}

/** Proton allows 256 characters in a tag value; longer owner names are hashed. */
const TAG_VALUE_MAX_LENGTH = 256;

/** Who owns a resource: the stack and the logical id of the custom resource that created it. */
export function ownerOf(ctx: StepContext): string {
  const owner = `${ctx.stackName}/${ctx.event.LogicalResourceId}`;
  return owner.length <= TAG_VALUE_MAX_LENGTH ? owner : `sha256:${createHash('sha256').update(owner).digest('hex')}`;
}

export function ownerTag(ctx: StepContext): Tag {
  return { key: SystemTags.OWNER, value: ownerOf(ctx) };
}

/**
 * Decides whether an existing resource with the desired name may be taken over: it is this resource's own (an
 * earlier delivery of the event created it), or it has no owner and the user opted in to adopting it. Anything
 * else is an error naming the owner: two constructs must never silently own one Proton resource.
 */
export async function checkOwnership(ctx: StepContext, arn: string, what: string, adoptExisting: boolean): Promise<'own' | 'adopted'> {
  const owner = (await tagsOf(ctx, arn)).get(SystemTags.OWNER);
  if (owner === ownerOf(ctx)) return 'own';
  if (owner !== undefined) {
    throw new Error(`${what} already exists and belongs to ${owner} (stack/logical id, tag ${SystemTags.OWNER}): two resources can't `
      + 'manage one Proton resource. Choose another name, or remove it from the other stack first');
  }
  if (!adoptExisting) {
    throw new Error(`${what} already exists in Proton and was not created by this stack: choose another name, or set `
      + 'adoptExisting: true to manage the existing one (it is then retained when removed from the stack, unless removalPolicy says otherwise)');
  }
  await ctx.client.send(new TagResourceCommand({ resourceArn: arn, tags: [ownerTag(ctx)] }));
  ctx.forget(`tags ${arn}`);
  ctx.log('adopted an existing resource', { resource: what });
  return 'adopted';
}

/**
 * Brings the user's tags to the desired ones with at most one call: tags that changed or are new are set first, then
 * tags the previous properties had and the new ones dropped are removed. Tags set outside the stack, the library's
 * own and Proton's `aws:` tags are left alone. Nothing is read when this event's create sent the tags itself, or
 * when the properties' tags are the previous ones (an update that leaves the tags alone: Proton has them since the
 * event that set them).
 */
export async function syncTags(ctx: StepContext, arn: string, desired: Tag[], previous: Tag[]): Promise<Progress> {
  if (ctx.sentTags || sameTags(desired, previous)) return DONE;
  const client = ctx.client;
  const current = await tagsOf(ctx, arn);
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
 * Runs a mutating call; a ConflictException (the resource is busy with another operation) is not a failure but a
 * reason to wait and retry on the next poll.
 */
export async function whenFree(reason: string, call: () => Promise<unknown>): Promise<Progress> {
  return attempt(reason, call, acted);
}

/**
 * whenFree for a call that starts a deployment or a deletion: Proton works on it asynchronously, so the next poll
 * waits as for any deployment (not the quick look after a call whose effect is immediate).
 */
export async function whenFreeStarting(reason: string, call: () => Promise<unknown>): Promise<Progress> {
  return attempt(reason, call, pending);
}

async function attempt(reason: string, call: () => Promise<unknown>, progress: (reason: string) => Progress): Promise<Progress> {
  try {
    await call();
    return progress(reason);
  } catch (error) {
    if (isConflict(error)) {
      return pending(`${reason}: Proton reported a conflict, retrying on the next poll`);
    }
    throw error;
  }
}

function sameTags(a: Tag[], b: Tag[]): boolean {
  const key = (tags: Tag[]) => JSON.stringify(tags.map(t => [t.key, t.value]).sort());
  return key(a) === key(b);
}
