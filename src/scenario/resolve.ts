/**
 * Validate and resolve a scenario by walking the key table (keys.ts): unknown keys of the top level
 * and of the sections first, then every key in table order, each read by its kind and checked by its
 * rules; a key named in `after`, or read by a rule, is resolved first. The first refusal ends it.
 */
import { readValue, type KeyContext } from './kinds.ts';
import { CHILDREN, DECL_BY_KEY, leafOf, rejectUnknown } from './key-tree.ts';
import { fail, isPlainObject } from './refuse.ts';
import type { Scenario } from './types.ts';

/** The value at `path` in `input`, or undefined where a block on the way is not an object. */
export function valueAt(input: unknown, path: string): unknown {
  let node = input;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/**
 * Before any value: refuse unknown keys at the top level and in the sections (the top-level blocks
 * that are always objects: guest, workload, …), and a section that is not an object. Keys of the
 * blocks below (precopy.xbzrle, …) and of `fleet` are checked when their block is read.
 */
function rejectUnknownKeys(input: Record<string, unknown>): void {
  rejectUnknown(input, '');
  for (const decl of CHILDREN.get('') ?? []) {
    if (decl.kind !== 'block' || decl.nullable) continue;
    const v = input[decl.key];
    if (isPlainObject(v)) rejectUnknown(v, decl.key);
    else if (v !== undefined) readValue(decl, decl.key, v, NO_CONTEXT);
  }
}

const NO_CONTEXT: KeyContext = {
  get: () => { throw new Error('no key is read while unknown keys are checked'); },
  block: () => { throw new Error('no block is read while unknown keys are checked'); },
};

/** One resolution: each key resolved at most once, on first need. */
class Resolution implements KeyContext {
  private readonly resolved = new Map<string, unknown>();
  private readonly resolving = new Set<string>();

  constructor(private readonly input: Record<string, unknown>) {}

  get(path: string): unknown {
    if (this.resolved.has(path)) return this.resolved.get(path);
    const decl = DECL_BY_KEY.get(path);
    if (decl === undefined) throw new Error(`no scenario key ${path} is declared`);
    if (this.resolving.has(path)) throw new Error(`the rules of ${[...this.resolving].join(', ')} read each other`);
    this.resolving.add(path);
    for (const before of decl.after ?? []) this.get(before);
    const value = readValue(decl, path, valueAt(this.input, path), this);
    this.resolving.delete(path);
    this.resolved.set(path, value);
    return value;
  }

  block(path: string, value: Record<string, unknown>): Record<string, unknown> {
    rejectUnknown(value, path);
    const out: Record<string, unknown> = {};
    for (const decl of CHILDREN.get(path) ?? []) {
      const value = this.get(decl.key);
      if (decl.kind !== 'annotation') out[leafOf(decl.key)] = value;
    }
    return out;
  }
}

function deepFreeze<T>(o: T): T {
  if (isPlainObject(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validate and resolve a scenario. Throws MigbenchError E_SCENARIO on the first bad key. */
export function resolveScenario(input: unknown): Scenario {
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) fail('scenario', 'expected a JSON object', input);
  rejectUnknownKeys(input);
  return deepFreeze(new Resolution(input).block('', input)) as unknown as Scenario;
}
