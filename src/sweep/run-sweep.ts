/**
 * Running a sweep: every grid point of a base scenario, `runs` times each, one point at a time (in
 * emulate mode the points would disturb each other's timing if they ran together). The sweep document
 * keeps every run's figures and each point's medians.
 */
import { MigbenchError } from '../errors.ts';
import { applyOverrides, resolveScenario, scenarioToJson, type Scenario } from '../options.ts';
import type { ResultDocument } from '../results/document.ts';
import { captureEnvironment, captureGit, type EnvironmentInfo, type GitInfo } from '../results/environment.ts';
import { summarize } from '../results/statistics.ts';
import { runScenario } from '../run.ts';
import { VERSION } from '../version.ts';
import { pointOverrides, type Axis, type Shard } from './grid.ts';
import type { PointFigures } from './pareto.ts';

export interface SweepRun {
  outcome: string;
  reason: string | null;
  verified: boolean | null;
  totalTimeMs: number | null;
  downtimeMs: number | null;
  transferredBytes: number | null;
  rounds: number;
  guestSlowdown: number | null;
}

export interface SweepPoint extends PointFigures {
  runsDetail: SweepRun[];
  outcomes: Record<string, number>;
}

export interface SweepDocument {
  schemaVersion: 1;
  kind: 'sweep';
  tool: { name: 'migbench'; version: string };
  git: GitInfo;
  env: EnvironmentInfo;
  startedAt: string;
  finishedAt: string;
  mode: 'emulate';
  /** the base scenario the grid overrides (resolved) */
  scenario: unknown;
  axes: Axis[];
  /** how many points the whole grid has; a shard runs some of them */
  gridPoints: number;
  shard: Shard | null;
  runs: number;
  points: SweepPoint[];
}

/** One pre-copy run's figures. Guest slowdown: achieved ÷ asked page writes over the live rounds. */
export function runFigures(doc: ResultDocument): SweepRun {
  const p = doc.precopy!;
  const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy');
  const liveMs = live.reduce((a, r) => a + r.durationMs, 0);
  const slowdown = live.every((r) => r.guestSlowdown !== null) && liveMs > 0 ? live.reduce((a, r) => a + r.guestSlowdown! * r.durationMs, 0) / liveMs : null;
  const done = p.stats.status === 'completed' && p.verified === true;
  return {
    outcome: p.outcome,
    reason: p.reason,
    verified: p.verified,
    totalTimeMs: done ? p.stats['total-time'] : null,
    downtimeMs: done ? p.stats.downtime : null,
    transferredBytes: p.stats.ram.transferred,
    rounds: p.rounds.length,
    guestSlowdown: slowdown,
  };
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

export async function runSweep(options: {
  base: Record<string, unknown>;
  axes: Axis[];
  points: Record<string, unknown>[];
  indices: number[];
  shard: Shard | null;
  runs: number;
  signal?: AbortSignal;
  onPoint?: (done: number, total: number, point: SweepPoint) => void;
}): Promise<SweepDocument> {
  const startedAt = new Date().toISOString();
  const scenarios = pointScenarios(options.base, options.points);
  const out: SweepPoint[] = [];
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
  return {
    schemaVersion: 1,
    kind: 'sweep',
    tool: { name: 'migbench', version: VERSION },
    git: captureGit(),
    env: captureEnvironment(),
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: 'emulate',
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
    const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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

/** Join the shards of one sweep (same scenario, axes and runs) into one document. */
export function mergeSweeps(docs: SweepDocument[], labels: string[]): SweepDocument {
  if (docs.length === 0) throw new MigbenchError('E_USAGE', 'merge: no sweep files');
  const first = docs[0];
  const same = (d: SweepDocument): boolean =>
    JSON.stringify(d.axes) === JSON.stringify(first.axes) && JSON.stringify(d.scenario) === JSON.stringify(first.scenario) && d.runs === first.runs && d.gridPoints === first.gridPoints;
  docs.forEach((d, i) => {
    if (d.kind !== 'sweep' || d.schemaVersion !== 1) throw new MigbenchError('E_USAGE', `${labels[i]}: not a migbench sweep file (schemaVersion 1)`);
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
