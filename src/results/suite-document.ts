/**
 * The suite result document: one JSON file per `migbench suite` invocation, `schemaVersion: 1`,
 * `kind: "suite"` (documented in results/README.md). Every benchmark (a resolved scenario) keeps, per
 * metric, its unit, its direction, whether it is deterministic for a seed, every raw sample (one per
 * measured run) and a summary of them. `compare` reads two of these; it recomputes summaries from the
 * samples, which are the source of truth.
 */
import { MigbenchError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../json-depth.ts';
import type { EnvironmentInfo, GitInfo } from './environment.ts';
import { summarize } from './statistics.ts';
import type { Summary } from './statistics.ts';
import { isObject, describeValue, provenanceProblem } from './json-checks.ts';

export const SUITE_SCHEMA_VERSION = 1;

export type Better = 'lower' | 'higher';

/** emulate: measured on this machine (samples vary); simulate: the virtual-clock model (every metric exact) */
export type SuiteMode = 'emulate' | 'simulate';

export interface MetricSeries {
  /** 'ms', 'B', 'B/s' are formatted with units; anything else ('count', 'rounds', '') prints plain */
  unit: string;
  better: Better;
  /**
   * true when the metric is deterministic for a seed (simulate mode): compared for equality
   * (benchstat assume=exact), even with one sample
   */
  exact: boolean;
  /** one value per measured run, in run order (warm-up runs excluded) */
  samples: number[];
  summary: Summary;
}

export interface SuiteBenchmark {
  /** unique within the suite; how benchmarks are paired across two files */
  name: string;
  /** the resolved scenario the benchmark ran (opaque here) */
  scenario: unknown;
  /** keyed by metric name, e.g. "precopy.total-time", "precopy.downtime", "quick.downtime" */
  metrics: Record<string, MetricSeries>;
}

export interface SuiteDocument {
  schemaVersion: typeof SUITE_SCHEMA_VERSION;
  kind: 'suite';
  tool: { name: string; version: string };
  /** the suite's name; only suites of the same name are compared */
  suite: string;
  git: GitInfo;
  env: EnvironmentInfo;
  startedAt: string;
  finishedAt: string;
  /** how the runs were made; files written before simulate mode have none and are emulate-mode results */
  mode: SuiteMode;
  seed: number | null;
  /** measured runs per benchmark */
  runs: number;
  /** warm-up runs per benchmark (not in the samples) */
  warmup: number;
  benchmarks: SuiteBenchmark[];
}

/** A metric series with its summary computed from the samples (for the suite runner and tests). */
export function metricSeries(unit: string, better: Better, samples: number[], exact = false, confidence = 0.95): MetricSeries {
  return { unit, better, exact, samples: [...samples], summary: summarize(samples, confidence) };
}

/** JSON text of a suite document: non-finite numbers become null (JSON has no Infinity). */
export function suiteDocumentToJson(doc: SuiteDocument): string {
  return JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------




/**
 * Parse and check the JSON text of a suite result file. `label` (usually the file name) starts every
 * message. Throws `MigbenchError('E_RESULT')` with a one-line message naming the first problem: not JSON,
 * not an object, a missing or unsupported schemaVersion, a kind other than "suite", or a malformed
 * benchmark, metric or sample (naming them). Summaries are recomputed from the samples; a missing
 * `exact` means false, a missing `mode` means "emulate".
 */
export function parseSuiteDocument(text: string, label: string): SuiteDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // the first line only: V8 quotes the text around the bad token, newlines and all (found by fuzzing)
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new MigbenchError('E_RESULT', `${label}: not a JSON file (${why})`);
  }
  return checkSuiteDocument(raw, label);
}

/** As `parseSuiteDocument`, for a value already parsed from JSON. */
export function checkSuiteDocument(raw: unknown, label: string): SuiteDocument {
  const fail = (message: string): never => {
    throw new MigbenchError('E_RESULT', `${label}: ${message}`);
  };
  if (!isObject(raw)) return fail(`expected a JSON object (a migbench suite result), got ${describeValue(raw)}`);
  if (nestedDeeperThan(raw)) return fail(`nested more than ${MAX_JSON_DEPTH} levels deep (not a migbench suite result)`);

  if (!('schemaVersion' in raw)) {
    return fail(`schemaVersion is missing: not a migbench suite result (this migbench reads schemaVersion ${SUITE_SCHEMA_VERSION})`);
  }
  if (raw.schemaVersion !== SUITE_SCHEMA_VERSION) {
    return fail(`schemaVersion ${describeValue(raw.schemaVersion)} is not supported (this migbench reads schemaVersion ${SUITE_SCHEMA_VERSION})`);
  }
  if (raw.kind !== 'suite') {
    if (raw.kind === undefined && 'precopy' in raw) {
      return fail('this is a single-run result (migbench run), not a suite result (migbench suite)');
    }
    return fail(`kind is ${describeValue(raw.kind)}, expected "suite" (a migbench suite result)`);
  }

  const tool = raw.tool;
  if (!isObject(tool) || typeof tool.name !== 'string' || typeof tool.version !== 'string') {
    return fail('tool: expected { name, version } strings');
  }
  if (typeof raw.suite !== 'string' || raw.suite === '') return fail(`suite: expected the suite's name, got ${describeValue(raw.suite)}`);
  const git = raw.git;
  const nullable = (v: unknown, type: 'string' | 'boolean'): boolean => v === null || typeof v === type;
  if (!isObject(git) || !nullable(git.commit, 'string') || !nullable(git.branch, 'string') || !nullable(git.dirty, 'boolean')) {
    return fail('git: expected { commit, branch, dirty } (strings, a boolean, or null)');
  }
  if (!isObject(raw.env)) return fail(`env: expected an object, got ${describeValue(raw.env)}`);
  for (const key of ['startedAt', 'finishedAt'] as const) {
    if (typeof raw[key] !== 'string') return fail(`${key}: expected an ISO 8601 time, got ${describeValue(raw[key])}`);
  }
  const provenance = provenanceProblem(raw);
  if (provenance !== null) return fail(provenance);
  const mode = raw.mode ?? 'emulate';
  if (mode !== 'emulate' && mode !== 'simulate') return fail(`mode: expected "emulate" or "simulate", got ${describeValue(raw.mode)}`);
  if (raw.seed !== null && (typeof raw.seed !== 'number' || !Number.isFinite(raw.seed))) {
    return fail(`seed: expected a number or null, got ${describeValue(raw.seed)}`);
  }
  for (const key of ['runs', 'warmup'] as const) {
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return fail(`${key}: expected a whole number >= 0, got ${describeValue(v)}`);
  }

  if (!Array.isArray(raw.benchmarks)) return fail(`benchmarks: expected an array, got ${describeValue(raw.benchmarks)}`);
  if (raw.benchmarks.length === 0) return fail('benchmarks: empty (the suite measured nothing)');
  const seen = new Set<string>();
  const benchmarks: SuiteBenchmark[] = raw.benchmarks.map((b: unknown, i: number): SuiteBenchmark => {
    if (!isObject(b)) return fail(`benchmarks[${i}]: expected an object, got ${describeValue(b)}`);
    if (typeof b.name !== 'string' || b.name === '') return fail(`benchmarks[${i}]: name: expected a non-empty string, got ${describeValue(b.name)}`);
    const where = `benchmark "${b.name}"`;
    if (seen.has(b.name)) return fail(`${where} appears twice`);
    seen.add(b.name);
    if (!isObject(b.metrics)) return fail(`${where}: metrics: expected an object keyed by metric name, got ${describeValue(b.metrics)}`);
    const metrics: Record<string, MetricSeries> = {};
    for (const [metric, m] of Object.entries(b.metrics)) {
      const at = `${where}, metric "${metric}"`;
      if (!isObject(m)) return fail(`${at}: expected an object, got ${describeValue(m)}`);
      if (typeof m.unit !== 'string') return fail(`${at}: unit: expected a string, got ${describeValue(m.unit)}`);
      if (m.better !== 'lower' && m.better !== 'higher') return fail(`${at}: better: expected "lower" or "higher", got ${describeValue(m.better)}`);
      if (m.exact !== undefined && typeof m.exact !== 'boolean') return fail(`${at}: exact: expected true or false, got ${describeValue(m.exact)}`);
      if (!Array.isArray(m.samples)) return fail(`${at}: samples: expected an array of numbers, got ${describeValue(m.samples)}`);
      if (m.samples.length === 0) return fail(`${at}: samples: empty (no measured run)`);
      const bad = m.samples.findIndex((v: unknown) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad !== -1) return fail(`${at}: samples[${bad}]: expected a finite number, got ${describeValue(m.samples[bad])}`);
      if (m.summary !== undefined && !isObject(m.summary)) return fail(`${at}: summary: expected an object, got ${describeValue(m.summary)}`);
      metrics[metric] = metricSeries(m.unit, m.better, m.samples as number[], m.exact === true);
    }
    return { name: b.name, scenario: b.scenario ?? null, metrics };
  });

  return {
    schemaVersion: SUITE_SCHEMA_VERSION,
    kind: 'suite',
    tool: { name: tool.name as string, version: tool.version as string },
    suite: raw.suite,
    git: { commit: git.commit as string | null, branch: git.branch as string | null, dirty: git.dirty as boolean | null },
    env: raw.env as unknown as EnvironmentInfo,
    startedAt: raw.startedAt as string,
    finishedAt: raw.finishedAt as string,
    mode,
    seed: raw.seed as number | null,
    runs: raw.runs as number,
    warmup: raw.warmup as number,
    benchmarks,
  };
}
