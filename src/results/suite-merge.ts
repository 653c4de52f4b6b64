/**
 * Merging suite result documents: several documents of the same suite (for `migbench ab`, one per
 * interleaved pass of one side) become one, as if a single `migbench suite` run had measured them all.
 * Samples of the same benchmark and metric are concatenated in document order and the summaries are
 * recomputed from them; `runs` and `warmup` are summed; the time span is the earliest start to the latest
 * end. Documents of different suites, benchmarks, commits or metric declarations are refused.
 */
import { MigbenchError } from '../errors.ts';
import type { GitInfo } from './environment.ts';
import { metricSeries } from './suite-document.ts';
import type { MetricSeries, SuiteBenchmark, SuiteDocument } from './suite-document.ts';

function quoted(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `"${n}"`).join(', ');
}

/** Order of two ISO times: by the instant when both parse, else as text. */
function compareTimes(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The earliest (`sign` −1) or latest (`sign` +1) of ISO times. */
function extreme(times: readonly string[], sign: 1 | -1): string {
  return times.reduce((best, t) => (sign * compareTimes(t, best) > 0 ? t : best));
}

/** true if any is dirty, false if all are clean, else null (unknown). */
function mergedDirty(gits: readonly GitInfo[]): boolean | null {
  if (gits.some((g) => g.dirty === true)) return true;
  return gits.every((g) => g.dirty === false) ? false : null;
}

/**
 * Merge documents of one suite into one. `label` (e.g. "base") starts every error message, and
 * documents are named by position ("pass 2") in them.
 *
 * Throws `MigbenchError('E_USAGE')` when there is nothing to merge, or when the documents ran different
 * suites, in different modes, different sets of benchmarks, different commits, or declare a metric with a different unit,
 * direction or exactness. A metric missing from some documents is fine (a run without a value for
 * it): its samples are those of the documents that have it. Everything else (tool, environment,
 * scenario of each benchmark) is taken from the first document.
 */
export function mergeSuiteDocuments(docs: SuiteDocument[], label: string): SuiteDocument {
  const fail = (message: string): never => {
    throw new MigbenchError('E_USAGE', `${label}: cannot merge the suite results: ${message}`);
  };
  if (docs.length === 0) return fail('no result to merge');
  const first = docs[0];

  docs.forEach((d, i) => {
    if (d.suite !== first.suite) fail(`pass ${i + 1} ran suite "${d.suite}", pass 1 ran suite "${first.suite}"`);
  });
  docs.forEach((d, i) => {
    if (d.mode !== first.mode) fail(`pass ${i + 1} ran in ${d.mode} mode, pass 1 in ${first.mode} mode`);
  });
  const commits = [...new Set(docs.map((d) => d.git.commit))];
  if (commits.length > 1) fail(`the passes ran different commits (${commits.map((c) => (c === null ? 'no git' : c.slice(0, 12))).join(', ')})`);

  const names = first.benchmarks.map((b) => b.name);
  const nameSet = new Set(names);
  docs.forEach((d, i) => {
    const mine = new Set(d.benchmarks.map((b) => b.name));
    const missing = names.filter((n) => !mine.has(n));
    const extra = [...mine].filter((n) => !nameSet.has(n));
    if (missing.length > 0 || extra.length > 0) {
      const parts = [];
      if (missing.length > 0) parts.push(`lacks ${quoted(missing)}`);
      if (extra.length > 0) parts.push(`has ${quoted(extra)} in addition`);
      fail(`pass ${i + 1} ran different benchmarks from pass 1 (it ${parts.join(' and ')})`);
    }
  });

  const benchmarks: SuiteBenchmark[] = first.benchmarks.map((fb): SuiteBenchmark => {
    // metric name → declaration (from the first document that has it) and the concatenated samples
    const merged = new Map<string, { decl: MetricSeries; from: number; samples: number[] }>();
    docs.forEach((d, i) => {
      const b = d.benchmarks.find((x) => x.name === fb.name)!;
      for (const [metric, m] of Object.entries(b.metrics)) {
        const seen = merged.get(metric);
        if (seen === undefined) {
          merged.set(metric, { decl: m, from: i, samples: [...m.samples] });
          continue;
        }
        const where = `benchmark "${fb.name}", metric "${metric}"`;
        const a = seen.decl;
        if (m.unit !== a.unit) fail(`${where}: unit "${m.unit}" in pass ${i + 1}, "${a.unit}" in pass ${seen.from + 1}`);
        if (m.better !== a.better) fail(`${where}: ${m.better} is better in pass ${i + 1}, ${a.better} in pass ${seen.from + 1}`);
        if (m.exact !== a.exact) fail(`${where}: exact is ${m.exact} in pass ${i + 1}, ${a.exact} in pass ${seen.from + 1}`);
        seen.samples.push(...m.samples);
      }
    });
    const metrics: Record<string, MetricSeries> = {};
    for (const [metric, { decl, samples }] of merged) metrics[metric] = metricSeries(decl.unit, decl.better, samples, decl.exact);
    return { name: fb.name, scenario: fb.scenario, metrics };
  });

  const seeds = new Set(docs.map((d) => d.seed));
  return {
    schemaVersion: first.schemaVersion,
    kind: 'suite',
    tool: { ...first.tool },
    suite: first.suite,
    git: { commit: first.git.commit, branch: first.git.branch, dirty: mergedDirty(docs.map((d) => d.git)) },
    env: first.env,
    startedAt: extreme(docs.map((d) => d.startedAt), -1),
    finishedAt: extreme(docs.map((d) => d.finishedAt), 1),
    mode: first.mode,
    seed: seeds.size === 1 ? first.seed : null,
    runs: docs.reduce((sum, d) => sum + d.runs, 0),
    warmup: docs.reduce((sum, d) => sum + d.warmup, 0),
    benchmarks,
  };
}
