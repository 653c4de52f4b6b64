/**
 * `fit LOG --what-if` (issue 17 item 4): the fitted guest through a grid of settings in simulate mode,
 * as `sweep` runs it, and the answer: the cheapest settings that converge within the downtime target
 * (`tune`'s ranking: src/results/pareto.ts). When the log's migration used XBZRLE, two questions more:
 * does the same guest converge without XBZRLE at the same bandwidth and settings, and with which of the
 * grid's settings would it? Pure: the plan of points and the answer from the points' figures; the CLI
 * runs them (src/sweep/run-sweep.ts).
 */
import { recommend, type Objective, type PointFigures } from '../results/pareto.ts';
import type { Axis, SweepPoint } from '../results/sweep-types.ts';
import { expandGrid } from '../sweep/grid.ts';
import type { FitResult } from './fit.ts';

const XBZRLE_KEY = 'precopy.xbzrle';
const XBZRLE_OFF = Object.freeze({ enabled: false });

/** What to run: the migration as logged, without XBZRLE (when it had it), then the grid. */
export interface WhatIfPlan {
  /** the grid's axes: the user's, plus XBZRLE on (as logged) and off when the log had it on and no axis names it */
  readonly axes: readonly Axis[];
  /** every point to run, in order: as logged, [without XBZRLE], then the grid */
  readonly points: readonly Record<string, unknown>[];
  /** index in `points` of the point without XBZRLE at the logged settings, or null (XBZRLE was off) */
  readonly withoutXbzrleIndex: number | null;
  /** index in `points` of the grid's first point */
  readonly gridStart: number;
}

export function whatIfPlan(fit: FitResult, userAxes: readonly Axis[], maxPoints: number): WhatIfPlan {
  const logged = fit.scenario.precopy?.xbzrle;
  const hadXbzrle = typeof logged === 'object' && logged !== null && logged.enabled === true;
  const names = (a: Axis): boolean => a.key === XBZRLE_KEY || a.key.startsWith(`${XBZRLE_KEY}.`);
  const axes = hadXbzrle && !userAxes.some(names) ? [...userAxes, { key: XBZRLE_KEY, values: [logged, XBZRLE_OFF] }] : [...userAxes];
  // the grid is refused before anything runs when it is larger than allowed (the extra points count too)
  const grid = expandGrid(axes, Math.max(0, maxPoints - (hadXbzrle ? 2 : 1)));
  const head: Record<string, unknown>[] = [{}];
  if (hadXbzrle) head.push({ [XBZRLE_KEY]: XBZRLE_OFF });
  return { axes, points: [...head, ...grid], withoutXbzrleIndex: hadXbzrle ? 1 : null, gridStart: head.length };
}

/** Every run of the point converged (no forced stop, no cancel). */
export const converged = (p: SweepPoint): boolean => p.runs > 0 && Object.keys(p.outcomes).every((k) => k === 'converged');

/** Is XBZRLE off at the point? (the grid's value, else the logged one) */
function xbzrleOff(p: SweepPoint, loggedOn: boolean): boolean {
  const v = p.params[XBZRLE_KEY];
  if (typeof v === 'object' && v !== null) return (v as { enabled?: unknown }).enabled !== true;
  const enabled = p.params[`${XBZRLE_KEY}.enabled`];
  if (typeof enabled === 'boolean') return !enabled;
  return !loggedOn;
}

export interface WhatIfChoice {
  /** a point that converged within the target and is the cheapest by the objective among those; null when none */
  readonly point: SweepPoint | null;
  readonly why: string;
}

export interface WhatIfAnswer {
  readonly maxDowntimeMs: number;
  readonly objective: Objective;
  readonly asLogged: SweepPoint;
  /** the logged settings without XBZRLE; null when the log had XBZRLE off */
  readonly withoutXbzrle: SweepPoint | null;
  /** over the grid */
  readonly best: WhatIfChoice;
  /** over the grid's points without XBZRLE; null when the log had XBZRLE off */
  readonly bestWithoutXbzrle: WhatIfChoice | null;
  readonly grid: readonly SweepPoint[];
}

/** The cheapest point that converged within the target (tune's ranking over the converging points). */
function choose(points: readonly SweepPoint[], maxDowntimeMs: number, objective: Objective, describe: (p: PointFigures) => string, what: string): WhatIfChoice {
  const ok = points.filter(converged);
  if (points.length === 0) return { point: null, why: `no ${what} to try` };
  if (ok.length === 0) return { point: null, why: `none of the ${points.length} ${what} converged` };
  const r = recommend(ok, maxDowntimeMs, objective, describe);
  if (!r.met || r.point === null) return { point: null, why: `${ok.length} of the ${points.length} ${what} converged, none within the downtime target of ${maxDowntimeMs} ms (the closest: ${r.point ? `${describe(r.point)}, ${r.point.downtimeMs!.toFixed(0)} ms` : '—'})` };
  const within = ok.filter((p) => p.downtimeMs !== null && p.downtimeMs <= maxDowntimeMs).length;
  return { point: points.find((p) => p.index === r.point!.index) ?? null, why: `${within} of the ${points.length} ${what} converged within ${maxDowntimeMs} ms; ${describe(r.point)} has the best ${objective} among them` };
}

/** The answer from the points run in the plan's order (pure). */
export function answerWhatIf(plan: WhatIfPlan, points: readonly SweepPoint[], maxDowntimeMs: number, objective: Objective, describe: (p: PointFigures) => string): WhatIfAnswer {
  const grid = points.slice(plan.gridStart);
  const loggedOn = plan.withoutXbzrleIndex !== null;
  return {
    maxDowntimeMs,
    objective,
    asLogged: points[0],
    withoutXbzrle: plan.withoutXbzrleIndex === null ? null : points[plan.withoutXbzrleIndex],
    best: choose(grid, maxDowntimeMs, objective, describe, 'settings'),
    bestWithoutXbzrle: loggedOn ? choose(grid.filter((p) => xbzrleOff(p, loggedOn)), maxDowntimeMs, objective, describe, 'settings without XBZRLE') : null,
    grid,
  };
}
