/** The clocks: the real clock's sleep never ends early; the manual clock moves only when told. */
import { describe, expect, it } from 'vitest';
import { ManualClock, absoluteNowMs, realClock } from '../src/clock.ts';

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
