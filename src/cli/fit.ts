/**
 * `migbench fit LOG [--out scenario.json] [--json]`: read a QEMU migration's log of polled QMP replies,
 * fit a scenario to it (src/fit/fit.ts), replay the scenario in simulate mode and show the log and the
 * replay side by side. Human output on stderr; `--json` prints the fit document on stdout; `--out`
 * writes the fitted scenario (resolved: a valid scenario file) through the one output writer.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import Table from 'cli-table3';
import { MigbenchError } from '../errors.ts';
import { escapeTerminal } from '../escape.ts';
import { fitLog, type FitResult } from '../fit/fit.ts';
import { MAX_QMP_LOG_BYTES, readQmpLog } from '../fit/qmp-log.ts';
import { replayFit, sparkline, type Replay, type ReplayRow } from '../fit/replay.ts';
import { applyOverrides, resolveScenario, scenarioToJson } from '../options.ts';
import { renderFitReport, type FitReportDocument } from '../report/fit-html.ts';
import { colorsFor, type Colors } from '../report/style.ts';
import { formatBytes, formatCount, formatDurationMs, parseDurationMs } from '../units.ts';
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { answerWhatIf, converged, whatIfPlan, type WhatIfAnswer, type WhatIfPlan } from '../fit/what-if.ts';
import { OBJECTIVES, type Objective } from '../results/pareto.ts';
import type { Axis, SweepPoint } from '../results/sweep-types.ts';
import { parseAxis } from '../sweep/grid.ts';
import { checkSweepable, pointScenarios, runSweep } from '../sweep/run-sweep.ts';
import { describePoint, parseJobs, parseMaxPoints } from './sweep.ts';
import { readTextFile } from './scenario-file.ts';

export interface FitCommandOptions {
  out?: string;
  /** a self-contained HTML report: the fit, the replay beside the log, the remaining curves, the what-if */
  html?: string;
  json: boolean;
  /** run the fitted guest through a grid of settings (`--param`) in simulate mode */
  whatIf?: boolean;
  param?: string[];
  /** with --what-if: overrides of the fitted scenario for every point (e.g. a shorter precopy.timeoutMs) */
  set?: string[];
  /** the downtime target of --what-if (default: the log's downtime limit) */
  maxDowntime?: string;
  objective?: string;
  jobs?: string;
  maxPoints?: string;
}

/** The --what-if flags, checked before any work. */
function whatIfOptions(o: FitCommandOptions): { axes: Axis[]; maxDowntimeMs: number | null; objective: Objective; jobs: number; maxPoints: number } | null {
  const params = o.param ?? [];
  if (!o.whatIf) {
    for (const [flag, given] of [['--param', params.length > 0], ['--set', (o.set ?? []).length > 0], ['--max-downtime', o.maxDowntime !== undefined], ['--objective', o.objective !== undefined], ['--jobs', o.jobs !== undefined], ['--max-points', o.maxPoints !== undefined]] as const) {
      if (given) throw new MigbenchError('E_USAGE', `${flag}: only with --what-if (it sets up the grid of settings the fitted guest runs through)`);
    }
    return null;
  }
  let maxDowntimeMs: number | null = null;
  if (o.maxDowntime !== undefined) {
    maxDowntimeMs = parseDurationMs(o.maxDowntime);
    if (maxDowntimeMs === null || maxDowntimeMs <= 0) throw new MigbenchError('E_USAGE', `--max-downtime: expected a duration like "300ms", got ${JSON.stringify(o.maxDowntime)}`);
  }
  const objective = o.objective ?? 'total-time';
  if (!(OBJECTIVES as readonly string[]).includes(objective)) throw new MigbenchError('E_USAGE', `--objective: expected one of ${OBJECTIVES.join(', ')}, got ${JSON.stringify(objective)}`);
  return { axes: params.map(parseAxis), maxDowntimeMs, objective: objective as Objective, jobs: parseJobs('simulate', o.jobs), maxPoints: parseMaxPoints(o.maxPoints) };
}

/** Columns of the remaining-over-time sparklines. */
const SPARK_WIDTH = 60;

function readLog(path: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new MigbenchError('E_USAGE', `QMP log ${JSON.stringify(path)}: not a regular file`);
    size = st.size;
  } catch (error) {
    if (error instanceof MigbenchError) throw error;
    return readTextFile(path, `QMP log ${JSON.stringify(path)}`); // the one message for "cannot read it"
  }
  if (size > MAX_QMP_LOG_BYTES) throw new MigbenchError('E_SCENARIO', `QMP log ${JSON.stringify(path)}: ${formatBytes(size)}, larger than ${formatBytes(MAX_QMP_LOG_BYTES)} (a log of polls is far smaller)`);
  return readTextFile(path, `QMP log ${JSON.stringify(path)}`);
}

export async function fitCommand(logPath: string, options: FitCommandOptions): Promise<number> {
  const whatIf = whatIfOptions(options);
  checkOutputs([{ flag: '--out', path: options.out }, { flag: '--html', path: options.html }]);
  const log = readQmpLog(readLog(logPath));
  const name = basename(logPath).replace(/\.(jsonl|json|log)$/i, '') || 'fitted';
  const fit = fitLog(log, name);
  const scenario = resolveScenario(fit.scenario);
  let answer: WhatIfAnswer | null = null;
  let plan: WhatIfPlan | null = null;
  let base: Record<string, unknown> = fit.scenario as Record<string, unknown>;
  if (whatIf) {
    plan = whatIfPlan(fit, whatIf.axes, whatIf.maxPoints);
    base = applyOverrides(fit.scenario, options.set ?? []);
    const points = plan.points as Record<string, unknown>[];
    checkSweepable(pointScenarios(base, points), points, 'simulate'); // a bad value is refused before anything runs
  }
  const replay = await replayFit(fit);
  if (whatIf && plan) {
    const points = plan.points as Record<string, unknown>[];
    const doc = await runSweep({ base, axes: [...plan.axes], points, indices: points.map((_, i) => i), shard: null, runs: 1, mode: 'simulate', jobs: whatIf.jobs });
    answer = answerWhatIf(plan, doc.points, whatIf.maxDowntimeMs ?? scenario.precopy.downtimeLimitMs, whatIf.objective, describePoint);
  }
  const scenarioJson = scenarioToJson(scenario);
  const doc = { ...(fitDocument(logPath, fit, scenarioJson, replay) as FitReportDocument), ...(answer ? { whatIf: whatIfDocument(answer) } : {}) };
  const text = JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  writeOutputs(requested([
    { flag: '--out', path: options.out, text: () => `${JSON.stringify(scenarioJson, null, 2)}\n` },
    // the page reads the document as --json prints it (no Infinity)
    { flag: '--html', path: options.html, text: () => renderFitReport(JSON.parse(text) as FitReportDocument) },
  ]));
  if (options.json) process.stdout.write(`${text}\n`);
  else {
    const c = colorsFor(process.stderr);
    process.stderr.write(`${renderFit(logPath, fit, replay, c)}\n`);
    if (answer && plan) process.stderr.write(`${renderWhatIf(answer, plan, c)}\n`);
  }
  return 0;
}

/** The `whatIf` block of the --json document. */
function whatIfDocument(a: WhatIfAnswer): FitReportDocument['whatIf'] {
  const slim = (p: SweepPoint | null) => (p === null ? null : { params: p.params, outcomes: p.outcomes, totalTimeMs: p.totalTimeMs, downtimeMs: p.downtimeMs, transferredBytes: p.transferredBytes, guestSlowdown: p.guestSlowdown });
  return {
    maxDowntimeMs: a.maxDowntimeMs,
    objective: a.objective,
    asLogged: slim(a.asLogged),
    withoutXbzrle: slim(a.withoutXbzrle),
    best: { settings: a.best.point?.params ?? null, why: a.best.why },
    bestWithoutXbzrle: a.bestWithoutXbzrle === null ? null : { settings: a.bestWithoutXbzrle.point?.params ?? null, why: a.bestWithoutXbzrle.why },
    points: a.grid.map(slim),
  };
}

function outcomeText(p: SweepPoint): string {
  return Object.keys(p.outcomes).join(', ');
}

function pointLine(p: SweepPoint): string {
  return `${outcomeText(p)}, downtime ${p.downtimeMs === null ? '—' : formatDurationMs(p.downtimeMs)}, total ${p.totalTimeMs === null ? '—' : formatDurationMs(p.totalTimeMs)}, ${p.transferredBytes === null ? '—' : formatBytes(p.transferredBytes)}`;
}

/** The what-if answer for a person (pure). */
export function renderWhatIf(a: WhatIfAnswer, plan: WhatIfPlan, c: Colors): string {
  const lines: string[] = [];
  lines.push(c.bold(`what if: the fitted guest through ${a.grid.length} setting${a.grid.length === 1 ? '' : 's'} in simulate mode; target: converged, downtime ≤ ${formatDurationMs(a.maxDowntimeMs)}; cheapest by ${a.objective}`));
  lines.push(`as logged (the replay):                     ${escapeTerminal(pointLine(a.asLogged))}`);
  if (a.withoutXbzrle) {
    const ok = converged(a.withoutXbzrle);
    lines.push(`without XBZRLE, same bandwidth and settings: ${escapeTerminal(pointLine(a.withoutXbzrle))} → ${ok ? c.green('it converges without XBZRLE') : c.yellow('it does not converge without XBZRLE')}`);
  }
  const head = ['#', ...plan.axes.map((x) => x.key), 'outcome', 'downtime', 'total time', 'transferred', ''];
  const table = new Table({ head: head.map((h) => c.bold(escapeTerminal(h))), style: { head: [], border: [] }, chars: COMPACT });
  for (const p of a.grid) {
    const mark = [p.index === a.best.point?.index ? '← cheapest' : '', p.index === a.bestWithoutXbzrle?.point?.index && p.index !== a.best.point?.index ? '← cheapest without XBZRLE' : ''].filter(Boolean).join(' ');
    table.push([
      String(p.index),
      ...plan.axes.map((x) => escapeTerminal(typeof p.params[x.key] === 'string' ? (p.params[x.key] as string) : JSON.stringify(p.params[x.key]))),
      escapeTerminal(outcomeText(p)),
      p.downtimeMs === null ? '—' : formatDurationMs(p.downtimeMs),
      p.totalTimeMs === null ? '—' : formatDurationMs(p.totalTimeMs),
      p.transferredBytes === null ? '—' : formatBytes(p.transferredBytes),
      mark,
    ]);
  }
  if (a.grid.length > 0) lines.push(table.toString());
  lines.push(`${a.best.point ? c.green('cheapest that converges') : c.yellow('none converges within the target')}: ${a.best.point ? escapeTerminal(describePoint(a.best.point)) : '—'} (${escapeTerminal(a.best.why)})`);
  if (a.bestWithoutXbzrle) {
    lines.push(`${a.bestWithoutXbzrle.point ? c.green('without XBZRLE it converges with') : c.yellow('without XBZRLE no setting of the grid converges within the target')}: ${a.bestWithoutXbzrle.point ? escapeTerminal(describePoint(a.bestWithoutXbzrle.point)) : '—'} (${escapeTerminal(a.bestWithoutXbzrle.why)})`);
  }
  return lines.join('\n');
}

/** The `--json` document: the fitted scenario, every parameter with its evidence, the replay beside the log. */
export function fitDocument(logPath: string, fit: FitResult, scenario: unknown, replay: Replay): unknown {
  return {
    tool: 'migbench fit',
    log: logPath,
    scenario,
    parameters: fit.parameters,
    syncs: fit.syncs,
    replay: {
      rows: replay.rows,
      remaining: { log: replay.logRemaining, replay: replay.replayRemaining },
    },
  };
}

const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

function cell(row: ReplayRow, v: number | string | null): string {
  if (v === null) return '—';
  if (typeof v === 'string') return escapeTerminal(v);
  if (row.metric === 'bytes') return formatBytes(v);
  if (row.metric === 'syncs') return formatCount(v);
  return formatDurationMs(v);
}

function valueText(key: string, v: unknown): string {
  if (typeof v === 'number') {
    if (key === 'guest.memory' || key === 'workload.workingSet') return formatBytes(v);
    if (key === 'link.bandwidth' || key === 'precopy.maxBandwidth') return `${formatBytes(v)}/s`;
    if (key === 'workload.dirtyRate') return `${formatCount(v)}/s`;
    if (key === 'precopy.downtimeLimitMs') return formatDurationMs(v);
    return String(v);
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The human report (pure): parameters with evidence, then log and replay side by side, then the curves. */
export function renderFit(logPath: string, fit: FitResult, replay: Replay, c: Colors): string {
  const lines: string[] = [];
  lines.push(c.dim(`migbench fit: ${escapeTerminal(logPath)}: ${fit.log.remaining.length} polls with ram figures, fitted and replayed in simulate mode`));
  for (const p of fit.parameters) {
    lines.push(`${c.bold(p.key)} = ${escapeTerminal(valueText(p.key, p.value))}`);
    lines.push(c.dim(`    ${escapeTerminal(p.evidence)}`));
  }
  const table = new Table({ head: ['', 'log', 'replay', 'error'].map((h) => c.bold(h)), style: { head: [], border: [] }, chars: COMPACT, colAligns: ['left', 'right', 'right', 'right'] });
  for (const r of replay.rows) {
    table.push([r.metric, cell(r, r.log), cell(r, r.replay), r.relativeError === null ? '' : `${r.relativeError >= 0 ? '+' : ''}${(r.relativeError * 100).toFixed(1)} %`]);
  }
  lines.push(table.toString());
  const endMs = Math.max(fit.log.totalTimeMs, replay.replayRemaining.at(-1)?.tMs ?? 0);
  const maxBytes = Math.max(...replay.logRemaining.map((p) => p.bytes), ...replay.replayRemaining.map((p) => p.bytes));
  lines.push(`remaining over ${formatDurationMs(endMs)} (full height ${formatBytes(maxBytes)}):`);
  lines.push(`  log    │${sparkline(replay.logRemaining, endMs, maxBytes, SPARK_WIDTH)}│`);
  lines.push(`  replay │${sparkline(replay.replayRemaining, endMs, maxBytes, SPARK_WIDTH)}│`);
  return lines.join('\n');
}
