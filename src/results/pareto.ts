/**
 * The trade-off of a sweep: the Pareto frontier of total time against downtime, and a recommendation
 * that meets a downtime target with the best objective. Pure; reads sweep points only.
 */

export type Objective = 'total-time' | 'bytes' | 'guest-slowdown';
export const OBJECTIVES: readonly Objective[] = ['total-time', 'bytes', 'guest-slowdown'];

export interface PointFigures {
  index: number;
  params: Record<string, unknown>;
  /** medians over the point's runs; null when no run completed */
  totalTimeMs: number | null;
  downtimeMs: number | null;
  transferredBytes: number | null;
  /** achieved ÷ asked page writes over the live rounds (1 = no slowdown) */
  guestSlowdown: number | null;
  /** runs that completed and verified, of all runs */
  completed: number;
  runs: number;
}

/** Points not dominated in (total time, downtime): nothing else is at least as good in both and better in one. */
export function paretoFrontier(points: readonly PointFigures[]): PointFigures[] {
  const ok = points.filter((p) => p.totalTimeMs !== null && p.downtimeMs !== null && p.completed === p.runs);
  return ok
    .filter((p) => !ok.some((q) => q !== p && q.totalTimeMs! <= p.totalTimeMs! && q.downtimeMs! <= p.downtimeMs! && (q.totalTimeMs! < p.totalTimeMs! || q.downtimeMs! < p.downtimeMs!)))
    .sort((a, b) => a.downtimeMs! - b.downtimeMs!);
}

/** The objective's value for a point (lower is better; slowdown inverted so that 1 = best). */
export function objectiveValue(p: PointFigures, objective: Objective): number | null {
  switch (objective) {
    case 'total-time':
      return p.totalTimeMs;
    case 'bytes':
      return p.transferredBytes;
    case 'guest-slowdown':
      return p.guestSlowdown === null ? null : 1 - p.guestSlowdown;
  }
}

export interface Recommendation {
  met: boolean;
  point: PointFigures | null;
  why: string;
}

export function recommend(points: readonly PointFigures[], maxDowntimeMs: number, objective: Objective, describe: (p: PointFigures) => string): Recommendation {
  const complete = points.filter((p) => p.completed === p.runs && p.downtimeMs !== null && p.totalTimeMs !== null);
  if (complete.length === 0) return { met: false, point: null, why: 'no setting completed a migration' };
  const meeting = complete.filter((p) => p.downtimeMs! <= maxDowntimeMs);
  if (meeting.length > 0) {
    const best = [...meeting].sort((a, b) => (objectiveValue(a, objective) ?? Infinity) - (objectiveValue(b, objective) ?? Infinity) || a.downtimeMs! - b.downtimeMs!)[0];
    return {
      met: true,
      point: best,
      why: `${meeting.length} of ${points.length} settings met the downtime target of ${maxDowntimeMs} ms; ${describe(best)} has the best ${objective} among them`,
    };
  }
  const closest = [...complete].sort((a, b) => a.downtimeMs! - b.downtimeMs!)[0];
  return {
    met: false,
    point: closest,
    why: `no setting met the downtime target of ${maxDowntimeMs} ms; the closest is ${describe(closest)} with ${closest.downtimeMs!.toFixed(0)} ms`,
  };
}
