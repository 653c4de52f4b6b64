/**
 * The figures of a quick migration with a lazy restore (quick.restore "lazy"), as the reports show them
 * in their "quick migration" column (terminal summary, markdown, HTML): read from the document's
 * `quick` block alone (pure). The guest resumed after the image's index was read; the rest of its pages
 * were faulted in on demand or filled in by the background reader.
 */
import type { LazyRestoreResult, QuickResult } from './quick-result.ts';
import { histogramCounts, quantileText } from './stall-histogram.ts';

export interface LazyRestoreFigures {
  block: LazyRestoreResult;
  /** the resume on the destination (= downtime), every page in place (null: the restore failed), ms from the pause request */
  resumedMs: number;
  completedMs: number | null;
  /** ms the restore went on while the guest ran (resume to the last page); null when it failed */
  afterResumeMs: number | null;
  /** stalls (a vCPU blocked on a page not yet read), their mean (QEMU postcopy-latency, ns → ms) and p99 from the histogram */
  faults: number;
  meanStallMs: number | null;
  p99Text: string | null;
  /** QEMU postcopy-blocktime (ms all vCPUs were blocked at once) and postcopy-vcpu-blocktime (ms per vCPU) */
  blocktimeMs: number | null;
  vcpuBlocktimeMs: number[];
  /** postcopy-latency-dist: stalls per power-of-two µs bucket (empty in simulate mode, which models the mean only) */
  latencyDist: number[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The lazy restore's figures, or null when the quick migration restored eagerly (or did not run). */
export function lazyRestoreFigures(q: QuickResult | null | undefined): LazyRestoreFigures | null {
  if (q === null || q === undefined || typeof q.lazy !== 'object' || q.lazy === null) return null;
  const l = q.lazy;
  const st = q.stats;
  const dist = histogramCounts(st['postcopy-latency-dist']);
  const latencyNs = num(st['postcopy-latency']);
  const faults = num(l.faults) ?? dist.reduce((s, v) => s + v, 0);
  const completedMs = num(l.completedMs);
  return {
    block: l,
    resumedMs: l.resumedMs,
    completedMs,
    afterResumeMs: completedMs === null ? null : Math.max(0, completedMs - l.resumedMs),
    faults,
    meanStallMs: faults > 0 && latencyNs !== null ? latencyNs / 1e6 : null,
    p99Text: quantileText(dist, 0.99),
    blocktimeMs: num(st['postcopy-blocktime']),
    vcpuBlocktimeMs: Array.isArray(st['postcopy-vcpu-blocktime']) ? st['postcopy-vcpu-blocktime'].map((v) => num(v) ?? 0) : [],
    latencyDist: dist,
  };
}
