/**
 * The figures of a migration that switched to post-copy, as the reports show them in their "post-copy"
 * column (terminal summary, markdown, HTML): read from the document's `precopy` block alone (pure).
 * The same migration's pre-copy phase (the live rounds up to the switch) stays in the "pre-copy" column.
 */
import type { PrecopyResult } from './document.ts';
import type { PostcopyResult } from './postcopy-result.ts';
import { histogramCounts, quantileText } from './stall-histogram.ts';

export interface PostcopyFigures {
  block: PostcopyResult;
  /** the switch's pause (QEMU downtime: the pause request to the resume on the destination) */
  downtimeMs: number | null;
  /** the whole migration: start to every page at the destination */
  totalTimeMs: number;
  /** ms from the start to the switch (the pre-copy phase), and of post-copy (resume to the last page) */
  switchAtMs: number;
  postcopyMs: number;
  /** bytes over the link in all; live before the switch; while paused; after the resume (QEMU postcopy-bytes) */
  bytes: number;
  liveBytes: number;
  pausedBytes: number;
  postcopyBytes: number;
  /** QEMU postcopy-requests: pages the destination asked for */
  requests: number;
  /** QEMU postcopy-blocktime (ms all vCPUs were blocked at once) and postcopy-vcpu-blocktime (ms per vCPU) */
  blocktimeMs: number | null;
  vcpuBlocktimeMs: number[];
  /** stalls (a vCPU blocked on a missing page), their mean (QEMU postcopy-latency, ns → ms) and p99 from the histogram */
  faults: number;
  meanStallMs: number | null;
  p99Text: string | null;
  /** postcopy-latency-dist: stalls per power-of-two µs bucket */
  latencyDist: number[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** True when this pre-copy block switched to post-copy and completed (outcome `postcopy`, with its block). */
export function usedPostcopy(p: PrecopyResult | null | undefined): p is PrecopyResult & { postcopy: PostcopyResult } {
  return p !== null && p !== undefined && typeof p.postcopy === 'object' && p.postcopy !== null;
}

/** The post-copy column's figures, or null when the migration did not switch to post-copy. */
export function postcopyFigures(p: PrecopyResult | null | undefined): PostcopyFigures | null {
  if (!usedPostcopy(p)) return null;
  const st = p.stats;
  const ram = st.ram;
  const pc = p.postcopy;
  const dist = histogramCounts(st['postcopy-latency-dist']);
  const latencyNs = num(st['postcopy-latency']);
  const faults = num(pc.faults) ?? dist.reduce((s, v) => s + v, 0);
  return {
    block: pc,
    downtimeMs: num(st.downtime),
    totalTimeMs: st['total-time'],
    switchAtMs: pc.startMs,
    postcopyMs: pc.durationMs,
    bytes: ram.transferred,
    liveBytes: ram['precopy-bytes'],
    pausedBytes: ram['downtime-bytes'],
    postcopyBytes: num(ram['postcopy-bytes']) ?? 0,
    requests: num(ram['postcopy-requests']) ?? 0,
    blocktimeMs: num(st['postcopy-blocktime']),
    vcpuBlocktimeMs: Array.isArray(st['postcopy-vcpu-blocktime']) ? st['postcopy-vcpu-blocktime'].map((v) => num(v) ?? 0) : [],
    faults,
    meanStallMs: faults > 0 && latencyNs !== null ? latencyNs / 1e6 : null,
    p99Text: quantileText(dist, 0.99),
    latencyDist: dist,
  };
}
