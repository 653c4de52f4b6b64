/**
 * Reading a sweep or tune file (what `migbench sweep --out` and `tune` write): `merge` and `report`
 * read them back. Trusts nothing: every field merge, the CSV, the points table and the report touch is
 * checked, and a file that is not a well-formed sweep document is refused with `E_RESULT` and a
 * one-line message naming the first problem (the key and what is wrong with it).
 */
import { MigbenchError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../json-depth.ts';
import type { SweepDocument } from '../results/sweep-types.ts';
import { isObject, isFiniteOrNull, describeValue, provenanceProblem } from '../results/json-checks.ts';
import { scenarioViewProblem } from '../results/scenario-view.ts';


const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;


/**
 * Check a parsed sweep (or tune) file. `label` (usually the file name) starts every message. Returns the
 * value itself, typed; throws `MigbenchError('E_RESULT')` naming the first problem.
 */
export function parseSweepDocument(raw: unknown, label: string): SweepDocument {
  const fail = (message: string): never => {
    throw new MigbenchError('E_RESULT', `${label}: ${message}`);
  };
  if (!isObject(raw)) return fail(`expected a JSON object (a migbench sweep file), got ${describeValue(raw)}`);
  // scenario and params are opaque values merge writes back out (JSON.stringify gives up on deep nesting)
  if (nestedDeeperThan(raw)) return fail(`nested more than ${MAX_JSON_DEPTH} levels deep (not a migbench sweep file)`);
  if (raw.kind !== 'sweep' || raw.schemaVersion !== 1) return fail('not a migbench sweep file (schemaVersion 1)');
  if (!isObject(raw.tool) || typeof raw.tool.name !== 'string' || typeof raw.tool.version !== 'string') return fail('tool: expected { name, version } strings');
  for (const key of ['startedAt', 'finishedAt'] as const) {
    if (typeof raw[key] !== 'string') return fail(`${key}: expected an ISO 8601 time, got ${describeValue(raw[key])}`);
  }
  const provenance = provenanceProblem(raw);
  if (provenance !== null) return fail(provenance);
  if (raw.mode !== undefined && raw.mode !== 'emulate' && raw.mode !== 'simulate') return fail(`mode: expected "emulate" or "simulate", got ${describeValue(raw.mode)}`);
  if (!isObject(raw.scenario)) return fail(`scenario: expected the resolved base scenario (an object), got ${describeValue(raw.scenario)}`);
  const scenario = scenarioViewProblem(raw.scenario, 'scenario');
  if (scenario !== null) return fail(scenario);
  if (!Array.isArray(raw.axes)) return fail(`axes: expected an array, got ${describeValue(raw.axes)}`);
  raw.axes.forEach((a: unknown, i: number) => {
    if (!isObject(a) || typeof a.key !== 'string' || a.key === '' || !Array.isArray(a.values) || a.values.length === 0) {
      fail(`axes[${i}]: expected { key, values } (a key path and a non-empty list), got ${describeValue(a)}`);
    }
  });
  if (!isCount(raw.gridPoints) || raw.gridPoints < 1) return fail(`gridPoints: expected a whole number >= 1, got ${describeValue(raw.gridPoints)}`);
  const shard = raw.shard;
  if (shard !== null && shard !== undefined) {
    if (!isObject(shard) || !isCount(shard.index) || !isCount(shard.count) || shard.index < 1 || shard.index > shard.count) {
      return fail(`shard: expected null or { index, count } with 1 <= index <= count, got ${describeValue(shard)}`);
    }
  }
  if (!isCount(raw.runs) || raw.runs < 1) return fail(`runs: expected a whole number >= 1, got ${describeValue(raw.runs)}`);
  if (!Array.isArray(raw.points)) return fail(`points: expected an array, got ${describeValue(raw.points)}`);
  const gridPoints = raw.gridPoints;
  const seen = new Set<number>();
  raw.points.forEach((p: unknown, i: number) => {
    const at = `points[${i}]`;
    if (!isObject(p)) return fail(`${at}: expected an object, got ${describeValue(p)}`);
    if (!isCount(p.index) || p.index >= gridPoints) fail(`${at}: index: expected a grid point from 0 to ${gridPoints - 1}, got ${describeValue(p.index)}`);
    // found by fuzzing: one file holding a point twice was refused as two overlapping slices (E_USAGE)
    if (seen.has(p.index as number)) fail(`${at}: grid point ${p.index as number} appears twice`);
    seen.add(p.index as number);
    if (!isObject(p.params)) fail(`${at}: params: expected an object, got ${describeValue(p.params)}`);
    for (const key of ['totalTimeMs', 'downtimeMs', 'transferredBytes', 'guestSlowdown'] as const) {
      if (!isFiniteOrNull(p[key])) fail(`${at}: ${key}: expected a number or null, got ${describeValue(p[key])}`);
    }
    if (!isCount(p.runs)) fail(`${at}: runs: expected a whole number, got ${describeValue(p.runs)}`);
    if (!isCount(p.completed) || p.completed > (p.runs as number)) fail(`${at}: completed: expected a whole number up to runs, got ${describeValue(p.completed)}`);
    if (!isObject(p.outcomes)) fail(`${at}: outcomes: expected an object of counts, got ${describeValue(p.outcomes)}`);
    for (const [outcome, n] of Object.entries(p.outcomes as object)) if (!isCount(n)) fail(`${at}: outcomes.${outcome}: expected a count, got ${describeValue(n)}`);
    if (!Array.isArray(p.runsDetail)) return fail(`${at}: runsDetail: expected an array, got ${describeValue(p.runsDetail)}`);
    p.runsDetail.forEach((r: unknown, k: number) => {
      const where = `${at}.runsDetail[${k}]`;
      if (!isObject(r)) return fail(`${where}: expected an object, got ${describeValue(r)}`);
      if (typeof r.outcome !== 'string') fail(`${where}: outcome: expected a string, got ${describeValue(r.outcome)}`);
      if (r.reason !== null && typeof r.reason !== 'string') fail(`${where}: reason: expected a string or null, got ${describeValue(r.reason)}`);
      if (r.verified !== null && typeof r.verified !== 'boolean') fail(`${where}: verified: expected true, false or null, got ${describeValue(r.verified)}`);
      for (const key of ['totalTimeMs', 'downtimeMs', 'transferredBytes', 'guestSlowdown'] as const) {
        if (!isFiniteOrNull(r[key])) fail(`${where}: ${key}: expected a number or null, got ${describeValue(r[key])}`);
      }
      if (!isCount(r.rounds)) fail(`${where}: rounds: expected a whole number, got ${describeValue(r.rounds)}`);
      if (r.seed !== undefined && !isFiniteOrNull(r.seed)) fail(`${where}: seed: expected a number, got ${describeValue(r.seed)}`);
    });
  });
  const tune = raw.tune;
  if (tune !== undefined) {
    if (!isObject(tune)) return fail(`tune: expected an object, got ${describeValue(tune)}`);
    if (typeof tune.maxDowntimeMs !== 'number' || !Number.isFinite(tune.maxDowntimeMs)) fail(`tune.maxDowntimeMs: expected a number, got ${describeValue(tune.maxDowntimeMs)}`);
    if (typeof tune.objective !== 'string') fail(`tune.objective: expected a string, got ${describeValue(tune.objective)}`);
    if (!Array.isArray(tune.frontier) || !tune.frontier.every(isCount)) fail(`tune.frontier: expected a list of point indices, got ${describeValue(tune.frontier)}`);
    if (tune.recommendation !== null && !isCount(tune.recommendation)) fail(`tune.recommendation: expected a point index or null, got ${describeValue(tune.recommendation)}`);
    if (tune.met !== undefined && typeof tune.met !== 'boolean') fail(`tune.met: expected true or false, got ${describeValue(tune.met)}`);
    if (tune.why !== undefined && typeof tune.why !== 'string') fail(`tune.why: expected a string, got ${describeValue(tune.why)}`);
  }
  return raw as unknown as SweepDocument;
}
