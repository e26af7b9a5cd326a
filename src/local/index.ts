/**
 * proton-local in process: `const local = await ProtonLocal.start(); ... local.endpoint ...; await local.stop();`.
 * Never exported from the library's index (it is a test and CLI tool).
 */
import { BlobStore, MemoryBlobStore } from './blobs';
import { Clock, systemClock } from './clock';
import { EmulatorState, emptyState } from './emulator/state';
import type { EmulatorSettings } from './emulator/types';
import { FaultOptions, Faults } from './faults';
import { referencedBlobs, StatePersistence, undoChanges } from './persistence';
import { RequestLog } from './request-log';
import { DEFAULT_MAX_OBJECT_BYTES, ProtonServer } from './server';
import type { ChangeTracker } from './tracking';

export { ManualClock, systemClock } from './clock';
export type { Clock } from './clock';
export type { FaultOptions, FaultRule } from './faults';
export { RequestLog } from './request-log';

export interface ProtonLocalOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /**
   * Persist the state to this file and reload it at start: a snapshot, with a journal (FILE.journal) that each
   * mutating request appends its changes to before it is answered, and object contents in FILE.blobs/
   * (see persistence.ts).
   */
  readonly stateFile?: string;
  /** The largest S3 object PutObject stores, in bytes (S3's EntityTooLarge above). Default 64 MiB. */
  readonly maxObjectBytes?: number;
  /** How long template version registration takes on the emulator clock. Default 1000. */
  readonly registrationDelayMs?: number;
  /** How long deployments take on the emulator clock. Default 2000. */
  readonly deploymentDelayMs?: number;
  readonly throttleRps?: number;
  readonly errorRate?: number;
  readonly dropRate?: number;
  readonly latencyMs?: number;
  readonly seed?: number;
  /** Default 123456789012. */
  readonly accountId?: string;
  /** Region of ARNs when a request carries no SigV4 credential scope. Default us-east-1. */
  readonly region?: string;
  /** The emulator's clock: a ManualClock in tests. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Self-managed provisioning (an environment with a provisioningRepository, the service instances on it, and their
   * services' pipelines when the account has a pipelineProvisioningRepository): end
   * its deployments and deletions after deploymentDelayMs as if the customer's automation had provisioned them.
   * Default false: like Proton, they stay IN_PROGRESS (DELETE_IN_PROGRESS) until NotifyResourceDeploymentStatusChange.
   */
  readonly autoCompleteSelfManaged?: boolean;
}

export const DEFAULT_REGISTRATION_DELAY_MS = 1000;
export const DEFAULT_DEPLOYMENT_DELAY_MS = 2000;

function checkOption(name: string, value: number | undefined, rule: (v: number) => boolean, allowed: string): void {
  if (value !== undefined && !rule(value)) {
    throw new Error(`Invalid ProtonLocal option ${name}: ${value}; expected ${allowed}`);
  }
}

/** In memory, unreferenced blobs are dropped after this many S3 mutations (on disk, compaction drops them). */
const MEMORY_BLOB_SWEEP_INTERVAL = 256;

export class ProtonLocal {
  static async start(options: ProtonLocalOptions = {}): Promise<ProtonLocal> {
    const isNonNegative = (v: number) => Number.isFinite(v) && v >= 0;
    checkOption('port', options.port, v => Number.isInteger(v) && v >= 0 && v <= 65535, 'an integer from 0 to 65535');
    checkOption('registrationDelayMs', options.registrationDelayMs, isNonNegative, 'a number >= 0');
    checkOption('deploymentDelayMs', options.deploymentDelayMs, isNonNegative, 'a number >= 0');
    checkOption('maxObjectBytes', options.maxObjectBytes, v => Number.isSafeInteger(v) && v > 0, 'a whole number of bytes > 0');
    if (options.accountId !== undefined && !/^\d{12}$/.test(options.accountId)) {
      throw new Error(`Invalid ProtonLocal option accountId: '${options.accountId}'; expected 12 digits`);
    }
    const local = new ProtonLocal(options);
    const address = await local.server.listen(options.host ?? '127.0.0.1', options.port ?? 0);
    local.endpoint = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    return local;
  }

  /** http://host:port: the endpoint of both the Proton API and the S3 subset. */
  endpoint = '';
  readonly requestLog = new RequestLog();
  readonly clock: Clock;
  /** What the operations read; failDeploymentsFor is the live set. */
  readonly settings: EmulatorSettings;
  private currentState: EmulatorState;
  private readonly faults: Faults;
  private readonly startFaults: FaultOptions;
  private readonly server: ProtonServer;
  private readonly persistence?: StatePersistence;
  private readonly blobs: BlobStore;
  private mutationsSinceSweep = 0;
  private stopped = false;

  private constructor(options: ProtonLocalOptions) {
    this.clock = options.clock ?? systemClock;
    this.settings = {
      region: options.region ?? 'us-east-1',
      accountId: options.accountId ?? '123456789012',
      registrationDelayMs: options.registrationDelayMs ?? DEFAULT_REGISTRATION_DELAY_MS,
      deploymentDelayMs: options.deploymentDelayMs ?? DEFAULT_DEPLOYMENT_DELAY_MS,
      failDeploymentsFor: new Set(),
      autoCompleteSelfManaged: options.autoCompleteSelfManaged ?? false,
    };
    this.startFaults = {
      throttleRps: options.throttleRps,
      errorRate: options.errorRate,
      dropRate: options.dropRate,
      latencyMs: options.latencyMs,
      seed: options.seed,
    };
    this.faults = new Faults(this.clock, this.startFaults);
    if (options.stateFile) {
      const loaded = StatePersistence.open(options.stateFile);
      this.currentState = loaded.state;
      this.persistence = loaded.persistence;
      this.blobs = loaded.blobs;
    } else {
      this.currentState = emptyState();
      this.blobs = new MemoryBlobStore();
    }
    this.server = new ProtonServer({
      clock: this.clock,
      settings: this.settings,
      faults: this.faults,
      requestLog: this.requestLog,
      blobs: this.blobs,
      maxObjectBytes: options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
      state: () => this.currentState,
      persist: tracker => this.persist(tracker),
      reset: () => this.reset(),
    });
  }

  /** The settled state (async transitions that are due applied): read it, don't change it. */
  get state(): EmulatorState {
    this.server.settle();
    return this.currentState;
  }

  /** Replaces every fault setting (setFaults({}) removes them all), globally or per operation. */
  setFaults(faults: FaultOptions): void {
    this.faults.set(faults);
  }

  /** Deployments of the named environment, service, service instance or component end FAILED. */
  failDeploymentsFor(resourceName: string): void {
    this.settings.failDeploymentsFor.add(resourceName);
  }

  /** Deployments of the named resource succeed again (a failure that was transient). */
  stopFailingDeploymentsFor(resourceName: string): void {
    this.settings.failDeploymentsFor.delete(resourceName);
  }

  /** Back to the state at start with no resources: empties the state, the request log, faults and failures. */
  reset(): void {
    this.currentState = emptyState();
    this.server.stateReplaced();
    this.requestLog.clear();
    this.faults.set(this.startFaults);
    this.settings.failDeploymentsFor.clear();
    this.persistence?.compact(this.currentState);
    this.blobs.retainOnly(new Set());
  }

  /** Stops serving; with a state file, writes the whole state as its snapshot (the journal then goes). */
  async stop(): Promise<void> {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    await this.server.close();
    if (this.persistence) {
      this.server.settle();
      this.persistence.close(this.currentState);
    }
  }

  /** Saves what the tracker saw changed (a journal entry); on failure puts the state back as it was and throws. */
  private persist(tracker: ChangeTracker): void {
    const changes = tracker.takeChanges();
    if (!this.persistence) {
      if (changes.some(change => change.path[0] === 's3') && ++this.mutationsSinceSweep >= MEMORY_BLOB_SWEEP_INTERVAL) {
        this.mutationsSinceSweep = 0;
        this.blobs.retainOnly(referencedBlobs(this.currentState));
      }
      return;
    }
    try {
      this.persistence.append(this.currentState, changes);
    } catch (error) {
      undoChanges(this.currentState, changes);
      throw error;
    }
  }
}
