/**
 * The HTML of a comparison of two suite results (`compare --format json`, `compare --html`): verdicts,
 * every metric's medians with intervals (regressions first), a chart per metric, geometric means.
 */
import type { EChartsOption } from 'echarts';
import { type Comparison, type MetricComparison, type ScenarioDiff, type Verdict, isUndecided, scenarioDiffText, scenarioDifferences } from '../results/compare.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import type { Summary } from '../results/statistics.ts';
import { AXIS_TEXT, INTERVAL_NOTE, LEGEND, categoryAxis, chart, interval, legendRows, metricScale, valueAxis, whiskers, withUnit } from './chart.ts';
import { MUTED, OKABE_ITO } from './theme.ts';
import { type Tone, badge, page, table } from './page.ts';
import { esc, fixedText, formatMetric, formatted, metricText } from './text.ts';

/**
 * The two suite results a comparison was computed from, when the caller has them (`compare --html`):
 * their raw samples and environments. A comparison document (`compare --format json`) keeps neither.
 */
export interface ComparedSuites {
  base: SuiteDocument;
  head: SuiteDocument;
}

const VERDICT_ORDER: Verdict[] = ['regression', 'improvement', 'within-threshold', 'insufficient-samples', 'not-significant'];
export const VERDICT_TEXT: Record<Verdict, string> = {
  regression: 'regression',
  improvement: 'improvement',
  'within-threshold': 'within threshold',
  'insufficient-samples': 'too few samples',
  'not-significant': 'not significant',
};
const VERDICT_TONE: Record<Verdict, Tone> = {
  regression: 'bad',
  improvement: 'ok',
  'within-threshold': 'neutral',
  'insufficient-samples': 'warn',
  'not-significant': 'neutral',
};

/** plain text */
export function changeText(r: MetricComparison): string {
  if (r.change === null) return r.head.median === r.base.median ? '0%' : r.head.median > r.base.median ? '+∞%' : '−∞%';
  const pct = r.change * 100;
  return `${pct > 0 ? '+' : pct < 0 ? '−' : ''}${Math.abs(pct).toFixed(Math.abs(pct) >= 10 ? 1 : 2)}%`;
}

/** "lo … hi", or one value when both print the same. */
/** plain text */
export function span(lo: number, hi: number, unit: string): string {
  const a = metricText(lo, unit);
  const b = metricText(hi, unit);
  return a === b ? a : `${a} … ${b}`;
}

function summaryCell(s: Summary, unit: string): string {
  const iv =
    s.ciLow !== null && s.ciHigh !== null
      ? `CI ${span(s.ciLow, s.ciHigh, unit)}`
      : s.min === s.max
        ? 'all samples equal'
        : `range ${span(s.min, s.max, unit)}`;
  // a value keeps its unit on its line ("117 ms"): the interval may wrap between values only
  return `<span class="v">${formatMetric(s.median, unit)}</span><br><span class="note">${esc(iv.replace(/(\d) (?=[A-Za-zµ])/g, '$1\u00a0'))}</span>`;
}

/** Escaped, with a line-break opportunity after each dot, slash, hyphen and underscore: "precopy.<wbr>total-<wbr>time". */
const breakable = (text: string): string => esc(text).replace(/([./_-])/g, '$1<wbr>');

export const verdictRank = (v: Verdict): number => VERDICT_ORDER.indexOf(v);

function comparisonMetricChart(c: Comparison, metric: string, rows: MetricComparison[]): string {
  const unit = rows[0].unit;
  const better = rows[0].better;
  const max = Math.max(...rows.flatMap((r) => [r.base.median, r.head.median, interval(r.base).hi, interval(r.head).hi]));
  const sc = metricScale(unit, max);
  const cats = rows.map((r) => ({
    value: `${r.benchmark}\n${changeText(r)} · ${VERDICT_TEXT[r.verdict]}`,
    textStyle: { color: r.verdict === 'regression' ? '#a33a00' : r.verdict === 'improvement' ? '#00603f' : MUTED, fontWeight: r.verdict === 'regression' ? 700 : 400, lineHeight: 17 },
  }));
  const point = (side: 'base' | 'head') => rows.map((r, i) => [r[side].median / sc.div, i]);
  const iv = (side: 'base' | 'head') =>
    rows.map((r, i) => {
      const x = interval(r[side]);
      return [x.lo / sc.div, x.hi / sc.div, i, x.dashed ? 1 : 0];
    });
  const extra = (legendRows([`base: ${c.base.label}`, `head: ${c.head.label}`], 520) - 1) * 22;
  return chart({
    title: `${metric} (${better} is better)`,
    width: 520,
    height: 84 + rows.length * 64 + extra,
    option: {
      color: [OKABE_ITO.blue, OKABE_ITO.orange],
      grid: { left: 16, right: 30, top: 14, bottom: 70 + extra, containLabel: true },
      legend: { ...LEGEND, data: [`base: ${c.base.label}`, `head: ${c.head.label}`] },
      xAxis: valueAxis(withUnit('median', sc), { nameGap: 28, scale: true }),
      yAxis: categoryAxis('', cats, { inverse: true }),
      series: [
        // scatter first: the legend takes each name's symbol from its first series
        { type: 'scatter', name: `base: ${c.base.label}`, data: point('base'), symbol: 'circle', symbolSize: 11, symbolOffset: [0, -9], itemStyle: { color: OKABE_ITO.blue, borderColor: '#fff', borderWidth: 1 }, z: 4 },
        { type: 'scatter', name: `head: ${c.head.label}`, data: point('head'), symbol: 'diamond', symbolSize: 14, symbolOffset: [0, 9], itemStyle: { color: OKABE_ITO.orange, borderColor: '#fff', borderWidth: 1 }, z: 4 },
        whiskers(`base: ${c.base.label}`, OKABE_ITO.blue, iv('base'), -9),
        whiskers(`head: ${c.head.label}`, OKABE_ITO.orange, iv('head'), 9),
      ],
    } as EChartsOption,
  });
}

/** Every sample of one benchmark's metric on both sides, in run order: drift shows as a slope. */
function samplesChart(c: Comparison, r: MetricComparison, base: number[], head: number[]): string {
  const sc = metricScale(r.unit, Math.max(...base, ...head));
  const runs = Math.max(base.length, head.length);
  const line = (name: string, samples: number[], colour: string, symbol: string, size: number): Record<string, unknown> => ({
    type: 'line',
    name,
    data: samples.map((v, i) => [i, v / sc.div]),
    symbol,
    symbolSize: size,
    itemStyle: { color: colour, borderColor: '#fff', borderWidth: 1 },
    lineStyle: { color: colour, width: 1, opacity: 0.6 },
  });
  const extra = (legendRows([`base: ${c.base.label}`, `head: ${c.head.label}`], 340, 11, 10) - 1) * 18;
  return chart({
    title: `${r.benchmark}: ${r.metric}${sc.unit ? ` (${sc.unit})` : ''}`,
    width: 340,
    height: 210 + extra,
    option: {
      grid: { left: 12, right: 16, top: 12, bottom: 48 + extra, containLabel: true },
      legend: { ...LEGEND, itemGap: 10, textStyle: { ...LEGEND.textStyle, fontSize: 11 } },
      xAxis: categoryAxis('run', Array.from({ length: runs }, (_, i) => String(i + 1)), { nameGap: 24, boundaryGap: false, axisLabel: { ...AXIS_TEXT, hideOverlap: true } }),
      // ECharts' own tick labels: as many digits as the ticks need (samples may differ in the 4th digit)
      yAxis: valueAxis('', { scale: true, axisLabel: { ...AXIS_TEXT } }),
      series: [line(`base: ${c.base.label}`, base, OKABE_ITO.blue, 'circle', 9), line(`head: ${c.head.label}`, head, OKABE_ITO.orange, 'diamond', 11)],
    } as EChartsOption,
  });
}

function samplesSection(c: Comparison, suites: ComparedSuites, rows: MetricComparison[]): string {
  const samples = (doc: SuiteDocument, r: MetricComparison): number[] => {
    const m = doc.benchmarks.find((b) => b.name === r.benchmark)?.metrics[r.metric];
    return Array.isArray(m?.samples) ? m.samples.filter((v) => typeof v === 'number' && Number.isFinite(v)) : [];
  };
  const drawn: string[] = [];
  let flat = 0;
  for (const r of rows) {
    const b = samples(suites.base, r);
    const h = samples(suites.head, r);
    if (b.length === 0 || h.length === 0) continue;
    // one value on both sides, every run: nothing to see (named below)
    if ([...b, ...h].every((v) => v === b[0])) {
      flat++;
      continue;
    }
    drawn.push(samplesChart(c, r, b, h));
  }
  if (drawn.length === 0 && flat === 0) return '';
  return [
    '<h3>Raw samples in run order</h3>',
    `<p class="note">Every measured run of each side, in the order it ran (warm-up runs excluded): a slope or a step within a side is drift, not the code. Base as blue circles, head as orange diamonds; each vertical axis is fitted to its samples and does not start at 0.${flat ? ` ${flat} metric${flat === 1 ? '' : 's'} with one value in every run of both sides not drawn.` : ''}</p>`,
    `<div class="row small">${drawn.join('\n')}</div>`,
  ].join('\n');
}

/** What else differs between the sides than the code: environment and, per benchmark, scenario keys. */
function differencesSection(c: Comparison, suites: ComparedSuites | undefined): string {
  const env: [string, unknown, unknown][] = [];
  const add = (key: string, b: unknown, h: unknown): void => {
    if (JSON.stringify(b) !== JSON.stringify(h)) env.push([key, b, h]);
  };
  add('migbench version', c.base.toolVersion, c.head.toolVersion);
  add('git branch', c.base.git?.branch, c.head.git?.branch);
  add('uncommitted changes', c.base.git?.dirty, c.head.git?.dirty);
  add('measured runs', c.base.runs, c.head.runs);
  if (suites) {
    const [b, h] = [suites.base, suites.head];
    add('mode', b.mode ?? 'emulate', h.mode ?? 'emulate');
    add('seed', b.seed, h.seed);
    add('warm-up runs', b.warmup, h.warmup);
    for (const k of ['node', 'v8', 'platform', 'arch', 'cpuModel', 'cpuCount', 'totalMemBytes', 'ci'] as const) add(`env.${k}`, b.env?.[k], h.env?.[k]);
  }
  let scenario: ScenarioDiff[] | null = c.scenarioDiffs ?? null;
  if (suites) {
    const heads = new Map(suites.head.benchmarks.map((x) => [x.name, x]));
    scenario = suites.base.benchmarks.flatMap((b) => {
      const h = heads.get(b.name);
      return h ? scenarioDifferences(b.scenario, h.scenario).map((d) => ({ benchmark: b.name, ...d })) : [];
    });
  }
  const value = (v: unknown): string => (v === undefined ? '<span class="note">absent</span>' : `<code>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code>`);
  const out = ['<h3>What differs besides the code</h3>'];
  out.push(
    env.length === 0
      ? `<p class="note">The same environment on both sides${suites ? '' : ' as far as this comparison records it (version, branch, runs; the machine is recorded in the suite results)'}.</p>`
      : table([{ text: 'setting' }, { text: `base: ${esc(c.base.label)}` }, { text: `head: ${esc(c.head.label)}` }], env.map(([k, b, h]) => ({ cells: [esc(k), value(b), value(h)] }))),
  );
  if (scenario === null) out.push('<p class="note">This comparison does not record the scenarios (written before compare kept them).</p>');
  else if (scenario.length === 0) out.push('<p class="note">Every benchmark ran the same scenario on both sides.</p>');
  else {
    const prefix = (d: ScenarioDiff): string => `${d.benchmark}: ${d.key} `;
    out.push(
      `<p class="callout">The sides ran different scenarios: a difference below may come from the scenario, not the code.</p>`,
      table(
        [{ text: 'benchmark' }, { text: 'scenario key' }, { text: 'base → head' }],
        scenario.map((d) => ({ cells: [esc(d.benchmark), `<code>${esc(d.key)}</code>`, esc(scenarioDiffText(d).slice(prefix(d).length))] })),
      ),
    );
  }
  return out.join('\n');
}

export function renderComparisonSection(c: Comparison, label?: string, suites?: ComparedSuites): string {
  const out: string[] = [];
  const side = (s: Comparison['base']): string =>
    `<strong>${esc(s.label)}</strong>${s.git?.commit ? ` (<code>${esc(String(s.git.commit).slice(0, 10))}</code>${s.git.dirty ? ', uncommitted changes' : ''})` : ''}, ${esc(s.runs)} run${s.runs === 1 ? '' : 's'}`;
  out.push(`<h2>Comparison: suite ${esc(c.suite)}${label ? ` <span class="note">${esc(label)}</span>` : ''}</h2>`);
  out.push(`<p>Base ${side(c.base)} → head ${side(c.head)}.</p>`);
  const thresholds = Object.entries(c.metricThresholds ?? {});
  out.push(
    `<p class="meta">Mann–Whitney U at alpha ${esc(c.alpha)}; a significant change is a regression when worse than ${esc(Number((c.threshold * 100).toFixed(2)))}%${thresholds.length ? ` (${thresholds.map(([k, v]) => `${esc(k)}: ${esc(Number((v * 100).toFixed(2)))}%`).join(', ')})` : ''}; medians with ${esc(Math.round((c.confidence ?? 0.95) * 100))}% confidence intervals.</p>`,
  );
  const n = c.counts;
  const counts = [
    n.regression > 0 ? badge(`${n.regression} regression${n.regression === 1 ? '' : 's'}`, 'bad') : isUndecided(c) ? badge('undecided: nothing could be tested', 'warn') : badge('no regression', 'ok'),
    n.improvement > 0 ? badge(`${n.improvement} improvement${n.improvement === 1 ? '' : 's'}`, 'ok') : '',
    badge(`${n['within-threshold'] + n['not-significant']} unchanged`, 'neutral'),
    n['insufficient-samples'] > 0 ? badge(`${n['insufficient-samples']} with too few samples`, 'warn') : '',
  ].filter(Boolean);
  out.push(`<p>${counts.join(' ')}</p>`);
  if (c.warnings.length > 0) out.push(`<div class="callout"><strong>Warnings</strong><ul>${c.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>`);

  const sorted = [...c.rows].sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict));
  out.push(
    '<h3>Every metric, regressions first</h3>',
    '<p class="note">Under each median: its confidence interval (CI), or, with too few samples for one, the range of the samples. Changes that are not significant are grey.</p>',
    table(
      [{ text: 'benchmark' }, { text: 'metric' }, { text: `base: ${breakable(c.base.label)}`, num: true }, { text: `head: ${breakable(c.head.label)}`, num: true }, { text: 'change', num: true }, { text: 'p (n)', num: true }, { text: 'verdict' }],
      sorted.map((r) => ({
        cls: r.verdict === 'regression' ? 'regression' : r.verdict === 'improvement' ? 'improvement' : undefined,
        cells: [
          esc(r.benchmark),
          breakable(r.metric),
          summaryCell(r.base, r.unit),
          summaryCell(r.head, r.unit),
          r.verdict === 'not-significant' || r.verdict === 'insufficient-samples' ? `<span class="note">${esc(changeText(r))}</span>` : esc(changeText(r)),
          `${esc(r.method === 'equality' ? 'exact' : fixedText(r.p, 3))}<br><span class="note">${esc(`n=${r.base.n === r.head.n ? r.base.n : `${r.base.n}+${r.head.n}`}`)}</span>`,
          `${badge(VERDICT_TEXT[r.verdict], VERDICT_TONE[r.verdict])}${r.verdict === 'regression' || r.verdict === 'improvement' ? ` <span class="note">(threshold ${esc(Number((r.threshold * 100).toFixed(2)))}%)</span>` : ''}`,
        ],
      })),
      'fit',
    ),
  );

  // One chart per metric; metrics with a regression first, then with an improvement, then the rest.
  const metrics = [...new Set(c.rows.map((r) => r.metric))];
  const worst = (m: string): number => Math.min(...c.rows.filter((r) => r.metric === m).map((r) => verdictRank(r.verdict)));
  metrics.sort((a, b) => worst(a) - worst(b));
  out.push('<h3>Medians per metric</h3>', `<p class="note">Base as blue circles, head as orange diamonds. ${esc(INTERVAL_NOTE)}</p>`);
  out.push(`<div class="row">${metrics.map((m) => comparisonMetricChart(c, m, c.rows.filter((r) => r.metric === m).sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict)))).join('\n')}</div>`);
  if (suites) out.push(samplesSection(c, suites, sorted));
  out.push(differencesSection(c, suites));
  if (c.geomeans?.length) {
    out.push(
      '<details><summary>Geometric means over benchmarks</summary>',
      table(
        [{ text: 'metric' }, { text: 'base', num: true }, { text: 'head', num: true }, { text: 'change', num: true }],
        c.geomeans.map((g) => ({
          cells: [esc(g.metric), formatMetric(g.base, g.unit), formatMetric(g.head, g.unit), esc(formatted(g.change, (v) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(2)}%`))],
        })),
      ),
      '</details>',
    );
  }
  return out.join('\n');
}

/** A whole page for one comparison; with the two suite results, also their raw samples and environments. */
export function renderComparisonReport(c: Comparison, suites?: ComparedSuites): string {
  return page(`migbench compare: ${c.suite}`, [{ id: 'doc-1', title: `compare ${c.suite}`, html: renderComparisonSection(c, undefined, suites) }]);
}
