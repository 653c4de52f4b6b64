/**
 * Post-copy in suites and in `compare`, the CI gate (issue 14 item 8), from documents built here and
 * the fixture run documents (no migration runs): a run that switched to post-copy keeps metrics of its
 * own (`postcopy.*`), compared with the same statistics as pre-copy's; a base that ran pre-copy alone
 * against a head that switched to post-copy is not compared as like with like, and says so; a suite
 * with both methods on one workload shows them side by side.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { compareOptionsFrom, reportComparison, type CompareCommandOptions } from '../src/cli/compare.ts';
import { renderSuiteMedians } from '../src/cli/suite-medians.ts';
import { renderMarkdownSummary, renderReport } from '../src/report/html.ts';
import { colorsFor } from '../src/report/style.ts';
import { compareSuites, liveMethodOf, renderComparisonMarkdown, renderComparisonText, type CompareOptions } from '../src/results/compare.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { precopyPostcopyPairs } from '../src/results/method-pairs.ts';
import { checkSuiteDocument, metricSeries, type MetricSeries, type SuiteDocument } from '../src/results/suite-document.ts';
import { METRIC_NAMES, metricsOf } from '../src/results/suite-metrics.ts';
import { formatDurationMs } from '../src/units.ts';
import { MARKUP, liveMarkupInHtml, tagsOf } from './helpers/inert-markup.ts';

const load = (name: string): ResultDocument => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ResultDocument;
const OPTIONS: CompareOptions = { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels: { base: 'base.json', head: 'head.json' } };
const plainColors = colorsFor({ isTTY: false } as NodeJS.WriteStream, {});

/** n samples around `center`, spread evenly over ±spread (a fraction): the same on every run. */
const around = (center: number, spread = 0.02, n = 8): number[] => Array.from({ length: n }, (_, i) => center * (1 + spread * ((2 * i) / (n - 1) - 1)));
const ms = (s: number[]): MetricSeries => metricSeries('ms', 'lower', s);
const counts = (s: number[]): MetricSeries => metricSeries('count', 'lower', s);
const bytes = (s: number[]): MetricSeries => metricSeries('B', 'lower', s);

/** A post-copy benchmark's metrics (as metricsOf makes them) around these medians. */
function postcopyMetrics(m: { downtime: number; total: number; requests: number; blocktime: number }): Record<string, MetricSeries> {
  return {
    'postcopy.total-time': ms(around(m.total)),
    'postcopy.downtime': ms(around(m.downtime)),
    'postcopy.transferred': bytes(around(90e6)),
    'postcopy.requests': counts(around(m.requests)),
    'postcopy.blocktime': ms(around(m.blocktime)),
  };
}
function precopyMetrics(m: { downtime: number; total: number }): Record<string, MetricSeries> {
  return {
    'precopy.total-time': ms(around(m.total)),
    'precopy.downtime': ms(around(m.downtime)),
    'precopy.transferred': bytes(around(150e6)),
    'precopy.rounds': counts([4, 4, 4, 4, 4, 4, 4, 4]),
  };
}

const SCENARIO = { name: 'x', seed: 1, guest: { memory: 67108864 }, workload: { pattern: 'hotset', dirtyRate: 40000 }, link: { bandwidth: 67108864 } };
const scenario = (name: string, postcopy: boolean): Record<string, unknown> => ({ ...structuredClone(SCENARIO), name, postcopy: { enabled: postcopy, startAfterRounds: 1, preempt: true } });

function suite(benchmarks: { name: string; scenario?: unknown; metrics: Record<string, MetricSeries> }[]): SuiteDocument {
  return {
    schemaVersion: 1, kind: 'suite', tool: { name: 'migbench', version: '0.1.0' }, suite: 'postcopy',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    env: { node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2, totalMemBytes: 1, loadAvg: [0, 0, 0], ci: false },
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', mode: 'emulate', seed: 1, runs: 8, warmup: 0,
    benchmarks: benchmarks.map((b) => ({ name: b.name, scenario: b.scenario ?? scenario(b.name, true), metrics: b.metrics })),
  };
}

describe("a run's suite metrics", () => {
  it('a run that switched to post-copy has postcopy.* metrics, and no precopy.* ones', () => {
    const doc = load('run-postcopy.json');
    const m = metricsOf(doc);
    expect(Object.keys(m).sort()).toEqual(['postcopy.blocktime', 'postcopy.downtime', 'postcopy.requests', 'postcopy.total-time', 'postcopy.transferred', 'quick.downtime', 'quick.saved', 'quick.total-time']);
    const p = doc.precopy!;
    expect(m['postcopy.downtime']).toEqual({ value: p.stats.downtime, unit: 'ms', better: 'lower' });
    expect(m['postcopy.total-time'].value).toBe(p.stats['total-time']);
    expect(m['postcopy.transferred'].value).toBe(p.stats.ram.transferred);
    expect(m['postcopy.requests']).toEqual({ value: p.stats.ram['postcopy-requests'], unit: 'count', better: 'lower' });
    expect(m['postcopy.blocktime'].value).toBe(p.stats['postcopy-blocktime']);
    for (const k of Object.keys(m)) expect(METRIC_NAMES).toContain(k);
    expect(liveMethodOf(m)).toBe('post-copy');
  });

  it('a run without post-copy keeps its precopy.* metrics', () => {
    const m = metricsOf(load('run-full.json'));
    expect(Object.keys(m).filter((k) => k.startsWith('precopy.'))).toHaveLength(4);
    expect(Object.keys(m).some((k) => k.startsWith('postcopy.'))).toBe(false);
    expect(liveMethodOf(m)).toBe('pre-copy');
  });
});

describe('compare: post-copy against post-copy', () => {
  const base = suite([{ name: 'hotset-pc', metrics: postcopyMetrics({ downtime: 2, total: 1400, requests: 400, blocktime: 250 }) }]);

  it('compares on its own metrics, with the same statistics as pre-copy, and flags a regression', () => {
    const head = suite([{ name: 'hotset-pc', metrics: postcopyMetrics({ downtime: 2, total: 1400, requests: 400, blocktime: 400 }) }]);
    const c = compareSuites(base, head, OPTIONS);
    expect(c.rows.map((r) => r.metric)).toEqual(['postcopy.total-time', 'postcopy.downtime', 'postcopy.transferred', 'postcopy.requests', 'postcopy.blocktime']);
    const verdicts = Object.fromEntries(c.rows.map((r) => [r.metric, r.verdict]));
    expect(verdicts['postcopy.blocktime']).toBe('regression');
    expect(verdicts['postcopy.downtime']).toBe('not-significant');
    expect(c.outcome).toBe('regression');
    expect(c.methodMismatches).toEqual([]);
    // the same samples named as pre-copy's downtime get the same p and verdict: one set of statistics
    const asPre = compareSuites(
      suite([{ name: 'hotset-pc', metrics: { 'precopy.downtime': base.benchmarks[0].metrics['postcopy.blocktime'] } }]),
      suite([{ name: 'hotset-pc', metrics: { 'precopy.downtime': head.benchmarks[0].metrics['postcopy.blocktime'] } }]),
      OPTIONS,
    ).rows[0];
    const row = c.rows.find((r) => r.metric === 'postcopy.blocktime')!;
    expect([row.p, row.method, row.change, row.verdict]).toEqual([asPre.p, asPre.method, asPre.change, asPre.verdict]);
    expect(renderComparisonText(c)).toMatch(/^postcopy\.blocktime \(ms, lower is better\)$/m);
    expect(renderComparisonMarkdown(c)).toContain('🔴 **1 regression');
  });

  it('more stalls on request is a regression of postcopy.requests; its threshold is set by its last name', () => {
    const head = suite([{ name: 'hotset-pc', metrics: postcopyMetrics({ downtime: 2, total: 1400, requests: 440, blocktime: 250 }) }]);
    expect(compareSuites(base, head, OPTIONS).rows.find((r) => r.metric === 'postcopy.requests')!.verdict).toBe('regression');
    const o = compareOptionsFrom({ alpha: '0.05', threshold: '5%', metricThreshold: ['requests=20%', 'postcopy.blocktime=10%'], format: 'text', failOn: 'regression' }, { base: 'b', head: 'h' });
    expect(o.metricThresholds).toEqual({ requests: 0.2, 'postcopy.blocktime': 0.1 });
    expect(compareSuites(base, head, { ...OPTIONS, metricThresholds: o.metricThresholds }).rows.find((r) => r.metric === 'postcopy.requests')!.verdict).toBe('within-threshold');
  });
});

describe('compare: pre-copy alone against post-copy', () => {
  let stdout: MockInstance;
  let stderr: MockInstance;
  beforeEach(() => {
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
  });
  const flags: CompareCommandOptions = { alpha: '0.05', threshold: '5%', metricThreshold: [], format: 'text', failOn: 'regression' };

  const preBase = suite([{ name: 'hotset', scenario: scenario('hotset', false), metrics: precopyMetrics({ downtime: 280, total: 2600 }) }]);
  const postHead = suite([{ name: 'hotset', scenario: scenario('hotset', true), metrics: postcopyMetrics({ downtime: 2, total: 1400, requests: 400, blocktime: 250 }) }]);

  it('is not compared as like with like: no row, a warning that says why, and the gate cannot decide (exit 2)', () => {
    const c = compareSuites(preBase, postHead, OPTIONS);
    expect(c.rows).toEqual([]);
    expect(c.methodMismatches).toEqual([{ benchmark: 'hotset', base: 'pre-copy', head: 'post-copy' }]);
    expect(c.warnings).toContain(
      '"hotset": base.json migrated with pre-copy alone, head.json switched to post-copy: not compared as like with like (pre-copy and post-copy have metrics of their own; run both sides with the same postcopy.enabled)',
    );
    // said once, not again as metrics on one side only
    expect(c.warnings.join('\n')).not.toMatch(/metrics on one side only/);
    // the scenario difference is named as for any other key
    expect(c.warnings.join('\n')).toMatch(/hotset: postcopy\.enabled false → true/);
    expect(c.outcome).toBe('undecided');
    expect(renderComparisonText(c)).toMatch(/^alpha 0\.05, threshold 5%: undecided: nothing could be tested \(no metric is on both sides; see the warnings\)/m);
    expect(renderComparisonMarkdown(c)).toContain('not compared as like with like');
    expect(renderMarkdownSummary([JSON.parse(JSON.stringify(c))], ['c.json'])).toContain('**Not compared as like with like** (pre-copy alone on one side, post-copy on the other): hotset (pre-copy → post-copy)');
    expect(reportComparison(preBase, postHead, flags, { base: 'base.json', head: 'head.json' })).toBe(2);
    // and the other way round
    expect(compareSuites(postHead, preBase, OPTIONS).methodMismatches).toEqual([{ benchmark: 'hotset', base: 'post-copy', head: 'pre-copy' }]);
  });

  it('beside benchmarks that do pair, the mismatch is a warning and the others decide the gate', () => {
    const other = { name: 'idle', scenario: scenario('idle', false), metrics: precopyMetrics({ downtime: 20, total: 500 }) };
    const c = compareSuites(
      suite([...preBase.benchmarks, other]),
      suite([...postHead.benchmarks, other]),
      OPTIONS,
    );
    expect(new Set(c.rows.map((r) => r.benchmark))).toEqual(new Set(['idle']));
    expect(c.methodMismatches).toHaveLength(1);
    expect(c.outcome).toBe('no-regression');
    expect(reportComparison(suite([...preBase.benchmarks, other]), suite([...postHead.benchmarks, other]), flags, { base: 'b', head: 'h' })).toBe(0);
  });

  it('runs that went both ways on one side (some switched, some converged) are not called a mismatch', () => {
    const mixed = suite([{ name: 'hotset', metrics: { ...precopyMetrics({ downtime: 280, total: 2600 }), ...postcopyMetrics({ downtime: 2, total: 1400, requests: 400, blocktime: 250 }) } }]);
    expect(compareSuites(mixed, postHead, OPTIONS).methodMismatches).toEqual([]);
  });
});

describe('a suite with pre-copy alone and post-copy on the same workload', () => {
  const doc = suite([
    { name: 'hotset-forced', scenario: scenario('hotset-forced', false), metrics: precopyMetrics({ downtime: 281, total: 2610 }) },
    { name: 'idle', scenario: { ...scenario('idle', false), workload: { pattern: 'idle' } }, metrics: precopyMetrics({ downtime: 20, total: 500 }) },
    { name: 'hotset-postcopy', scenario: scenario('hotset-postcopy', true), metrics: postcopyMetrics({ downtime: 1.62, total: 1760, requests: 249, blocktime: 200 }) },
  ]);

  it('pairs the two benchmarks whose scenarios differ only in the name and post-copy', () => {
    const pairs = precopyPostcopyPairs(doc);
    expect(pairs.map((p) => [p.precopy.name, p.postcopy.name])).toEqual([['hotset-forced', 'hotset-postcopy']]);
    // another workload is no pair
    const apart = structuredClone(doc);
    (apart.benchmarks[2].scenario as { workload: { dirtyRate: number } }).workload.dirtyRate = 1;
    expect(precopyPostcopyPairs(apart)).toEqual([]);
  });

  it('the suite report shows them side by side; the markup of a name stays text', () => {
    const html = renderReport([doc], ['suite.json']);
    const at = html.indexOf('Pre-copy against post-copy on the same workload');
    expect(at).toBeGreaterThan(0);
    const section = html.slice(at);
    expect(section).toContain('<th>pre-copy: hotset-forced</th><th>post-copy: hotset-postcopy</th>');
    const downtime = section.match(/<tr><td>downtime<\/td><td>(.*?)<\/td><td>(.*?)<\/td><\/tr>/)!;
    expect(downtime[1]).toMatch(new RegExp(`^${formatDurationMs(281)} `));
    expect(downtime[2]).toMatch(new RegExp(`^${formatDurationMs(1.62)} `));
    expect(section).toMatch(/<tr><td>postcopy-requests<\/td><td>—<\/td><td>249 /);
    expect(renderReport([suite([doc.benchmarks[1]])], ['s'])).not.toContain('Pre-copy against post-copy');

    const hostile = structuredClone(doc);
    hostile.benchmarks[0].name = MARKUP;
    (hostile.benchmarks[0].scenario as { name: string }).name = MARKUP;
    const checked = checkSuiteDocument(JSON.parse(JSON.stringify(hostile)), 's') as SuiteDocument;
    expect(precopyPostcopyPairs(checked)).toHaveLength(1);
    expect(liveMarkupInHtml(renderReport([checked], [MARKUP]), tagsOf(html))).toBeNull();
    expect(renderMarkdownSummary([checked], ['s'])).not.toMatch(/<img/);
    // the markdown summary has the same pair
    const md = renderMarkdownSummary([doc], ['s']);
    expect(md).toContain('|  | pre-copy: hotset-forced | post-copy: hotset-postcopy |');
    expect(md).toContain(`| downtime | ${formatDurationMs(281)} | ${formatDurationMs(1.62)} |`);
    expect(md).toContain('| postcopy-requests | — | 249 |');
  });

  it("suite's closing table heads the post-copy columns", () => {
    const text = renderSuiteMedians(doc, plainColors, 200);
    expect(text).toMatch(/post-copy downtime/);
    expect(text).toMatch(/requests/);
    expect(text).toMatch(/blocktime/);
  });
});
