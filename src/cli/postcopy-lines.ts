/**
 * The terminal lines of a run that completed through post-copy (outcome `postcopy`), printed after the
 * summary table: when it switched, what it sent and why, the guest's stalls in QEMU's terms, and its
 * write rate before, during and after. Pure: numbers only, nothing from the scenario's text.
 */
import type { Colors } from '../report/style.ts';
import type { PrecopyResult } from '../results/document.ts';
import { LATENCY_BUCKETS } from '../postcopy/figures.ts';
import { latencyBucketLabel } from '../results/stall-histogram.ts';
import { formatBytes, formatCount, formatDurationMs } from '../units.ts';

/** A bucket's range in QEMU's power-of-two microseconds: "256µs–512µs" (the same words as the HTML chart's). */
export function bucketLabel(n: number): string {
  return latencyBucketLabel(n, LATENCY_BUCKETS);
}

export function postcopyLines(p: PrecopyResult, c: Colors): string[] {
  const pc = p.postcopy;
  if (!pc) return [];
  const s = p.stats;
  const rate = (v: number | null): string => (v === null ? '—' : formatCount(Math.round(v)));
  const dist = (s['postcopy-latency-dist'] ?? []).map((n, i) => [i, n] as const).filter(([, n]) => n > 0);
  const lines = [
    `${c.bold('post-copy')}  switched at ${formatDurationMs(pc.startMs)}; the guest ran on the destination after ${formatDurationMs(s.downtime ?? 0)} of downtime; every page there at ${formatDurationMs(pc.completedMs)} (${formatDurationMs(pc.durationMs)} of post-copy)`,
    `  pages      ${formatCount(pc.missingPages)} missing at the switch: ${formatCount(pc.urgentPages)} sent on request, ${formatCount(pc.backgroundPages)} pushed${pc.preempt ? ' (preempt: requests ahead of the push)' : ''}; postcopy-requests ${formatCount(s.ram['postcopy-requests'] ?? 0)}, postcopy-bytes ${formatBytes(s.ram['postcopy-bytes'] ?? 0)}`,
    `  stalls     ${formatCount(pc.faults)} faults, mean ${formatDurationMs((s['postcopy-latency'] ?? 0) / 1e6)}; postcopy-blocktime ${formatDurationMs(s['postcopy-blocktime'] ?? 0)} (all vCPUs at once), per vCPU ${(s['postcopy-vcpu-blocktime'] ?? []).map((v) => formatDurationMs(v)).join(', ')}`,
    `  latency    ${dist.length ? dist.map(([i, n]) => `${bucketLabel(i)} ${formatCount(n)}`).join(' · ') : 'no faults'}`,
    `  writes/s   ${rate(pc.writeRate.beforePagesPerSec)} before · ${rate(pc.writeRate.duringPagesPerSec)} during · ${rate(pc.writeRate.afterPagesPerSec)} after`,
  ];
  const o = pc.recovery;
  if (o) {
    lines.push(
      `  outage     the link went down at ${formatDurationMs(o.linkDownMs)} and was back at ${formatDurationMs(o.linkUpMs)}; postcopy-paused from ${formatDurationMs(o.sourcePausedMs)}, active again at ${formatDurationMs(o.recoveredMs)} (${formatDurationMs(o.outageMs)} stood still)`,
      `  recovery   ${formatCount(o.lostPages)} pages lost in flight, ${formatCount(o.resentPages)} sent again from the destination's received bitmap (${formatBytes(o.bitmapBytes)}); extra stall ${formatDurationMs(o.stallMs)} over ${formatCount(o.faults)} faults, the longest ${formatDurationMs(o.longestStallMs)}`,
    );
  }
  if (pc.logDroppedWrites > 0) lines.push(c.yellow(`  not verified: the write log had no room for ${formatCount(pc.logDroppedWrites)} of the guest's post-switch writes`));
  return lines;
}

/** The line of a migration the link killed (outcome `failed`), or none. */
export function failureLines(p: PrecopyResult, c: Colors): string[] {
  if (p.outcome !== 'failed') return [];
  const where = p.guestLost
    ? 'after the switch to post-copy: the guest is lost (split between the hosts, with no recovery: postcopy.recovery off, or a link that never came back)'
    : 'before the switch: the guest goes on running on the source';
  return [c.yellow(`failed     ${p.error ?? 'the link went down'}, ${where}`)];
}
