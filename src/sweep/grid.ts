/**
 * Sweep grids: `--param key.path=v1,v2,…` axes, their cartesian product, and shards of it. Pure.
 */
import { MigbenchError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../json-depth.ts';
import type { Axis, Shard } from '../results/sweep-types.ts';
import { formatCount } from '../units.ts';
import { shardFromEnvironment, type Environment } from './shard-env.ts';

/** The most grid points a sweep or tune runs unless `--max-points` allows more. */
export const MAX_GRID_POINTS = 10_000;

/** Split on commas that are not inside brackets or quotes: `a,{"x":1,"y":2},b` → 3 values. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === '{' || ch === '[')) depth++;
    if (!quoted && (ch === '}' || ch === ']')) depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** A value as `--set` reads it: JSON when it parses, else the string. */
export function readValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function parseAxis(spec: string): Axis {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new MigbenchError('E_USAGE', `--param: expected key.path=v1,v2,… (e.g. precopy.downtimeLimitMs=30,100,300), got ${JSON.stringify(spec)}`);
  const key = spec.slice(0, eq).trim();
  if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) throw new MigbenchError('E_USAGE', `--param: bad key path ${JSON.stringify(key)}`);
  const parts = splitTop(spec.slice(eq + 1));
  if (parts.some((p) => p === '')) throw new MigbenchError('E_USAGE', `--param ${key}: empty value in ${JSON.stringify(spec.slice(eq + 1))}`);
  const values = parts.map(readValue);
  // refused before anything recurses into it (JSON.stringify in pointOverrides overflowed the stack)
  if (values.some((v) => nestedDeeperThan(v))) throw new MigbenchError('E_SCENARIO', `--param ${key}: a value nested more than ${MAX_JSON_DEPTH} levels deep (a scenario nests a few)`);
  return { key, values };
}

/** Points of the grid: the product of the axis lengths, counted without building any. */
export function gridSize(axes: readonly Axis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** Every combination, first axis slowest; each point as { key: value }. More than `maxPoints` are refused before any is built. */
export function expandGrid(axes: readonly Axis[], maxPoints: number = MAX_GRID_POINTS): Record<string, unknown>[] {
  const keys = axes.map((a) => a.key);
  if (new Set(keys).size !== keys.length) throw new MigbenchError('E_USAGE', `--param: a key given twice (${keys.join(', ')})`);
  const size = gridSize(axes);
  if (size > maxPoints) {
    throw new MigbenchError(
      'E_USAGE',
      `--param: the grid has ${formatCount(size)} points (${axes.map((a) => a.values.length).join(' × ')}), more than ${formatCount(maxPoints)}; give fewer values, or allow more with --max-points N`,
    );
  }
  let points: Record<string, unknown>[] = [{}];
  for (const axis of axes) points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v })));
  return points;
}

/**
 * A sweep builds one task per point and run before it starts: points × runs counts against the same
 * bound as the points (`--max-points`), checked before anything is built.
 */
export function checkRunCount(points: number, runs: number, maxPoints: number = MAX_GRID_POINTS): void {
  if (points * runs > maxPoints) {
    throw new MigbenchError(
      'E_USAGE',
      `--runs: ${formatCount(points)} points × ${formatCount(runs)} runs make ${formatCount(points * runs)} runs, more than ${formatCount(maxPoints)}; give fewer runs or values, or allow more with --max-points N`,
    );
  }
}

/** `--shard I/N`, or `--shard auto`: from a Kubernetes Indexed Job's environment (`env`; shard-env.ts). */
export function parseShard(text: string | undefined, env: Environment = {}): Shard | null {
  if (text === undefined) return null;
  if (text.trim() === 'auto') return shardFromEnvironment(env);
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) {
    throw new MigbenchError('E_USAGE', `--shard: expected I/N with 1 <= I <= N, e.g. 2/4, or auto (from JOB_COMPLETION_INDEX and JOB_COMPLETIONS), got ${JSON.stringify(text)}`);
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** The grid point indices a shard runs: every count-th point, starting at index − 1. */
export function shardIndices(points: number, shard: Shard | null): number[] {
  const all = Array.from({ length: points }, (_, i) => i);
  return shard ? all.filter((i) => i % shard.count === shard.index - 1) : all;
}

/** Overrides (`key=JSON`) for a point, as `applyOverrides` takes them. */
export function pointOverrides(point: Record<string, unknown>): string[] {
  return Object.entries(point).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
}
