/**
 * Chart plumbing: scales from base units to human units on the axes, the axes, legend and margins every
 * chart shares, rendering one chart to SVG with Apache ECharts' server-side renderer (which escapes
 * the text it puts into SVG), and interval whiskers.
 */
import { createRequire } from 'node:module';
import type { EChartsOption } from 'echarts';
import type { Summary } from '../results/statistics.ts';
import { CHART_FONT, INK } from './theme.ts';
import { esc, num } from './text.ts';

interface Scale {
  /** divide a base-unit value by this */
  div: number;
  /** the unit after dividing, for axis names ("" for plain counts) */
  unit: string;
}

export function bytesScale(max: number): Scale {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (i < units.length - 1 && max >= 1024 ** (i + 1)) i++;
  return { div: 1024 ** i, unit: units[i] };
}

export function msScale(max: number): Scale {
  return max >= 10_000 ? { div: 1000, unit: 's' } : { div: 1, unit: 'ms' };
}

/** bytes/s → bit/s in decimal units. */
export function bitRateScale(maxBytesPerSec: number): Scale {
  const bits = maxBytesPerSec * 8;
  if (bits >= 1e9) return { div: 1e9 / 8, unit: 'Gbit/s' };
  if (bits >= 1e6) return { div: 1e6 / 8, unit: 'Mbit/s' };
  if (bits >= 1e3) return { div: 1e3 / 8, unit: 'kbit/s' };
  return { div: 1 / 8, unit: 'bit/s' };
}

/** The scale of a suite metric's unit ('ms', 'B', 'B/s'; anything else plain). */
export function metricScale(unit: string, max: number): Scale {
  if (unit === 'ms') return msScale(max);
  if (unit === 'B') return bytesScale(max);
  if (unit === 'B/s') {
    const s = bytesScale(max);
    return { div: s.div, unit: `${s.unit}/s` };
  }
  return { div: 1, unit: unit === 'count' ? '' : unit };
}


export const withUnit = (name: string, s: Scale): string => (s.unit ? `${name} (${s.unit})` : name);

interface ChartSpec {
  title: string;
  /** one or two sentences under the title: how to read the chart */
  note?: string;
  width?: number;
  height: number;
  option: EChartsOption;
}

export const AXIS_TEXT = { color: '#333', fontSize: 13 };
export const AXIS_NAME = { color: INK, fontSize: 13, fontWeight: 600 as const };

export function valueAxis(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'value',
    name,
    nameLocation: 'middle',
    nameTextStyle: AXIS_NAME,
    axisLabel: { ...AXIS_TEXT, formatter: (v: number) => num(v) },
    axisLine: { show: true, lineStyle: { color: '#666' } },
    axisTick: { show: true },
    splitLine: { lineStyle: { color: '#e6e6e6' } },
    ...extra,
  };
}

export function categoryAxis(name: string, data: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'category',
    name,
    nameLocation: 'middle',
    nameTextStyle: AXIS_NAME,
    data,
    axisLabel: { ...AXIS_TEXT },
    axisLine: { show: true, lineStyle: { color: '#666' } },
    axisTick: { alignWithLabel: true },
    ...extra,
  };
}

/** Value-axis charts: fixed margins that hold tick labels up to ~6 characters and the rotated axis name. */
export const GRID_SIDE = 78;
export const Y_NAME_GAP = 54;

/** Width in px of a tick label at AXIS_TEXT's 13px Arial: digits 7.2px, separators 3.6px, letters ~7.5px. */
export function tickLabelWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /[0-9]/.test(ch) ? 7.23 : /[,.\s]/.test(ch) ? 3.61 : 7.5;
  return w;
}

/**
 * Room for a vertical value axis whose values reach `max` (in the axis' unit): the gap from the axis to
 * its rotated name, clear of the widest tick label (ECharts' top tick can pass `max` by one interval, so
 * the width is taken at 1.5 × max), and the grid margin that holds both. Fixed gaps let a name like
 * "pages" print over a tick label of 7 digits and more.
 */
export function yAxisRoom(max: number, log = false): { nameGap: number; side: number } {
  const top = log ? 10 ** Math.ceil(Math.log10(Math.max(1, max))) : Math.max(1, max) * 1.5;
  const widest = Math.max(tickLabelWidth(num(top)), tickLabelWidth(num(max)));
  const nameGap = Math.max(Y_NAME_GAP, Math.ceil(widest) + 8 + 14);
  return { nameGap, side: Math.max(GRID_SIDE, nameGap + 24) };
}

/**
 * Rows a bottom legend of these names takes in a chart `width` px wide (ECharts wraps a horizontal
 * legend): each item is its text (tickLabelWidth, scaled from 13px to `fontSize`), a 25px icon with its
 * gap, and `itemGap`. A chart adds 22px of bottom margin for every row after the first, so that a
 * legend of long labels (file names) does not print over the axis name above it.
 */
export function legendRows(names: string[], width: number, fontSize = 13, itemGap = 18): number {
  const usable = width - 20;
  let rows = 1;
  let x = 0;
  for (const n of names) {
    const w = (tickLabelWidth(n) * fontSize) / 13 + 30;
    if (x > 0 && x + w > usable) {
      rows++;
      x = 0;
    }
    x += w + itemGap;
  }
  return rows;
}

export const LEGEND = { bottom: 0, left: 'center', itemGap: 18, textStyle: { color: INK, fontSize: 13 } };

let echartsLib: typeof import('echarts') | null = null;
/**
 * ECharts, loaded on the first chart: its bundled CommonJS build loads in ~50 ms where the ES modules
 * take ~250 ms, and a command that imports this file without rendering a chart pays nothing.
 */
function echarts(): typeof import('echarts') {
  echartsLib ??= createRequire(import.meta.url)('echarts') as typeof import('echarts');
  return echartsLib;
}

/** Render one chart to an SVG string inside a captioned figure. */
export function chart(spec: ChartSpec): string {
  const width = spec.width ?? 1000;
  const c = echarts().init(null, null, { renderer: 'svg', ssr: true, width, height: spec.height });
  let svg: string;
  try {
    c.setOption({ animation: false, backgroundColor: '#ffffff', textStyle: { fontFamily: CHART_FONT, color: INK }, ...spec.option });
    svg = c.renderToSVGString();
  } finally {
    c.dispose();
  }
  svg = svg.replace(/^<svg /, `<svg role="img" aria-label="${esc(spec.title)}" `);
  const note = spec.note ? `<span class="note">${esc(spec.note)}</span>` : '';
  return `<figure class="chart"><figcaption>${esc(spec.title)}${note}</figcaption>${svg}</figure>`;
}

interface RenderApi {
  value(dim: number): number;
  coord(point: number[]): number[];
}

/**
 * A custom series drawing interval whiskers on a horizontal chart (x = value, y = category).
 * Data items: [low, high, categoryIndex, dashed (1/0)]; `offset` shifts the whisker vertically (px).
 */
export function whiskers(name: string, color: string, data: (number | null)[][], offset: number): Record<string, unknown> {
  const renderItem = (_params: unknown, api: RenderApi) => {
    const y = api.value(2);
    const lo = api.coord([api.value(0), y]);
    const hi = api.coord([api.value(1), y]);
    const dashed = api.value(3) === 1;
    const style = { stroke: color, lineWidth: 2, lineDash: dashed ? [4, 3] : null };
    const yy = lo[1] + offset;
    return {
      type: 'group',
      children: [
        { type: 'line', shape: { x1: lo[0], y1: yy, x2: hi[0], y2: yy }, style },
        { type: 'line', shape: { x1: lo[0], y1: yy - 5, x2: lo[0], y2: yy + 5 }, style: { ...style, lineDash: null } },
        { type: 'line', shape: { x1: hi[0], y1: yy - 5, x2: hi[0], y2: yy + 5 }, style: { ...style, lineDash: null } },
      ],
    };
  };
  return { type: 'custom', name, renderItem, data, encode: { x: [0, 1], y: 2 }, itemStyle: { color }, z: 3, silent: true };
}

/** The interval to draw for a summary: the median's CI, else (too few samples) min–max, dashed. */
export function interval(s: Summary): { lo: number; hi: number; dashed: boolean } {
  if (s.ciLow !== null && s.ciHigh !== null) return { lo: s.ciLow, hi: s.ciHigh, dashed: false };
  return { lo: s.min, hi: s.max, dashed: true };
}

export const INTERVAL_NOTE = 'Whiskers: the 95% confidence interval of the median; dashed where there are too few samples for one (then they span the smallest to the largest sample).';
