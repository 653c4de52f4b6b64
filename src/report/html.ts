/**
 * The HTML report: one self-contained page (styles and SVG charts inline, no scripts, no fonts or
 * images to fetch; a Content-Security-Policy forbids any request) for run documents, suite results,
 * comparisons (`compare --format json`) and sweeps (and tune files, which are sweeps with a `tune`
 * block). Charts are drawn by Apache ECharts' server-side SVG renderer; nothing is drawn by hand.
 *
 * report/ reads result documents only (DESIGN §3): it imports types of the documents, the pure
 * Pareto helpers and the unit formatters, never the engine. Documents are untrusted input (a file
 * from a pull request): every value that comes from one (names, parameters, messages, and numbers,
 * which a corrupt file may hold as strings) is escaped where it is written into the page: `esc`, or a
 * formatter below that takes `unknown` and escapes its result; ECharts escapes the text it puts into SVG.
 * The markdown summary escapes the same way with `md`. The readers (results/, sweep/) check shapes and
 * types first; the escaping holds even for a document that did not pass them.
 */
import { createRequire } from 'node:module';
import type { EChartsOption } from 'echarts';
import { MigbenchError } from '../errors.ts';
import type { Comparison, MetricComparison, Verdict } from '../results/compare.ts';
import { isUndecided } from '../results/compare.ts';
import type { Distribution, FleetMethodResult, FleetResult, PrecopyResult, ResultDocument } from '../results/document.ts';
import type { Summary } from '../results/statistics.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import { paretoFrontier, recommend, type Objective, type PointFigures } from '../sweep/pareto.ts';
import type { SweepDocument } from '../sweep/run-sweep.ts';
import { formatBitRate, formatByteRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { escapeHtml, escapeMarkdown, markdownCode } from '../escape.ts';
import type { ScenarioView } from '../results/scenario-view.ts';

// ---------------------------------------------------------------------------
// Look: Okabe–Ito colours (safe for the common colour-vision deficiencies), a light page
// ---------------------------------------------------------------------------

/** Okabe & Ito (2008), "Color Universal Design". */
export const OKABE_ITO = {
  orange: '#E69F00',
  sky: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  black: '#000000',
} as const;
const GREY = '#9a9a9a';
const INK = '#1b1b1b';
const MUTED = '#4d4d4d';
const RULE = '#d0d0d0';
/** Sequential, colour-blind safe (viridis), light = low. */
const VIRIDIS_LIGHT_TO_DARK = ['#fde725', '#5ec962', '#21918c', '#3b528b', '#440154'];
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, Liberation Sans, sans-serif';
/**
 * Charts use Arial's metrics: ECharts lays out legends and labels server-side with an Arial-like width
 * table, so a metric-compatible font (Arial, Helvetica, Liberation Sans, Arimo) keeps text from overlapping.
 */
const CHART_FONT = 'Arial, Helvetica, Liberation Sans, Arimo, sans-serif';

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: ${INK}; font: 15px/1.5 ${FONT}; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 28px 48px; }
header.page { border-bottom: 2px solid ${INK}; margin-bottom: 8px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 36px 0 4px; padding-bottom: 4px; border-bottom: 1px solid ${RULE}; }
h3 { font-size: 1.08rem; margin: 26px 0 6px; }
p { margin: 6px 0; }
.meta, .note { color: ${MUTED}; font-size: 0.88rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, Liberation Mono, monospace; font-size: 0.9em; }
nav.toc ol { margin: 6px 0; padding-left: 22px; }
a { color: ${OKABE_ITO.blue}; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 12px; margin: 12px 0; }
.card { border: 1px solid ${RULE}; border-radius: 6px; padding: 10px 14px; background: #f7f8fa; }
.card h4 { margin: 0 0 6px; font-size: 0.95rem; }
.figures { display: grid; grid-template-columns: auto 1fr; gap: 2px 14px; margin: 0; }
.figures dt { color: ${MUTED}; }
.figures dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.big { font-size: 1.25rem; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; border: 1px solid; font-size: 0.82rem; font-weight: 600; white-space: nowrap; }
.ok { color: #00573a; background: #e3f4ec; border-color: ${OKABE_ITO.green}; }
.warn { color: #6b4100; background: #fcf1d6; border-color: ${OKABE_ITO.orange}; }
.bad { color: #8a3000; background: #fbe6da; border-color: ${OKABE_ITO.vermillion}; }
.neutral { color: ${MUTED}; background: #f1f1f1; border-color: ${GREY}; }
.callout { border-left: 4px solid ${OKABE_ITO.orange}; background: #fdf7e8; padding: 6px 12px; margin: 10px 0; }
.callout.bad { border-left-color: ${OKABE_ITO.vermillion}; background: #fcefe8; color: ${INK}; border-top: 0; border-right: 0; border-bottom: 0; border-radius: 0; }
.row { display: flex; flex-wrap: wrap; gap: 18px; }
.row > figure { flex: 1 1 460px; min-width: 0; }
figure { margin: 14px 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 2px; }
figcaption .note { display: block; font-weight: 400; }
svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
td .note { font-size: 0.82rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid ${RULE}; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid ${MUTED}; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td .v, td.num { white-space: nowrap; }
tr.regression td { font-weight: 600; background: #fcefe8; }
tr.improvement td { background: #e9f6f0; }
.scroll { overflow-x: auto; }
details { margin: 8px 0; }
details pre { background: #f7f8fa; border: 1px solid ${RULE}; padding: 8px; overflow-x: auto; font-size: 0.8rem; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  section.doc + section.doc { break-before: page; page-break-before: always; }
  nav.toc { display: none; }
  .card, table, tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/** HTML-escape a value's text for element content and quoted attribute values. */
export const esc = escapeHtml;
/** Markdown-escape a value's text (inline, safe in a table cell). */
const md = escapeMarkdown;

/** A parameter value as a person reads it: strings bare, anything else as JSON. */
function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Plain-text formatters of document values (the `…Text` functions): a finite number formatted, null,
 * undefined and non-finite numbers as "—", and anything else (what a corrupt document holds where a
 * number belongs) as its string form: not yet escaped. Below them, the same escaped for HTML.
 */
function formatted(v: unknown, f: (n: number) => string): string {
  if (isNumber(v)) return f(v);
  return v === null || v === undefined || typeof v === 'number' ? '—' : String(v);
}

/** 3 significant digits, thousands separators from 1000: 0.591, 12.3, 1,569. */
function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return formatCount(v);
  if (v === 0) return '0';
  return String(Number(v.toPrecision(3)));
}

const msText = (v: unknown): string => formatted(v, formatDurationMs);
const bytesText = (v: unknown): string => formatted(v, formatBytes);
const countText = (v: unknown): string => formatted(v, formatCount);
/** `digits` decimals: a ratio, an encoding rate */
const fixedText = (v: unknown, digits: number): string => formatted(v, (n) => n.toFixed(digits));

function rateText(v: unknown, kind: 'bit' | 'byte'): string {
  if (v === null || v === undefined || v === 'unlimited' || v === Infinity) return 'unlimited';
  return formatted(v, kind === 'bit' ? formatBitRate : formatByteRate);
}

// The same, escaped for HTML: what the page templates interpolate.
const ms = (v: unknown): string => esc(msText(v));
const bytes = (v: unknown): string => esc(bytesText(v));
const count = (v: unknown): string => esc(countText(v));
const fixed = (v: unknown, digits: number): string => esc(fixedText(v, digits));
const rate = (v: unknown, kind: 'bit' | 'byte'): string => esc(rateText(v, kind));

type Tone = 'ok' | 'warn' | 'bad' | 'neutral';
function badge(text: string, tone: Tone): string {
  return `<span class="badge ${tone}">${esc(text)}</span>`;
}

function outcomeTone(outcome: string): Tone {
  if (outcome === 'converged' || outcome === 'completed') return 'ok';
  if (outcome === 'forced-stop' || outcome === 'cancelled') return 'warn';
  return 'bad';
}

function verifiedBadge(v: boolean | null | undefined): string {
  if (v === true) return badge('verified', 'ok');
  if (v === false) return badge('NOT verified: destination differs', 'bad');
  return badge('not verified (nothing migrated)', 'neutral');
}

// ---------------------------------------------------------------------------
// Scales: base units in documents, human units on axes
// ---------------------------------------------------------------------------

interface Scale {
  /** divide a base-unit value by this */
  div: number;
  /** the unit after dividing, for axis names ("" for plain counts) */
  unit: string;
}

function bytesScale(max: number): Scale {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (i < units.length - 1 && max >= 1024 ** (i + 1)) i++;
  return { div: 1024 ** i, unit: units[i] };
}

function msScale(max: number): Scale {
  return max >= 10_000 ? { div: 1000, unit: 's' } : { div: 1, unit: 'ms' };
}

/** bytes/s → bit/s in decimal units. */
function bitRateScale(maxBytesPerSec: number): Scale {
  const bits = maxBytesPerSec * 8;
  if (bits >= 1e9) return { div: 1e9 / 8, unit: 'Gbit/s' };
  if (bits >= 1e6) return { div: 1e6 / 8, unit: 'Mbit/s' };
  if (bits >= 1e3) return { div: 1e3 / 8, unit: 'kbit/s' };
  return { div: 1 / 8, unit: 'bit/s' };
}

/** The scale of a suite metric's unit ('ms', 'B', 'B/s'; anything else plain). */
function metricScale(unit: string, max: number): Scale {
  if (unit === 'ms') return msScale(max);
  if (unit === 'B') return bytesScale(max);
  if (unit === 'B/s') {
    const s = bytesScale(max);
    return { div: s.div, unit: `${s.unit}/s` };
  }
  return { div: 1, unit: unit === 'count' ? '' : unit };
}

/** A suite metric's value in its unit, plain text. */
function metricText(v: unknown, unit: string): string {
  return formatted(v, (n) => {
    if (unit === 'ms') return formatDurationMs(n);
    if (unit === 'B') return formatBytes(n);
    if (unit === 'B/s') return formatByteRate(n);
    return Number.isInteger(n) ? formatCount(n) : num(n);
  });
}

/** The same, escaped for HTML. */
const formatMetric = (v: unknown, unit: string): string => esc(metricText(v, unit));

const withUnit = (name: string, s: Scale): string => (s.unit ? `${name} (${s.unit})` : name);

// ---------------------------------------------------------------------------
// Charts (ECharts, server-side SVG)
// ---------------------------------------------------------------------------

interface ChartSpec {
  title: string;
  /** one or two sentences under the title: how to read the chart */
  note?: string;
  width?: number;
  height: number;
  option: EChartsOption;
}

const AXIS_TEXT = { color: '#333', fontSize: 13 };
const AXIS_NAME = { color: INK, fontSize: 13, fontWeight: 600 as const };

function valueAxis(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
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

function categoryAxis(name: string, data: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
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
const GRID_SIDE = 78;
const Y_NAME_GAP = 54;

const LEGEND = { bottom: 0, left: 'center', itemGap: 18, textStyle: { color: INK, fontSize: 13 } };

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
function chart(spec: ChartSpec): string {
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
function whiskers(name: string, color: string, data: (number | null)[][], offset: number): Record<string, unknown> {
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
function interval(s: Summary): { lo: number; hi: number; dashed: boolean } {
  if (s.ciLow !== null && s.ciHigh !== null) return { lo: s.ciLow, hi: s.ciHigh, dashed: false };
  return { lo: s.min, hi: s.max, dashed: true };
}

const INTERVAL_NOTE = 'Whiskers: the 95% confidence interval of the median; dashed where there are too few samples for one (then they span the smallest to the largest sample).';

// ---------------------------------------------------------------------------
// Page
// ---------------------------------------------------------------------------

interface Section {
  id: string;
  title: string;
  html: string;
}

function page(title: string, sections: Section[]): string {
  const toc =
    sections.length > 1
      ? `<nav class="toc"><strong>Contents</strong><ol>${sections.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a></li>`).join('')}</ol></nav>`
      : '';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Self-contained by construction: no request of any kind may leave the page, and no script runs.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header class="page"><h1>${esc(title)}</h1><p class="meta">migbench report: self-contained, viewable offline; charts drawn with Apache ECharts (SVG).</p></header>`,
    toc,
    ...sections.map((s) => `<section class="doc" id="${esc(s.id)}">\n${s.html}\n</section>`),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function table(head: { text: string; num?: boolean }[], rows: { cells: string[]; cls?: string }[]): string {
  const th = head.map((h) => `<th${h.num ? ' class="num"' : ''}>${h.text}</th>`).join('');
  const body = rows
    .map((r) => `<tr${r.cls ? ` class="${r.cls}"` : ''}>${r.cells.map((c, i) => `<td${head[i]?.num ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function provenance(d: { startedAt?: string; git?: { commit: string | null; branch?: string | null; dirty: boolean | null } | null; env?: { node?: string; cpuModel?: string; cpuCount?: number; platform?: string; arch?: string } | null; tool?: { version?: string } }): string {
  const parts: string[] = [];
  if (d.startedAt) parts.push(`started ${esc(d.startedAt)}`);
  if (d.git?.commit) parts.push(`commit <code>${esc(String(d.git.commit).slice(0, 10))}</code>${d.git.dirty ? ' (uncommitted changes)' : ''}${d.git.branch ? ` on ${esc(d.git.branch)}` : ''}`);
  if (d.env) parts.push(esc([d.env.cpuModel, d.env.cpuCount ? `${d.env.cpuCount} CPUs` : null, d.env.platform && d.env.arch ? `${d.env.platform}/${d.env.arch}` : null, d.env.node ? `Node ${d.env.node}` : null].filter(Boolean).join(', ')));
  if (d.tool?.version) parts.push(`migbench ${esc(d.tool.version)}`);
  return `<p class="meta">${parts.join(' · ')}</p>`;
}

// ---------------------------------------------------------------------------
// A run
// ---------------------------------------------------------------------------

/** One sample of `precopy.series` (absent from documents written before it existed). */
type SeriesSample = PrecopyResult['series'][number];

function seriesOf(p: PrecopyResult): SeriesSample[] {
  const s = (p as { series?: unknown }).series;
  return Array.isArray(s) ? (s as SeriesSample[]).filter((x) => x && Number.isFinite(x.tMs)) : [];
}

function scenarioSummary(s: ScenarioView): string {
  const g = s.guest ?? {};
  const w = s.workload ?? {};
  const rows: [string, string][] = [
    ['guest', `${bytes(g.memory)} of memory in ${g.pageSize ? `${count(g.pageSize)}-byte` : ''} pages, ${esc(g.vcpus ?? '?')} vCPU${g.vcpus === 1 ? '' : 's'}, ${bytes(g.deviceState)} device state`],
    [
      'workload',
      `${esc(w.pattern ?? '?')}${w.dirtyRate !== undefined ? `, ${count(w.dirtyRate)} page writes/s asked` : ''}${w.workingSet !== undefined && w.pattern !== 'idle' ? `, working set ${bytes(w.workingSet)}` : ''}`,
    ],
    ['link', `${rate(s.link?.bandwidth, 'bit')}${s.link?.latencyMs ? `, ${esc(s.link.latencyMs)} ms latency` : ''}`],
    [
      'pre-copy',
      `policy ${esc(s.precopy?.policy ?? '?')}, downtime limit ${ms(s.precopy?.downtimeLimitMs)}, live rate limit ${rate(s.precopy?.maxBandwidth, 'bit')}${s.precopy?.autoConverge ? ', auto-converge on' : ''}`,
    ],
    ['quick migration', `storage ${rate(s.quick?.storageBandwidth, 'byte')}${s.quick?.format ? `, ${esc(s.quick.format)} image` : ''}`],
  ];
  return `<dl class="figures">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd style="font-weight:400">${v}</dd>`).join('')}</dl>`;
}

function precopyCard(p: PrecopyResult, s: ScenarioView): string {
  const st = p.stats;
  const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy').length;
  const items: [string, string][] = [
    ['downtime', `<span class="big">${ms(st.downtime)}</span>`],
    ['total time', `<span class="big">${ms(st['total-time'])}</span>`],
    ['downtime limit', `${ms(s.precopy?.downtimeLimitMs)} (expected ${ms(st['expected-downtime'])})`],
    ['moved', `${bytes(st.ram.transferred)} over the link`],
    ['rounds', `${count(p.rounds.length)} (${count(live)} live${p.rounds.length > live ? ' + stop-and-copy' : ''})`],
    ['guest dirty rate', `${count(p.workload.achievedPagesPerSec)} of ${count(p.workload.targetPagesPerSec)} pages/s asked`],
  ];
  // older documents have neither block
  const x = (p as { xbzrle?: PrecopyResult['xbzrle'] }).xbzrle;
  const xc = st['xbzrle-cache'];
  if (x && xc) items.push(['XBZRLE', `${count(x.pages)} pages as deltas (${bytes(x.bytes)}), ${count(x.skippedPages)} unchanged; encoding rate ${fixed(xc['encoding-rate'], 1)}, ${count(xc['cache-miss'])} cache misses`]);
  const z = (p as { compression?: PrecopyResult['compression'] }).compression;
  if (z) items.push(['compression', `${esc(z.codec)} level ${esc(z.level)}: ${bytes(z.inputBytes)} of pages in ${bytes(z.outputBytes)}${z.ratio ? ` (ratio ${fixed(z.ratio, 2)})` : ''}`]);
  const ch = p.channels;
  if (ch && ch.count > 1) items.push(['channels', `${count(ch.count)} (multifd): ${ch.lanes.map((l) => bytes(l.bytes)).join(' / ')}; ${count(ch.flushes)} flushes`]);
  return `<div class="card"><h4>Pre-copy ${badge(p.outcome + (p.reason ? ` (${p.reason})` : ''), outcomeTone(p.outcome))} ${verifiedBadge(p.verified)}</h4>
<dl class="figures">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>${p.error ? `<p class="callout bad">${esc(p.error)}</p>` : ''}</div>`;
}

function quickCard(q: NonNullable<ResultDocument['quick']>): string {
  const items: [string, string][] = [
    ['downtime', `<span class="big">${ms(q.stats.downtime)}</span>`],
    ['total time', `<span class="big">${ms(q.stats['total-time'])}</span>`],
    ['saved', `${bytes(q.savedBytes)} to storage (${esc(q.format)} image)`],
    ['restored', `${bytes(q.restoredBytes)} read back`],
    ['storage rate', rate(q.storageBandwidthBytesPerSec, 'byte')],
  ];
  return `<div class="card"><h4>Quick migration ${badge(q.outcome + (q.reason ? ` (${q.reason})` : ''), outcomeTone(q.outcome))} ${verifiedBadge(q.verified)}</h4>
<dl class="figures">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>${q.error ? `<p class="callout bad">${esc(q.error)}</p>` : ''}</div>`;
}

const STAGE_COLOR = { bulk: OKABE_ITO.sky, iterative: OKABE_ITO.blue, 'stop-and-copy': OKABE_ITO.vermillion } as const;
const STAGE_LABEL = { bulk: 'pages sent: bulk round', iterative: 'pages sent: iterative rounds', 'stop-and-copy': 'pages sent: stop-and-copy' } as const;

function roundsChart(p: PrecopyResult): string {
  const rounds = p.rounds;
  const cats = rounds.map((r) => (r.stage === 'bulk' ? `${r.round}\nbulk` : r.stage === 'stop-and-copy' ? `${r.round}\nS&C` : String(r.round)));
  const stages = (['bulk', 'iterative', 'stop-and-copy'] as const).filter((st) => rounds.some((r) => r.stage === st));
  const series: Record<string, unknown>[] = [
    {
      type: 'bar',
      name: 'dirty pages found at the sync',
      data: rounds.map((r) => r.dirtyPages),
      itemStyle: { color: OKABE_ITO.orange },
      barMaxWidth: 28,
    } as Record<string, unknown>,
    ...stages.map((st) => ({
      type: 'bar',
      name: STAGE_LABEL[st],
      stack: 'sent',
      data: rounds.map((r) => (r.stage === st ? r.sentPages : '-')),
      itemStyle: { color: STAGE_COLOR[st] },
      barMaxWidth: 28,
    })),
  ];
  const pageSize = p.stats.ram['page-size'] || 4096;
  const maxBar = Math.max(1, ...rounds.map((r) => Math.max(r.dirtyPages, r.sentPages)));
  const live = rounds.filter((r) => r.stage !== 'stop-and-copy');
  const thresholdPages = live.length > 0 ? live[live.length - 1].thresholdBytes / pageSize : null;
  const showThreshold = thresholdPages !== null && Number.isFinite(thresholdPages) && thresholdPages > 0 && thresholdPages <= maxBar * 1.5;
  if (showThreshold) {
    series[0].markLine = {
      silent: true,
      symbol: 'none',
      lineStyle: { color: OKABE_ITO.black, type: 'dashed', width: 1.5 },
      label: { formatter: `switchover threshold at the last live sync: ${formatCount(thresholdPages!)} pages`, position: 'insideEndTop', color: INK },
      data: [{ yAxis: thresholdPages }],
    };
  }
  const thresholdNote =
    thresholdPages !== null && Number.isFinite(thresholdPages) && !showThreshold
      ? ` The switchover threshold at the last live sync was ${formatCount(thresholdPages)} pages (${bytes(thresholdPages * pageSize)}), off this scale.`
      : '';
  return chart({
    title: 'Rounds: dirty pages at each sync against pages sent',
    note: `Each round sends what the previous sync found dirty; pre-copy converges when the orange bars shrink round by round. S&C = stop-and-copy (guest paused).${thresholdNote}`,
    height: 380,
    option: {
      color: [OKABE_ITO.orange, ...stages.map((st) => STAGE_COLOR[st])],
      grid: { left: GRID_SIDE, right: 24, top: 28, bottom: 96 },
      legend: LEGEND,
      xAxis: categoryAxis('round', cats, { nameGap: 40, axisLabel: { ...AXIS_TEXT, interval: 0, hideOverlap: true } }),
      yAxis: valueAxis('pages', { nameGap: Y_NAME_GAP }),
      series,
    } as EChartsOption,
  });
}

function timelineChart(p: PrecopyResult, series: SeriesSample[]): string {
  const st = p.stats;
  const endMs = Math.max(st['total-time'] ?? 0, ...series.map((x) => x.tMs));
  const t = msScale(endMs);
  const b = bytesScale(Math.max(1, st.ram.total, ...series.map((x) => x.remainingBytes)));
  const r = bitRateScale(Math.max(1, ...series.map((x) => x.linkBytesPerSec)));
  const sc = p.rounds.find((x) => x.stage === 'stop-and-copy');
  const scStart = sc ? sc.startMs : st.downtime !== null ? st['total-time'] - st.downtime : null;
  const scEnd = sc ? sc.startMs + sc.durationMs : st.downtime !== null ? st['total-time'] : null;
  const areas: unknown[] = [];
  if (st['setup-time'] > 0) {
    areas.push([
      { name: 'setup', xAxis: 0, itemStyle: { color: 'rgba(0,0,0,0.06)' }, label: { color: MUTED } },
      { xAxis: st['setup-time'] / t.div },
    ]);
  }
  if (scStart !== null && scEnd !== null) {
    areas.push([
      { name: 'stop-and-copy', xAxis: scStart / t.div, itemStyle: { color: 'rgba(213,94,0,0.18)' }, label: { color: '#8a3000', position: 'insideTopRight' } },
      { xAxis: scEnd / t.div },
    ]);
  }
  return chart({
    title: 'Timeline: remaining bytes and link rate',
    note: `Sampled every 100 ms from the start of the migration. Remaining = pages pending in the migration bitmap; link rate = bytes put on the link since the previous sample. Shaded: setup (grey) and the stop-and-copy window, when the guest is paused (orange).`,
    height: 380,
    option: {
      grid: { left: GRID_SIDE, right: GRID_SIDE, top: 40, bottom: 84 },
      legend: LEGEND,
      xAxis: valueAxis(`time since the migration started (${t.unit})`, {
        nameGap: 30,
        min: 0,
        max: Number((endMs / t.div).toPrecision(4)),
        axisLabel: { ...AXIS_TEXT, hideOverlap: true, formatter: (v: number) => num(v) },
      }),
      yAxis: [
        valueAxis(withUnit('remaining', b), { nameGap: Y_NAME_GAP, min: 0 }),
        valueAxis(withUnit('link rate', r), { nameGap: Y_NAME_GAP, min: 0, splitLine: { show: false }, position: 'right' }),
      ],
      series: [
        {
          type: 'line',
          name: 'remaining (pending) bytes',
          data: series.map((x) => [x.tMs / t.div, x.remainingBytes / b.div]),
          yAxisIndex: 0,
          showSymbol: series.length <= 40,
          symbolSize: 5,
          itemStyle: { color: OKABE_ITO.blue },
          lineStyle: { color: OKABE_ITO.blue, width: 2.5 },
          areaStyle: { color: 'rgba(0,114,178,0.12)' },
          markArea: { silent: true, data: areas },
        },
        {
          type: 'line',
          name: 'link rate',
          // each sample's rate holds over the interval since the previous sample
          data: series.slice(1).flatMap((x, i) => [
            [series[i].tMs / t.div, x.linkBytesPerSec / r.div],
            [x.tMs / t.div, x.linkBytesPerSec / r.div],
          ]),
          yAxisIndex: 1,
          showSymbol: false,
          itemStyle: { color: OKABE_ITO.orange },
          lineStyle: { color: OKABE_ITO.orange, width: 2, type: 'solid' },
        },
      ],
    } as EChartsOption,
  });
}

function guestChart(series: SeriesSample[], endMs: number): string {
  const t = msScale(endMs);
  return chart({
    title: 'Guest: dirty rate and throttle',
    note: 'Page writes the vCPUs achieved per second, and the auto-converge throttle (QEMU cpu-throttle-percentage).',
    height: 300,
    option: {
      grid: { left: GRID_SIDE, right: GRID_SIDE, top: 30, bottom: 84 },
      legend: LEGEND,
      xAxis: valueAxis(`time since the migration started (${t.unit})`, { nameGap: 30, min: 0 }),
      yAxis: [valueAxis('dirty rate (pages/s)', { nameGap: Y_NAME_GAP, min: 0 }), valueAxis('throttle (%)', { nameGap: Y_NAME_GAP, min: 0, max: 100, position: 'right', splitLine: { show: false } })],
      series: [
        { type: 'line', name: 'dirty rate', step: 'start', data: series.map((x) => [x.tMs / t.div, x.dirtyRatePagesPerSec]), showSymbol: false, itemStyle: { color: OKABE_ITO.green }, lineStyle: { color: OKABE_ITO.green, width: 2 } },
        { type: 'line', name: 'throttle', step: 'start', yAxisIndex: 1, data: series.map((x) => [x.tMs / t.div, x.throttlePercent]), showSymbol: false, itemStyle: { color: OKABE_ITO.purple }, lineStyle: { color: OKABE_ITO.purple, width: 2, type: 'dashed' } },
      ],
    } as EChartsOption,
  });
}

const QUICK_PHASES = [
  ['pauseMs', 'pause', OKABE_ITO.purple],
  ['saveMs', 'save', OKABE_ITO.orange],
  ['fsyncMs', 'fsync', OKABE_ITO.vermillion],
  ['handoverMs', 'hand-over', OKABE_ITO.yellow],
  ['restoreMs', 'restore', OKABE_ITO.green],
  ['resumeMs', 'resume', OKABE_ITO.black],
] as const;

/** Downtime and total time of both methods as stacked horizontal bars, quick migration's phases stacked. */
function methodCharts(doc: ResultDocument): string {
  const p = doc.precopy;
  const q = doc.quick;
  const cats: string[] = [];
  if (p) cats.push('pre-copy');
  if (q) cats.push('quick migration');
  const idx = (name: string): number => cats.indexOf(name);

  const build = (which: 'downtime' | 'total'): string => {
    const series: Record<string, unknown>[] = [];
    const slot = (name: string, color: string, at: string, value: number): void => {
      const data: (number | string)[] = cats.map(() => '-');
      data[idx(at)] = value;
      series.push({ type: 'bar', name, stack: 'time', data, itemStyle: { color, borderColor: '#fff', borderWidth: 0.5 }, barWidth: 34 });
    };
    let max = 0;
    const tiny: string[] = [];
    const totals: Record<string, number | null> = {};
    if (p) {
      const st = p.stats;
      const down = st.downtime;
      const total = st['total-time'];
      if (which === 'total') {
        slot('pre-copy: setup', GREY, 'pre-copy', st['setup-time']);
        slot('pre-copy: live rounds', OKABE_ITO.sky, 'pre-copy', Math.max(0, total - st['setup-time'] - (down ?? 0)));
        if (down !== null) slot('pre-copy: stop-and-copy', OKABE_ITO.blue, 'pre-copy', down);
        totals['pre-copy'] = total;
      } else {
        if (down !== null) slot('pre-copy: stop-and-copy', OKABE_ITO.blue, 'pre-copy', down);
        totals['pre-copy'] = down;
      }
    }
    if (q) {
      const value = which === 'total' ? q.stats['total-time'] : q.stats.downtime;
      totals['quick migration'] = value;
      if (value !== null) {
        let sum = 0;
        for (const [key, label, color] of QUICK_PHASES) {
          const v = q.phases?.[key] ?? 0;
          sum += v;
          // a phase under 0.5% of the bar would be an invisible sliver with a legend entry: named in the note instead
          if (v < 0.005 * value) tiny.push(`${label} ${formatDurationMs(v)}`);
          else slot(`quick: ${label}`, color, 'quick migration', v);
        }
        if (value - sum > 0.01 * value) slot('quick: other', '#cfcfcf', 'quick migration', value - sum);
      }
    }
    for (const v of Object.values(totals)) if (v !== null) max = Math.max(max, v);
    const t = msScale(max);
    for (const s of series) s.data = (s.data as (number | string)[]).map((v) => (typeof v === 'number' ? v / t.div : v));
    const labels = cats.map((c) => `${c}\n${totals[c] === null || totals[c] === undefined ? 'no value' : formatDurationMs(totals[c]!)}`);
    return chart({
      title: which === 'downtime' ? 'Downtime: how long the guest was paused' : 'Total time: request to resume on the destination',
      note: `${which === 'downtime' ? 'Quick migration is paused throughout: its downtime is every phase.' : 'Pre-copy: setup, live rounds, stop-and-copy. Quick migration: its phases.'}${tiny.length ? ` Too short to draw: ${tiny.join(', ')}.` : ''}`,
      width: 540,
      height: 90 + cats.length * 62 + 46,
      option: {
        grid: { left: 16, right: 28, top: 16, bottom: 88, containLabel: true },
        legend: { ...LEGEND, itemGap: 10, itemWidth: 14, textStyle: { color: INK, fontSize: 11 } },
        xAxis: valueAxis(`${which === 'downtime' ? 'downtime' : 'total time'} (${t.unit})`, { nameGap: 28, min: 0 }),
        yAxis: categoryAxis('', labels, { inverse: true, axisLabel: { ...AXIS_TEXT, fontWeight: 600, lineHeight: 17 } }),
        series,
      } as EChartsOption,
    });
  };
  return `<div class="row">${build('downtime')}${build('total')}</div>`;
}

export function renderRunSection(doc: ResultDocument, label?: string): string {
  const s = (doc.scenario ?? {}) as ScenarioView;
  const p = doc.precopy;
  const q = doc.quick;
  const out: string[] = [];
  out.push(`<h2>Run: ${esc(s.name ?? 'unnamed scenario')}${label ? ` <span class="note">${esc(label)}</span>` : ''}</h2>`);
  out.push(provenance(doc));
  out.push('<h3>Scenario</h3>', scenarioSummary(s));
  if (doc.simulation) {
    const sim = doc.simulation;
    out.push(
      `<p class="callout"><strong>Simulate mode:</strong> the pre-copy loop on a virtual clock, without page contents: ${ms(sim.modelledTimeMs)} modelled in ${ms(sim.wallTimeMs)} of wall time (speedup ${count(isNumber(sim.speedup) ? Math.round(sim.speedup) : sim.speedup)}×). Nothing was migrated, so nothing was verified.</p>`,
    );
  }
  if (doc.fleet) out.push(fleetSection(doc.fleet));
  out.push(`<h3>Outcome${doc.fleet ? ': guest 0' : ''}</h3>`);
  out.push(`<div class="cards">${p ? precopyCard(p, s) : ''}${q ? quickCard(q) : ''}</div>`);
  if (doc.comparison) out.push(`<p><strong>Verdict:</strong> ${esc(doc.comparison.verdict)}</p>`);
  if (p?.engineBound) {
    out.push(
      `<p class="callout"><strong>Engine bound:</strong> the live rounds ran at ${formatBitRate(p.engine.liveBytesPerSec)}, below the rate limit of ${rate(p.engine.liveRateLimitBytesPerSec, 'bit')}: migbench, not the link, set the pace.</p>`,
    );
  }
  if (p && p.rounds.length > 0) {
    out.push('<h3>Pre-copy rounds</h3>', roundsChart(p));
  }
  if (p) {
    const series = seriesOf(p);
    if (series.length >= 2) {
      out.push('<h3>Timeline</h3>', timelineChart(p, series));
      if (series.some((x) => x.throttlePercent > 0)) out.push(guestChart(series, p.stats['total-time']));
    } else {
      out.push('<p class="note">No timeline: this document has no time series (written before migbench sampled one, or the migration was too short to sample).</p>');
    }
  }
  if (p || q) out.push(`<h3>${p && q ? 'Pre-copy against quick migration' : 'Times'}</h3>`, methodCharts(doc));
  if (p && p.rounds.length > 0) {
    out.push(
      '<details><summary>Rounds table</summary>',
      table(
        [{ text: 'round' }, { text: 'stage' }, { text: 'start', num: true }, { text: 'duration', num: true }, { text: 'dirty at sync', num: true }, { text: 'sent', num: true }, { text: 'bytes', num: true }, { text: 'bandwidth', num: true }, { text: 'expected downtime', num: true }],
        p.rounds.map((r) => ({
          cells: [esc(r.round), esc(r.stage), ms(r.startMs), ms(r.durationMs), count(r.dirtyPages), count(r.sentPages), bytes(r.bytes), rate(r.bandwidthBytesPerSec, 'bit'), ms(r.expectedDowntimeMs)],
        })),
      ),
      '</details>',
    );
  }
  out.push(`<details><summary>Resolved scenario (JSON)</summary><pre>${esc(JSON.stringify(doc.scenario, null, 2))}</pre></details>`);
  return out.join('\n');
}

/** A host evacuation: each method's evacuation time and the spread of per-guest downtime and total time. */
function fleetSection(f: FleetResult): string {
  const methods = ([['pre-copy', f.precopy], ['quick migration', f.quick]] as const).filter(([, m]) => m !== null) as unknown as [string, FleetMethodResult][];
  const dist = (d: Distribution | null): string => (d === null ? '—' : `median ${ms(d.median)}, p95 ${ms(d.p95)}, max ${ms(d.max)}`);
  return [
    `<h3>Host evacuation: ${count(f.count)} guests, ${count(f.concurrency)} at a time</h3>`,
    table(
      [{ text: 'method' }, { text: 'evacuation time', num: true }, { text: 'guests completed', num: true }, { text: 'downtime per guest' }, { text: 'total time per guest' }, { text: 'bytes', num: true }],
      methods.map(([name, m]) => ({
        cells: [esc(name), ms(m.evacuationTimeMs), `${count(m.completed)}${m.cancelled ? ` (${count(m.cancelled)} cancelled)` : ''}`, dist(m.downtime), dist(m.totalTime), bytes(m.bytes)],
      })),
    ),
  ].join('\n');
}

/** A whole page for one run document. */
export function renderRunReport(doc: ResultDocument): string {
  const name = ((doc.scenario ?? {}) as ScenarioView).name ?? 'run';
  return page(`migbench run: ${name}`, [{ id: 'doc-1', title: name, html: renderRunSection(doc) }]);
}

// ---------------------------------------------------------------------------
// A comparison of two suite results
// ---------------------------------------------------------------------------

const VERDICT_ORDER: Verdict[] = ['regression', 'improvement', 'within-threshold', 'insufficient-samples', 'not-significant'];
const VERDICT_TEXT: Record<Verdict, string> = {
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
function changeText(r: MetricComparison): string {
  if (r.change === null) return r.head.median === r.base.median ? '0%' : r.head.median > r.base.median ? '+∞%' : '−∞%';
  const pct = r.change * 100;
  return `${pct > 0 ? '+' : pct < 0 ? '−' : ''}${Math.abs(pct).toFixed(Math.abs(pct) >= 10 ? 1 : 2)}%`;
}

/** "lo … hi", or one value when both print the same. */
/** plain text */
function span(lo: number, hi: number, unit: string): string {
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

const verdictRank = (v: Verdict): number => VERDICT_ORDER.indexOf(v);

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

// ---------------------------------------------------------------------------
// A suite result
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// A sweep (or a tune file: a sweep with a `tune` block)
// ---------------------------------------------------------------------------

/** What `migbench tune --out` adds to a sweep document. */
export interface TuneBlock {
  maxDowntimeMs: number;
  objective: Objective;
  /** indices of the frontier's points */
  frontier: number[];
  /** index of the recommended point, or null */
  recommendation: number | null;
  met?: boolean;
  why?: string;
}

const describePoint = (p: { params: Record<string, unknown> }): string =>
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

// ---------------------------------------------------------------------------
// Any documents
// ---------------------------------------------------------------------------

export type DocumentKind = 'run' | 'suite' | 'comparison' | 'sweep';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a parsed JSON document is, or null when migbench does not know it. */
export function detectKind(doc: unknown): DocumentKind | null {
  if (!isObject(doc)) return null;
  if (doc.kind === 'sweep' && Array.isArray(doc.points) && Array.isArray(doc.axes)) return 'sweep';
  if (doc.kind === 'suite' && Array.isArray(doc.benchmarks)) return 'suite';
  if (Array.isArray(doc.rows) && isObject(doc.base) && isObject(doc.head) && isObject(doc.counts)) return 'comparison';
  if ('schemaVersion' in doc && ('precopy' in doc || 'quick' in doc) && isObject(doc.scenario)) return 'run';
  return null;
}

function sectionTitle(kind: DocumentKind, doc: Record<string, unknown>): string {
  const name = (v: unknown): string => (typeof v === 'string' ? v : '?');
  switch (kind) {
    case 'run':
      return `run ${name((doc.scenario as ScenarioView).name)}`;
    case 'suite':
      return `suite ${name(doc.suite)}`;
    case 'comparison':
      return `comparison ${name(doc.suite)}`;
    case 'sweep':
      return `${isObject(doc.tune) ? 'tune' : 'sweep'} ${name((doc.scenario as ScenarioView | undefined)?.name)}`;
  }
}

/**
 * Run `render` for a document of a known kind: a renderer tripping over a malformed document (a
 * TypeError on a missing key, a RangeError on a value out of range) is a corrupt result file (E_RESULT
 * naming it), not a crash.
 */
function renderingOf(kind: DocumentKind, name: string, render: () => void): void {
  try {
    render();
  } catch (error) {
    if (error instanceof MigbenchError) throw error;
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new MigbenchError('E_RESULT', `${name}: looks like a ${kind} document but is incomplete or malformed (${why})`, { cause: error });
  }
}

/**
 * One page with a section per document: run documents, suite results, comparisons (the JSON of
 * `compare --format json`) and sweeps/tune files. `labels` (e.g. the file names) head the sections and
 * name a document in errors. Throws MigbenchError E_RESULT for a document of no known kind or a malformed one.
 */
export function renderReport(docs: unknown[], labels?: string[]): string {
  if (docs.length === 0) throw new MigbenchError('E_USAGE', 'report: no documents to render');
  const sections: Section[] = docs.map((doc, i) => {
    const label = labels?.[i];
    const kind = detectKind(doc);
    const name = label ?? `document ${i + 1}`;
    if (kind === null) {
      throw new MigbenchError('E_RESULT', `${name}: not a migbench result (expected a run document, a suite result, a comparison from \`compare --format json\`, or a sweep)`);
    }
    const d = doc as Record<string, unknown>;
    let html = '';
    renderingOf(kind, name, () => {
      switch (kind) {
        case 'run':
          html = renderRunSection(doc as ResultDocument, label);
          break;
        case 'suite':
          html = renderSuiteSection(doc as SuiteDocument, label);
          break;
        case 'comparison':
          html = renderComparisonSection(doc as Comparison, label);
          break;
        case 'sweep':
          html = renderSweepSection(doc as SweepDocument, {}, label);
          break;
      }
    });
    return { id: `doc-${i + 1}`, title: `${sectionTitle(kind, d)}${label ? ` (${label})` : ''}`, html };
  });
  const title = sections.length === 1 ? `migbench ${sections[0].title}` : `migbench report: ${sections.length} documents`;
  return page(title, sections);
}

// ---------------------------------------------------------------------------
// Markdown summary (for PR comments and job summaries; `report --markdown`)
// ---------------------------------------------------------------------------

/** A short markdown summary of the same documents: headline figures, verdicts, recommendations. */
export function renderMarkdownSummary(docs: unknown[], labels?: string[]): string {
  const out: string[] = ['# migbench report', ''];
  docs.forEach((doc, i) => {
    const kind = detectKind(doc);
    if (kind !== null) renderingOf(kind, labels?.[i] ?? `document ${i + 1}`, () => markdownSection(out, kind, doc, labels?.[i]));
    out.push('');
  });
  return out.join('\n');
}

/** One table row: every cell is markdown already (escaped where it holds a document's value). */
const mdRow = (cells: string[]): string => `| ${cells.join(' | ')} |`;

function markdownSection(out: string[], kind: DocumentKind, doc: unknown, name: string | undefined): void {
  const label = name ? ` (${md(name)})` : '';
  if (kind === 'run') {
    const d = doc as ResultDocument;
    const s = (d.scenario ?? {}) as ScenarioView;
    out.push(`## Run: ${md(s.name ?? 'unnamed')}${label}`, '', '| | pre-copy | quick migration |', '|---|--:|--:|');
    const p = d.precopy;
    const q = d.quick;
    out.push(mdRow(['outcome', p ? md(p.outcome + (p.reason ? ` (${p.reason})` : '')) : '', q ? md(q.outcome) : '']));
    out.push(mdRow(['verified', p ? md(p.verified) : '', q ? md(q.verified) : '']));
    out.push(mdRow(['downtime', p ? md(msText(p.stats.downtime)) : '', q ? md(msText(q.stats.downtime)) : '']));
    out.push(mdRow(['total time', p ? md(msText(p.stats['total-time'])) : '', q ? md(msText(q.stats['total-time'])) : '']));
    out.push(mdRow(['bytes', p ? `${md(bytesText(p.stats.ram.transferred))} over the link` : '', q ? `${md(bytesText(q.savedBytes))} to storage` : '']));
    if (p) out.push(mdRow(['rounds', md(countText(p.rounds.length)), '']));
    if (d.comparison) out.push('', `**Verdict:** ${md(d.comparison.verdict)}`);
  } else if (kind === 'comparison') {
    const c = doc as Comparison;
    const n = c.counts;
    const regressions = `${md(countText(n.regression))} regression${n.regression === 1 ? '' : 's'}`;
    out.push(`## Comparison: suite ${md(c.suite)}${label}`, '', `${md(c.base.label)} → ${md(c.head.label)}: ${n.regression > 0 ? `🔴 **${regressions}**` : isUndecided(c) ? '⚠️ **undecided: nothing could be tested**' : 'no regression'}, ${md(countText(n.improvement))} improvement${n.improvement === 1 ? '' : 's'}`, '');
    out.push('| benchmark | metric | base | head | change | verdict |', '|---|---|--:|--:|--:|---|');
    for (const r of [...c.rows].sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict))) {
      const cells = [md(r.benchmark), md(r.metric), md(metricText(r.base.median, r.unit)), md(metricText(r.head.median, r.unit)), md(changeText(r)), md(VERDICT_TEXT[r.verdict])];
      out.push(mdRow(r.verdict === 'regression' ? cells.map((x) => `**${x}**`) : cells));
    }
  } else if (kind === 'suite') {
    const sd = doc as SuiteDocument;
    out.push(`## Suite: ${md(sd.suite)}${label}`, '', '| benchmark | metric | median | interval | n |', '|---|---|--:|--:|--:|');
    for (const b of sd.benchmarks) {
      for (const [m, s] of Object.entries(b.metrics)) {
        const iv = s.summary.ciLow !== null && s.summary.ciHigh !== null ? `CI ${metricText(s.summary.ciLow, s.unit)} … ${metricText(s.summary.ciHigh, s.unit)}` : `range ${metricText(s.summary.min, s.unit)} … ${metricText(s.summary.max, s.unit)}`;
        out.push(mdRow([md(b.name), md(m), md(metricText(s.summary.median, s.unit)), md(iv), md(countText(s.summary.n))]));
      }
    }
  } else if (kind === 'sweep') {
    const sw = doc as SweepDocument & { tune?: TuneBlock };
    const frontier = new Set(paretoFrontier(sw.points).map((p) => p.index));
    out.push(`## ${sw.tune ? 'Tune' : 'Sweep'}: ${md(((sw.scenario ?? {}) as ScenarioView).name ?? 'scenario')}${label}`, '');
    if (sw.tune) {
      const rec = sw.points.find((p) => p.index === sw.tune!.recommendation);
      out.push(`**${sw.tune.met === false ? 'No setting meets the target' : 'Recommended'}:** ${rec ? `#${md(rec.index)} ${markdownCode(describePoint(rec))}` : 'none'} (downtime target ≤ ${md(msText(sw.tune.maxDowntimeMs))})`, '');
    }
    out.push(mdRow(['#', ...sw.axes.map((a) => md(a.key)), 'total time', 'downtime', 'completed', '']), `|--:|${sw.axes.map(() => '---').join('|')}|--:|--:|--:|---|`);
    for (const p of sw.points) {
      out.push(mdRow([md(p.index), ...sw.axes.map((a) => md(valueText(p.params[a.key]))), md(msText(p.totalTimeMs)), md(msText(p.downtimeMs)), `${md(p.completed)}/${md(p.runs)}`, frontier.has(p.index) ? 'frontier' : '']));
    }
  }
}
