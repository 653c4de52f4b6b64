/**
 * The HTML of a comparison of two suite results (`compare --format json`, `compare --html`): verdicts,
 * every metric's medians with intervals (regressions first), a chart per metric, geometric means.
 */
import type { EChartsOption } from 'echarts';
import { type Comparison, type MetricComparison, type Verdict, isUndecided } from '../results/compare.ts';
import type { Summary } from '../results/statistics.ts';
import { INTERVAL_NOTE, LEGEND, categoryAxis, chart, interval, metricScale, valueAxis, whiskers, withUnit } from './chart.ts';
import { MUTED, OKABE_ITO } from './theme.ts';
import { type Tone, badge, page, table } from './page.ts';
import { esc, fixedText, formatMetric, formatted, metricText } from './text.ts';

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
  return `<span class="v">${formatMetric(s.median, unit)}</span><br><span class="note">${esc(iv)}</span>`;
}

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
  return chart({
    title: `${metric} (${better} is better)`,
    width: 520,
    height: 84 + rows.length * 64,
    option: {
      color: [OKABE_ITO.blue, OKABE_ITO.orange],
      grid: { left: 16, right: 30, top: 14, bottom: 70, containLabel: true },
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

export function renderComparisonSection(c: Comparison, label?: string): string {
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
      [{ text: 'benchmark' }, { text: 'metric' }, { text: `base: ${esc(c.base.label)}`, num: true }, { text: `head: ${esc(c.head.label)}`, num: true }, { text: 'change', num: true }, { text: 'p (n)', num: true }, { text: 'verdict' }],
      sorted.map((r) => ({
        cls: r.verdict === 'regression' ? 'regression' : r.verdict === 'improvement' ? 'improvement' : undefined,
        cells: [
          esc(r.benchmark),
          esc(r.metric),
          summaryCell(r.base, r.unit),
          summaryCell(r.head, r.unit),
          r.verdict === 'not-significant' || r.verdict === 'insufficient-samples' ? `<span class="note">${esc(changeText(r))}</span>` : esc(changeText(r)),
          esc(r.method === 'equality' ? `exact (n=${r.base.n})` : `${fixedText(r.p, 3)} (n=${r.base.n === r.head.n ? r.base.n : `${r.base.n}+${r.head.n}`})`),
          `${badge(VERDICT_TEXT[r.verdict], VERDICT_TONE[r.verdict])}${r.verdict === 'regression' || r.verdict === 'improvement' ? ` <span class="note">(threshold ${esc(Number((r.threshold * 100).toFixed(2)))}%)</span>` : ''}`,
        ],
      })),
    ),
  );

  // One chart per metric; metrics with a regression first, then with an improvement, then the rest.
  const metrics = [...new Set(c.rows.map((r) => r.metric))];
  const worst = (m: string): number => Math.min(...c.rows.filter((r) => r.metric === m).map((r) => verdictRank(r.verdict)));
  metrics.sort((a, b) => worst(a) - worst(b));
  out.push('<h3>Medians per metric</h3>', `<p class="note">Base as blue circles, head as orange diamonds. ${esc(INTERVAL_NOTE)}</p>`);
  out.push(`<div class="row">${metrics.map((m) => comparisonMetricChart(c, m, c.rows.filter((r) => r.metric === m).sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict)))).join('\n')}</div>`);
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

export function renderComparisonReport(c: Comparison): string {
  return page(`migbench compare: ${c.suite}`, [{ id: 'doc-1', title: `compare ${c.suite}`, html: renderComparisonSection(c) }]);
}
