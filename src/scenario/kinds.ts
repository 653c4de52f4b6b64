/**
 * The vocabulary of the key table (keys.ts): what a key declaration says, the kinds of value a key
 * takes and how each is read (with its refusal), and the rules a number must keep. Pure: reading a
 * value either returns it in base units or refuses it with one line (refuse.ts).
 */
import { decimalSize, formatCount, parseDurationMs, parsePerSecond, parseRateBytesPerSec, parseSizeBytes, rateUnitHint, sizeUnitHint } from '../units.ts';
import { fail, isPlainObject } from './refuse.ts';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/**
 * How a key's value is read:
 * - `text` a non-empty string; `number` a finite number (integers by rule); `boolean` true or false;
 * - `size` bytes (`"64MiB"` or a number); `rate` bytes/s (`"1Gbit/s"`, `"unlimited"` or a number);
 *   `perSecond` events/s (`"20000/s"` or a number); `duration` ms (`"300ms"` or a number);
 * - `enum` one of `values`; `path` a non-empty file or folder name (or null);
 * - `block` an object whose keys are declared below it (`precopy.xbzrle` → `precopy.xbzrle.enabled`);
 * - `special` read by the declaration's own `resolve` (a shape no kind above has: `guest.fill`);
 * - `annotation` accepted and ignored (`$schema`, for editors), not part of the resolved scenario.
 */
export type ValueKind = 'text' | 'number' | 'boolean' | 'size' | 'rate' | 'perSecond' | 'duration' | 'enum' | 'path' | 'block' | 'special' | 'annotation';

/** What a JSON Schema can say of a plain number under a rule (it cannot see other keys). */
export interface NumberBounds {
  readonly integer?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
}

/** What a rule, a derived default or a special reader may ask while a scenario is resolved. */
export interface KeyContext {
  /** The resolved value of the key at `path` (resolved now if it was not yet: its refusal comes first). */
  get(path: string): unknown;
  /** The resolved keys of the block at `path`, read from `value` (unknown keys refused). */
  block(path: string, value: Record<string, unknown>): Record<string, unknown>;
}

/** A check on a value read as a number (after its unit): null when it holds, else the rule's words. */
export interface Rule {
  readonly check: (n: number, ctx: KeyContext, raw: unknown) => string | null;
  readonly schema?: NumberBounds;
}

/** What a special key's schema is made of (json-schema.ts fills these in). */
export interface SchemaParts {
  /** the object of the key's sub-keys: { type: "object", properties, additionalProperties: false } */
  readonly children: Record<string, unknown>;
  /** the schema of a value declared like a key (policy parameters) */
  readonly valueSchema: (decl: KeyDecl) => Record<string, unknown>;
}

/** One scenario key, declared once: validation, the README table and the JSON Schema come from here. */
export interface KeyDecl {
  /** the key's path: `guest.memory` */
  readonly key: string;
  readonly kind: ValueKind;
  /** README "unit" column: the unit and the range a person reads */
  readonly unit: string;
  /** the default, as a scenario file would write it ("1GiB", 4096, "cancel"); read like a value */
  readonly default?: JsonValue;
  /** README "default" column when it is not the default's JSON (a derived default, "null (no limit)") */
  readonly defaultDoc?: string;
  /** the default computed from other keys and the declared default (read in base units) */
  readonly derivedDefault?: (ctx: KeyContext, declared: unknown) => unknown;
  /** README "meaning" column and the schema's description (markdown: `code` allowed) */
  readonly meaning: string;
  /** keys resolved (and so checked) before this one, besides those its rules read */
  readonly after?: readonly string[];
  /** checks on the number, in order; the first that fails refuses the value */
  readonly rules?: readonly Rule[];
  /** the values of an `enum` */
  readonly values?: readonly string[];
  /** null is accepted (and is the default unless `default` says otherwise) */
  readonly nullable?: boolean;
  /** the words for a value of the wrong form, instead of the kind's ("expected an object") */
  readonly expected?: string;
  /** false: no README row of its own (documented in its block's row) */
  readonly row?: boolean;
  /** `special`: read the value (the declared default when absent) */
  readonly resolve?: (v: unknown, ctx: KeyContext) => unknown;
  /** `special`: its JSON Schema (description and default are added), from its sub-keys' object schema and the schema of any value declaration */
  readonly schema?: (parts: SchemaParts) => Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

export function rule(check: Rule['check'], schema?: NumberBounds): Rule {
  return schema ? { check, schema } : { check };
}

/** An integer from min to max: "expected an integer from 1 to 64". */
export const integerFrom = (min: number, max: number): Rule =>
  rule((n) => (Number.isInteger(n) && n >= min && n <= max ? null : `expected an integer from ${min} to ${max}`), { integer: true, minimum: min, maximum: max });

/** An integer of at least min, in the words given. */
export const integerAtLeast = (min: number, words = `expected an integer >= ${min}`): Rule =>
  rule((n) => (Number.isInteger(n) && n >= min ? null : words), { integer: true, minimum: min });

export const greaterThanZero: Rule = rule((n) => (n > 0 ? null : 'must be greater than 0'), { exclusiveMinimum: 0 });

export const notNegative: Rule = rule((n) => (n < 0 ? 'must not be negative' : null), { minimum: 0 });

/** From lo to hi (inclusive), in the words given. */
export const between = (lo: number, hi: number, words: string): Rule => rule((n) => (n >= lo && n <= hi ? null : words), { minimum: lo, maximum: hi });

/** At most max, in the words given. */
export const atMost = (max: number, words: string): Rule => rule((n) => (n <= max ? null : words), { maximum: max });

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * The rule for a size refused for its value when the user wrote it with a decimal unit (a likely
 * slip for the binary one): `"1GB" is decimal, 1,000,000,000 bytes, not a multiple of …; write
 * "1GiB" for 1,073,741,824 bytes`. null when the value has no decimal unit.
 */
export function decimalRefusal(v: unknown, why: string): string | null {
  const d = decimalSize(v);
  if (d === null) return null;
  const binary = d.binary === null ? null : parseSizeBytes(d.binary);
  return `${JSON.stringify(v)} is decimal, ${formatCount(d.bytes)} bytes, ${why}${binary === null ? '; binary units are KiB, MiB, GiB, TiB' : `; write "${d.binary}" for ${formatCount(binary)} bytes`}`;
}

// ---------------------------------------------------------------------------
// Reading a value of each kind
// ---------------------------------------------------------------------------

/** The words for a value of the wrong form, per kind (a declaration's `expected` comes first). */
export function expectedWords(decl: Pick<KeyDecl, 'kind' | 'values' | 'expected'>, v: unknown): string {
  if (decl.expected) return decl.expected;
  switch (decl.kind) {
    case 'text': return 'expected a non-empty string';
    case 'number': return 'expected a number';
    case 'boolean': return 'expected true or false';
    case 'size': {
      const hint = sizeUnitHint(v);
      return hint ? `expected a size like "64MiB" (${hint})` : 'expected a size like "64MiB"';
    }
    case 'rate': {
      const hint = rateUnitHint(v);
      return hint ? `expected a rate like "1Gbit/s", "128MiB/s" or "unlimited" (${hint})` : 'expected a rate like "1Gbit/s", "128MiB/s" or "unlimited"';
    }
    case 'perSecond': return 'expected events per second like "20000/s"';
    case 'duration': return 'expected milliseconds (a number, or a string like "300ms")';
    case 'enum': return `expected one of ${(decl.values ?? []).map((a) => `"${a}"`).join(', ')}`;
    case 'path': return 'expected a non-empty path or null';
    case 'block': return 'expected an object';
    case 'annotation': return 'expected a string';
    case 'special': return 'expected a valid value';
  }
}

/** The value's reading in base units, or null when it is not of the kind's form. */
function parse(decl: Pick<KeyDecl, 'kind' | 'values'>, v: unknown): unknown {
  switch (decl.kind) {
    case 'text': return typeof v === 'string' && v.length > 0 ? v : null;
    case 'number': return typeof v === 'number' && Number.isFinite(v) ? v : null;
    case 'boolean': return typeof v === 'boolean' ? v : null;
    case 'size': return parseSizeBytes(v);
    case 'rate': return parseRateBytesPerSec(v);
    case 'perSecond': return parsePerSecond(v);
    case 'duration': return parseDurationMs(v);
    case 'enum': return typeof v === 'string' && (decl.values ?? []).includes(v) ? v : null;
    case 'path': return typeof v === 'string' && v.length > 0 ? v : null;
    case 'annotation': return typeof v === 'string' ? v : null;
    case 'block': return isPlainObject(v) ? v : null;
    case 'special': return v;
  }
}

/**
 * Read the value `v` given for `key` (undefined when absent): its default, null where null is
 * accepted, or the value in base units after every rule held. Refuses with one line otherwise.
 */
export function readValue(decl: KeyDecl, key: string, v: unknown, ctx: KeyContext): unknown {
  if (decl.kind === 'special') return decl.resolve!(v === undefined ? decl.default : v, ctx);
  if (v === undefined) return defaultValue(decl, key, ctx);
  if (v === null && decl.nullable) return null;
  const parsed = parse(decl, v);
  if (parsed === null) fail(key, expectedWords(decl, v), v);
  if (decl.kind === 'block') return ctx.block(key, parsed as Record<string, unknown>);
  for (const r of decl.rules ?? []) {
    const problem = r.check(parsed as number, ctx, v);
    if (problem) fail(key, problem, v);
  }
  return parsed;
}

/** A key's default in base units (rules are not applied: a default keeps them). */
function defaultValue(decl: KeyDecl, key: string, ctx: KeyContext): unknown {
  if (decl.kind === 'block') return decl.nullable ? null : ctx.block(key, {});
  let declared: unknown = null;
  if (decl.default !== undefined && decl.default !== null) {
    declared = parse(decl, decl.default);
    if (declared === null) throw new Error(`the default of ${key} is not a valid ${decl.kind}: ${JSON.stringify(decl.default)}`);
  }
  return decl.derivedDefault ? decl.derivedDefault(ctx, declared) : declared;
}
