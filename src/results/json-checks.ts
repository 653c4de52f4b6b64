/**
 * The small checks every reader of a result document shares (run, suite, sweep/tune, comparison): what a
 * parsed JSON value is, and how a one-line refusal names a bad value without printing all of it.
 */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const isFiniteOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));

/** A value as a message names it: short strings quoted, long ones cut, arrays and objects by kind. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const STRING_FIELDS = { tool: ['name', 'version'], git: ['commit', 'branch'], env: ['node', 'platform', 'arch', 'cpuModel'] } as const;

/**
 * The first problem of the fields that say where a document comes from, as the reports print them
 * (`startedAt`, `tool`, `git`, `env`), or null. Each may be absent or null; present, its printed keys
 * have their types (strings, `git.dirty` true/false, `env.cpuCount` a number) or are null.
 */
export function provenanceProblem(raw: Json): string | null {
  for (const k of ['startedAt', 'finishedAt'] as const) {
    if (raw[k] !== undefined && typeof raw[k] !== 'string') return `${k}: expected an ISO 8601 time, got ${describeValue(raw[k])}`;
  }
  for (const [block, keys] of Object.entries(STRING_FIELDS)) {
    const o = raw[block];
    if (o === undefined || o === null) continue;
    if (!isObject(o)) return `${block}: expected an object, got ${describeValue(o)}`;
    for (const k of keys) if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') return `${block}.${k}: expected a string or null, got ${describeValue(o[k])}`;
  }
  const git = raw.git;
  if (isObject(git) && git.dirty !== undefined && git.dirty !== null && typeof git.dirty !== 'boolean') return `git.dirty: expected true, false or null, got ${describeValue(git.dirty)}`;
  const env = raw.env;
  if (isObject(env) && env.cpuCount !== undefined && !isFiniteOrNull(env.cpuCount)) return `env.cpuCount: expected a number or null, got ${describeValue(env.cpuCount)}`;
  return null;
}
