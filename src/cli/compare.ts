/**
 * `migbench compare BASE.json HEAD.json [--alpha 0.05] [--threshold 5%] [--metric-threshold downtime=10%]
 *  [--format text|markdown|json] [--fail-on regression|never]`
 *
 * Exit 1 when `--fail-on regression` (the default) and a regression was found; 2 when, with `--fail-on
 * regression`, nothing could be tested (every row has too few samples: "undecided"), and for unreadable
 * files, different schema versions or suites that do not match; else 0.
 */
import { basename } from 'node:path';
import { MigbenchError } from '../errors.ts';
import { compareSuites, hasRegression, isUndecided, renderComparisonMarkdown, renderComparisonText, type Comparison } from '../results/compare.ts';
import { parseSuiteDocument, type SuiteDocument } from '../results/suite-document.ts';
import { colorsFor } from '../report/style.ts';
import { renderComparisonReport } from '../report/html.ts';
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { readTextFile } from './scenario-file.ts';
import { METRIC_NAMES } from '../results/suite-metrics.ts';

/** The keys `--metric-threshold` accepts: every metric name, and each name's last part ("downtime"). */
const METRIC_KEYS: readonly string[] = [...new Set(METRIC_NAMES.flatMap((n) => [n.slice(n.lastIndexOf('.') + 1), n]))];

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** Refuse a `--metric-threshold` key that names no metric, suggesting the nearest known one. */
function checkMetricKey(key: string): void {
  if (METRIC_KEYS.includes(key)) return;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of METRIC_KEYS) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const hint = best !== null && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean ${best}?)` : '';
  throw new MigbenchError(
    'E_USAGE',
    `--metric-threshold: unknown metric${hint}; expected one of ${METRIC_KEYS.join(', ')}, got ${JSON.stringify(key)}`,
  );
}

export interface CompareCommandOptions {
  alpha: string;
  threshold: string;
  metricThreshold: string[];
  format: string;
  failOn: string;
  html?: string;
}

/** "5%" → 0.05, "0.05" → 0.05 */
export function parseFraction(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  if (!m) throw new MigbenchError('E_USAGE', `${flag}: expected a percentage like "5%" or a fraction like 0.05, got ${JSON.stringify(text)}`);
  if (!m[2] && Number(m[1]) >= 1) {
    throw new MigbenchError('E_USAGE', `${flag}: a fraction must be below 1 (did you mean "${m[1]}%"?), got ${JSON.stringify(text)}`);
  }
  const v = Number(m[1]) / (m[2] ? 100 : 1);
  if (!(v >= 0 && v < 10)) throw new MigbenchError('E_USAGE', `${flag}: out of range, got ${JSON.stringify(text)}`);
  return v;
}

export function readSuiteFile(path: string): SuiteDocument {
  return parseSuiteDocument(readTextFile(path, path), path);
}

export function compareOptionsFrom(o: CompareCommandOptions, labels: { base: string; head: string }) {
  const alpha = parseFraction('--alpha', o.alpha);
  if (!(alpha > 0 && alpha < 1)) throw new MigbenchError('E_USAGE', `--alpha: expected a value between 0 and 1, got ${JSON.stringify(o.alpha)}`);
  const metricThresholds: Record<string, number> = {};
  for (const entry of o.metricThreshold) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new MigbenchError('E_USAGE', `--metric-threshold: expected metric=percent like downtime=10%, got ${JSON.stringify(entry)}`);
    checkMetricKey(entry.slice(0, eq).trim());
    metricThresholds[entry.slice(0, eq).trim()] = parseFraction(`--metric-threshold ${entry.slice(0, eq)}`, entry.slice(eq + 1));
  }
  if (!['text', 'markdown', 'json'].includes(o.format)) throw new MigbenchError('E_USAGE', `--format: expected text, markdown or json, got ${JSON.stringify(o.format)}`);
  if (!['regression', 'never'].includes(o.failOn)) throw new MigbenchError('E_USAGE', `--fail-on: expected regression or never, got ${JSON.stringify(o.failOn)}`);
  return { alpha, threshold: parseFraction('--threshold', o.threshold), metricThresholds, labels };
}

export function renderComparison(c: Comparison, format: string): string {
  if (format === 'json') return JSON.stringify(c, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  if (format === 'markdown') return renderComparisonMarkdown(c);
  return renderComparisonText(c, colorsFor(process.stderr));
}

/**
 * Where a comparison goes: a document asked for by `--format json|markdown` is data (stdout, so
 * `> comparison.md` works); the text table is for a person (stderr, with the progress).
 */
export function comparisonStream(format: string): 'stdout' | 'stderr' {
  return format === 'json' || format === 'markdown' ? 'stdout' : 'stderr';
}

/** Compare two parsed suites, print the result, and return the exit code. */
export function reportComparison(base: SuiteDocument, head: SuiteDocument, o: CompareCommandOptions, labels: { base: string; head: string }): number {
  const c = compareSuites(base, head, compareOptionsFrom(o, labels));
  writeOutputs(requested([{ flag: '--html', path: o.html, text: () => renderComparisonReport(c, { base, head }) }]));
  process[comparisonStream(o.format)].write(`${renderComparison(c, o.format)}\n`);
  if (o.failOn !== 'regression') return 0;
  // Exit 2 when nothing could be tested: a gate that cannot decide must not pass as "no regression".
  return hasRegression(c) ? 1 : isUndecided(c) ? 2 : 0;
}

export function compareCommand(basePath: string, headPath: string, o: CompareCommandOptions): number {
  compareOptionsFrom(o, { base: '', head: '' }); // refuse bad flags before reading anything
  checkOutputs([{ flag: '--html', path: o.html }]);
  const base = readSuiteFile(basePath);
  const head = readSuiteFile(headPath);
  const names = basename(basePath) === basename(headPath) ? { base: basePath, head: headPath } : { base: basename(basePath), head: basename(headPath) };
  return reportComparison(base, head, o, names);
}
