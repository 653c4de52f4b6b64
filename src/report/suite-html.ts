/** The HTML of a suite result: medians with intervals per metric and benchmark, as charts and a table. */
import type { EChartsOption } from 'echarts';
import type { Summary } from '../results/statistics.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import { AXIS_TEXT, INTERVAL_NOTE, categoryAxis, chart, interval, metricScale, valueAxis, whiskers, withUnit } from './chart.ts';
import { INK, OKABE_ITO } from './theme.ts';
import { count, esc, formatMetric } from './text.ts';
import { provenance, table } from './page.ts';
import { PAIR_ROWS, precopyPostcopyPairs, type MethodPair } from '../results/method-pairs.ts';
import type { MetricSeries } from '../results/suite-document.ts';

/** A median with its interval (or range) in the metric's unit, escaped; "—" for no metric. */
function medianCell(m: MetricSeries | undefined): string {
  if (!m) return '—';
  const s = m.summary;
  const iv = s.ciLow !== null && s.ciHigh !== null ? `CI ${formatMetric(s.ciLow, m.unit)} … ${formatMetric(s.ciHigh, m.unit)}` : `range ${formatMetric(s.min, m.unit)} … ${formatMetric(s.max, m.unit)}`;
  return `${formatMetric(s.median, m.unit)} <span class="note">(${iv}, n ${count(s.n)})</span>`;
}

/** Pre-copy alone beside post-copy on the same workload: each pair's medians side by side. */
function methodPairsSection(pairs: MethodPair[]): string {
  const out = [
    '<h3>Pre-copy against post-copy on the same workload</h3>',
    '<p class="note">Benchmarks whose scenarios differ only in the name and the post-copy settings: one migrated with pre-copy alone, the other switched to post-copy. Medians over the measured runs.</p>',
  ];
  for (const { precopy, postcopy } of pairs) {
    out.push(
      table(
        [{ text: '' }, { text: `pre-copy: ${esc(precopy.name)}` }, { text: `post-copy: ${esc(postcopy.name)}` }],
        PAIR_ROWS.map((r) => ({
          cells: [esc(r.label), r.precopy ? medianCell(precopy.metrics[r.precopy]) : '—', r.postcopy ? medianCell(postcopy.metrics[r.postcopy]) : '—'],
        })),
      ),
    );
  }
  return out.join('\n');
}

function suiteMetricChart(metric: string, rows: { name: string; unit: string; better: string; summary: Summary }[]): string {
  const unit = rows[0].unit;
  const max = Math.max(...rows.map((r) => Math.max(r.summary.median, interval(r.summary).hi)));
  const sc = metricScale(unit, max);
  return chart({
    title: `${metric} (${rows[0].better} is better)`,
    width: 520,
    height: 70 + rows.length * 50,
    option: {
      grid: { left: 16, right: 40, top: 10, bottom: 40, containLabel: true },
      xAxis: valueAxis(withUnit('median', sc), { nameGap: 28, min: 0 }),
      yAxis: categoryAxis('', rows.map((r) => `${r.name}\n${formatMetric(r.summary.median, unit)}`), { inverse: true, axisLabel: { ...AXIS_TEXT, lineHeight: 16 } }),
      series: [
        {
          type: 'bar',
          name: 'median',
          data: rows.map((r) => r.summary.median / sc.div),
          barWidth: 20,
          itemStyle: { color: OKABE_ITO.sky },
        },
        whiskers('interval', INK, rows.map((r, i) => {
          const x = interval(r.summary);
          return [x.lo / sc.div, x.hi / sc.div, i, x.dashed ? 1 : 0];
        }), 0),
      ],
    } as EChartsOption,
  });
}

export function renderSuiteSection(doc: SuiteDocument, label?: string): string {
  const out: string[] = [];
  out.push(`<h2>Suite: ${esc(doc.suite)}${label ? ` <span class="note">${esc(label)}</span>` : ''}</h2>`);
  out.push(provenance(doc));
  out.push(`<p>${count(doc.benchmarks.length)} benchmark${doc.benchmarks.length === 1 ? '' : 's'}, ${count(doc.runs)} measured run${doc.runs === 1 ? '' : 's'} each after ${count(doc.warmup)} warm-up run${doc.warmup === 1 ? '' : 's'}.</p>`);
  const metrics: string[] = [];
  for (const b of doc.benchmarks) for (const m of Object.keys(b.metrics)) if (!metrics.includes(m)) metrics.push(m);
  out.push(`<p class="note">Bars: the median of each benchmark. ${esc(INTERVAL_NOTE)}</p>`);
  const charts = metrics.map((m) =>
    suiteMetricChart(
      m,
      doc.benchmarks.filter((b) => Object.hasOwn(b.metrics, m) && b.metrics[m].samples.length > 0).map((b) => ({ name: b.name, unit: b.metrics[m].unit, better: b.metrics[m].better, summary: b.metrics[m].summary })),
    ),
  );
  out.push(`<div class="row">${charts.join('\n')}</div>`);
  const pairs = precopyPostcopyPairs(doc);
  if (pairs.length > 0) out.push(methodPairsSection(pairs));
  out.push(
    table(
      [{ text: 'benchmark' }, { text: 'metric' }, { text: 'median', num: true }, { text: 'interval', num: true }, { text: 'n', num: true }],
      doc.benchmarks.flatMap((b) =>
        Object.entries(b.metrics).map(([m, s]) => ({
          cells: [
            esc(b.name),
            esc(m),
            formatMetric(s.summary.median, s.unit),
            s.summary.ciLow !== null && s.summary.ciHigh !== null ? `CI ${formatMetric(s.summary.ciLow, s.unit)} … ${formatMetric(s.summary.ciHigh, s.unit)}` : `range ${formatMetric(s.summary.min, s.unit)} … ${formatMetric(s.summary.max, s.unit)}`,
            count(s.summary.n),
          ],
        })),
      ),
    ),
  );
  return out.join('\n');
}
