/**
 * Running a suite: every benchmark N times after warm-up, interleaved (run 1 of every benchmark, then
 * run 2, …) so slow drift of the machine spreads over all of them; every run's metrics kept as raw
 * samples; a crash or a failed verification stops the suite (exit 3), as in `run`.
 *
 * In simulate mode every run is simulated (on up to `jobs` threads: src/pool/pool.ts) with the
 * benchmark's own seed, so its runs are identical and every metric is `exact`: `compare` then tests
 * equality instead of running a U test.
 */
import type { Clock } from '../clock.ts';
import { MigbenchError } from '../errors.ts';
import type { ResultDocument } from '../results/document.ts';
import { captureEnvironment, captureGit } from '../results/environment.ts';
import { SUITE_SCHEMA_VERSION, metricSeries, type Better, type SuiteDocument, type SuiteMode } from '../results/suite-document.ts';
import { scenarioToJson } from '../options.ts';
import { runScenario } from '../run.ts';
import { checkImagePaths } from '../quick/image-file.ts';
import { simulateTasks, type SimTask } from '../pool/pool.ts';
import { metricsOf, type MetricValue } from '../results/suite-metrics.ts';
import { VERSION } from '../version.ts';
import type { ExpandedSuite } from './suite-file.ts';

/** A run that crashed or did not verify is a migbench failure: the suite stops. */
function checkRun(doc: ResultDocument, benchmark: string): void {
  for (const [name, r] of [['pre-copy', doc.precopy], ['quick migration', doc.quick]] as const) {
    if (!r) continue;
    if (r.outcome === 'errored') throw new MigbenchError('E_WORKER', `${benchmark}: ${name} failed: ${r.error}`);
    if (r.verified === false) throw new MigbenchError('E_VERIFY', `${benchmark}: ${name}: the destination differs from the source (a migbench bug)`);
  }
}

export interface SuiteProgress {
  /** runs finished so far, of `total` (warm-up included) */
  done: number;
  total: number;
  benchmark: string;
  /** 1-based measured run, or 0 for a warm-up run */
  run: number;
}

export async function runSuite(
  suite: ExpandedSuite,
  options: {
    runs: number;
    warmup: number;
    /** default emulate */
    mode?: SuiteMode;
    /** simulate mode: threads to run on (1: in this thread) */
    jobs?: number;
    signal?: AbortSignal;
    clock?: Clock;
    onProgress?: (p: SuiteProgress) => void;
    /** the command line's `--force` (never a suite key): quick-migration images may replace regular files at `quick.path` */
    force?: boolean;
  },
): Promise<SuiteDocument> {
  const startedAt = new Date().toISOString();
  const mode = options.mode ?? 'emulate';
  // every benchmark's quick.path, before the first run (simulate mode writes no image)
  if (mode === 'emulate' && suite.methods.includes('quick')) {
    checkImagePaths(suite.benchmarks.map((b) => ({ label: b.name, scenario: b.scenario, runs: options.runs + options.warmup })), options.force ?? false);
  }
  const samples = suite.benchmarks.map(() => new Map<string, { unit: string; better: Better; values: number[] }>());
  const total = (options.runs + options.warmup) * suite.benchmarks.length;
  let done = 0;
  const keep = (b: number, metrics: Record<string, MetricValue>): void => {
    for (const [metric, v] of Object.entries(metrics)) {
      const series = samples[b].get(metric) ?? { unit: v.unit, better: v.better, values: [] };
      series.values.push(v.value);
      samples[b].set(metric, series);
    }
  };
  // the runs in order: pass r (warm-up passes negative) of every benchmark, then pass r + 1
  const order: { r: number; b: number }[] = [];
  for (let r = -options.warmup; r < options.runs; r++) for (let b = 0; b < suite.benchmarks.length; b++) order.push({ r, b });
  if (mode === 'simulate') {
    const tasks: SimTask<'suite-metrics'>[] = order.map(({ b }) => ({ scenario: suite.benchmarks[b].scenario, methods: suite.methods, reduce: 'suite-metrics' }));
    const metrics = await simulateTasks(tasks, {
      jobs: options.jobs ?? 1,
      signal: options.signal,
      onResult: (t) => {
        const { r, b } = order[t];
        options.onProgress?.({ done: ++done, total, benchmark: suite.benchmarks[b].name, run: r >= 0 ? r + 1 : 0 });
      },
    });
    order.forEach(({ r, b }, t) => {
      if (r >= 0) keep(b, metrics[t]);
    });
  } else {
    for (const { r, b } of order) {
      if (options.signal?.aborted) throw new MigbenchError('E_INTERRUPTED', 'interrupted');
      const bench = suite.benchmarks[b];
      const doc = await runScenario(bench.scenario, { methods: suite.methods, signal: options.signal, clock: options.clock, force: options.force });
      if (options.signal?.aborted) throw new MigbenchError('E_INTERRUPTED', 'interrupted');
      checkRun(doc, bench.name);
      if (r >= 0) keep(b, metricsOf(doc));
      done++;
      options.onProgress?.({ done, total, benchmark: bench.name, run: r >= 0 ? r + 1 : 0 });
    }
  }
  const exact = mode === 'simulate';
  return {
    schemaVersion: SUITE_SCHEMA_VERSION,
    kind: 'suite',
    tool: { name: 'migbench', version: VERSION },
    suite: suite.name,
    git: captureGit(),
    env: captureEnvironment(),
    startedAt,
    finishedAt: new Date().toISOString(),
    mode,
    seed: suite.benchmarks[0]?.scenario.seed ?? null,
    runs: options.runs,
    warmup: options.warmup,
    benchmarks: suite.benchmarks.map((bench, b) => ({
      name: bench.name,
      scenario: scenarioToJson(bench.scenario),
      metrics: Object.fromEntries([...samples[b]].map(([metric, s]) => [metric, metricSeries(s.unit, s.better, s.values, exact)])),
    })),
  };
}
