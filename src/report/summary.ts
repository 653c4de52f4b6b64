/**
 * The human summary of a run: pre-copy and quick migration side by side, and a third column,
 * post-copy, when the live migration switched to it (its pre-copy phase stays in the pre-copy column),
 * built from the result document alone (report/ never reads the engine, only documents). Texts from the scenario or the
 * run (names, outcomes, errors, paths) go through `t` (escape.ts): control characters are shown,
 * not sent to the terminal.
 */
import Table from 'cli-table3';
import type { Distribution, FleetMethodResult, PrecopyResult, ResultDocument } from '../results/document.ts';
import type { QuickResult } from '../results/quick-result.ts';
import { formatBitRate, formatByteRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import type { Colors } from './style.ts';
import { escapeTerminal as t } from '../escape.ts';
import { postcopyFigures } from '../results/postcopy-figures.ts';
import { lazyRestoreFigures, type LazyRestoreFigures } from '../results/lazy-restore-figures.ts';

type ScenarioView = {
  name: string;
  link: { bandwidth: number | string };
  precopy: { maxBandwidth: number | string; downtimeLimitMs: number };
  quick?: { storageBandwidth: number | string };
};

function bitRate(v: number | string | null | undefined): string {
  return v === null || v === undefined || v === 'unlimited' ? 'unlimited' : formatBitRate(Number(v));
}
function byteRate(v: number | string | null | undefined): string {
  return v === null || v === undefined || v === 'unlimited' ? 'unlimited' : formatByteRate(Number(v));
}
const pagesPerSec = (n: number): string => `${formatCount(n)} pages/s`;
const pctOf = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '—');

function outcomeText(outcome: string, reason: string | null, c: Colors): string {
  const o = outcome === 'converged' || outcome === 'completed' ? c.green(t(outcome)) : outcome === 'errored' ? c.red(t(outcome)) : c.yellow(t(outcome));
  return reason ? `${o} (${t(reason)})` : o;
}

function verifiedText(r: PrecopyResult | QuickResult, c: Colors, simulated: boolean): string {
  if (r.verified === true) return c.green('yes');
  if (r.verified === null) return simulated ? '— (simulated: no bytes to compare)' : '— (not migrated)';
  const v = r.verification;
  return c.red(`NO: ${formatCount(v?.badPages ?? 0)} pages differ (first: page ${v?.firstBadPage}), device state ${v?.deviceStateEqual ? 'equal' : 'differs'}`);
}

function ratio(q: number | null | undefined, p: number | null | undefined): string {
  if (q === null || q === undefined || p === null || p === undefined || !(p > 0)) return '';
  const r = q / p;
  return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

/** Quick migration's downtime: with a lazy restore it ends at the resume, after the image's index was read. */
function quickDowntime(q: QuickResult, lazy: LazyRestoreFigures | null): string {
  if (q.stats.downtime === null) return '—';
  return lazy ? `${formatDurationMs(q.stats.downtime)} (resumed after the index read)` : formatDurationMs(q.stats.downtime);
}

/** Quick migration's total time: with a lazy restore, until every page was in place. */
function quickTotal(q: QuickResult, lazy: LazyRestoreFigures | null): string {
  const total = formatDurationMs(q.stats['total-time']);
  if (!lazy) return total;
  return lazy.afterResumeMs === null ? `${total} (the restore failed after the resume)` : `${total} (every page there, ${formatDurationMs(lazy.afterResumeMs)} after the resume)`;
}

/** The lazy restore's rows of the quick migration column: how the pages arrived after the resume, and the stalls. */
function lazyRows(lazy: LazyRestoreFigures, c: Colors, simulated: boolean): [string, string][] {
  const l = lazy.block;
  const rows: [string, string][] = [
    [
      'lazy restore',
      `${formatBytes(l.bytesBeforeResume)} read before the resume; ${formatCount(l.faultPages + l.zeroFaultPages)} pages faulted in on demand (${formatBytes(l.faultBytes)}), ${formatCount(l.backgroundPages)} filled in the background (${formatBytes(l.backgroundBytes)})${simulated ? ' (modelled)' : ''}`,
    ],
    [
      'stalls',
      lazy.faults > 0
        ? `${formatCount(lazy.faults)} faults, mean ${lazy.meanStallMs === null ? '—' : formatDurationMs(lazy.meanStallMs)}${lazy.p99Text ? `, ${lazy.p99Text}` : ''}; blocktime ${lazy.blocktimeMs === null ? '—' : formatDurationMs(lazy.blocktimeMs)} all vCPUs at once, per vCPU ${lazy.vcpuBlocktimeMs.length ? lazy.vcpuBlocktimeMs.map((v) => formatDurationMs(v)).join(', ') : '—'}`
        : 'none',
    ],
  ];
  if (l.guestLost) rows.push(['guest lost', c.red('the restore failed after the resume: the guest ran on the destination and was stopped there')]);
  else if (l.logDroppedWrites > 0) rows.push(['not verified', c.yellow(`the write log had no room for ${formatCount(l.logDroppedWrites)} of the guest's writes after the resume`)]);
  return rows;
}

/** label, pre-copy, post-copy, quick migration, quick ÷ the live method */
type Row = [string, string, string, string, string];

function rows(doc: ResultDocument, c: Colors): Row[] {
  const p = doc.precopy;
  const q = doc.quick;
  const s = doc.scenario as ScenarioView;
  // a migration that switched to post-copy: its pre-copy phase in the pre-copy column, the switch and after in the post-copy one
  const pc = postcopyFigures(p);
  const none = '';
  const out: Row[] = [];
  const add = (label: string, pre: string, quick: string, r = '', post = ''): void => {
    out.push([label, pre, post, quick, r]);
  };
  const simulated = doc.mode === 'simulate';
  const lazy = lazyRestoreFigures(q);
  if (pc && p) {
    add('outcome', c.yellow('did not converge: switched to post-copy'), q ? outcomeText(q.outcome, q.reason, c) : none, '', c.green(t(p.outcome)));
    if (p.error || q?.error) add('error', p.error ? c.red(t(p.error)) : none, q?.error ? c.red(t(q.error)) : none);
    add('verified', none, q ? verifiedText(q, c, simulated) : none, '', verifiedText(p, c, simulated));
    add(
      'downtime',
      `no stop-and-copy (expected ${formatDurationMs(p.stats['expected-downtime'])} at the last sync, limit ${formatDurationMs(s.precopy.downtimeLimitMs)})`,
      q ? quickDowntime(q, lazy) : none,
      ratio(q?.stats.downtime, pc.downtimeMs),
      pc.downtimeMs === null ? '—' : `${formatDurationMs(pc.downtimeMs)} (the switch)`,
    );
    add('total time', `${formatDurationMs(pc.switchAtMs)} to the switch`, q ? quickTotal(q, lazy) : none, ratio(q?.stats['total-time'], pc.totalTimeMs), `${formatDurationMs(pc.totalTimeMs)} (${formatDurationMs(pc.postcopyMs)} of post-copy)`);
    add(
      'bytes moved',
      `${formatBytes(pc.liveBytes)} live`,
      q ? `${formatBytes(q.savedBytes)} to storage, ${formatBytes(q.restoredBytes)} back` : none,
      ratio(q?.savedBytes, pc.bytes),
      `${formatBytes(pc.bytes)} over the link (${formatBytes(pc.pausedBytes)} paused, ${formatBytes(pc.postcopyBytes)} after the resume)`,
    );
    const b = pc.block;
    add('requests', none, none, '', `${formatCount(pc.requests)} (postcopy-requests): ${formatCount(b.urgentPages)} pages sent on request, ${formatCount(b.backgroundPages)} pushed${b.preempt ? ' (preempt)' : ''}`);
    add('blocktime', none, none, '', `${pc.blocktimeMs === null ? '—' : formatDurationMs(pc.blocktimeMs)} all vCPUs at once; per vCPU ${pc.vcpuBlocktimeMs.length ? pc.vcpuBlocktimeMs.map((v) => formatDurationMs(v)).join(', ') : '—'}`);
    add('stalls', none, none, '', pc.faults > 0 ? `${formatCount(pc.faults)} faults, mean ${pc.meanStallMs === null ? '—' : formatDurationMs(pc.meanStallMs)}${pc.p99Text ? `, ${pc.p99Text}` : ''}` : 'none');
  } else {
    add('outcome', p ? outcomeText(p.outcome, p.reason, c) : none, q ? outcomeText(q.outcome, q.reason, c) : none);
    if (p?.error || q?.error) add('error', p?.error ? c.red(t(p.error)) : none, q?.error ? c.red(t(q.error)) : none);
    add('verified', p ? verifiedText(p, c, simulated) : none, q ? verifiedText(q, c, simulated) : none);
    add(
      'downtime',
      p ? (p.stats.downtime === null ? '—' : `${formatDurationMs(p.stats.downtime)} (limit ${formatDurationMs(s.precopy.downtimeLimitMs)}, expected ${formatDurationMs(p.stats['expected-downtime'])})`) : none,
      q ? quickDowntime(q, lazy) : none,
      ratio(q?.stats.downtime, p?.stats.downtime),
    );
    add('total time', p ? formatDurationMs(p.stats['total-time']) : none, q ? quickTotal(q, lazy) : none, ratio(q?.stats['total-time'], p?.stats['total-time']));
    add(
      'bytes moved',
      p ? `${formatBytes(p.stats.ram.transferred)} over the link (${formatBytes(p.stats.ram['precopy-bytes'])} live, ${formatBytes(p.stats.ram['downtime-bytes'])} paused)` : none,
      q ? `${formatBytes(q.savedBytes)} to storage, ${formatBytes(q.restoredBytes)} back` : none,
      ratio(q?.savedBytes, p?.stats.ram.transferred),
    );
  }
  if (p) {
    const ram = p.stats.ram;
    const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy').length;
    // a post-copy run's last record is the switch (pause, device state, missing-page list), not a stop-and-copy
    const last = p.rounds.length > live ? (p.outcome === 'postcopy' ? ' + switch to post-copy' : ' + stop-and-copy') : '';
    add('rounds', `${p.rounds.length} (${live} live${last})`, q ? (lazy ? '1 save while paused; resumed after the index read, the rest faulted in on demand or filled in the background' : '1 (everything while paused)') : none);
    // what the savings bought: bytes on the link against the raw bytes of the normal pages
    const wire = ram['normal-bytes'] > 0 ? `; link ÷ raw ${(ram.transferred / ram['normal-bytes']).toFixed(2)}` : '';
    add('pages', `${formatCount(ram.normal)} normal (${formatBytes(ram['normal-bytes'])} raw), ${formatCount(ram.duplicate)} zero${wire}`, q ? `${formatCount(q.pages.normal)} normal, ${formatCount(q.pages.zero)} zero (skipped)` : none);
    add('rate', `${formatBitRate((ram.mbps * 1e6) / 8)} (link ${bitRate(s.link.bandwidth)}, live limit ${bitRate(s.precopy.maxBandwidth)})`, q ? `storage ${byteRate(q.storageBandwidthBytesPerSec)}` : none);
    const xc = p.stats['xbzrle-cache'];
    if (p.xbzrle && xc) {
      add(
        'XBZRLE',
        `${formatCount(p.xbzrle.pages)} pages as deltas (${formatBytes(p.xbzrle.bytes)} on the wire), ${formatCount(p.xbzrle.skippedPages)} unchanged; ` +
          `cache ${formatBytes(xc['cache-size'])}: ${formatCount(xc.pages)} hits, ${formatCount(xc['cache-miss'])} misses (hit rate ${pctOf(xc.pages, xc.pages + xc['cache-miss'])}; ` +
          `QEMU cache-miss-rate ${(xc['cache-miss-rate'] * 100).toFixed(1)}%), ${formatCount(xc.overflow)} overflows (${pctOf(xc.overflow, xc.pages)} of hits), encoding rate ${xc['encoding-rate'].toFixed(1)}`,
        none,
      );
    }
    if (p.compression) {
      const z = p.compression;
      add('compression', `${t(z.codec)} level ${z.level}: ${formatCount(z.frames)} frames, ${formatBytes(z.inputBytes)} of pages in ${formatBytes(z.outputBytes)} (ratio ${z.ratio === null ? '—' : z.ratio.toFixed(2)})`, none);
    }
    if (p.channels) {
      const ch = p.channels;
      add(
        'channels',
        ch.count === 1
          ? '1 (single lane)'
          : `${ch.count} (multifd): ${ch.lanes.map((l) => formatBytes(l.bytes)).join(' / ')} per lane; ${formatCount(ch.flushes)} flushes (${formatDurationMs(ch.flushWaitMs)})`,
        none,
      );
    }
    if (!simulated) add('setup time', formatDurationMs(p.stats['setup-time']), none);
    add('dirty rate', `${pagesPerSec(p.workload.achievedPagesPerSec)} of ${pagesPerSec(p.workload.targetPagesPerSec)} asked`, none);
    if (pc) {
      const w = pc.block.writeRate;
      const r = (v: number | null): string => (v === null ? '—' : formatCount(Math.round(v)));
      add('guest writes/s', none, none, '', `${r(w.beforePagesPerSec)} before · ${r(w.duringPagesPerSec)} during · ${r(w.afterPagesPerSec)} after`);
    }
    if (p.engineBound) add('engine bound', c.yellow(`yes: live rounds at ${formatBitRate(p.engine.liveBytesPerSec)}, below the link`), none);
  } else if (q) {
    add('pages', none, `${formatCount(q.pages.normal)} normal, ${formatCount(q.pages.zero)} zero (skipped)`);
    add('rate', none, `storage ${byteRate(q.storageBandwidthBytesPerSec)}`);
  }
  if (q) {
    const ph = q.phases;
    add(
      'phases',
      none,
      `pause ${formatDurationMs(ph.pauseMs)}, save ${formatDurationMs(ph.saveMs)}, fsync ${formatDurationMs(ph.fsyncMs)}, hand-over ${formatDurationMs(ph.handoverMs)}, ${lazy ? 'read the index' : 'restore'} ${formatDurationMs(ph.restoreMs)}, resume ${formatDurationMs(ph.resumeMs)}`,
    );
    if (lazy) for (const [label, text] of lazyRows(lazy, c, simulated)) add(label, none, text);
    add('image', none, `${t(q.format)}, ${formatBytes(q.imageBytes)}${simulated ? ' (modelled)' : q.imagePath ? ` kept at ${t(q.imagePath)}` : ' (removed)'}`);
  }
  return out;
}

/** Box drawing without a rule between every row. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function renderSummary(doc: ResultDocument, c: Colors): string {
  const live = doc.precopy !== null;
  const post = postcopyFigures(doc.precopy) !== null;
  const both = live && doc.quick !== null;
  const columns = [live, post, doc.quick !== null, both];
  const pick = (r: Row): string[] => [r[0], ...r.slice(1).filter((_, i) => columns[i])];
  const head = pick([
    c.bold(t((doc.scenario as ScenarioView).name)),
    c.bold('pre-copy'),
    c.bold('post-copy'),
    c.bold('quick migration'),
    c.bold(post ? 'quick ÷ post-copy' : 'quick ÷ pre-copy'),
  ]);
  // three methods side by side: narrower columns, so the table stays within about 160 characters
  const width = post ? 36 : 46;
  const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT, wordWrap: true, colWidths: head.map((_, i) => (i === 0 ? null : both && i === head.length - 1 ? 19 : width)) as number[] });
  for (const r of rows(doc, c)) table.push(pick(r));
  const verdict = doc.comparison ? `\n${c.bold('verdict')}: ${t(doc.comparison.verdict)}` : '';
  return `${fleetTable(doc, c)}${table.toString()}${verdict}${simulationLine(doc, c)}`;
}

function simulationLine(doc: ResultDocument, c: Colors): string {
  const sim = doc.simulation;
  if (!sim) return '';
  const speeds = sim.perMethod;
  if (!speeds) return `\n${c.dim(`simulate mode: modelled ${formatDurationMs(sim.modelledTimeMs)} in ${formatDurationMs(sim.wallTimeMs)} of wall time (speedup ${formatCount(Math.round(sim.speedup))}×); verification needs emulate mode`)}`;
  // each method's own speedup: quick migration's long modelled time would inflate a combined one
  const parts = (['precopy', 'quick'] as const).flatMap((m) => {
    const x = speeds[m];
    return x ? [`${m === 'precopy' ? 'pre-copy' : 'quick migration'} modelled ${formatDurationMs(x.modelledTimeMs)} in ${formatDurationMs(x.wallTimeMs)} of wall time (speedup ${formatCount(Math.round(x.speedup))}×)`] : [];
  });
  return `\n${c.dim(`simulate mode: ${parts.join(', ')}; verification needs emulate mode`)}`;
}

const dist = (d: Distribution | null): string => (d === null ? '—' : `median ${formatDurationMs(d.median)}, p95 ${formatDurationMs(d.p95)}, max ${formatDurationMs(d.max)}`);

/** A host evacuation (simulate mode with `fleet`): both methods' evacuation time and per-guest spread. */
function fleetTable(doc: ResultDocument, c: Colors): string {
  const f = doc.fleet;
  if (!f) return '';
  const methods = [['pre-copy', f.precopy], ['quick migration', f.quick]] as const;
  const present = methods.filter(([, m]) => m !== null) as unknown as [string, FleetMethodResult][];
  const table = new Table({
    head: [c.bold(`host evacuation: ${formatCount(f.count)} guests, ${formatCount(f.concurrency)} at a time${f.concurrencyBy && f.concurrencyBy !== 'fleet.concurrency' ? ` (${t(f.concurrencyBy)})` : ''}`), ...present.map(([n]) => c.bold(n))],
    style: { head: [], border: [] },
    chars: COMPACT,
    wordWrap: true,
  });
  table.push(['evacuation time', ...present.map(([, m]) => formatDurationMs(m.evacuationTimeMs))]);
  table.push(['guests completed', ...present.map(([, m]) => `${formatCount(m.completed)}${m.cancelled > 0 ? c.yellow(`, ${formatCount(m.cancelled)} cancelled`) : ''}`)]);
  // by outcome (documents since issue 19 item 5): pre-copy's moved, moved through post-copy, paused, aborted
  if (present.some(([, m]) => m.outcomes)) table.push(['guests by outcome', ...present.map(([, m]) => (m.outcomes ? Object.entries(m.outcomes).map(([o, n]) => `${formatCount(n)} ${t(o)}`).join(', ') : '—'))]);
  table.push(['downtime per guest', ...present.map(([, m]) => dist(m.downtime))]);
  table.push(['total time per guest', ...present.map(([, m]) => dist(m.totalTime))]);
  table.push(['bytes', ...present.map(([, m]) => formatBytes(m.bytes))]);
  return `${table.toString()}\n${c.dim('below: guest 0 in detail')}\n`;
}
