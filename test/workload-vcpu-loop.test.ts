/**
 * The vCPU loop's pacing on a virtual clock: the rate it achieves, the throttle and the dirty limit,
 * exactly and at any machine speed. `runVcpu` runs here in the test's thread with a clock that moves
 * only when the loop sleeps (or when a test makes it jump: a thread descheduled on a busy machine), so
 * nothing depends on how fast this machine writes pages. The real-worker tests (precopy-migrate,
 * precopy-policies) check only what holds at any speed: never above the paced rate, and writing at all.
 */
import { describe, expect, it } from 'vitest';
import { CMD, CMD_STOP, DIRTY_LIMIT, THROTTLE_PCT, createVcpuControl, runningMsIndex, writesIndex } from '../src/memory/control.ts';
import { countSetBits, wordsFor } from '../src/memory/bitmap.ts';
import { createDirtyLog, syncAndClear } from '../src/memory/dirty-bitmap.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { WINDOW_MS, runVcpu } from '../src/workload/vcpu-loop.ts';

const PAGES = 1024;

interface Run {
  writes: number;
  runningMs: number;
  /** writes ÷ running time, as VcpuPool.rates() reports it */
  reportedPagesPerSec: number;
  /** pages found dirty in the log afterwards */
  dirtyPages: number;
  /** the largest number of writes in any 100 ms of virtual time (a sliding window over the trace) */
  maxWritesIn100Ms: number;
}

/**
 * Run one vCPU for `durationMs` of virtual time at `rate` page writes per second. `costMs` is the
 * virtual time each look at the clock costs (a slow machine: large); `stalls` make the clock jump at a
 * given time (the thread was not scheduled); `at` changes the throttle or the dirty limit mid-run.
 */
function run(options: {
  rate: number;
  durationMs: number;
  throttlePct?: number;
  dirtyLimit?: number;
  costMs?: number;
  stalls?: { atMs: number; forMs: number }[];
  at?: { atMs: number; throttlePct?: number; dirtyLimit?: number }[];
}): Run {
  const memory = new GuestMemory(guestLayout(PAGES * 4096, 4096));
  const dirtyLog = createDirtyLog(PAGES);
  const control = createVcpuControl(1);
  const ctrl = new Int32Array(control.words);
  const counters = new Float64Array(control.counters);
  ctrl[THROTTLE_PCT] = options.throttlePct ?? 0;
  ctrl[DIRTY_LIMIT] = options.dirtyLimit ?? 0;
  const stalls = [...(options.stalls ?? [])];
  const changes = [...(options.at ?? [])];
  let t = 0;
  const trace: number[] = []; // virtual time of each look at the clock, and the writes so far then
  const writesAt: number[] = [];
  const now = (): number => {
    t += options.costMs ?? 0.001;
    while (stalls.length > 0 && t >= stalls[0].atMs) t += stalls.shift()!.forMs;
    while (changes.length > 0 && t >= changes[0].atMs) {
      const c = changes.shift()!;
      if (c.throttlePct !== undefined) ctrl[THROTTLE_PCT] = c.throttlePct;
      if (c.dirtyLimit !== undefined) ctrl[DIRTY_LIMIT] = c.dirtyLimit;
    }
    if (t >= options.durationMs) Atomics.store(ctrl, CMD, CMD_STOP);
    trace.push(t);
    writesAt.push(counters[writesIndex(0)]);
    return t;
  };
  runVcpu(
    {
      memory: memory.shared(),
      dirtyLog,
      control,
      index: 0,
      pattern: { pattern: 'uniform', totalPages: PAGES, workingSetPages: PAGES, hotFraction: 1, zipfExponent: 1 },
      ratePagesPerSec: options.rate,
      writeBytes: 8,
      seed: 3,
    },
    now,
    (ms) => {
      t += ms; // asleep: virtual time passes, nothing else happens
    },
  );
  const writes = counters[writesIndex(0)];
  const runningMs = counters[runningMsIndex(0, 1)];
  let maxWritesIn100Ms = 0;
  for (let i = 0, j = 0; i < trace.length; i++) {
    while (trace[i] - trace[j] > WINDOW_MS) j++;
    // writes done between look j and look i lie within (trace[j-1], trace[i]]: at most ~100 ms
    maxWritesIn100Ms = Math.max(maxWritesIn100Ms, writesAt[i] - (j > 0 ? writesAt[j - 1] : 0));
  }
  const migration = new Uint32Array(wordsFor(PAGES));
  syncAndClear(new Int32Array(dirtyLog), migration);
  return { writes, runningMs, reportedPagesPerSec: runningMs > 0 ? (writes * 1000) / runningMs : 0, dirtyPages: countSetBits(migration), maxWritesIn100Ms };
}

describe('the vCPU loop on a virtual clock', () => {
  it('achieves its rate: writes over 2 s are the rate × 2 s, and the reported rate is that rate', () => {
    const r = run({ rate: 2000, durationMs: 2000 });
    expect(r.writes).toBeGreaterThanOrEqual(2000 * 2 * 0.98);
    expect(r.writes).toBeLessThanOrEqual(2000 * 2 + 64);
    expect(r.runningMs).toBeGreaterThanOrEqual(2000); // up to the look at the clock that saw STOP
    expect(r.runningMs).toBeLessThan(2000 + 2);
    expect(r.reportedPagesPerSec / 2000).toBeGreaterThan(0.98);
    expect(r.reportedPagesPerSec / 2000).toBeLessThan(1.02);
    // paced within each window: never a burst above the window's share (+ one chunk's rounding)
    expect(r.maxWritesIn100Ms).toBeLessThanOrEqual(200 + 64);
    // every write marked its page
    expect(r.dirtyPages).toBeGreaterThan(0);
    expect(r.dirtyPages).toBeLessThanOrEqual(Math.min(PAGES, r.writes));
  });

  it('a throttle of 80 % leaves 20 % of the rate', () => {
    const r = run({ rate: 10_000, durationMs: 1000, throttlePct: 80 });
    expect(r.writes / 2000).toBeGreaterThan(0.98);
    expect(r.writes / 2000).toBeLessThan(1.03);
  });

  it('a throttle set mid-run lowers the rate from then on', () => {
    const r = run({ rate: 10_000, durationMs: 2000, at: [{ atMs: 1000, throttlePct: 80 }] });
    // 1 s at 10 000/s, then 1 s at 2 000/s (the window running at the change keeps what it did)
    expect(r.writes).toBeGreaterThan(0.98 * 12_000);
    expect(r.writes).toBeLessThan(12_000 + 1000 + 64);
  });

  it('the dirty limit caps the rate, and a limit above the rate changes nothing', () => {
    const capped = run({ rate: 4000, durationMs: 1000, dirtyLimit: 500 });
    expect(capped.writes / 500).toBeGreaterThan(0.98);
    expect(capped.writes / 500).toBeLessThan(1.03);
    const loose = run({ rate: 4000, durationMs: 1000, dirtyLimit: 100_000 });
    expect(loose.writes / 4000).toBeGreaterThan(0.98);
    expect(loose.writes / 4000).toBeLessThan(1.02);
  });

  it('on a slow machine (every look at the clock costs 2 ms) it falls behind but never bursts above the rate', () => {
    const r = run({ rate: 2000, durationMs: 1000, costMs: 2 });
    expect(r.writes).toBeLessThanOrEqual(2000 + 64);
    expect(r.maxWritesIn100Ms).toBeLessThanOrEqual(200 + 64);
    expect(r.reportedPagesPerSec).toBeLessThanOrEqual(2000 * 1.05);
  });

  it('after a stall (the thread not scheduled for 400 ms) it does not catch up in a burst', () => {
    const r = run({ rate: 2000, durationMs: 1000, stalls: [{ atMs: 250, forMs: 400 }] });
    // about 0.6 s of running at 2000/s; the lost 0.4 s is not made up
    expect(r.writes).toBeLessThanOrEqual(2000 * 0.6 + 200 + 64);
    expect(r.writes).toBeGreaterThan(2000 * 0.6 * 0.8);
    expect(r.maxWritesIn100Ms).toBeLessThanOrEqual(200 + 64);
    // the reported rate counts the stall as running time: at most the paced rate
    expect(r.reportedPagesPerSec).toBeLessThanOrEqual(2000 * 1.05);
  });
});
