/**
 * Comparison of two suite result documents (base and head), benchstat-style: per benchmark and metric,
 * medians with order-statistic confidence intervals, the change of the median, a two-sided Mann–Whitney
 * U test, and a verdict against a noise threshold; a geomean row per metric; warnings for what the
 * reader should not over-trust. The `Comparison` object is the JSON form; `renderComparisonText` and
 * `renderComparisonMarkdown` are the human forms.
 *
 * A regression is a change that is significant (p < alpha) AND worse than the metric's threshold.
 * Metrics declared `exact` (deterministic for a seed) are compared for equality (benchstat assume=exact).
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import { MigbenchError } from '../errors.ts';
import { formatBitRate, formatByteRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { escapeMarkdown as md, escapeTerminal as tty, markdownCode } from '../escape.ts';
import type { GitInfo } from './environment.ts';
import { geomean, mannWhitneyU, medianCI, minPossibleP, minSamplesForAlpha, summarize } from './statistics.ts';
import type { Summary } from './statistics.ts';
import type { Better, MetricSeries, SuiteDocument } from './suite-document.ts';

export type Colors = ReturnType<typeof pc.createColors>;

export interface CompareOptions {
  /** significance level of the U test, in (0, 1); 0.05 by default on the CLI */
  alpha: number;
  /** noise threshold as a fraction (0.05 = 5%): a significant change must exceed it to be a regression */
  threshold: number;
  /**
   * per-metric thresholds (fractions). A key matches a metric of that exact name, or one whose name ends
   * in "." + key ("downtime" matches "precopy.downtime" and "quick.downtime"); the longest key wins.
   */
  metricThresholds: Record<string, number>;
  /** confidence level of the median intervals (default 0.95) */
  confidence?: number;
  /** names of the two sides in messages and tables, usually the file names (default "base" and "head") */
  labels?: { base: string; head: string };
}

export type Verdict = 'regression' | 'improvement' | 'within-threshold' | 'not-significant' | 'insufficient-samples';

export const VERDICTS: readonly Verdict[] = ['regression', 'improvement', 'within-threshold', 'not-significant', 'insufficient-samples'];

/**
 * How p was obtained: the U test's exact null distribution, its normal approximation, or (metrics
 * declared exact) an equality test of the values: p = 0 when the medians differ, else 1.
 */
export type CompareMethod = 'exact' | 'normal' | 'equality';

export interface MetricComparison {
  benchmark: string;
  metric: string;
  unit: string;
  better: Better;
  /** both sides declare the metric deterministic for a seed */
  exact: boolean;
  base: Summary;
  head: Summary;
  /** headMedian / baseMedian − 1; null when the base median is 0 */
  change: number | null;
  p: number;
  method: CompareMethod;
  /** the threshold (fraction) that applied to this metric */
  threshold: number;
  verdict: Verdict;
}

export interface GeomeanRow {
  metric: string;
  unit: string;
  better: Better;
  /** geometric mean of the base medians (null when no benchmark has positive medians on both sides) */
  base: number | null;
  head: number | null;
  /** head / base − 1 of the two geometric means */
  change: number | null;
  /** benchmarks included, and those skipped for a median ≤ 0 on a side */
  benchmarks: number;
  skipped: number;
}

export interface ComparisonSide {
  label: string;
  toolVersion: string;
  git: GitInfo;
  startedAt: string;
  runs: number;
}

export interface Comparison {
  suite: string;
  base: ComparisonSide;
  head: ComparisonSide;
  alpha: number;
  threshold: number;
  metricThresholds: Record<string, number>;
  confidence: number;
  /** grouped by metric (in order of first appearance), then in the base's benchmark order */
  rows: MetricComparison[];
  geomeans: GeomeanRow[];
  onlyInBase: string[];
  onlyInHead: string[];
  counts: Record<Verdict, number>;
  /**
   * Keys of a benchmark's resolved scenario that differ between the sides (a `--set` on one side only):
   * each benchmark and key path with both values (as in the documents; null when absent on a side).
   * Absent in comparisons written before it existed.
   */
  scenarioDiffs?: ScenarioDiff[];
  /**
   * Benchmarks whose two sides migrated by different methods (one with pre-copy alone, the other
   * switched to post-copy): their metrics are not compared as like with like. Absent in comparisons
   * written before it existed.
   */
  methodMismatches?: MethodMismatch[];
  /**
   * The gate's answer: "regression" when a row regressed, "undecided" when no row could be tested at
   * all (every row has too few samples, or no metric paired up: "no regression" would claim what
   * nothing showed), else "no-regression". Absent in comparisons written before it existed.
   */
  outcome?: Outcome;
  warnings: string[];
}

export type Outcome = 'regression' | 'no-regression' | 'undecided';

/** How a benchmark's live migration ran on one side: its metrics are `precopy.*` or `postcopy.*` (suite-metrics.ts). */
export type LiveMethod = 'pre-copy' | 'post-copy';

export interface MethodMismatch {
  benchmark: string;
  base: LiveMethod;
  head: LiveMethod;
}

/**
 * The live method a benchmark's metrics say it ran: "post-copy" when it has `postcopy.*` metrics and no
 * `precopy.*` ones, "pre-copy" the other way round, null when neither or both (runs that differed).
 */
export function liveMethodOf(metrics: Record<string, unknown>): LiveMethod | null {
  const names = Object.keys(metrics);
  const pre = names.some((n) => n.startsWith('precopy.'));
  const post = names.some((n) => n.startsWith('postcopy.'));
  return pre === post ? null : pre ? 'pre-copy' : 'post-copy';
}

const METHOD_WORDS: Record<LiveMethod, string> = { 'pre-copy': 'migrated with pre-copy alone', 'post-copy': 'switched to post-copy' };

/** '"hotset": base.json migrated with pre-copy alone, head.json switched to post-copy: …' */
export function methodMismatchText(m: MethodMismatch, labels: { base: string; head: string }): string {
  return `"${m.benchmark}": ${labels.base} ${METHOD_WORDS[m.base]}, ${labels.head} ${METHOD_WORDS[m.head]}: not compared as like with like (${m.base} and ${m.head} have metrics of their own; run both sides with the same postcopy.enabled)`;
}

export interface ScenarioDiff {
  benchmark: string;
  /** dotted key path in the resolved scenario, e.g. "link.bandwidth" */
  key: string;
  base: unknown;
  head: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaf key paths whose values differ between two resolved scenarios (arrays compare whole). */
export function scenarioDifferences(base: unknown, head: unknown, prefix = ''): Array<{ key: string; base: unknown; head: unknown }> {
  if (isPlainObject(base) && isPlainObject(head)) {
    const keys = [...new Set([...Object.keys(base), ...Object.keys(head)])];
    return keys.flatMap((k) =>
      scenarioDifferences(Object.hasOwn(base, k) ? base[k] : undefined, Object.hasOwn(head, k) ? head[k] : undefined, prefix === '' ? k : `${prefix}.${k}`),
    );
  }
  if (JSON.stringify(base) === JSON.stringify(head)) return [];
  return [{ key: prefix === '' ? '(scenario)' : prefix, base: base === undefined ? null : base, head: head === undefined ? null : head }];
}

/** Scenario keys whose numbers read better with a unit (resolved scenarios hold bytes and bytes/s). */
const LINK_RATE_KEYS = new Set(['link.bandwidth', 'precopy.maxBandwidth']);
const BYTE_RATE_KEYS = new Set(['quick.storageBandwidth', 'precopy.dirtyLimit']);
const BYTE_KEYS = new Set(['guest.memory', 'guest.pageSize', 'guest.deviceState', 'workload.workingSet', 'workload.writeBytes', 'precopy.xbzrle.cacheSize']);

function scenarioValueText(key: string, v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (LINK_RATE_KEYS.has(key)) return formatBitRate(v);
    if (BYTE_RATE_KEYS.has(key)) return formatByteRate(v);
    if (BYTE_KEYS.has(key)) return formatBytes(v);
  }
  return v === undefined ? 'absent' : JSON.stringify(v);
}

/** "hotset: link.bandwidth 1.00 Gbit/s → 500 Mbit/s" (raw values when the readable ones look alike). */
export function scenarioDiffText(d: ScenarioDiff): string {
  let b = scenarioValueText(d.key, d.base);
  let h = scenarioValueText(d.key, d.head);
  if (b === h) [b, h] = [JSON.stringify(d.base), JSON.stringify(d.head)];
  return `${d.benchmark}: ${d.key} ${b} → ${h}`;
}

// ---------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------

function checkOptions(options: CompareOptions, confidence: number): void {
  const bad = (message: string): never => {
    throw new MigbenchError('E_USAGE', message);
  };
  if (!(options.alpha > 0 && options.alpha < 1)) bad(`alpha: expected a number between 0 and 1 (e.g. 0.05), got ${options.alpha}`);
  if (!(options.threshold >= 0 && Number.isFinite(options.threshold))) bad(`threshold: expected a fraction >= 0 (e.g. 0.05 for 5%), got ${options.threshold}`);
  for (const [metric, t] of Object.entries(options.metricThresholds)) {
    if (!(t >= 0 && Number.isFinite(t))) bad(`metric threshold ${metric}: expected a fraction >= 0 (e.g. 0.1 for 10%), got ${t}`);
  }
  if (!(confidence > 0 && confidence < 1)) bad(`confidence: expected a number between 0 and 1 (e.g. 0.95), got ${confidence}`);
}

/** The key of `metricThresholds` that applies to `metric` (exact name, else the longest ".key" suffix). */
function thresholdKeyFor(metric: string, thresholds: Record<string, number>): string | null {
  if (Object.hasOwn(thresholds, metric)) return metric;
  let best: string | null = null;
  for (const key of Object.keys(thresholds)) {
    if (metric.endsWith(`.${key}`) && (best === null || key.length > best.length)) best = key;
  }
  return best;
}

function quoteList(names: readonly string[], max = 8, quote = true): string {
  const shown = names.slice(0, max).map((n) => (quote ? `"${n}"` : n));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}

function allEqual(samples: readonly number[]): boolean {
  return samples.every((v) => v === samples[0]);
}

function side(doc: SuiteDocument, label: string): ComparisonSide {
  return { label, toolVersion: doc.tool.version, git: doc.git, startedAt: doc.startedAt, runs: doc.runs };
}

/** Smallest n whose median interval reaches `confidence` (6 at 0.95). */
function minSamplesForCI(confidence: number): number {
  let n = 2;
  while (medianCI(n, confidence) === null) n++;
  return n;
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

/**
 * Compare head against base. Benchmarks are paired by name, metrics by name. Throws
 * `MigbenchError('E_USAGE')` when the suites have different names, ran in different modes (emulate
 * against simulate), have no benchmark in common, or the options are out of range. Benchmarks or
 * metrics present on one side only are listed as warnings.
 */
export function compareSuites(base: SuiteDocument, head: SuiteDocument, options: CompareOptions): Comparison {
  const confidence = options.confidence ?? 0.95;
  checkOptions(options, confidence);
  const { alpha } = options;
  const labels = options.labels ?? { base: 'base', head: 'head' };
  if (base.suite !== head.suite) {
    throw new MigbenchError(
      'E_USAGE',
      `cannot compare different suites: ${labels.base} is suite "${base.suite}", ${labels.head} is suite "${head.suite}"`,
    );
  }
  if (base.mode !== head.mode) {
    throw new MigbenchError(
      'E_USAGE',
      `cannot compare suite results of different modes: ${labels.base} ran in ${base.mode} mode, ${labels.head} in ${head.mode} mode (run both sides in one mode)`,
    );
  }
  const headByName = new Map(head.benchmarks.map((b) => [b.name, b]));
  const baseNames = new Set(base.benchmarks.map((b) => b.name));
  const common = base.benchmarks.filter((b) => headByName.has(b.name));
  const onlyInBase = base.benchmarks.filter((b) => !headByName.has(b.name)).map((b) => b.name);
  const onlyInHead = head.benchmarks.filter((b) => !baseNames.has(b.name)).map((b) => b.name);
  if (common.length === 0) {
    throw new MigbenchError(
      'E_USAGE',
      `${labels.base} and ${labels.head} have no benchmark in common (${labels.base}: ${quoteList([...baseNames])}; ${labels.head}: ${quoteList(onlyInHead)})`,
    );
  }

  const warnings: string[] = [];
  if (onlyInBase.length > 0) warnings.push(`only in ${labels.base} (not compared): ${quoteList(onlyInBase)}`);
  if (onlyInHead.length > 0) warnings.push(`only in ${labels.head} (not compared): ${quoteList(onlyInHead)}`);
  const envKeys = ['node', 'platform', 'arch', 'cpuModel', 'cpuCount'] as const;
  const envDiffs = envKeys.filter((k) => String(base.env?.[k]) !== String(head.env?.[k]));
  if (envDiffs.length > 0) {
    warnings.push(
      `the two sides ran in different environments (${envDiffs.map((k) => `${k}: ${String(base.env?.[k])} vs ${String(head.env?.[k])}`).join('; ')}): differences may not come from the code`,
    );
  }

  const scenarioDiffs: ScenarioDiff[] = common.flatMap((b) =>
    scenarioDifferences(b.scenario, headByName.get(b.name)!.scenario).map((d) => ({ benchmark: b.name, ...d })),
  );
  if (scenarioDiffs.length > 0) {
    const shown = scenarioDiffs.slice(0, 8).map(scenarioDiffText);
    const more = scenarioDiffs.length > 8 ? ` and ${scenarioDiffs.length - 8} more` : '';
    warnings.push(
      `the two sides ran different scenarios (${shown.join('; ')}${more}; ${labels.base} → ${labels.head}): differences may come from the scenario, not the code`,
    );
  }

  const methodMismatches: MethodMismatch[] = [];
  for (const b of common) {
    const bm = liveMethodOf(b.metrics);
    const hm = liveMethodOf(headByName.get(b.name)!.metrics);
    if (bm !== null && hm !== null && bm !== hm) methodMismatches.push({ benchmark: b.name, base: bm, head: hm });
  }
  for (const m of methodMismatches) warnings.push(methodMismatchText(m, labels));
  const mismatched = new Set(methodMismatches.map((m) => m.benchmark));
  /** a live-migration metric of a benchmark whose sides ran different methods: said above, not listed as unpaired */
  const saidMismatched = (benchmark: string, metric: string): boolean => mismatched.has(benchmark) && (metric.startsWith('precopy.') || metric.startsWith('postcopy.'));

  const rows: MetricComparison[] = [];
  const usedThresholdKeys = new Set<string>();
  const insufficient = new Map<string, string[]>(); // "n1+n2" → benchmarks
  const unpaired: string[] = [];
  let ciMissing = false;
  for (const b of common) {
    const h = headByName.get(b.name)!;
    for (const metric of Object.keys(h.metrics)) {
      if (!Object.hasOwn(b.metrics, metric) && !saidMismatched(b.name, metric)) unpaired.push(`"${b.name}" ${metric} (only in ${labels.head})`);
    }
    for (const [metric, bm] of Object.entries(b.metrics)) {
      const hm: MetricSeries | undefined = Object.hasOwn(h.metrics, metric) ? h.metrics[metric] : undefined;
      if (hm === undefined) {
        if (!saidMismatched(b.name, metric)) unpaired.push(`"${b.name}" ${metric} (only in ${labels.base})`);
        continue;
      }
      if (bm.unit !== hm.unit || bm.better !== hm.better) {
        warnings.push(
          `"${b.name}" ${metric}: not compared, the sides disagree on its unit or direction (${labels.base}: ${bm.unit}, ${bm.better} is better; ${labels.head}: ${hm.unit}, ${hm.better} is better)`,
        );
        continue;
      }
      if (bm.exact !== hm.exact) {
        warnings.push(`"${b.name}" ${metric}: exact on one side only; compared with the U test`);
      }
      const key = thresholdKeyFor(metric, options.metricThresholds);
      if (key !== null) usedThresholdKeys.add(key);
      const threshold = key === null ? options.threshold : options.metricThresholds[key];
      const baseSummary = summarize(bm.samples, confidence);
      const headSummary = summarize(hm.samples, confidence);
      const exact = bm.exact && hm.exact;
      const n1 = bm.samples.length;
      const n2 = hm.samples.length;

      let p: number;
      let method: CompareMethod;
      let verdict: Verdict | null = null;
      if (exact) {
        for (const [s, label] of [[bm, labels.base], [hm, labels.head]] as const) {
          if (!allEqual(s.samples)) {
            warnings.push(
              `"${b.name}" ${metric}: declared exact (deterministic for a seed) but the ${label} samples differ (${s.summary.min} … ${s.summary.max}); compared by median`,
            );
          }
        }
        p = baseSummary.median === headSummary.median ? 1 : 0;
        method = 'equality';
      } else {
        const u = mannWhitneyU(bm.samples, hm.samples);
        p = u.p;
        method = u.method;
        if (baseSummary.ciLevel === null || headSummary.ciLevel === null) ciMissing = true;
        if (minPossibleP(n1, n2) >= alpha) {
          verdict = 'insufficient-samples';
          const k = n1 === n2 ? `n=${n1}` : `n=${n1}+${n2}`;
          insufficient.set(k, [...(insufficient.get(k) ?? []), `"${b.name}" ${metric}`]);
        }
      }

      const change = baseSummary.median === 0 ? null : headSummary.median / baseSummary.median - 1;
      if (verdict === null) {
        if (!(p < alpha)) {
          verdict = 'not-significant';
        } else {
          const d = headSummary.median - baseSummary.median;
          // Relative change; with a zero base, any difference counts as unbounded.
          const relative = change ?? (d > 0 ? Infinity : d < 0 ? -Infinity : 0);
          const worse = bm.better === 'lower' ? relative : -relative;
          verdict = worse > threshold ? 'regression' : -worse > threshold ? 'improvement' : 'within-threshold';
        }
      }
      rows.push({
        benchmark: b.name,
        metric,
        unit: bm.unit,
        better: bm.better,
        exact,
        base: baseSummary,
        head: headSummary,
        change,
        p,
        method,
        threshold,
        verdict,
      });
    }
  }

  // Group rows by metric, in order of first appearance (stable: benchmark order within a metric).
  const metricOrder = [...new Set(rows.map((r) => r.metric))];
  rows.sort((a, b) => metricOrder.indexOf(a.metric) - metricOrder.indexOf(b.metric));

  const geomeans: GeomeanRow[] = metricOrder.map((metric) => {
    const mine = rows.filter((r) => r.metric === metric);
    const usable = mine.filter((r) => r.base.median > 0 && r.head.median > 0);
    const gb = geomean(usable.map((r) => r.base.median));
    const gh = geomean(usable.map((r) => r.head.median));
    return {
      metric,
      unit: mine[0].unit,
      better: mine[0].better,
      base: gb,
      head: gh,
      change: gb === null || gh === null ? null : gh / gb - 1,
      benchmarks: usable.length,
      skipped: mine.length - usable.length,
    };
  });
  for (const g of geomeans) {
    if (g.skipped > 0) warnings.push(`geomean of ${g.metric}: ${g.skipped} benchmark(s) with a median <= 0 left out`);
  }

  if (unpaired.length > 0) warnings.push(`metrics on one side only (not compared): ${unpaired.slice(0, 8).join(', ')}${unpaired.length > 8 ? ` and ${unpaired.length - 8} more` : ''}`);
  const needed = minSamplesForAlpha(alpha);
  for (const [k, names] of insufficient) {
    warnings.push(`need >= ${needed} samples per side to detect a difference at alpha=${alpha}: ${k} for ${quoteList(names, 4, false)}`);
  }
  if (ciMissing) {
    warnings.push(`need >= ${minSamplesForCI(confidence)} samples for a ${percent(confidence)} confidence interval of the median (shown as ± ∞)`);
  }
  for (const key of Object.keys(options.metricThresholds)) {
    if (!usedThresholdKeys.has(key)) warnings.push(`metric threshold "${key}" matches no compared metric`);
  }

  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const r of rows) counts[r.verdict]++;
  const tested = rows.filter((r) => r.method !== 'equality' && r.verdict !== 'insufficient-samples').length;
  const significant = rows.some((r) => r.method !== 'equality' && (r.verdict === 'regression' || r.verdict === 'improvement'));
  if (tested >= 2 && (alpha * tested >= 0.5 || significant)) {
    warnings.push(
      `${tested} comparisons at alpha=${alpha}: about ${Number((alpha * tested).toFixed(1))} may come out significant by chance alone; rerun before trusting a lone result`,
    );
  }

  return {
    suite: base.suite,
    base: side(base, labels.base),
    head: side(head, labels.head),
    alpha,
    threshold: options.threshold,
    metricThresholds: { ...options.metricThresholds },
    confidence,
    rows,
    geomeans,
    onlyInBase,
    onlyInHead,
    counts,
    scenarioDiffs,
    methodMismatches,
    outcome: rows.some((r) => r.verdict === 'regression')
      ? 'regression'
      : rows.every((r) => r.verdict === 'insufficient-samples')
        ? 'undecided'
        : 'no-regression',
    warnings,
  };
}

/**
 * True when nothing could be tested: every row has too few samples, or there is no row at all (no
 * metric paired up, e.g. pre-copy on one side and post-copy on the other), so no verdict either way.
 */
export function isUndecided(c: Comparison): boolean {
  return c.rows.every((r) => r.verdict === 'insufficient-samples');
}

/** The headline of an undecided comparison, in every output format. */
export const UNDECIDED_TEXT = 'undecided: nothing could be tested (every row has too few samples; rerun with more --runs)';

/** The same when no metric paired up at all. */
export const NOTHING_COMPARED_TEXT = 'undecided: nothing could be tested (no metric is on both sides; see the warnings)';

/** The undecided headline that fits this comparison. */
export function undecidedText(c: Comparison): string {
  return c.rows.length === 0 ? NOTHING_COMPARED_TEXT : UNDECIDED_TEXT;
}

/** True when at least one metric of one benchmark regressed (the CI gate). */
export function hasRegression(c: Comparison): boolean {
  return c.rows.some((r) => r.verdict === 'regression');
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/** A metric value for humans: 'ms', 'B' and 'B/s' with units, anything else plain. */
export function formatMetricValue(value: number, unit: string): string {
  switch (unit) {
    case 'ms':
      return formatDurationMs(value);
    case 'B':
      return formatBytes(value);
    case 'B/s':
      return formatByteRate(value);
    default:
      return Number.isInteger(value) ? formatCount(value) : String(Number(value.toPrecision(4)));
  }
}

/** "± 3%": the larger distance from the median to an end of its interval, relative to the median. */
function ciText(s: Summary): string {
  if (s.ciLow === null || s.ciHigh === null) return '± ∞';
  if (s.median === 0) return s.ciLow === 0 && s.ciHigh === 0 ? '± 0%' : '± ∞';
  const rel = Math.max(s.ciHigh / s.median - 1, 1 - s.ciLow / s.median);
  return `± ${Math.abs(rel * 100).toFixed(0)}%`;
}

function cellValue(r: MetricComparison, s: Summary): string {
  const v = formatMetricValue(s.median, r.unit);
  return r.exact ? v : `${v} ${ciText(s)}`;
}

function changeText(change: number | null, base: number, head: number): string {
  if (change === null) return head === base ? '0.00%' : head > base ? '+∞%' : '-∞%';
  const pct = change * 100;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(2)}%`;
}

function isSignificant(r: MetricComparison): boolean {
  return r.verdict === 'regression' || r.verdict === 'improvement' || r.verdict === 'within-threshold';
}

/** The change column: "+9.17%" when significant, "~" when not. */
function rowChange(r: MetricComparison): string {
  return isSignificant(r) ? changeText(r.change, r.base.median, r.head.median) : '~';
}

/** "(p=0.008 n=5)", "(p=0.008 n=5+6)", "(exact n=1)". */
function rowStats(r: MetricComparison): string {
  const n = r.base.n === r.head.n ? `n=${r.base.n}` : `n=${r.base.n}+${r.head.n}`;
  return r.method === 'equality' ? `(exact ${n})` : `(p=${r.p.toFixed(3)} ${n})`;
}

function verdictText(r: MetricComparison): string {
  switch (r.verdict) {
    case 'regression':
      return `regression (> ${percent(r.threshold)})`;
    case 'improvement':
      return `improvement (> ${percent(r.threshold)})`;
    case 'within-threshold':
      return `within ${percent(r.threshold)}`;
    case 'insufficient-samples':
      return 'too few samples';
    case 'not-significant':
      return '';
  }
}

function metricTitle(g: GeomeanRow): string {
  const unit = g.unit === '' ? '' : `${g.unit}, `;
  return `${g.metric} (${unit}${g.better} is better)`;
}

function sideText(s: ComparisonSide): string {
  const commit = s.git.commit === null ? 'no git' : `${s.git.commit.slice(0, 7)}${s.git.dirty ? '+dirty' : ''}`;
  return `${s.label} (${commit})`;
}

function countsText(c: Comparison): string {
  const n = c.counts;
  const parts = [
    `${n.regression} regression${n.regression === 1 ? '' : 's'}`,
    `${n.improvement} improvement${n.improvement === 1 ? '' : 's'}`,
    `${n['within-threshold'] + n['not-significant']} unchanged`,
  ];
  if (n['insufficient-samples'] > 0) parts.push(`${n['insufficient-samples']} with too few samples`);
  return isUndecided(c) ? `${undecidedText(c)}: ${parts.join(', ')}` : parts.join(', ');
}

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
};

/**
 * A benchstat-like text table per metric, closed by a geomean row, then the warnings. Colours only when
 * `colors` enables them (pass `colorsFor(process.stderr)` from report/style.ts); plain by default.
 */
export function renderComparisonText(c: Comparison, colors: Colors = pc.createColors(false)): string {
  const out: string[] = [
    // names, labels, commits and warnings come from the documents: control characters shown, not acted on
    `suite "${tty(c.suite)}": ${tty(sideText(c.base))} vs ${tty(sideText(c.head))}`,
    `alpha ${c.alpha}, threshold ${percent(c.threshold)}${Object.keys(c.metricThresholds).length > 0 ? ` (${Object.entries(c.metricThresholds).map(([k, v]) => `${k} ${percent(v)}`).join(', ')})` : ''}: ${countsText(c)}`,
  ];
  for (const g of c.geomeans) {
    const table = new Table({
      head: ['', tty(c.base.label), tty(c.head.label), 'vs base', '', ''],
      chars: BORDERLESS,
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
      colAligns: ['left', 'right', 'right', 'right', 'left', 'left'],
    });
    for (const r of c.rows.filter((row) => row.metric === g.metric)) {
      const verdict = verdictText(r);
      const styled =
        r.verdict === 'regression' ? colors.red(colors.bold(verdict)) : r.verdict === 'improvement' ? colors.green(verdict) : colors.dim(verdict);
      table.push([tty(r.benchmark), cellValue(r, r.base), cellValue(r, r.head), rowChange(r), rowStats(r), styled]);
    }
    table.push([
      'geomean',
      g.base === null ? '—' : formatMetricValue(g.base, g.unit),
      g.head === null ? '—' : formatMetricValue(g.head, g.unit),
      g.change === null || g.base === null || g.head === null ? '' : changeText(g.change, g.base, g.head),
      '',
      '',
    ]);
    out.push('', colors.bold(metricTitle(g)), table.toString().split('\n').map((l) => l.trimEnd()).join('\n'));
  }
  if (c.warnings.length > 0) {
    out.push('');
    for (const w of c.warnings) out.push(colors.yellow(`warning: ${tty(w)}`));
  }
  return out.join('\n');
}

/**
 * A GitHub-flavoured markdown report (for PR comments and the job summary): regressions in bold with 🔴.
 * Every text from the suites and labels (names, commits, figures) is escaped (escape.ts): CI appends
 * this to a job summary, and the suites may come from a pull request.
 */
export function renderComparisonMarkdown(c: Comparison): string {
  const out: string[] = [
    `### migbench compare: suite ${markdownCode(c.suite)}`,
    '',
    `${md(sideText(c.base))} → ${md(sideText(c.head))}; alpha ${md(c.alpha)}, threshold ${md(percent(c.threshold))}${Object.keys(c.metricThresholds).length > 0 ? ` (${Object.entries(c.metricThresholds).map(([k, v]) => `${md(k)} ${md(percent(v))}`).join(', ')})` : ''}`,
    '',
    c.counts.regression > 0 ? `🔴 **${md(countsText(c))}**` : isUndecided(c) ? `⚠️ **${md(countsText(c))}**` : md(countsText(c)),
  ];
  for (const g of c.geomeans) {
    out.push('', `#### ${md(metricTitle(g))}`, '', `| benchmark | ${md(c.base.label)} | ${md(c.head.label)} | vs base | p (n) | verdict |`, '|---|--:|--:|--:|--:|---|');
    for (const r of c.rows.filter((row) => row.metric === g.metric)) {
      // these three are this file's words around computed figures: nothing from a document
      const change = rowChange(r);
      const stats = rowStats(r).slice(1, -1);
      const verdict = verdictText(r);
      const cells =
        r.verdict === 'regression'
          ? [`**${md(r.benchmark)}**`, md(cellValue(r, r.base)), md(cellValue(r, r.head)), `**${change}**`, stats, `🔴 **${verdict}**`]
          : [md(r.benchmark), md(cellValue(r, r.base)), md(cellValue(r, r.head)), change, stats, r.verdict === 'improvement' ? `🟢 ${verdict}` : verdict];
      out.push(`| ${cells.join(' | ')} |`);
    }
    const geoChange = g.change === null || g.base === null || g.head === null ? '' : changeText(g.change, g.base, g.head);
    out.push(
      `| *geomean* | ${g.base === null ? '—' : md(formatMetricValue(g.base, g.unit))} | ${g.head === null ? '—' : md(formatMetricValue(g.head, g.unit))} | ${geoChange} | | |`,
    );
  }
  if (c.warnings.length > 0) {
    out.push('', '**Warnings**', '');
    for (const w of c.warnings) out.push(`- ${md(w)}`);
  }
  return `${out.join('\n')}\n`;
}
