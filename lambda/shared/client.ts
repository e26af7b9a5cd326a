import { ProtonClient } from '@aws-sdk/client-proton';

/**
 * SDK attempts per call. The lifecycle (lifecycle.ts) retries throttling and transient errors itself, around whole
 * idempotent steps and without a retry budget, so the SDK only smooths over single blips.
 */
const MAX_ATTEMPTS = 3;

/**
 * A Proton client for one handler invocation. Region and credentials come from the Lambda environment; the endpoint
 * from AWS_ENDPOINT_URL_PROTON when set (the SDK reads it itself; proton-local uses it). One client per invocation, as
 * concurrent Lambda invocations have: a client shared by many resources shares one retry-token bucket, which
 * throttling empties, and then every resource fails at once.
 */
export function createProtonClient(): ProtonClient {
  return new ProtonClient({ maxAttempts: MAX_ATTEMPTS, retryMode: 'standard' });
}
