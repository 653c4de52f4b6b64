/**
 * The rules every mode shares (written once in src/precopy/): the throttle step, what a trigger
 * firing does, the policy's input at a sync, QEMU's ram statistics and the result block.
 */
import { describe, expect, it } from 'vitest';
import { aidsAfterTrigger, nextThrottlePercent } from '../src/precopy/aids.ts';
import { policyInput } from '../src/precopy/policies.ts';
import { compressionResult, outcomeReason, precopyResult, type ModeParts } from '../src/precopy/result.ts';
import { ramStats } from '../src/precopy/stats.ts';

const AC = { initial: 20, increment: 10, max: 99, triggerThreshold: 50 };

describe('nextThrottlePercent: QEMU cpu-throttle-initial, then + increment, capped at max', () => {
  it.each([
    [0, AC, 20],
    [20, AC, 30],
    [90, AC, 99],
    [99, AC, 99],
    [0, { ...AC, initial: 5, increment: 50, max: 60 }, 5],
    [5, { ...AC, initial: 5, increment: 50, max: 60 }, 55],
    [55, { ...AC, initial: 5, increment: 50, max: 60 }, 60],
  ])('from %d %% → %d %%', (from, config, to) => {
    expect(nextThrottlePercent(from, config)).toBe(to);
  });
});

describe('aidsAfterTrigger', () => {
  it.each([
    ['dirty-limit arms and leaves the throttle', { autoConverge: null, dirtyLimitPagesPerSec: 100 }, { throttlePercent: 0, dirtyLimitArmed: false }, { throttlePercent: 0, dirtyLimitArmed: true }],
    ['dirty-limit wins over auto-converge', { autoConverge: AC, dirtyLimitPagesPerSec: 100 }, { throttlePercent: 0, dirtyLimitArmed: false }, { throttlePercent: 0, dirtyLimitArmed: true }],
    ['auto-converge takes a step', { autoConverge: AC, dirtyLimitPagesPerSec: null }, { throttlePercent: 20, dirtyLimitArmed: false }, { throttlePercent: 30, dirtyLimitArmed: false }],
    ['no aid: nothing moves', { autoConverge: null, dirtyLimitPagesPerSec: null }, { throttlePercent: 0, dirtyLimitArmed: false }, { throttlePercent: 0, dirtyLimitArmed: false }],
  ] as const)('%s', (_name, settings, state, expected) => {
    expect(aidsAfterTrigger(settings, state)).toEqual(expected);
  });
});

describe('policyInput', () => {
  it('derives the pending bytes from the pages and passes the rest through', () => {
    const facts = {
      pendingPages: 3, dirtyPagesAtSync: 7, sentPagesThisRound: 11, sentPagesPrevRound: null, liveRounds: 2, elapsedMs: 150,
      bandwidthBytesPerSec: 1e6, roundBandwidthBytesPerSec: 2e6, totalSentBytes: 99, memoryBytes: 1 << 20, pageSizeBytes: 4096,
    };
    expect(policyInput(facts)).toEqual({ ...facts, pendingBytes: 3 * 4096 });
  });
});

describe('ramStats', () => {
  const facts = {
    transferredBytes: 8_000_000, transferredPages: 2000, zeroPages: 500, normalPages: 1400, remainingBytes: 0,
    memoryBytes: 8 << 20, pageSizeBytes: 4096, dirtySyncCount: 4, dirtyPagesPerSec: 123, precopyBytes: 7_000_000,
    downtimeBytes: 1_000_000, totalTimeMs: 1100, setupTimeMs: 100,
  };
  it('has QEMU\'s keys in QEMU\'s order, rates over the time less setup', () => {
    const r = ramStats(facts);
    expect(Object.keys(r)).toEqual([
      'transferred', 'remaining', 'total', 'duplicate', 'normal', 'normal-bytes', 'dirty-sync-count', 'dirty-pages-rate',
      'mbps', 'pages-per-second', 'precopy-bytes', 'downtime-bytes', 'page-size',
    ]);
    expect(r['normal-bytes']).toBe(1400 * 4096);
    expect(r.mbps).toBeCloseTo(64, 9); // 8 MB in 1 s = 64 Mbit/s
    expect(r['pages-per-second']).toBeCloseTo(2000, 9);
  });
  it('gives 0 rates when no transfer time passed', () => {
    const r = ramStats({ ...facts, totalTimeMs: 100 });
    expect([r.mbps, r['pages-per-second']]).toEqual([0, 0]);
  });
});

describe('precopyResult', () => {
  const run = {
    outcome: { outcome: 'forced-stop', reason: 'max-rounds' } as const,
    stats: { status: 'completed' as const, 'total-time': 1, 'setup-time': 0, downtime: 1, 'expected-downtime': 1, ram: ramStats({
      transferredBytes: 0, transferredPages: 0, zeroPages: 0, normalPages: 0, remainingBytes: 0, memoryBytes: 0, pageSizeBytes: 4096,
      dirtySyncCount: 0, dirtyPagesPerSec: 0, precopyBytes: 0, downtimeBytes: 0, totalTimeMs: 0, setupTimeMs: 0,
    }) },
    rounds: [], series: [], engineBound: false,
    engine: { liveRateLimitBytesPerSec: null, liveBytesPerSec: 0, liveDurationMs: 0, linkWaitMs: 0, ringWaitMs: 0, destinationWaitMs: 0 },
  };
  const parts = {
    verified: true, verification: null,
    workload: { targetPagesPerSec: 0, achievedPagesPerSec: 0, perVcpuPagesPerSec: [] }, deviceStateBytes: 0, xbzrle: null, compression: null,
  } satisfies ModeParts;
  it('names the reason and keeps the documents\' key order; no channels key when the mode has none', () => {
    const r = precopyResult(run, parts);
    expect(r.reason).toBe('max-rounds');
    expect(Object.keys(r)).toEqual(['outcome', 'reason', 'error', 'verified', 'verification', 'stats', 'rounds', 'series', 'engineBound', 'engine', 'workload', 'deviceStateBytes', 'xbzrle', 'compression']);
  });
  it('puts the channels before xbzrle when given', () => {
    const r = precopyResult(run, { ...parts, channels: { count: 1, lanes: [], dispatchWaitMs: 0, flushes: 0, flushWaitMs: 0 } });
    expect(Object.keys(r).slice(-3)).toEqual(['channels', 'xbzrle', 'compression']);
  });
  it.each([
    [{ outcome: 'converged' } as const, null],
    [{ outcome: 'cancelled', reason: 'interrupted' } as const, 'interrupted'],
    [{ outcome: 'forced-stop', reason: 'traffic-cap' } as const, 'traffic-cap'],
  ])('outcomeReason(%o) = %s', (o, reason) => {
    expect(outcomeReason(o)).toBe(reason);
  });
});

describe('compressionResult', () => {
  it('is null when off, and the ratio is null when nothing came out', () => {
    expect(compressionResult('none', 1, { frames: 3, inputBytes: 10, outputBytes: 5 })).toBeNull();
    expect(compressionResult('zlib', 6, { frames: 0, inputBytes: 0, outputBytes: 0 })).toEqual({ codec: 'zlib', level: 6, frames: 0, inputBytes: 0, outputBytes: 0, ratio: null });
    expect(compressionResult('zstd', 1, { frames: 2, inputBytes: 100, outputBytes: 25 })?.ratio).toBe(4);
  });
});
