/**
 * The human summary of a run: a table built from the result document alone (report/ never reads the
 * engine, only documents).
 */
import Table from 'cli-table3';
import type { ResultDocument } from '../results/document.ts';
import { formatBitRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import type { Colors } from './style.ts';

function rate(bytesPerSec: number | string | null | undefined): string {
  if (bytesPerSec === null || bytesPerSec === undefined || bytesPerSec === 'unlimited') return 'unlimited';
  return formatBitRate(Number(bytesPerSec));
}

function pagesPerSec(n: number): string {
  return `${formatCount(n)} pages/s`;
}

export function precopySummaryRows(doc: ResultDocument, c: Colors): [string, string][] {
  const p = doc.precopy;
  const s = p.stats;
  const ram = s.ram;
  const scenario = doc.scenario as { link: { bandwidth: number | string }; precopy: { maxBandwidth: number | string; downtimeLimitMs: number } };
  const outcome =
    p.outcome === 'converged' ? c.green('converged') : p.outcome === 'errored' ? c.red('errored') : c.yellow(p.outcome);
  const rows: [string, string][] = [
    ['outcome', p.reason ? `${outcome} (${p.reason})` : outcome],
  ];
  if (p.error) rows.push(['error', c.red(p.error)]);
  const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy').length;
  rows.push(
    ['rounds', `${p.rounds.length} (${live} live${p.rounds.length > live ? ' + stop-and-copy' : ''}), ${ram['dirty-sync-count']} dirty syncs`],
    ['total time', formatDurationMs(s['total-time'])],
    ['setup time', formatDurationMs(s['setup-time'])],
    [
      'downtime',
      s.downtime === null
        ? '—'
        : `${formatDurationMs(s.downtime)} (limit ${formatDurationMs(scenario.precopy.downtimeLimitMs)}, expected ${formatDurationMs(s['expected-downtime'])})`,
    ],
    ['transferred', `${formatBytes(ram.transferred)} (${formatBytes(ram['precopy-bytes'])} live, ${formatBytes(ram['downtime-bytes'])} in downtime) of ${formatBytes(ram.total)} guest RAM`],
    ['pages', `${formatCount(ram.normal)} normal (${formatBytes(ram['normal-bytes'])}), ${formatCount(ram.duplicate)} zero`],
    ['throughput', `${formatBitRate((ram.mbps * 1e6) / 8)} (link ${rate(scenario.link.bandwidth)}, live limit ${rate(scenario.precopy.maxBandwidth)})`],
    ['dirty rate', `${pagesPerSec(p.workload.achievedPagesPerSec)} achieved of ${pagesPerSec(p.workload.targetPagesPerSec)} asked; ${pagesPerSec(ram['dirty-pages-rate'])} distinct at syncs`],
  );
  if (p.engineBound) {
    rows.push(['engine bound', c.yellow(`yes: live rounds ran at ${formatBitRate(p.engine.liveBytesPerSec)}, below the ${rate(p.engine.liveRateLimitBytesPerSec)} limit`)]);
  }
  const verified =
    p.verified === true ? c.green('yes') : p.verified === false ? c.red(`NO: ${formatCount(p.verification?.badPages ?? 0)} pages differ (first: page ${p.verification?.firstBadPage}), device state ${p.verification?.deviceStateEqual ? 'equal' : 'differs'}`) : '— (not migrated)';
  rows.push(['verified', verified]);
  return rows;
}

/** Box drawing without a rule between every row. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function renderSummary(doc: ResultDocument, c: Colors): string {
  const table = new Table({ head: [c.bold('pre-copy'), c.bold(String((doc.scenario as { name: string }).name))], style: { head: [], border: [] }, chars: COMPACT });
  for (const row of precopySummaryRows(doc, c)) table.push(row);
  return table.toString();
}
