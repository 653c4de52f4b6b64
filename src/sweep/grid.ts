/**
 * Sweep grids: `--param key.path=v1,v2,…` axes, their cartesian product, and shards of it. Pure.
 */
import { MigbenchError } from '../errors.ts';
import type { Axis, Shard } from '../results/sweep-types.ts';

export type { Axis, Shard } from '../results/sweep-types.ts';

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
  return { key, values: parts.map(readValue) };
}

/** Every combination, first axis slowest; each point as { key: value }. */
export function expandGrid(axes: readonly Axis[]): Record<string, unknown>[] {
  const keys = axes.map((a) => a.key);
  if (new Set(keys).size !== keys.length) throw new MigbenchError('E_USAGE', `--param: a key given twice (${keys.join(', ')})`);
  let points: Record<string, unknown>[] = [{}];
  for (const axis of axes) points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v })));
  return points;
}

export function parseShard(text: string | undefined): Shard | null {
  if (text === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) {
    throw new MigbenchError('E_USAGE', `--shard: expected I/N with 1 <= I <= N, e.g. 2/4, got ${JSON.stringify(text)}`);
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
