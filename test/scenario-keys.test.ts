/**
 * The key table (src/scenario/keys.ts) is the one declaration of each scenario key (issue 13 item 5):
 * the README's "Scenario keys" table is the table's rendering, each declaration is complete, and the
 * resolver takes `$schema` (for editors) as a known key that it ignores.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { resolveScenario, SCENARIO_KEY_DECLS, SCENARIO_KEYS } from '../src/options.ts';
import { README_TABLE_END, README_TABLE_START, scenarioDocFiles, withReadmeTable } from '../src/scenario/doc-files.ts';
import { scenarioKeysMarkdown } from '../src/scenario/docs.ts';
import { CHILDREN } from '../src/scenario/key-tree.ts';

const root = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

function refusal(input: unknown): string {
  try {
    resolveScenario(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("README's scenario keys table", () => {
  it('is the table the key table makes (else: npm run docs:scenario)', () => {
    const readme = scenarioDocFiles(read).find((f) => f.path === 'README.md')!;
    expect(readme.current).toBe(readme.wanted);
    expect(readme.current).toContain(`${README_TABLE_START}\n${scenarioKeysMarkdown()}${README_TABLE_END}`);
  });

  it('a README whose table differs from the key table is found out (the check can fail)', () => {
    const readme = read('README.md');
    const edited = readme.replace('| `guest.vcpus` | count, 1 … 64 | 2 |', '| `guest.vcpus` | count, 1 … 64 | 4 |');
    expect(edited).not.toBe(readme);
    const file = scenarioDocFiles((path) => (path === 'README.md' ? edited : read(path))).find((f) => f.path === 'README.md')!;
    expect(file.current).not.toBe(file.wanted);
    expect(file.wanted).toBe(readme);
    expect(() => withReadmeTable('# no markers here\n', '| key |\n')).toThrow(/markers/);
  });

  it('has one row per documented key, in table order, with pipes escaped', () => {
    const md = scenarioKeysMarkdown().trimEnd().split('\n');
    expect(md.slice(0, 2)).toEqual(['| key | unit | default | meaning |', '|---|---|---|---|']);
    expect(md.slice(2).map((row) => /^\| `([^`]+)` \|/.exec(row)?.[1])).toEqual(SCENARIO_KEYS.map((k) => k.key));
    expect(md).toContain('| `precopy.onTimeout` | "cancel" \\| "force" | "cancel" | at the timeout: give up (the guest stays on the source) or stop and copy now |');
    // every row has four cells: no unescaped pipe inside one
    for (const row of md) expect(row.replace(/\\\|/g, '').split('|').length, row).toBe(6);
  });

  it('documents a block by its keys\' defaults', () => {
    expect(SCENARIO_KEYS.find((k) => k.key === 'precopy.xbzrle')!.default).toBe('{ "enabled": false, "cacheSize": "64MiB" }');
  });
});

describe('the key table', () => {
  it('declares each key once, with a unit and a meaning, and its parent block before it', () => {
    const keys = SCENARIO_KEY_DECLS.map((d) => d.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const d of SCENARIO_KEY_DECLS) {
      expect(d.meaning.length, d.key).toBeGreaterThan(0);
      expect(d.unit.length, d.key).toBeGreaterThan(0);
      const parent = d.key.includes('.') ? d.key.slice(0, d.key.lastIndexOf('.')) : null;
      if (parent !== null) expect(keys.indexOf(parent), `${d.key}: its block ${parent} is declared before it`).toBeGreaterThanOrEqual(0);
      if (parent !== null) expect(keys.indexOf(parent)).toBeLessThan(keys.indexOf(d.key));
      if (d.kind === 'enum') expect(d.values?.length, d.key).toBeGreaterThan(0);
      if (d.kind === 'special') expect(typeof d.resolve, d.key).toBe('function');
      if (d.kind === 'block') expect(CHILDREN.get(d.key)?.length, d.key).toBeGreaterThan(0);
    }
  });

  it('every declared default is valid: the scenario of all defaults resolves, and so does a fleet of defaults', () => {
    expect(() => resolveScenario({})).not.toThrow();
    expect(resolveScenario({ fleet: {} }).fleet).toEqual({ count: 1, concurrency: 1 });
    expect(resolveScenario({ precopy: { autoConverge: {} } }).precopy.autoConverge).toEqual({ initial: 20, increment: 10, max: 99, triggerThreshold: 50 });
  });

  it('a key is checked after the keys its rules read: a bad page size is named before the memory that depends on it', () => {
    expect(refusal({ guest: { memory: 0, pageSize: 3000 } })).toBe('guest.pageSize: must be a power of two, got 3000');
    expect(refusal({ workload: { writeBytes: 600 }, guest: { pageSize: 512 } })).toBe('workload.writeBytes: expected an integer from 1 to guest.pageSize (512), got 600');
  });
});

describe('$schema', () => {
  it('is accepted and ignored: the resolved scenario is the same without it', () => {
    const input = { $schema: './node_modules/migbench/results/scenario.schema.json', guest: { memory: '64MiB' } };
    expect(resolveScenario(input)).toEqual(resolveScenario({ guest: { memory: '64MiB' } }));
    expect(Object.keys(resolveScenario(input))).not.toContain('$schema');
  });

  it('must be a string, and only at the top level; it is not offered as a known key', () => {
    expect(refusal({ $schema: 5 })).toBe('$schema: expected a string, got 5');
    expect(refusal({ guest: { $schema: 'x' } })).toMatch(/^guest\.\$schema: unknown key \(known: memory, pageSize, vcpus, fill, deviceState\)/);
    expect(refusal({ zzz: 1 })).toBe('zzz: unknown key (known: name, seed, guest, workload, link, precopy, quick, postcopy, orchestrator, faults, fleet), got 1');
  });
});
