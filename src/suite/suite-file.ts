/**
 * A suite file: a named list of scenarios, or a base scenario with a parameter matrix (every
 * combination of the listed values). Expanded once into benchmarks with resolved scenarios; every
 * error names where in the suite it is.
 *
 *   { "name": "smoke", "runs": 5, "scenarios": [ { "name": "idle-16m", "guest": { … } }, … ] }
 *   { "name": "grid", "base": { … }, "matrix": { "workload.pattern": ["idle", "hotset"], "guest.memory": ["64MiB", "256MiB"] } }
 */
import { MigbenchError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../json-depth.ts';
import { applyOverrides, overrideWarnings, resolveScenario, scenarioWarnings, type Scenario } from '../options.ts';
import { nearest, orList } from '../suggest.ts';
import { METHODS, type Method } from '../results/document.ts';

export interface SuiteBenchmarkSpec {
  name: string;
  scenario: Scenario;
}

export interface ExpandedSuite {
  name: string;
  description: string | null;
  methods: Method[];
  runs: number | null;
  warmup: number | null;
  benchmarks: SuiteBenchmarkSpec[];
  /** what the scenarios or the overrides say that they may not mean (options.ts), each naming the benchmarks it is about */
  warnings: string[];
}

const KEYS = ['name', 'description', 'methods', 'runs', 'warmup', 'scenarios', 'base', 'matrix'];
/** The most benchmarks a matrix may expand to unless `--max-points` allows more (each is run `runs` times: far beyond any real suite). */
export const MAX_MATRIX_POINTS = 10_000;

/** A value for a message: its JSON, cut at 60 characters ("an array" / "an object" when it has none). */
function show(value: unknown): string {
  try {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return Array.isArray(value) ? 'an array' : typeof value === 'object' && value !== null ? 'an object' : String(value);
  }
}

function fail(where: string, rule: string, value: unknown): never {
  throw new MigbenchError('E_SCENARIO', `${where}: ${rule}, got ${show(value)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Resolve a scenario, prefixing any error with where it sits in the suite. */
function resolveAt(where: string, input: unknown): Scenario {
  try {
    return resolveScenario(input);
  } catch (error) {
    if (error instanceof MigbenchError) throw new MigbenchError(error.code, `${where}: ${error.message}`);
    throw error;
  }
}

function count(where: string, v: unknown): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 10_000) fail(where, 'expected a whole number from 0 to 10000', v);
  return v;
}

function label(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/[^A-Za-z0-9._/+-]+/g, '');
}

/** Expand a parsed suite file; `sets` (`--set key.path=value`) apply to every scenario. */
export function expandSuite(input: unknown, sets: readonly string[] = [], maxPoints: number = MAX_MATRIX_POINTS): ExpandedSuite {
  if (!isObject(input)) fail('suite', 'expected a JSON object', input);
  // found by fuzzing: a deeply nested value overflowed the stack (JSON.stringify in a message, structuredClone)
  if (nestedDeeperThan(input)) throw new MigbenchError('E_SCENARIO', `suite: nested more than ${MAX_JSON_DEPTH} levels deep (a suite nests a few)`);
  for (const k of Object.keys(input)) {
    if (KEYS.includes(k)) continue;
    const near = nearest(k, KEYS);
    fail(`suite.${k}`, near.length > 0 ? `unknown key (did you mean ${orList(near)}?); known: ${KEYS.join(', ')}` : `unknown key (known: ${KEYS.join(', ')})`, input[k]);
  }
  const name = input.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name)) fail('suite.name', 'expected a name of letters, digits, ".", "_" or "-"', name);
  const description = input.description === undefined ? null : String(input.description);
  let methods: Method[] = [...METHODS];
  if (input.methods !== undefined) {
    if (!Array.isArray(input.methods) || input.methods.length === 0 || !input.methods.every((m) => (METHODS as readonly unknown[]).includes(m))) {
      fail('suite.methods', `expected a non-empty list of ${METHODS.map((m) => `"${m}"`).join(', ')}`, input.methods);
    }
    methods = [...new Set(input.methods as Method[])];
  }
  const runs = count('suite.runs', input.runs);
  const warmup = count('suite.warmup', input.warmup);
  if (runs === 0) fail('suite.runs', 'must be at least 1', runs);

  const raw: { name: string; where: string; input: unknown }[] = [];
  if (input.scenarios !== undefined) {
    if (input.base !== undefined || input.matrix !== undefined) fail('suite', 'give either "scenarios" or "base" with "matrix", not both', Object.keys(input));
    if (!Array.isArray(input.scenarios) || input.scenarios.length === 0) fail('suite.scenarios', 'expected a non-empty list of scenarios', input.scenarios);
    input.scenarios.forEach((s, i) => {
      const where = `suite.scenarios[${i}]`;
      if (!isObject(s) || typeof s.name !== 'string' || s.name.length === 0) fail(`${where}.name`, 'every scenario of a suite needs a name', isObject(s) ? s.name : s);
      raw.push({ name: s.name, where, input: s });
    });
  } else if (input.matrix !== undefined) {
    const base = input.base ?? {};
    if (!isObject(base)) fail('suite.base', 'expected a scenario object', base);
    const matrix = input.matrix;
    if (!isObject(matrix) || Object.keys(matrix).length === 0) fail('suite.matrix', 'expected an object of key.path: [values]', matrix);
    const axes = Object.entries(matrix).map(([k, v]) => {
      if (!Array.isArray(v) || v.length === 0) fail(`suite.matrix["${k}"]`, 'expected a non-empty list of values', v);
      return { key: k, values: v as unknown[] };
    });
    // refused before expanding: a few long axes multiply into more benchmarks than memory holds
    const count = axes.reduce((n, a) => n * a.values.length, 1);
    if (count > maxPoints) fail('suite.matrix', `expands to more than ${maxPoints} benchmarks (give fewer values, or allow more with --max-points N)`, `${count} (${axes.map((a) => a.values.length).join(' × ')})`);
    let combos: { key: string; value: unknown }[][] = [[]];
    for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((value) => [...c, { key: axis.key, value }]));
    const prefix = typeof base.name === 'string' ? base.name : name;
    for (const combo of combos) {
      const point = combo.map(({ key, value }) => `${key.split('.').pop()}=${label(value)}`).join(',');
      const where = `suite.matrix point ${point}`;
      const scenario = applyOverrides(base, combo.map(({ key, value }) => `${key}=${JSON.stringify(value)}`));
      scenario.name = `${prefix}/${point}`;
      raw.push({ name: scenario.name as string, where, input: scenario });
    }
  } else {
    fail('suite', 'expected "scenarios" or "base" with "matrix"', Object.keys(input));
  }
  const seen = new Set<string>();
  const warned = new Map<string, string[]>();
  const benchmarks = raw.map(({ name: n, where, input: s }) => {
    if (seen.has(n)) fail(`${where}.name`, 'benchmark names must be unique in a suite', n);
    seen.add(n);
    const applied = applyOverrides(s, sets);
    const scenario = resolveAt(where, applied);
    for (const w of scenarioWarnings(applied)) warned.set(w, [...(warned.get(w) ?? []), n]);
    return { name: n, scenario };
  });
  const warnings = [
    ...[...warned].map(([w, names]) =>
      names.length === benchmarks.length && names.length > 1
        ? `${w} (every benchmark)`
        : `${w} (${names.slice(0, 3).map((n) => JSON.stringify(n)).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''})`,
    ),
    ...overrideWarnings(sets),
  ];
  return { name, description, methods, runs, warmup, benchmarks, warnings };
}
