/**
 * `migbench sweep [scenario] --param key=v1,v2 … [--mode emulate|simulate] [--runs N] [--jobs N]
 *  [--shard I/N|auto] [--out FILE] [--csv FILE]`,
 * `migbench merge SLICE… --out FILE [--csv FILE]`, and
 * `migbench tune [scenario] --max-downtime 300ms [--mode …] [--jobs N] [--objective …] [--search key[=v1,v2],…] [--apply FILE]`.
 */
import Table from 'cli-table3';
import { MigbenchError } from '../errors.ts';
import { applyOverrides, overrideWarnings, resolveScenario, scenarioWarnings } from '../options.ts';
import { printWarnings } from './scenario-warnings.ts';
import { colorsFor } from '../report/style.ts';
import { MAX_GRID_POINTS, checkRunCount, expandGrid, parseAxis, parseShard, pointOverrides, shardIndices } from '../sweep/grid.ts';
import type { Axis, SweepDocument } from '../results/sweep-types.ts';
import { OBJECTIVES, paretoFrontier, recommend, type Objective, type PointFigures } from '../results/pareto.ts';
import { checkSweepable, mergeSweeps, pointScenarios, runSweep, sweepToCsv } from '../sweep/run-sweep.ts';
import { defaultJobs } from '../pool/pool.ts';
import { formatBytes, formatDurationMs, parseDurationMs } from '../units.ts';
import { parseMode, type Mode } from './run.ts';
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { emitText, parseEmit } from './emit-flag.ts';
import { readResultFile, readScenarioFile } from './scenario-file.ts';
import { parseSweepDocument } from '../sweep/sweep-document.ts';
import { renderSweepReport } from '../report/html.ts';
import { interruptedWord, watchInterrupts } from './interrupt.ts';
import { fittedColWidths, terminalColumns } from './terminal.ts';

function positive(flag: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new MigbenchError('E_USAGE', `${flag}: expected a whole number >= 1, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** `--max-points`: the most grid points (or suite benchmarks) a command builds; `dflt` without the flag. */
export function parseMaxPoints(text: string | undefined, dflt: number = MAX_GRID_POINTS): number {
  return positive('--max-points', text, dflt);
}

/**
 * `--jobs`: threads for simulate mode (default: the CPUs this process may use); emulate mode runs one
 * point at a time and refuses more.
 */
export function parseJobs(mode: Mode, text: string | undefined): number {
  const jobs = text === undefined ? null : positive('--jobs', text, 1);
  if (mode === 'simulate') return jobs ?? defaultJobs();
  if (jobs !== null && jobs > 1) {
    throw new MigbenchError('E_USAGE', `--jobs: emulate mode runs one migration at a time (migrations running together would disturb each other's timing); more than 1 needs --mode simulate, got ${jobs}`);
  }
  return 1;
}

/** How the runs go, for the first progress line. */
export function howItRuns(mode: Mode, jobs: number, tasks: number): string {
  if (mode === 'emulate') return 'one at a time (emulate mode)';
  const threads = Math.min(jobs, tasks);
  return `${threads > 1 ? `on ${threads} threads` : 'in this thread'} (simulate mode)`;
}

/**
 * Run `f` with Ctrl-C or SIGTERM stopping it after the current run: resolves to its result, or, once it
 * stopped with E_INTERRUPTED, to the exit code (130 for SIGINT, 143 for SIGTERM) after saying `what`
 * ("no result written").
 */
async function withInterrupts<T>(say: (s: string) => void, what: string, f: (signal: AbortSignal) => Promise<T>): Promise<{ done: T } | { exitCode: number }> {
  const interrupts = watchInterrupts((signal) => say(`${interruptedWord(signal)}: stopping after the current run (${signal === 'SIGINT' ? 'Ctrl-C' : 'a signal'} again to quit at once)`));
  try {
    return { done: await f(interrupts.signal) };
  } catch (error) {
    if (error instanceof MigbenchError && error.code === 'E_INTERRUPTED') {
      say(`${interruptedWord(interrupts.received)}: ${what}`);
      return { exitCode: interrupts.exitCode };
    }
    throw error;
  } finally {
    interrupts.dispose();
  }
}

export const describePoint = (p: { params: Record<string, unknown> }): string =>
  Object.entries(p.params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') || '(the scenario as it is)';

/** The points as a table for a person (stderr), fitting the terminal's width. */
function pointsTable(points: readonly PointFigures[], axes: readonly Axis[], marks: (p: PointFigures) => string): string {
  const head = ['#', ...axes.map((a) => a.key), 'total time', 'downtime', 'transferred', 'guest speed', 'completed', ''];
  const body = points.map((p) => [
    String(p.index),
    ...axes.map((a) => (typeof p.params[a.key] === 'string' ? (p.params[a.key] as string) : JSON.stringify(p.params[a.key]))),
    p.totalTimeMs === null ? '—' : formatDurationMs(p.totalTimeMs),
    p.downtimeMs === null ? '—' : formatDurationMs(p.downtimeMs),
    p.transferredBytes === null ? '—' : formatBytes(p.transferredBytes),
    p.guestSlowdown === null ? '—' : `${(p.guestSlowdown * 100).toFixed(0)}%`,
    `${p.completed}/${p.runs}`,
    marks(p),
  ]);
  const t = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colWidths: fittedColWidths([head, ...body], terminalColumns(process.stderr)),
    wordWrap: true,
  });
  t.push(...body);
  return t.toString();
}

export interface SweepCommandOptions {
  param: string[];
  set: string[];
  runs?: string;
  shard?: string;
  mode?: string;
  jobs?: string;
  maxPoints?: string;
  out?: string;
  csv?: string;
  json: boolean;
  quiet: boolean;
  html?: string;
}

/** A bare number for a byte rate in a --param axis: the same warning as in --set (options.ts). */
function paramWarnings(axes: readonly { key: string; values: readonly unknown[] }[]): string[] {
  return overrideWarnings(axes.flatMap((a) => a.values.filter((v) => typeof v === 'number').map((v) => `${a.key}=${JSON.stringify(v)}`)), '--param');
}

export async function sweepCommand(scenarioPath: string | undefined, o: SweepCommandOptions): Promise<number> {
  const mode = parseMode(o.mode);
  const jobs = parseJobs(mode, o.jobs);
  if (o.param.length === 0) throw new MigbenchError('E_USAGE', 'sweep: give at least one --param key.path=v1,v2,…');
  const axes = o.param.map(parseAxis);
  const base = applyOverrides(scenarioPath === undefined ? {} : readScenarioFile(scenarioPath), o.set);
  const points = expandGrid(axes, parseMaxPoints(o.maxPoints));
  checkSweepable(pointScenarios(base, points), points, mode); // refuse a bad point before running any
  checkOutputs(sweepOutputs(o));
  const shard = parseShard(o.shard, process.env);
  const indices = shardIndices(points.length, shard);
  const runs = positive('--runs', o.runs, 1);
  checkRunCount(points.length, runs, parseMaxPoints(o.maxPoints));
  const err = process.stderr;
  const say = (s: string): void => {
    if (!o.quiet) err.write(`${s}\n`);
  };
  printWarnings([...scenarioWarnings(base), ...overrideWarnings(o.set), ...paramWarnings(axes)], o.quiet);
  say(`migbench sweep: ${points.length} grid points${shard ? `, shard ${shard.index}/${shard.count}: ${indices.length} of them` : ''}, ${runs} run${runs > 1 ? 's' : ''} each${mode === 'simulate' && runs > 1 ? ' (a seed of its own each)' : ''}, ${howItRuns(mode, jobs, indices.length * runs)}`);
  const started = performance.now();
  const r = await withInterrupts(say, 'no result written', (signal) =>
    runSweep({
      base, axes, points, indices, shard, runs, mode, jobs, signal,
      onPoint: (done, total, p) => say(`[${done}/${total}] ${describePoint(p)}: ${Object.keys(p.outcomes).join(', ')}, total ${p.totalTimeMs === null ? '—' : formatDurationMs(p.totalTimeMs)}, downtime ${p.downtimeMs === null ? '—' : formatDurationMs(p.downtimeMs)} (${formatDurationMs(performance.now() - started)})`),
    }),
  );
  return 'done' in r ? writeSweep(r.done, o) : r.exitCode;
}

/** The files a sweep or merge writes, JSON first. */
const sweepOutputs = (o: { out?: string; csv?: string; html?: string }) => [
  { flag: '--out', path: o.out },
  { flag: '--csv', path: o.csv },
  { flag: '--html', path: o.html },
];

function writeSweep(doc: SweepDocument, o: { out?: string; csv?: string; json: boolean; quiet: boolean; html?: string }): number {
  const text = JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  const texts: Record<string, () => string> = { '--out': () => `${text}\n`, '--csv': () => sweepToCsv(doc), '--html': () => renderSweepReport(doc) };
  writeOutputs(requested(sweepOutputs(o).map((f) => ({ ...f, text: texts[f.flag] }))));
  if (o.json) process.stdout.write(`${text}\n`);
  else if (!o.quiet) {
    const frontier = new Set(paretoFrontier(doc.points).map((p) => p.index));
    process.stderr.write(`${pointsTable(doc.points, doc.axes, (p) => (frontier.has(p.index) ? 'frontier' : ''))}\n`);
  }
  return 0;
}

function readSweepFile(path: string): SweepDocument {
  return parseSweepDocument(readResultFile(path), path);
}

export function mergeCommand(files: string[], o: { out?: string; csv?: string; json: boolean; quiet: boolean }): number {
  checkOutputs(sweepOutputs(o));
  const merged = mergeSweeps(files.map(readSweepFile), files);
  if (merged.points.length !== merged.gridPoints) {
    process.stderr.write(`warning: ${merged.gridPoints - merged.points.length} of ${merged.gridPoints} grid points are missing (a shard not given?)\n`);
  }
  return writeSweep(merged, o);
}

/** Default candidates of the tuner's search keys. */
const SEARCH_DEFAULTS: Record<string, unknown[]> = {
  'precopy.policy': ['qemu', 'xen', 'hyperv', 'phaul', 'cloud-hypervisor', 'vmotion'],
  'precopy.downtimeLimitMs': [30, 100, 300, 1000],
  'precopy.autoConverge': [false, true],
};

export interface TuneCommandOptions {
  maxDowntime: string;
  objective: string;
  search?: string;
  param: string[];
  set: string[];
  runs?: string;
  mode?: string;
  jobs?: string;
  maxPoints?: string;
  apply?: string;
  /** `--emit SYSTEM FILE`: the recommendation's orchestrator settings in that system's format */
  emit?: string[];
  out?: string;
  json: boolean;
  quiet: boolean;
  html?: string;
}

export async function tuneCommand(scenarioPath: string | undefined, o: TuneCommandOptions): Promise<number> {
  const mode = parseMode(o.mode);
  const jobs = parseJobs(mode, o.jobs);
  const maxDowntimeMs = parseDurationMs(o.maxDowntime);
  if (maxDowntimeMs === null || maxDowntimeMs <= 0) throw new MigbenchError('E_USAGE', `--max-downtime: expected a duration like "300ms", got ${JSON.stringify(o.maxDowntime)}`);
  if (!(OBJECTIVES as readonly string[]).includes(o.objective)) throw new MigbenchError('E_USAGE', `--objective: expected one of ${OBJECTIVES.join(', ')}, got ${JSON.stringify(o.objective)}`);
  const objective = o.objective as Objective;
  const emit = parseEmit(o.emit);
  const custom = o.param.map(parseAxis);
  const keys = o.search !== undefined ? o.search.split(',').map((k) => k.trim()).filter(Boolean) : custom.length > 0 ? [] : ['precopy.policy', 'precopy.downtimeLimitMs'];
  const axes: Axis[] = [
    ...keys.map((key) => {
      const values = SEARCH_DEFAULTS[key];
      if (!values) throw new MigbenchError('E_USAGE', `--search: no default candidates for ${JSON.stringify(key)} (there are for ${Object.keys(SEARCH_DEFAULTS).join(', ')}); give your own with --param ${key}=v1,v2`);
      return { key, values };
    }),
    ...custom,
  ];
  const base = applyOverrides(scenarioPath === undefined ? {} : readScenarioFile(scenarioPath), o.set);
  const points = expandGrid(axes, parseMaxPoints(o.maxPoints));
  const scenarios = pointScenarios(base, points);
  checkSweepable(scenarios, points, mode);
  // whichever setting is recommended, its settings must be writable in the system's format: refused now, not after the runs
  if (emit) for (const s of scenarios) emitText(emit.system, s);
  checkOutputs([{ flag: '--out', path: o.out }, { flag: '--apply', path: o.apply }, { flag: '--emit', path: emit?.path }, { flag: '--html', path: o.html }]);
  const runs = positive('--runs', o.runs, 1);
  checkRunCount(points.length, runs, parseMaxPoints(o.maxPoints));
  const say = (s: string): void => {
    if (!o.quiet) process.stderr.write(`${s}\n`);
  };
  printWarnings([...scenarioWarnings(base), ...overrideWarnings(o.set), ...paramWarnings(custom)], o.quiet);
  say(`migbench tune: ${points.length} settings × ${runs} run${runs > 1 ? 's' : ''}, ${howItRuns(mode, jobs, points.length * runs)}; target downtime ≤ ${formatDurationMs(maxDowntimeMs)}, objective ${objective}`);
  const r = await withInterrupts(say, 'no recommendation', (signal) =>
    runSweep({
      base, axes, points, indices: points.map((_, i) => i), shard: null, runs, mode, jobs, signal,
      onPoint: (done, total, p) => say(`[${done}/${total}] ${describePoint(p)}: downtime ${p.downtimeMs === null ? '—' : formatDurationMs(p.downtimeMs)}, total ${p.totalTimeMs === null ? '—' : formatDurationMs(p.totalTimeMs)}`),
    }),
  );
  if (!('done' in r)) return r.exitCode;
  const doc: SweepDocument = r.done;
  const frontier = paretoFrontier(doc.points);
  const rec = recommend(doc.points, maxDowntimeMs, objective, describePoint);
  const recommended = rec.point?.params ?? null;
  writeOutputs(requested([
    { flag: '--out', path: o.out, text: () => `${JSON.stringify({ ...doc, tune: { maxDowntimeMs, objective, frontier: frontier.map((p) => p.index), recommendation: rec.point?.index ?? null, met: rec.met, why: rec.why } }, null, 2)}\n` },
    {
      flag: '--apply',
      path: recommended ? o.apply : undefined,
      text: () => `${JSON.stringify(JSON.parse(JSON.stringify(resolveScenario(applyOverrides(base, pointOverrides(recommended ?? {}))), (_k, v) => (v === Infinity ? 'unlimited' : v))), null, 2)}\n`,
    },
    { flag: '--emit', path: recommended ? emit?.path : undefined, text: () => emitText(emit!.system, resolveScenario(applyOverrides(base, pointOverrides(recommended ?? {})))) },
    { flag: '--html', path: o.html, text: () => renderSweepReport({ ...doc, tune: { maxDowntimeMs, objective, frontier: frontier.map((p) => p.index), recommendation: rec.point?.index ?? null } } as SweepDocument, { maxDowntimeMs }) },
  ]));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ maxDowntimeMs, objective, met: rec.met, recommendation: rec.point, why: rec.why, frontier, points: doc.points }, null, 2)}\n`);
  } else {
    // the table and the recommendation are for a person: stderr (the JSON, with --json, is data: stdout)
    const out = process.stderr;
    const c = colorsFor(out);
    const onFrontier = new Set(frontier.map((p) => p.index));
    const sorted = [...doc.points].sort((a, b) => (a.downtimeMs ?? Infinity) - (b.downtimeMs ?? Infinity));
    out.write(`${pointsTable(sorted, doc.axes, (p) => [p.index === rec.point?.index ? c.bold('← recommended') : '', onFrontier.has(p.index) ? 'frontier' : ''].filter(Boolean).join(' '))}\n`);
    out.write(`Pareto frontier (total time against downtime): ${frontier.map((p) => `#${p.index}`).join(', ') || 'none'}\n`);
    out.write(`${rec.met ? c.green('recommendation') : c.yellow('no setting meets the target')}: ${rec.point ? describePoint(rec.point) : '—'}\n${rec.why}\n`);
    if (o.apply && rec.point) out.write(`scenario with the recommendation written to ${o.apply}\n`);
  }
  if (emit && !o.quiet) process.stderr.write(rec.point ? `${emit.system} settings of the recommendation written to ${emit.path}\n` : `no recommendation: nothing written to ${emit.path}\n`);
  return 0;
}
