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
import { INK, OKABE_ITO, VIRIDIS_LIGHT_TO_DARK } from './theme.ts';
import { badge, page, provenance, table } from './page.ts';
import { bytes, count, esc, formatted, ms, num, valueText } from './text.ts';
import { scenarioSummary } from './run-html.ts';

export const describePoint = (p: { params: Record<string, unknown> }): string =>
  Object.entries(p.params).map(([k, v]) => `${k}=${valueText(v)}`).join(' ') || '(the scenario as it is)';

/** "#3", "#12–15", "#1, #4, #9": the indices of points drawn at one spot. */
export function indexList(indices: number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j - i >= 2 ? `#${sorted[i]}–${sorted[j]}` : sorted.slice(i, j + 1).map((k) => `#${k}`).join(', '));
    i = j + 1;
  }
  return parts.join(', ');
}

/** Points that land on the same spot (same downtime and total time): one label for them all. */
export function coincident(points: readonly PointFigures[]): PointFigures[][] {
  const groups = new Map<string, PointFigures[]>();
  for (const p of points) {
    const k = `${p.downtimeMs}|${p.totalTimeMs}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  return [...groups.values()];
}

/** Colours of the points by the first axis' value (up to 6 values; beyond that, one colour). */
// (orange is the frontier's; yellow is too light on white)
const POINT_COLOURS = [OKABE_ITO.blue, OKABE_ITO.green, OKABE_ITO.purple, OKABE_ITO.sky, OKABE_ITO.vermillion, OKABE_ITO.black];

function paretoChart(doc: SweepDocument, frontier: PointFigures[], rec: PointFigures | null, target: number | null): string {
  const points = doc.points;
  const done = points.filter((p) => p.totalTimeMs !== null && p.downtimeMs !== null);
  const downs = done.map((p) => p.downtimeMs!);
  const totals = done.map((p) => p.totalTimeMs!);
  const t = msScale(Math.max(1, ...totals));
  const d = msScale(Math.max(1, ...downs, target ?? 0));
  const minD = Math.min(...downs, target ?? Infinity);
  const maxD = Math.max(...downs, target ?? 0);
  // Both axes start at 0, so that a distance on the chart is a share of the value (a 1% change looks
  // like 1%); downtimes that span more than 30× go on a log scale instead, which says so on its ticks.
  const log = minD > 0 && maxD / minD > 30;
  const xy = (p: PointFigures): number[] => [p.downtimeMs! / d.div, p.totalTimeMs! / t.div, p.index];
  const series: Record<string, unknown>[] = [];
  series.push({
    type: 'line',
    name: 'Pareto frontier',
    data: frontier.map(xy),
    // an orange diamond around each point of the frontier (a frontier of one point is no line)
    symbol: 'diamond',
    symbolSize: 18,
    itemStyle: { color: 'rgba(0,0,0,0)', borderColor: OKABE_ITO.orange, borderWidth: 2 },
    lineStyle: { color: OKABE_ITO.orange, width: 2 },
    z: 2,
  });
  // Points coloured by the first axis (a legend names its values), so that a point says which setting it is.
  const first = doc.axes[0];
  const values = first ? [...new Set(done.map((p) => valueText(p.params[first.key])))] : [];
  const byValue = first && values.length >= 2 && values.length <= POINT_COLOURS.length;
  const groups = byValue ? values.map((v) => ({ name: `${first.key}=${v}`, pts: done.filter((p) => valueText(p.params[first.key]) === v) })) : [{ name: 'setting', pts: done }];
  groups.forEach((g, i) => {
    const colour = byValue ? POINT_COLOURS[i] : OKABE_ITO.sky;
    series.push({
      type: 'scatter',
      name: g.name,
      data: g.pts.map(xy),
      symbolSize: 10,
      itemStyle: { color: colour, borderColor: '#fff', borderWidth: 1, opacity: 0.9 },
      z: 3,
    });
  });
  // One label per spot ("#12–15" for points that coincide); a label that would overlap another is
  // left out rather than printed over it (the table below lists every setting by its #).
  const spots = coincident(done);
  series.push({
    type: 'scatter',
    name: 'labels',
    data: spots.map((g) => ({ value: xy(g[0]), symbolSize: 4 + g.length, label: { formatter: indexList(g.map((p) => p.index)) } })),
    // transparent, not opacity 0 (which the label would inherit)
    itemStyle: { color: 'rgba(0,0,0,0)' },
    silent: true,
    // hanging under the points, read upwards: the points lie along a falling line and the total-time
    // axis starts at 0, so the space under them is free; a white halo keeps a label legible over a line
    label: { show: true, position: 'bottom', rotate: 90, align: 'right', verticalAlign: 'middle', distance: 8, color: INK, fontSize: 12, textBorderColor: '#fff', textBorderWidth: 3 },
    labelLayout: { hideOverlap: true },
    z: 4,
  });
  if (rec && rec.downtimeMs !== null && rec.totalTimeMs !== null) {
    series.push({
      type: 'scatter',
      name: `recommended: #${rec.index}`,
      data: [xy(rec)],
      symbol: 'circle',
      symbolSize: 22,
      itemStyle: { color: 'rgba(0,0,0,0)', borderColor: OKABE_ITO.vermillion, borderWidth: 3 },
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
        // at the foot of the line: the points sit high (the total-time axis starts at 0)
        label: { formatter: `target ≤ ${formatDurationMs(target)}`, position: 'insideStartTop', color: INK },
        data: [{ xAxis: target / d.div }],
      },
    });
  }
  const lo = Math.min(...totals);
  const hi = Math.max(...totals);
  const spread = hi > 0 ? ` Total time ranges from ${formatDurationMs(lo)} to ${formatDurationMs(hi)} (${((hi - lo) / hi * 100).toFixed(hi - lo < 0.1 * hi ? 1 : 0)}% of the longest).` : '';
  return chart({
    title: 'Trade-off: total time against downtime',
    note: `Each point is one setting (medians of its runs), numbered as in the table of every setting; points on one spot share a label, and labels that would overlap are left out. The Pareto frontier joins the settings nothing else beats on both. Lower left is better; both axes start at 0${log ? ', except downtime, on a logarithmic scale' : ''}.${spread}${points.length > done.length ? ` ${points.length - done.length} setting(s) did not complete and are not drawn.` : ''}`,
    height: 460,
    option: {
      grid: { left: GRID_SIDE, right: 48, top: 24, bottom: 104 },
      legend: { ...LEGEND, data: series.map((s) => s.name as string).filter((n) => n !== 'labels') },
      xAxis: valueAxis(`downtime (${d.unit})`, log ? { type: 'log', nameGap: 30 } : { nameGap: 30, min: 0 }),
      yAxis: valueAxis(`total time (${t.unit})`, { nameGap: Y_NAME_GAP, min: 0 }),
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
  if (doc.points.some((p) => p.totalTimeMs !== null && p.downtimeMs !== null)) out.push(paretoChart(doc, frontier, rec, target));
  else out.push('<p class="callout bad">No setting completed a migration: nothing to plot.</p>');
  if (doc.axes.length >= 2) out.push(heatmaps(doc));

  out.push(
    '<h3>Every setting</h3>',
    table(
      [{ text: '#', num: true }, { text: '' }, ...doc.axes.map((a) => ({ text: `<code>${esc(a.key).replace(/\./g, '.<wbr>')}</code>` })), { text: 'total time', num: true }, { text: 'downtime', num: true }, { text: 'transferred', num: true }, { text: 'guest speed', num: true }, { text: 'completed', num: true }, { text: 'outcomes' }],
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
  const tune = (doc as SweepDocument & { tune?: TuneBlock }).tune;
  return page(`migbench ${tune ? 'tune' : 'sweep'}: ${name}`, [{ id: 'doc-1', title: name, html: renderSweepSection(doc, options) }]);
}
