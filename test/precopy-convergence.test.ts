import { describe, expect, it } from 'vitest';
import {
  type ConvergenceSettings, type Decision, decideAfterSync, decideOnTime, expectedDowntimeMs, iterationEnded, shouldSync,
  switchoverThresholdBytes,
} from '../src/precopy/convergence.ts';

const CONTINUE: Decision = { action: 'continue' };
const CONVERGED: Decision = { action: 'stop-and-copy', outcome: { outcome: 'converged' } };
const MAX_ROUNDS: Decision = { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'max-rounds' } };
const FORCE_TIMEOUT: Decision = { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'timeout' } };
const CANCEL_TIMEOUT: Decision = { action: 'cancel', outcome: { outcome: 'cancelled', reason: 'timeout' } };

function settings(over: Partial<ConvergenceSettings> = {}): ConvergenceSettings {
  return { downtimeLimitMs: 300, maxRounds: 30, timeoutMs: 120_000, onTimeout: 'cancel', ...over };
}

describe('switchoverThresholdBytes = bandwidth × downtime limit', () => {
  it.each([
    // bandwidth B/s, downtime limit ms, threshold bytes
    [125_000_000, 300, 37_500_000], // 1 Gbit/s, QEMU's default 300 ms
    [125_000_000, 1, 125_000],
    [1_000, 1_000, 1_000],
    [1_000_000, 0, 0],
    [0, 300, 0], // nothing measured yet: nothing is small enough but 0 pending
    [12_500_000, 50, 625_000],
    [1.25e9, 300, 375_000_000],
    [3, 1, 0.003],
  ])('%d B/s × %d ms = %d bytes', (bw, limit, expected) => {
    expect(switchoverThresholdBytes(bw, limit)).toBeCloseTo(expected, 9);
  });
});

describe('shouldSync: remaining <= threshold', () => {
  it.each([
    [0, 0, true],
    [0, 100, true],
    [99, 100, true],
    [100, 100, true], // equal: sync (the exact count decides afterwards)
    [101, 100, false],
    [1, 0, false],
    [37_500_000, 37_500_000, true],
    [37_500_001, 37_500_000, false],
  ])('remaining %d, threshold %d -> %s', (remaining, threshold, expected) => {
    expect(shouldSync(remaining, threshold)).toBe(expected);
  });
});

describe('decideAfterSync', () => {
  type Row = [string, Partial<ConvergenceSettings>, { pendingBytes: number; thresholdBytes: number; liveRounds: number; elapsedMs: number }, Decision];
  const rows: Row[] = [
    // --- convergence
    ['nothing pending', {}, { pendingBytes: 0, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 10 }, CONVERGED],
    ['nothing pending, threshold 0 (no bandwidth yet)', {}, { pendingBytes: 0, thresholdBytes: 0, liveRounds: 1, elapsedMs: 10 }, CONVERGED],
    ['pending below the threshold', {}, { pendingBytes: 999, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 10 }, CONVERGED],
    ['pending one byte below', {}, { pendingBytes: 4095, thresholdBytes: 4096, liveRounds: 2, elapsedMs: 10 }, CONVERGED],
    ['pending == threshold is NOT converged', {}, { pendingBytes: 1000, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 10 }, CONTINUE],
    ['pending above the threshold', {}, { pendingBytes: 1001, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 10 }, CONTINUE],
    ['one page pending, threshold 0', {}, { pendingBytes: 4096, thresholdBytes: 0, liveRounds: 1, elapsedMs: 10 }, CONTINUE],
    ['right after the bulk round, above', {}, { pendingBytes: 1 << 30, thresholdBytes: 37_500_000, liveRounds: 1, elapsedMs: 9000 }, CONTINUE],
    // --- max rounds
    ['max rounds reached', { maxRounds: 5 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 5, elapsedMs: 10 }, MAX_ROUNDS],
    ['max rounds passed', { maxRounds: 5 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 6, elapsedMs: 10 }, MAX_ROUNDS],
    ['one round before max rounds', { maxRounds: 5 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 4, elapsedMs: 10 }, CONTINUE],
    ['max rounds 1: stop after the bulk round', { maxRounds: 1 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 1, elapsedMs: 10 }, MAX_ROUNDS],
    ['no round limit (null)', { maxRounds: null }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 10_000, elapsedMs: 10 }, CONTINUE],
    ['pending == threshold at max rounds: forced, not converged', { maxRounds: 3 }, { pendingBytes: 1000, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 10 }, MAX_ROUNDS],
    // --- timeout
    ['timeout reached, cancel', { onTimeout: 'cancel', timeoutMs: 1000 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 1000 }, CANCEL_TIMEOUT],
    ['timeout passed, cancel', { onTimeout: 'cancel', timeoutMs: 1000 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 5000 }, CANCEL_TIMEOUT],
    ['timeout reached, force', { onTimeout: 'force', timeoutMs: 1000 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 1000 }, FORCE_TIMEOUT],
    ['just before the timeout', { onTimeout: 'force', timeoutMs: 1000 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 999.999 }, CONTINUE],
    // --- precedence: converging beats max-rounds beats timeout
    ['converged beats max rounds', { maxRounds: 2 }, { pendingBytes: 10, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 10 }, CONVERGED],
    ['converged beats timeout (cancel)', { onTimeout: 'cancel', timeoutMs: 100 }, { pendingBytes: 10, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 500 }, CONVERGED],
    ['converged beats timeout (force)', { onTimeout: 'force', timeoutMs: 100 }, { pendingBytes: 0, thresholdBytes: 0, liveRounds: 2, elapsedMs: 500 }, CONVERGED],
    ['converged beats both', { maxRounds: 2, onTimeout: 'cancel', timeoutMs: 100 }, { pendingBytes: 10, thresholdBytes: 1000, liveRounds: 9, elapsedMs: 500 }, CONVERGED],
    ['max rounds beats timeout (cancel)', { maxRounds: 2, onTimeout: 'cancel', timeoutMs: 100 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 2, elapsedMs: 500 }, MAX_ROUNDS],
    ['max rounds beats timeout (force)', { maxRounds: 2, onTimeout: 'force', timeoutMs: 100 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 500 }, MAX_ROUNDS],
    ['timeout when rounds are below the limit', { maxRounds: 20, onTimeout: 'cancel', timeoutMs: 100 }, { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 3, elapsedMs: 500 }, CANCEL_TIMEOUT],
  ];

  it.each(rows)('%s', (_name, over, state, expected) => {
    expect(decideAfterSync(settings(over), state)).toEqual(expected);
  });

  it('is pure: same inputs, same answer; inputs untouched', () => {
    const s = settings({ maxRounds: 4 });
    const state = { pendingBytes: 5000, thresholdBytes: 1000, liveRounds: 4, elapsedMs: 10 };
    const copy = { ...state };
    expect(decideAfterSync(s, state)).toEqual(decideAfterSync(s, state));
    expect(state).toEqual(copy);
  });
});

describe('decideOnTime (between batches: only the timeout)', () => {
  it.each([
    ['cancel', 1000, 0, CONTINUE],
    ['cancel', 1000, 999, CONTINUE],
    ['cancel', 1000, 1000, CANCEL_TIMEOUT],
    ['cancel', 1000, 1e9, CANCEL_TIMEOUT],
    ['force', 1000, 999, CONTINUE],
    ['force', 1000, 1000, FORCE_TIMEOUT],
    ['force', 1000, 2000, FORCE_TIMEOUT],
    ['force', 0, 0, FORCE_TIMEOUT],
    ['cancel', Infinity, 1e12, CONTINUE],
  ] as const)('onTimeout %s, timeout %d ms, elapsed %d ms', (onTimeout, timeoutMs, elapsed, expected) => {
    expect(decideOnTime(settings({ onTimeout, timeoutMs }), elapsed)).toEqual(expected);
  });

  it('ignores rounds and pending bytes: max rounds alone never ends a batch', () => {
    expect(decideOnTime(settings({ maxRounds: 0 }), 10)).toEqual(CONTINUE);
  });
});

describe('expectedDowntimeMs = pending / bandwidth', () => {
  it.each([
    [0, 125_000_000, 0],
    [0, 0, 0], // nothing pending: 0 even without a bandwidth
    [37_500_000, 125_000_000, 300],
    [125_000_000, 125_000_000, 1000],
    [4096, 4_096_000, 1],
    [1, 1000, 1],
    [4096, 0, Infinity], // zero bandwidth
    [1, 0, Infinity],
    [4096, -5, Infinity],
  ])('%d bytes at %d B/s -> %d ms', (pending, bw, expected) => {
    const got = expectedDowntimeMs(pending, bw);
    if (expected === Infinity) expect(got).toBe(Infinity);
    else expect(got).toBeCloseTo(expected, 9);
  });

  it('pending at exactly the threshold predicts exactly the downtime limit', () => {
    for (const [bw, limit] of [[125e6, 300], [1e6, 50], [3.3e9, 17]] as const) {
      const threshold = switchoverThresholdBytes(bw, limit);
      expect(expectedDowntimeMs(threshold, bw)).toBeCloseTo(limit, 9);
    }
  });
});

describe('iterationEnded: QEMU checks its pending estimate once per iteration (ram_save_iterate)', () => {
  const MiB = 2 ** 20;
  it.each([
    // pending pages, bytes since the sync, ms since the sync, live rate B/s, ended?
    [0, 0, 0, 32 * MiB, true], // nothing left to send: the next iteration syncs at once
    [10, 0, 0, 32 * MiB, false],
    [10, 3.2 * MiB - 1, 99.9, 32 * MiB, false], // the window's budget (rate ÷ 10) not spent, the window not over
    [10, 3.2 * MiB, 1, 32 * MiB, true], // the budget spent
    [10, 10, 100, 32 * MiB, true], // the window is over (a sender slower than the link)
    [10, 1e12, 49.9, Infinity, false], // no rate limit: MAX_WAIT (50 ms) ends an iteration
    [10, 0, 50, Infinity, true],
    [0, 0, 0, Infinity, true],
  ])('%d pending, %d B and %d ms since the sync at %d B/s: %s', (pendingPages, bytesSinceSync, msSinceSync, liveRateBytesPerSec, ended) => {
    expect(iterationEnded({ pendingPages, bytesSinceSync, msSinceSync, liveRateBytesPerSec })).toBe(ended);
  });
});
