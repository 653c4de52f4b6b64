/**
 * Simulate mode's post-copy figures, from what its port did (simulate-postcopy.ts): QEMU's names and
 * definitions, counted as emulate mode counts them (postcopy/result.ts): postcopy-requests (every
 * fault's request), postcopy-bytes (after the resume), the pause's bytes, blocktime per vCPU and all
 * at once, the latency histogram, and the guest's write rate before, during and after, and the link
 * outage it recovered from (postcopy/figures.ts recoveryRecord, shared with emulate mode). Pure.
 */
import type { Scenario } from '../options.ts';
import type { PrecopyRun } from '../precopy/loop.ts';
import type { MigrationStats } from '../results/migration-stats.ts';
import type { PostcopyRecovery, PostcopyResult } from '../results/postcopy-result.ts';
import { postcopyStats, recoveryRecord, stallFigures } from '../postcopy/figures.ts';
import type { SimPostcopyFacts } from './simulate-postcopy.ts';

const perSec = (writes: number, ms: number): number => (ms > 0 ? (writes * 1000) / ms : 0);

export function simPostcopyResult(run: PrecopyRun, f: SimPostcopyFacts, scenario: Scenario): { stats: MigrationStats; postcopy: PostcopyResult } {
  const figures = stallFigures(f.stalls);
  const pauseMs = run.pauseRequestedAtMs ?? f.resumedAtMs;
  const stats = postcopyStats(run.stats, f, figures);
  const rate = Math.min(scenario.postcopy.maxBandwidth, scenario.link.bandwidth);
  const postcopy: PostcopyResult = {
    startMs: pauseMs,
    resumedMs: f.resumedAtMs,
    completedMs: f.completedAtMs,
    durationMs: f.completedAtMs - f.resumedAtMs,
    missingPages: f.missingPages,
    urgentPages: f.urgentPages,
    backgroundPages: f.backgroundPages,
    droppedPages: 0, // the model never sends a page the destination holds (a page lost to an outage is not there)
    faults: figures.faults,
    preempt: scenario.postcopy.preempt,
    rateLimitBytesPerSec: Number.isFinite(rate) ? rate : null,
    writeRate: {
      beforePagesPerSec: perSec(f.writesAtSwitch, pauseMs),
      duringPagesPerSec: perSec(f.writesAtEnd - f.writesAtSwitch, f.completedAtMs - f.resumedAtMs),
      afterPagesPerSec: f.afterWindowMs > 0 ? perSec(f.writesAfter, f.afterWindowMs) : null,
      afterWindowMs: f.afterWindowMs,
    },
    // nothing is logged or verified in simulate mode (no bytes), and no record is ever dropped
    loggedWrites: 0,
    logDroppedWrites: 0,
    stallRecordsDropped: 0,
    // QEMU's statuses: postcopy-active from the switch, those of a link outage, completed
    statuses: [
      { status: 'postcopy-active', tMs: pauseMs },
      ...f.outageStatuses.map((c) => ({ status: c.status, tMs: c.atMs })),
      { status: 'completed', tMs: f.completedAtMs },
    ],
    recovery: recoveryResult(f),
  };
  return { stats, postcopy };
}

/** The outage block (as emulate's): times, counts, and the extra stall, the vCPUs' stalls within [link down, recovered). */
function recoveryResult(f: SimPostcopyFacts): PostcopyRecovery | null {
  return f.outage === null ? null : recoveryRecord(f.outage, f.stalls);
}
