import { ProtonClient } from '@aws-sdk/client-proton';

/**
 * SDK attempts per call. The standard retry strategy backs off exponentially on throttling, 5xx and connection
 * errors; a deployment of many resources shares the account's Proton rate limit, so allow more than the default 3.
 */
const MAX_ATTEMPTS = 10;

let client: ProtonClient | undefined;
let clientEnvironment: string | undefined;

/**
 * The Proton client. Region and credentials come from the Lambda environment; the endpoint comes from
 * AWS_ENDPOINT_URL_PROTON when set (the SDK reads it itself; proton-local uses it). Reused across invocations,
 * and rebuilt when the endpoint or the region changes (tests and the local deploy engine switch them between calls).
 */
export function protonClient(): ProtonClient {
  const environment = `${process.env.AWS_ENDPOINT_URL_PROTON}|${process.env.AWS_REGION}`;
  if (!client || environment !== clientEnvironment) {
    client?.destroy();
    client = new ProtonClient({ maxAttempts: MAX_ATTEMPTS, retryMode: 'standard' });
    clientEnvironment = environment;
  }
  return client;
}
