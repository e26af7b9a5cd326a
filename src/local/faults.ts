/**
 * Fault injection: throttling against a request-rate limit, InternalServerException at a rate, added latency, and
 * "commit then drop" (the operation takes effect, then the connection is destroyed before the response is written,
 * so clients see a network error and retry). Random draws come from a seeded generator, so runs repeat.
 */
import { createHash } from 'crypto';
import type { Clock } from './clock';

export interface FaultRule {
  /** Requests per second (on the emulator clock) above which requests answer ThrottlingException. */
  readonly throttleRps?: number;
  /** Probability (0..1) that a request answers InternalServerException without taking effect. */
  readonly errorRate?: number;
  /** Probability (0..1) that a request takes effect but its connection is destroyed instead of answered. */
  readonly dropRate?: number;
  /** Real milliseconds added before the request is handled. */
  readonly latencyMs?: number;
  /** Inject at most this many faults from this rule, then stop (throttling included). */
  readonly count?: number;
}

export interface FaultOptions extends FaultRule {
  /** Seed of the random draws; the same seed gives the same faults for the same request sequence. */
  readonly seed?: number;
  /** Rules for single operations (e.g. 'CreateEnvironmentTemplateVersion'); they replace the global rule for it. */
  readonly operations?: { readonly [operation: string]: FaultRule };
}

export interface FaultDecision {
  readonly latencyMs: number;
  /** The error code to answer instead of running the operation, if any. */
  readonly error?: 'ThrottlingException' | 'InternalServerException';
  readonly drop: boolean;
}

const NO_FAULT: FaultDecision = { latencyMs: 0, drop: false };

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new Error(`Invalid fault option ${name}: ${value}; expected a probability between 0 and 1`);
  }
}

function checkNonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0)) {
    throw new Error(`Invalid fault option ${name}: ${value}; expected a number >= 0`);
  }
}

function checkRule(rule: FaultRule, where: string): void {
  checkRate(`${where}errorRate`, rule.errorRate);
  checkRate(`${where}dropRate`, rule.dropRate);
  checkNonNegative(`${where}throttleRps`, rule.throttleRps);
  checkNonNegative(`${where}latencyMs`, rule.latencyMs);
  checkNonNegative(`${where}count`, rule.count);
}

/** Uniform draws in [0, 1) from sha256(seed:n): reproducible for a seed, and independent of the platform. */
function seededRandom(seed: number): () => number {
  let draws = 0;
  return () => createHash('sha256').update(`${seed}:${draws++}`).digest().readUInt32BE(0) / 2 ** 32;
}

export class Faults {
  private options: FaultOptions = {};
  private random: () => number = seededRandom(0);
  /** Request times per rule (global rule key ''), for the rate limit. */
  private readonly recentRequests = new Map<string, number[]>();
  private readonly injected = new Map<string, number>();

  constructor(private readonly clock: Clock, options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces every fault setting (set({}) removes all faults). */
  set(options: FaultOptions): void {
    checkRule(options, '');
    for (const [operation, rule] of Object.entries(options.operations ?? {})) {
      checkRule(rule, `operations.${operation}.`);
    }
    this.options = options;
    this.random = seededRandom(options.seed ?? 0);
    this.recentRequests.clear();
    this.injected.clear();
  }

  decide(operation: string): FaultDecision {
    const operationRule = this.options.operations?.[operation];
    const [ruleKey, rule] = operationRule ? [operation, operationRule] : ['', this.options as FaultRule];
    const latencyMs = rule.latencyMs ?? 0;
    const budgetLeft = () => rule.count === undefined || (this.injected.get(ruleKey) ?? 0) < rule.count;
    const inject = () => this.injected.set(ruleKey, (this.injected.get(ruleKey) ?? 0) + 1);
    if (rule.throttleRps !== undefined && this.overRate(ruleKey, rule.throttleRps) && budgetLeft()) {
      inject();
      return { latencyMs, error: 'ThrottlingException', drop: false };
    }
    if (rule.errorRate && this.random() < rule.errorRate && budgetLeft()) {
      inject();
      return { latencyMs, error: 'InternalServerException', drop: false };
    }
    if (rule.dropRate && this.random() < rule.dropRate && budgetLeft()) {
      inject();
      return { latencyMs, drop: true };
    }
    return latencyMs ? { latencyMs, drop: false } : NO_FAULT;
  }

  /** Records this request and tells whether the last second already held throttleRps requests. */
  private overRate(ruleKey: string, throttleRps: number): boolean {
    const now = this.clock.now();
    const recent = (this.recentRequests.get(ruleKey) ?? []).filter(at => at > now - 1000);
    const over = recent.length >= throttleRps;
    if (!over) {
      recent.push(now);
    }
    this.recentRequests.set(ruleKey, recent);
    return over;
  }
}
