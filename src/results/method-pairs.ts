/**
 * Benchmarks of one suite that migrated the same workload by two methods: one with pre-copy alone
 * (its metrics `precopy.*`: a forced stop, say) and one that switched to post-copy (`postcopy.*`),
 * their resolved scenarios equal but for the name and the `postcopy` block. The suite report shows
 * each such pair side by side. Pure: reads suite documents only.
 */
import { liveMethodOf, scenarioDifferences } from './compare.ts';
import type { SuiteBenchmark, SuiteDocument } from './suite-document.ts';

export interface MethodPair {
  precopy: SuiteBenchmark;
  postcopy: SuiteBenchmark;
}

/** Scenario keys that may differ within a pair: the name, and post-copy's own settings. */
const allowed = (key: string): boolean => key === 'name' || key === 'postcopy' || key.startsWith('postcopy.');

/** Each post-copy benchmark with the first pre-copy benchmark of the same workload, in suite order. */
export function precopyPostcopyPairs(doc: SuiteDocument): MethodPair[] {
  const pre = doc.benchmarks.filter((b) => liveMethodOf(b.metrics) === 'pre-copy');
  const pairs: MethodPair[] = [];
  for (const post of doc.benchmarks.filter((b) => liveMethodOf(b.metrics) === 'post-copy')) {
    const twin = pre.find((b) => scenarioDifferences(b.scenario, post.scenario).every((d) => allowed(d.key)));
    if (twin) pairs.push({ precopy: twin, postcopy: post });
  }
  return pairs;
}

/** The rows of a pair's table: a figure of each method (the metric names on each side; null where a method has none). */
export const PAIR_ROWS: readonly { label: string; precopy: string | null; postcopy: string | null }[] = [
  { label: 'downtime', precopy: 'precopy.downtime', postcopy: 'postcopy.downtime' },
  { label: 'total time', precopy: 'precopy.total-time', postcopy: 'postcopy.total-time' },
  { label: 'bytes over the link', precopy: 'precopy.transferred', postcopy: 'postcopy.transferred' },
  { label: 'rounds', precopy: 'precopy.rounds', postcopy: null },
  { label: 'postcopy-requests', precopy: null, postcopy: 'postcopy.requests' },
  { label: 'postcopy-blocktime', precopy: null, postcopy: 'postcopy.blocktime' },
];
