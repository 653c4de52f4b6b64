/**
 * A stall-latency histogram as a bar chart: QEMU 10.1's power-of-two microsecond buckets
 * (`postcopy-latency-dist`; a lazy quick restore's stalls have the same form) on the x axis, labelled
 * with readable ranges ("256µs–512µs", "1.02 ms–2.05 ms"), the count of stalls on the y axis. Takes the
 * histogram and a title, so any method's stalls can be drawn. Reads document values only; ECharts
 * escapes the text it puts into the SVG, `chart` the title and note.
 */
import type { EChartsOption } from 'echarts';
import { histogramCounts, latencyBucketLabel } from '../results/stall-histogram.ts';
import { formatCount } from '../units.ts';
import { AXIS_TEXT, categoryAxis, chart, valueAxis, yAxisRoom } from './chart.ts';
import { OKABE_ITO } from './theme.ts';
import { esc } from './text.ts';

export interface StallChartData {
  /** index of the first bucket drawn (the empty buckets below the first stall are left out, and those above the last) */
  first: number;
  /** one label and one count per bucket drawn, first to last */
  labels: string[];
  counts: number[];
  total: number;
}

/** The bars to draw: buckets from the first to the last that counts a stall (pure). Null when nothing stalled. */
export function stallChartData(dist: unknown): StallChartData | null {
  const counts = histogramCounts(dist);
  const first = counts.findIndex((v) => v > 0);
  if (first === -1) return null;
  let last = counts.length - 1;
  while (counts[last] === 0) last--;
  const shown = counts.slice(first, last + 1);
  return {
    first,
    labels: shown.map((_, i) => latencyBucketLabel(first + i, counts.length)),
    counts: shown,
    total: shown.reduce((s, v) => s + v, 0),
  };
}

/** The stall histogram as a captioned SVG bar chart; a sentence instead when nothing stalled. */
export function stallLatencyChart(dist: unknown, title: string, note = ''): string {
  const data = stallChartData(dist);
  if (data === null) return `<p class="note">${esc(title)}: no stalls recorded.</p>`;
  const room = yAxisRoom(Math.max(...data.counts));
  return chart({
    title,
    note: `${formatCount(data.total)} stalls by how long the vCPU waited for its page, in power-of-two buckets (QEMU's latency distribution); empty buckets at either end are left out.${note ? ` ${note}` : ''}`,
    height: 360,
    option: {
      grid: { left: room.side, right: 24, top: 24, bottom: 104 },
      xAxis: categoryAxis('stall latency (each bar: stalls from one bound to the next)', data.labels, {
        nameGap: 76,
        axisLabel: { ...AXIS_TEXT, fontSize: 11, interval: 0, rotate: 35, hideOverlap: false },
      }),
      yAxis: valueAxis('stalls', { nameGap: room.nameGap, min: 0, minInterval: 1 }),
      series: [
        {
          type: 'bar',
          name: 'stalls',
          data: data.counts,
          itemStyle: { color: OKABE_ITO.vermillion },
          barMaxWidth: 36,
          label: { show: true, position: 'top', color: '#333', fontSize: 11, formatter: (v: { value: number }) => formatCount(v.value) },
        },
      ],
    } as EChartsOption,
  });
}
