/**
 * The one CloudFormation lifecycle every Proton resource type fills in (templates, versions, environments, services,
 * account settings), modelled on aws-cdk's EKS cluster handler: a resource type says how to create, advance and
 * delete itself one step at a time, and this module turns that into the Provider framework's onEvent and isComplete.
 *
 * - onEvent makes at most one mutating call: Create creates (or finds) the resource and returns its physical id;
 *   Update takes the first step in place, or creates a new resource when the change needs one (a new physical id makes
 *   CloudFormation delete the old one in its cleanup phase); Delete takes the first deletion step.
 * - isComplete polls inside one invocation every second or so (1 s growing to 1.5 s) for up to POLL_BUDGET_MS before
 *   answering "not yet", so completion is seen within about a second, not a query interval later. Its first poll
 *   waits until a second after onEvent started something Proton does asynchronously (a registration, a deployment):
 *   nothing Proton does that way is over sooner. A create that left nothing to wait for (`ctx.settle`) is complete
 *   without a call.
 * - Reads are cached for one poll (`ctx.cached`): the Data of a finished resource reuses what its last step read.
 * - Every step is decided from Proton's state, so repeating one is harmless: throttling, 5xx and dropped connections
 *   make isComplete answer "not yet" and make onEvent retry with backoff and jitter until its deadline.
 */
import { ProtonClient } from '@aws-sdk/client-proton';
import { createProtonClient } from './client';
import { errorMessage, isTransient } from './errors';
import { log } from './log';
import { redact } from './redact';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse, ResourceHandler, ResourceProperties } from './types';

/** What one step found: everything is in place (`done`), or it issued a call or waits (`pending`, with a reason). */
export type Progress = { readonly done: true; readonly notice?: string }
| { readonly done: false; readonly reason: string; readonly acted?: boolean };
export const DONE: Progress = { done: true };
export const pending = (reason: string): Progress => ({ done: false, reason });
/** The step made a call whose effect the next poll should see soon (a publish, a tag): poll again quickly. */
export const acted = (reason: string): Progress => ({ done: false, reason, acted: true });

/** How long isComplete polls inside one invocation before answering "not yet" (the function timeout is longer). */
export const POLL_BUDGET_VARIABLE = 'PROTON_POLL_BUDGET_MS';
const DEFAULT_POLL_BUDGET_MS = 50_000;
/**
 * How long onEvent retries throttling and transient errors (its function timeout is 14 minutes): hundreds of resources
 * sharing one account's Proton rate limit may each wait minutes for their turn, and must never fail for it.
 */
const ON_EVENT_RETRY_BUDGET_MS = 12 * 60_000;
/** onEvent's backoff cap: with full jitter, many throttled clients spread out instead of retrying in step. */
const MAX_RETRY_DELAY_MS = 30_000;
/** The next poll after a step that made a call. */
const AFTER_ACTION_DELAY_MS = 250;
/** How long isComplete retries reading a finished resource's Data (its function timeout is 2 minutes). */
const DATA_RETRY_BUDGET_MS = 45_000;
const FIRST_POLL_DELAY_MS = 1_000;
/** Polls grow from 1 s to 1.5 s apart: completion is seen within a second of it, on average. */
const MAX_POLL_DELAY_MS = 1_500;
const POLL_GROWTH = 1.25;
/** Throttling and transient errors back off from 1 s to 5 s. */
const MAX_BACKOFF_DELAY_MS = 5_000;
const BACKOFF = 1.5;

/** Values a resource type carries from onEvent to isComplete (the framework merges onEvent's answer into the event). */
const CARRIED_FIELD = 'CdkProtonCarried';
/** Carried when onEvent left the resource as desired, with its Data (JSON): isComplete answers without a call. */
const SETTLED = 'Settled';
/** Carried when onEvent started something Proton does asynchronously: when it ended (epoch ms). */
const STARTED_AT = 'StartedAt';
/** Carried when onEvent created the resource with every tag the properties ask for. */
const TAGS_SENT = 'TagsSent';
/** Carried when an Update created a new resource: the old properties then describe the old one, not this one. */
const NEW_RESOURCE = 'NewResource';
/** Carried when onEvent's first deletion step already finished the deletion. */
const DELETED = 'Deleted';

/** What a step sees: the client, the event, and values carried between phases. */
export class StepContext {
  private readonly carried: { [key: string]: string };
  /** Reads of the current poll (see `cached`). */
  private reads = new Map<string, Promise<unknown>>();
  constructor(
    public readonly client: ProtonClient,
    public readonly event: OnEventRequest | IsCompleteRequest,
    /** Spec values and other secrets, removed from every message this context logs or throws. */
    private readonly secrets: string[],
  ) {
    const raw = (event as any)[CARRIED_FIELD];
    this.carried = raw && typeof raw === 'object' ? { ...raw } : {};
  }

  /** The stack's name (from the StackId ARN), for ownership tags and messages. */
  public get stackName(): string {
    return /:stack\/([^/]+)\//.exec(this.event.StackId)?.[1] ?? this.event.StackId;
  }

  /** Remembers a value for the rest of this event (the isComplete phase sees what onEvent remembered). */
  public remember(key: string, value: string): void {
    this.carried[key] = value;
  }

  public recall(key: string): string | undefined {
    return this.carried[key];
  }

  public get carriedValues(): { [key: string]: string } {
    return { ...this.carried };
  }

  /**
   * A read, made once per poll: steps and the Data of a finished resource share what the poll read. Every poll (and
   * every mutating call a step makes ends its poll) starts afresh, so nothing stale decides a step.
   */
  public cached<T>(key: string, read: () => Promise<T>): Promise<T> {
    let result = this.reads.get(key) as Promise<T> | undefined;
    if (!result) {
      result = read();
      this.reads.set(key, result);
      result.catch(() => this.reads.delete(key));
    }
    return result;
  }

  /** Forgets a cached read (after a call that changed what it read). */
  public forget(key: string): void {
    this.reads.delete(key);
  }

  /** Forgets every cached read whose key starts with the prefix. */
  public forgetAll(prefix: string): void {
    for (const key of [...this.reads.keys()]) if (key.startsWith(prefix)) this.reads.delete(key);
  }

  /** Starts a new poll: what earlier polls read may have changed. */
  public newPoll(): void {
    this.reads = new Map();
  }

  /**
   * Called by a create whose one call left the resource exactly as the properties describe, synchronously (Proton's
   * answer says so): isComplete then answers at once with this Data, without a call.
   */
  public settle(data: { [attribute: string]: string } = {}): void {
    this.remember(SETTLED, JSON.stringify(data));
  }

  /** Called by a create that sent every tag the properties ask for: the first tag sync of this event needs no read. */
  public tagsSent(): void {
    this.remember(TAGS_SENT, 'true');
  }

  /** Whether this event's create sent the tags (so they are in place, unless a later step changed them). */
  public get sentTags(): boolean {
    return this.recall(TAGS_SENT) === 'true';
  }

  public log(message: string, fields: { [field: string]: unknown } = {}): void {
    log(this.redact(message), this.event, fields);
  }

  public redact(text: string): string {
    return redact(text, this.secrets);
  }
}

/** How one Proton resource type moves toward the state its properties describe. */
export interface ProtonResource<Desired> {
  readonly resourceType: string;
  /** Decodes the properties (no Proton call); must keep accepting every shape ever shipped. */
  decode(properties: ResourceProperties | undefined): Desired;
  /** Strings in the desired state that must never be logged (spec values). */
  secrets?(desired: Desired): string[];
  /** Whether going from `previous` to `desired` needs a new Proton resource (a new physical id). */
  needsNewResource(previous: Desired, desired: Desired, physicalId: string): boolean;
  /** Creates the resource with one idempotent call, or finds the one an earlier delivery created; its physical id. */
  create(ctx: StepContext, desired: Desired): Promise<string>;
  /** One step toward `desired`; `firstStep` is true in onEvent (a failure with these very settings is retried then). */
  advance(ctx: StepContext, physicalId: string, desired: Desired, previous: Desired | undefined, firstStep: boolean): Promise<Progress>;
  /** One step of deleting; done once the resource is gone (or deliberately kept, with a notice). */
  advanceDeletion(ctx: StepContext, physicalId: string, properties: Desired | undefined, firstStep: boolean): Promise<Progress>;
  /** The Data (Fn::GetAtt values) once the resource is in place. */
  data?(ctx: StepContext, physicalId: string, desired: Desired): Promise<{ [attribute: string]: string }>;
}

export interface LifecycleOptions {
  /** Builds the Proton client of one invocation (tests inject their own). */
  readonly client?: () => ProtonClient;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** The onEvent and isComplete handlers of a resource type. */
export function lifecycle<Desired>(resource: ProtonResource<Desired>, options: LifecycleOptions = {}): ResourceHandler {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const newClient = options.client ?? createProtonClient;

  const decodeSafely = (properties: ResourceProperties | undefined): Desired | undefined => {
    try {
      return resource.decode(properties);
    } catch {
      return undefined; // a Delete of a resource whose properties this version no longer reads still deletes by id
    }
  };

  const contextFor = (event: OnEventRequest | IsCompleteRequest, client: ProtonClient): StepContext => {
    const desired = decodeSafely(event.ResourceProperties);
    const old = event.RequestType === 'Update' ? decodeSafely(event.OldResourceProperties) : undefined;
    const secrets = [desired, old].flatMap(d => (d !== undefined && resource.secrets ? resource.secrets(d) : []));
    return new StepContext(client, event, secrets);
  };

  /** Reports a step's outcome; errors lose every secret before they reach the log or CloudFormation. */
  const guarded = async <T>(ctx: StepContext, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (isTransient(error)) throw error;
      const message = ctx.redact(errorMessage(error));
      if (message === errorMessage(error)) throw error;
      const redacted = new Error(message);
      redacted.name = (error as Error)?.name ?? 'Error';
      throw redacted;
    }
  };

  /** Runs one onEvent step, retrying throttling and transient errors with jittered backoff until the deadline. */
  const withRetries = async <T>(ctx: StepContext, run: () => Promise<T>, budgetMs = ON_EVENT_RETRY_BUDGET_MS): Promise<T> => {
    const deadline = now() + budgetMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await guarded(ctx, run);
      } catch (error) {
        if (!isTransient(error) || now() >= deadline) throw error;
        // Full jitter: uniform in [0, cap], the cap doubling from 1 s to 30 s.
        const delay = Math.random() * Math.min(MAX_RETRY_DELAY_MS, FIRST_POLL_DELAY_MS * 2 ** (attempt - 1));
        ctx.log('transient Proton error, retrying', { error: ctx.redact(errorMessage(error)), attempt, delayMs: Math.round(delay) });
        await sleep(delay);
      }
    }
  };

  return {
    async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
      const client = newClient();
      const ctx = contextFor(event, client);
      /** Whether the step left Proton working asynchronously: isComplete's first poll then waits a little. */
      let startedAsync = true;
      try {
        const physicalId = await withRetries(ctx, async () => {
          ctx.newPoll();
          switch (event.RequestType) {
            case 'Create':
              return resource.create(ctx, resource.decode(event.ResourceProperties));
            case 'Update': {
              const desired = resource.decode(event.ResourceProperties);
              const previous = decodeSafely(event.OldResourceProperties);
              if (previous === undefined || resource.needsNewResource(previous, desired, event.PhysicalResourceId)) {
                ctx.remember(NEW_RESOURCE, 'true');
                return resource.create(ctx, desired);
              }
              const progress = await resource.advance(ctx, event.PhysicalResourceId, desired, previous, true);
              report(ctx, progress);
              startedAsync = !progress.done && !progress.acted;
              return event.PhysicalResourceId;
            }
            case 'Delete': {
              const progress = await resource.advanceDeletion(ctx, event.PhysicalResourceId, decodeSafely(event.ResourceProperties), true);
              report(ctx, progress);
              startedAsync = !progress.done && !progress.acted;
              if (progress.done) ctx.remember(DELETED, 'true');
              if (progress.done && progress.notice) ctx.remember('Notice', progress.notice);
              return event.PhysicalResourceId;
            }
          }
        });
        if (ctx.recall(SETTLED) === undefined && ctx.recall(DELETED) === undefined && startedAsync) ctx.remember(STARTED_AT, String(now()));
        const carried = ctx.carriedValues;
        return { PhysicalResourceId: physicalId, ...(Object.keys(carried).length > 0 ? { [CARRIED_FIELD]: carried } : {}) };
      } finally {
        client.destroy();
      }
    },

    async isComplete(event: IsCompleteRequest): Promise<IsCompleteResponse> {
      const client = newClient();
      const ctx = contextFor(event, client);
      const budget = pollBudgetMs();
      const started = now();
      if (event.RequestType === 'Delete' && ctx.recall(DELETED) === 'true') {
        // onEvent's first step already finished the deletion.
        client.destroy();
        const notice = ctx.recall('Notice');
        return { IsComplete: true, ...(notice ? { Data: { Notice: notice } } : {}) };
      }
      const settled = event.RequestType !== 'Delete' ? ctx.recall(SETTLED) : undefined;
      if (settled !== undefined) {
        // onEvent's call left the resource as desired (Proton's answer said so).
        client.destroy();
        const data = JSON.parse(settled) as { [attribute: string]: string };
        return { IsComplete: true, ...(Object.keys(data).length > 0 ? { Data: data } : {}) };
      }
      try {
        // Nothing Proton does asynchronously is over within a second of its start (the wait is part of the budget).
        const firstPoll = Math.min(Number(ctx.recall(STARTED_AT) ?? 0) + FIRST_POLL_DELAY_MS - now(), budget);
        if (firstPoll > 0 && firstPoll <= FIRST_POLL_DELAY_MS) await sleep(firstPoll);
        /** Polls in a row that met throttling or a transient error. */
        let transientErrors = 0;
        for (let attempt = 1; ; attempt++) {
          let progress: Progress;
          ctx.newPoll();
          try {
            progress = await guarded(ctx, () => step(ctx, event));
            transientErrors = 0;
          } catch (error) {
            if (!isTransient(error)) throw error;
            transientErrors++;
            progress = pending(`transient Proton error: ${ctx.redact(errorMessage(error))}`);
          }
          report(ctx, progress);
          if (progress.done) {
            if (event.RequestType === 'Delete') {
              const notice = progress.notice ?? ctx.recall('Notice');
              return { IsComplete: true, ...(notice ? { Data: { Notice: notice } } : {}) };
            }
            const desired = resource.decode(event.ResourceProperties);
            let data: { [key: string]: string } = {};
            try {
              data = resource.data
                // Within the isComplete function's own timeout (its poll budget is spent by now).
                ? await withRetries(ctx, () => resource.data!(ctx, event.PhysicalResourceId!, desired), DATA_RETRY_BUDGET_MS)
                : {};
            } catch (error) {
              // Still throttled: the resource is in place, so the next invocation finds it done and reads again.
              if (isTransient(error)) return { IsComplete: false };
              throw error;
            }
            return { IsComplete: true, ...(Object.keys(data).length > 0 ? { Data: data } : {}) };
          }
          const delay = progress.acted ? AFTER_ACTION_DELAY_MS
            : transientErrors > 0
              // Throttled or failing: back off further, spreading the resources that share the limit.
              ? jittered(Math.min(MAX_BACKOFF_DELAY_MS, FIRST_POLL_DELAY_MS * BACKOFF ** (transientErrors - 1)))
              : pollDelay(attempt);
          if (now() - started + delay > budget) return { IsComplete: false };
          await sleep(delay);
        }
      } finally {
        client.destroy();
      }
    },
  };

  function step(ctx: StepContext, event: IsCompleteRequest): Promise<Progress> {
    if (event.RequestType === 'Delete') {
      return resource.advanceDeletion(ctx, event.PhysicalResourceId, decodeSafely(event.ResourceProperties), false);
    }
    const desired = resource.decode(event.ResourceProperties);
    const keepsResource = event.RequestType === 'Update' && ctx.recall(NEW_RESOURCE) !== 'true';
    const previous = keepsResource ? decodeSafely(event.OldResourceProperties) : undefined;
    return resource.advance(ctx, event.PhysicalResourceId!, desired, previous, false);
  }
}

function report(ctx: StepContext, progress: Progress): void {
  if (!progress.done) ctx.log(progress.reason);
  else if (progress.notice) ctx.log(progress.notice, { level: 'warning' });
}

function pollBudgetMs(): number {
  const configured = Number(process.env[POLL_BUDGET_VARIABLE]);
  return Number.isFinite(configured) && configured >= 0 && process.env[POLL_BUDGET_VARIABLE] !== undefined
    ? configured : DEFAULT_POLL_BUDGET_MS;
}

/** Full jitter on the upper half: spreads retries of many resources hitting one rate limit. */
function jittered(ms: number): number {
  return ms / 2 + Math.random() * ms / 2;
}

/**
 * The wait after the n-th poll found the resource still on its way: 1 s growing to 1.5 s, up to 10 % longer at random
 * (resources started together drift apart), never shorter (a poll before the schedule sees nothing new).
 */
function pollDelay(attempt: number): number {
  return Math.min(MAX_POLL_DELAY_MS, FIRST_POLL_DELAY_MS * POLL_GROWTH ** (attempt - 1)) * (1 + Math.random() / 10);
}
