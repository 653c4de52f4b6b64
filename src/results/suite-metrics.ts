/**
 * What a suite keeps of one run: its metrics. Pure; shared by the suite runner and the simulate-mode
 * workers (src/pool/pool.ts), which return these instead of whole documents.
 */
import type { ResultDocument } from './document.ts';
import type { Better } from './suite-document.ts';
import { usedPostcopy } from './postcopy-figures.ts';

export interface MetricValue {
  value: number;
  unit: string;
  better: Better;
}

/** Every metric name `metricsOf` can produce (what `--metric-threshold` may name, whole or by its last part). */
export const METRIC_NAMES: readonly string[] = [
  'precopy.total-time',
  'precopy.downtime',
  'precopy.transferred',
  'precopy.rounds',
  'postcopy.total-time',
  'postcopy.downtime',
  'postcopy.transferred',
  'postcopy.requests',
  'postcopy.blocktime',
  'quick.downtime',
  'quick.total-time',
  'quick.saved',
  'orchestrator.actions',
  'orchestrator.aborted',
  'orchestrator.paused',
];

/**
 * The metrics of one run. Pre-copy: total time, downtime, bytes on the link, rounds; a live migration
 * that switched to post-copy has its own instead (`postcopy.*`: total time, downtime, bytes on the
 * link, postcopy-requests, postcopy-blocktime), so that `compare` never pairs a post-copy figure with a
 * pre-copy one; quick: downtime, total time, bytes to storage. Under an orchestrator (issue 19), what
 * it did: the actions it took, and whether it aborted the migration or paused the guest (1 or 0 per
 * run, so a median of 1 says it mostly did). A metric the run did not produce (no downtime after a
 * cancel) is left out.
 */
export function metricsOf(doc: ResultDocument): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  const put = (name: string, value: number | null | undefined, unit: string): void => {
    if (value !== null && value !== undefined && Number.isFinite(value)) out[name] = { value, unit, better: 'lower' };
  };
  const p = doc.precopy;
  if (usedPostcopy(p)) {
    put('postcopy.total-time', p.stats['total-time'], 'ms');
    put('postcopy.downtime', p.stats.downtime, 'ms');
    put('postcopy.transferred', p.stats.ram.transferred, 'B');
    put('postcopy.requests', p.stats.ram['postcopy-requests'], 'count');
    put('postcopy.blocktime', p.stats['postcopy-blocktime'], 'ms');
  } else if (p) {
    put('precopy.total-time', p.stats['total-time'], 'ms');
    put('precopy.downtime', p.stats.downtime, 'ms');
    put('precopy.transferred', p.stats.ram.transferred, 'B');
    put('precopy.rounds', p.rounds.length, 'count');
  }
  const o = p?.orchestrator;
  if (o) {
    put('orchestrator.actions', o.actions.length, 'count');
    put('orchestrator.aborted', p.outcome === 'aborted' ? 1 : 0, 'count');
    put('orchestrator.paused', p.outcome === 'paused' ? 1 : 0, 'count');
  }
  const q = doc.quick;
  if (q) {
    put('quick.downtime', q.stats.downtime, 'ms');
    put('quick.total-time', q.stats['total-time'], 'ms');
    put('quick.saved', q.savedBytes, 'B');
  }
  return out;
}
