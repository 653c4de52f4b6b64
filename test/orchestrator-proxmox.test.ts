/**
 * Proxmox's decisions against PVE/QemuMigrate.pm phase2: the settings before `migrate`, the rise
 * counter (counted only when ram.transferred moved, never reset by a fall), the doubling on the 6th
 * rise until QEMU refuses a limit above 2,000 s, and the poll interval dropping to 100 ms for good.
 */
import { QEMU_MAX_DOWNTIME_MS } from '../src/precopy/orchestrator-port.ts';
import { describe, expect, it } from 'vitest';
import type { MigrationView } from '../src/precopy/orchestrator-port.ts';
import {
  createProxmoxOrchestrator,
  proxmoxStartOverrides,
  proxmoxXbzrleCacheBytes,
  roundPowerOf2,
} from '../src/orchestrator/proxmox.ts';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const SETTINGS = { kind: 'proxmox', migrateDowntime: 0.1 } as const;

function view(over: Partial<MigrationView>): MigrationView {
  return {
    elapsedMs: 0, memoryBytes: 4 * GIB, remainingBytes: GIB, transferredBytes: 0, iterations: 3, dirtyPagesPerSec: 50_000,
    expectedDowntimeMs: 8000, downtimeLimitMs: 100, phase: 'precopy', postcopyCapable: false, ...over,
  };
}

/** Feed remaining-bytes samples, one per poll, each with fresh transferred bytes; the limits it sets, by poll. */
function feed(remaining: readonly number[], transferredStep = 512 * MIB): { poll: number; limitMs: number }[] {
  const o = createProxmoxOrchestrator(SETTINGS);
  const out: { poll: number; limitMs: number }[] = [];
  remaining.forEach((rem, k) => {
    for (const a of o.poll(view({ elapsedMs: (k + 1) * 1000, remainingBytes: rem, transferredBytes: (k + 1) * transferredStep }))) {
      if (a.kind === 'set-downtime') out.push({ poll: k + 1, limitMs: a.downtimeLimitMs });
    }
  });
  return out;
}

describe('proxmox: before migrate', () => {
  it.each([
    [0, 1], [1, 1], [2, 2], [3, 4], [4, 4], [5, 8], [4096, 4096], [4097, 8192],
    // 10 % of 1 GiB and of 4 GiB, as phase2 computes them
    [107_374_182, 128 * MIB], [429_496_729, 512 * MIB],
  ])('round_powerof2(%i) = %i', (x, expected) => {
    expect(roundPowerOf2(x)).toBe(expected);
  });

  it('sets downtime-limit 100 ms, auto-converge and XBZRLE with 10 % of RAM rounded up to a power of two', () => {
    expect(proxmoxXbzrleCacheBytes(GIB)).toBe(128 * MIB);
    expect(proxmoxStartOverrides(SETTINGS, 4 * GIB)).toEqual({ downtimeLimitMs: 100, autoConverge: true, xbzrleCacheBytes: 512 * MIB });
    expect(proxmoxStartOverrides({ kind: 'proxmox', migrateDowntime: 2 }, GIB).downtimeLimitMs).toBe(2000);
  });
});

describe('proxmox: the query-migrate loop', () => {
  it('doubles the limit on the 6th rise of the remaining bytes, rises need not be consecutive', () => {
    // up, down, up, down, …: the counter is never reset by a fall
    const rem = [100, 200, 150, 250, 200, 300, 250, 350, 300, 400, 350, 450].map((m) => m * MIB);
    // rises at polls 2, 4, 6, 8, 10, 12: the 6th is poll 12
    expect(feed(rem)).toEqual([{ poll: 12, limitMs: 200 }]);
  });

  it('five rises are not enough', () => {
    expect(feed([100, 200, 300, 400, 500, 600].map((m) => m * MIB))).toEqual([]);
    expect(feed([100, 200, 300, 400, 500, 600, 700].map((m) => m * MIB))).toEqual([{ poll: 7, limitMs: 200 }]);
  });

  it('counts nothing while ram.transferred stands still', () => {
    const o = createProxmoxOrchestrator(SETTINGS);
    const acts = [];
    for (let k = 1; k <= 20; k++) acts.push(...o.poll(view({ elapsedMs: k * 1000, remainingBytes: k * MIB, transferredBytes: 7 * MIB })));
    expect(acts).toEqual([]);
  });

  it('counts remaining 0 as a rise (`|| ($rem == 0)`)', () => {
    expect(feed([0, 0, 0, 0, 0, 0])).toEqual([{ poll: 6, limitMs: 200 }]);
  });

  it('doubles until QEMU would refuse the next limit (above 2,000 s), then the limit stays', () => {
    const rem = Array.from({ length: 6 * 20 + 1 }, (_, k) => (k + 1) * MIB);
    const limits = feed(rem).map((x) => x.limitMs);
    expect(limits).toEqual([200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 102_400, 204_800, 409_600, 819_200, 1_638_400]);
    expect(Math.max(...limits)).toBeLessThanOrEqual(QEMU_MAX_DOWNTIME_MS);
  });

  it('polls every second, then every 100 ms for good once the remaining bytes are below the average transferred per pass', () => {
    const o = createProxmoxOrchestrator(SETTINGS);
    expect(o.nextPollInMs(view({}))).toBe(1000);
    // poll 1: no average yet; poll 2: average = 1 GiB / 2 = 512 MiB, remaining 600 MiB is above it
    o.poll(view({ remainingBytes: 900 * MIB, transferredBytes: GIB }));
    expect(o.nextPollInMs(view({}))).toBe(1000);
    o.poll(view({ remainingBytes: 600 * MIB, transferredBytes: 2 * GIB }));
    expect(o.nextPollInMs(view({}))).toBe(1000);
    // poll 3: average = 2 GiB / 3 ≈ 683 MiB, remaining 600 MiB is below it
    o.poll(view({ remainingBytes: 600 * MIB, transferredBytes: 3 * GIB }));
    expect(o.nextPollInMs(view({}))).toBe(100);
    o.poll(view({ remainingBytes: 4 * GIB, transferredBytes: 4 * GIB }));
    expect(o.nextPollInMs(view({}))).toBe(100);
  });

  it('does nothing in post-copy', () => {
    const o = createProxmoxOrchestrator(SETTINGS);
    expect(o.poll(view({ phase: 'postcopy', transferredBytes: 5 }))).toEqual([]);
  });
});
