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

export class ProtonApiClient {
  constructor(private readonly endpoint: string) {}

  /** Calls one operation; resolves to its output, rejects with a ProtonApiError for an error response. */
  public async call(operation: string, input: object = {}): Promise<any> {
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

export function isNotFound(error: unknown): boolean {
  return error instanceof ProtonApiError && error.code === 'ResourceNotFoundException';
}
