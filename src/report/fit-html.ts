/**
 * `migbench fit LOG --html FILE`: the fit as one self-contained HTML page — every fitted parameter with
 * its evidence, the replay beside the log, the curve of `remaining` over time for both, and the
 * what-if grid when it ran. Reads the fit document (`fit --json`'s shape), never the engine; every
 * text from the log or the user is escaped (esc, and ECharts escapes what it puts into SVG).
 */
import type { EChartsOption } from 'echarts';
import { AXIS_TEXT, GRID_SIDE, LEGEND, Y_NAME_GAP, bytesScale, chart, msScale, valueAxis, withUnit } from './chart.ts';
import { badge, outcomeTone, page, table, type Section } from './page.ts';
import { OKABE_ITO } from './theme.ts';
import { bytesText, esc, msText, num, valueText } from './text.ts';

interface CurvePoint {
  tMs: number;
  bytes: number;
}

interface FigurePoint {
  params: Record<string, unknown>;
  outcomes: Record<string, number>;
  totalTimeMs: number | null;
  downtimeMs: number | null;
  transferredBytes: number | null;
}

/** The parts of the fit document (`migbench fit --json`) the page shows. */
export interface FitReportDocument {
  log: string;
  parameters: readonly { key: string; value: unknown; evidence: string }[];
  replay: {
    rows: readonly { metric: string; unit: string | null; log: number | string | null; replay: number | string | null; relativeError: number | null }[];
    remaining: { log: readonly CurvePoint[]; replay: readonly CurvePoint[] };
  };
  whatIf?: {
    maxDowntimeMs: number;
    objective: string;
    asLogged: FigurePoint | null;
    withoutXbzrle: FigurePoint | null;
    best: { settings: Record<string, unknown> | null; why: string };
    bestWithoutXbzrle: { settings: Record<string, unknown> | null; why: string } | null;
    points: readonly (FigurePoint | null)[];
  };
}

const cellText = (unit: string | null, v: number | string | null): string => {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  if (unit === 'bytes') return bytesText(v);
  if (unit === 'ms') return msText(v);
  return valueText(v);
};

const settingsText = (params: Record<string, unknown>): string =>
  Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') || '(as logged)';

const outcomeBadges = (p: FigurePoint): string => Object.keys(p.outcomes).map((o) => badge(o, outcomeTone(o.split(' ')[0]))).join(' ');

/** `remaining` over time, log and replay, as step lines (each poll's value holds until the next). */
function remainingChart(doc: FitReportDocument): string {
  const { log, replay } = doc.replay.remaining;
  const endMs = Math.max(1, ...log.map((p) => p.tMs), ...replay.map((p) => p.tMs));
  const t = msScale(endMs);
  const b = bytesScale(Math.max(1, ...log.map((p) => p.bytes), ...replay.map((p) => p.bytes)));
  const line = (name: string, color: string, data: readonly CurvePoint[], dashed: boolean) => ({
    type: 'line',
    name,
    step: 'end',
    data: data.map((p) => [p.tMs / t.div, p.bytes / b.div]),
    showSymbol: data.length <= 40,
    symbolSize: 5,
    itemStyle: { color },
    lineStyle: { color, width: 2.5, type: dashed ? 'dashed' : 'solid' },
  });
  return chart({
    title: 'Remaining over time: the log and the replay',
    note: "Remaining = bytes pending in the migration bitmap, as each query-migrate poll of the log showed it and as the replay's 100 ms samples show it; both start from the whole guest at 0 ms. Each refill is a dirty sync.",
    height: 380,
    option: {
      grid: { left: GRID_SIDE, right: 30, top: 40, bottom: 84 },
      legend: LEGEND,
      xAxis: valueAxis(`time since the migration started (${t.unit})`, { nameGap: 30, min: 0, max: Number((endMs / t.div).toPrecision(4)), axisLabel: { ...AXIS_TEXT, hideOverlap: true, formatter: (v: number) => num(v) } }),
      yAxis: valueAxis(withUnit('remaining', b), { nameGap: Y_NAME_GAP, min: 0 }),
      series: [line('log (QEMU)', OKABE_ITO.blue, log, false), line('replay (simulate mode)', OKABE_ITO.vermillion, replay, true)],
    } as EChartsOption,
  });
}

function whatIfSection(w: NonNullable<FitReportDocument['whatIf']>): Section {
  const parts: string[] = [];
  parts.push(`<p>The fitted guest through ${w.points.length} setting${w.points.length === 1 ? '' : 's'} in simulate mode. Target: converged, downtime ≤ ${esc(msText(w.maxDowntimeMs))}; the cheapest by ${esc(w.objective)}.</p>`);
  const figures = (label: string, p: FigurePoint | null): string =>
    p === null ? '' : `<p><strong>${esc(label)}</strong>: ${outcomeBadges(p)} downtime ${esc(msText(p.downtimeMs))}, total time ${esc(msText(p.totalTimeMs))}, ${esc(bytesText(p.transferredBytes))} transferred</p>`;
  parts.push(figures('As logged (the replay)', w.asLogged));
  parts.push(figures('Without XBZRLE, same bandwidth and settings', w.withoutXbzrle));
  parts.push(`<p><strong>Cheapest that converges</strong>: ${w.best.settings ? `<code>${esc(settingsText(w.best.settings))}</code>` : 'none'} — ${esc(w.best.why)}</p>`);
  if (w.bestWithoutXbzrle) parts.push(`<p><strong>Without XBZRLE</strong>: ${w.bestWithoutXbzrle.settings ? `<code>${esc(settingsText(w.bestWithoutXbzrle.settings))}</code>` : 'no setting of the grid'} — ${esc(w.bestWithoutXbzrle.why)}</p>`);
  const rows = w.points.filter((p): p is FigurePoint => p !== null).map((p) => ({
    cells: [`<code>${esc(settingsText(p.params))}</code>`, outcomeBadges(p), esc(msText(p.downtimeMs)), esc(msText(p.totalTimeMs)), esc(bytesText(p.transferredBytes))],
  }));
  parts.push(table([{ text: 'settings' }, { text: 'outcome' }, { text: 'downtime', num: true }, { text: 'total time', num: true }, { text: 'transferred', num: true }], rows));
  return { id: 'what-if', title: 'What if', html: parts.join('\n') };
}

/** The whole page (pure: a document in, HTML text out). */
export function renderFitReport(doc: FitReportDocument): string {
  const params = table(
    [{ text: 'key' }, { text: 'value' }, { text: 'evidence' }],
    doc.parameters.map((p) => ({ cells: [`<code>${esc(p.key)}</code>`, esc(typeof p.value === 'string' ? p.value : JSON.stringify(p.value)), esc(p.evidence)] })),
  );
  const rows = table(
    [{ text: '' }, { text: 'log', num: true }, { text: 'replay', num: true }, { text: 'error', num: true }],
    doc.replay.rows.map((r) => ({
      cells: [esc(r.metric), esc(cellText(r.unit, r.log)), esc(cellText(r.unit, r.replay)), r.relativeError === null ? '' : esc(`${r.relativeError >= 0 ? '+' : ''}${(r.relativeError * 100).toFixed(1)} %`)],
    })),
  );
  const sections: Section[] = [
    { id: 'fit', title: 'The fitted scenario', html: `<p>Fitted to <code>${esc(doc.log)}</code>: each parameter with how it was derived.</p>\n${params}` },
    { id: 'replay', title: 'Replay beside the log', html: `${rows}\n${remainingChart(doc)}` },
  ];
  if (doc.whatIf) sections.push(whatIfSection(doc.whatIf));
  return page(`migbench fit: ${doc.log}`, sections);
}
