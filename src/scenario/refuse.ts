/**
 * How a scenario is refused: one line naming the key, the rule and the value,
 * ``guest.memory: expected a size like "64MiB", got "64 potatoes"`` (MigbenchError E_SCENARIO).
 */
import { MigbenchError } from '../errors.ts';

/** A value as the refusal shows it: JSON, cut at 60 characters; `nothing` for undefined. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    // JSON.stringify gives up on deep nesting (and String() of a deep array too: found by fuzzing)
    return Array.isArray(value) ? 'an array' : typeof value === 'object' && value !== null ? 'an object' : String(value);
  }
}

/** Refuse `value` at `key` for breaking `rule`. */
export function fail(key: string, rule: string, value: unknown): never {
  throw new MigbenchError('E_SCENARIO', `${key}: ${rule}, got ${show(value)}`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
