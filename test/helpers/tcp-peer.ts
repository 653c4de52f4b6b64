/**
 * The sender's side of the tcp peer tests (tcp-peer-failures, tcp-peer-quiet): a small guest migrated
 * over tcp to an in-process receiver (fake-receiver.ts) on `port`, and the run with its stall limit.
 */
import { resolveScenario, type Scenario } from '../../src/options.ts';
import { createSourceGuest, migratePrecopy } from '../../src/run.ts';
import type { PrecopyResult } from '../../src/results/document.ts';
import { until } from './until.ts';

/** A hot-set guest migrated over tcp to 127.0.0.1:`port` with `channels` (the timeout is a hang guard). */
export function peerScenario(port: number, channels: number, o: { name: string; memory: string; dirtyRate: string; workingSet: string; bandwidth: string }): Scenario {
  return resolveScenario({
    name: o.name,
    guest: { memory: o.memory, vcpus: 1, deviceState: '64KiB' },
    workload: { pattern: 'hotset', dirtyRate: o.dirtyRate, workingSet: o.workingSet, hotFraction: 0.9 },
    link: { bandwidth: o.bandwidth, transport: 'tcp', target: `127.0.0.1:${port}` },
    precopy: { timeoutMs: 60_000, channels },
  });
}

/**
 * Migrate `scenario` with the run's waits on the receiver bounded by `stallLimitMs` beyond the link's
 * needs. After a failed run, wait until the guest writes again on the source. The guest is disposed.
 */
export async function migrateToReceiver(scenario: Scenario, stallLimitMs: number): Promise<{ p: PrecopyResult; tookMs: number; paused: boolean }> {
  const guest = await createSourceGuest(scenario);
  try {
    const startedMs = performance.now();
    const p = await migratePrecopy(guest, { stallLimitMs });
    const tookMs = performance.now() - startedMs;
    const paused = guest.vcpus.isAnyPaused();
    const writes = guest.vcpus.totalWrites();
    if (p.outcome === 'failed') await until('the guest writes on the source', () => guest.vcpus.totalWrites() > writes, 30_000);
    return { p, tookMs, paused };
  } finally {
    await guest.dispose();
  }
}
