/**
 * The terminal lines of a quick migration with a lazy restore (quick.restore "lazy"), printed after the
 * summary table: when the guest resumed and when the last page was in place, what was read before the
 * resume, on demand and in the background, and the guest's stalls with post-copy's figures. Pure:
 * numbers only, nothing from the scenario's text.
 */
import type { Colors } from '../report/style.ts';
import type { QuickResult } from '../results/quick-result.ts';
import { formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { bucketLabel } from './postcopy-lines.ts';

export function lazyRestoreLines(q: QuickResult, simulated: boolean, c: Colors): string[] {
  const l = q.lazy;
  if (!l) return [];
  const s = q.stats;
  const dist = (s['postcopy-latency-dist'] ?? []).map((n, i) => [i, n] as const).filter(([, n]) => n > 0);
  const modelled = simulated ? ' (modelled)' : '';
  const lines = [
    `${c.bold('lazy restore')}${modelled}  the guest ran on the destination after ${formatDurationMs(l.resumedMs)} of downtime; every page there at ${l.completedMs === null ? '— (failed)' : formatDurationMs(l.completedMs)}`,
    `  read       ${formatBytes(l.bytesBeforeResume)} before the resume; ${formatCount(l.faultPages)} pages on demand (${formatBytes(l.faultBytes)}), ${formatCount(l.zeroFaultPages)} zero pages on demand, ${formatCount(l.backgroundPages)} in the background (${formatBytes(l.backgroundBytes)})`,
    `  stalls     ${formatCount(l.faults)} faults, mean ${formatDurationMs((s['postcopy-latency'] ?? 0) / 1e6)}${s['postcopy-blocktime'] === undefined ? '' : `; postcopy-blocktime ${formatDurationMs(s['postcopy-blocktime'])} (all vCPUs at once)`}, per vCPU ${(s['postcopy-vcpu-blocktime'] ?? []).map((v) => formatDurationMs(v)).join(', ')}`,
  ];
  if (!simulated) lines.push(`  latency    ${dist.length ? dist.map(([i, n]) => `${bucketLabel(i)} ${formatCount(n)}`).join(' · ') : 'no faults'}`);
  if (l.guestLost) lines.push(c.red('  guest lost: the restore failed after the resume; the guest had run on the destination and was stopped there'));
  else if (l.logDroppedWrites > 0) lines.push(c.yellow(`  not verified: the write log had no room for ${formatCount(l.logDroppedWrites)} of the guest's writes after the resume`));
  return lines;
}
