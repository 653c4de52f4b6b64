/**
 * The documentation of the scenario keys, made from the key table: the rows (SCENARIO_KEYS, also
 * part of the library's surface) and the README's "Scenario keys" table in markdown. Pure.
 */
import type { KeyDecl } from './kinds.ts';
import { CHILDREN, leafOf } from './key-tree.ts';
import { SCENARIO_KEY_DECLS } from './keys.ts';

export interface ScenarioKeyDoc {
  readonly key: string;
  readonly unit: string;
  readonly default: string;
  readonly meaning: string;
}

/** The README's default column: written out, or the default as JSON (a block: its keys' defaults). */
function defaultDoc(decl: KeyDecl): string {
  if (decl.defaultDoc !== undefined) return decl.defaultDoc;
  if (decl.kind === 'block' && !decl.nullable) {
    return `{ ${(CHILDREN.get(decl.key) ?? []).map((c) => `${JSON.stringify(leafOf(c.key))}: ${JSON.stringify(c.default)}`).join(', ')} }`;
  }
  if (decl.default === undefined) return decl.nullable ? 'null' : '';
  return JSON.stringify(decl.default);
}

/** Every documented key (one README row each; sub-keys documented in their block's row are not). */
export const SCENARIO_KEYS: readonly ScenarioKeyDoc[] = SCENARIO_KEY_DECLS.filter((d) => d.row !== false).map((d) => ({
  key: d.key,
  unit: d.unit,
  default: defaultDoc(d),
  meaning: d.meaning,
}));

/** A markdown table cell: a pipe would end the cell, a line break the row. */
const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The README's "Scenario keys" table (between its markers), one row per documented key. */
export function scenarioKeysMarkdown(): string {
  const rows = SCENARIO_KEYS.map((k) => `| \`${k.key}\` | ${cell(k.unit)} | ${cell(k.default)} | ${cell(k.meaning)} |`);
  return ['| key | unit | default | meaning |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}
