/**
 * After a migration that completed through post-copy: let the guest run on the destination for a
 * short window (its write rate after), pause it, verify the destination against the frozen source
 * with the logged post-switch writes replayed, and turn the vCPUs' stall records into QEMU's figures.
 */
import type { Clock } from '../clock.ts';
import type { Scenario } from '../options.ts';
import type { PrecopyRun } from '../precopy/loop.ts';
import type { PrecopyResult } from '../results/document.ts';
import type { MigrationStats } from '../results/migration-stats.ts';
import type { PostcopyRecovery, PostcopyResult } from '../results/postcopy-result.ts';
import type { DestinationHandle } from '../transport/destination-handle.ts';
import type { VcpuPool } from '../workload/vcpu-pool.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { verifyGuest } from '../memory/verify.ts';
import type { PostcopyFacts } from './emulate.ts';
import { postcopyStats, recoveryRecord, stallFigures, type Stalls } from './figures.ts';
import { readStalls, type PostcopyShared } from '../memory/postcopy-shared.ts';
import { logCounts, replayWriteLog } from '../memory/write-log.ts';

export const DEFAULT_AFTER_WINDOW_MS = 200;

export interface FinishInput {
  run: PrecopyRun;
  facts: PostcopyFacts;
  shared: PostcopyShared;
  guest: { source: GuestMemory; dest: GuestMemory; deviceState: Uint8Array; destDeviceState: SharedArrayBuffer; vcpus: VcpuPool };
  destination: DestinationHandle;
  scenario: Scenario;
  clock: Clock;
  startedAtMs: number;
  writesAtStart: number;
  afterWindowMs?: number;
}

export interface FinishedPostcopy {
  verified: boolean | null;
  verification: PrecopyResult['verification'];
  stats: MigrationStats;
  postcopy: PostcopyResult;
}

const perSec = (writes: number, ms: number): number => (ms > 0 ? (writes * 1000) / ms : 0);

export async function finishPostcopy(i: FinishInput): Promise<FinishedPostcopy> {
  const { run, facts: f, shared, guest, scenario } = i;
  const afterWindowMs = i.afterWindowMs ?? DEFAULT_AFTER_WINDOW_MS;
  const afterStartMs = i.clock.nowMs();
  const writesAfterStart = guest.vcpus.totalWrites();
  if (afterWindowMs > 0) await i.clock.sleepMs(afterWindowMs);
  await guest.vcpus.pause(); // nothing moves while we compare
  const afterMs = i.clock.nowMs() - afterStartMs;
  const writesAfter = guest.vcpus.totalWrites() - writesAfterStart;

  // The source has been frozen since the switch: replay the guest's post-switch writes onto it.
  let logged = 0;
  let dropped = 0;
  for (const log of shared.logs) {
    const c = logCounts(log);
    dropped += c.dropped;
  }
  let verified: boolean | null = null;
  let verification: PrecopyResult['verification'] = null;
  if (dropped === 0) {
    for (const log of shared.logs) logged += replayWriteLog(log, shared.writeBytes, guest.source);
    const report = verifyGuest(guest.source, guest.dest, guest.deviceState, new Uint8Array(guest.destDeviceState));
    verified = report.equal;
    verification = { badPages: report.badPages, firstBadPage: report.firstBadPage, deviceStateEqual: report.deviceStateEqual };
  } else {
    for (const log of shared.logs) logged += logCounts(log).entries;
  }

  const stalls = shared.stalls.map(readStalls);
  const figures = stallFigures(stalls.map((s) => s.stalls));
  const pauseMs = run.pauseRequestedAtMs ?? f.resumedAtMs;
  const stats = postcopyStats(run.stats, f, figures);
  const rate = Math.min(scenario.postcopy.maxBandwidth, scenario.link.bandwidth);
  const postcopy: PostcopyResult = {
    startMs: pauseMs - i.startedAtMs,
    resumedMs: f.resumedAtMs - i.startedAtMs,
    completedMs: f.completedAtMs - i.startedAtMs,
    durationMs: f.completedAtMs - f.resumedAtMs,
    missingPages: f.missingPages,
    urgentPages: f.urgentPages,
    backgroundPages: f.backgroundPages,
    droppedPages: i.destination.droppedPages,
    faults: figures.faults,
    preempt: scenario.postcopy.preempt,
    rateLimitBytesPerSec: Number.isFinite(rate) ? rate : null,
    writeRate: {
      beforePagesPerSec: perSec(f.writesAtSwitch - i.writesAtStart, pauseMs - i.startedAtMs),
      duringPagesPerSec: perSec(f.writesAtEnd - f.writesAtSwitch, f.completedAtMs - f.resumedAtMs),
      afterPagesPerSec: afterWindowMs > 0 ? perSec(writesAfter, afterMs) : null,
      afterWindowMs: afterWindowMs > 0 ? afterMs : 0,
    },
    loggedWrites: logged,
    logDroppedWrites: dropped,
    stallRecordsDropped: stalls.reduce((s, x) => s + x.dropped, 0),
    statuses: f.statuses.map((c) => ({ status: c.status, tMs: c.atMs - i.startedAtMs })),
    recovery: recoveryResult(f, i.destination, stalls.map((x) => x.stalls), i.startedAtMs),
  };
  return { verified, verification, stats, postcopy };
}

/**
 * The outage block: the source's times and counts, the destination's (absolute ms, one clock for the
 * threads: clock.ts), and the extra stall, the vCPUs' stalls within [link down, recovered).
 */
function recoveryResult(f: PostcopyFacts, destination: DestinationHandle, stalls: readonly Stalls[], startedAtMs: number): PostcopyRecovery | null {
  const o = f.outage;
  if (o === null) return null;
  const d = destination.outage;
  return recoveryRecord({ ...o, destinationPausedAtMs: d.pausedAtMs, lostFrames: d.lostFrames, lostPages: d.lostPages }, stalls, startedAtMs);
}
