/**
 * Reading a comparison back (the JSON of `compare --format json`, for `report`): checks the shape and
 * types of everything the report reads and charts, so that a corrupt comparison is refused with
 * `E_RESULT` and a one-line message naming the first bad key. Numbers are finite or null (JSON has no
 * Infinity: the writer puts null).
 */
import { MigbenchError } from '../errors.ts';
import { VERDICTS, type Comparison } from './compare.ts';
import { isObject, isFiniteOrNull, describeValue, type Json } from './json-checks.ts';




const SUMMARY_NUMBERS = ['n', 'median', 'ciLow', 'ciHigh', 'ciLevel', 'mean', 'sd', 'min', 'max'] as const;

/** Check a parsed comparison; returns it typed, or throws `MigbenchError('E_RESULT')` naming the first problem. */
export function checkComparisonDocument(raw: unknown, label: string): Comparison {
  const fail = (message: string): never => {
    throw new MigbenchError('E_RESULT', `${label}: ${message}`);
  };
  const object = (v: unknown, at: string): Json => (isObject(v) ? v : fail(`${at}: expected an object, got ${describeValue(v)}`));
  const text = (o: Json, k: string, at: string): void => {
    if (typeof o[k] !== 'string') fail(`${at}.${k}: expected a string, got ${describeValue(o[k])}`);
  };
  const numbers = (o: Json, keys: readonly string[], at: string): void => {
    for (const k of keys) if (!isFiniteOrNull(o[k])) fail(`${at}.${k}: expected a number or null, got ${describeValue(o[k])}`);
  };
  const strings = (v: unknown, at: string): void => {
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(`${at}: expected a list of strings, got ${describeValue(v)}`);
  };

  const c = object(raw, 'comparison');
  if (typeof c.suite !== 'string') fail(`suite: expected the suite's name, got ${describeValue(c.suite)}`);
  for (const side of ['base', 'head'] as const) {
    const s = object(c[side], side);
    text(s, 'label', side);
    numbers(s, ['runs'], side);
    if (s.git !== undefined && s.git !== null) {
      const git = object(s.git, `${side}.git`);
      for (const k of ['commit', 'branch'] as const) if (git[k] !== undefined && git[k] !== null && typeof git[k] !== 'string') fail(`${side}.git.${k}: expected a string or null, got ${describeValue(git[k])}`);
      if (git.dirty !== undefined && git.dirty !== null && typeof git.dirty !== 'boolean') fail(`${side}.git.dirty: expected true, false or null, got ${describeValue(git.dirty)}`);
    }
  }
  numbers(c, ['alpha', 'threshold', 'confidence'], 'comparison');
  const mt = object(c.metricThresholds, 'metricThresholds');
  for (const [k, v] of Object.entries(mt)) if (!isFiniteOrNull(v)) fail(`metricThresholds.${k}: expected a number, got ${describeValue(v)}`);
  if (!Array.isArray(c.rows)) return fail(`rows: expected an array, got ${describeValue(c.rows)}`);
  c.rows.forEach((r: unknown, i: number) => {
    const at = `rows[${i}]`;
    const row = object(r, at);
    for (const k of ['benchmark', 'metric', 'unit', 'method'] as const) text(row, k, at);
    if (row.better !== 'lower' && row.better !== 'higher') fail(`${at}.better: expected "lower" or "higher", got ${describeValue(row.better)}`);
    if (!(VERDICTS as readonly unknown[]).includes(row.verdict)) fail(`${at}.verdict: expected one of ${VERDICTS.join(', ')}, got ${describeValue(row.verdict)}`);
    if (row.exact !== undefined && typeof row.exact !== 'boolean') fail(`${at}.exact: expected true or false, got ${describeValue(row.exact)}`);
    numbers(row, ['change', 'p', 'threshold'], at);
    for (const side of ['base', 'head'] as const) numbers(object(row[side], `${at}.${side}`), SUMMARY_NUMBERS, `${at}.${side}`);
  });
  if (!Array.isArray(c.geomeans)) return fail(`geomeans: expected an array, got ${describeValue(c.geomeans)}`);
  c.geomeans.forEach((g: unknown, i: number) => {
    const at = `geomeans[${i}]`;
    const row = object(g, at);
    text(row, 'metric', at);
    text(row, 'unit', at);
    if (row.better !== 'lower' && row.better !== 'higher') fail(`${at}.better: expected "lower" or "higher", got ${describeValue(row.better)}`);
    numbers(row, ['base', 'head', 'change', 'benchmarks', 'skipped'], at);
  });
  strings(c.onlyInBase, 'onlyInBase');
  strings(c.onlyInHead, 'onlyInHead');
  strings(c.warnings, 'warnings');
  const counts = object(c.counts, 'counts');
  for (const v of VERDICTS) if (typeof counts[v] !== 'number' || !Number.isFinite(counts[v])) fail(`counts.${v}: expected a number, got ${describeValue(counts[v])}`);
  return c as unknown as Comparison;
}
