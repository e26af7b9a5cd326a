/** Helpers every operation module uses: ARNs, pagination, canonical inputs, client tokens. */
import { CLIENT_TOKEN_TTL_MS } from './state';
import { conflict, OperationContext, validation } from './types';

/** arn:aws:proton:<region>:<account>:<resource>, e.g. resource 'environment-template/my-env'. */
export function protonArn(ctx: OperationContext, resource: string): string {
  return `arn:aws:proton:${ctx.settings.region}:${ctx.settings.accountId}:${resource}`;
}

/** JSON with sorted keys and without undefined members: equal inputs give equal strings. */
export function canonicalJson(value: unknown): string {
  const sorted = (item: unknown): unknown => {
    if (Array.isArray(item)) {
      return item.map(sorted);
    }
    if (item && typeof item === 'object') {
      return Object.fromEntries(Object.keys(item).sort()
        .filter(key => (item as any)[key] !== undefined)
        .map(key => [key, sorted((item as any)[key])]));
    }
    return item;
  };
  return JSON.stringify(sorted(value));
}

/** Epoch milliseconds → Date, which the server writes as epoch seconds. */
export function toDate(ms: number): Date;
export function toDate(ms: number | undefined): Date | undefined;
export function toDate(ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(ms);
}

export interface PageInput {
  readonly maxResults?: number;
  readonly nextToken?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

const DEFAULT_PAGE_SIZE = 100;

/** One page of items; nextToken is the base64 offset of the next page. */
export function paginate<T>(items: readonly T[], input: PageInput): Page<T> {
  let start = 0;
  if (input.nextToken !== undefined) {
    const decoded = Buffer.from(input.nextToken, 'base64').toString('utf8');
    start = /^offset:\d+$/.test(decoded) ? Number(decoded.slice('offset:'.length)) : NaN;
    if (!Number.isSafeInteger(start) || start > items.length) {
      throw validation(`Invalid nextToken: '${input.nextToken}'. Pass the nextToken of the previous response unchanged.`);
    }
  }
  const end = start + (input.maxResults ?? DEFAULT_PAGE_SIZE);
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(`offset:${end}`).toString('base64') : undefined,
  };
}

/**
 * Idempotent creates by name (creates without a client token): repeating a create with the same input returns the
 * existing resource, unless it was modified since (ConflictException); different input is a ValidationException
 * ("Idempotent parameter mismatch"). Returns whether `existing` answers the request; false when the name is free.
 */
export function repeatsCreate(
  existing: { readonly createRequest: string } | undefined, input: object, what: string, modifiedSinceCreate: boolean,
): boolean {
  if (!existing) {
    return false;
  }
  if (existing.createRequest !== canonicalJson(input)) {
    throw validation(`Idempotent parameter mismatch: ${what} already exists with different parameters`);
  }
  if (modifiedSinceCreate) {
    throw conflict(`${what} was modified since it was created; the create request can't be repeated`);
  }
  return true;
}

/**
 * Client-token idempotency: when a live token of this operation was used before with the same parameters, returns
 * the ARN of what that request created; with different parameters, throws ValidationException
 * (IdempotentParameterMismatch). Returns undefined for a new or expired token, or a request without one.
 */
export function replayClientToken(ctx: OperationContext, operation: string, input: { clientToken?: string }): string | undefined {
  if (!input.clientToken) {
    return undefined;
  }
  const key = `${operation}:${input.clientToken}`;
  const record = ctx.state.clientTokens[key];
  if (!record) {
    return undefined;
  }
  if (ctx.clock.now() - record.issuedAt >= CLIENT_TOKEN_TTL_MS) {
    delete ctx.state.clientTokens[key];
    return undefined;
  }
  if (record.fingerprint !== canonicalJson({ ...input, clientToken: undefined })) {
    throw validation(`IdempotentParameterMismatch: the clientToken '${input.clientToken}' was already used with different ` +
      `parameters for ${operation} (client tokens expire 8 hours after their first request). ` +
      'Use a new clientToken or repeat the original parameters.');
  }
  return record.resourceArn;
}

/** Remembers what a request with a client token created, for replayClientToken. */
export function rememberClientToken(ctx: OperationContext, operation: string, input: { clientToken?: string }, resourceArn: string): void {
  if (!input.clientToken) {
    return;
  }
  const now = ctx.clock.now();
  for (const [key, record] of Object.entries(ctx.state.clientTokens)) {
    if (now - record.issuedAt >= CLIENT_TOKEN_TTL_MS) {
      delete ctx.state.clientTokens[key];
    }
  }
  ctx.state.clientTokens[`${operation}:${input.clientToken}`] = {
    fingerprint: canonicalJson({ ...input, clientToken: undefined }),
    issuedAt: now,
    resourceArn,
  };
}
