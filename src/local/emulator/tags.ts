/**
 * Tags of every resource, kept in one map keyed by ARN (state.tags). A resource is taggable once its module called
 * initTags at creation; dropTags forgets it. Customer tags: at most 50 per resource, `aws:` keys reserved; managed
 * `aws:proton:*` tags are listed but can't be changed.
 */
import { paginate } from './shared';
import { nameMap } from './state';
import { notFound, OperationContext, OperationTable, validation } from './types';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

const MAX_CUSTOMER_TAGS = 50;
const RESERVED_PREFIX = 'aws:';

function checkNotReserved(keys: readonly string[], parameter: string): void {
  const reserved = keys.filter(key => key.toLowerCase().startsWith(RESERVED_PREFIX));
  if (reserved.length) {
    throw validation(`Invalid ${parameter}: tag keys starting with '${RESERVED_PREFIX}' are reserved for AWS use and can't be ` +
      `added, changed or removed: ${reserved.join(', ')}`);
  }
}

function checkCustomerTagCount(tags: { [key: string]: string }, resourceArn: string): void {
  const count = Object.keys(tags).filter(key => !key.toLowerCase().startsWith(RESERVED_PREFIX)).length;
  if (count > MAX_CUSTOMER_TAGS) {
    throw validation(`Too many tags for ${resourceArn}: ${count} customer tags; a resource can have at most ${MAX_CUSTOMER_TAGS} ` +
      `(tags with the '${RESERVED_PREFIX}' prefix don't count)`);
  }
}

/** Validates the `tags` of a create request; call before creating anything. */
export function checkCreateTags(tags: readonly Tag[] | undefined, resourceArn: string): void {
  const keys = (tags ?? []).map(tag => tag.key);
  checkNotReserved(keys, 'tags');
  checkCustomerTagCount(nameMap(keys.map(key => [key, ''] as const)), resourceArn);
}

/** Makes a new resource taggable, with the customer tags of its create request and Proton's managed tags. */
export function initTags(
  ctx: OperationContext, resourceArn: string, tags: readonly Tag[] | undefined, managed: { [key: string]: string } = {},
): void {
  checkCreateTags(tags, resourceArn);
  ctx.state.tags[resourceArn] = nameMap([...(tags ?? []).map(tag => [tag.key, tag.value] as const), ...Object.entries(managed)]);
}

export function dropTags(ctx: OperationContext, resourceArn: string): void {
  delete ctx.state.tags[resourceArn];
}

export function tagsOf(ctx: OperationContext, resourceArn: string): Tag[] {
  return Object.entries(ctx.state.tags[resourceArn] ?? {}).map(([key, value]) => ({ key, value }));
}

function knownTags(ctx: OperationContext, resourceArn: string): { [key: string]: string } {
  const tags = ctx.state.tags[resourceArn];
  if (!tags) {
    throw notFound(`The resource ${resourceArn} was not found; tags can only be managed on existing Proton resources`);
  }
  return tags;
}

export const tagOperations: OperationTable = {
  TagResource(ctx, input: { resourceArn: string; tags: Tag[] }) {
    const current = knownTags(ctx, input.resourceArn);
    checkNotReserved(input.tags.map(tag => tag.key), 'tags');
    const updated = nameMap([...Object.entries(current), ...input.tags.map(tag => [tag.key, tag.value] as const)]);
    checkCustomerTagCount(updated, input.resourceArn);
    ctx.state.tags[input.resourceArn] = updated;
    return {};
  },

  UntagResource(ctx, input: { resourceArn: string; tagKeys: string[] }) {
    const current = knownTags(ctx, input.resourceArn);
    checkNotReserved(input.tagKeys, 'tagKeys');
    for (const key of input.tagKeys) {
      delete current[key];
    }
    return {};
  },

  ListTagsForResource(ctx, input: { resourceArn: string; maxResults?: number; nextToken?: string }) {
    knownTags(ctx, input.resourceArn);
    const page = paginate(tagsOf(ctx, input.resourceArn), input);
    return { tags: page.items, nextToken: page.nextToken };
  },
};
