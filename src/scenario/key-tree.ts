/**
 * The key table read as a tree: which keys each block holds ('' is the top level), in table order.
 * What unknown-key refusals list ("known: …") and what "did you mean" searches.
 */
import { nearest, orList } from '../suggest.ts';
import type { KeyDecl } from './kinds.ts';
import { SCENARIO_KEY_DECLS } from './keys.ts';
import { fail } from './refuse.ts';

/** The declaration of every key path. */
export const DECL_BY_KEY: ReadonlyMap<string, KeyDecl> = new Map(SCENARIO_KEY_DECLS.map((d) => [d.key, d]));

export const parentOf = (path: string): string => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '');
export const leafOf = (path: string): string => path.slice(path.lastIndexOf('.') + 1);

/** The declarations directly inside each block, in table order (annotations such as `$schema` included). */
export const CHILDREN: ReadonlyMap<string, readonly KeyDecl[]> = (() => {
  const out = new Map<string, KeyDecl[]>();
  for (const d of SCENARIO_KEY_DECLS) {
    const parent = parentOf(d.key);
    if (!out.has(parent)) out.set(parent, []);
    out.get(parent)!.push(d);
  }
  return out;
})();

/** The keys of every block, as a refusal lists them (annotations are accepted but not listed). */
export const BLOCK_KEYS: ReadonlyMap<string, readonly string[]> = new Map(
  [...CHILDREN].map(([block, decls]) => [block, decls.filter((d) => d.kind !== 'annotation').map((d) => leafOf(d.key))]),
);

/** Every key path of a scenario: `guest.memory`, `precopy.xbzrle.cacheSize`, … (blocks included; annotations not). */
export const SCENARIO_KEY_PATHS: readonly string[] = [...BLOCK_KEYS].flatMap(([block, keys]) => keys.map((k) => (block ? `${block}.${k}` : k)));

/**
 * "did you mean …" for an unknown key `k` in `block` ('' = top level), or null: a near spelling in
 * the same block first; else the same or a near name in another block (`downtimeLimitMs` at the top
 * → `precopy.downtimeLimitMs`, `guest.dirtyRate` → `workload.dirtyRate`); a dotted key that names a
 * path is told to nest.
 */
export function suggestKey(block: string, k: string): string | null {
  const full = block ? `${block}.${k}` : k;
  if (k.includes('.') && SCENARIO_KEY_PATHS.includes(full)) {
    const parts = full.split('.');
    return `a key is one name, not a path: nest it, { ${parts.map((p) => `"${p}": {`).join(' ').slice(0, -2)} … ${'}'.repeat(parts.length - 1)} }`;
  }
  const own = BLOCK_KEYS.get(block) ?? [];
  const same = nearest(k, own);
  if (same.length > 0) return `did you mean ${orList(same.map((c) => (block ? `${block}.${c}` : c)))}?`;
  const elsewhere = SCENARIO_KEY_PATHS.filter((path) => parentOf(path) !== block);
  const names = nearest(leafOf(k), elsewhere.map(leafOf));
  if (names.length === 0) return null;
  return `did you mean ${orList(elsewhere.filter((path) => names.includes(leafOf(path))).slice(0, 3))}?`;
}

/** Refuse the first key of `obj` that block `block` does not declare, with a suggestion where one is near. */
export function rejectUnknown(obj: Record<string, unknown>, block: string): void {
  const allowed = CHILDREN.get(block) ?? [];
  const listed = BLOCK_KEYS.get(block) ?? [];
  const prefix = block ? `${block}.` : '';
  for (const k of Object.keys(obj)) {
    if (allowed.some((d) => leafOf(d.key) === k)) continue;
    const hint = suggestKey(block, k);
    fail(`${prefix}${k}`, hint ? `unknown key (${hint}); known: ${listed.join(', ')}` : `unknown key (known: ${listed.join(', ')})`, obj[k]);
  }
}
