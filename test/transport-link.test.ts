import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import { BandwidthMeter, DEFAULT_BURST_MS, RateLimiter, SharedRateLimiter } from '../src/transport/link.ts';
import { Rng } from '../src/workload/rng.ts';

const EPS = 1e-6;
const BURST = DEFAULT_BURST_MS;

/** Frame sizes as the page sender makes them: header-only, one page, a full 64-page run, device state. */
function frameSizes(rng: Rng, count: number, kind: 'small' | 'page' | 'run' | 'mixed'): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    if (kind === 'small') out.push(48);
    else if (kind === 'page') out.push(48 + 4096);
    else if (kind === 'run') out.push(48 + 64 * 4096);
    else out.push([48, 48 + 4096, 48 + 17 * 4096, 48 + 64 * 4096, 48 + 8 * rng.nextInt(40000)][rng.nextInt(5)]);
  }
  return out;
}

interface Trace {
  /** time of each hand-over (after the wait) and the bytes handed over up to and including it */
  times: number[];
  cumulative: number[];
  totalBytes: number;
}

/** Send `sizes` through the limiter the way the page sender does: book, sleep the wait, hand over. */
async function send(clock: ManualClock, limiter: RateLimiter, sizes: number[], late?: () => number): Promise<Trace> {
  const trace: Trace = { times: [], cumulative: [], totalBytes: 0 };
  for (const size of sizes) {
    const wait = limiter.book(size);
    if (!(wait >= 0)) expect(wait).toBeGreaterThanOrEqual(0);
    if (wait > 0) {
      await clock.sleepMs(wait);
      if (late) clock.advance(late());
    }
    trace.totalBytes += size;
    trace.times.push(clock.nowMs());
    trace.cumulative.push(trace.totalBytes);
  }
  return trace;
}

describe('RateLimiter', () => {
  const rates = [1e6, 12.5e6, 125e6, 1.25e9];
  const kinds = ['small', 'page', 'run', 'mixed'] as const;
  const table = rates.flatMap((rate) => kinds.map((kind) => [rate, kind] as const));

  it.each(table)('rate %d B/s, %s frames: the clock advances N/R (within the burst), never ahead of the rate', async (rate, kind) => {
    const rng = new Rng(Math.floor(rate) ^ kind.length);
    const clock = new ManualClock(5000);
    const limiter = new RateLimiter(clock, rate);
    // about 2 s worth of bytes at this rate, at least 50 frames
    const perFrame = kind === 'small' ? 48 : kind === 'page' ? 4144 : kind === 'run' ? 262192 : 60000;
    const count = Math.max(50, Math.min(20000, Math.ceil((2 * rate) / perFrame)));
    const sizes = frameSizes(rng, count, kind);
    const t0 = clock.nowMs();
    const trace = await send(clock, limiter, sizes);
    const idealMs = (trace.totalBytes * 1000) / rate;
    const elapsed = clock.nowMs() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(idealMs - BURST - EPS);
    expect(elapsed).toBeLessThanOrEqual(idealMs + EPS);
    // at every hand-over: B/R - burst <= t - t0 <= B/R
    const violations: string[] = [];
    for (let i = 0; i < trace.times.length; i++) {
      const since = trace.times[i] - t0;
      const booked = (trace.cumulative[i] * 1000) / rate;
      if (since < booked - BURST - 1e-6 * booked - EPS || since > booked + EPS) {
        violations.push(`frame ${i}: at +${since} ms with ${booked} ms of bytes handed over`);
      }
    }
    expect(violations.slice(0, 5)).toEqual([]);
  });

  it('lets a burst of up to burstMs worth of bytes go without waiting, then waits', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, 1e6); // 1000 bytes per ms: the burst is 10 000 bytes
    for (let i = 0; i < 10; i++) expect(limiter.book(1000)).toBe(0);
    expect(limiter.book(1000)).toBeCloseTo(1, 9);
    expect(limiter.book(5000)).toBeCloseTo(6, 9);
  });

  it('honours a custom burst', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, 1e6, 0);
    expect(limiter.book(1000)).toBeCloseTo(1, 9);
    expect(limiter.book(1000)).toBeCloseTo(2, 9);
  });

  it('Infinity never waits and never moves the clock', async () => {
    const clock = new ManualClock(123);
    const limiter = new RateLimiter(clock, Infinity);
    expect(limiter.rateBytesPerSec).toBe(Infinity);
    const rng = new Rng(1);
    for (const size of frameSizes(rng, 5000, 'mixed')) expect(limiter.book(size)).toBe(0);
    expect(limiter.book(2 ** 40)).toBe(0);
    expect(clock.nowMs()).toBe(123);
  });

  it.each([
    [125e6, 12.5e6],
    [12.5e6, 125e6],
    [1e6, 1.25e9],
  ])('setRate mid-way (%d -> %d B/s): each phase runs at its own rate', async (r1, r2) => {
    const rng = new Rng(7);
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, r1);
    const a = await send(clock, limiter, frameSizes(rng, Math.ceil((1 * r1) / 60000), 'mixed'));
    const switchAt = clock.nowMs();
    limiter.setRate(r2);
    expect(limiter.rateBytesPerSec).toBe(r2);
    const b = await send(clock, limiter, frameSizes(rng, Math.ceil((1 * r2) / 60000), 'mixed'));
    const phase1 = (a.totalBytes * 1000) / r1;
    const phase2 = (b.totalBytes * 1000) / r2;
    expect(switchAt).toBeGreaterThanOrEqual(phase1 - BURST - EPS);
    expect(switchAt).toBeLessThanOrEqual(phase1 + EPS);
    const second = clock.nowMs() - switchAt;
    expect(second).toBeGreaterThanOrEqual(phase2 - BURST - EPS);
    expect(second).toBeLessThanOrEqual(phase2 + EPS);
  });

  it('setRate(Infinity) lifts the limit at once (stop-and-copy), and a finite rate afterwards paces from now', async () => {
    const rng = new Rng(8);
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, 10e6);
    await send(clock, limiter, frameSizes(rng, 200, 'page'));
    limiter.setRate(Infinity);
    const t = clock.nowMs();
    for (const size of frameSizes(rng, 1000, 'run')) expect(limiter.book(size)).toBe(0);
    expect(clock.nowMs()).toBe(t);
    clock.advance(500);
    limiter.setRate(1e6);
    const t2 = clock.nowMs();
    const c = await send(clock, limiter, frameSizes(rng, 300, 'page'));
    const ideal = (c.totalBytes * 1000) / 1e6;
    expect(clock.nowMs() - t2).toBeGreaterThanOrEqual(ideal - BURST - EPS);
    expect(clock.nowMs() - t2).toBeLessThanOrEqual(ideal + EPS);
  });

  it('an idle link does not bank credit beyond the burst', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, 1e6);
    await send(clock, limiter, [100_000]);
    clock.advance(60_000); // a minute idle
    const t = clock.nowMs();
    const trace = await send(clock, limiter, new Array(200).fill(4144));
    const ideal = (trace.totalBytes * 1000) / 1e6;
    expect(clock.nowMs() - t).toBeGreaterThanOrEqual(ideal - BURST - EPS);
  });

  it.each([
    [125e6, 1],
    [12.5e6, 2],
    [1e6, 3],
  ])('late wake-ups (within the burst) are absorbed: the long-run rate still matches (%d B/s)', async (rate, seed) => {
    const rng = new Rng(seed);
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, rate);
    const sizes = frameSizes(rng, Math.ceil((10 * rate) / 60000), 'mixed'); // about 10 s of traffic
    const trace = await send(clock, limiter, sizes, () => rng.nextFloat() * BURST);
    const ideal = (trace.totalBytes * 1000) / rate;
    const elapsed = clock.nowMs();
    expect(Math.abs(elapsed - ideal)).toBeLessThanOrEqual(BURST + EPS);
    const achieved = (trace.totalBytes * 1000) / elapsed;
    expect(achieved / rate).toBeGreaterThan(0.998);
    expect(achieved / rate).toBeLessThan(1.002);
  });

  it('even with very late wake-ups the sender never gets ahead of the rate over any stretch', async () => {
    const rng = new Rng(4);
    const rate = 12.5e6;
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(clock, rate);
    const sizes = frameSizes(rng, 1500, 'mixed');
    const maxFrame = Math.max(...sizes);
    const trace = await send(clock, limiter, sizes, () => rng.nextFloat() * 5 * BURST);
    // bytes handed over in (t_a, t_b] <= rate × (t_b - t_a + burst) + one frame
    const n = trace.times.length;
    for (let a = 0; a < n; a += 3) {
      for (let b = a + 1; b < n; b++) {
        const bytes = trace.cumulative[b] - trace.cumulative[a];
        const allowed = (rate * (trace.times[b] - trace.times[a] + BURST)) / 1000 + maxFrame;
        if (bytes > allowed + 1e-3) expect(bytes, `(${trace.times[a]}, ${trace.times[b]}]`).toBeLessThanOrEqual(allowed);
      }
    }
    // lateness beyond the burst can only lower the rate, never raise it
    expect((trace.totalBytes * 1000) / clock.nowMs()).toBeLessThanOrEqual(rate * 1.001);
  });
});

describe('BandwidthMeter', () => {
  it('is 0 before any byte, also after time passes', () => {
    const clock = new ManualClock(1000);
    const meter = new BandwidthMeter(clock);
    expect(meter.bytesPerSec()).toBe(0);
    expect(meter.measured).toBe(false);
    clock.advance(50);
    expect(meter.bytesPerSec()).toBe(0);
    clock.advance(200);
    expect(meter.bytesPerSec()).toBe(0);
    expect(meter.totalBytes).toBe(0);
  });

  it('reports 0 (no guess) until the first window of 100 ms closes, then that window\'s rate', () => {
    const clock = new ManualClock(1000);
    const meter = new BandwidthMeter(clock);
    clock.advance(40);
    meter.add(1000);
    expect(meter.bytesPerSec()).toBe(0);
    expect(meter.measured).toBe(false);
    clock.advance(20);
    meter.add(2000);
    clock.advance(39);
    expect(meter.bytesPerSec()).toBe(0); // 99 ms: still open
    expect(meter.measured).toBe(false);
    clock.advance(1);
    expect(meter.bytesPerSec()).toBeCloseTo(30_000, 6); // 3000 B / 100 ms
    expect(meter.measured).toBe(true);
    expect(meter.totalBytes).toBe(3000);
  });

  it('then reports the rate of the last closed window of >= 100 ms, not a partial one', () => {
    const clock = new ManualClock(1000);
    const meter = new BandwidthMeter(clock);
    const f = 10_000;
    // window 1: f every 10 ms for 100 ms = 1 000 000 B/s
    for (let t = 0; t < 10; t++) {
      clock.advance(10);
      meter.add(f);
    }
    expect(meter.bytesPerSec()).toBeCloseTo(1_000_000, 6);
    // window 2: 3f every 10 ms; until it closes the meter still reports window 1
    for (let t = 0; t < 9; t++) {
      clock.advance(10);
      meter.add(3 * f);
      expect(meter.bytesPerSec()).toBeCloseTo(1_000_000, 6);
    }
    clock.advance(10);
    meter.add(3 * f);
    expect(meter.bytesPerSec()).toBeCloseTo(3_000_000, 6);
    expect(meter.totalBytes).toBe(10 * f + 10 * 3 * f);
  });

  it('a window lasts until the first event at or after 100 ms (sparse adds: longer windows)', () => {
    const clock = new ManualClock(0);
    const meter = new BandwidthMeter(clock);
    for (let t = 0; t < 4; t++) {
      clock.advance(30);
      meter.add(6000);
    }
    // closed at t = 120 with 24 000 bytes
    expect(meter.bytesPerSec()).toBeCloseTo(200_000, 6);
  });

  it('an idle stretch closes a window at the rate actually achieved (0)', () => {
    const clock = new ManualClock(0);
    const meter = new BandwidthMeter(clock);
    for (let t = 0; t < 10; t++) {
      clock.advance(10);
      meter.add(1000);
    }
    expect(meter.bytesPerSec()).toBeCloseTo(100_000, 6);
    clock.advance(150);
    expect(meter.bytesPerSec()).toBe(0);
    expect(meter.measured).toBe(true);
  });

  it('closeFirstWindow closes a short first window at the average so far; the next window starts then', () => {
    const clock = new ManualClock(500);
    const meter = new BandwidthMeter(clock);
    clock.advance(20);
    meter.add(4000);
    clock.advance(20);
    meter.add(4000);
    meter.closeFirstWindow();
    expect(meter.measured).toBe(true);
    expect(meter.bytesPerSec()).toBeCloseTo(200_000, 6); // 8000 B / 40 ms
    // the next window runs from t = 40 and needs its own 100 ms
    clock.advance(99);
    meter.add(99_000);
    expect(meter.bytesPerSec()).toBeCloseTo(200_000, 6);
    clock.advance(1);
    meter.add(1000);
    expect(meter.bytesPerSec()).toBeCloseTo(1_000_000, 6); // 100 000 B / 100 ms
  });

  it.each([
    ['no bytes yet', 30, 0],
    ['no time yet', 0, 5000],
  ])('closeFirstWindow does nothing with %s', (_name, advance, bytes) => {
    const clock = new ManualClock(0);
    const meter = new BandwidthMeter(clock);
    clock.advance(advance);
    if (bytes > 0) meter.add(bytes);
    meter.closeFirstWindow();
    expect(meter.measured).toBe(false);
    expect(meter.bytesPerSec()).toBe(0);
  });

  it('closeFirstWindow does nothing once a window has closed', () => {
    const clock = new ManualClock(0);
    const meter = new BandwidthMeter(clock);
    clock.advance(100);
    meter.add(10_000);
    expect(meter.bytesPerSec()).toBeCloseTo(100_000, 6);
    clock.advance(10);
    meter.add(50_000);
    meter.closeFirstWindow();
    expect(meter.bytesPerSec()).toBeCloseTo(100_000, 6);
  });

  it('matches a steady limiter-paced stream (meter and limiter on one clock)', async () => {
    const clock = new ManualClock(0);
    const rate = 125e6;
    const limiter = new RateLimiter(clock, rate);
    const meter = new BandwidthMeter(clock);
    for (let i = 0; i < 10_000; i++) {
      const wait = limiter.book(4144);
      if (wait > 0) await clock.sleepMs(wait);
      meter.add(4144);
    }
    expect(clock.nowMs()).toBeGreaterThan(2 * BandwidthMeter.WINDOW_MS);
    expect(meter.measured).toBe(true);
    expect(meter.bytesPerSec() / rate).toBeGreaterThan(0.95);
    expect(meter.bytesPerSec() / rate).toBeLessThan(1.05);
  });

  it('honours a custom window', () => {
    const clock = new ManualClock(0);
    const meter = new BandwidthMeter(clock, 20);
    clock.advance(20);
    meter.add(2000);
    expect(meter.bytesPerSec()).toBeCloseTo(100_000, 6);
    clock.advance(10);
    meter.add(8000);
    expect(meter.bytesPerSec()).toBeCloseTo(100_000, 6);
    clock.advance(10);
    meter.add(0);
    expect(meter.bytesPerSec()).toBeCloseTo(400_000, 6);
  });
});

describe('SharedRateLimiter: one budget for several threads', () => {
  it('bookings from several attached limiters follow the single RateLimiter timeline', () => {
    const rng = new Rng(77);
    const clock = new ManualClock(1_000_000);
    const now = () => clock.nowMs();
    const rate = 50 * 2 ** 20;
    const single = new RateLimiter(clock, rate);
    const shared = SharedRateLimiter.create(rate, DEFAULT_BURST_MS, now);
    const lanes = [shared, SharedRateLimiter.attach(shared.shared, now), SharedRateLimiter.attach(shared.shared, now)];
    for (const size of frameSizes(rng, 400, 'mixed')) {
      // the lanes take turns, as channel threads would; time moves on irregularly
      const lane = lanes[rng.nextInt(lanes.length)];
      const a = single.book(size);
      const b = lane.book(size);
      expect(Math.abs(a - b)).toBeLessThan(1e-3); // ns resolution in the shared word
      clock.advance(rng.nextInt(3) === 0 ? rng.nextFloat() * 5 : 0);
    }
  });

  it('over a long stretch the lanes together get no more than the rate', () => {
    const clock = new ManualClock(5_000);
    const now = () => clock.nowMs();
    const rate = 10 * 2 ** 20;
    const a = SharedRateLimiter.create(rate, DEFAULT_BURST_MS, now);
    const b = SharedRateLimiter.attach(a.shared, now);
    // two lanes, each booking a 256 KiB frame whenever it may send; count what is allowed within 1 s
    let sent = 0;
    for (let t = 0; t < 1000; t += 0.5) {
      for (const lane of [a, b]) {
        // a lane books only when its previous frame was allowed out (wait 0)
        if (lane.book(0) === 0) {
          lane.book(256 * 1024);
          sent += 256 * 1024;
        }
      }
      clock.advance(0.5);
    }
    expect(sent).toBeLessThanOrEqual(rate + 2 * 256 * 1024 + (rate * BURST) / 1000);
    expect(sent).toBeGreaterThan(rate * 0.9);
  });

  it('setRate is seen by every attached limiter; Infinity books nothing', () => {
    const clock = new ManualClock(0);
    const now = () => clock.nowMs();
    const a = SharedRateLimiter.create(1e6, DEFAULT_BURST_MS, now);
    const b = SharedRateLimiter.attach(a.shared, now);
    a.setRate(Infinity);
    expect(b.rateBytesPerSec).toBe(Infinity);
    expect(b.book(1e9)).toBe(0);
    a.setRate(1e6);
    expect(b.book(1e6)).toBeCloseTo(1000 - BURST, 6);
  });
});
