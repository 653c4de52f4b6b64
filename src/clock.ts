/**
 * Time, injected everywhere a decision depends on it, so tests can force (non-)convergence without
 * waiting. All values are milliseconds.
 *
 * `nowMs()` of the real clock is an absolute wall time with sub-millisecond resolution
 * (`performance.timeOrigin + performance.now()`), so stamps taken in different worker threads can be
 * compared: the destination worker stamps its resume with the same formula.
 */
export interface Clock {
  nowMs(): number;
  /** Resolve after `ms` (a real timer, or virtual time advancing at once). */
  sleepMs(ms: number): Promise<void>;
}

export function absoluteNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const realClock: Clock = {
  nowMs: absoluteNowMs,
  sleepMs: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A virtual clock: time moves only when someone sleeps on it or calls `advance`. Sleeping advances
 * the clock to the wake-up time at once (the simulation's "nothing else happens meanwhile").
 */
export class ManualClock implements Clock {
  private current: number;
  constructor(startMs = 0) {
    this.current = startMs;
  }
  nowMs(): number {
    return this.current;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: expected ms >= 0, got ${ms}`);
    this.current += ms;
  }
  async sleepMs(ms: number): Promise<void> {
    this.advance(Math.max(0, ms));
  }
}
