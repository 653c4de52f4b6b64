/**
 * The HTML report from the fixture results in test/fixtures/ (real documents written by migbench run,
 * suite, compare --format json, sweep and tune): every kind renders, the page parses, holds the expected
 * charts and figures, references nothing outside itself, and escapes what documents say.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, valid, type HTMLElement } from 'node-html-parser';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { readReportDocument, reportCommand } from '../src/cli/report.ts';
import { writeOutputs } from '../src/cli/output-file.ts';
import { MigbenchError } from '../src/errors.ts';
import { coincident, indexList } from '../src/report/sweep-html.ts';
import { detectKind, renderComparisonReport, renderMarkdownSummary, renderReport, renderRunReport, renderSweepReport } from '../src/report/html.ts';
import { type Comparison, compareSuites } from '../src/results/compare.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { type SuiteDocument, checkSuiteDocument } from '../src/results/suite-document.ts';
import { paretoFrontier, recommend } from '../src/results/pareto.ts';
import type { SweepDocument } from '../src/results/sweep-types.ts';
import { formatBytes, formatCount, formatDurationMs } from '../src/units.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIXTURES).pathname;
/** A fresh copy each time: tests may change it. */
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;

const run = (): ResultDocument => load<ResultDocument>('run.json');
const runRounds = (): ResultDocument => load<ResultDocument>('run-rounds.json');
const comparison = (): Comparison => load<Comparison>('comparison.json');
const sweep = (): SweepDocument => load<SweepDocument>('sweep.json');
const tune = (): SweepDocument & { tune: { maxDowntimeMs: number; recommendation: number | null; frontier: number[] } } => load('tune.json');
const suite = (): SuiteDocument => load<SuiteDocument>('suite-a.json');

const svgCount = (html: string): number => (html.match(/<svg[\s>]/g) ?? []).length;

/** Parse, insisting the markup is well formed; returns the root. */
function parsed(html: string): HTMLElement {
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(valid(html)).toBe(true);
  const root = parse(html);
  expect(root.querySelector('html')).not.toBeNull();
  expect(root.querySelector('head > title')).not.toBeNull();
  return root;
}

/** Self-contained: no script, no external stylesheet, no reference leaving the page. */
function expectSelfContained(html: string, root: HTMLElement): void {
  expect(root.querySelectorAll('script')).toHaveLength(0);
  expect(root.querySelectorAll('link')).toHaveLength(0);
  expect(root.querySelectorAll('iframe, object, embed, img')).toHaveLength(0);
  const refs = root
    .querySelectorAll('*')
    .flatMap((el) => Object.entries(el.attributes).filter(([name]) => /^(src|href|xlink:href|srcset|action|poster)$/i.test(name)).map(([, v]) => v));
  for (const ref of refs) expect(ref).not.toMatch(/^\s*(https?:)?\/\//i);
  expect(html).not.toMatch(/url\(\s*['"]?(https?:)?\/\//i);
  expect(html).not.toMatch(/@import/i);
  // a Content-Security-Policy that forbids every request
  expect(root.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content')).toMatch(/default-src 'none'/);
}

const text = (root: HTMLElement): string => root.textContent.replace(/\s+/g, ' ');

describe('detectKind', () => {
  it('tells the documents apart', () => {
    expect(detectKind(run())).toBe('run');
    expect(detectKind(comparison())).toBe('comparison');
    expect(detectKind(sweep())).toBe('sweep');
    expect(detectKind(tune())).toBe('sweep');
    expect(detectKind(suite())).toBe('suite');
    for (const other of [null, 3, 'x', [], {}, { schemaVersion: 1 }, { kind: 'sweep' }, { rows: [] }]) expect(detectKind(other)).toBeNull();
  });
});

describe('renderRunReport', () => {
  it('a run with rounds and a time series: scenario, outcome, headline figures and five charts', () => {
    const doc = runRounds();
    const html = renderRunReport(doc);
    const root = parsed(html);
    expectSelfContained(html, root);
    // rounds (on a linear and a log axis), timeline, guest, downtime bars, total-time bars
    expect(svgCount(html)).toBe(6);
    expect(root.querySelectorAll('figure.chart svg')).toHaveLength(6);
    const t = text(root);
    const p = doc.precopy!;
    const q = doc.quick!;
    expect(t).toContain(formatDurationMs(p.stats.downtime!));
    expect(t).toContain(formatDurationMs(p.stats['total-time']));
    expect(t).toContain(formatDurationMs(q.stats.downtime!));
    expect(t).toContain(formatBytes(p.stats.ram.transferred));
    expect(t).toContain('converged');
    expect(t).toContain(`${p.rounds.length} (${p.rounds.length - 1} live + stop-and-copy)`);
    expect(t).toContain(doc.comparison!.verdict);
    for (const title of ['Rounds: dirty pages at each sync against pages sent', 'Timeline: remaining bytes and link rate', 'Guest: achieved write rate and throttle', 'Downtime: how long the guest was paused', 'Total time: request to resume on the destination']) {
      expect(t).toContain(title);
    }
    // axes with units and the stop-and-copy window in the timeline
    expect(html).toMatch(/remaining \((KiB|MiB|GiB)\)/);
    expect(html).toMatch(/link rate \((k|M|G)bit\/s\)/);
    expect(html).toContain('time since the migration started (ms)');
    expect(html).toContain('stop-and-copy');
  });

  it('the small run document (run --set guest.memory=8MiB): the same charts, its series used', () => {
    const doc = run();
    expect((doc.precopy as { series?: unknown[] }).series?.length).toBeGreaterThanOrEqual(2);
    const html = renderRunReport(doc);
    const root = parsed(html);
    expectSelfContained(html, root);
    expect(svgCount(html)).toBe(6);
    expect(text(root)).toContain(formatDurationMs(doc.precopy!.stats.downtime!));
  });

  it('an older document without a series: no timeline, says why', () => {
    const doc = runRounds();
    delete (doc.precopy as { series?: unknown }).series;
    const html = renderRunReport(doc);
    const root = parsed(html);
    expect(svgCount(html)).toBe(4);
    expect(text(root)).toContain('No timeline');
    expect(text(root)).not.toContain('Guest: achieved write rate');
  });

  it('the guest chart: achieved write rate against the rate asked, and the throttle (issue 18 item 7)', () => {
    const doc = runRounds();
    const calm = renderRunReport(doc);
    expect(text(parse(calm))).toContain('Guest: achieved write rate and throttle');
    expect(text(parse(calm))).toContain('The guest was never throttled.');
    expect(calm).toContain(`asked: ${formatCount(doc.precopy!.workload.targetPagesPerSec)} page writes/s`);
    const series = (doc.precopy as unknown as { series: { throttlePercent: number }[] }).series;
    series[series.length - 2].throttlePercent = 20;
    const throttled = renderRunReport(doc);
    expect(svgCount(throttled)).toBe(6);
    expect(text(parse(throttled))).not.toContain('never throttled');
  });

  it('the rounds chart on a log axis when the rounds span more than 30×, the linear one a click away (issue 18 item 7)', () => {
    const doc = runRounds();
    const root = parsed(renderRunReport(doc));
    const toggle = root.querySelector('.axis-toggle')!;
    // 8,000 pages in the bulk round, 6 in round 14: log shown, linear behind a disclosure
    const shown = toggle.querySelector('.default figure.chart')!;
    const other = toggle.querySelector('details figure.chart')!;
    expect(shown.querySelector('figcaption')!.textContent).toContain('(log scale)');
    expect(other.querySelector('figcaption')!.textContent).not.toContain('log scale');
    expect(toggle.querySelector('details > summary')!.textContent).toBe('Show on a linear axis');
    // the log axis has ticks 1, 10, 100, …: round 14's 6 pages are visible
    expect(shown.querySelectorAll('text').map((t) => t.textContent)).toEqual(expect.arrayContaining(['1', '10', '100', '1,000']));
    // a run whose rounds are all alike keeps the linear axis, the log one behind the disclosure
    for (const r of doc.precopy!.rounds) {
      r.dirtyPages = 100;
      r.sentPages = 120;
    }
    const flat = parse(renderRunReport(doc)).querySelector('.axis-toggle')!;
    expect(flat.querySelector('.default figcaption')!.textContent).not.toContain('log scale');
    expect(flat.querySelector('details > summary')!.textContent).toBe('Show on a logarithmic axis');
  });

  it('one method only (--only precopy, --only quick)', () => {
    const onlyPre = runRounds();
    onlyPre.quick = null;
    onlyPre.comparison = null;
    onlyPre.methods = ['precopy'];
    const a = renderRunReport(onlyPre);
    parsed(a);
    expect(svgCount(a)).toBe(6);
    expect(a).not.toContain('Quick migration <span');
    const onlyQuick = runRounds();
    onlyQuick.precopy = null;
    onlyQuick.comparison = null;
    onlyQuick.methods = ['quick'];
    const b = renderRunReport(onlyQuick);
    parsed(b);
    expect(svgCount(b)).toBe(2);
    expect(text(parse(b))).toContain(formatDurationMs(onlyQuick.quick!.stats.downtime!));
  });

  it('a cancelled run renders (no downtime)', () => {
    const doc = runRounds();
    const p = doc.precopy!;
    p.outcome = 'cancelled';
    p.reason = 'timeout';
    p.verified = null;
    p.stats.downtime = null;
    p.stats.status = 'cancelled';
    p.rounds = p.rounds.filter((r) => r.stage !== 'stop-and-copy');
    doc.comparison = null;
    const html = renderRunReport(doc);
    const t = text(parsed(html));
    expect(t).toContain('cancelled (timeout)');
    expect(t).toContain('not verified');
  });

  it('escapes what the document says: a scenario named <script>', () => {
    const doc = runRounds();
    const evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
    (doc.scenario as { name: string }).name = evil;
    (doc.scenario as { workload: { pattern: string } }).workload.pattern = '<b>bold</b>';
    doc.comparison!.verdict = '</p><script>alert(2)</script>';
    const html = renderRunReport(doc);
    const root = parsed(html);
    expectSelfContained(html, root);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>bold');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
    expect(root.querySelector('title')!.textContent).toContain('<script>alert("x")</script>');
    expect(root.querySelector('h2')!.textContent).toContain(evil);
  });
});

describe('renderComparisonReport', () => {
  it('per metric, base and head medians with intervals, change and verdict, regressions first', () => {
    const c = comparison();
    const html = renderComparisonReport(c);
    const root = parsed(html);
    expectSelfContained(html, root);
    const metrics = new Set(c.rows.map((r) => r.metric));
    expect(svgCount(html)).toBe(metrics.size);
    const regressions = c.rows.filter((r) => r.verdict === 'regression');
    expect(regressions.length).toBeGreaterThan(0); // the fixture has one: the test relies on it
    const rows = root.querySelector('table')!.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(c.rows.length);
    // the table: regressions first
    regressions.forEach((r, i) => {
      expect(rows[i].classList.contains('regression')).toBe(true);
      expect(rows[i].textContent).toContain(r.benchmark);
      expect(rows[i].textContent).toContain(r.metric);
      expect(rows[i].textContent).toContain(`+${(r.change! * 100).toFixed(1)}%`);
    });
    expect(rows.filter((r) => r.classList.contains('regression'))).toHaveLength(regressions.length);
    // the charts: the metric with a regression first
    const titles = root.querySelectorAll('figure.chart figcaption').map((f) => f.textContent);
    expect(titles[0]).toContain(regressions[0].metric);
    const t = text(root);
    expect(t).toContain(`${c.counts.regression} regression`);
    for (const w of c.warnings) expect(t).toContain(w);
    // medians formatted with units
    const first = regressions[0];
    expect(t).toContain(formatDurationMs(first.base.median));
    expect(t).toContain(formatDurationMs(first.head.median));
    expect(html).toContain('median (ms)');
    expect(html).toContain('median (MiB)');
  });

  const suites = (): { base: SuiteDocument; head: SuiteDocument } => ({ base: checkSuiteDocument(load('suite-a.json'), 'a'), head: checkSuiteDocument(load('suite-b.json'), 'b') });
  const compared = (s: { base: SuiteDocument; head: SuiteDocument }): Comparison => compareSuites(s.base, s.head, { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels: { base: 'a.json', head: 'b.json' } });

  it('with the two suite results: every raw sample of each side in run order (issue 18 item 7)', () => {
    const s = suites();
    const c = compared(s);
    const root = parsed(renderComparisonReport(c, s));
    const figures = root.querySelectorAll('h3').find((h) => h.textContent === 'Raw samples in run order');
    expect(figures).toBeDefined();
    const captions = root.querySelectorAll('figure.chart figcaption').map((f) => f.textContent);
    // a chart per row whose samples are not one value throughout, titled benchmark: metric
    const varying = c.rows.filter((r) => {
      const all = [...s.base.benchmarks, ...s.head.benchmarks].filter((b) => b.name === r.benchmark).flatMap((b) => b.metrics[r.metric].samples);
      return all.some((v) => v !== all[0]);
    });
    expect(varying.length).toBeGreaterThan(0);
    expect(varying.length).toBeLessThan(c.rows.length);
    for (const r of varying) expect(captions.some((t) => t.startsWith(`${r.benchmark}: ${r.metric}`))).toBe(true);
    expect(text(root)).toContain(`${c.rows.length - varying.length} metrics with one value in every run of both sides not drawn`);
    // run order: the x axis counts the runs 1..n
    const fig = root.querySelectorAll('figure.chart').find((f) => f.querySelector('figcaption')!.textContent.startsWith(`${varying[0].benchmark}: ${varying[0].metric}`))!;
    const ticks = fig.querySelectorAll('text').map((t) => t.textContent);
    for (let i = 1; i <= s.base.runs; i++) expect(ticks).toContain(String(i));
    // without the suite results (a comparison document), no samples to draw
    expect(renderComparisonReport(c)).not.toContain('Raw samples in run order');
  });

  it('what differs besides the code: only the environment and scenario keys that differ (issue 18 item 7)', () => {
    const s = suites();
    const same = parsed(renderComparisonReport(compared(s), s));
    expect(text(same)).toContain('The same environment on both sides.');
    expect(text(same)).toContain('Every benchmark ran the same scenario on both sides.');
    (s.head.env as { node: string }).node = 'v22.1.0';
    (s.head.benchmarks[0].scenario as { link: { bandwidth: number } }).link.bandwidth = 62_500_000;
    const root = parsed(renderComparisonReport(compared(s), s));
    const tables = root.querySelectorAll('h3').find((h) => h.textContent === 'What differs besides the code');
    expect(tables).toBeDefined();
    const rows = root.querySelectorAll('table tbody tr').map((r) => r.querySelectorAll('td').map((d) => d.textContent));
    expect(rows).toContainEqual(['env.node', '"v20.20.2"'.replace(/"/g, ''), 'v22.1.0']);
    expect(rows.some((r) => r[0] === 'env.arch' || r[0] === 'env.cpuModel')).toBe(false);
    const bw = rows.find((r) => r[1] === 'link.bandwidth');
    expect(bw?.[0]).toBe(s.base.benchmarks[0].name);
    expect(bw?.[2]).toMatch(/→ 500 Mbit\/s$/);
    // only the key that differs: no other scenario key of that benchmark
    expect(rows.filter((r) => r.length === 3 && r[2].includes('→'))).toEqual([bw]);
    // a comparison document alone: what it records (its scenario differences), and says what it lacks
    const doc = parsed(renderComparisonReport(compared(s)));
    expect(text(doc)).toContain('as far as this comparison records it');
    expect(doc.querySelectorAll('table tbody tr').some((r) => r.textContent.includes('link.bandwidth'))).toBe(true);
    expect(text(parsed(renderComparisonReport(comparison())))).toContain('This comparison does not record the scenarios');
  });

  it('escapes benchmark names and labels', () => {
    const c = comparison();
    c.rows[0].benchmark = '<script>alert(1)</script>';
    c.base.label = '<i>base</i>';
    c.warnings.push('<script>w</script>');
    const html = renderComparisonReport(c);
    const root = parsed(html);
    expectSelfContained(html, root);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<i>base');
    expect(text(root)).toContain('<script>alert(1)</script>');
  });
});

describe('renderSweepReport', () => {
  it('a two-axis sweep: the Pareto frontier and a heat map of downtime', () => {
    const doc = sweep();
    const html = renderSweepReport(doc);
    const root = parsed(html);
    expectSelfContained(html, root);
    expect(svgCount(html)).toBe(2);
    const t = text(root);
    expect(t).toContain('Trade-off: total time against downtime');
    expect(t).toContain('Downtime over precopy.policy and precopy.downtimeLimitMs');
    expect(html).toContain('downtime (ms)');
    expect(html).toContain('total time (ms)');
    // every point in the table, the frontier marked
    const body = root.querySelectorAll('table tbody tr');
    expect(body).toHaveLength(doc.points.length);
    expect(body.filter((r) => r.textContent.includes('frontier'))).toHaveLength(paretoFrontier(doc.points).length);
    expect(t).not.toContain('Recommended');
  });

  it('with a downtime target: the recommended point is marked', () => {
    const doc = sweep();
    const target = doc.points.map((p) => p.downtimeMs!).sort((a, b) => a - b)[1];
    const rec = recommend(doc.points, target, 'total-time', () => '');
    const html = renderSweepReport(doc, { maxDowntimeMs: target });
    const root = parsed(html);
    expect(text(root)).toContain(`Recommended: #${rec.point!.index}`);
    expect(html).toContain(`recommended: #${rec.point!.index}`);
    const marked = root.querySelectorAll('table tbody tr').filter((r) => r.textContent.includes('recommended'));
    expect(marked).toHaveLength(1);
    expect(marked[0].querySelector('td')!.textContent).toBe(String(rec.point!.index));
  });

  it('a tune file: its recommendation and target', () => {
    const doc = tune();
    const html = renderSweepReport(doc);
    const root = parsed(html);
    expect(svgCount(html)).toBe(2);
    expect(text(root)).toContain(`Recommended: #${doc.tune.recommendation}`);
    expect(html).toContain(`target ≤ ${formatDurationMs(doc.tune.maxDowntimeMs)}`);
  });

  it('one axis: no heat map; parameters are escaped', () => {
    const doc = sweep();
    doc.axes = [doc.axes[0]];
    for (const p of doc.points) p.params = { [doc.axes[0].key]: '<script>p</script>' };
    const html = renderSweepReport(doc);
    const root = parsed(html);
    expectSelfContained(html, root);
    expect(svgCount(html)).toBe(1);
    expect(html).not.toContain('<script>');
    expect(text(root)).toContain('<script>p</script>');
  });

  it('three axes: a heat map per value of the third', () => {
    const doc = sweep();
    doc.axes.push({ key: 'precopy.maxRounds', values: [10, 20] });
    doc.points = doc.points.flatMap((p, i) => [10, 20].map((v, j) => ({ ...p, index: i * 2 + j, params: { ...p.params, 'precopy.maxRounds': v } })));
    doc.gridPoints = doc.points.length;
    const html = renderSweepReport(doc);
    parsed(html);
    expect(svgCount(html)).toBe(3);
    expect(html).toContain('(precopy.maxRounds=20)');
  });

  it('a tune file is titled as a tune report (issue 18 item 7)', () => {
    expect(parse(renderSweepReport(tune())).querySelector('title')!.textContent).toBe(`migbench tune: ${(tune().scenario as { name: string }).name}`);
    expect(parse(renderSweepReport(sweep())).querySelector('title')!.textContent).toBe(`migbench sweep: ${(sweep().scenario as { name: string }).name}`);
  });

  it('the trade-off chart: axes from 0, coinciding points share a label, points coloured by setting (issue 18 item 7)', () => {
    // 24 settings of a simulate-mode tune: the frontier's total times lie within 12% of each other
    const doc = load<SweepDocument>('tune-24.json');
    const html = renderSweepReport(doc);
    const svg = parse(html).querySelector('figure.chart svg')!;
    const texts = svg.querySelectorAll('text').map((t) => t.textContent);
    // total time from 0 s (the old axis began at 10.5 s, where a 1% change looked large)
    expect(texts).toContain('0');
    expect(texts).toContain('total time (s)');
    // points at one spot share one label: #12–15 (phaul at every downtime limit), not four overprinted ones
    expect(texts).toContain('#12–15');
    expect(texts.filter((t) => /^#1[2-5]$/.test(t))).toEqual([]);
    // the legend names each point's setting: the policy by colour, the recommendation by number
    for (const v of doc.axes[0].values) expect(texts).toContain(`precopy.policy=${v}`);
    expect(texts).toContain('recommended: #10');
    expect(texts.some((t) => t.startsWith('recommended #'))).toBe(false);
  });

  it('indexList and coincident: one label per spot', () => {
    expect(indexList([3])).toBe('#3');
    expect(indexList([15, 12, 13, 14])).toBe('#12–15');
    expect(indexList([1, 2, 9])).toBe('#1, #2, #9');
    expect(indexList([4, 5, 6, 8, 20, 21])).toBe('#4–6, #8, #20, #21');
    const pt = (index: number, d: number, t: number) => ({ index, params: {}, downtimeMs: d, totalTimeMs: t, transferredBytes: 0, guestSlowdown: 1, completed: 1, runs: 1 });
    expect(coincident([pt(0, 1, 2), pt(1, 1, 3), pt(2, 1, 2)]).map((g) => g.map((p) => p.index))).toEqual([[0, 2], [1]]);
  });

  it('no setting completed: says so instead of an empty chart', () => {
    const doc = sweep();
    for (const p of doc.points) {
      p.totalTimeMs = null;
      p.downtimeMs = null;
      p.completed = 0;
    }
    const html = renderSweepReport(doc, { maxDowntimeMs: 100 });
    const t = text(parsed(html));
    expect(t).toContain('No setting completed a migration');
    expect(t).toContain('did not complete');
  });
});

describe('renderReport', () => {
  it('one page, a section per document, each kind detected', () => {
    const names = ['run.json', 'run-rounds.json', 'comparison.json', 'sweep.json', 'tune.json', 'suite-a.json'];
    const docs = names.map((n) => load<unknown>(n));
    const html = renderReport(docs, names);
    const root = parsed(html);
    expectSelfContained(html, root);
    const sections = root.querySelectorAll('section.doc');
    expect(sections).toHaveLength(names.length);
    const suiteDoc = docs[5] as SuiteDocument;
    const suiteMetrics = new Set(suiteDoc.benchmarks.flatMap((b) => Object.keys(b.metrics)));
    const expected = [6, 6, new Set(comparison().rows.map((r) => r.metric)).size, 2, 2, suiteMetrics.size];
    expect(sections.map((s) => svgCount(s.innerHTML))).toEqual(expected);
    expect(sections.map((s) => s.querySelector('h2')!.textContent.split(':')[0])).toEqual(['Run', 'Run', 'Comparison', 'Sweep', 'Tune', 'Suite']);
    // a table of contents linking the sections
    expect(root.querySelectorAll('nav.toc a').map((a) => a.getAttribute('href'))).toEqual(names.map((_, i) => `#doc-${i + 1}`));
    // suite medians with their interval
    const b = suiteDoc.benchmarks[0];
    expect(text(sections[5])).toContain(formatDurationMs(b.metrics['precopy.total-time'].summary.median));
  });

  it('refuses a document of no known kind, naming it', () => {
    expect(() => renderReport([run(), { hello: 'world' }], ['a.json', 'b.json'])).toThrow(/b\.json: not a migbench result/);
    try {
      renderReport([{}]);
    } catch (error) {
      expect(error).toBeInstanceOf(MigbenchError);
      expect((error as MigbenchError).code).toBe('E_RESULT');
    }
    expect(() => renderReport([])).toThrow(MigbenchError);
  });

  it('a malformed document of a known kind is a corrupt result (E_RESULT), not a crash', () => {
    const broken = { schemaVersion: 1, scenario: { name: 'x' }, precopy: { rounds: 'nope' }, quick: null };
    expect(() => renderReport([broken], ['broken.json'])).toThrow(/broken\.json: looks like a run document but is incomplete/);
    expect(() => renderMarkdownSummary([broken], ['broken.json'])).toThrow(/broken\.json: looks like a run document but is incomplete/);
    for (const render of [renderReport, renderMarkdownSummary]) {
      try {
        render([broken], ['broken.json']);
      } catch (error) {
        expect((error as MigbenchError).code).toBe('E_RESULT');
      }
    }
  });
});

describe('renderMarkdownSummary', () => {
  it('headline figures, verdicts and recommendations, escaped for markdown', () => {
    const r = runRounds();
    (r.scenario as { name: string }).name = 'a|b_<c>';
    const docs: unknown[] = [r, comparison(), tune(), suite()];
    const md = renderMarkdownSummary(docs, ['r.json', 'c.json', 't.json', 's.json']);
    expect(md).toContain('## Run: a\\|b\\_&lt;c&gt; (r.json)');
    expect(md).toContain(formatDurationMs(runRounds().precopy!.stats.downtime!));
    expect(md).toContain('🔴 **1 regression**');
    expect(md).toContain(`**Recommended:** #${tune().tune.recommendation}`);
    expect(md).toContain('## Suite: smoke (s.json)');
  });
});

describe('migbench report (cli/report.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-report-'));
  let stderr: MockInstance;
  const said = (): string => stderr.mock.calls.map((c) => String(c[0])).join('');
  beforeEach(() => {
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stderr.mockRestore();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the HTML and the markdown summary', () => {
    const html = join(dir, 'out.html');
    const md = join(dir, 'out.md');
    expect(reportCommand([fixturePath('run.json'), fixturePath('comparison.json')], { html, markdown: md })).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(svgCount(page)).toBe(6 + new Set(comparison().rows.map((r) => r.metric)).size);
    expect(readFileSync(md, 'utf8')).toContain('# migbench report');
    expect(said()).toContain(`written to ${html}`);
  });

  it('--markdown alone writes no HTML; no flag writes ./report.html', () => {
    const md = join(dir, 'only.md');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      reportCommand([fixturePath('sweep.json')], { markdown: md });
      expect(existsSync(join(dir, 'report.html'))).toBe(false);
      reportCommand([fixturePath('sweep.json')], {});
      expect(svgCount(readFileSync(join(dir, 'report.html'), 'utf8'))).toBe(2);
      expect(said()).toMatch(/HTML report of 1 document written to report\.html\n/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('unreadable: E_USAGE; not JSON, unknown or malformed: E_RESULT; with a one-line message naming the file', () => {
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ nope');
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, '{"hello": 1}');
    const badSweep = join(dir, 'bad-sweep.json');
    writeFileSync(badSweep, JSON.stringify({ ...sweep(), runs: 'two' }));
    const deep = join(dir, 'deep.json'); // found by fuzzing: a RangeError from the renderers or merge's JSON.stringify
    writeFileSync(deep, `{"schemaVersion":1,"precopy":null,"scenario":{"name":${'['.repeat(20000)}1${']'.repeat(20000)}}}`);
    // found by fuzzing: an array where a round's page count belongs took seconds to chart
    const slowRun = join(dir, 'slow-run.json');
    const r = run();
    (r.precopy!.rounds[0] as unknown as { sentPages: unknown }).sentPages = new Array(10_000).fill(-1);
    writeFileSync(slowRun, JSON.stringify(r));
    const badComparison = join(dir, 'bad-comparison.json');
    const c = comparison();
    (c.rows[0].base as unknown as { median: unknown }).median = [1, 2];
    writeFileSync(badComparison, JSON.stringify(c));
    const badSuite = join(dir, 'bad-suite.json');
    writeFileSync(badSuite, JSON.stringify({ ...suite(), benchmarks: [{ name: 'x', metrics: 1 }] }));
    const cases: [string, RegExp, string][] = [
      [join(dir, 'missing.json'), /missing\.json: cannot read it \(file not found\)/, 'E_USAGE'],
      [notJson, /not\.json: not valid JSON/, 'E_RESULT'],
      [unknown, /unknown\.json: not a migbench result/, 'E_RESULT'],
      [deep, /deep\.json: nested more than 100 levels deep \(not a migbench result\)/, 'E_RESULT'],
      [slowRun, /slow-run\.json: precopy\.rounds\[0\]\.sentPages: expected a number, a string, true\/false or null, got an array/, 'E_RESULT'],
      [badComparison, /bad-comparison\.json: rows\[0\]\.base\.median: expected a number or null, got an array/, 'E_RESULT'],
      [badSweep, /bad-sweep\.json: runs: expected a whole number >= 1, got "two"/, 'E_RESULT'],
      [badSuite, /bad-suite\.json: benchmark "x": metrics: expected an object/, 'E_RESULT'],
    ];
    for (const [file, message, code] of cases) {
      let error: unknown;
      try {
        readReportDocument(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MigbenchError);
      expect((error as MigbenchError).code).toBe(code);
      expect((error as MigbenchError).message).toMatch(message);
      expect((error as MigbenchError).message).not.toContain('\n');
      expect(() => reportCommand([fixturePath('run.json'), file], { html: join(dir, 'never.html') })).toThrow(message);
    }
    expect(existsSync(join(dir, 'never.html'))).toBe(false);
    expect(() => reportCommand([], {})).toThrow(/at least one result file/);
  });

  it('writing --html: refused naming --html when the folder does not exist', () => {
    expect(() => writeOutputs([{ flag: '--html', path: join(dir, 'no', 'such', 'dir', 'r.html'), text: '<!doctype html>' }])).toThrow(/--html .*the folder ".*dir" does not exist/);
    const ok = join(dir, 'ok.html');
    writeOutputs([{ flag: '--html', path: ok, text: renderSweepReport(sweep()) }]);
    expect(readFileSync(ok, 'utf8').startsWith('<!doctype html>')).toBe(true);
  });
});
