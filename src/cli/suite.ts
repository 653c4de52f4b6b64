/**
 * `migbench suite FILE [--mode emulate|simulate] [--jobs N] [--runs N] [--warmup N] [--set key.path=value …]
 *  [--only method] [--out FILE] [--json] [--export github-action-benchmark=FILE] [--export bencher=FILE]`
 */
import { checkPostcopyMode } from '../postcopy/support.ts';
import { checkOrchestratorMode } from '../orchestrator/support.ts';
import cliProgress from 'cli-progress';
import { MigbenchError } from '../errors.ts';
import { METHODS, type Method } from '../results/document.ts';
import { toBencher, toGithubActionBenchmark } from '../results/export.ts';
import { suiteDocumentToJson } from '../results/suite-document.ts';
import { minSamplesForAlpha } from '../results/statistics.ts';
import { colorsFor } from '../report/style.ts';
import { MAX_MATRIX_POINTS, expandSuite } from '../suite/suite-file.ts';
import { printWarnings } from './scenario-warnings.ts';
import { runSuite } from '../suite/run-suite.ts';
import { checkResources } from '../resources.ts';
import { checkTimers } from '../timer-bounds.ts';
import { checkSimulatable } from '../sim/run-simulated.ts';
import { parseJobs, howItRuns, parseMaxPoints } from './sweep.ts';
import { formatDurationMs, plural } from '../units.ts';
import { parseMode } from './run.ts';
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { readScenarioFile } from './scenario-file.ts';
import { interruptedWord, watchInterrupts } from './interrupt.ts';
import { showProgressBar, terminalColumns } from './terminal.ts';
import { formatEta, nextBenchmark, suiteEtaMs } from './suite-eta.ts';
import { renderSuiteMedians } from './suite-medians.ts';

export interface SuiteCommandOptions {
  runs?: string;
  warmup?: string;
  set: string[];
  only?: string;
  mode?: string;
  jobs?: string;
  maxPoints?: string;
  out?: string;
  json: boolean;
  export: string[];
  quiet: boolean;
  /** --force: quick-migration images may replace regular files at quick.path (a suite file cannot ask for it) */
  force?: boolean;
}

const EXPORTERS = { 'github-action-benchmark': toGithubActionBenchmark, bencher: toBencher } as const;
type ExportKind = keyof typeof EXPORTERS;

function wholeNumber(flag: string, text: string | undefined, min: number): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new MigbenchError('E_USAGE', `${flag}: expected a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The first progress line: "migbench suite smoke: 2 benchmarks × (1 warm-up + 1 run), <how>". */
export function suitePlanLine(name: string, benchmarks: number, warmup: number, runs: number, how: string): string {
  return `migbench suite ${name}: ${plural(benchmarks, 'benchmark')} × (${warmup} warm-up + ${plural(runs, 'run')}), ${how}`;
}

/** The closing line (before the time taken): "suite smoke: 1 benchmark, 1 run each". */
export function suiteDoneLine(name: string, benchmarks: number, runs: number): string {
  return `suite ${name}: ${plural(benchmarks, 'benchmark')}, ${plural(runs, 'run')} each`;
}

export async function suiteCommand(path: string, o: SuiteCommandOptions): Promise<number> {
  const exports = o.export.map((e) => {
    const eq = e.indexOf('=');
    const kind = e.slice(0, eq) as ExportKind;
    if (eq <= 0 || !(kind in EXPORTERS) || eq === e.length - 1) {
      throw new MigbenchError('E_USAGE', `--export: expected github-action-benchmark=FILE or bencher=FILE, got ${JSON.stringify(e)}`);
    }
    return { kind, file: e.slice(eq + 1) };
  });
  if (o.only !== undefined && !(METHODS as readonly string[]).includes(o.only)) {
    throw new MigbenchError('E_USAGE', `--only: expected one of ${METHODS.join(', ')}, got ${JSON.stringify(o.only)}`);
  }
  const mode = parseMode(o.mode);
  const jobs = parseJobs(mode, o.jobs);
  const suite = expandSuite(readScenarioFile(path), o.set, parseMaxPoints(o.maxPoints, MAX_MATRIX_POINTS));
  if (o.only) suite.methods = [o.only as Method];
  checkOutputs([{ flag: '--out', path: o.out }, ...exports.map((e) => ({ flag: `--export ${e.kind}`, path: e.file }))]);
  for (const b of suite.benchmarks) {
    if (b.scenario.fleet) throw new MigbenchError('E_SCENARIO', `${b.name}: fleet: a suite measures one guest's migration (a host evacuation is \`run --mode simulate\`), got ${JSON.stringify(b.scenario.fleet)}`);
    try {
      if (suite.methods.includes('precopy')) {
        checkPostcopyMode(b.scenario, mode);
        checkOrchestratorMode(b.scenario, mode);
      }
      if (mode === 'simulate') checkSimulatable(b.scenario, suite.methods);
      else {
        checkResources(b.scenario, {}, suite.methods);
        checkTimers(b.scenario);
      }
    } catch (error) {
      if (error instanceof MigbenchError) throw new MigbenchError(error.code, `${b.name}: ${error.message}`);
      throw error;
    }
  }
  // Simulate mode: every run of a benchmark is the same (same seed, no timing noise), so one is enough
  // and nothing needs warming up; the suite file's runs and warmup are emulate-mode settings.
  const runs = wholeNumber('--runs', o.runs, 1) ?? (mode === 'simulate' ? 1 : suite.runs ?? 10);
  const warmup = wholeNumber('--warmup', o.warmup, 0) ?? (mode === 'simulate' ? 0 : suite.warmup ?? 1);

  const err = process.stderr;
  const c = colorsFor(err);
  const say = (line: string): void => {
    if (!o.quiet) err.write(`${line}\n`);
  };
  printWarnings(suite.warnings, o.quiet);
  say(c.dim(suitePlanLine(suite.name, suite.benchmarks.length, warmup, runs, `${suite.methods.join(' and ')}, ${howItRuns(mode, jobs, suite.benchmarks.length * (runs + warmup))}`)));
  if (mode === 'emulate' && runs < minSamplesForAlpha(0.05)) {
    say(c.yellow(`warning: --runs: ${plural(runs, 'run')} per benchmark cannot reach significance at alpha 0.05 when compared (the Mann-Whitney U test needs at least ${minSamplesForAlpha(0.05)}); compare will report this result as undecided`));
  }
  const bar = showProgressBar(err, o.quiet, process.env)
    ? new cliProgress.SingleBar(
        { format: ' {bar} {value}/{total} runs | ETA {left} | {benchmark}', stream: err, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const total = (runs + warmup) * suite.benchmarks.length;
  // the ETA: what each benchmark's completed runs took (src/cli/suite-eta.ts)
  const durationsMs: number[][] = suite.benchmarks.map(() => []);
  const byName = new Map(suite.benchmarks.map((b, i) => [b.name, i]));
  let lastDoneAt = performance.now();
  let done = 0;
  const etaText = (): string => {
    const now = performance.now();
    const current = mode === 'emulate' ? nextBenchmark(done, suite.benchmarks.length, total) : null;
    const left = suiteEtaMs({ durationsMs, warmup, remainingRuns: durationsMs.map((d) => runs + warmup - d.length), current, currentElapsedMs: now - lastDoneAt });
    return left === null ? '—' : formatEta(left);
  };
  bar?.start(total, 0, { benchmark: '', left: '—' });
  // the ETA counts down between runs too (a long run updates nothing else)
  const ticker = bar ? setInterval(() => bar.update({ left: etaText() }), 1000) : null;
  ticker?.unref();
  // Ctrl-C or SIGTERM: stop the current run, end the workers, write nothing, exit 130 / 143.
  const interrupts = watchInterrupts((signal) => {
    if (ticker) clearInterval(ticker);
    bar?.stop();
    say(c.yellow(`${interruptedWord(signal)}: stopping after the current run (${signal === 'SIGINT' ? 'Ctrl-C' : 'a signal'} again to quit at once)`));
  });
  const started = performance.now();
  try {
    const doc = await runSuite(suite, {
      runs,
      warmup,
      mode,
      jobs,
      signal: interrupts.signal,
      force: o.force,
      onProgress: (p) => {
        const now = performance.now();
        durationsMs[byName.get(p.benchmark) ?? 0].push(now - lastDoneAt);
        lastDoneAt = now;
        done = p.done;
        const what = `${p.benchmark} ${p.run === 0 ? 'warm-up' : `run ${p.run}/${runs}`}`;
        if (bar) bar.update(p.done, { benchmark: what, left: etaText() });
        else say(`[${p.done}/${p.total}] ${what} (${formatDurationMs(now - started)}${p.done < p.total ? `, about ${etaText()} left` : ''})`);
      },
    });
    if (ticker) clearInterval(ticker);
    bar?.stop();
    const text = suiteDocumentToJson(doc);
    writeOutputs(requested([
      { flag: '--out', path: o.out, text: () => `${text}\n` },
      ...exports.map((e) => ({ flag: `--export ${e.kind}`, path: e.file, text: () => `${JSON.stringify(EXPORTERS[e.kind](doc), null, 2)}\n` })),
    ]));
    if (o.json) process.stdout.write(`${text}\n`);
    say(`${suiteDoneLine(suite.name, doc.benchmarks.length, runs)}, in ${formatDurationMs(performance.now() - started)}${o.out ? `; written to ${o.out}` : ''}`);
    say(renderSuiteMedians(doc, c, terminalColumns(err)));
    return 0;
  } catch (error) {
    if (ticker) clearInterval(ticker);
    bar?.stop();
    if (error instanceof MigbenchError && error.code === 'E_INTERRUPTED') {
      say(c.yellow(`${interruptedWord(interrupts.received)}: no result written`));
      return interrupts.exitCode;
    }
    throw error;
  } finally {
    interrupts.dispose();
  }
}
