/**
 * Contract shared by every proton-local operation module.
 *
 * The server (src/local/server.ts) decodes an awsJson1_0 request, validates its input against the
 * service model (src/local/model/), applies faults, then calls the operation handler registered under
 * the operation name. Handlers throw ProtonError subclasses for modelled errors and return the output
 * object; they never touch HTTP.
 *
 * Writing a module: export an OperationTable (and Settlers for async transitions) and list them in registry.ts.
 * Records live in ctx.state (state.ts: plain JSON, one map per resource family; times are epoch ms of ctx.clock;
 * return Dates in outputs, the server writes them as epoch seconds). Create maps keyed by client-chosen names with
 * nameMap() (no prototype, so `constructor` is a name like any other). For mutating operations ctx.state is
 * change-tracked (tracking.ts): mutate it in place as usual, never keep records across requests, and put no
 * bytes in it (ctx.storeBlob keeps them beside the state). Helpers: shared.ts (protonArn, paginate,
 * canonicalJson, toDate, replayClientToken/rememberClientToken), tags.ts (initTags at create, dropTags at delete,
 * so TagResource/ListTagsForResource know the ARN), templates.ts (template version lookups for deployments),
 * state.ts registerTemplateVersionUsageCheck (so in-use template versions can't be deleted).
 */
import type { Clock } from '../clock';
import type { EmulatorState, StateCollection } from './state';

/** Settings the operations read (durations are in milliseconds of the emulator's clock). */
export interface EmulatorSettings {
  readonly region: string;
  readonly accountId: string;
  readonly registrationDelayMs: number;
  readonly deploymentDelayMs: number;
  /** Resource names whose deployments fail on demand (environment, service, instance or component names). */
  readonly failDeploymentsFor: Set<string>;
  /**
   * End self-managed deployments after deploymentDelayMs as if provisioned, instead of waiting for
   * NotifyResourceDeploymentStatusChange as Proton does (for tests with no provisioning automation).
   */
  readonly autoCompleteSelfManaged?: boolean;
}

export interface OperationContext {
  readonly state: EmulatorState;
  readonly clock: Clock;
  readonly settings: EmulatorSettings;
  /** Reads an object stored by the S3 subset; undefined when absent. */
  getObject(bucket: string, key: string): Buffer | undefined;
  /** Keeps bytes in the blob store (beside the state file, never in it); returns their key, the SHA-256 in hex. */
  storeBlob(content: Buffer): string;
  /** Reads bytes kept with storeBlob; undefined when absent. */
  readBlob(key: string): Buffer | undefined;
}

/** Returns the output object, or a Promise of it (the server awaits it; mutate state only after the last await). */
export type OperationHandler = (ctx: OperationContext, input: any) => any;

/**
 * Applies the pending async transitions (registrations, deployments, deletions) of the records of one collection
 * whose completion time is at or before ctx.clock.now(). The server keeps a time-ordered queue of the records'
 * due times (agenda.ts) instead of scanning every record: `dueAt` tells when a record (re-examined after every
 * change to it) next needs `settle`, which gets the keys of the records that are due, in due order. The server
 * runs the settlers in registry order before each operation and before the state is read or saved, so handlers
 * always see settled records.
 */
export interface Settler {
  readonly collection: StateCollection;
  /** Epoch ms when the record has a transition due, 0 for "at the next settle", undefined when it has none. */
  dueAt(record: any): number | undefined;
  settle(ctx: OperationContext, keys: readonly string[]): void;
}

/** A module of operations, keyed by the Proton operation name (e.g. 'CreateEnvironment'). */
export type OperationTable = { [operation: string]: OperationHandler };

/** A modelled Proton error: serialised as {"__type": name, "message": message} with HTTP 400 (500 for server faults). */
export class ProtonError extends Error {
  constructor(public readonly code: string, message: string, public readonly httpStatus = 400) {
    super(message);
    this.name = code;
  }
}
export const validation = (message: string) => new ProtonError('ValidationException', message);
export const conflict = (message: string) => new ProtonError('ConflictException', message);
export const notFound = (message: string) => new ProtonError('ResourceNotFoundException', message);
export const quotaExceeded = (message: string) => new ProtonError('ServiceQuotaExceededException', message);
export const throttling = (message: string) => new ProtonError('ThrottlingException', message);
export const internal = (message: string) => new ProtonError('InternalServerException', message, 500);
