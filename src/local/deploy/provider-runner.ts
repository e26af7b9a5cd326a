/**
 * The aws-cdk-lib `custom_resources.Provider` framework's contract for one custom-resource event, run in process.
 * Semantics follow aws-cdk-lib/custom-resources/lib/provider-framework/runtime/framework.js and cfn-response.js, and the
 * waiter state machine (waiter-state-machine.js):
 * - a Delete of the marker id the framework answers for a failed Create succeeds without calling the handler;
 * - onEvent runs once; its PhysicalResourceId defaults to the RequestId on Create and to the current id otherwise,
 *   and a Delete may not change it;
 * - isComplete runs at once, then after every query interval, up to totalTimeout / queryInterval more times, each
 *   time with the same input `{ ...event, ...onEventResult }`; Data is refused while IsComplete is false; success
 *   merges the Data of both phases; running out of attempts fails with "Operation timed out";
 * - a handler error fails the resource with its message; on Create before onEvent returned an id, the failure carries
 *   the framework's CREATE_FAILED marker as the physical id.
 * The real framework adds `Logs: /aws/lambda/<function>` and a stack trace to the reason; this runner keeps the message.
 */

/** What the framework answers for a Create whose onEvent failed; the Delete that follows is ignored. */
export const CREATE_FAILED_PHYSICAL_ID_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** A CloudFormation custom-resource request. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ServiceToken?: string;
  readonly ResponseURL?: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: { [name: string]: unknown };
  /** Update only. */
  readonly OldResourceProperties?: { [name: string]: unknown };
}

/** A Lambda function's handler: takes the JSON payload, returns a JSON result or throws. */
export type ProviderHandler = (event: any) => Promise<any>;

export interface ProviderRunOptions {
  readonly onEvent: ProviderHandler;
  /** Absent: the framework answers as soon as onEvent returns. */
  readonly isComplete?: ProviderHandler;
  readonly queryIntervalMs: number;
  /** Must be a multiple of queryIntervalMs, as the framework requires. */
  readonly totalTimeoutMs: number;
  /** Waits between isComplete calls; a test may pass a controllable clock's. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The SUCCESS answer the framework sends CloudFormation. */
export interface ProviderResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { [name: string]: any };
  readonly NoEcho?: boolean;
}

/** The FAILED answer: `message` is the reason CloudFormation shows. */
export class ProviderFailure extends Error {
  constructor(message: string, public readonly physicalResourceId: string | undefined) {
    super(message);
    this.name = 'ProviderFailure';
  }
}

/** Runs one event through the framework's contract: resolves with the SUCCESS response or rejects with a ProviderFailure. */
export async function runProvider(event: CustomResourceEvent, options: ProviderRunOptions): Promise<ProviderResponse> {
  const maxRetries = options.totalTimeoutMs / options.queryIntervalMs;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new Error(`Cannot determine retry count since totalTimeout=${options.totalTimeoutMs}ms is not integrally ` +
      `dividable by queryInterval=${options.queryIntervalMs}ms`);
  }
  if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_PHYSICAL_ID_MARKER) {
    return { PhysicalResourceId: CREATE_FAILED_PHYSICAL_ID_MARKER };
  }
  const request = { ...event, ResourceProperties: event.ResourceProperties ?? {} };

  let onEventResult: any;
  try {
    onEventResult = (await invoke(options.onEvent, request)) ?? {};
  } catch (error) {
    const id = event.PhysicalResourceId ?? (event.RequestType === 'Create' ? CREATE_FAILED_PHYSICAL_ID_MARKER : undefined);
    throw new ProviderFailure(messageOf(error), id);
  }
  const physicalResourceId: string = onEventResult.PhysicalResourceId || defaultPhysicalResourceId(event);
  if (event.RequestType === 'Delete' && physicalResourceId !== event.PhysicalResourceId) {
    throw new ProviderFailure(`DELETE: cannot change the physical resource ID from "${event.PhysicalResourceId}" to ` +
      `"${onEventResult.PhysicalResourceId}" during deletion`, event.PhysicalResourceId);
  }
  const resourceEvent = { ...request, ...onEventResult, PhysicalResourceId: physicalResourceId };
  if (!options.isComplete) {
    return response(resourceEvent);
  }

  const sleep = options.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)));
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    if (attempt > 0) {
      await sleep(options.queryIntervalMs);
    }
    let result: any;
    try {
      result = (await invoke(options.isComplete, resourceEvent)) ?? {};
    } catch (error) {
      throw new ProviderFailure(messageOf(error), physicalResourceId);
    }
    if (result.IsComplete) {
      return response({ ...resourceEvent, ...result, Data: { ...resourceEvent.Data, ...result.Data } });
    }
    if (result.Data && Object.keys(result.Data).length > 0) {
      throw new ProviderFailure('"Data" is not allowed if "IsComplete" is "False"', physicalResourceId);
    }
  }
  throw new ProviderFailure('Operation timed out', physicalResourceId);
}

/** A Lambda invocation: the payload and the result cross a JSON boundary. */
async function invoke(handler: ProviderHandler, payload: unknown): Promise<any> {
  const result = await handler(JSON.parse(JSON.stringify(payload)));
  return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
}

function defaultPhysicalResourceId(event: CustomResourceEvent): string {
  return event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId!;
}

function response(event: any): ProviderResponse {
  return {
    PhysicalResourceId: event.PhysicalResourceId,
    ...(event.Data !== undefined ? { Data: event.Data } : {}),
    ...(event.NoEcho !== undefined ? { NoEcho: event.NoEcho } : {}),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
