/**
 * Pre-copy beside quick migration: the ratios and a one-line verdict, computed from the two result
 * blocks alone (pure). A live migration that switched to post-copy is named "post-copy" in the verdict:
 * its downtime and total time are post-copy's, not those of a pre-copy that stopped and copied.
 */
import type { QuickResult } from './quick-result.ts';
import { formatBytes, formatDurationMs } from '../units.ts';
import type { MethodComparison, PrecopyResult } from './document.ts';
import { usedPostcopy } from './postcopy-figures.ts';

function times(r: number): string {
  return r >= 1 ? `${r.toFixed(r >= 10 ? 0 : 1)}×` : `${(1 / r).toFixed(1 / r >= 10 ? 0 : 1)}×`;
}

export function compareMethods(p: PrecopyResult, q: QuickResult): MethodComparison {
  // verified is null only in simulate mode (no bytes to compare); a completed emulated run is true or false
  const live = usedPostcopy(p) ? 'post-copy' : 'pre-copy';
  const pOk = p.stats.status === 'completed' && p.verified !== false;
  const qOk = q.stats.status === 'completed' && q.verified !== false;
  if (!pOk || !qOk) {
    const failed = [!pOk ? `${live} ${p.outcome}${p.verified === false ? ' (not verified)' : ''}` : null, !qOk ? `quick migration ${q.outcome}${q.verified === false ? ' (not verified)' : ''}` : null]
      .filter(Boolean)
      .join(' and ');
    return { downtimeRatio: null, totalTimeRatio: null, bytesRatio: null, verdict: `no comparison: ${failed}` };
  }
  const pd = p.stats.downtime!;
  const qd = q.stats.downtime!;
  const pt = p.stats['total-time'];
  const qt = q.stats['total-time'];
  const downtimeRatio = pd > 0 ? qd / pd : null;
  const totalTimeRatio = pt > 0 ? qt / pt : null;
  const bytesRatio = p.stats.ram.transferred > 0 ? q.savedBytes / p.stats.ram.transferred : null;
  const pauseWinner =
    downtimeRatio === null ? '' : downtimeRatio >= 1
      ? `${live} paused the guest ${times(downtimeRatio)} less (${formatDurationMs(pd)} against ${formatDurationMs(qd)})`
      : `quick migration paused the guest ${times(downtimeRatio)} less (${formatDurationMs(qd)} against ${formatDurationMs(pd)})`;
  const totalWinner =
    totalTimeRatio === null ? '' : Math.abs(totalTimeRatio - 1) < 0.05
      ? `both took about as long in total (${formatDurationMs(pt)} against ${formatDurationMs(qt)})`
      : totalTimeRatio < 1
        ? `quick migration finished ${times(totalTimeRatio)} sooner (${formatDurationMs(qt)} against ${formatDurationMs(pt)})`
        : `${live} also finished ${times(totalTimeRatio)} sooner (${formatDurationMs(pt)} against ${formatDurationMs(qt)})`;
  const bytes = `moving ${formatBytes(p.stats.ram.transferred)} over the link against ${formatBytes(q.savedBytes)} to storage`;
  const converged =
    p.outcome === 'converged' ? '' : usedPostcopy(p) ? ` (pre-copy did not converge: it switched to post-copy at ${formatDurationMs(p.postcopy.startMs)})` : ` (pre-copy did not converge: ${p.outcome}, ${p.reason})`;
  return { downtimeRatio, totalTimeRatio, bytesRatio, verdict: `${pauseWinner}; ${totalWinner}, ${bytes}${converged}` };
}
