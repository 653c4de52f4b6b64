/**
 * The house's layout (DESIGN §3, issue 13 "a one-way house"), checked on the import graph of src/:
 * codec/ imports nothing else from src/; no import cycles between files or between folders; results/ and
 * report/ know documents, not the engine; sim/ starts no threads and sits below pool/, suite/ and sweep/; only
 * cli/ reaches cli/; process.exit only in cli/main.ts (and faults.ts, whose test fault ends a worker
 * thread on purpose).
 *
 * What main does not satisfy yet is listed in KNOWN, exactly: the test fails when a new violation
 * appears, and also when a listed one is gone (take it off the list), so the list only shrinks.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderOf, importCycles, readImportGraph, type ImportGraph } from './helpers/import-graph.ts';

type Rule = 'codec-imports-only-codec' | 'file-cycles' | 'folder-cycles' | 'documents-not-engine' | 'sim-below-pool' | 'only-cli-imports-cli' | 'process-exit-only-in-main';

/** Folders (or top-level files) that results/ and report/ must not import: the engine and what drives it. */
const ENGINE = ['precopy', 'quick', 'sim', 'memory', 'workload', 'transport', 'suite', 'sweep', 'pool', 'run.ts', 'cli'];
/** Files allowed to call process.exit. */
const PROCESS_EXIT_ALLOWED = ['cli/main.ts', 'faults.ts'];

/** Violations of main today (issue 13 moves them away). Each entry: `from -> to`, or a cycle as `a | b | …`. */
const KNOWN: Record<Rule, string[]> = {
  'codec-imports-only-codec': [],
  'file-cycles': [],
  'folder-cycles': [],
  'documents-not-engine': [],
  'sim-below-pool': [],
  'only-cli-imports-cli': [],
  'process-exit-only-in-main': [],
};

/** The folder graph: an edge between two folders (top-level files count as their own folder) when any file imports across. */
function folderGraph(graph: ImportGraph): ImportGraph {
  const folders: ImportGraph = new Map();
  for (const [file, facts] of graph) {
    const from = folderOf(file);
    if (!folders.has(from)) folders.set(from, { imports: [], packages: [], processExitLines: [] });
    for (const target of facts.imports) {
      const to = folderOf(target);
      const entry = folders.get(from)!;
      if (to !== from && !entry.imports.includes(to)) entry.imports.push(to);
    }
  }
  return folders;
}

/** Every rule's violations in `graph`, each list sorted. */
function layoutViolations(graph: ImportGraph): Record<Rule, string[]> {
  const found: Record<Rule, string[]> = {
    'codec-imports-only-codec': [],
    'file-cycles': importCycles(graph).map((cycle) => cycle.join(' | ')),
    'folder-cycles': importCycles(folderGraph(graph)).map((cycle) => cycle.join(' | ')),
    'documents-not-engine': [],
    'sim-below-pool': [],
    'only-cli-imports-cli': [],
    'process-exit-only-in-main': [],
  };
  for (const [file, facts] of graph) {
    const from = folderOf(file);
    for (const target of facts.imports) {
      const to = folderOf(target);
      const edge = `${file} -> ${target}`;
      if (from === 'codec' && to !== 'codec') found['codec-imports-only-codec'].push(edge);
      if ((from === 'results' || from === 'report') && ENGINE.includes(to)) found['documents-not-engine'].push(edge);
      if (from === 'sim' && (to === 'pool' || to === 'suite' || to === 'sweep' || to === 'cli')) found['sim-below-pool'].push(edge);
      if (from !== 'cli' && to === 'cli') found['only-cli-imports-cli'].push(edge);
    }
    if (from === 'sim') {
      for (const name of facts.packages) {
        if (name === 'piscina' || name === 'worker_threads' || name === 'node:worker_threads') found['sim-below-pool'].push(`${file} -> ${name}`);
      }
    }
    if (facts.processExitLines.length > 0 && !PROCESS_EXIT_ALLOWED.includes(file)) {
      found['process-exit-only-in-main'].push(`${file}:${facts.processExitLines.join(',')}`);
    }
  }
  for (const list of Object.values(found)) list.sort();
  return found;
}

const graph = readImportGraph(fileURLToPath(new URL('../src', import.meta.url)));
const found = layoutViolations(graph);

describe('the layout of src/', () => {
  it('reads the whole tree (the checks below are not vacuous)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('cli/main.ts')?.processExitLines.length).toBeGreaterThan(0);
    expect(graph.get('codec/page-cache.ts')?.imports).toContain('codec/xbzrle-encode.ts');
    // an `import('…').Type` reference counts as an import
    expect(graph.get('quick/quick-migration.ts')?.imports).toContain('memory/guest-memory.ts');
  });

  for (const rule of Object.keys(KNOWN) as Rule[]) {
    it(`${rule}: no new violation, and every known one still exists`, () => {
      const known = [...KNOWN[rule]].sort();
      const added = found[rule].filter((v) => !known.includes(v));
      const gone = known.filter((v) => !found[rule].includes(v));
      expect(added, `new ${rule} violations (fix them; do not list them)`).toEqual([]);
      expect(gone, `${rule}: fixed, take these off KNOWN in test/layout.test.ts`).toEqual([]);
    });
  }
});

describe('the layout checks', () => {
  const file = (imports: string[], packages: string[] = [], processExitLines: number[] = []) => ({ imports, packages, processExitLines });

  it('catch each kind of violation in a made-up tree', () => {
    const bad: ImportGraph = new Map([
      ['codec/a.ts', file(['precopy/loop.ts', 'codec/b.ts'])],
      ['codec/b.ts', file([])],
      ['precopy/loop.ts', file(['options.ts', 'cli/main.ts'])],
      ['options.ts', file(['precopy/loop.ts'])],
      ['results/doc.ts', file(['quick/q.ts', 'results/cmp.ts'])],
      ['results/cmp.ts', file(['results/doc.ts'])],
      ['quick/q.ts', file([])],
      ['sim/pool.ts', file(['suite/s.ts', 'pool/p.ts'], ['piscina'])],
      ['pool/p.ts', file([])],
      ['suite/s.ts', file([])],
      ['cli/main.ts', file([], [], [9])],
      ['cli/run.ts', file([], [], [3, 7])],
      ['faults.ts', file([], [], [5])],
    ]);
    expect(layoutViolations(bad)).toEqual({
      'codec-imports-only-codec': ['codec/a.ts -> precopy/loop.ts'],
      'file-cycles': ['options.ts | precopy/loop.ts', 'results/cmp.ts | results/doc.ts'],
      'folder-cycles': ['options.ts | precopy'],
      'documents-not-engine': ['results/doc.ts -> quick/q.ts'],
      'sim-below-pool': ['sim/pool.ts -> piscina', 'sim/pool.ts -> pool/p.ts', 'sim/pool.ts -> suite/s.ts'],
      'only-cli-imports-cli': ['precopy/loop.ts -> cli/main.ts'],
      'process-exit-only-in-main': ['cli/run.ts:3,7'],
    });
  });

  it('find a cycle through several files, and none in a tree that only flows one way', () => {
    const ring: ImportGraph = new Map([
      ['a.ts', file(['b.ts'])],
      ['b.ts', file(['c.ts'])],
      ['c.ts', file(['a.ts'])],
      ['d.ts', file(['a.ts'])],
    ]);
    expect(importCycles(ring)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    const oneWay: ImportGraph = new Map([
      ['a.ts', file(['b.ts', 'c.ts'])],
      ['b.ts', file(['c.ts'])],
      ['c.ts', file([])],
    ]);
    expect(importCycles(oneWay)).toEqual([]);
  });
});
