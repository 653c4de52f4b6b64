/** `migbench run [scenario] [--set key.path=value …] [--json] [--out file]` */
import { MigbenchError } from '../errors.ts';
import { applyOverrides, overrideWarnings, resolveScenario, scenarioWarnings } from '../options.ts';
import { printWarnings } from './scenario-warnings.ts';
import type { RoundRecord } from '../results/migration-stats.ts';
import { METHODS, documentToJson, type Method } from '../results/document.ts';
import type { QuickPhases } from '../results/quick-result.ts';
import { colorsFor } from '../report/style.ts';
import { renderSummary } from '../report/summary.ts';
import { checkResources } from '../resources.ts';
import { checkTimers } from '../timer-bounds.ts';
import { runScenario } from '../run.ts';
import { formatBitRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { readScenarioFile } from './scenario-file.ts';
import { checkSimulatable, simulateScenario } from '../sim/run-simulated.ts';
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { qmpLogLines } from '../fit/qmp-export.ts';
import { renderRunReport } from '../report/html.ts';
import { faultFromEnvironment } from '../faults.ts';
import { predict } from '../sim/predict/predict.ts';
import { adviseAfterTimeout } from '../sim/predict/explain.ts';
import { maxSimulatedTimeoutMs } from '../sim/work-bound.ts';
import { interruptedWord, watchInterrupts } from './interrupt.ts';
import { LiveBar } from './live-bar.ts';
import { showProgressBar } from './terminal.ts';
import { checkPostcopyMode } from '../postcopy/support.ts';
import { checkOrchestratorMode } from '../orchestrator/support.ts';
import { failureLines, postcopyLines } from './postcopy-lines.ts';
import { orchestratorLines } from './orchestrator-lines.ts';
import { lazyRestoreLines } from './lazy-restore-lines.ts';

export interface RunCommandOptions {
  set: string[];
  json: boolean;
  out?: string;
  quiet: boolean;
  only?: string;
  html?: string;
  /** --qmp-log: the pre-copy progress as QEMU query-migrate replies (JSON lines), what `fit` reads */
  qmpLog?: string;
  mode?: string;
  /** --force: the quick-migration image may replace a regular file at quick.path */
  force?: boolean;
}

export type Mode = 'emulate' | 'simulate';
export const MODES: readonly Mode[] = ['emulate', 'simulate'];

/** `--mode`: emulate (real threads and bytes) or simulate (virtual clock). */
export function parseMode(value: string | undefined): Mode {
  const v = value ?? 'emulate';
  if (!(MODES as readonly string[]).includes(v)) throw new MigbenchError('E_USAGE', `--mode: expected one of ${MODES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as Mode;
}

const PHASE_NAMES: Record<keyof QuickPhases, string> = {
  pauseMs: 'paused (all vCPUs acknowledged)',
  saveMs: 'saved the image',
  fsyncMs: 'fsync',
  handoverMs: 'handed the storage over',
  restoreMs: 'restored into the destination',
  resumeMs: 'resumed',
};

export function roundLine(r: RoundRecord): string {
  const stage = r.stage.padEnd(13);
  const head = `round ${String(r.round).padStart(3)} ${stage}`;
  const sent = `sent ${formatCount(r.sentPages).padStart(9)} pages`;
  const link = formatBitRate(r.bandwidthBytesPerSec).padStart(12);
  if (r.stage === 'stop-and-copy') {
    return `${head} ${sent}  ${link}  dirty at final sync ${formatCount(r.dirtyPages)}  downtime ${formatDurationMs(r.durationMs)}`;
  }
  return `${head} ${sent}  ${link}  dirty at sync ${formatCount(r.dirtyPages).padStart(8)}  pending ${formatCount(r.pendingPages).padStart(8)}  expected downtime ${formatDurationMs(r.expectedDowntimeMs)}  (${formatDurationMs(r.durationMs)})`;
}

export async function runCommand(scenarioPath: string | undefined, options: RunCommandOptions): Promise<number> {
  const err = process.stderr;
  const c = colorsFor(err);
  const input = scenarioPath === undefined ? {} : readScenarioFile(scenarioPath);
  let methods: Method[] = [...METHODS];
  if (options.only !== undefined) {
    if (!(METHODS as readonly string[]).includes(options.only)) {
      throw new MigbenchError('E_USAGE', `--only: expected one of ${METHODS.join(', ')}, got ${JSON.stringify(options.only)}`);
    }
    methods = [options.only as Method];
  }
  const mode = parseMode(options.mode);
  const applied = applyOverrides(input, options.set);
  const scenario = resolveScenario(applied);
  // refuse before saying anything else
  if (mode === 'emulate') {
    checkResources(scenario, {}, methods);
    checkTimers(scenario);
    if (scenario.fleet) throw new MigbenchError('E_SCENARIO', `fleet: a host evacuation runs in simulate mode only (--mode simulate), got ${JSON.stringify(scenario.fleet)}`);
  } else checkSimulatable(scenario, methods);
  if (options.qmpLog !== undefined && !methods.includes('precopy')) throw new MigbenchError('E_USAGE', `--qmp-log: the log is of the pre-copy migration, which --only ${options.only} leaves out`);
  if (methods.includes('precopy')) {
    checkPostcopyMode(scenario, mode);
    checkOrchestratorMode(scenario, mode);
  }
  checkOutputs([{ flag: '--out', path: options.out }, { flag: '--html', path: options.html }, { flag: '--qmp-log', path: options.qmpLog }]);
  // tests only: MIGBENCH_TEST_FAULT makes one worker die mid-migration (src/faults.ts)
  const fault = mode === 'emulate' ? faultFromEnvironment() : undefined;
  // a live bar (a terminal only) while a guest is allocated and while a pre-copy round runs
  const bar = new LiveBar(err, mode === 'emulate' && showProgressBar(err, options.quiet, process.env));
  const say = (line: string): void => {
    bar.clear();
    if (!options.quiet) err.write(`${line}\n`);
  };
  let liveRound = 0;
  let roundPendingPages = scenario.guest.memory / scenario.guest.pageSize;
  const pages = (n: number): string => `${formatCount(n)} pages`;
  printWarnings([...scenarioWarnings(applied), ...overrideWarnings(options.set)], options.quiet);

  // Ctrl-C or SIGTERM: cancel the migration, end the workers, write nothing, exit 130 / 143.
  const interrupts = watchInterrupts((signal) =>
    say(c.yellow(`${interruptedWord(signal)}: cancelling the migration (${signal === 'SIGINT' ? 'Ctrl-C' : 'a signal'} again to quit at once)`)),
  );
  try {
    say(c.dim(`migbench: ${scenario.name}: ${formatBytes(scenario.guest.memory)} guest, ${scenario.guest.vcpus} vCPUs, ${scenario.workload.pattern} at ${formatCount(scenario.workload.dirtyRate)} page writes/s, link ${formatBitRate(scenario.link.bandwidth)}`));
    const doc =
      mode === 'simulate'
        ? await simulateScenario(scenario, {
            methods,
            signal: interrupts.signal,
            onPhase: (m) => say(c.dim(m)),
            onRound: scenario.fleet ? undefined : (r) => say(roundLine(r)),
          }).catch((error: unknown) => {
            if (error instanceof MigbenchError && error.code === 'E_INTERRUPTED') return null; // said below
            throw error;
          })
        : await runScenario(scenario, {
            methods,
            signal: interrupts.signal,
            fault,
            force: options.force,
            onPhase: (m) => say(c.dim(m)),
            onAllocation: (done, total) => bar.show('allocating', done, total, formatBytes),
            onRound: (r) => {
              say(roundLine(r));
              liveRound = r.round + 1;
              roundPendingPages = r.pendingPages;
            },
            onLive: (p) => bar.show(`round ${liveRound}`, p.roundPagesSent, roundPendingPages, pages),
            onQuickPhase: (phase, ms) => {
              // a lazy restore reads only the header, the index and the device state before the resume
              const name = phase === 'restoreMs' && scenario.quick.restore === 'lazy' ? 'read the index (lazy restore)' : PHASE_NAMES[phase];
              say(`quick   ${name.padEnd(32)} ${formatDurationMs(ms)}`);
            },
            onPostcopyStatus: (status, ms) => say(status === 'postcopy-paused' || status === 'postcopy-recover' ? c.yellow(`status  ${status.padEnd(32)} ${formatDurationMs(ms)}`) : `status  ${status.padEnd(32)} ${formatDurationMs(ms)}`),
          });
    if (doc === null || interrupts.signal.aborted) {
      // a lazy restore interrupted after the resume: the guest had left the source (quick-migration.ts stopped it)
      const where = doc?.quick?.lazy?.guestLost ? 'the guest was running on the destination (lazy restore) and is lost there' : 'the guest stays on the source';
      say(c.yellow(`${interruptedWord(interrupts.received)}: ${where}; no result written`));
      return interrupts.exitCode;
    }
    const text = documentToJson(doc);
    writeOutputs(requested([
      { flag: '--out', path: options.out, text: () => `${text}\n` },
      { flag: '--html', path: options.html, text: () => renderRunReport(doc) },
      { flag: '--qmp-log', path: options.qmpLog, text: () => (doc.precopy ? qmpLogLines(scenario, doc.precopy).join('') : '') },
    ]));
    if (options.json) process.stdout.write(`${text}\n`);
    if (options.html) say(c.dim(`HTML report written to ${options.html}`));
    if (!options.quiet) err.write(`${renderSummary(doc, c)}\n`);
    if (!options.quiet && doc.precopy) for (const line of [...orchestratorLines(doc.precopy, c), ...postcopyLines(doc.precopy, c), ...failureLines(doc.precopy, c)]) err.write(`${line}\n`);
    if (!options.quiet && doc.quick) for (const line of lazyRestoreLines(doc.quick, doc.mode === 'simulate', c)) err.write(`${line}\n`);
    if (options.out) say(c.dim(`result written to ${options.out}`));
    if (doc.precopy?.outcome === 'cancelled' && doc.precopy.reason === 'timeout') {
      const maxTimeoutMs = doc.mode === 'simulate' ? maxSimulatedTimeoutMs(scenario, methods) : Infinity;
      say(c.yellow(adviseAfterTimeout(scenario, predict(scenario).precopy, maxTimeoutMs)));
    }
    let code = 0;
    for (const [name, r] of [['pre-copy', doc.precopy], ['quick migration', doc.quick]] as const) {
      if (r?.outcome === 'errored') {
        err.write(`${c.red('error')}: ${name} failed: ${r.error}\n`);
        code = 3;
      }
      if (r?.verified === false) {
        err.write(`${c.red('E_VERIFY')}: ${name}: the destination differs from the source: this is a migbench bug, please report it\n`);
        code = 3;
      }
    }
    return code;
  } finally {
    bar.clear();
    interrupts.dispose();
  }
}
