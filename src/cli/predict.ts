/**
 * `migbench predict [scenario] [--set key.path=value …] [--json]`: the analytic prediction of a
 * scenario (sim/predict/), at once and without threads. The scenario is read and resolved exactly as
 * `run` does; the JSON document (--json) goes to stdout, the human summary to stderr.
 */
import { checkPostcopyMode } from '../postcopy/support.ts';
import { checkOrchestratorMode } from '../orchestrator/support.ts';
import Table from 'cli-table3';
import { applyOverrides, overrideWarnings, resolveScenario, scenarioToJson, scenarioWarnings } from '../options.ts';
import { printWarnings } from './scenario-warnings.ts';
import type { RoundRecord } from '../results/migration-stats.ts';
import { colorsFor, type Colors } from '../report/style.ts';
import { predict } from '../sim/predict/predict.ts';
import { predictionToJson, type Prediction } from '../sim/predict/prediction.ts';
import { formatBitRate, formatByteRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { readScenarioFile } from './scenario-file.ts';
import { DEFAULT_COLUMNS, fittedColWidths, terminalColumns } from './terminal.ts';

export interface PredictCommandOptions {
  set: string[];
  json: boolean;
}

/** Box drawing without a rule between every row (as report/summary.ts). */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
/** Rounds listed in full up to this many; beyond, the first and last ones. */
const MAX_LISTED_ROUNDS = 24;

export function predictCommand(scenarioPath: string | undefined, options: PredictCommandOptions): number {
  const input = scenarioPath === undefined ? {} : readScenarioFile(scenarioPath);
  const applied = applyOverrides(input, options.set);
  const scenario = resolveScenario(applied);
  checkPostcopyMode(scenario, 'predict');
  checkOrchestratorMode(scenario, 'predict');
  printWarnings([...scenarioWarnings(applied), ...overrideWarnings(options.set)]);
  const prediction = predict(scenario);
  if (options.json) {
    process.stdout.write(`${predictionToJson(prediction, scenarioToJson(scenario))}\n`);
    return 0;
  }
  process.stderr.write(`${renderPrediction(prediction, colorsFor(process.stderr), terminalColumns(process.stderr))}\n`);
  return 0;
}

const pages = (n: number): string => formatCount(n);
const ms = (v: number | null): string => (v === null ? '—' : v === Infinity ? '∞' : formatDurationMs(v));

function roundsTable(p: Prediction, c: Colors, columns: number): string {
  const head = ['round', 'stage', 'sent pages', 'bytes', 'time', 'dirty at sync', 'pending', 'expected downtime'].map((h) => c.bold(h));
  const body: string[][] = [];
  const row = (r: RoundRecord): string[] => [
    String(r.round),
    r.stage,
    pages(r.sentPages),
    formatBytes(r.bytes),
    ms(r.durationMs),
    pages(r.dirtyPages),
    pages(r.pendingPages),
    r.stage === 'stop-and-copy' ? c.dim('(downtime)') : ms(r.expectedDowntimeMs),
  ];
  const rounds = p.precopy.rounds;
  const gap = (n: number): string[] => ['⋮', c.dim(`${formatCount(n)} more`), '⋮', '⋮', '⋮', '⋮', '⋮', '⋮'];
  // All rounds when they are few; else the first 12 and the last 8. A gap row stands for rounds not
  // listed (skipped here, or a steady state the model extrapolated: elidedRounds).
  const shown = rounds.length <= MAX_LISTED_ROUNDS ? rounds : [...rounds.slice(0, 12), ...rounds.slice(-8)];
  let next = 0;
  for (const r of shown) {
    if (r.round > next) body.push(gap(r.round - next));
    body.push(row(r));
    next = r.round + 1;
  }
  const colWidths = fittedColWidths([head, ...body], columns);
  const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT, colWidths, wordWrap: true, colAligns: ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right'] });
  table.push(...body);
  return table.toString();
}

function outcomeText(outcome: string, reason: string | null, c: Colors): string {
  const o = outcome === 'converged' || outcome === 'completed' ? c.green(outcome) : c.yellow(outcome);
  return reason ? `${o} (${reason})` : o;
}

/** The prediction for a person; its tables fit `columns` (the terminal's width). */
export function renderPrediction(p: Prediction, c: Colors, columns: number = DEFAULT_COLUMNS): string {
  const s = p.scenario;
  const pre = p.precopy;
  const q = p.quick;
  const f = pre.model;
  const st = pre.stats;
  const cf = pre.closedForm;
  const lines: string[] = [];
  lines.push(
    c.dim(
      `migbench predict: ${s.name}: ${formatBytes(s.guest.memory)} guest, ${s.workload.pattern} at ${formatCount(s.workload.dirtyRate)} page writes/s, ` +
        `link ${formatBitRate(s.link.bandwidth)}, live rate ${formatBitRate(f.liveRateBytesPerSec)}, policy ${f.policy} (analytic model: expected values, no threads)`,
    ),
  );
  lines.push(
    `model: λ = ${f.lambda.toFixed(3)} (${formatByteRate(f.dirtyRateBytesPerSec)} dirtied ÷ ${formatByteRate(f.liveRateBytesPerSec)} sent), ` +
      `threshold V_thd ${formatBytes(f.thresholdBytes)}, steady dirty set ${formatBytes(f.steadyDirtyBytes)}` +
      (s.workload.pattern === 'hotset' || s.workload.pattern === 'zipf' ? `, working set ${formatBytes(f.workingSetBytes)}` : '') +
      (f.zeroPageShare > 0 ? `, zero pages ${(f.zeroPageShare * 100).toFixed(0)} %` : ''),
  );
  lines.push(roundsTable(p, c, columns));

  const live = pre.rounds.filter((r) => r.stage !== 'stop-and-copy').length + pre.elidedRounds;
  const stopped = pre.rounds.some((r) => r.stage === 'stop-and-copy');
  const closed =
    cf.n === Infinity
      ? `never (λ >= 1): V_i = M·λ^i grows`
      : `n = ${cf.n}${cf.converges ? '' : ' (capped)'}, ${formatBytes(cf.totalBytes)}, total ${ms(cf.totalTimeMs)}, downtime ${ms(cf.downtimeMs)}`;
  const head = [c.bold(s.name), c.bold('pre-copy'), c.bold('quick migration')];
  const qPhases = q.phases;
  const body: string[][] = [
    ['outcome', outcomeText(pre.outcome, pre.reason, c), outcomeText(q.outcome, null, c)],
    [
      'converges',
      pre.converges
        ? c.green(`yes${pre.roundsToConverge !== null ? `, after ${pre.roundsToConverge} live rounds` : ''}`)
        : c.yellow(`no${pre.nonConvergence ? `: ${pre.nonConvergence === 'lambda-at-least-1' ? 'λ >= 1' : 'working set above the threshold'}` : ''}`),
      '— (nothing runs while it moves)',
    ],
    ['downtime', st.downtime === null ? (pre.outcome === 'failed' ? '— (failed: the link died)' : '— (cancelled: the guest stays on the source)') : `${ms(st.downtime)} (limit ${ms(s.precopy.downtimeLimitMs)}, expected ${ms(st['expected-downtime'])})`, ms(q.stats.downtime)],
    ['total time', ms(st['total-time']), ms(q.stats['total-time'])],
    [
      'bytes moved',
      `${formatBytes(st.ram.transferred)} over the link (${formatBytes(st.ram['precopy-bytes'])} live, ${formatBytes(st.ram['downtime-bytes'])} paused)`,
      `${formatBytes(q.savedBytes)} to storage, ${formatBytes(q.restoredBytes)} back`,
    ],
    ['rounds', `${live + (stopped ? 1 : 0)} (${live} live${stopped ? ' + stop-and-copy' : ''})`, '1 (everything while paused)'],
    ['pages', `${formatCount(st.ram.normal)} normal, ${formatCount(st.ram.duplicate)} zero`, `${formatCount(q.pages.normal)} normal, ${formatCount(q.pages.zero)} zero (skipped)`],
    [
      'rates',
      `live ${formatBitRate(f.liveRateBytesPerSec)}, stop-and-copy ${formatBitRate(f.linkRateBytesPerSec)}`,
      `storage ${formatByteRate(q.storageBandwidthBytesPerSec)}`,
    ],
    ['phases', '', `save ${ms(qPhases.saveMs)}, hand-over ${ms(qPhases.handoverMs)}, restore ${ms(qPhases.restoreMs)}`],
    ['closed form', closed, ''],
  ];
  const pc = pre.postcopy;
  if (pc) {
    const ram = st.ram;
    body.splice(4, 0, [
      'post-copy',
      `from ${ms(pc.resumedMs)} to ${ms(pc.completedMs)}: ${pages(pc.missingPages)} missing pages, ${formatCount(ram['postcopy-requests'] ?? 0)} requests ` +
        `(stall ${ms(pc.stallMs)} each; vCPU blocktime ${ms(st['postcopy-vcpu-blocktime']?.[0] ?? 0)}, all blocked ${ms(st['postcopy-blocktime'] ?? 0)}), ${formatBytes(ram['postcopy-bytes'] ?? 0)}`,
      '',
    ]);
  }
  if (pre.outcome === 'failed') body.splice(1, 0, ['guest', pre.guestLost ? c.yellow('lost (split between the hosts)') : 'runs on the source, intact', '']);
  const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT, wordWrap: true, colWidths: fittedColWidths([head, ...body], columns) });
  table.push(...body);
  lines.push(table.toString());
  lines.push(`${c.bold('pre-copy')}: ${pre.why}`);
  lines.push(`${c.bold('quick')}: ${q.why}`);
  // what this scenario asks that the model sends as plain pages (simulate mode models it; XBZRLE is modelled here)
  if (s.precopy.compression !== 'none') lines.push(c.yellow('not modelled here: compression (pages go in full; run it with --mode simulate)'));
  lines.push(c.dim('not modelled: setup time (destination start), per-round engine costs, bandwidth-measurement noise, fsync; counts are expectations'));
  return lines.join('\n');
}
