/**
 * Replay a fitted scenario in simulate mode and hold it beside the log: total time, bytes, syncs,
 * downtime, outcome (each with the replay's error relative to the log), and `remaining` over time for
 * both, resampled on one time grid for a sparkline.
 */
import { resolveScenario } from '../options.ts';
import type { PrecopyResult } from '../results/document.ts';
import { simulateScenario } from '../sim/run-simulated.ts';
import type { FitResult, LogSummary } from './fit.ts';

export interface ReplayRow {
  readonly metric: 'total time' | 'bytes' | 'syncs' | 'downtime' | 'outcome';
  /** unit of `log` and `replay` */
  readonly unit: 'ms' | 'bytes' | 'count' | null;
  readonly log: number | string | null;
  readonly replay: number | string | null;
  /** (replay − log) ÷ log; null for the outcome or a figure missing on either side */
  readonly relativeError: number | null;
}

export interface Replay {
  readonly rows: readonly ReplayRow[];
  readonly replayRemaining: readonly { readonly tMs: number; readonly bytes: number }[];
  readonly logRemaining: LogSummary['remaining'];
}

const rel = (log: number | null, replay: number | null): number | null => (log === null || replay === null || log === 0 ? null : (replay - log) / log);

/** Compare the log with a simulated pre-copy result of the fitted scenario (pure). */
export function compareReplay(log: LogSummary, p: PrecopyResult): Replay {
  const st = p.stats;
  const num = (metric: ReplayRow['metric'], unit: ReplayRow['unit'], a: number | null, b: number | null): ReplayRow => ({ metric, unit, log: a, replay: b, relativeError: rel(a, b) });
  const rows: ReplayRow[] = [
    num('total time', 'ms', log.totalTimeMs, st['total-time']),
    num('bytes', 'bytes', log.transferredBytes, st.ram.transferred),
    num('syncs', 'count', log.syncs, st.ram['dirty-sync-count']),
    num('downtime', 'ms', log.downtimeMs, st.downtime),
    // QEMU says "completed" where migbench says "converged"
    { metric: 'outcome', unit: null, log: log.outcome, replay: p.outcome === 'converged' ? 'completed' : `${p.outcome}${p.reason ? ` (${p.reason})` : ''}`, relativeError: null },
  ];
  const replayRemaining = [{ tMs: 0, bytes: st.ram.total }, ...p.series.map((s) => ({ tMs: s.tMs, bytes: s.remainingBytes })), { tMs: st['total-time'], bytes: 0 }];
  // both curves start from the whole guest pending at 0 ms (QEMU's first poll comes ~100 ms in)
  const logRemaining = log.remaining.length > 0 && log.remaining[0].tMs > 0 ? [{ tMs: 0, bytes: log.ramTotalBytes }, ...log.remaining] : log.remaining;
  return { rows, replayRemaining, logRemaining };
}

/** Run the fitted scenario in simulate mode (pre-copy only) and compare it with the log. */
export async function replayFit(fit: FitResult): Promise<Replay & { result: PrecopyResult }> {
  const doc = await simulateScenario(resolveScenario(fit.scenario), { methods: ['precopy'] });
  const result = doc.precopy!;
  return { ...compareReplay(fit.log, result), result };
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * Step-resample a curve at `width` points over [0, endMs] (the last value at or before each point)
 * and draw it with eight levels relative to `maxBytes`. Pure.
 */
export function sparkline(curve: readonly { tMs: number; bytes: number }[], endMs: number, maxBytes: number, width: number): string {
  let out = '';
  let k = 0;
  for (let i = 0; i < width; i++) {
    const t = (endMs * i) / Math.max(1, width - 1);
    while (k + 1 < curve.length && curve[k + 1].tMs <= t) k++;
    const v = curve.length === 0 || curve[0].tMs > t ? 0 : curve[k].bytes;
    out += maxBytes > 0 && v > 0 ? BARS[Math.min(7, Math.max(0, Math.ceil((v / maxBytes) * 8) - 1))] : ' ';
  }
  return out;
}
