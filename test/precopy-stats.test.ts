import { describe, expect, it } from 'vitest';
import { isEngineBound, throughput } from '../src/precopy/stats.ts';

describe('isEngineBound', () => {
  const base = { liveRateLimitBytesPerSec: 1e9, liveBytesPerSec: 5e8, liveDurationMs: 1000, linkWaitMs: 0 };
  it.each<[string, Partial<typeof base>, boolean]>([
    ['well below a finite limit, never held back', {}, true],
    ['at the limit', { liveBytesPerSec: 0.95e9 }, false],
    ['just under 90% of the limit', { liveBytesPerSec: 0.89e9 }, true],
    ['no limit (unlimited link)', { liveRateLimitBytesPerSec: Infinity }, false],
    ['too short to measure', { liveDurationMs: 150 }, false],
    ['exactly two windows', { liveDurationMs: 200 }, true],
    ['held back by the rate limiter 10% of the time', { linkWaitMs: 100 }, false],
    ['held back a little', { linkWaitMs: 99 }, true],
  ])('%s → %s', (_what, over, expected) => {
    expect(isEngineBound({ ...base, ...over })).toBe(expected);
  });
});

describe('throughput (QEMU completion formulas)', () => {
  it('mbps and pages per second over total time less setup', () => {
    expect(throughput(125_000_000, 1000, 1100, 100)).toEqual({ mbps: 1000, pagesPerSecond: 1000 });
  });
  it('zero transfer time gives zeros, not Infinity', () => {
    expect(throughput(10, 1, 100, 100)).toEqual({ mbps: 0, pagesPerSecond: 0 });
  });
});
