/**
 * The HTML of a sweep (or a tune file: a sweep with a `tune` block): the recommendation, the Pareto
 * frontier of total time against downtime, heat maps of downtime over two parameters, every setting.
 */
import type { EChartsOption } from 'echarts';
import { type PointFigures, paretoFrontier, recommend } from '../results/pareto.ts';
import type { SweepDocument, TuneBlock } from '../results/sweep-types.ts';
import { formatDurationMs } from '../units.ts';
import type { ScenarioView } from '../results/scenario-view.ts';
import { AXIS_NAME, GRID_SIDE, LEGEND, Y_NAME_GAP, categoryAxis, chart, msScale, valueAxis } from './chart.ts';
import { INK, MUTED, OKABE_ITO, VIRIDIS_LIGHT_TO_DARK } from './theme.ts';
import { badge, page, provenance, table } from './page.ts';
import { bytes, count, esc, formatted, ms, num, valueText } from './text.ts';
import { scenarioSummary } from './run-html.ts';

export const describePoint = (p: { params: Record<string, unknown> }): string =>
  Object.entries(p.params).map(([k, v]) => `${k}=${valueText(v)}`).join(' ') || '(the scenario as it is)';

function paretoChart(points: PointFigures[], frontier: PointFigures[], rec: PointFigures | null, target: number | null): string {
  const done = points.filter((p) => p.totalTimeMs !== null && p.downtimeMs !== null);
  const downs = done.map((p) => p.downtimeMs!);
  const totals = done.map((p) => p.totalTimeMs!);
  const t = msScale(Math.max(1, ...totals));
  const d = msScale(Math.max(1, ...downs, target ?? 0));
  const minD = Math.min(...downs, target ?? Infinity);
  const maxD = Math.max(...downs, target ?? 0);
  const log = minD > 0 && maxD / minD > 30;
  const onFrontier = new Set(frontier.map((p) => p.index));
  const xy = (p: PointFigures): number[] => [p.downtimeMs! / d.div, p.totalTimeMs! / t.div, p.index];
  const series: Record<string, unknown>[] = [
    {
      type: 'scatter',
      name: 'setting (completed)',
      data: done.filter((p) => !onFrontier.has(p.index)).map(xy),
      symbolSize: 10,
      itemStyle: { color: OKABE_ITO.sky, borderColor: OKABE_ITO.blue, borderWidth: 1 },
      label: { show: true, position: 'right', color: MUTED, formatter: (x: { value: number[] }) => `#${x.value[2]}` },
    },
    {
      type: 'line',
      name: 'Pareto frontier',
      data: frontier.map(xy),
      symbol: 'diamond',
      symbolSize: 13,
      itemStyle: { color: OKABE_ITO.orange, borderColor: '#7a4a00', borderWidth: 1 },
      lineStyle: { color: OKABE_ITO.orange, width: 2 },
      label: { show: true, position: 'top', color: INK, fontWeight: 600, formatter: (x: { value: number[] }) => `#${x.value[2]}` },
      z: 3,
    },
  ];
  if (rec && rec.downtimeMs !== null && rec.totalTimeMs !== null) {
    series.push({
      type: 'scatter',
      name: 'recommended',
      data: [xy(rec)],
      symbol: 'circle',
      symbolSize: 26,
      itemStyle: { color: 'rgba(0,0,0,0)', borderColor: OKABE_ITO.vermillion, borderWidth: 3 },
      label: { show: true, position: 'right', distance: 8, color: '#8a3000', fontWeight: 700, formatter: `recommended #${rec.index}` },
      z: 5,
    });
  }
  if (target !== null) {
    series.push({
      type: 'line',
      name: `downtime target ≤ ${formatDurationMs(target)}`,
      // one invisible point, so that the axis reaches the target
      data: [[target / d.div, Math.min(...totals) / t.div]],
      symbolSize: 0,
      showSymbol: false,
      itemStyle: { color: OKABE_ITO.black },
      lineStyle: { color: OKABE_ITO.black, type: 'dashed' },
      markLine: {
        silent: true,
        symbol: 'none',
        lineStyle: { color: OKABE_ITO.black, type: 'dashed', width: 1.5 },
        label: { formatter: `target ≤ ${formatDurationMs(target)}`, position: 'insideEndTop', color: INK },
        data: [{ xAxis: target / d.div }],
      },
    });
  }
  return chart({
    title: 'Trade-off: total time against downtime',
    note: `Each point is one setting (medians of its runs); the Pareto frontier joins the settings nothing else beats on both. Lower left is better.${log ? ' Downtime on a logarithmic scale.' : ''}${points.length > done.length ? ` ${points.length - done.length} setting(s) did not complete and are not drawn.` : ''}`,
    height: 440,
    option: {
      grid: { left: GRID_SIDE, right: 48, top: 36, bottom: 84 },
      legend: LEGEND,
      xAxis: valueAxis(`downtime (${d.unit})`, log ? { type: 'log', nameGap: 30 } : { nameGap: 30, scale: true }),
      yAxis: valueAxis(`total time (${t.unit})`, { nameGap: Y_NAME_GAP, scale: true }),
      series,
    } as EChartsOption,
  });
}

function heatmaps(doc: SweepDocument): string {
  const [ax, ay, ...rest] = doc.axes;
  const key = (v: unknown): string => valueText(v);
  const xs = ax.values.map(key);
  const ys = ay.values.map(key);
  // tick labels are drawn at 13px Arial: about 7.5px a character
  const yLabelWidth = Math.min(220, Math.max(...ys.map((y) => y.length)) * 7.5 + 12);
  // Small multiples over the other axes' combinations (up to 4); beyond that, medians over them.
  const combos: Record<string, unknown>[] = [{}];
  for (const a of rest) {
    const next: Record<string, unknown>[] = [];
    for (const c of combos) for (const v of a.values) next.push({ ...c, [a.key]: v });
    combos.splice(0, combos.length, ...next);
  }
  const split = rest.length > 0 && combos.length <= 4;
  const groups = split ? combos : [{}];
  const down = doc.points.map((p) => p.downtimeMs).filter((v): v is number => v !== null);
  const sc = msScale(Math.max(1, ...down));
  const lo = down.length ? Math.min(...down) / sc.div : 0;
  const hi = down.length ? Math.max(...down) / sc.div : 1;
  return groups
    .map((g) => {
      const cells: { value: number[]; text: string }[] = [];
      xs.forEach((xv, xi) =>
        ys.forEach((yv, yi) => {
          const pts = doc.points.filter((p) => key(p.params[ax.key]) === xv && key(p.params[ay.key]) === yv && Object.entries(g).every(([k, v]) => key(p.params[k]) === key(v)));
          if (pts.length === 0) return;
          const vals = pts.map((p) => p.downtimeMs).filter((v): v is number => v !== null).sort((a, b) => a - b);
          if (vals.length === 0) {
            cells.push({ value: [xi, yi, -1], text: 'did not\ncomplete' });
            return;
          }
          const med = vals.length % 2 ? vals[(vals.length - 1) / 2] : (vals[vals.length / 2 - 1] + vals[vals.length / 2]) / 2;
          cells.push({ value: [xi, yi, med / sc.div], text: formatDurationMs(med) + (pts.length === 1 ? `\n#${pts[0].index}` : '') });
        }),
      );
      const title = `Downtime over ${ax.key} and ${ay.key}${split ? ` (${Object.entries(g).map(([k, v]) => `${k}=${valueText(v)}`).join(', ')})` : ''}`;
      const note = `Median downtime of each setting; darker is longer.${rest.length > 0 && !split ? ` Each cell is the median over ${rest.map((a) => a.key).join(', ')}.` : ''} Grey cells did not complete.`;
      return chart({
        title,
        note,
        width: Math.min(1000, 240 + xs.length * 130),
        height: 150 + ys.length * 64,
        option: {
          grid: { left: yLabelWidth + 24, right: 20, top: 40, bottom: 80 },
          xAxis: categoryAxis(ax.key, xs, { nameGap: 28, splitArea: { show: false }, axisTick: { show: false } }),
          // the y axis is named above it, left-aligned: a long key would not fit along a short axis
          yAxis: categoryAxis(ay.key, ys, { nameLocation: 'end', nameGap: 12, nameTextStyle: { ...AXIS_NAME, align: 'left' }, axisTick: { show: false } }),
          visualMap: {
            type: 'continuous',
            min: lo,
            max: hi > lo ? hi : lo + 1,
            dimension: 2,
            orient: 'horizontal',
            left: 'center',
            bottom: 0,
            itemWidth: 12,
            itemHeight: 180,
            calculable: false,
            text: [`${num(hi)} ${sc.unit}`, `${num(lo)} ${sc.unit}  downtime`],
            textStyle: { color: INK },
            inRange: { color: VIRIDIS_LIGHT_TO_DARK },
            outOfRange: { color: '#d9d9d9' },
          },
          series: [
            {
              type: 'heatmap',
              name: 'downtime',
              // dark text on the light end of the scale, white on the dark end
              data: cells.map((c) => ({ value: c.value, label: { formatter: c.text, color: c.value[2] >= 0 && hi > lo && (c.value[2] - lo) / (hi - lo) > 0.45 ? '#ffffff' : INK } })),
              itemStyle: { borderColor: '#fff', borderWidth: 2 },
              label: { show: true, fontSize: 13, fontWeight: 600, lineHeight: 17 },
            },
          ],
        } as EChartsOption,
      });
    })
    .join('\n');
}

export function renderSweepSection(doc: SweepDocument, options: { maxDowntimeMs?: number } = {}, label?: string): string {
  const tune = (doc as SweepDocument & { tune?: TuneBlock }).tune;
  const out: string[] = [];
  const s = (doc.scenario ?? {}) as ScenarioView;
  out.push(`<h2>${tune ? 'Tune' : 'Sweep'}: ${esc(s.name ?? 'scenario')}${label ? ` <span class="note">${esc(label)}</span>` : ''}</h2>`);
  out.push(provenance(doc));
  out.push(
    `<p>${count(doc.points.length)} of ${count(doc.gridPoints)} grid point${doc.gridPoints === 1 ? '' : 's'}${doc.shard ? ` (shard ${esc(doc.shard.index)}/${esc(doc.shard.count)})` : ''}, ${count(doc.runs)} run${doc.runs === 1 ? '' : 's'} each, over ${doc.axes.map((a) => `<code>${esc(a.key)}</code> ∈ {${a.values.map((v) => esc(valueText(v))).join(', ')}}`).join(' × ')}.</p>`,
  );
  out.push('<details><summary>Base scenario</summary>', scenarioSummary(s), '</details>');

  const frontier = paretoFrontier(doc.points);
  const onFrontier = new Set(frontier.map((p) => p.index));
  let target: number | null = null;
  let rec: PointFigures | null = null;
  let why: string | null = null;
  let met = true;
  if (options.maxDowntimeMs !== undefined) {
    target = options.maxDowntimeMs;
    const r = recommend(doc.points, target, tune?.objective ?? 'total-time', describePoint);
    rec = r.point;
    why = r.why;
    met = r.met;
  } else if (tune) {
    target = tune.maxDowntimeMs;
    rec = tune.recommendation === null ? null : (doc.points.find((p) => p.index === tune.recommendation) ?? null);
    why = tune.why ?? null;
    met = tune.met ?? true;
  }
  if (target !== null) {
    out.push(
      `<p class="callout${met ? '' : ' bad'}"><strong>${met ? 'Recommended' : 'No setting meets the target'}:</strong> ${rec ? `#${esc(rec.index)} <code>${esc(describePoint(rec))}</code>, downtime ${ms(rec.downtimeMs)}, total time ${ms(rec.totalTimeMs)}` : 'none'}${why ? `<br><span class="note">${esc(why)}</span>` : ''}</p>`,
    );
  }
  if (doc.points.some((p) => p.totalTimeMs !== null && p.downtimeMs !== null)) out.push(paretoChart(doc.points, frontier, rec, target));
  else out.push('<p class="callout bad">No setting completed a migration: nothing to plot.</p>');
  if (doc.axes.length >= 2) out.push(heatmaps(doc));

  out.push(
    '<h3>Every setting</h3>',
    table(
      [{ text: '#', num: true }, { text: '' }, ...doc.axes.map((a) => ({ text: `<code>${esc(a.key)}</code>` })), { text: 'total time', num: true }, { text: 'downtime', num: true }, { text: 'transferred', num: true }, { text: 'guest speed', num: true }, { text: 'completed', num: true }, { text: 'outcomes' }],
      [...doc.points]
        .sort((a, b) => (a.downtimeMs ?? Infinity) - (b.downtimeMs ?? Infinity))
        .map((p) => ({
          cls: rec?.index === p.index ? 'improvement' : undefined,
          cells: [
            esc(p.index),
            [rec?.index === p.index ? badge('recommended', 'ok') : '', onFrontier.has(p.index) ? badge('frontier', 'neutral') : ''].filter(Boolean).join(' '),
            ...doc.axes.map((a) => esc(valueText(p.params[a.key]))),
            ms(p.totalTimeMs),
            ms(p.downtimeMs),
            bytes(p.transferredBytes),
            esc(formatted(p.guestSlowdown, (v) => `${(v * 100).toFixed(0)}%`)),
            `${esc(p.completed)}/${esc(p.runs)}`,
            esc(Object.entries(p.outcomes ?? {}).map(([k, v]) => `${k}${v > 1 ? ` ×${v}` : ''}`).join(', ')),
          ],
        })),
    ),
  );
  return out.join('\n');
}

export function renderSweepReport(doc: SweepDocument, options?: { maxDowntimeMs?: number }): string {
  const name = ((doc.scenario ?? {}) as ScenarioView).name ?? 'sweep';
  return page(`migbench sweep: ${name}`, [{ id: 'doc-1', title: name, html: renderSweepSection(doc, options) }]);
}
