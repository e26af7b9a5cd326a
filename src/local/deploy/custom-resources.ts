/**
 * Custom resources backed by aws-cdk-lib's `custom_resources.Provider`, run in process through the bundled handler
 * taken from the cloud assembly's own asset, with CloudFormation-shaped events (every property value stringified as
 * CloudFormation delivers it) and the Provider framework's contract (see provider-runner.ts).
 */
import { AsyncLocalStorage } from 'async_hooks';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { inspect } from 'util';
import type { AssemblyAsset } from './assembly';
import { TemplateError } from './intrinsics';
import { ProviderFailure, runProvider } from './provider-runner';
import type { DeleteResult, ResourceHandler, ResourceRequest, ResourceResult } from './resource-handler';
import { ResourceOperationError } from './resource-handler';
import type { DeployState, HandlerRecord, ProviderRecord } from './state';

/** Where CloudFormation would have the provider PUT its response; the in-process provider never calls it. */
const DUMMY_RESPONSE_URL = 'https://cloudformation-custom-resource-response-proton-local.invalid/response';

/** Custom resource types the engine runs; other custom resources are listed as skipped. */
export function isProtonCustomResource(type: string): boolean {
  return type.startsWith('Custom::Proton');
}

/** CloudFormation delivers every scalar property value as a string, recursively through lists and maps. */
export function stringifyProperties(value: unknown): any {
  if (Array.isArray(value)) return value.map(stringifyProperties);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringifyProperties(item)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

export interface DescribeProviderInput {
  readonly template: any;
  /** The custom resource, for error messages. */
  readonly logicalId: string;
  /** Resolves an intrinsic-bearing value of the template (e.g. a function's S3Key). */
  readonly resolve: (value: unknown, where: string) => unknown;
  readonly assets: AssemblyAsset[];
  readonly state: DeployState;
}

/**
 * Reads what a Provider framework synthesizes: the custom resource's ServiceToken is the framework onEvent function's
 * Arn; that function's environment names the user onEvent and isComplete functions and the waiter state machine,
 * whose retry policy holds the query interval and the number of attempts.
 */
export function describeProvider(input: DescribeProviderInput): ProviderRecord {
  const { template, logicalId } = input;
  const resources = template.Resources ?? {};
  const serviceToken = resources[logicalId]?.Properties?.ServiceToken;
  const where = `Resources.${logicalId}.Properties.ServiceToken`;
  const framework = getAttTarget(serviceToken);
  const frameworkEnvironment = resources[framework ?? '']?.Properties?.Environment?.Variables;
  if (!framework || !frameworkEnvironment?.USER_ON_EVENT_FUNCTION_ARN) {
    throw new TemplateError(`${where}: expected the Arn of a custom_resources.Provider framework function ` +
      `(Fn::GetAtt [<framework-onEvent>, Arn]), got ${JSON.stringify(serviceToken)}`);
  }
  const functionOf = (variable: string): HandlerRecord | undefined => {
    const value = frameworkEnvironment[variable];
    if (value === undefined) return undefined;
    const functionId = getAttTarget(value);
    if (!functionId || !resources[functionId]) {
      throw new TemplateError(`Resources.${framework}: ${variable} must be Fn::GetAtt [<function>, Arn], got ${JSON.stringify(value)}`);
    }
    return describeFunction(input, functionId);
  };
  const onEvent = functionOf('USER_ON_EVENT_FUNCTION_ARN')!;
  const isComplete = functionOf('USER_IS_COMPLETE_FUNCTION_ARN');
  if (!isComplete) {
    return { onEvent, queryIntervalMs: 0, totalTimeoutMs: 0 };
  }
  const waiterId = frameworkEnvironment.WAITER_STATE_MACHINE_ARN?.Ref;
  const definitionString = resources[waiterId]?.Properties?.DefinitionString;
  if (!definitionString) {
    throw new TemplateError(`Resources.${framework}: WAITER_STATE_MACHINE_ARN must be Ref <waiter state machine> with a DefinitionString`);
  }
  const definition = JSON.parse(String(input.resolve(definitionString, `Resources.${waiterId}.Properties.DefinitionString`)));
  const retry = definition.States?.['framework-isComplete-task']?.Retry?.[0];
  if (!(retry?.IntervalSeconds > 0) || !(retry?.MaxAttempts > 0)) {
    throw new TemplateError(`Resources.${waiterId}: the waiter has no retry policy (IntervalSeconds, MaxAttempts) on framework-isComplete-task`);
  }
  return {
    onEvent,
    isComplete,
    queryIntervalMs: retry.IntervalSeconds * 1000,
    totalTimeoutMs: retry.IntervalSeconds * retry.MaxAttempts * 1000,
  };
}

function getAttTarget(value: any): string | undefined {
  const argument = value?.['Fn::GetAtt'];
  if (Array.isArray(argument) && argument[1] === 'Arn') return argument[0];
  if (typeof argument === 'string' && argument.endsWith('.Arn')) return argument.slice(0, -'.Arn'.length);
  return undefined;
}

function describeFunction(input: DescribeProviderInput, functionId: string): HandlerRecord {
  const where = `Resources.${functionId}.Properties`;
  const properties = input.template.Resources[functionId].Properties ?? {};
  const bucket = input.resolve(properties.Code?.S3Bucket, `${where}.Code.S3Bucket`);
  const key = input.resolve(properties.Code?.S3Key, `${where}.Code.S3Key`);
  const asset = input.assets.find((a) => a.objectKey === key && a.bucketName === bucket);
  if (!asset || asset.packaging !== 'zip') {
    throw new TemplateError(`${where}.Code: no folder asset of the cloud assembly is published to s3://${bucket}/${key}`);
  }
  const handler = String(properties.Handler ?? '');
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) {
    throw new TemplateError(`${where}.Handler: expected "<file>.<export>", got ${JSON.stringify(properties.Handler)}`);
  }
  const environment = input.resolve(properties.Environment?.Variables ?? {}, `${where}.Environment.Variables`) as { [name: string]: unknown };
  return {
    handlerFile: path.join(input.state.storeCode(asset.id, asset.sourcePath), `${handler.slice(0, dot)}.js`),
    handlerExport: handler.slice(dot + 1),
    environment: Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, String(value)])),
  };
}

export interface CustomResourceHandlerOptions {
  /** The Proton endpoint the handler calls (AWS_ENDPOINT_URL_PROTON). */
  readonly endpoint: string;
  /** The state directory that handler files are relative to. */
  readonly stateDirectory: string;
  /** Overrides the provider's query interval (tests and the demo). */
  readonly pollIntervalMs?: number;
  /** Where the handler's console output goes (what Lambda sends to CloudWatch Logs); discarded when absent. */
  readonly logFile?: string;
  /**
   * Delivers every event twice, as CloudFormation and Lambda may (at-least-once delivery): the handler must answer the
   * second delivery with the same physical id, without a second Proton resource. For fault tests.
   */
  readonly redeliverEvents?: boolean;
}

type LambdaHandler = (event: any) => Promise<any>;

export class CustomResourceHandler implements ResourceHandler {
  /** Handler modules loaded by this engine run (fresh per run, so each run reads its own environment). */
  private readonly modules = new Map<string, any>();

  constructor(private readonly options: CustomResourceHandlerOptions) {}

  public replacementProperties(): string[] {
    // The handler decides: a new physical id from Update means replacement.
    return [];
  }

  public async create(request: ResourceRequest): Promise<ResourceResult> {
    return this.invoke('Create', request);
  }

  public async update(request: ResourceRequest): Promise<ResourceResult> {
    return this.invoke('Update', request);
  }

  public async delete(request: ResourceRequest): Promise<DeleteResult> {
    const result = await this.invoke('Delete', request);
    const notice = result.attributes.Notice;
    return typeof notice === 'string' ? { notice } : {};
  }

  private async invoke(requestType: 'Create' | 'Update' | 'Delete', request: ResourceRequest): Promise<ResourceResult> {
    const provider = request.provider;
    if (!provider) throw new Error(`${request.logicalId}: no provider recorded for ${request.type}`);
    const event = {
      RequestType: requestType,
      ServiceToken: String(request.properties.ServiceToken),
      ResponseURL: DUMMY_RESPONSE_URL,
      StackId: request.stackId,
      RequestId: request.requestId ?? randomUUID(),
      LogicalResourceId: request.logicalId,
      ...(requestType !== 'Create' ? { PhysicalResourceId: request.physicalId } : {}),
      ResourceType: request.type,
      ResourceProperties: stringifyProperties(request.properties),
      ...(requestType === 'Update' ? { OldResourceProperties: stringifyProperties(request.oldProperties ?? {}) } : {}),
    };
    const runtimeEnvironment = {
      AWS_ENDPOINT_URL_PROTON: this.options.endpoint,
      AWS_REGION: request.region,
      AWS_DEFAULT_REGION: request.region,
      // The stack's account as the access key id: proton-local takes a 12-digit access key id for the calling account
      // (src/local/server.ts accountOf), so stacks of two accounts are told apart (environment account connections).
      AWS_ACCESS_KEY_ID: accountOfStack(request.stackId) ?? 'proton-local',
      AWS_SECRET_ACCESS_KEY: 'proton-local',
      AWS_SESSION_TOKEN: 'proton-local',
      // The function runs on Lambda's Node 22; the SDK's warning about the local Node version is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const polling = provider.isComplete ? this.polling(provider) : undefined;
    const asLambda = (record: HandlerRecord): LambdaHandler => {
      const handler = this.load(record);
      // An overridden query interval shortens the handler's own polling within one invocation in proportion.
      const budget: { [name: string]: string } = this.options.pollIntervalMs !== undefined && record.environment.PROTON_POLL_BUDGET_MS !== undefined
        ? { PROTON_POLL_BUDGET_MS: String(Math.min(Number(record.environment.PROTON_POLL_BUDGET_MS), this.options.pollIntervalMs * 5)) } : {};
      const phase = record.environment.PROTON_HANDLER_PHASE ?? record.handlerExport;
      const invocation: Invocation = { stackName: request.stackName, logicalId: request.logicalId, resourceType: request.type, requestType, phase };
      return (payload) => asInvocation({ ...record.environment, ...budget, ...runtimeEnvironment }, this.logSink(`${request.logicalId} ${phase}`),
        invocation, () => handler(payload));
    };
    try {
      const run = () => runProvider(event, {
        onEvent: asLambda(provider.onEvent),
        ...(provider.isComplete
          ? { isComplete: asLambda(provider.isComplete), ...polling! }
          : { queryIntervalMs: 1, totalTimeoutMs: 0 }),
      });
      const result = await run();
      if (this.options.redeliverEvents) {
        const again = await run();
        if (again.PhysicalResourceId !== result.PhysicalResourceId) {
          throw new Error(`a re-delivered ${requestType} answered physical id ${again.PhysicalResourceId}, the first delivery ${result.PhysicalResourceId}`);
        }
        return { physicalId: again.PhysicalResourceId, attributes: again.Data ?? {} };
      }
      return { physicalId: result.PhysicalResourceId, attributes: result.Data ?? {} };
    } catch (error) {
      throw new ResourceOperationError((error as Error).message, error instanceof ProviderFailure ? error.physicalResourceId : undefined);
    }
  }

  /**
   * The provider's polling, or the override's interval with the provider's number of attempts: the timeout scales
   * with the interval, so a resource that never completes fails as soon, in attempts, as it would on AWS.
   */
  private polling(provider: ProviderRecord): { queryIntervalMs: number; totalTimeoutMs: number } {
    const interval = this.options.pollIntervalMs;
    if (interval === undefined) {
      return { queryIntervalMs: provider.queryIntervalMs, totalTimeoutMs: provider.totalTimeoutMs };
    }
    return { queryIntervalMs: interval, totalTimeoutMs: interval * Math.round(provider.totalTimeoutMs / provider.queryIntervalMs) };
  }

  private logSink(prefix: string): LogSink {
    const file = this.options.logFile;
    if (!file) return () => undefined;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return (line) => fs.appendFileSync(file, `${new Date().toISOString()} [${prefix}] ${line}\n`);
  }

  private load(record: HandlerRecord): LambdaHandler {
    const file = path.resolve(this.options.stateDirectory, record.handlerFile);
    if (!this.modules.has(file)) {
      // Loaded afresh for each engine run, with the running module system's own require: under a test runner the
      // handler then shares the runner's process.env, which withEnvironment sets.
      delete require.cache[file];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.modules.set(file, require(file));
    }
    const handler = this.modules.get(file)[record.handlerExport];
    if (typeof handler !== 'function') {
      throw new Error(`${record.handlerFile} does not export a function named ${record.handlerExport}`);
    }
    return handler;
  }
}

/** The account field of a CloudFormation stack ARN (`arn:aws:cloudformation:<region>:<account>:stack/...`). */
function accountOfStack(stackId: string): string | undefined {
  return /^arn:[^:]+:cloudformation:[^:]*:(\d{12}):/.exec(stackId)?.[1];
}

type LogSink = (line: string) => void;

/** Which handler invocation a piece of code runs for. */
export interface Invocation {
  readonly stackName: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  /** onEvent or isComplete. */
  readonly phase: string;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/** The log sink of the invocation a piece of code runs for, across its awaits. */
const currentSink = new AsyncLocalStorage<{ sink: LogSink; invocation: Invocation }>();

/** The handler invocation the calling code runs for (across its awaits), if any: lets benchmarks attribute requests. */
export function currentInvocation(): Invocation | undefined {
  return currentSink.getStore()?.invocation;
}

/** What the first of overlapping invocations replaced, restored when the last one ends. */
let invocations: { active: number; environment: { [name: string]: string | undefined }; console: ((...args: unknown[]) => void)[] } | undefined;

/**
 * Runs one call as a Lambda invocation sees the world: its environment variables set, its console output sent to its
 * log sink (not the command's own output); both restored when no invocation is running any more.
 *
 * Invocations overlap when the engine deletes independent resources concurrently, and process.env is shared: the
 * variables every call sets alike (endpoint, region, credentials) stay set until the last call ends, and the one that
 * differs between a provider's functions (PROTON_HANDLER_PHASE) is read by the handler as it starts, synchronously
 * after it is set. Console output is routed by AsyncLocalStorage to the sink of the call it comes from.
 */
async function asInvocation<T>(variables: { [name: string]: string }, sink: LogSink, invocation: Invocation, call: () => Promise<T>): Promise<T> {
  if (!invocations) {
    const saved = CONSOLE_METHODS.map((method) => console[method]);
    invocations = { active: 0, environment: {}, console: saved };
    CONSOLE_METHODS.forEach((method, i) => {
      console[method] = (...args: unknown[]) => {
        const target = currentSink.getStore()?.sink;
        if (target) target(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' '));
        else saved[i](...args);
      };
    });
  }
  const state = invocations;
  state.active++;
  for (const name of Object.keys(variables)) {
    if (!(name in state.environment)) state.environment[name] = process.env[name];
  }
  Object.assign(process.env, variables);
  try {
    return await currentSink.run({ sink, invocation }, call);
  } finally {
    if (--state.active === 0) {
      invocations = undefined;
      CONSOLE_METHODS.forEach((method, i) => { console[method] = state.console[i]; });
      for (const [name, value] of Object.entries(state.environment)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }
}
