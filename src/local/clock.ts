/**
 * Time source of proton-local. Every delay in the emulator (registration, deployment, client-token expiry,
 * throttling windows) is measured on a Clock, so tests can drive time with a ManualClock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private current: number;

  constructor(startMs: number = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) {
      throw new Error(`ManualClock.advance: ms must be a number >= 0, got ${ms}`);
    }
    this.current += ms;
  }
}
