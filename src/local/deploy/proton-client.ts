/**
 * A tiny awsJson1_0 client for the Proton API, enough for the local deploy engine and `proton-local status`.
 *
 * The shipped CLI cannot use `@aws-sdk/client-proton` (a devDependency only), and proton-local does not check
 * signatures, so requests are plain JSON POSTs carrying the operation in `X-Amz-Target`.
 */

const TARGET_PREFIX = 'AwsProton20200720';

/** A modelled error returned by the Proton API (its `__type` without the namespace, and its message). */
export class ProtonApiError extends Error {
  constructor(public readonly code: string, message: string, public readonly httpStatus: number) {
    super(`${code}: ${message}`);
    this.name = 'ProtonApiError';
  }
}

/** Attempts per call: the engine's calls are reads, which throttling or a dropped connection must slow, never fail. */
const MAX_ATTEMPTS = 8;
const FIRST_RETRY_DELAY_MS = 200;
const MAX_RETRY_DELAY_MS = 5_000;

export class ProtonApiClient {
  constructor(private readonly endpoint: string, private readonly sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms))) {}

  /**
   * Calls one operation, retrying throttling, 5xx and connection errors with jittered backoff; resolves to its output,
   * rejects with a ProtonApiError for an error response.
   */
  public async call(operation: string, input: object = {}): Promise<any> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.callOnce(operation, input);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
        const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1));
        await this.sleep(delay / 2 + Math.random() * delay / 2);
      }
    }
  }

  private async callOnce(operation: string, input: object): Promise<any> {
    const response = await fetch(this.endpoint.replace(/\/+$/, '') + '/', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': `${TARGET_PREFIX}.${operation}`,
      },
      body: JSON.stringify(input),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : {};
    if (!response.ok) {
      const code = String(body.__type ?? `HTTP${response.status}`).split('#').pop()!;
      throw new ProtonApiError(code, body.message ?? body.Message ?? text, response.status);
    }
    return body;
  }

  /** Calls a paginated List operation and concatenates the `itemsKey` arrays of every page. */
  public async listAll(operation: string, itemsKey: string, input: object = {}): Promise<any[]> {
    const items: any[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(operation, { ...input, ...(nextToken ? { nextToken } : {}) });
      items.push(...(page[itemsKey] ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return items;
  }
}

/** Throttling, server errors and failed connections (fetch rejects with a TypeError when the connection drops). */
function isRetryable(error: unknown): boolean {
  if (error instanceof ProtonApiError) {
    return error.httpStatus >= 500 || error.httpStatus === 429 || error.code === 'ThrottlingException';
  }
  return error instanceof TypeError || error instanceof SyntaxError;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ProtonApiError && error.code === 'ResourceNotFoundException';
}
