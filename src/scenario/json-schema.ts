/**
 * The JSON Schema (draft 2020-12) of a scenario file, made from the key table: every block closed
 * (`additionalProperties: false`), sizes, rates, page-write rates and durations as a number or a
 * string with a unit, enums, defaults, and each key's meaning as its description. Committed as
 * results/scenario.schema.json so an editor completes and checks a scenario file that names it in
 * `"$schema"`. Pure.
 *
 * The schema sees one key at a time: rules between keys (memory a multiple of the page size, …) and
 * exact unit arithmetic are migbench's to check; what the schema refuses, migbench refuses too.
 */
import { POLICY_NAMES } from '../precopy-params.ts';
import type { KeyDecl, NumberBounds } from './kinds.ts';
import { CHILDREN, leafOf } from './key-tree.ts';
import { POLICY_PARAM_KEYS } from './policy-params.ts';

type Schema = Record<string, unknown>;

/** `<number><spaces?><unit>` as units.ts reads it: an unsigned decimal, spaces around. */
const NUMBER = String.raw`\s*(\d+(\.\d+)?|\.\d+)\s*`;
/** Case-insensitive unit names as character classes ("b" is bits, "B" bytes: kept apart). */
export const UNIT_PATTERNS = {
  /** B | K M G T P (binary) | KiB … PiB | KB … PB (decimal); no lowercase b (bits) */
  size: String.raw`^${NUMBER}(B|[kKmMgGtTpP]([iI]?B)?)?\s*$`,
  /** bits or bytes per second with a decimal prefix, bytes with a binary one; or "unlimited" */
  rate: String.raw`^(${NUMBER}([kKmMgGtT]?([bB][iI][tT]|b|B)|[kKmMgGtT][iI]B)(\/[sS]|[pP][sS])|\s*[uU][nN][lL][iI][mM][iI][tT][eE][dD])\s*$`,
  /** events per second: 20000/s, 20k/s, 1.5M/s, or a bare number */
  perSecond: String.raw`^${NUMBER}[kKmMgG]?(\/[sS])?\s*$`,
  /** us µs ms s m min h; no unit = ms */
  duration: String.raw`^${NUMBER}([uUµμΜ][sS]|[mM][sS]|[sS]|[mM]([iI][nN])?|[hH])?\s*$`,
} as const;

/** What a plain number may be under the kind, narrowed by the rules. */
function numberSchema(base: NumberBounds, decl: KeyDecl): Schema {
  const b: { integer?: boolean; minimum?: number; maximum?: number; exclusiveMinimum?: number } = { ...base };
  for (const r of decl.rules ?? []) {
    const s = r.schema;
    if (!s) continue;
    if (s.integer) b.integer = true;
    if (s.minimum !== undefined) b.minimum = Math.max(b.minimum ?? -Infinity, s.minimum);
    if (s.maximum !== undefined) b.maximum = Math.min(b.maximum ?? Infinity, s.maximum);
    if (s.exclusiveMinimum !== undefined) b.exclusiveMinimum = Math.max(b.exclusiveMinimum ?? -Infinity, s.exclusiveMinimum);
  }
  if (b.exclusiveMinimum !== undefined && b.minimum !== undefined) {
    if (b.minimum > b.exclusiveMinimum) delete b.exclusiveMinimum;
    else delete b.minimum;
  }
  const out: Schema = { type: b.integer ? 'integer' : 'number' };
  for (const k of ['minimum', 'exclusiveMinimum', 'maximum'] as const) if (b[k] !== undefined) out[k] = b[k];
  return out;
}

const withUnit = (number: Schema, pattern: string): Schema => ({ anyOf: [number, { type: 'string', pattern }] });

/** The schema of the object of `block`'s keys. */
function blockSchema(block: string): Schema {
  const properties: Record<string, Schema> = {};
  for (const child of CHILDREN.get(block) ?? []) properties[leafOf(child.key)] = describedValue(child);
  return { type: 'object', additionalProperties: false, properties };
}

/** The schema of one value, without description or default. */
function valueSchema(decl: KeyDecl): Schema {
  switch (decl.kind) {
    case 'text': return { type: 'string', minLength: 1 };
    case 'number': return numberSchema({}, decl);
    case 'boolean': return { type: 'boolean' };
    case 'size': return withUnit(numberSchema({ integer: true, minimum: 0 }, decl), UNIT_PATTERNS.size);
    case 'rate': return withUnit(numberSchema({ exclusiveMinimum: 0 }, decl), UNIT_PATTERNS.rate);
    case 'perSecond': return withUnit(numberSchema({ minimum: 0 }, decl), UNIT_PATTERNS.perSecond);
    case 'duration': return withUnit(numberSchema({ minimum: 0 }, decl), UNIT_PATTERNS.duration);
    case 'enum': return { enum: [...(decl.values ?? [])] };
    case 'path': return { type: 'string', minLength: 1 };
    case 'annotation': return { type: 'string' };
    case 'block': return blockSchema(decl.key);
    case 'special': return decl.schema!({ children: blockSchema(decl.key), valueSchema: describedValue });
  }
}

/** A value's schema with its description (the meaning, and the unit) and default. */
function describedValue(decl: KeyDecl): Schema {
  let schema = valueSchema(decl);
  if (decl.nullable) {
    const keys = Object.keys(schema);
    schema = keys.length === 1 && keys[0] === 'anyOf' ? { anyOf: [...(schema.anyOf as Schema[]), { type: 'null' }] } : { anyOf: [schema, { type: 'null' }] };
  }
  const described = decl.kind === 'block' || decl.kind === 'annotation' ? decl.meaning : `${decl.meaning}. Unit: ${decl.unit}`;
  const out: Schema = { description: described, ...schema };
  if (decl.default !== undefined) out.default = decl.default;
  else if (decl.nullable && decl.derivedDefault === undefined) out.default = null;
  return out;
}

/**
 * precopy.policyParams takes the chosen policy's own parameters only (policy absent: qemu's): one
 * `if`/`then` per policy on the precopy block.
 */
function policyParamRules(): Schema[] {
  return POLICY_NAMES.map((policy) => ({
    // qemu's `if` holds when policy is absent too (a missing property passes `properties`)
    if: policy === 'qemu' ? { properties: { policy: { const: policy } } } : { properties: { policy: { const: policy } }, required: ['policy'] },
    then: {
      properties: {
        policyParams: POLICY_PARAM_KEYS[policy].length > 0 ? { type: 'object', propertyNames: { enum: [...POLICY_PARAM_KEYS[policy]] } } : { type: 'object', maxProperties: 0 },
      },
    },
  }));
}

/** The whole schema of a scenario file. */
export function scenarioJsonSchema(): Schema {
  const top = blockSchema('');
  const properties = top.properties as Record<string, Schema>;
  properties.precopy = { ...properties.precopy, allOf: policyParamRules() };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'migbench scenario',
    description: 'A migbench scenario file: every key optional; numbers in base units (bytes, bytes/s, page writes/s, ms), strings may carry a unit. Generated from src/scenario/keys.ts (npm run docs:scenario); migbench checks more than this schema can (rules between keys).',
    ...top,
  };
}

/** The schema as committed: two-space JSON and a final newline. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
