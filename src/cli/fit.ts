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
import { resolveScenario, scenarioToJson } from '../options.ts';
import { colorsFor, type Colors } from '../report/style.ts';
import { formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { readTextFile } from './scenario-file.ts';

export interface FitCommandOptions {
  out?: string;
  json: boolean;
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
  checkOutputs([{ flag: '--out', path: options.out }]);
  const log = readQmpLog(readLog(logPath));
  const name = basename(logPath).replace(/\.(jsonl|json|log)$/i, '') || 'fitted';
  const fit = fitLog(log, name);
  const scenario = resolveScenario(fit.scenario);
  const replay = await replayFit(fit);
  const scenarioJson = scenarioToJson(scenario);
  writeOutputs(requested([{ flag: '--out', path: options.out, text: () => `${JSON.stringify(scenarioJson, null, 2)}\n` }]));
  if (options.json) process.stdout.write(`${JSON.stringify(fitDocument(logPath, fit, scenarioJson, replay), null, 2)}\n`);
  else process.stderr.write(`${renderFit(logPath, fit, replay, colorsFor(process.stderr))}\n`);
  return 0;
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
