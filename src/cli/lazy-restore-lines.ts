/**
 * The terminal line of a quick migration with a lazy restore (quick.restore "lazy"), printed after the
 * summary table with what the table has no room for: the stalls' latency histogram, measured in emulate
 * mode only (simulate mode models no histogram, so it prints nothing). Pure: numbers only.
 */
import type { Colors } from '../report/style.ts';
import type { QuickResult } from '../results/quick-result.ts';
import { latencyText } from './postcopy-lines.ts';

export function lazyRestoreLines(q: QuickResult, simulated: boolean, c: Colors): string[] {
  if (!q.lazy || simulated) return [];
  return [`${c.bold('lazy restore')}  stall latency ${latencyText(q.stats['postcopy-latency-dist'])}`];
}
