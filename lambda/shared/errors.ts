/** Classification of Proton errors (the SDK's modelled exceptions carry their name in `name`). */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

export function errorName(error: unknown): string | undefined {
  return error && typeof error === 'object' ? (error as { name?: string }).name : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isNotFound(error: unknown): boolean {
  return errorName(error) === 'ResourceNotFoundException';
}

/** A resource busy with another operation, or in use: callers in isComplete wait and retry rather than fail at once. */
export function isConflict(error: unknown): boolean {
  return errorName(error) === 'ConflictException';
}

/** Same client token (or same name) with different parameters: Proton answers ValidationException, not a class of its own. */
export function isIdempotentParameterMismatch(error: unknown): boolean {
  return errorName(error) === 'ValidationException' && /idempotent ?parameter ?mismatch/i.test(errorMessage(error));
}

/** Runs a delete call; a resource that is already gone counts as deleted. */
export async function ignoreNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Throttling, 5xx and connection errors: every step is idempotent, so these mean "try the step again later", never
 * "the resource failed". The SDK's own classification decides (the same rules its retry strategy uses).
 */
export function isTransient(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const sdkError = error as any;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError)
    || sdkError.$metadata?.httpStatusCode === 429 || (sdkError.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** Proton's answer when an Update*TemplateVersion(status=PUBLISHED) finds the version already published. */
export function isNotDraft(error: unknown): boolean {
  return errorName(error) === 'ValidationException' && /DRAFT/.test(errorMessage(error));
}
