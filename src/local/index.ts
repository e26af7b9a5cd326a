/**
 * proton-local in process: `const local = await ProtonLocal.start(); ... local.endpoint ...; await local.stop();`.
 * Never exported from the library's index (it is a test and CLI tool).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'fs';
import { dirname } from 'path';
import { Clock, systemClock } from './clock';
import { EmulatorState, emptyState, restoreState } from './emulator/state';
import type { EmulatorSettings } from './emulator/types';
import { FaultOptions, Faults } from './faults';
import { RequestLog } from './request-log';
import { ProtonServer } from './server';

export { ManualClock, systemClock } from './clock';
export type { Clock } from './clock';
export type { FaultOptions, FaultRule } from './faults';
export { RequestLog } from './request-log';

export interface ProtonLocalOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Persist the state to this file (atomic writes after each mutating request) and reload it at start. */
  readonly stateFile?: string;
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
}

export const DEFAULT_REGISTRATION_DELAY_MS = 1000;
export const DEFAULT_DEPLOYMENT_DELAY_MS = 2000;

function checkOption(name: string, value: number | undefined, rule: (v: number) => boolean, allowed: string): void {
  if (value !== undefined && !rule(value)) {
    throw new Error(`Invalid ProtonLocal option ${name}: ${value}; expected ${allowed}`);
  }
}

function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

function loadState(file: string | undefined): EmulatorState {
  if (!file || !existsSync(file)) {
    return emptyState();
  }
  try {
    return restoreState(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new Error(`Cannot load the proton-local state file ${file}: ${(error as Error).message}. ` +
      'Fix or delete it to start with an empty state.');
  }
}

export class ProtonLocal {
  static async start(options: ProtonLocalOptions = {}): Promise<ProtonLocal> {
    const isNonNegative = (v: number) => Number.isFinite(v) && v >= 0;
    checkOption('port', options.port, v => Number.isInteger(v) && v >= 0 && v <= 65535, 'an integer from 0 to 65535');
    checkOption('registrationDelayMs', options.registrationDelayMs, isNonNegative, 'a number >= 0');
    checkOption('deploymentDelayMs', options.deploymentDelayMs, isNonNegative, 'a number >= 0');
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

  private constructor(private readonly options: ProtonLocalOptions) {
    this.clock = options.clock ?? systemClock;
    this.settings = {
      region: options.region ?? 'us-east-1',
      accountId: options.accountId ?? '123456789012',
      registrationDelayMs: options.registrationDelayMs ?? DEFAULT_REGISTRATION_DELAY_MS,
      deploymentDelayMs: options.deploymentDelayMs ?? DEFAULT_DEPLOYMENT_DELAY_MS,
      failDeploymentsFor: new Set(),
    };
    this.startFaults = {
      throttleRps: options.throttleRps,
      errorRate: options.errorRate,
      dropRate: options.dropRate,
      latencyMs: options.latencyMs,
      seed: options.seed,
    };
    this.faults = new Faults(this.clock, this.startFaults);
    this.currentState = loadState(options.stateFile);
    this.server = new ProtonServer({
      clock: this.clock,
      settings: this.settings,
      faults: this.faults,
      requestLog: this.requestLog,
      state: () => this.currentState,
      saveState: () => this.saveState(),
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
    this.requestLog.clear();
    this.faults.set(this.startFaults);
    this.settings.failDeploymentsFor.clear();
    this.saveState();
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  private saveState(): void {
    if (this.options.stateFile) {
      writeAtomically(this.options.stateFile, JSON.stringify(this.currentState));
    }
  }
}
