/**
 * `@aws-cdk/integ-tests-alpha` assertions (`Custom::DeployAssert@...` resources) in the local engine.
 *
 * What can run here runs as the assertion provider's Lambda would run it: an `AwsApiCall` on the Proton service is sent
 * to proton-local and its response compared with the `expect` / `assertAtPath` expectation with the same matchers
 * (aws-cdk-lib's `Match`, decoded from `$ObjectLike`, `$ArrayWith`, `$StringLike`, `$SerializedJson` as the provider
 * decodes them); `waitForAssertions` repeats the call at the waiter's interval until it matches or the waiter's
 * attempts are used up; `integ.assertions.expect` (`AssertEquals`) compares its two values. The resource's `assertion`
 * attribute holds what AWS's provider returns (`{"status":"success"}` or `{"status":"fail","message":...}`).
 *
 * What cannot run (an HTTP call, another service's API, a Lambda invocation, a call or comparison that reads a resource
 * the engine does not create) is NOT_RUN, never passed: its `assertion` attribute says `{"status":"not run",...}` and
 * the deploy command fails unless told `--allow-skipped`.
 */
import type { Matcher } from 'aws-cdk-lib/assertions/lib/helpers-internal';
import type { ProtonApiClient } from './proton-client';
import type { DeleteResult, ResourceHandler, ResourceRequest, ResourceResult } from './resource-handler';
import { ResourceOperationError } from './resource-handler';

/** The resource type prefix of every integ-tests-alpha assertion (SdkCall, HttpCall, AssertEquals). */
const ASSERTION_TYPE_PREFIX = 'Custom::DeployAssert@';
const SDK_CALL_PREFIX = `${ASSERTION_TYPE_PREFIX}SdkCall`;
const ASSERT_EQUALS_TYPE = `${ASSERTION_TYPE_PREFIX}AssertEquals`;

/** How integ-tests-alpha (through the SDK adapter) lets an app name the Proton service. */
const PROTON_SERVICE_NAMES = new Set(['proton', '@aws-sdk/client-proton', 'protonclient']);

export function isAssertionResource(type: string): boolean {
  return type.startsWith(ASSERTION_TYPE_PREFIX);
}

/** The verdict of one assertion after a deploy. */
export type AssertionStatus = 'PASSED' | 'FAILED' | 'NOT_RUN';

export interface AssertionOutcome {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly status: AssertionStatus;
  /** The mismatch (FAILED) or why it could not run (NOT_RUN). */
  readonly message?: string;
}

/** The waiter of `waitForAssertions()`, read from its state machine's retry policy. */
export interface AssertionWaiter {
  readonly intervalMs: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
}

/** A resource a property reads, for the NOT_RUN check. */
export interface ReadResource {
  readonly logicalId: string;
  readonly type: string;
  /** False when the engine does not create it (its id and attributes are made up). */
  readonly managed: boolean;
}

/** The `assertion` attribute AWS's provider returns, and ours for what did not run. */
function assertionAttribute(status: 'success' | 'fail' | 'not run', message?: string): string {
  return JSON.stringify(message === undefined ? { status } : { status, message });
}

/**
 * Why an assertion resource cannot run locally, or undefined when it can. `reads` are the resources its properties
 * (other than the provider's ServiceToken and the waiter's state machine) refer to.
 */
export function whyAssertionCannotRun(type: string, properties: { [name: string]: unknown }, reads: ReadResource[]): string | undefined {
  if (type.startsWith(SDK_CALL_PREFIX)) {
    const service = String(properties.service ?? '');
    if (!PROTON_SERVICE_NAMES.has(service.toLowerCase())) {
      return `an AWS API call to ${service}.${String(properties.api)}: proton-local answers the Proton API only`;
    }
  } else if (type !== ASSERT_EQUALS_TYPE) {
    return `${type.slice(ASSERTION_TYPE_PREFIX.length).replace(/^HttpCall.*/, 'an HTTP call')} is not run by proton-local deploy`;
  }
  const madeUp = reads.filter((read) => !read.managed);
  if (madeUp.length) {
    return `it reads ${madeUp.map((r) => `${r.logicalId} (${r.type})`).join(', ')}, which proton-local deploy does not create ` +
      '(its id and attributes are made up)';
  }
  return undefined;
}

/** The attributes of an assertion that did not run: `assertion` says so, for the stack's AssertionResults outputs. */
export function notRunAttributes(reason: string): { [name: string]: unknown } {
  return { assertion: assertionAttribute('not run', reason) };
}

/** The verdict an assertion resource's attributes hold (undefined for an AwsApiCall without an expectation). */
export function assertionOutcome(logicalId: string, resourceType: string, attributes: { [name: string]: unknown }): AssertionOutcome | undefined {
  if (typeof attributes.assertion !== 'string') return undefined;
  const result = JSON.parse(attributes.assertion) as { status: string; message?: string };
  const status: AssertionStatus = result.status === 'success' ? 'PASSED' : result.status === 'fail' ? 'FAILED' : 'NOT_RUN';
  return { logicalId, resourceType, status, message: result.message };
}

export interface AssertionHandlerOptions {
  readonly client: ProtonApiClient;
  /** Overrides the waiter's interval (keeping its number of attempts), as the engine's poll interval does for providers. */
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Runs the assertions that can run (see whyAssertionCannotRun); the engine lists the others as NOT_RUN. */
export class AssertionHandler implements ResourceHandler {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AssertionHandlerOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  public async create(request: ResourceRequest): Promise<ResourceResult> {
    // AWS's provider answers a Create with the logical id as the physical id, an Update with the one it had.
    return { physicalId: request.logicalId, attributes: await this.evaluate(request) };
  }

  public async update(request: ResourceRequest): Promise<ResourceResult> {
    return { physicalId: request.physicalId ?? request.logicalId, attributes: await this.evaluate(request) };
  }

  /** AWS's provider deletes nothing: an assertion leaves no resource behind. */
  public async delete(): Promise<DeleteResult> {
    return {};
  }

  /** Every change re-runs the assertion in place (integ-tests-alpha changes the `salt` property on every synth). */
  public replacementProperties(): string[] {
    return [];
  }

  private async evaluate(request: ResourceRequest): Promise<{ [name: string]: unknown }> {
    const properties = request.properties;
    if (request.type === ASSERT_EQUALS_TYPE) {
      const result = compare(properties.actual, properties.expected);
      if (result.failed && String(properties.failDeployment) === 'true') {
        throw new ResourceOperationError(result.assertion, request.logicalId);
      }
      return { assertion: result.assertion, data: result.assertion };
    }
    const waiter = request.waiter;
    if (!waiter) {
      // Without a waiter an error of the call fails the resource, and a mismatch is reported, not thrown (as on AWS).
      const response = await this.call(properties);
      return this.withAssertion(properties, response).attributes;
    }
    // With a waiter, the call is repeated until it succeeds and matches; then the waiter's timeout fails the resource.
    const interval = this.options.pollIntervalMs ?? waiter.intervalMs;
    let last = 'no attempt made';
    for (let attempt = 1; attempt <= waiter.maxAttempts; attempt++) {
      try {
        const outcome = this.withAssertion(properties, await this.call(properties));
        if (!outcome.failed) return outcome.attributes;
        last = String(outcome.attributes.assertion);
      } catch (error) {
        last = (error as Error).message;
      }
      if (attempt < waiter.maxAttempts) await this.sleep(interval * waiter.backoffRate ** (attempt - 1));
    }
    throw new ResourceOperationError(`Operation timed out after ${waiter.maxAttempts} attempts of waitForAssertions: ${last}`, request.logicalId);
  }

  /** The Proton call of an `AwsApiCall`, with its response shaped as the provider returns it. */
  private async call(properties: { [name: string]: unknown }): Promise<{ [name: string]: unknown }> {
    const operation = operationName(String(properties.api));
    const response = await this.options.client.call(operation, decodeParameters(properties.parameters));
    const apiCallResponse = withTimestampsAsDates(response);
    if (properties.outputPaths !== undefined || String(properties.flattenResponse) === 'true') {
      const flat = flatten(deepParseJson({ apiCallResponse }));
      const paths = properties.outputPaths as string[] | undefined;
      return paths ? Object.fromEntries(Object.entries(flat).filter(([key]) => paths.some((p) => key.startsWith(`apiCallResponse.${p}`)))) : flat;
    }
    return { apiCallResponse };
  }

  private withAssertion(properties: { [name: string]: unknown }, result: { [name: string]: unknown }) {
    if (properties.expected === undefined) return { failed: false, attributes: result };
    const actualPath = properties.actualPath as string | undefined;
    const actual = actualPath ? result[`apiCallResponse.${actualPath}`] : result.apiCallResponse;
    const verdict = compare(actual, properties.expected);
    return { failed: verdict.failed, attributes: { ...result, assertion: verdict.assertion } };
  }
}

/** `getEnvironment`, `GetEnvironment` or `GetEnvironmentCommand` (the forms the SDK adapter takes) -> `GetEnvironment`. */
function operationName(api: string): string {
  const name = api.replace(/Command$/, '');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Each parameter is the JSON text of its value (integ-tests-alpha encodes them so); a value that does not parse stays a string. */
function decodeParameters(parameters: unknown): { [name: string]: unknown } {
  if (parameters === undefined || parameters === null || typeof parameters !== 'object') return {};
  return Object.fromEntries(Object.entries(parameters).map(([key, value]) => {
    try {
      return [key, JSON.parse(String(value))];
    } catch {
      return [key, value];
    }
  }));
}

/**
 * The SDK turns Proton's timestamps (epoch seconds on the wire) into Dates, which the provider's JSON response carries
 * as ISO strings; every Proton timestamp member ends in `At` (createdAt, lastDeploymentSucceededAt...).
 */
function withTimestampsAsDates(value: unknown, key = ''): any {
  if (Array.isArray(value)) return value.map((item) => withTimestampsAsDates(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, withTimestampsAsDates(item, k)]));
  }
  return typeof value === 'number' && /At$/.test(key) ? new Date(value * 1000).toISOString() : value;
}

/** The provider parses every string that is JSON, recursively, before flattening. */
function deepParseJson(value: unknown): unknown {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(deepParseJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, deepParseJson(item)]));
  }
  return value;
}

/** `{ a: { b: [1] } }` -> `{ 'a.b.0': 1 }`, as the SDK adapter's flatten (the keys Fn::GetAtt reads). */
function flatten(value: unknown, prefix = '', into: { [key: string]: unknown } = {}): { [key: string]: unknown } {
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into[prefix] = value;
  }
  return into;
}

/**
 * aws-cdk-lib's matchers, the ones integ-tests-alpha's provider uses; loaded when an assertion runs (aws-cdk-lib is a
 * peer dependency, there whenever an app is synthesized), not by every deploy.
 */
function matchers(): typeof import('aws-cdk-lib/assertions/lib/helpers-internal') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('aws-cdk-lib/assertions/lib/helpers-internal');
}

/** The expectation decoded into aws-cdk-lib's matchers, as the assertion provider does; exact when it names none. */
function matcherOf(expected: unknown): Matcher {
  const { Match, Matcher: MatcherClass } = matchers();
  let decoded: unknown = expected;
  if (typeof expected === 'string') {
    try {
      decoded = JSON.parse(expected);
    } catch {
      decoded = expected;
    }
  }
  const encoded: { [name: string]: (v: any) => Matcher } = {
    $ArrayWith: (v) => Match.arrayWith(v),
    $ObjectLike: (v) => Match.objectLike(v),
    $StringLike: (v) => Match.stringLikeRegexp(v),
    $SerializedJson: (v) => Match.serializedJson(v),
  };
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(revive);
    if (value !== null && typeof value === 'object') {
      const revived = Object.fromEntries(Object.entries(value).map(([k, item]) => [k, revive(item)]));
      const [first] = Object.keys(revived);
      if (first in encoded) return encoded[first](revived[first]);
      // ExpectedResult.exact: AWS's provider (2.245) leaves `$Exact` undecoded, so that an exact expectation never
      // matches there; here it means what ExpectedResult.exact documents, an exact match.
      return first === '$Exact' ? Match.exact(revived[first]) : revived;
    }
    return value;
  };
  const matcher = revive(decoded);
  return MatcherClass.isMatcher(matcher) ? matcher : Match.exact(matcher);
}

function compare(actual: unknown, expected: unknown): { failed: boolean; assertion: string } {
  let value = actual;
  if (typeof actual === 'string') {
    try {
      value = JSON.parse(actual);
    } catch {
      value = actual;
    }
  }
  const result = matcherOf(expected).test(value);
  result.finished();
  if (result.hasFailed()) return { failed: true, assertion: assertionAttribute('fail', result.renderMismatch()) };
  return { failed: false, assertion: assertionAttribute('success') };
}
