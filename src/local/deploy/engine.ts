/**
 * The local CloudFormation engine: deploys a cloud assembly's stacks against proton-local with CloudFormation's
 * semantics for the resources that matter to Proton (the Proton custom resources), and lists every other resource as
 * skipped.
 *
 * integ-tests-alpha assertions (`Custom::DeployAssert@...`) run where proton-local can answer them (a Proton
 * AwsApiCall, an AssertEquals) and are NOT_RUN otherwise, never passed (assertions.ts); each stack's outcome lists
 * their verdicts.
 *
 * Stack state is written after every resource operation, so a run that is killed midway loses nothing: the next run
 * says so, repeats the interrupted operation with the same RequestId (the same client tokens), and carries on from
 * there (forward, as `continue-update-rollback` would not: nothing the interrupted run did is undone).
 *
 * Per stack: resources in dependency order (Ref, Fn::GetAtt, Fn::Sub, DependsOn), one at a time (deletions, including
 * those of cleanup, rollback and destroy, run concurrently where independent, as in CloudFormation); no event when a
 * resource's properties did not change; replacement when a createOnly property changes or a custom resource returns a
 * new physical id, the old resource deleted in the cleanup phase after everything else succeeded (with the resources
 * removed from the template, in reverse dependency order); on failure, rollback (updated resources get their old
 * properties back, created ones and the new side of replacements are deleted, in reverse order). Destroy deletes in
 * reverse dependency order. DeletionPolicy and UpdateReplacePolicy Retain are honoured.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { isDeepStrictEqual } from 'util';
import type { AssemblyAsset, AssemblyStack, CloudAssembly } from './assembly';
import {
  AssertionHandler, AssertionOutcome, AssertionWaiter, ReadResource, assertionOutcome, isAssertionResource, notRunAttributes,
  whyAssertionCannotRun,
} from './assertions';
import { CustomResourceHandler, describeProvider, isProtonCustomResource } from './custom-resources';
import {
  ResolveContext, SUPPORTED_INTRINSICS, TemplateError, evaluateCondition, referencedNames, resolveValue,
} from './intrinsics';
import type { ProtonApiClient } from './proton-client';
import type { DeleteResult, ResourceHandler, ResourceRequest, ResourceResult } from './resource-handler';
import { ResourceOperationError } from './resource-handler';
import { skippedIdentity } from './skipped-resources';
import type { CleanupItem, DeployState, PendingOperation, ProviderRecord, ResourceRecord, StackRecord } from './state';

/** ASSERT: the verdict of an integ-tests-alpha assertion, after its resource's CREATE or UPDATE (or instead of it: NOT_RUN). */
export type ResourceAction = 'CREATE' | 'UPDATE' | 'DELETE' | 'SKIP' | 'ASSERT';
/** PASSED, FAILED and NOT_RUN are ASSERT verdicts; NOT_RUN is an assertion the engine could not run. */
export type EventStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'SKIPPED' | 'RETAINED' | 'PASSED' | 'NOT_RUN';
/** deploy: the forward pass; cleanup: deleting replaced and removed resources; rollback: undoing a failed deployment. */
export type EventPhase = 'deploy' | 'cleanup' | 'rollback' | 'destroy';

export interface DeployEvent {
  readonly stack: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly action: ResourceAction;
  readonly status: EventStatus;
  readonly phase: EventPhase;
  /** Time the resource operation took so far. */
  readonly elapsedMs: number;
  readonly physicalId?: string;
  readonly reason?: string;
}

export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentError';
  }
}

export interface EngineOptions {
  readonly state: DeployState;
  readonly client: ProtonApiClient;
  /** proton-local's endpoint: the Proton API the handler calls and the S3 subset assets are uploaded to. */
  readonly endpoint: string;
  /** Overrides every provider's query interval (for tests and the demo). */
  readonly pollIntervalMs?: number;
  readonly onEvent?: (event: DeployEvent) => void;
  /** Delivers every custom resource event twice (at-least-once delivery), for fault tests. */
  readonly redeliverEvents?: boolean;
}

export interface StackOutcome {
  readonly stackName: string;
  readonly status: string;
  /** Cleanup failures: CloudFormation completes the update anyway and leaves the old resource behind. */
  readonly warnings: string[];
  /** The verdicts of the stack's integ-tests-alpha assertions (absent when it has none). */
  readonly assertions?: AssertionOutcome[];
}

interface JournalEntry {
  readonly kind: 'created' | 'updated' | 'replaced';
  readonly logicalId: string;
  readonly record: ResourceRecord;
  readonly old?: ResourceRecord;
}

/** An operation that failed; what rollback needs to undo it too. */
interface FailedOperation {
  readonly logicalId: string;
  readonly action: 'CREATE' | 'UPDATE';
  readonly record: ResourceRecord;
  readonly old?: ResourceRecord;
  readonly physicalId?: string;
}

class StackFailure extends Error {
  constructor(message: string, readonly failed?: FailedOperation) {
    super(message);
  }
}

export class DeployEngine {
  private readonly handlers: { custom: CustomResourceHandler; assertions: AssertionHandler };

  constructor(private readonly options: EngineOptions) {
    this.handlers = {
      custom: new CustomResourceHandler({
        endpoint: options.endpoint,
        stateDirectory: options.state.directory,
        pollIntervalMs: options.pollIntervalMs,
        logFile: options.state.handlerLogFile,
        redeliverEvents: options.redeliverEvents,
      }),
      assertions: new AssertionHandler({ client: options.client, pollIntervalMs: options.pollIntervalMs }),
    };
  }

  /** Uploads the assets, then deploys every stack in dependency order; stops at the first stack that fails. */
  public async deploy(assembly: CloudAssembly): Promise<StackOutcome[]> {
    const outcomes: StackOutcome[] = [];
    for (const stack of assembly.stacks) {
      await this.uploadAssets(stack.assets);
      outcomes.push(await this.deployStack(stack));
    }
    return outcomes;
  }

  /** Destroys the named stacks (default: every deployed stack), dependents first. */
  public async destroy(stackNames?: string[]): Promise<StackOutcome[]> {
    const stacks = this.options.state.stacks;
    const selected = new Set(stackNames ?? Object.keys(stacks));
    const order = topologicalOrder([...selected].filter((name) => stacks[name]), (name) => stacks[name].dependencies).reverse();
    const outcomes: StackOutcome[] = [];
    for (const name of order) {
      outcomes.push(await this.destroyStack(stacks[name], selected));
    }
    return outcomes;
  }

  /** Publishes the file assets as the CDK CLI does: creates missing buckets, uploads objects that are not there yet. */
  private async uploadAssets(assets: AssemblyAsset[]): Promise<void> {
    const base = this.options.endpoint.replace(/\/+$/, '');
    const request = async (method: string, bucket: string, key?: string, body?: Buffer) => {
      const url = `${base}/${encodeURIComponent(bucket)}${key === undefined ? '' : '/' + key.split('/').map(encodeURIComponent).join('/')}`;
      const response = await fetch(url, { method, body });
      await response.arrayBuffer();
      return response.status;
    };
    const files = assets.filter((a) => a.packaging === 'file');
    for (const bucket of new Set(files.map((a) => a.bucketName))) {
      if (await request('HEAD', bucket) === 404) {
        const status = await request('PUT', bucket);
        if (status >= 300) throw new DeploymentError(`Cannot create the asset bucket ${bucket}: HTTP ${status}`);
      }
    }
    for (const asset of files) {
      if (await request('HEAD', asset.bucketName, asset.objectKey) === 200) continue;
      const status = await request('PUT', asset.bucketName, asset.objectKey, fs.readFileSync(asset.sourcePath));
      if (status >= 300) throw new DeploymentError(`Cannot upload asset ${asset.id} to s3://${asset.bucketName}/${asset.objectKey}: HTTP ${status}`);
    }
  }

  private emit(event: DeployEvent): void {
    this.options.onEvent?.(event);
  }

  private handlerFor(type: string): ResourceHandler | undefined {
    if (isProtonCustomResource(type)) return this.handlers.custom;
    if (isAssertionResource(type)) return this.handlers.assertions;
    return undefined;
  }

  /** Runs one resource operation with its IN_PROGRESS and COMPLETE / FAILED events. */
  private async run(
    stack: { stackName: string; stackId: string; region: string }, phase: EventPhase, action: 'CREATE' | 'UPDATE' | 'DELETE',
    logicalId: string, record: ResourceRecord,
    extra: { physicalId?: string; oldProperties?: ResourceRecord['properties']; requestId?: string; notices?: string[] } = {},
  ): Promise<ResourceResult | undefined> {
    const handler = this.handlerFor(record.type)!;
    const started = Date.now();
    const base = { stack: stack.stackName, logicalId, resourceType: record.type, action, phase };
    this.emit({ ...base, status: 'IN_PROGRESS', elapsedMs: 0, physicalId: extra.physicalId });
    const request: ResourceRequest = {
      stackName: stack.stackName,
      stackId: stack.stackId,
      region: stack.region,
      logicalId,
      type: record.type,
      properties: record.properties,
      physicalId: extra.physicalId,
      oldProperties: extra.oldProperties,
      provider: record.provider,
      requestId: extra.requestId,
      waiter: record.waiter,
    };
    try {
      let deleted: DeleteResult | undefined;
      const result = action === 'CREATE' ? await handler.create(request)
        : action === 'UPDATE' ? await handler.update(request)
          : (deleted = await handler.delete(request), undefined);
      if (deleted?.notice) extra.notices?.push(`${stack.stackName} ${logicalId}: ${deleted.notice}`);
      this.emit({
        ...base, status: 'COMPLETE', elapsedMs: Date.now() - started, physicalId: result?.physicalId ?? extra.physicalId, reason: deleted?.notice,
      });
      return result;
    } catch (error) {
      const reason = (error as Error).message;
      this.emit({ ...base, status: 'FAILED', elapsedMs: Date.now() - started, physicalId: extra.physicalId, reason });
      throw error;
    }
  }

  private async deployStack(stack: AssemblyStack): Promise<StackOutcome> {
    const state = this.options.state;
    const previous = state.stack(stack.stackName);
    const stackId = previous?.stackId
      ?? `arn:aws:cloudformation:${stack.region}:${stack.account}:stack/${stack.stackName}/${randomUUID()}`;
    const identity = { stackName: stack.stackName, stackId, region: stack.region };
    const template = stack.template ?? {};
    const records: { [logicalId: string]: ResourceRecord } = {};
    const imports = new Set<string>();
    const context = this.resolveContext(stack, stackId, template, records, imports);
    const { dependencies, order } = this.validateTemplate(stack.stackName, template, context);
    const providers = new Map<string, ProviderRecord>();

    const journal: JournalEntry[] = [];
    let outputs: ReturnType<typeof resolveOutputs>;
    const warnings: string[] = [];
    const interrupted = previous?.status.endsWith('_IN_PROGRESS') ? previous : undefined;
    if (interrupted) {
      warnings.push(`A previous run was interrupted while ${interrupted.status} (at ${interrupted.pending
        ? `${interrupted.pending.logicalId} ${interrupted.pending.action}` : 'a checkpoint'}): this run continues from there`);
      this.emit({
        stack: stack.stackName,
        logicalId: interrupted.pending?.logicalId ?? stack.stackName,
        resourceType: 'AWS::CloudFormation::Stack',
        action: 'UPDATE',
        status: 'IN_PROGRESS',
        phase: 'deploy',
        elapsedMs: 0,
        reason: warnings[0],
      });
    }
    // The cleanup an interrupted run had not done yet is still to do.
    const cleanup: CleanupItem[] = [...interrupted?.pendingCleanup ?? []];
    /** Writes what has been done so far, and the operation about to start, before and after every operation. */
    const checkpoint = (pending?: PendingOperation) => state.putStack(stack.stackName, {
      ...(previous ?? emptyStack(stack, stackId)),
      status: previous && previous.status !== 'CREATE_IN_PROGRESS' ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS',
      resources: { ...previous?.resources, ...records },
      pendingCleanup: [...cleanup],
      pending,
    });
    /** The RequestId of an operation: the interrupted run's, when it was this very operation. */
    const requestIdFor = (logicalId: string, action: PendingOperation['action']) =>
      interrupted?.pending?.logicalId === logicalId && interrupted.pending.action === action ? interrupted.pending.requestId : randomUUID();
    const attempt = async (action: 'CREATE' | 'UPDATE', logicalId: string, desired: ResourceRecord, old?: ResourceRecord) => {
      const requestId = requestIdFor(logicalId, action);
      checkpoint({ logicalId, action, requestId });
      const result = await this.attempt(identity, action, logicalId, desired, old, requestId);
      const verdict = assertionOutcome(logicalId, desired.type, result.attributes);
      if (verdict) {
        this.emit({
          stack: stack.stackName,
          logicalId,
          resourceType: desired.type,
          action: 'ASSERT',
          status: verdict.status,
          phase: 'deploy',
          elapsedMs: 0,
          physicalId: result.physicalId,
          reason: verdict.message,
        });
      }
      return result;
    };
    try {
      for (const logicalId of order) {
        const definition = template.Resources[logicalId];
        const type: string = definition.Type;
        const old = previous?.resources[logicalId];
        const handler = this.handlerFor(type);
        const policies = { deletionPolicy: definition.DeletionPolicy, updateReplacePolicy: definition.UpdateReplacePolicy };
        if (!handler) {
          const made = skippedIdentity(type, logicalId, stack.stackName, stack.account, stack.region);
          records[logicalId] = {
            type,
            physicalId: made.physicalId,
            attributes: { Arn: made.arn },
            properties: {},
            dependencies: dependencies[logicalId],
            managed: false,
            ...policies,
          };
          if (!old || old.type !== type) {
            this.emit({ stack: stack.stackName, logicalId, resourceType: type, action: 'SKIP', status: 'SKIPPED', phase: 'deploy', elapsedMs: 0 });
          }
          if (old?.managed) cleanup.push({ logicalId, record: old, reason: 'replaced' });
          continue;
        }
        const where = `Resources.${logicalId}.Properties`;
        const properties = resolveValue(definition.Properties ?? {}, context, where) as { [name: string]: unknown };
        let waiter: AssertionWaiter | undefined;
        if (handler === this.handlers.assertions) {
          const others = Object.values(state.stacks).filter((s) => s.stackName !== stack.stackName);
          const notRun = whyAssertionCannotRun(type, properties, assertionReads(definition, properties, records, others));
          if (notRun) {
            // Listed, with a made-up identity as skipped resources have, and an `assertion` attribute that says so.
            records[logicalId] = {
              type,
              physicalId: logicalId,
              attributes: notRunAttributes(notRun),
              properties: {},
              dependencies: dependencies[logicalId],
              managed: false,
              ...policies,
            };
            this.emit({
              stack: stack.stackName, logicalId, resourceType: type, action: 'ASSERT', status: 'NOT_RUN', phase: 'deploy', elapsedMs: 0, reason: notRun,
            });
            if (old?.managed) cleanup.push({ logicalId, record: old, reason: 'replaced' });
            continue;
          }
          waiter = assertionWaiter(template, definition, (value, at) => resolveValue(value, context, at));
        }
        let provider: ProviderRecord | undefined;
        if (handler === this.handlers.custom) {
          provider = describeProvider({
            template, logicalId, assets: stack.assets, state, resolve: (value, at) => resolveValue(value, context, at),
          });
          providers.set(String(properties.ServiceToken), provider);
        }
        const desired: ResourceRecord = {
          type, physicalId: '', properties, attributes: {}, dependencies: dependencies[logicalId], managed: true, provider, waiter, ...policies,
        };
        const withResult = (result: ResourceResult): ResourceRecord => ({ ...desired, physicalId: result.physicalId, attributes: result.attributes });

        if (old && old.managed && old.type === type) {
          if (isDeepStrictEqual(old.properties, properties)) {
            records[logicalId] = { ...desired, physicalId: old.physicalId, attributes: old.attributes };
            continue;
          }
          const replacing = handler.replacementProperties(type, old.properties, properties);
          if (replacing.length) {
            if (properties.Name !== undefined && properties.Name === old.properties.Name) {
              throw new StackFailure(`${logicalId}: CloudFormation cannot update a stack when a custom-named resource requires replacing ` +
                `(changed: ${replacing.join(', ')}). Rename ${properties.Name} and update the stack again.`);
            }
            const result = await attempt('CREATE', logicalId, desired, old);
            records[logicalId] = withResult(result);
            journal.push({ kind: 'replaced', logicalId, record: records[logicalId], old });
            cleanup.push({ logicalId, record: old, reason: 'replaced' });
          } else {
            const result = await attempt('UPDATE', logicalId, desired, old);
            records[logicalId] = withResult(result);
            const replaced = result.physicalId !== old.physicalId;
            journal.push({ kind: replaced ? 'replaced' : 'updated', logicalId, record: records[logicalId], old });
            if (replaced) cleanup.push({ logicalId, record: old, reason: 'replaced' });
          }
        } else {
          const result = await attempt('CREATE', logicalId, desired);
          records[logicalId] = withResult(result);
          journal.push({ kind: 'created', logicalId, record: records[logicalId] });
          if (old?.managed) cleanup.push({ logicalId, record: old, reason: 'replaced' });
        }
        checkpoint();
      }
      outputs = resolveOutputs(template, context);
      this.checkExportsInUse(stack.stackName, previous, outputs.exports);
    } catch (error) {
      const failure = error instanceof StackFailure ? error : new StackFailure((error as Error).message);
      const rollback = await this.rollback(identity, journal, failure.failed, providers, warnings);
      const rollbackErrors = rollback.errors;
      const status = rollbackErrors.length ? 'UPDATE_ROLLBACK_FAILED' : 'UPDATE_ROLLBACK_COMPLETE';
      // What exists now: the stack as it was, with what the rollback could not undo recorded as it is.
      const resources: { [logicalId: string]: ResourceRecord } = { ...previous?.resources };
      const orphans: CleanupItem[] = [...cleanup.filter((item) => item.reason === 'replaced' && !journal.some((e) => e.logicalId === item.logicalId))];
      for (const left of rollback.notUndone) {
        if (left.kind === 'replaced') orphans.push({ logicalId: left.logicalId, record: left.record, reason: 'replaced' });
        else resources[left.logicalId] = left.record;
      }
      const rolledBackRecord: StackRecord = {
        ...(previous ?? emptyStack(stack, stackId)), status, resources, pendingCleanup: orphans.length ? orphans : undefined, pending: undefined,
      };
      if (previous && previous.status !== 'CREATE_IN_PROGRESS') {
        state.putStack(stack.stackName, rolledBackRecord);
      } else if (Object.keys(resources).length > 0 || orphans.length > 0) {
        // Keep what could not be rolled back, so that a later deploy or destroy retries it.
        state.putStack(stack.stackName, rolledBackRecord);
      } else {
        state.putStack(stack.stackName, undefined);
      }
      const rollbackNote = rollbackErrors.length ? ` Rollback failed too: ${rollbackErrors.join('; ')}` : ' Rolled back.';
      throw new DeploymentError(`Stack ${stack.stackName} failed: ${failure.message.replace(/\.$/, '')}.${rollbackNote}`);
    }

    for (const removed of Object.keys(previous?.resources ?? {}).filter((id) => !records[id])) {
      cleanup.push({ logicalId: removed, record: previous!.resources[removed], reason: 'removed' });
    }
    warnings.push(...await this.cleanup(identity, cleanup, providers));
    const record: StackRecord = {
      ...emptyStack(stack, stackId),
      status: previous && previous.status !== 'CREATE_IN_PROGRESS' ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE',
      resources: records,
      outputs: outputs.outputs,
      exports: outputs.exports,
      imports: [...imports],
    };
    state.putStack(stack.stackName, record);
    const assertions = Object.entries(records).flatMap(([logicalId, r]) => {
      const verdict = isAssertionResource(r.type) ? assertionOutcome(logicalId, r.type, r.attributes) : undefined;
      return verdict ? [verdict] : [];
    });
    return { stackName: stack.stackName, status: record.status, warnings, ...(assertions.length ? { assertions } : {}) };
  }

  /** What CloudFormation checks before touching a stack: conditions, references, supported intrinsics, no cycle. */
  private validateTemplate(stackName: string, template: any, context: ResolveContext) {
    try {
      const active = Object.keys(template.Resources ?? {}).filter((id) => {
        const condition = template.Resources[id].Condition;
        return condition === undefined || context.condition(condition, `Resources.${id}.Condition`);
      });
      const dependencies = dependencyGraph(template, active);
      checkIntrinsics(template, active, (type) => this.handlerFor(type) !== undefined);
      return { dependencies, order: topologicalOrder(active, (id) => dependencies[id]) };
    } catch (error) {
      throw new DeploymentError(`Stack ${stackName} failed template validation (nothing was deployed): ${(error as Error).message}`);
    }
  }

  /** Runs a create or update; on failure, tells rollback what to undo for this resource. */
  private async attempt(
    identity: { stackName: string; stackId: string; region: string }, action: 'CREATE' | 'UPDATE',
    logicalId: string, desired: ResourceRecord, old: ResourceRecord | undefined, requestId: string,
  ): Promise<ResourceResult> {
    try {
      return (await this.run(identity, 'deploy', action, logicalId, desired,
        action === 'UPDATE' ? { physicalId: old!.physicalId, oldProperties: old!.properties, requestId } : { requestId }))!;
    } catch (error) {
      const physicalId = error instanceof ResourceOperationError ? error.physicalId : undefined;
      throw new StackFailure(`${logicalId} (${desired.type}) ${action} failed: ${(error as Error).message}`,
        { logicalId, action, record: desired, old, physicalId });
    }
  }

  /** Undoes a failed deployment, newest first; returns the errors of the steps that failed. */
  private async rollback(
    identity: { stackName: string; stackId: string; region: string }, journal: JournalEntry[], failed: FailedOperation | undefined,
    providers: Map<string, ProviderRecord>, notices: string[],
  ): Promise<{ errors: string[]; notUndone: JournalEntry[] }> {
    // Each undo step by logical id; the failed operation's own undo first comes with it.
    const steps = new Map<string, { dependencies: string[]; undo: () => Promise<unknown>; entry?: JournalEntry }>();
    const deleteStep = (logicalId: string, record: ResourceRecord) => () => record.deletionPolicy === 'Retain'
      ? Promise.resolve(this.retained(identity.stackName, logicalId, record, 'rollback'))
      : this.run(identity, 'rollback', 'DELETE', logicalId, withProvider(record, providers), { physicalId: record.physicalId, notices });
    const revertStep = (logicalId: string, current: ResourceRecord, old: ResourceRecord) => () =>
      this.run(identity, 'rollback', 'UPDATE', logicalId, withProvider(old, providers),
        { physicalId: old.physicalId, oldProperties: current.properties });
    if (failed?.action === 'UPDATE' && (failed.physicalId === undefined || failed.physicalId === failed.old!.physicalId)) {
      steps.set(failed.logicalId, { dependencies: failed.record.dependencies, undo: revertStep(failed.logicalId, failed.record, failed.old!) });
    } else if (failed?.physicalId) {
      // A create, or an update that made a new resource, got an id before failing: CloudFormation deletes that one.
      const record = { ...failed.record, physicalId: failed.physicalId };
      steps.set(failed.logicalId, {
        dependencies: failed.record.dependencies,
        undo: deleteStep(failed.logicalId, record),
        entry: { kind: failed.action === 'CREATE' && !failed.old ? 'created' : 'replaced', logicalId: failed.logicalId, record, old: failed.old },
      });
    }
    for (const entry of journal) {
      steps.set(entry.logicalId, {
        dependencies: entry.record.dependencies,
        undo: entry.kind === 'updated' ? revertStep(entry.logicalId, entry.record, entry.old!) : deleteStep(entry.logicalId, entry.record),
        entry,
      });
    }
    // Dependents are undone first, independent resources concurrently; every step is tried, failures are collected,
    // with what each failed step leaves in place (recorded so that a later deploy or destroy sees it as it is).
    const errors: string[] = [];
    const notUndone: JournalEntry[] = [];
    await deleteInReverseDependencyOrder([...steps.keys()], (id) => steps.get(id)!.dependencies, async (logicalId) => {
      try {
        await steps.get(logicalId)!.undo();
      } catch (error) {
        errors.push((error as Error).message);
        const entry = steps.get(logicalId)!.entry;
        if (entry) notUndone.push(entry);
      }
    });
    return { errors, notUndone };
  }

  /** Deletes replaced and removed resources, dependents first; failures are warnings, as in CloudFormation. */
  private async cleanup(
    identity: { stackName: string; stackId: string; region: string },
    items: CleanupItem[], providers: Map<string, ProviderRecord>,
  ): Promise<string[]> {
    const byId = new Map(items.filter((i) => i.record.managed).map((i) => [i.logicalId, i]));
    const warnings: string[] = [];
    await deleteInReverseDependencyOrder([...byId.keys()], (id) => byId.get(id)!.record.dependencies, async (logicalId) => {
      const { record, reason } = byId.get(logicalId)!;
      const policy = reason === 'replaced' ? record.updateReplacePolicy : record.deletionPolicy;
      if (policy === 'Retain') {
        this.retained(identity.stackName, logicalId, record, 'cleanup');
        return;
      }
      try {
        await this.run(identity, 'cleanup', 'DELETE', logicalId, withProvider(record, providers), { physicalId: record.physicalId, notices: warnings });
      } catch (error) {
        warnings.push(`${logicalId} (${record.physicalId}) was not deleted: ${(error as Error).message}`);
      }
    });
    return warnings;
  }

  /** CloudFormation refuses to change or remove an export that another stack imports. */
  private checkExportsInUse(stackName: string, previous: StackRecord | undefined, exports: { [name: string]: unknown }): void {
    for (const [name, value] of Object.entries(previous?.exports ?? {})) {
      if (name in exports && isDeepStrictEqual(exports[name], value)) continue;
      const importer = Object.values(this.options.state.stacks).find((s) => s.stackName !== stackName && s.imports.includes(name));
      if (importer) {
        throw new StackFailure(`Cannot ${name in exports ? 'update' : 'delete'} export ${name} as it is in use by ${importer.stackName}`);
      }
    }
  }

  private retained(stackName: string, logicalId: string, record: ResourceRecord, phase: EventPhase): void {
    this.emit({
      stack: stackName, logicalId, resourceType: record.type, action: 'DELETE', status: 'RETAINED', phase, elapsedMs: 0, physicalId: record.physicalId,
    });
  }

  private async destroyStack(stack: StackRecord, destroying: Set<string>): Promise<StackOutcome> {
    const state = this.options.state;
    for (const other of Object.values(state.stacks)) {
      if (destroying.has(other.stackName)) continue;
      const used = other.imports.filter((name) => name in stack.exports);
      if (used.length) {
        throw new DeploymentError(`Stack ${stack.stackName} cannot be destroyed: export ${used.join(', ')} is in use by stack ${other.stackName}`);
      }
    }
    const identity = { stackName: stack.stackName, stackId: stack.stackId, region: stack.region };
    const warnings: string[] = [];
    // A deployment that was interrupted or left cleanup undone: those resources exist too.
    const remaining: { [logicalId: string]: ResourceRecord } = { ...stack.resources };
    for (const item of stack.pendingCleanup ?? []) {
      if (remaining[item.logicalId]?.physicalId !== item.record.physicalId) remaining[`${item.logicalId}#${item.record.physicalId}`] = item.record;
    }
    try {
      const records = { ...remaining };
      await deleteInReverseDependencyOrder(Object.keys(remaining), (id) => records[id].dependencies, async (logicalId) => {
        const record = remaining[logicalId];
        if (record.managed && record.deletionPolicy === 'Retain') {
          this.retained(stack.stackName, logicalId, record, 'destroy');
        } else if (record.managed) {
          try {
            await this.run(identity, 'destroy', 'DELETE', logicalId, record, { physicalId: record.physicalId, notices: warnings });
          } catch (error) {
            throw new DeploymentError(`Stack ${stack.stackName} could not be destroyed: ${logicalId} (${record.type}) DELETE failed: ${(error as Error).message}`);
          }
        }
        delete remaining[logicalId];
        // Written after every deletion: a destroy killed midway resumes with what is left.
        state.putStack(stack.stackName, { ...stack, status: 'DELETE_IN_PROGRESS', resources: { ...remaining } });
      });
    } catch (error) {
      state.putStack(stack.stackName, { ...stack, status: 'DELETE_FAILED', resources: remaining });
      throw error;
    }
    state.putStack(stack.stackName, undefined);
    return { stackName: stack.stackName, status: 'DELETE_COMPLETE', warnings };
  }

  private resolveContext(
    stack: AssemblyStack, stackId: string, template: any, records: { [logicalId: string]: ResourceRecord }, imports: Set<string>,
  ): ResolveContext {
    const state = this.options.state;
    const parameters = template.Parameters ?? {};
    const conditions: { [name: string]: boolean } = {};
    const context: ResolveContext = {
      stackName: stack.stackName,
      stackId,
      account: stack.account,
      region: stack.region,
      ref: (name, where) => {
        if (records[name]) return records[name].physicalId;
        if (name in parameters) {
          if (parameters[name].Default === undefined) throw new TemplateError(`${where}: parameter ${name} has no Default, and proton-local deploy takes no parameter values`);
          return parameters[name].Default;
        }
        throw new TemplateError(`${where}: Ref to ${name}, which is neither a resource nor a parameter of the template`);
      },
      getAtt: (logicalId, attribute, where) => {
        const record = records[logicalId];
        if (!record) throw new TemplateError(`${where}: Fn::GetAtt on ${logicalId}, which is not a resource of the template`);
        if (attribute in record.attributes) return record.attributes[attribute];
        if (!record.managed) return `${record.physicalId}.${attribute}`;
        throw new TemplateError(`${where}: Fn::GetAtt ${logicalId}.${attribute}: ${record.type} ${record.physicalId} returned no attribute ${attribute} ` +
          `(it has: ${Object.keys(record.attributes).join(', ') || 'none'})`);
      },
      importValue: (exportName, where) => {
        const value = state.exportValue(exportName);
        if (value === undefined) throw new TemplateError(`${where}: Fn::ImportValue: no deployed stack exports ${exportName}`);
        imports.add(exportName);
        return value;
      },
      condition: (name, where) => {
        if (!(name in conditions)) {
          const expression = template.Conditions?.[name];
          if (expression === undefined) throw new TemplateError(`${where}: no condition named ${name} in Conditions`);
          conditions[name] = evaluateCondition(expression, context, `Conditions.${name}`);
        }
        return conditions[name];
      },
    };
    return context;
  }
}

function emptyStack(stack: AssemblyStack, stackId: string): StackRecord {
  return {
    stackName: stack.stackName,
    stackId,
    account: stack.account,
    region: stack.region,
    status: 'CREATE_COMPLETE',
    resources: {},
    outputs: {},
    exports: {},
    imports: [],
    dependencies: stack.dependencies,
  };
}

/** Deletes and rollbacks run the provider's current code when its function is still in the template (as Lambda would). */
function withProvider(record: ResourceRecord, providers: Map<string, ProviderRecord>): ResourceRecord {
  const current = providers.get(String(record.properties.ServiceToken));
  return current ? { ...record, provider: current } : record;
}

/**
 * The resources an assertion's properties read, besides its provider (ServiceToken) and waiter (stateMachineArn): those
 * of its own stack it refers to, and those of any deployed stack whose made-up id or ARN its resolved values contain
 * (values that came through an export).
 */
function assertionReads(
  definition: any, properties: { [name: string]: unknown }, records: { [logicalId: string]: ResourceRecord }, stacks: StackRecord[],
): ReadResource[] {
  const withoutProvider = (value: { [name: string]: unknown }) => {
    const { ServiceToken: _provider, stateMachineArn: _waiter, ...read } = value;
    return read;
  };
  const own = [...referencedNames(withoutProvider(definition.Properties ?? {}))].filter((name) => records[name])
    .map((name) => ({ logicalId: name, type: records[name].type, managed: records[name].managed }));
  const text = JSON.stringify(withoutProvider(properties));
  const imported = stacks.flatMap((stack) => Object.entries(stack.resources)
    .filter(([, record]) => !record.managed && [record.physicalId, record.attributes.Arn].some((v) => typeof v === 'string' && v.length > 0 && text.includes(v)))
    .map(([logicalId, record]) => ({ logicalId: `${stack.stackName}/${logicalId}`, type: record.type, managed: false })));
  return [...own, ...imported];
}

/**
 * waitForAssertions(): the assertion's `stateMachineArn` is a Ref to the waiter state machine, whose first task's retry
 * policy holds the interval, the attempts and the backoff (as the Provider framework's waiter does for providers).
 */
function assertionWaiter(template: any, definition: any, resolve: (value: unknown, where: string) => unknown): AssertionWaiter | undefined {
  const machineId = definition.Properties?.stateMachineArn?.Ref;
  if (machineId === undefined) return undefined;
  const where = `Resources.${machineId}.Properties.DefinitionString`;
  const text = resolve(template.Resources[machineId]?.Properties?.DefinitionString, where);
  const machine = typeof text === 'string' ? JSON.parse(text) : undefined;
  const retry = machine?.States?.[machine.StartAt]?.Retry?.[0];
  if (!retry) throw new TemplateError(`${where}: expected the waiter state machine of waitForAssertions(), with a Retry on its first state`);
  return { intervalMs: (retry.IntervalSeconds ?? 1) * 1000, maxAttempts: retry.MaxAttempts ?? 3, backoffRate: retry.BackoffRate ?? 2 };
}

function dependencyGraph(template: any, active: string[]): { [logicalId: string]: string[] } {
  const resources = new Set(active);
  const graph: { [logicalId: string]: string[] } = {};
  for (const id of active) {
    const definition = template.Resources[id];
    const dependsOn = definition.DependsOn === undefined ? [] : [definition.DependsOn].flat();
    for (const target of dependsOn) {
      if (!resources.has(target)) throw new TemplateError(`Resources.${id}.DependsOn: ${target} is not a resource of the template`);
    }
    const referenced = [...referencedNames(definition.Properties ?? {})].filter((name) => resources.has(name));
    graph[id] = [...new Set([...dependsOn, ...referenced])];
  }
  return graph;
}

/** Fails before anything is deployed, as CloudFormation's template validation does, on an intrinsic it cannot run. */
function checkIntrinsics(template: any, active: string[], isManaged: (type: string) => boolean): void {
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${where}[${i}]`));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if ((key === 'Ref' || key.startsWith('Fn::')) && Object.keys(value).length === 1 && !SUPPORTED_INTRINSICS.includes(key)) {
          throw new TemplateError(`${where}: the intrinsic function ${key} is not supported by proton-local deploy (supported: ${SUPPORTED_INTRINSICS.join(', ')})`);
        }
        visit(item, `${where}.${key}`);
      }
    }
  };
  for (const id of active.filter((logicalId) => isManaged(template.Resources[logicalId].Type))) {
    visit(template.Resources[id].Properties ?? {}, `Resources.${id}.Properties`);
  }
  visit(template.Outputs ?? {}, 'Outputs');
}

function resolveOutputs(template: any, context: ResolveContext): { outputs: { [name: string]: unknown }; exports: { [name: string]: unknown } } {
  const outputs: { [name: string]: unknown } = {};
  const exports: { [name: string]: unknown } = {};
  for (const [name, output] of Object.entries<any>(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !context.condition(output.Condition, `Outputs.${name}.Condition`)) continue;
    outputs[name] = resolveValue(output.Value, context, `Outputs.${name}.Value`);
    if (output.Export?.Name !== undefined) {
      exports[String(resolveValue(output.Export.Name, context, `Outputs.${name}.Export.Name`))] = outputs[name];
    }
  }
  return { outputs, exports };
}

/**
 * Deletes `nodes` as CloudFormation does: each as soon as every node that depends on it (restricted to `nodes`) is
 * gone, independent ones concurrently. Proton needs the concurrency: a template's recommended version can only be
 * deleted after its sibling versions, which do not depend on each other. After a failure no new deletion starts;
 * the first failure is rethrown once the running ones settle.
 */
async function deleteInReverseDependencyOrder(
  nodes: string[], dependenciesOf: (node: string) => string[], remove: (node: string) => Promise<void>,
): Promise<void> {
  const order = topologicalOrder(nodes, dependenciesOf);
  const dependents = new Map<string, string[]>(order.map((node) => [node, []]));
  for (const node of order) {
    for (const dependency of dependenciesOf(node) ?? []) dependents.get(dependency)?.push(node);
  }
  let failure: { error: unknown } | undefined;
  const gone = new Map<string, Promise<void>>();
  // Dependents come later in `order`, so walking it backwards creates their promises first.
  for (const node of [...order].reverse()) {
    gone.set(node, Promise.all(dependents.get(node)!.map((dependent) => gone.get(dependent)!)).then(async () => {
      if (failure) throw failure.error;
      try {
        await remove(node);
      } catch (error) {
        failure ??= { error };
        throw error;
      }
    }));
  }
  await Promise.allSettled(gone.values());
  if (failure) throw failure.error;
}

/** Orders `nodes` so that each comes after the nodes it depends on (restricted to `nodes`); a cycle is an error. */
function topologicalOrder(nodes: string[], dependenciesOf: (node: string) => string[]): string[] {
  const included = new Set(nodes);
  const state = new Map<string, 'visiting' | 'done'>();
  const ordered: string[] = [];
  const visit = (node: string, chain: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') throw new TemplateError(`Circular dependency: ${[...chain, node].join(' -> ')}`);
    state.set(node, 'visiting');
    for (const dependency of dependenciesOf(node) ?? []) {
      if (included.has(dependency)) visit(dependency, [...chain, node]);
    }
    state.set(node, 'done');
    ordered.push(node);
  };
  nodes.forEach((node) => visit(node, []));
  return ordered;
}
