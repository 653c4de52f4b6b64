/**
 * The terminal lines of a run that completed through post-copy (outcome `postcopy`), printed after the
 * summary table with only what the table has no room for: the stalls' latency histogram (QEMU's
 * postcopy-latency-dist), a link outage and its recovery, and a write log that overflowed. Pure:
 * numbers only, nothing from the scenario's text.
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

/** QEMU's postcopy-latency-dist as one line of its non-empty buckets: "32µs–64µs 302 · 64µs–128µs 36,983". */
export function latencyText(dist: readonly number[] | undefined): string {
  const buckets = (dist ?? []).map((n, i) => [i, n] as const).filter(([, n]) => n > 0);
  return buckets.length ? buckets.map(([i, n]) => `${bucketLabel(i)} ${formatCount(n)}`).join(' · ') : 'no faults';
}

export function postcopyLines(p: PrecopyResult, c: Colors): string[] {
  const pc = p.postcopy;
  if (!pc) return [];
  const lines = [`${c.bold('post-copy')}  stall latency ${latencyText(p.stats['postcopy-latency-dist'])}`];
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
