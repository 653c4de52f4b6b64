/**
 * The sweep document (`migbench sweep --out`; `migbench tune --out` adds a `tune` block): every grid
 * point's runs and medians. Types only; src/sweep/run-sweep.ts writes it, sweep-document.ts reads it
 * back, report/ renders it.
 */
import type { Objective, PointFigures } from './pareto.ts';
import type { EnvironmentInfo, GitInfo } from './environment.ts';
import type { SweepRun } from './sweep-figures.ts';

/** One axis of the grid: a scenario key and the values it takes. */
export interface Axis {
  key: string;
  values: unknown[];
}

/** Which part of the grid a shard runs (`--shard I/N`). */
export interface Shard {
  index: number; // 1-based
  count: number;
}

export type SweepMode = 'emulate' | 'simulate';

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
  /** emulate: real migrations, one at a time; simulate: the virtual-clock model, each run with its own seed */
  mode: SweepMode;
  /** the base scenario the grid overrides (resolved) */
  scenario: unknown;
  axes: Axis[];
  /** how many points the whole grid has; a shard runs some of them */
  gridPoints: number;
  shard: Shard | null;
  runs: number;
  points: SweepPoint[];
}

/** What `migbench tune --out` adds to a sweep document. */
export interface TuneBlock {
  maxDowntimeMs: number;
  objective: Objective;
  /** indices of the frontier's points */
  frontier: number[];
  /** index of the recommended point, or null */
  recommendation: number | null;
  met?: boolean;
  why?: string;
}
