/**
 * What a sweep keeps of one run: its pre-copy figures. Pure; shared by the sweep runner and the
 * simulate-mode workers (src/pool/pool.ts), which return these instead of whole documents.
 */
import type { ResultDocument } from './document.ts';

export interface SweepRun {
  outcome: string;
  reason: string | null;
  /** null in simulate mode (no bytes moved, nothing to verify) */
  verified: boolean | null;
  totalTimeMs: number | null;
  downtimeMs: number | null;
  transferredBytes: number | null;
  rounds: number;
  guestSlowdown: number | null;
  /** the scenario seed the run used (simulate mode varies it from run to run: see runSeed in run-sweep.ts) */
  seed: number;
}

/**
 * One pre-copy run's figures. Guest slowdown: achieved ÷ asked page writes over the live rounds.
 * A run counts as done when it completed and verified (emulate) or completed (simulate: nothing to verify).
 */
export function runFigures(doc: ResultDocument): SweepRun {
  const p = doc.precopy!;
  const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy');
  const liveMs = live.reduce((a, r) => a + r.durationMs, 0);
  const slowdown = live.every((r) => r.guestSlowdown !== null) && liveMs > 0 ? live.reduce((a, r) => a + r.guestSlowdown! * r.durationMs, 0) / liveMs : null;
  const verified = p.verified === true || (doc.mode === 'simulate' && p.verified === null);
  const done = p.stats.status === 'completed' && verified;
  return {
    outcome: p.outcome,
    reason: p.reason,
    verified: p.verified,
    totalTimeMs: done ? p.stats['total-time'] : null,
    downtimeMs: done ? p.stats.downtime : null,
    transferredBytes: p.stats.ram.transferred,
    rounds: p.rounds.length,
    guestSlowdown: slowdown,
    seed: (doc.scenario as { seed: number }).seed,
  };
}
