/**
 * What CloudFormation remembers between deployments, kept in the state directory so that `deploy`, a later `deploy`
 * and `destroy` in other processes see the same stacks: each stack's resources with their physical ids, resolved
 * properties and attributes (a custom resource's Data), its outputs and exports, and the handler code its custom
 * resources ran (as Lambda keeps a function's code).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AssertionWaiter } from './assertions';

/** One Lambda function of a custom resource provider, as the engine runs it in process. */
export interface HandlerRecord {
  /** The handler file, relative to the state directory (its copy of the function's asset). */
  readonly handlerFile: string;
  /** The exported function name (from the Lambda `Handler`, e.g. `index.handler` -> `handler`). */
  readonly handlerExport: string;
  /** The function's `Environment.Variables`. */
  readonly environment: { [name: string]: string };
}

/** How the engine runs a custom resource's provider; persisted so deletes work without the original assembly. */
export interface ProviderRecord {
  readonly onEvent: HandlerRecord;
  /** Absent when the provider has no isComplete handler. */
  readonly isComplete?: HandlerRecord;
  /** From the waiter state machine's retry policy (queryInterval, and totalTimeout = interval x max attempts). */
  readonly queryIntervalMs: number;
  readonly totalTimeoutMs: number;
}

export interface ResourceRecord {
  readonly type: string;
  readonly physicalId: string;
  /** Resolved properties, as the template gave them (not yet stringified). */
  readonly properties: { [name: string]: unknown };
  /** Fn::GetAtt values: a custom resource's Data, a native template's Arn. */
  readonly attributes: { [name: string]: unknown };
  /** Logical ids this resource depends on (deleted after it). */
  readonly dependencies: string[];
  /** False for resource types the engine lists as skipped (their ids and attributes are made up). */
  readonly managed: boolean;
  readonly deletionPolicy?: string;
  readonly updateReplacePolicy?: string;
  /** The custom resource's provider (custom resources only). */
  readonly provider?: ProviderRecord;
  /** An integ-tests-alpha assertion's waitForAssertions() retry policy. */
  readonly waiter?: AssertionWaiter;
}

export type StackStatus = 'CREATE_COMPLETE' | 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED' | 'DELETE_FAILED'
  | 'CREATE_IN_PROGRESS' | 'UPDATE_IN_PROGRESS' | 'DELETE_IN_PROGRESS';

/** A resource to delete once the deployment succeeds: the old side of a replacement, or one removed from the template. */
export interface CleanupItem {
  readonly logicalId: string;
  readonly record: ResourceRecord;
  readonly reason: 'replaced' | 'removed';
}

/** The operation a run had started when it was written down: a run interrupted there repeats its RequestId. */
export interface PendingOperation {
  readonly logicalId: string;
  readonly action: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly requestId: string;
}

export interface StackRecord {
  readonly stackName: string;
  readonly stackId: string;
  readonly account: string;
  readonly region: string;
  readonly status: StackStatus;
  readonly resources: { [logicalId: string]: ResourceRecord };
  readonly outputs: { [name: string]: unknown };
  readonly exports: { [exportName: string]: unknown };
  /** Export names this stack imports (another stack's exports it needs). */
  readonly imports: string[];
  /** Stack names this stack depends on (destroyed after it). */
  readonly dependencies: string[];
  /**
   * Written while a deployment runs (status *_IN_PROGRESS, after every resource operation): what a later run must still
   * clean up, and the operation that was under way. A run killed midway thus loses nothing it created.
   */
  readonly pendingCleanup?: CleanupItem[];
  readonly pending?: PendingOperation;
}

export interface WorldRecord {
  readonly stacks: { [stackName: string]: StackRecord };
}

/** Where handler code is kept, under the state directory. */
const CODE_FOLDER = 'code';

export class DeployState {
  /** The file that holds the stacks; the emulator's own state sits beside it in `proton-local.json`. */
  public readonly stacksFile: string;
  public readonly emulatorStateFile: string;
  /** The custom-resource handler's console output (what Lambda would send to CloudWatch Logs). */
  public readonly handlerLogFile: string;
  private world: WorldRecord;

  constructor(public readonly directory: string) {
    this.stacksFile = path.join(directory, 'stacks.json');
    this.emulatorStateFile = path.join(directory, 'proton-local.json');
    this.handlerLogFile = path.join(directory, 'logs', 'handler.log');
    this.world = fs.existsSync(this.stacksFile) ? JSON.parse(fs.readFileSync(this.stacksFile, 'utf-8')) : { stacks: {} };
  }

  public get stacks(): { [stackName: string]: StackRecord } {
    return this.world.stacks;
  }

  public stack(stackName: string): StackRecord | undefined {
    return this.world.stacks[stackName];
  }

  /** Records a stack (or removes it, given undefined) and writes the file atomically. */
  public putStack(stackName: string, record: StackRecord | undefined): void {
    const stacks = { ...this.world.stacks };
    if (record) {
      stacks[stackName] = record;
    } else {
      delete stacks[stackName];
    }
    this.world = { stacks };
    fs.mkdirSync(this.directory, { recursive: true });
    const temporary = `${this.stacksFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(this.world, undefined, 2));
    fs.renameSync(temporary, this.stacksFile);
  }

  /** Value of an export of any deployed stack, or undefined. */
  public exportValue(exportName: string): unknown {
    for (const stack of Object.values(this.world.stacks)) {
      if (exportName in stack.exports) return stack.exports[exportName];
    }
    return undefined;
  }

  /** Removes everything this class and the embedded proton-local keep in the directory (the demo starts afresh). */
  public clear(): void {
    const emulatorFiles = [this.emulatorStateFile, `${this.emulatorStateFile}.journal`, `${this.emulatorStateFile}.blobs`];
    for (const file of [this.stacksFile, ...emulatorFiles, path.dirname(this.handlerLogFile), path.join(this.directory, CODE_FOLDER)]) {
      fs.rmSync(file, { recursive: true, force: true });
    }
    this.world = { stacks: {} };
  }

  /**
   * Copies an asset folder holding handler code into the state directory (once per asset hash), as Lambda keeps a
   * function's code: later deletes and rollbacks run it even when the assembly is gone. Returns the copy's path
   * relative to the state directory.
   */
  public storeCode(assetId: string, sourceDirectory: string): string {
    const relative = path.join(CODE_FOLDER, assetId);
    const target = path.join(this.directory, relative);
    if (!fs.existsSync(target)) {
      const temporary = `${target}.${process.pid}.tmp`;
      fs.cpSync(sourceDirectory, temporary, { recursive: true });
      fs.renameSync(temporary, target);
    }
    return relative;
  }
}
