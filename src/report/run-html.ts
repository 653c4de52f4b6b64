/**
 * The HTML of a run document: scenario, outcome cards, rounds, timeline, guest, both methods' times, a
 * host evacuation, the rounds table and the resolved scenario.
 */
import type { EChartsOption } from 'echarts';
import type { Distribution, FleetMethodResult, FleetResult, PrecopyResult, ResultDocument } from '../results/document.ts';
import { formatBitRate, formatCount, formatDurationMs } from '../units.ts';
import type { ScenarioView } from '../results/scenario-view.ts';
import { AXIS_TEXT, GRID_SIDE, LEGEND, Y_NAME_GAP, bitRateScale, bytesScale, categoryAxis, chart, msScale, valueAxis, withUnit, yAxisRoom } from './chart.ts';
import { GREY, INK, MUTED, OKABE_ITO } from './theme.ts';
import { badge, outcomeTone, page, provenance, table, verifiedBadge } from './page.ts';
import { bytes, count, countText, esc, fixed, isNumber, ms, msText, num, rate } from './text.ts';
import { postcopyFigures, type PostcopyFigures } from '../results/postcopy-figures.ts';
import { stallLatencyChart } from './stall-chart.ts';
import { lazyRestoreFigures, type LazyRestoreFigures } from '../results/lazy-restore-figures.ts';
import { actionLabel, actionText, orchestratorActions } from '../results/orchestrator-actions.ts';
import type { OrchestratorReport } from '../results/orchestrator-report.ts';

/** One sample of `precopy.series` (absent from documents written before it existed). */
type SeriesSample = PrecopyResult['series'][number];

function seriesOf(p: PrecopyResult): SeriesSample[] {
  const s = (p as { series?: unknown }).series;
  return Array.isArray(s) ? (s as SeriesSample[]).filter((x) => x && Number.isFinite(x.tMs)) : [];
}

export function scenarioSummary(s: ScenarioView): string {
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
  // a migration that switched to post-copy: this card is its pre-copy phase, the post-copy card the rest
  const pc = postcopyFigures(p);
  const items: [string, string][] = pc
    ? [
        ['switched at', `<span class="big">${ms(pc.switchAtMs)}</span>`],
        ['downtime limit', `${ms(s.precopy?.downtimeLimitMs)} (expected ${ms(st['expected-downtime'])} at the last sync)`],
        ['moved live', `${bytes(pc.liveBytes)} over the link`],
        ['rounds', `${count(live)} live + switch to post-copy`],
      ]
    : [
        ['downtime', `<span class="big">${ms(st.downtime)}</span>`],
        ['total time', `<span class="big">${ms(st['total-time'])}</span>`],
        ['downtime limit', `${ms(s.precopy?.downtimeLimitMs)} (expected ${ms(st['expected-downtime'])})`],
        ['moved', `${bytes(st.ram.transferred)} over the link`],
        ['rounds', `${count(p.rounds.length)} (${count(live)} live${p.rounds.length > live ? ' + stop-and-copy' : ''})`],
      ];
  items.push(['guest dirty rate', `${count(p.workload.achievedPagesPerSec)} of ${count(p.workload.targetPagesPerSec)} pages/s asked`]);
  // older documents have neither block
  const x = (p as { xbzrle?: PrecopyResult['xbzrle'] }).xbzrle;
  const xc = st['xbzrle-cache'];
  if (x && xc) items.push(['XBZRLE', `${count(x.pages)} pages as deltas (${bytes(x.bytes)}), ${count(x.skippedPages)} unchanged; encoding rate ${fixed(xc['encoding-rate'], 1)}, ${count(xc['cache-miss'])} cache misses`]);
  const z = (p as { compression?: PrecopyResult['compression'] }).compression;
  if (z) items.push(['compression', `${esc(z.codec)} level ${esc(z.level)}: ${bytes(z.inputBytes)} of pages in ${bytes(z.outputBytes)}${z.ratio ? ` (ratio ${fixed(z.ratio, 2)})` : ''}`]);
  if (p.orchestrator) {
    const acts = orchestratorActions(p.orchestrator);
    const last = acts[acts.length - 1];
    items.push(['orchestrator', `${esc(p.orchestrator.kind)}: ${acts.length === 0 ? 'no action' : `${count(acts.length)} action${acts.length === 1 ? '' : 's'}, the last at ${ms(last.atMs)}: ${esc(actionText(last))}`}`]);
  }
  const ch = p.channels;
  if (ch && ch.count > 1) items.push(['channels', `${count(ch.count)} (multifd): ${ch.lanes.map((l) => bytes(l.bytes)).join(' / ')}; ${count(ch.flushes)} flushes`]);
  const head = pc ? `Pre-copy ${badge('switched to post-copy', 'warn')}` : `Pre-copy ${badge(p.outcome + (p.reason ? ` (${p.reason})` : ''), outcomeTone(p.outcome))} ${verifiedBadge(p.verified)}`;
  return `<div class="card"><h4>${head}</h4>
<dl class="figures">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>${p.error ? `<p class="callout bad">${esc(p.error)}</p>` : ''}</div>`;
}

/** The post-copy column: the switch, the pages fetched on demand and pushed, the guest's stalls. */
function postcopyCard(p: PrecopyResult, f: PostcopyFigures): string {
  const b = f.block;
  const w = b.writeRate ?? { beforePagesPerSec: null, duringPagesPerSec: null, afterPagesPerSec: null };
  const items: [string, string][] = [
    ['downtime', `<span class="big">${ms(f.downtimeMs)}</span> (the switch)`],
    ['total time', `<span class="big">${ms(f.totalTimeMs)}</span> (${ms(f.postcopyMs)} of post-copy)`],
    ['moved', `${bytes(f.bytes)} over the link: ${bytes(f.pausedBytes)} paused, ${bytes(f.postcopyBytes)} after the resume`],
    ['requests', `${count(f.requests)}: ${count(b.urgentPages)} pages sent on request, ${count(b.backgroundPages)} pushed${b.preempt ? ' (preempt)' : ''}`],
    ['blocktime', `${ms(f.blocktimeMs)} all vCPUs at once; per vCPU ${f.vcpuBlocktimeMs.length ? f.vcpuBlocktimeMs.map((v) => ms(v)).join(', ') : '—'}`],
    ['stalls', f.faults > 0 ? `${count(f.faults)} faults, mean ${ms(f.meanStallMs)}${f.p99Text ? `, ${esc(f.p99Text)}` : ''}` : 'none'],
    ['guest writes/s', `${count(w.beforePagesPerSec)} before · ${count(w.duringPagesPerSec)} during · ${count(w.afterPagesPerSec)} after`],
  ];
  const dropped = isNumber(b.logDroppedWrites) && b.logDroppedWrites > 0 ? `<p class="callout bad">Not verified: the write log had no room for ${count(b.logDroppedWrites)} of the guest's post-switch writes.</p>` : '';
  return `<div class="card"><h4>Post-copy ${badge(p.outcome, outcomeTone(p.outcome))} ${verifiedBadge(p.verified)}</h4>
<dl class="figures">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>${dropped}</div>`;
}

function quickCard(q: NonNullable<ResultDocument['quick']>, lazy: LazyRestoreFigures | null): string {
  const items: [string, string][] = [
    ['downtime', `<span class="big">${ms(q.stats.downtime)}</span>${lazy ? ' (resumed after the index read)' : ''}`],
    ['total time', `<span class="big">${ms(q.stats['total-time'])}</span>${lazy ? (lazy.afterResumeMs === null ? ' (the restore failed after the resume)' : ` (every page there, ${ms(lazy.afterResumeMs)} after the resume)`) : ''}`],
    ['saved', `${bytes(q.savedBytes)} to storage (${esc(q.format)} image)`],
    ['restored', `${bytes(q.restoredBytes)} read back`],
    ['storage rate', rate(q.storageBandwidthBytesPerSec, 'byte')],
  ];
  let lost = '';
  if (lazy) {
    const l = lazy.block;
    items.push(
      ['lazy restore', `${bytes(l.bytesBeforeResume)} read before the resume; ${count(isNumber(l.faultPages) && isNumber(l.zeroFaultPages) ? l.faultPages + l.zeroFaultPages : l.faultPages)} pages faulted in on demand (${bytes(l.faultBytes)}), ${count(l.backgroundPages)} filled in the background (${bytes(l.backgroundBytes)})`],
      ['stalls', lazy.faults > 0 ? `${count(lazy.faults)} faults, mean ${ms(lazy.meanStallMs)}${lazy.p99Text ? `, ${esc(lazy.p99Text)}` : ''}; blocktime ${ms(lazy.blocktimeMs)} all vCPUs at once` : 'none'],
    );
    if (l.guestLost === true) lost = '<p class="callout bad">Guest lost: the restore failed after the resume; the guest had run on the destination and was stopped there.</p>';
    else if (isNumber(l.logDroppedWrites) && l.logDroppedWrites > 0) lost = `<p class="callout bad">Not verified: the write log had no room for ${count(l.logDroppedWrites)} of the guest's writes after the resume.</p>`;
  }
  return `<div class="card"><h4>Quick migration${lazy ? ' (lazy restore)' : ''} ${badge(q.outcome + (q.reason ? ` (${q.reason})` : ''), outcomeTone(q.outcome))} ${verifiedBadge(q.verified)}</h4>
<dl class="figures">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>${q.error ? `<p class="callout bad">${esc(q.error)}</p>` : ''}${lost}</div>`;
}

/**
 * The orchestrator's actions as dashed vertical lines on a time axis of `axisMs` (values divided by
 * `div`), each with a short label ("downtime 95.0 ms", "abort"); null when it took none. A downtime
 * step is drawn grey, an action that ends pre-copy (post-copy, pause, abort) in vermillion. Labels sit
 * right of their line in the left half of the axis and left of it in the right half (clear of the
 * axes' numbers); a line closer than 2.5% of the axis to a labelled one (or to a mark at `takenMs`,
 * post-copy's) keeps no label, so that no two labels print over each other (the table lists them all).
 */
export function orchestratorMarks(o: OrchestratorReport | null | undefined, div: number, axisMs: number, takenMs: readonly number[] = []): { data: Record<string, unknown>[]; note: string } | null {
  const actions = orchestratorActions(o);
  if (actions.length === 0) return null;
  const labelled = [...takenMs];
  const gapMs = 0.025 * Math.max(axisMs, 1);
  let unlabelled = 0;
  const data = actions.map((a) => {
    const show = labelled.every((t) => Math.abs(t - a.atMs) >= gapMs);
    if (show) labelled.push(a.atMs);
    else unlabelled++;
    const stop = a.action !== 'set-downtime';
    return {
      name: actionLabel(a),
      xAxis: a.atMs / div,
      lineStyle: { color: stop ? OKABE_ITO.vermillion : MUTED, type: 'dashed', width: 1.5 },
      label: {
        show,
        formatter: actionLabel(a),
        position: a.atMs > axisMs / 2 ? 'insideEndTop' : 'insideEndBottom',
        color: stop ? '#8a3000' : INK,
        fontSize: 11,
        textBorderColor: '#fff',
        textBorderWidth: 3,
      },
    };
  });
  return {
    data,
    note: ` Dashed lines: the orchestrator's ${formatCount(actions.length)} action${actions.length === 1 ? '' : 's'} (downtime steps in grey; post-copy, pause or abort in vermillion), listed below${unlabelled > 0 ? `; ${formatCount(unlabelled)} too close to another to be labelled` : ''}.`,
  };
}

/** The orchestrator: what it set at the start, and each action in a table (`detail` is its own words: escaped). */
function orchestratorSection(o: OrchestratorReport): string {
  const st = o.start ?? {};
  const start = [
    st.downtimeLimitMs !== undefined ? `downtime limit ${ms(st.downtimeLimitMs)}` : null,
    st.maxBandwidthBytesPerSec !== undefined ? `max-bandwidth ${rate(st.maxBandwidthBytesPerSec, 'byte')}` : null,
    st.autoConverge !== undefined ? `auto-converge ${st.autoConverge ? 'on' : 'off'}` : null,
    st.postcopy ? 'postcopy-ram on' : null,
    st.xbzrleCacheBytes !== undefined ? `XBZRLE cache ${bytes(st.xbzrleCacheBytes)}` : null,
  ].filter((x) => x !== null);
  const actions = orchestratorActions(o);
  const intro = `<p><strong>${esc(o.kind)}</strong>${start.length ? `; at the start: ${start.join(', ')}` : ''}; ${actions.length === 0 ? 'no action.' : `${count(actions.length)} action${actions.length === 1 ? '' : 's'}:`}</p>`;
  if (actions.length === 0) return `<h3>Orchestrator</h3>\n${intro}`;
  const stateText = (v: unknown, setDowntime: boolean): string => (setDowntime ? ms(v) : esc(v ?? '—'));
  return [
    '<h3>Orchestrator</h3>',
    intro,
    table(
      [{ text: 'at', num: true }, { text: 'action' }, { text: 'reason' }, { text: 'before → after' }, { text: 'detail' }],
      actions.map((a) => ({
        cells: [ms(a.atMs), esc(a.action), esc(a.reason ?? '—'), `${stateText(a.before, a.action === 'set-downtime')} → ${stateText(a.after, a.action === 'set-downtime')}`, a.detail ? `<span class="note">${esc(a.detail)}</span>` : '—'],
      })),
      'fit',
    ),
  ].join('\n');
}

const STAGE_COLOR = { bulk: OKABE_ITO.sky, iterative: OKABE_ITO.blue, 'stop-and-copy': OKABE_ITO.vermillion } as const;
const STAGE_LABEL = { bulk: 'pages sent: bulk round', iterative: 'pages sent: iterative rounds', 'stop-and-copy': 'pages sent: stop-and-copy' } as const;

/** Rounds charts whose bars span more than this factor get a logarithmic axis by default. */
const LOG_SPAN = 30;

function roundsChart(p: PrecopyResult, log: boolean): string {
  const rounds = p.rounds;
  // a log axis has no 0: a zero bar is left out (the table below has it)
  const v = (x: number): number | string => (log && !(x > 0) ? '-' : x);
  // a post-copy run's last record is its switch (pause, device state, missing-page list), not a stop-and-copy
  const switched = postcopyFigures(p) !== null;
  const last = switched ? 'switch' : 'S&C';
  const stageLabel = { ...STAGE_LABEL, ...(switched ? { 'stop-and-copy': 'pages sent: switch to post-copy' } : {}) };
  const cats = rounds.map((r) => (r.stage === 'bulk' ? `${r.round}\nbulk` : r.stage === 'stop-and-copy' ? `${r.round}\n${last}` : String(r.round)));
  const stages = (['bulk', 'iterative', 'stop-and-copy'] as const).filter((st) => rounds.some((r) => r.stage === st));
  const series: Record<string, unknown>[] = [
    {
      type: 'bar',
      name: 'dirty pages found at the sync',
      data: rounds.map((r) => v(r.dirtyPages)),
      itemStyle: { color: OKABE_ITO.orange },
      barMaxWidth: 28,
    } as Record<string, unknown>,
    // One bar slot for the pages sent, coloured by stage: a series per stage, stacked. On a log axis a
    // stack over empty values has no base (log 0), so there one series draws every round in its
    // stage's colour and the stage series, empty, only name the colours in the legend.
    ...(log
      ? [
          {
            type: 'bar',
            name: 'pages sent',
            stack: 'sent',
            data: rounds.map((r) => ({ value: v(r.sentPages), itemStyle: { color: STAGE_COLOR[r.stage] } })),
            barMaxWidth: 28,
          },
        ]
      : []),
    ...stages.map((st) => ({
      type: 'bar',
      name: stageLabel[st],
      stack: 'sent',
      data: rounds.map((r) => (r.stage === st && !log ? v(r.sentPages) : '-')),
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
      label: { formatter: `switchover threshold at the last live sync: ${formatCount(thresholdPages!)} pages`, position: 'insideEndTop', color: INK, textBorderColor: '#fff', textBorderWidth: 3 },
      data: [{ yAxis: thresholdPages }],
    };
  }
  const thresholdNote =
    thresholdPages !== null && Number.isFinite(thresholdPages) && !showThreshold
      ? ` The switchover threshold at the last live sync was ${formatCount(thresholdPages)} pages (${bytes(thresholdPages * pageSize)}), off this scale.`
      : '';
  const room = yAxisRoom(maxBar, log);
  return chart({
    title: `Rounds: dirty pages at each sync against pages sent${log ? ' (log scale)' : ''}`,
    note: `Each round sends what the previous sync found dirty; pre-copy converges when the orange bars shrink round by round. ${switched ? 'switch = the switch to post-copy (guest paused).' : 'S&C = stop-and-copy (guest paused).'}${log ? ' Pages on a logarithmic scale: each grid line is 10× the one below.' : ''}${thresholdNote}`,
    height: 380,
    option: {
      color: [OKABE_ITO.orange, ...stages.map((st) => STAGE_COLOR[st])],
      grid: { left: room.side, right: 24, top: 28, bottom: 96 },
      legend: { ...LEGEND, data: ['dirty pages found at the sync', ...stages.map((st) => stageLabel[st])] },
      // two-line labels ("0" over "bulk") a line height apart, not touching
      xAxis: categoryAxis('round', cats, { nameGap: 44, axisLabel: { ...AXIS_TEXT, interval: 0, hideOverlap: true, lineHeight: 17 } }),
      yAxis: valueAxis('pages', log ? { type: 'log', min: 1, nameGap: room.nameGap } : { nameGap: room.nameGap }),
      series,
    } as EChartsOption,
  });
}

/**
 * The rounds chart on a linear and on a log axis: a linear axis hides the late rounds under a bulk
 * round 100× their size, a log axis shows every round. The default (log when the bars span more than
 * LOG_SPAN×) is shown; the other one opens from a disclosure, which hides the default by CSS (the page
 * runs no script, and has no form controls).
 */
function roundsCharts(p: PrecopyResult): string {
  const sizes = p.rounds.flatMap((r) => [r.dirtyPages, r.sentPages]).filter((x) => x > 0);
  const logFirst = sizes.length > 0 && Math.max(...sizes) / Math.min(...sizes) > LOG_SPAN;
  const other = logFirst ? 'a linear' : 'a logarithmic';
  return `<div class="axis-toggle"><details><summary>Show on ${other} axis</summary>${roundsChart(p, !logFirst)}</details><div class="default">${roundsChart(p, logFirst)}</div></div>`;
}

/**
 * The post-copy phase on a time axis (values divided by `div`): the switch (the pause request), the
 * resume on the destination and the last page's arrival as marked lines, post-copy shaded between the
 * resume and the completion. A switch and a resume closer than 3% of the axis share one line. When an
 * orchestrator asked for the switch (`switchedBy`, its kind), the switch's label names it: its own
 * post-copy mark falls on the same line and keeps no label there (orchestratorMarks).
 */
export function postcopyPhase(f: PostcopyFigures, div: number, switchedBy: string | null = null): { area: unknown[]; lines: Record<string, unknown>; marks: { name: string; atMs: number }[]; note: string } {
  const b = f.block;
  const apart = b.resumedMs - b.startMs > 0.03 * Math.max(b.completedMs, 1);
  const by = switchedBy === null ? '' : ` (${switchedBy})`;
  const marks = apart
    ? [{ name: `switch${by}`, atMs: b.startMs }, { name: 'resume', atMs: b.resumedMs }, { name: 'every page there', atMs: b.completedMs }]
    : [{ name: `switch + resume${by}`, atMs: b.startMs }, { name: 'every page there', atMs: b.completedMs }];
  const line = { color: OKABE_ITO.purple, type: 'dashed', width: 1.5 };
  return {
    area: [
      { name: 'post-copy', xAxis: b.resumedMs / div, itemStyle: { color: 'rgba(204,121,167,0.16)' }, label: { color: '#7a2f5a', position: 'insideTop' } },
      { xAxis: b.completedMs / div },
    ],
    lines: {
      silent: true,
      symbol: 'none',
      lineStyle: line,
      label: { position: 'insideEndTop', color: '#7a2f5a', fontSize: 11, textBorderColor: '#fff', textBorderWidth: 3 },
      data: marks.map((m) => ({ name: m.name, xAxis: m.atMs / div, label: { formatter: m.name } })),
    },
    marks,
    note: `switched${switchedBy === null ? '' : ` by ${switchedBy}`} at ${msText(b.startMs)}, resumed on the destination at ${msText(b.resumedMs)}, every page there at ${msText(b.completedMs)} (dashed lines)`,
  };
}

/** The orchestrator's kind when one of its actions was the switch to post-copy, else null. */
function switchedBy(o: OrchestratorReport | null | undefined): string | null {
  return o && orchestratorActions(o).some((a) => a.action === 'postcopy') ? String(o.kind) : null;
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
      // a sliver of setup gets no label: printed above the plot, it would sit on the top tick (the note names the grey)
      { name: 'setup', xAxis: 0, itemStyle: { color: 'rgba(0,0,0,0.06)' }, label: { color: MUTED, show: st['setup-time'] > 0.03 * endMs } },
      { xAxis: st['setup-time'] / t.div },
    ]);
  }
  const pc = postcopyFigures(p);
  if (scStart !== null && scEnd !== null && !pc) {
    areas.push([
      { name: 'stop-and-copy', xAxis: scStart / t.div, itemStyle: { color: 'rgba(213,94,0,0.18)' }, label: { color: '#8a3000', position: 'insideTopRight' } },
      { xAxis: scEnd / t.div },
    ]);
  }
  const phase = pc ? postcopyPhase(pc, t.div, switchedBy(p.orchestrator)) : null;
  if (phase) areas.push(phase.area);
  const acts = orchestratorMarks(p.orchestrator, t.div, endMs, phase ? phase.marks.map((m) => m.atMs) : []);
  // one markLine per series: post-copy's marks and the orchestrator's together
  const lines = phase ? { ...phase.lines, data: [...(phase.lines.data as unknown[]), ...(acts?.data ?? [])] } : acts ? { silent: true, symbol: 'none', data: acts.data } : null;
  return chart({
    title: 'Timeline: remaining bytes and link rate',
    note: `Sampled every 100 ms from the start of the migration. Remaining = pages pending in the migration bitmap; link rate = bytes put on the link since the previous sample. Shaded: setup (grey)${
      phase ? ` and post-copy (purple): ${phase.note}` : scStart !== null && scEnd !== null ? ' and the stop-and-copy window, when the guest is paused (orange)' : '; no stop-and-copy: the guest was never paused'
    }.${acts?.note ?? ''}`,
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
          ...(lines ? { markLine: lines } : {}),
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

function guestChart(p: PrecopyResult, series: SeriesSample[], endMs: number): string {
  const t = msScale(endMs);
  const asked = p.workload?.targetPagesPerSec;
  const throttled = series.some((x) => x.throttlePercent > 0);
  const maxRate = Math.max(1, ...series.map((x) => x.dirtyRatePagesPerSec), isNumber(asked) ? asked : 0);
  const room = yAxisRoom(maxRate);
  const rateSeries: Record<string, unknown> = {
    type: 'line',
    name: 'achieved page writes/s',
    // each sample's rate holds over the interval since the previous sample
    step: 'start',
    data: series.map((x) => [x.tMs / t.div, x.dirtyRatePagesPerSec]),
    showSymbol: false,
    itemStyle: { color: OKABE_ITO.green },
    lineStyle: { color: OKABE_ITO.green, width: 2 },
  };
  if (isNumber(asked) && asked > 0) {
    rateSeries.markLine = {
      silent: true,
      symbol: 'none',
      lineStyle: { color: OKABE_ITO.black, type: 'dotted', width: 1.5 },
      label: { formatter: `asked: ${formatCount(asked)} page writes/s`, position: 'insideEndBottom', color: INK, textBorderColor: '#fff', textBorderWidth: 3 },
      data: [{ yAxis: asked }],
    };
  }
  const pc = postcopyFigures(p);
  if (pc) {
    // the guest's writes slow while it waits for missing pages: the post-copy phase, as on the timeline
    const phase = postcopyPhase(pc, t.div);
    rateSeries.markArea = { silent: true, data: [phase.area] };
  }
  // the orchestrator's actions, as on the timeline: what the guest did when it paused it, switched it, aborted
  const acts = orchestratorMarks(p.orchestrator, t.div, endMs);
  return chart({
    title: 'Guest: achieved write rate and throttle',
    note: `Page writes the vCPUs achieved per second over each 100 ms sample, against the rate the workload asked for (dotted), and the auto-converge throttle (QEMU cpu-throttle-percentage, right axis).${throttled ? '' : ' The guest was never throttled.'}${pc ? ' Shaded: post-copy, when a vCPU that touches a missing page waits for it.' : ''}${acts?.note ?? ''}`,
    height: 320,
    option: {
      grid: { left: room.side, right: GRID_SIDE, top: 30, bottom: 84 },
      legend: LEGEND,
      xAxis: valueAxis(`time since the migration started (${t.unit})`, { nameGap: 30, min: 0, max: Number((endMs / t.div).toPrecision(4)), axisLabel: { ...AXIS_TEXT, hideOverlap: true, formatter: (v: number) => num(v) } }),
      yAxis: [
        valueAxis('page writes/s', { nameGap: room.nameGap, min: 0 }),
        valueAxis('throttle (%)', { nameGap: 44, min: 0, max: 100, position: 'right', splitLine: { show: false } }),
      ],
      series: [
        rateSeries,
        {
          type: 'line', name: 'throttle', step: 'start', yAxisIndex: 1, data: series.map((x) => [x.tMs / t.div, x.throttlePercent]), showSymbol: false, itemStyle: { color: OKABE_ITO.purple }, lineStyle: { color: OKABE_ITO.purple, width: 2, type: 'dashed' },
          ...(acts ? { markLine: { silent: true, symbol: 'none', data: acts.data } } : {}),
        },
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
  // a migration that switched to post-copy is drawn as post-copy: its pre-copy phase, the switch, the pages fetched after
  const pc = postcopyFigures(p);
  const live = pc ? 'post-copy' : 'pre-copy';
  if (p) cats.push(live);
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
    if (p && pc) {
      const st = p.stats;
      const down = pc.downtimeMs;
      if (which === 'total') {
        slot('pre-copy: setup', GREY, live, st['setup-time']);
        slot('pre-copy: live rounds', OKABE_ITO.sky, live, Math.max(0, pc.switchAtMs - st['setup-time']));
        if (down !== null) slot('post-copy: switch (paused)', OKABE_ITO.blue, live, down);
        slot('post-copy: pages fetched and pushed', OKABE_ITO.purple, live, Math.max(0, pc.totalTimeMs - pc.switchAtMs - (down ?? 0)));
        totals[live] = pc.totalTimeMs;
      } else {
        if (down !== null) slot('post-copy: switch (paused)', OKABE_ITO.blue, live, down);
        totals[live] = down;
      }
    } else if (p) {
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
        // a lazy restore's total time goes on after the resume: the pages faulted in and filled in the background
        const after = which === 'total' ? (lazyRestoreFigures(q)?.afterResumeMs ?? 0) : 0;
        if (after > 0) {
          slot('quick: pages faulted in and filled after the resume', OKABE_ITO.sky, 'quick migration', after);
          sum += after;
        }
        if (value - sum > 0.01 * value) slot('quick: other', '#cfcfcf', 'quick migration', value - sum);
      }
    }
    for (const v of Object.values(totals)) if (v !== null) max = Math.max(max, v);
    const t = msScale(max);
    for (const s of series) s.data = (s.data as (number | string)[]).map((v) => (typeof v === 'number' ? v / t.div : v));
    const labels = cats.map((c) => `${c}\n${totals[c] === null || totals[c] === undefined ? 'no value' : formatDurationMs(totals[c]!)}`);
    return chart({
      title: which === 'downtime' ? 'Downtime: how long the guest was paused' : pc || lazyRestoreFigures(q) ? 'Total time: start to every page on the destination' : 'Total time: request to resume on the destination',
      note: `${which === 'downtime' ? 'Quick migration is paused throughout: its downtime is every phase.' : pc ? 'Post-copy: setup, the pre-copy rounds, the switch, then the pages fetched on demand and pushed while the guest runs. Quick migration: its phases.' : 'Pre-copy: setup, live rounds, stop-and-copy. Quick migration: its phases.'}${which === 'total' && lazyRestoreFigures(q) ? ' A lazy restore goes on after the resume, while the guest runs: the pages faulted in on demand and filled in the background.' : ''}${tiny.length ? ` Too short to draw: ${tiny.join(', ')}.` : ''}`,
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
  const pcf = postcopyFigures(p);
  const lazy = lazyRestoreFigures(q);
  out.push(`<div class="cards">${p ? precopyCard(p, s) : ''}${p && pcf ? postcopyCard(p, pcf) : ''}${q ? quickCard(q, lazy) : ''}</div>`);
  if (doc.comparison) out.push(`<p><strong>Verdict:</strong> ${esc(doc.comparison.verdict)}</p>`);
  if (p?.engineBound) {
    out.push(
      `<p class="callout"><strong>Engine bound:</strong> the live rounds ran at ${formatBitRate(p.engine.liveBytesPerSec)}, below the rate limit of ${rate(p.engine.liveRateLimitBytesPerSec, 'bit')}: migbench, not the link, set the pace.</p>`,
    );
  }
  if (p && p.rounds.length > 0) {
    out.push('<h3>Pre-copy rounds</h3>', roundsCharts(p));
  }
  if (p) {
    const series = seriesOf(p);
    if (series.length >= 2) {
      out.push('<h3>Timeline</h3>', timelineChart(p, series));
      out.push(guestChart(p, series, Math.max(p.stats['total-time'] ?? 0, ...series.map((x) => x.tMs))));
    } else {
      out.push('<p class="note">No timeline: this document has no time series (written before migbench sampled one, or the migration was too short to sample).</p>');
    }
  }
  if (p && pcf) {
    const lost = pcf.block.stallRecordsDropped;
    const unrecorded = isNumber(lost) && lost > 0 ? ` ${countText(lost)} stalls found no room in the vCPUs' records and are not counted here.` : '';
    out.push('<h3>Post-copy stalls</h3>', stallLatencyChart(p.stats['postcopy-latency-dist'], 'Post-copy: how long the guest waited for missing pages', `Mean ${msText(pcf.meanStallMs)}${pcf.p99Text ? `, ${pcf.p99Text}` : ''}; QEMU postcopy-blocktime ${msText(pcf.blocktimeMs)}.${unrecorded}`));
  }
  if (q && lazy && lazy.latencyDist.length > 0) {
    // the histogram is there in emulate mode (simulate mode models the mean stall only: the card has it)
    const lost = lazy.block.stallRecordsDropped;
    const unrecorded = isNumber(lost) && lost > 0 ? ` ${countText(lost)} stalls found no room in the vCPUs' records and are not counted here.` : '';
    out.push(
      '<h3>Quick migration: lazy restore stalls</h3>',
      stallLatencyChart(q.stats['postcopy-latency-dist'], 'Lazy restore: how long the guest waited for pages not yet read from the image', `Mean ${msText(lazy.meanStallMs)}${lazy.p99Text ? `, ${lazy.p99Text}` : ''}; blocktime ${msText(lazy.blocktimeMs)} (all vCPUs at once).${unrecorded}`),
    );
  }
  if (p?.orchestrator) out.push(orchestratorSection(p.orchestrator));
  if (p || q) out.push(`<h3>${p && q ? `${pcf ? 'Post-copy' : 'Pre-copy'} against quick migration` : 'Times'}</h3>`, methodCharts(doc));
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

/**
 * A host evacuation: each method's evacuation time, its guests by outcome (moved, moved through
 * post-copy, paused, aborted: documents that have them) and the spread of per-guest downtime and total
 * time; the key whose cap held when it is not fleet.concurrency. Outcome names come from the document: escaped.
 */
function fleetSection(f: FleetResult): string {
  const methods = ([['pre-copy', f.precopy], ['quick migration', f.quick]] as const).filter(([, m]) => m !== null) as unknown as [string, FleetMethodResult][];
  const dist = (d: Distribution | null): string => (d === null ? '—' : `median ${ms(d.median)}, p95 ${ms(d.p95)}, max ${ms(d.max)}`);
  const hasOutcomes = (m: FleetMethodResult): boolean => m.outcomes !== null && typeof m.outcomes === 'object';
  const byOutcome = methods.some(([, m]) => hasOutcomes(m));
  const outcomes = (m: FleetMethodResult): string => (hasOutcomes(m) ? Object.entries(m.outcomes!).map(([o, n]) => `${count(n)} ${esc(o)}`).join(', ') : '—');
  const by = typeof f.concurrencyBy === 'string' && f.concurrencyBy !== 'fleet.concurrency' ? ` (${esc(f.concurrencyBy)})` : '';
  return [
    `<h3>Host evacuation: ${count(f.count)} guests, ${count(f.concurrency)} at a time${by}</h3>`,
    table(
      [
        { text: 'method' }, { text: 'evacuation time', num: true }, { text: 'guests completed', num: true }, ...(byOutcome ? [{ text: 'guests by outcome' }] : []),
        { text: 'downtime per guest' }, { text: 'total time per guest' }, { text: 'bytes', num: true },
      ],
      methods.map(([name, m]) => ({
        cells: [
          esc(name), ms(m.evacuationTimeMs), `${count(m.completed)}${m.cancelled ? ` (${count(m.cancelled)} cancelled)` : ''}`, ...(byOutcome ? [outcomes(m)] : []),
          dist(m.downtime), dist(m.totalTime), bytes(m.bytes),
        ],
      })),
    ),
  ].join('\n');
}

/** A whole page for one run document. */
export function renderRunReport(doc: ResultDocument): string {
  const name = ((doc.scenario ?? {}) as ScenarioView).name ?? 'run';
  return page(`migbench run: ${name}`, [{ id: 'doc-1', title: name, html: renderRunSection(doc) }]);
}
