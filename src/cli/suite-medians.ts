/**
 * The table `suite` ends with: per benchmark, the median of each key metric over its measured runs,
 * fitted to the terminal's width (long benchmark names wrap). For a person: the command writes it to stderr.
 */
import Table from 'cli-table3';
import type { Colors } from '../report/style.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import { METRIC_NAMES } from '../results/suite-metrics.ts';
import { formatBytes, formatCount, formatDurationMs, plural } from '../units.ts';
import { fittedColWidths } from './terminal.ts';

/** Column heads of the metrics, in METRIC_NAMES order. */
const HEADS: Record<string, string> = {
  'precopy.total-time': 'pre-copy total',
  'precopy.downtime': 'pre-copy downtime',
  'precopy.transferred': 'pre-copy bytes',
  'precopy.rounds': 'rounds',
  'postcopy.total-time': 'post-copy total',
  'postcopy.downtime': 'post-copy downtime',
  'postcopy.transferred': 'post-copy bytes',
  'postcopy.requests': 'requests',
  'postcopy.blocktime': 'blocktime',
  'quick.downtime': 'quick downtime',
  'quick.total-time': 'quick total',
  'quick.saved': 'quick bytes',
};

export function formatMetric(value: number, unit: string): string {
  if (unit === 'ms') return formatDurationMs(value);
  if (unit === 'B') return formatBytes(value);
  return formatCount(value);
}

export function renderSuiteMedians(doc: SuiteDocument, c: Colors, columns: number): string {
  // the metrics some benchmark has, in the usual order (a method not run has no column)
  const metrics = METRIC_NAMES.filter((m) => doc.benchmarks.some((b) => b.metrics[m]));
  const head = ['benchmark', ...metrics.map((m) => HEADS[m] ?? m)].map((h) => c.bold(h));
  const body = doc.benchmarks.map((b) => [
    b.name,
    ...metrics.map((m) => {
      const s = b.metrics[m];
      return s ? formatMetric(s.summary.median, s.unit) : c.dim('—');
    }),
  ]);
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colWidths: fittedColWidths([head, ...body], columns),
    colAligns: ['left', ...metrics.map(() => 'right' as const)],
    wordWrap: true,
  });
  table.push(...body);
  return `${c.bold(`medians of ${plural(doc.runs, 'run')}`)} (${doc.mode} mode)\n${table.toString()}`;
}
