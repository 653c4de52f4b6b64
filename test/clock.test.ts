/** The clocks: the real clock's sleep never ends early; the manual clock moves only when told. */
import { describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, ManualClock, absoluteNowMs, realClock } from '../src/clock.ts';

describe('realClock.sleepMs', () => {
  it('resolves no sooner than asked, by the same clock, whatever the phase of the event loop', async () => {
    // A bare setTimeout counts from libuv's loop time, in whole ms and read when the loop last turned:
    // set after some work in a turn, it fires up to ~1 ms early by performance.now() (seen here: 10 of
    // 200 two-ms timers, the worst 0.86 ms short). The clock's sleep must never be short: a hand-over of
    // 120 ms is at least 120 ms, a link's wait at least the wait.
    const short: string[] = [];
    for (let k = 0; k < 200; k++) {
      await new Promise((r) => setImmediate(r));
      const spin = absoluteNowMs() + (k % 20) * 0.1; // a different phase against the 1 ms tick each time
      while (absoluteNowMs() < spin);
      const ms = 1 + (k % 3);
      const t0 = absoluteNowMs();
      await realClock.sleepMs(ms);
      const slept = absoluteNowMs() - t0;
      if (slept < ms) short.push(`${ms} ms: ${slept.toFixed(3)}`);
    }
    expect(short).toEqual([]);
  });

  it('a sleep of 0 or less resolves at once', async () => {
    await realClock.sleepMs(0);
    await realClock.sleepMs(-5);
  });
});

describe('ManualClock', () => {
  it('moves only when advanced or slept on', async () => {
    const c = new ManualClock(100);
    expect(c.nowMs()).toBe(100);
    c.advance(5);
    await c.sleepMs(20);
    await c.sleepMs(-1);
    expect(c.nowMs()).toBe(125);
    expect(() => c.advance(-1)).toThrow(RangeError);
  });
});

describe('realClock.sleepMs past the longest Node timer (issue 20: quick.handoverMs=3e9)', () => {
  it('sleeps a wait above 2^31 − 1 ms in pieces, never one overflowing timer that fires after 1 ms', async () => {
    // Node turns a delay above 2^31 − 1 ms into 1 ms (TimeoutOverflowWarning): the old clock then set a
    // 1 ms timer again and again for the whole wait (a warning every ms, a busy thread). Fake timers:
    // the test moves the clock, nothing waits.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const delays: number[] = [];
      const real = globalThis.setTimeout;
      const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
        delays.push(ms ?? 0);
        return real(fn, ms);
      }) as typeof setTimeout);
      let done = false;
      const sleep = realClock.sleepMs(3e9).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(3e9 - MAX_TIMER_MS - 1000);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(2000);
      await sleep;
      expect(done).toBe(true);
      expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
      expect(delays.length).toBeLessThan(10); // pieces, not a timer per ms
      spy.mockRestore();
    } finally {
      vi.useRealTimers();
    }
  }, 20_000); // a hang guard: the old clock never got past the first overflowing timer here
});
