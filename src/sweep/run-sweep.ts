/**
 * Running a sweep: every grid point of a base scenario, `runs` times each. Emulate mode runs one point
 * at a time (points running together would disturb each other's timing); simulate mode runs the points
 * on up to `jobs` threads (src/pool/pool.ts), and gives the same document whatever `jobs` is. The sweep
 * document keeps every run's figures and each point's medians.
 */
import { checkPostcopyMode } from '../postcopy/support.ts';
import { checkOrchestratorMode } from '../orchestrator/support.ts';
import { MigbenchError } from '../errors.ts';
import { applyOverrides, resolveScenario, scenarioToJson, type Scenario } from '../options.ts';
import { captureEnvironment, captureGit } from '../results/environment.ts';
import { summarize } from '../results/statistics.ts';
import { runScenario } from '../run.ts';
import { checkSimulatable } from '../sim/run-simulated.ts';
import { simulateTasks, type SimTask } from '../pool/pool.ts';
import { VERSION } from '../version.ts';
import { deriveSeed } from '../workload/rng.ts';
import { runFigures, type SweepRun } from '../results/sweep-figures.ts';
import type { SweepDocument, SweepMode, SweepPoint, Axis, Shard } from '../results/sweep-types.ts';
import { pointOverrides } from './grid.ts';

/** Streams of deriveSeed above those a run derives for itself (content 1–12, vCPUs 1000+, fleet guests 5000+). */
export const RUN_SEED_STREAM = 20_000;

/**
 * The seed of run `run` (0-based) of a point in simulate mode, where the same seed gives the same run:
 * the first run keeps the scenario's seed (a one-run sweep point is exactly `migbench run --mode
 * simulate` of that point), run k + 1 uses deriveSeed(seed, 20000 + k), so the runs are samples of
 * different guests' writes and contents. The seeds are the same at every point: a point differs from
 * another only by its parameters. Emulate mode keeps the scenario's seed for every run (its runs
 * differ by timing).
 */
export function runSeed(seed: number, run: number): number {
  return run === 0 ? seed : deriveSeed(seed, RUN_SEED_STREAM + run);
}

const median = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? summarize(v).median : null;
};

export function pointOf(index: number, params: Record<string, unknown>, runs: SweepRun[]): SweepPoint {
  const outcomes: Record<string, number> = {};
  for (const r of runs) {
    const k = r.reason ? `${r.outcome} (${r.reason})` : r.outcome;
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  }
  return {
    index,
    params,
    totalTimeMs: median(runs.map((r) => r.totalTimeMs)),
    downtimeMs: median(runs.map((r) => r.downtimeMs)),
    transferredBytes: median(runs.map((r) => r.transferredBytes)),
    guestSlowdown: median(runs.map((r) => r.guestSlowdown)),
    completed: runs.filter((r) => r.totalTimeMs !== null).length,
    runs: runs.length,
    runsDetail: runs,
    outcomes,
  };
}

/** Resolve every point's scenario up front, so a bad value is refused before anything runs. */
export function pointScenarios(base: Record<string, unknown>, points: Record<string, unknown>[]): Scenario[] {
  return points.map((point, i) => {
    try {
      return resolveScenario(applyOverrides(base, pointOverrides(point)));
    } catch (error) {
      if (error instanceof MigbenchError) throw new MigbenchError(error.code, `grid point ${i} (${pointOverrides(point).join(' ')}): ${error.message}`);
      throw error;
    }
  });
}

/**
 * Refuse what a sweep cannot run at any point, before anything runs: a fleet (a sweep tabulates one
 * guest's migration), and in simulate mode what the model cannot do.
 */
export function checkSweepable(scenarios: readonly Scenario[], points: Record<string, unknown>[], mode: SweepMode): void {
  scenarios.forEach((s, i) => {
    const at = `grid point ${i} (${pointOverrides(points[i]).join(' ') || 'the scenario as it is'})`;
    if (s.fleet) throw new MigbenchError('E_SCENARIO', `${at}: fleet: a sweep tabulates one guest's migration (a host evacuation is \`run --mode simulate\`), got ${JSON.stringify(s.fleet)}`);
    checkPostcopyMode(s, mode, at);
    checkOrchestratorMode(s, mode, at);
    if (mode === 'simulate') {
      try {
        checkSimulatable(s, ['precopy']);
      } catch (error) {
        if (error instanceof MigbenchError) throw new MigbenchError(error.code, `${at}: ${error.message}`);
        throw error;
      }
    }
  });
}

export async function runSweep(options: {
  base: Record<string, unknown>;
  axes: Axis[];
  points: Record<string, unknown>[];
  indices: number[];
  shard: Shard | null;
  runs: number;
  /** default emulate */
  mode?: SweepMode;
  /** simulate mode: threads to run points on (1: in this thread); emulate mode runs one at a time */
  jobs?: number;
  signal?: AbortSignal;
  onPoint?: (done: number, total: number, point: SweepPoint) => void;
}): Promise<SweepDocument> {
  const startedAt = new Date().toISOString();
  const mode = options.mode ?? 'emulate';
  const scenarios = pointScenarios(options.base, options.points);
  checkSweepable(scenarios, options.points, mode);
  const out: SweepPoint[] = [];
  if (mode === 'simulate') {
    // every run of every point is one task; a point is reported once its last run is in
    const tasks: SimTask<'sweep-run'>[] = options.indices.flatMap((i) =>
      Array.from({ length: options.runs }, (_, r) => ({ scenario: { ...scenarios[i], seed: runSeed(scenarios[i].seed, r) }, methods: ['precopy'], reduce: 'sweep-run' as const })),
    );
    const runs: SweepRun[] = new Array(tasks.length);
    const left = options.indices.map(() => options.runs);
    let done = 0;
    const runsOf = (k: number): SweepRun[] => runs.slice(k * options.runs, (k + 1) * options.runs);
    await simulateTasks(tasks, {
      jobs: options.jobs ?? 1,
      signal: options.signal,
      onResult: (t, run) => {
        runs[t] = run;
        const k = Math.floor(t / options.runs);
        if (--left[k] > 0) return;
        const i = options.indices[k];
        options.onPoint?.(++done, options.indices.length, pointOf(i, options.points[i], runsOf(k)));
      },
    });
    options.indices.forEach((i, k) => out.push(pointOf(i, options.points[i], runsOf(k))));
  } else {
    if ((options.jobs ?? 1) > 1) throw new MigbenchError('E_USAGE', `--jobs: emulate mode runs one migration at a time (migrations running together would disturb each other's timing); more than 1 needs --mode simulate, got ${options.jobs}`);
    for (const i of options.indices) {
      const runs: SweepRun[] = [];
      for (let r = 0; r < options.runs; r++) {
        if (options.signal?.aborted) throw new MigbenchError('E_INTERRUPTED', 'interrupted');
        const doc = await runScenario(scenarios[i], { methods: ['precopy'], signal: options.signal });
        if (options.signal?.aborted) throw new MigbenchError('E_INTERRUPTED', 'interrupted');
        if (doc.precopy!.verified === false) throw new MigbenchError('E_VERIFY', `grid point ${i}: the destination differs from the source (a migbench bug)`);
        if (doc.precopy!.outcome === 'errored') throw new MigbenchError('E_WORKER', `grid point ${i}: ${doc.precopy!.error}`);
        runs.push(runFigures(doc));
      }
      const point = pointOf(i, options.points[i], runs);
      out.push(point);
      options.onPoint?.(out.length, options.indices.length, point);
    }
  }
  return {
    schemaVersion: 1,
    kind: 'sweep',
    tool: { name: 'migbench', version: VERSION },
    git: captureGit(),
    env: captureEnvironment(),
    startedAt,
    finishedAt: new Date().toISOString(),
    mode,
    scenario: scenarioToJson(resolveScenario(options.base)),
    axes: options.axes,
    gridPoints: options.points.length,
    shard: options.shard,
    runs: options.runs,
    points: out,
  };
}

/** CSV of a sweep: one row per point (medians), the swept parameters as columns. */
export function sweepToCsv(doc: SweepDocument): string {
  const cell = (v: unknown): string => {
    // A text that a spreadsheet would read as a formula (=, +, -, @, tab, CR first) gets a leading
    // apostrophe: a value from a sweep file must not run in the spreadsheet that opens the CSV.
    const text = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    const s = text === null || text === undefined ? '' : typeof text === 'string' ? text : JSON.stringify(text);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = ['index', ...doc.axes.map((a) => a.key), 'outcome', 'completed', 'runs', 'total_time_ms', 'downtime_ms', 'transferred_bytes', 'rounds', 'guest_slowdown'];
  const rows = doc.points.map((p) => [
    p.index,
    ...doc.axes.map((a) => p.params[a.key]),
    Object.keys(p.outcomes).join('; '),
    p.completed,
    p.runs,
    p.totalTimeMs,
    p.downtimeMs,
    p.transferredBytes,
    median(p.runsDetail.map((r) => r.rounds)),
    p.guestSlowdown,
  ]);
  return [head, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** Join the shards of one sweep (same mode, scenario, axes and runs) into one document. */
export function mergeSweeps(docs: SweepDocument[], labels: string[]): SweepDocument {
  if (docs.length === 0) throw new MigbenchError('E_USAGE', 'merge: no sweep files');
  const first = docs[0];
  const same = (d: SweepDocument): boolean =>
    JSON.stringify(d.axes) === JSON.stringify(first.axes) && JSON.stringify(d.scenario) === JSON.stringify(first.scenario) && d.runs === first.runs && d.gridPoints === first.gridPoints;
  docs.forEach((d, i) => {
    if (d.kind !== 'sweep' || d.schemaVersion !== 1) throw new MigbenchError('E_RESULT', `${labels[i]}: not a migbench sweep file (schemaVersion 1)`);
    const mode = d.mode ?? 'emulate';
    const firstMode = first.mode ?? 'emulate';
    if (mode !== firstMode) throw new MigbenchError('E_USAGE', `${labels[i]}: a sweep in ${mode} mode, ${labels[0]} one in ${firstMode} mode: merge joins the slices of one sweep, run in one mode`);
    if (!same(d)) throw new MigbenchError('E_USAGE', `${labels[i]}: a slice of another sweep (its scenario, parameters or runs differ from ${labels[0]})`);
  });
  const byIndex = new Map<number, SweepPoint>();
  docs.forEach((d, i) => {
    for (const p of d.points) {
      if (byIndex.has(p.index)) throw new MigbenchError('E_USAGE', `${labels[i]}: grid point ${p.index} is in two slices`);
      byIndex.set(p.index, p);
    }
  });
  const points = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return {
    ...first,
    startedAt: docs.map((d) => d.startedAt).sort()[0],
    finishedAt: docs.map((d) => d.finishedAt).sort().at(-1)!,
    shard: points.length === first.gridPoints ? null : first.shard,
    points,
  };
}
