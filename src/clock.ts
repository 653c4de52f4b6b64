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

/**
 * Resolve no sooner than `ms` after the call by `absoluteNowMs`. A Node timer can fire early by this
 * clock: it counts from libuv's cached loop time, which lags `performance.now()` by however long the
 * thread ran (or waited for a core) since the loop last read the time, a few ms on a busy machine. So
 * sleep again for whatever is left.
 */
async function sleepRealMs(ms: number): Promise<void> {
  const until = absoluteNowMs() + Math.max(0, ms);
  for (let left = ms; left > 0; left = until - absoluteNowMs()) await new Promise((resolve) => setTimeout(resolve, Math.min(left, MAX_TIMER_MS)));
}

/**
 * The longest one Node timer waits: 2^31 − 1 ms (about 24.8 days). A longer delay fires after 1 ms
 * (with a TimeoutOverflowWarning), so the real clock sleeps a longer wait in pieces of at most this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  nowMs: absoluteNowMs,
  sleepMs: sleepRealMs,
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
