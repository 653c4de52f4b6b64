/**
 * Fuzz properties of the JSON inputs: result files as `compare`, `merge` and `report` read them (the
 * real commands, on real files), and scenarios as `run` resolves them (a parsed value with `--set`
 * overrides, and a scenario file's text). Inputs are the test fixtures and valid scenarios, mutated
 * structurally (dropped keys, wrong types, null/Infinity/huge numbers, huge arrays, deep nesting,
 * non-objects at the top, markup in place of a string or a number) or as text. What `report` and
 * `compare` write (HTML, markdown) must hold none of a document's markup live.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { renderReport } from '../../src/report/html.ts';
import { liveMarkupInHtml, liveMarkupInMarkdown, tagsOf } from '../helpers/inert-markup.ts';
import { compareCommand } from '../../src/cli/compare.ts';
import { reportCommand } from '../../src/cli/report.ts';
import { readScenarioFile } from '../../src/cli/scenario-file.ts';
import { mergeCommand } from '../../src/cli/sweep.ts';
import type { ErrorCode } from '../../src/errors.ts';
import { applyOverrides, resolveScenario, scenarioToJson, SCENARIO_KEYS } from '../../src/options.ts';
import { expandSuite } from '../../src/suite/suite-file.ts';
import { check, outcome, type Outcome } from './check.ts';
import { jsonMutation, jsonText, mutateJson, mutateText, oddValue, textMutations, type ByteMutation, type JsonMutation } from './mutate.ts';
import type { FuzzProperty } from './properties.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
let workDir: string | null = null;
const scratch = (name: string): string => join((workDir ??= mkdtempSync(join(base, 'migbench-fuzz-docs-'))), name);

export function removeDocumentScratch(): void {
  if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
  workDir = null;
}

/**
 * Run a command with stderr thrown away (the commands print their tables and warnings) and stdout
 * collected into `stdout` when given, else thrown away too.
 */
function quietly<T>(f: () => T, stdout?: string[]): T {
  const out = process.stdout.write;
  const err = process.stderr.write;
  const drop = (() => true) as typeof process.stdout.write;
  const keep = ((chunk: unknown) => {
    stdout!.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = stdout ? keep : drop;
  process.stderr.write = drop;
  try {
    return f();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** The tags the report template makes: those of the fixtures' pages. */
let templateTags: Set<string> | null = null;
function reportTemplateTags(): Set<string> {
  templateTags ??= tagsOf(renderReport(['run.json', 'run-rounds.json', 'comparison.json', 'sweep.json', 'tune.json', 'suite-a.json'].map(fixture)));
  return templateTags;
}

/** The HTML file a command wrote holds none of a document's markup live. */
function checkInertHtml(path: string, what: string): void {
  const live = liveMarkupInHtml(readFileSync(path, 'utf8'), reportTemplateTags());
  check(live === null, () => `${what}: ${live}`);
}

function checkInertMarkdown(text: string, what: string): void {
  const live = liveMarkupInMarkdown(text);
  check(live === null, () => `${what}: ${live}`);
}

/** A mutated document's text: structural mutations (most cases), then sometimes text mutations. */
interface DocCase {
  entry: number;
  mutations: JsonMutation[];
  text: ByteMutation[];
}

const docCase = (entries: number): fc.Arbitrary<DocCase> =>
  fc.record({
    entry: fc.nat({ max: entries - 1 }),
    mutations: fc.oneof({ weight: 1, arbitrary: fc.constant<JsonMutation[]>([]) }, { weight: 8, arbitrary: fc.array(jsonMutation, { minLength: 1, maxLength: 3 }) }),
    text: fc.oneof({ weight: 6, arbitrary: fc.constant<ByteMutation[]>([]) }, { weight: 1, arbitrary: textMutations }),
  });

function textOf(docs: readonly unknown[], c: DocCase): string {
  const text = jsonText(mutateJson(docs[c.entry], c.mutations));
  return c.text.length === 0 ? text : mutateText(text, c.text);
}

const unchanged = (c: DocCase): boolean => c.mutations.length === 0 && c.text.length === 0;

/** The command's refusal is one of `codes`; E_USAGE is allowed only for the messages listed. */
function allowed<T>(got: Outcome<T>, usage: RegExp | null): void {
  if (!got.ok && got.error.code === 'E_USAGE') check(usage !== null && usage.test(got.error.message), `E_USAGE for a result file: ${got.error.message}`);
}

/** `migbench compare BASE HEAD`: one side a mutated suite result, the other a valid one. */
export function compareProperty(): FuzzProperty {
  return {
    name: 'result-compare',
    weight: 1.2, // ~10-30 ms a case (statistics, tables; HTML with echarts in one case of 8)
    async make() {
      const suites = [fixture('suite-a.json'), fixture('suite-b.json')];
      const basePath = scratch('base.json');
      const headPath = scratch('head.json');
      const html = scratch('compare.html');
      const arb = fc.record({
        doc: docCase(suites.length),
        mutatedSide: fc.constantFrom('base', 'head'),
        format: fc.constantFrom('text', 'markdown', 'json'),
        withHtml: fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      });
      reportTemplateTags();
      return fc.property(arb, ({ doc, mutatedSide, format, withHtml }) => {
        const text = textOf(suites, doc);
        const other = JSON.stringify(suites[1 - doc.entry]);
        writeFileSync(basePath, mutatedSide === 'base' ? text : other);
        writeFileSync(headPath, mutatedSide === 'head' ? text : other);
        rmSync(html, { force: true });
        const options = { alpha: '0.05', threshold: '5%', metricThreshold: [], format, failOn: 'regression', html: withHtml ? html : undefined };
        const codes: ErrorCode[] = ['E_RESULT', 'E_USAGE'];
        const stdout: string[] = [];
        const got = outcome(codes, () => quietly(() => compareCommand(basePath, headPath, options), stdout), 'compare');
        if (got.ok && format === 'markdown') checkInertMarkdown(stdout.join(''), 'compare --format markdown');
        if (got.ok && withHtml) checkInertHtml(html, 'compare --html');
        // the suites may not match (other names, modes, no benchmark in common): a usage error, not a corrupt file
        allowed(got, /^cannot compare|have no benchmark in common/);
        // 2 without an error: undecided, every row had too few samples (a mutation can drop samples)
        if (got.ok) check(got.value === 0 || got.value === 1 || got.value === 2, `compare exited ${got.value}`);
        if (unchanged(doc)) check(got.ok, () => `compare refused the fixtures: ${got.ok ? '' : got.error.message}`);
        return true;
      });
    },
  };
}

/** `migbench merge SLICE`: a mutated sweep or tune file. */
export function mergeProperty(): FuzzProperty {
  return {
    name: 'result-merge',
    weight: 3,
    async make() {
      const sweeps = [fixture('sweep.json'), fixture('tune.json')];
      const path = scratch('slice.json');
      const csv = scratch('merged.csv');
      const out = scratch('merged.json');
      const arb = fc.record({ doc: docCase(sweeps.length), json: fc.boolean(), files: fc.boolean() });
      return fc.property(arb, ({ doc, json, files }) => {
        writeFileSync(path, textOf(sweeps, doc));
        const got = outcome(['E_RESULT', 'E_USAGE'], () => quietly(() => mergeCommand([path], { json, quiet: false, csv: files ? csv : undefined, out: files ? out : undefined })), 'merge');
        allowed(got, null);
        if (unchanged(doc)) check(got.ok, () => `merge refused the fixture: ${got.ok ? '' : got.error.message}`);
        return true;
      });
    },
  };
}

/** `migbench report FILE --html OUT --markdown OUT`: every kind of result document, mutated. */
export function reportProperty(): FuzzProperty {
  return {
    name: 'result-report',
    weight: 0.7, // ~50 ms a case: HTML with echarts charts
    async make() {
      const docs = ['run.json', 'run-rounds.json', 'comparison.json', 'sweep.json', 'tune.json', 'suite-a.json'].map(fixture);
      const path = scratch('doc.json');
      const html = scratch('report.html');
      const md = scratch('report.md');
      const arb = fc.record({ doc: docCase(docs.length), markdown: fc.boolean() });
      reportTemplateTags();
      return fc.property(arb, ({ doc, markdown }) => {
        writeFileSync(path, textOf(docs, doc));
        rmSync(html, { force: true });
        rmSync(md, { force: true });
        const got = outcome(['E_RESULT', 'E_USAGE'], () => quietly(() => reportCommand([path], { html, markdown: markdown ? md : undefined })), 'report');
        allowed(got, null);
        // a refused document writes nothing; an accepted one, pages with none of its markup live
        check(got.ok === existsSync(html), () => `report ${got.ok ? 'wrote no' : 'refused the document but wrote an'} HTML file`);
        if (got.ok) checkInertHtml(html, 'report --html');
        if (got.ok && markdown) checkInertMarkdown(readFileSync(md, 'utf8'), 'report --markdown');
        if (unchanged(doc)) check(got.ok, () => `report refused a fixture: ${got.ok ? '' : got.error.message}`);
        return true;
      });
    },
  };
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

const SCENARIOS: unknown[] = [
  {},
  {
    name: 'hotset-1g',
    seed: 1,
    guest: { memory: '1GiB', pageSize: 4096, vcpus: 2, fill: 'random', deviceState: '256KiB' },
    workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '128MiB', hotFraction: 0.9, writeBytes: 8 },
    link: { bandwidth: '1Gbit/s', latencyMs: 0 },
    precopy: { downtimeLimitMs: 300, maxBandwidth: '1Gbit/s', policy: 'qemu', timeoutMs: 120000 },
    quick: { storageBandwidth: '200MiB/s', handoverMs: 0 },
  },
  { name: 'idle-16m', guest: { memory: '16MiB', vcpus: 1, fill: { zero: 0.3, random: 0.5, text: 0.2 } }, workload: { pattern: 'idle' }, link: { bandwidth: '1Gbit/s' }, quick: { storageBandwidth: '512MiB/s' } },
  {
    name: 'aids',
    guest: { memory: '64MiB', pageSize: '64KiB' },
    workload: { pattern: 'zipf', zipfExponent: 1.1 },
    precopy: { xbzrle: { cacheSize: '8MiB' }, compression: 'zstd', compressionLevel: 3, autoConverge: true, channels: 2, maxRounds: 30, onTimeout: 'cancel' },
    quick: { format: 'mapped' },
  },
];

const KEY_PATHS = SCENARIO_KEYS.map((k) => k.key);

const keyPath: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KEY_PATHS) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom('guest', 'memory', 'precopy', 'xbzrle', 'policyParams', 'fleet', '__proto__', 'constructor', '', ' ', 'x'), fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join('.')),
  },
);

const setValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('64MiB', '1GiB', '1Gbit/s', '20000/s', '300ms', 'unlimited', '-1', '0', '1e999', '{"zero":1}', '[]', 'null', 'true', '', '=', '2h', 'NaN', '4096', '1.5') },
  { weight: 2, arbitrary: oddValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const setArg: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(keyPath, setValue).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }, // often no "=": a usage error
);

/** Resolve as `run` does; returns the outcome after checking the refusal codes and the result. */
function resolveAsRun(input: () => unknown, sets: readonly string[], codes: ErrorCode[]): void {
  const got = outcome(codes, () => resolveScenario(applyOverrides(input(), sets)), 'resolving the scenario');
  // E_USAGE only for a --set that is not key.path=value
  if (!got.ok && got.error.code === 'E_USAGE') check(got.error.message.startsWith('--set: '), `E_USAGE for a scenario: ${got.error.message}`);
  if (got.ok) {
    const s = got.value;
    check(Object.isFrozen(s) && Object.isFrozen(s.guest) && Object.isFrozen(s.precopy), 'the resolved scenario is not frozen');
    check(Number.isInteger(s.guest.memory / s.guest.pageSize) && s.guest.memory > 0, 'the resolved guest memory is not a whole number of pages');
    // well formed: the JSON form of a resolved scenario resolves to the same scenario (as JSON: -0 is 0 there)
    const json = JSON.stringify(scenarioToJson(s));
    const again = outcome([], () => resolveScenario(JSON.parse(json)), 'resolving scenarioToJson');
    check(again.ok && JSON.stringify(scenarioToJson(again.value)) === json, 'scenarioToJson of a resolved scenario does not resolve to the same scenario');
  }
}

export function scenarioProperty(): FuzzProperty {
  return {
    name: 'scenario',
    weight: 12,
    async make() {
      const arb = fc.record({
        input: fc.oneof(
          { weight: 8, arbitrary: fc.record({ entry: fc.nat({ max: SCENARIOS.length - 1 }), mutations: fc.array(jsonMutation, { maxLength: 3 }) }).map(({ entry, mutations }) => ({ entry, mutations, value: undefined as unknown })) },
          { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ entry: -1, mutations: [] as JsonMutation[], value: value as unknown })) },
        ),
        sets: fc.oneof({ weight: 2, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array(setArg, { minLength: 1, maxLength: 3 }) }),
      });
      return fc.property(arb, ({ input, sets }) => {
        // the value as JSON.parse gives it (Infinity from 1e999, deep nesting, __proto__ as an own key)
        const text = input.entry < 0 ? JSON.stringify(input.value) : jsonText(mutateJson(SCENARIOS[input.entry], input.mutations));
        const value = JSON.parse(text) as unknown;
        resolveAsRun(() => value, sets, ['E_SCENARIO', 'E_USAGE']);
        return true;
      });
    },
  };
}

/** A scenario file's text, mutated as text too: `readScenarioFile` then resolution, all E_SCENARIO. */
export function scenarioFileProperty(): FuzzProperty {
  return {
    name: 'scenario-file',
    weight: 4,
    async make() {
      const path = scratch('scenario.json');
      const arb = docCase(SCENARIOS.length);
      return fc.property(arb, (doc) => {
        writeFileSync(path, textOf(SCENARIOS, doc));
        resolveAsRun(() => readScenarioFile(path), [], ['E_SCENARIO']);
        return true;
      });
    },
  };
}

/** Suite files (`migbench suite FILE`): a list of scenarios or a base with a matrix, each resolved. */
export function suiteFileProperty(): FuzzProperty {
  return {
    name: 'suite-file',
    weight: 3,
    async make() {
      const suites: unknown[] = [
        JSON.parse(readFileSync(new URL('../../bench/suites/smoke.json', import.meta.url), 'utf8')),
        JSON.parse(readFileSync(new URL('../../bench/suites/standard.json', import.meta.url), 'utf8')),
        { name: 'grid', runs: 3, base: { guest: { memory: '64MiB' } }, matrix: { 'workload.pattern': ['idle', 'hotset'], 'guest.memory': ['64MiB', '256MiB'] } },
      ];
      const arb = fc.record({ doc: docCase(suites.length), sets: fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array(setArg, { minLength: 1, maxLength: 2 }) }) });
      return fc.property(arb, ({ doc, sets }) => {
        const text = textOf(suites, doc);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return true; // readScenarioFile refuses it (E_SCENARIO): scenario-file covers that path
        }
        const got = outcome(['E_SCENARIO', 'E_USAGE'], () => expandSuite(value, sets), 'expandSuite');
        if (!got.ok && got.error.code === 'E_USAGE') check(got.error.message.startsWith('--set: '), `E_USAGE for a suite file: ${got.error.message}`);
        if (got.ok) check(got.value.benchmarks.length > 0 && got.value.benchmarks.every((b) => Object.isFrozen(b.scenario)), 'an accepted suite without resolved benchmarks');
        if (unchanged(doc) && sets.length === 0) check(got.ok, () => `a valid suite file was refused: ${got.ok ? '' : got.error.message}`);
        return true;
      });
    },
  };
}
