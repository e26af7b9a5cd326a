/** Counts of the requests proton-local answered, per operation and outcome. */

/** 'success', the error code answered (e.g. 'ThrottlingException'), or 'dropped' (committed, connection destroyed). */
export type RequestOutcome = string;

export interface RequestLogEntry {
  readonly operation: string;
  readonly outcome: RequestOutcome;
  /** Epoch milliseconds on the emulator clock. */
  readonly at: number;
}

export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];

  record(operation: string, outcome: RequestOutcome, at: number): void {
    this.entries.push({ operation, outcome, at });
  }

  /** Every request, oldest first. */
  get all(): readonly RequestLogEntry[] {
    return this.entries;
  }

  /** How many requests matched; both filters optional. */
  count(operation?: string, outcome?: RequestOutcome): number {
    return this.entries.filter(entry =>
      (operation === undefined || entry.operation === operation) && (outcome === undefined || entry.outcome === outcome)).length;
  }

  /** { operation: { outcome: count } }, as served by GET /_proton-local/requests. */
  counts(): { [operation: string]: { [outcome: string]: number } } {
    const counts: { [operation: string]: { [outcome: string]: number } } = {};
    for (const { operation, outcome } of this.entries) {
      const perOutcome = counts[operation] ??= {};
      perOutcome[outcome] = (perOutcome[outcome] ?? 0) + 1;
    }
    return counts;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
