/**
 * Markup injection through result documents (issue 20, attacks 3 and 5): every kind of document
 * `report` accepts (run, suite, comparison, sweep, tune) gets markup in every field the walk finds
 * (strings, numbers as strings, true/false, null), one field at a time. Each such document is either
 * refused by its reader with E_RESULT (a one-line message naming the field, for a number turned
 * string) or rendered, as HTML and as markdown, with none of the markup live: the HTML holds no
 * element the template does not make, the markdown no raw `<`. The comparison that `compare` and `ab`
 * compute from two suite results is checked the same way through its markdown and HTML.
 *
 * The field list comes from walking the fixture documents, not from a hand-written list.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { checkReportDocument, reportCommand } from '../src/cli/report.ts';
import { mergeCommand } from '../src/cli/sweep.ts';
import { escapeHtml } from '../src/escape.ts';
import { MigbenchError } from '../src/errors.ts';
import { renderComparisonReport, renderMarkdownSummary, renderReport } from '../src/report/html.ts';
import { compareSuites, renderComparisonMarkdown } from '../src/results/compare.ts';
import { checkSuiteDocument, type SuiteDocument } from '../src/results/suite-document.ts';
import { liveMarkupInHtml, liveMarkupInMarkdown, MARKUP, tagsOf } from './helpers/inert-markup.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

/** A file name is printed too. */
const LABEL = 'doc<img src=x onerror=alert(2)>|x.json';

type Path = (string | number)[];
interface Leaf {
  path: Path;
  value: unknown;
}

/** Every leaf of a JSON value (a string, number, true/false or null), depth first. */
function leaves(v: unknown, path: Path = []): Leaf[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (typeof v === 'object' && v !== null) return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [{ path, value: v }];
}

function setAt(doc: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(doc);
  let at = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

const pathText = (path: Path): string => path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1);
/** The last key that is a name (not an index): what a refusal must name. */
const lastName = (path: Path): string => String([...path].reverse().find((k) => typeof k === 'string'));

/** The reader's verdict: the checked document, or the refusal (anything but a one-line E_RESULT fails the test). */
function read(doc: unknown, check: (d: unknown) => unknown): { ok: true; doc: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, doc: check(doc) };
  } catch (error) {
    if (!(error instanceof MigbenchError)) throw new Error(`the reader threw ${String(error)}`, { cause: error });
    expect(error.code).toBe('E_RESULT');
    expect(error.message).not.toContain('\n');
    return { ok: false, message: error.message };
  }
}

/** Tag names the template makes: those of the untouched fixtures' pages. */
const TEMPLATE_TAGS = tagsOf(renderReport(['run-full.json', 'run-rounds.json', 'run-postcopy.json', 'run-lazy.json', 'run-orchestrator.json', 'suite-a.json', 'comparison.json', 'sweep.json', 'tune.json'].map(load)));

/** No markup from a document is live in the page. */
function expectInertHtml(html: string, what: string): void {
  expect(liveMarkupInHtml(html, TEMPLATE_TAGS), what).toBeNull();
}

/** No raw `<` (the markup, escaped as &lt;), and no markdown link the document made. */
function expectInertMarkdown(md: string, what: string): void {
  expect(liveMarkupInMarkdown(md), what).toBeNull();
}

interface Walk {
  /** the document with every field the reader let through set to the markup */
  doc: unknown;
  accepted: Leaf[];
  refused: { leaf: Leaf; message: string }[];
}

/**
 * Markup in each field in turn, through the reader: a refused field is put back, an accepted one kept
 * (so the last document holds markup in every field the reader lets through). A number turned string
 * that is refused must be refused naming its field.
 */
function walk(original: unknown, check: (d: unknown) => unknown): Walk {
  let doc = structuredClone(original);
  const accepted: Leaf[] = [];
  const refused: { leaf: Leaf; message: string }[] = [];
  for (const leaf of leaves(original)) {
    const trial = setAt(doc, leaf.path, MARKUP);
    const got = read(trial, check);
    if (got.ok) {
      doc = trial;
      accepted.push(leaf);
    } else {
      refused.push({ leaf, message: got.message });
      if (typeof leaf.value === 'number') expect(got.message, `a string in ${pathText(leaf.path)}`).toContain(lastName(leaf.path));
    }
  }
  return { doc, accepted, refused };
}

/**
 * A page without the run's resolved scenario (shown whole, as escaped JSON) and without the names
 * ECharts numbers per chart instance (`zr3-cls-12`), to compare two pages.
 */
const withoutScenarioJson = (html: string): string =>
  html.replace(/<details><summary>Resolved scenario \(JSON\)<\/summary><pre>[^<]*<\/pre><\/details>/g, '').replace(/\bzr\d+-[\w-]+/g, 'zr');

const KINDS = ['run-full.json', 'run-rounds.json', 'run-postcopy.json', 'run-lazy.json', 'run-orchestrator.json', 'run.json', 'suite-a.json', 'comparison.json', 'sweep.json', 'tune.json'];

describe('markup in every field of every kind of document (report)', () => {
  for (const name of KINDS) {
    it(name, () => {
      const check = (d: unknown): unknown => checkReportDocument(d, LABEL);
      const original = load(name);
      expect(read(original, check).ok).toBe(true);
      const w = walk(original, check);
      expect(w.accepted.length + w.refused.length).toBe(leaves(original).length);
      const checked = read(w.doc, check);
      expect(checked.ok).toBe(true);
      const docs = [(checked as { doc: unknown }).doc];
      const html = renderReport(docs, [LABEL]);
      expectInertHtml(html, name);
      expect(html, 'the markup is on the page, as text').toContain(escapeHtml(MARKUP));
      expectInertMarkdown(renderMarkdownSummary(docs, [LABEL]), name);

      // Every number the reports print is checked by the reader: the numbers turned string that it
      // accepts are ones no renderer prints (the page and the markdown do not change, but for the
      // scenario's JSON), apart from a sweep parameter's values (any JSON value, printed as text above).
      const numbers = w.accepted.filter((l) => typeof l.value === 'number' && !/^(points\[\d+\]\.params|axes\[\d+\]\.values)\b/.test(pathText(l.path)));
      const changed = read(numbers.reduce((d, l) => setAt(d, l.path, MARKUP), original), check);
      expect(changed.ok).toBe(true);
      const clean = (read(original, check) as { doc: unknown }).doc;
      const one = (changed as { doc: unknown }).doc;
      expect(withoutScenarioJson(renderReport([one], ['x']))).toBe(withoutScenarioJson(renderReport([clean], ['x'])));
      expect(renderMarkdownSummary([one], ['x'])).toBe(renderMarkdownSummary([clean], ['x']));
    });
  }
});

describe('the renderers escape even what no reader checked (the library renders documents it is given)', () => {
  /** the fields of the issue that printed raw: strings where numbers belong */
  const cases: [string, Path[]][] = [
    ['run-full.json', [['scenario', 'guest', 'vcpus'], ['scenario', 'guest', 'pageSize'], ['scenario', 'link', 'latencyMs'], ['scenario', 'workload', 'dirtyRate'], ['precopy', 'rounds', 0, 'round'], ['precopy', 'rounds', 0, 'dirtyPages'], ['precopy', 'rounds', 1, 'sentPages'], ['precopy', 'compression', 'level'], ['fleet', 'count']]],
    ['sweep.json', [['points', 0, 'index'], ['points', 1, 'completed'], ['points', 1, 'runs'], ['runs'], ['scenario', 'guest', 'vcpus']]],
    ['comparison.json', [['rows', 0, 'base', 'n'], ['rows', 1, 'head', 'n'], ['base', 'runs'], ['rows', 0, 'p']]],
  ];
  for (const [name, paths] of cases) {
    it(name, () => {
      const doc = paths.reduce((d, path) => setAt(d, path, MARKUP), load(name));
      expectInertHtml(renderReport([doc], [LABEL]), name);
      expectInertMarkdown(renderMarkdownSummary([doc], [LABEL]), name);
    });
  }
  it('a suite whose summary.n is markup', () => {
    const s = load('suite-a.json') as { benchmarks: { metrics: Record<string, { summary: { n: unknown } }> }[] };
    for (const b of s.benchmarks) for (const m of Object.values(b.metrics)) m.summary.n = MARKUP;
    expectInertHtml(renderReport([s], [LABEL]), 'suite');
    expectInertMarkdown(renderMarkdownSummary([s], [LABEL]), 'suite');
  });
});

describe('markup in every field of two suite results (compare --format markdown, compare --html, ab)', () => {
  it('the comparison renders none of it live', () => {
    const check = (d: unknown): unknown => checkSuiteDocument(d, LABEL);
    const a = load('suite-a.json');
    const w = walk(a, check);
    // the same fields of the other side, so that the suites still pair up
    let b = load('suite-b.json');
    for (const leaf of w.accepted) {
      const trial = setAt(b, leaf.path, MARKUP);
      if (read(trial, check).ok) b = trial;
    }
    const base = checkSuiteDocument(w.doc, 'base') as SuiteDocument;
    const head = checkSuiteDocument(b, 'head') as SuiteDocument;
    expect(base.suite).toBe(MARKUP);
    const c = compareSuites(base, head, { alpha: 0.05, threshold: 0.05, metricThresholds: { [MARKUP]: 0.1 }, labels: { base: LABEL, head: `${LABEL}2` } });
    expect(c.rows.length).toBeGreaterThan(0);
    expectInertMarkdown(renderComparisonMarkdown(c), 'compare --format markdown');
    expectInertHtml(renderComparisonReport(c), 'compare --html');
    // markup in one side's scenarios only: the warning that the scenarios differ quotes their values
    const plain = checkSuiteDocument(load('suite-b.json'), 'head') as SuiteDocument;
    const marked = checkSuiteDocument(
      leaves(load('suite-b.json')).filter((l) => l.path[2] === 'scenario').reduce((d, l) => setAt(d, l.path, MARKUP), load('suite-b.json')),
      'base',
    ) as SuiteDocument;
    const one = compareSuites(marked, plain, { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels: { base: LABEL, head: 'head' } });
    expect(one.warnings.join(' ')).toContain(MARKUP);
    expectInertMarkdown(renderComparisonMarkdown(one), 'compare --format markdown, one side');
    expectInertHtml(renderComparisonReport(one), 'compare --html, one side');
  });
});

describe('the compare report\'s raw samples and its table of what differs (issue 18 item 7)', () => {
  it('a scenario name, a benchmark name, a scenario value and an environment field holding markup print as text', () => {
    const base = checkSuiteDocument(load('suite-a.json'), 'base') as SuiteDocument;
    const head = checkSuiteDocument(load('suite-b.json'), 'head') as SuiteDocument;
    for (const doc of [base, head]) doc.benchmarks[0].name = MARKUP;
    (head.benchmarks[0].scenario as { name: string }).name = MARKUP;
    (head.benchmarks[1].scenario as { workload: { pattern: string } }).workload.pattern = MARKUP;
    (head.env as { cpuModel: string }).cpuModel = MARKUP;
    const c = compareSuites(base, head, { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels: { base: LABEL, head: `${LABEL}2` } });
    const html = renderComparisonReport(c, { base, head });
    expectInertHtml(html, 'compare --html with the suite results');
    expect(html).toContain('Raw samples in run order');
    // the differences table holds each as text
    const differs = html.slice(html.indexOf('What differs besides the code'));
    expect(differs).toContain(`<code>${escapeHtml(MARKUP)}</code>`); // env.cpuModel
    expect(differs).toContain(escapeHtml(`→ ${JSON.stringify(MARKUP)}`)); // the scenario name and the pattern
    expect(differs.split(escapeHtml(MARKUP)).length - 1).toBeGreaterThanOrEqual(4);
  });
});

describe('markdown stays readable', () => {
  it('plain names print as they are; table cells keep their columns', () => {
    const r = load('run.json') as { scenario: { name: string } };
    r.scenario.name = 'hotset-1g';
    const md = renderMarkdownSummary([r], ['results/run.json']);
    expect(md).toContain('## Run: hotset-1g (results/run.json)');
    const s = load('suite-a.json') as { benchmarks: { name: string }[] };
    s.benchmarks[0].name = 'a|b\nc & d';
    const lines = renderMarkdownSummary([checkSuiteDocument(s, 's')], ['s']).split('\n').filter((l) => l.startsWith('| a'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l).toContain('a\\|b c &amp; d');
      expect(l.split(/(?<!\\)\|/)).toHaveLength(7); // 5 cells between 6 unescaped bars
    }
  });
});

describe('readers refuse before anything is written (attacks 3 and 5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migbench-markup-'));
  let stderr: MockInstance;
  beforeEach(() => {
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (f: () => unknown): MigbenchError => {
    try {
      f();
    } catch (error) {
      expect(error).toBeInstanceOf(MigbenchError);
      return error as MigbenchError;
    }
    throw new Error('expected a refusal');
  };
  const file = (name: string, doc: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };

  it('report --markdown on a run whose scenario.name is 5: E_RESULT naming it, and no HTML written', () => {
    const r = load('run.json') as { scenario: { name: unknown } };
    r.scenario.name = 5;
    const path = file('name5.json', r);
    const html = join(dir, 'name5.html');
    const md = join(dir, 'name5.md');
    const e = refusal(() => reportCommand([path], { html, markdown: md }));
    expect(e.code).toBe('E_RESULT');
    expect(e.message).toBe(`${path}: scenario.name: expected a string, got 5`);
    expect(existsSync(html) || existsSync(md)).toBe(false);
  });

  it('a string where a number belongs: E_RESULT naming the field path', () => {
    const cases: [string, (d: any) => void, string][] = [
      ['run.json', (d) => (d.scenario.guest.vcpus = '<b>'), 'scenario.guest.vcpus: expected a number, got "<b>"'],
      ['run.json', (d) => (d.scenario.guest.pageSize = '<b>'), 'scenario.guest.pageSize: expected a number, got "<b>"'],
      ['run.json', (d) => (d.scenario.link.latencyMs = '<b>'), 'scenario.link.latencyMs: expected a number, got "<b>"'],
      ['run.json', (d) => (d.scenario.workload.dirtyRate = '<b>'), 'scenario.workload.dirtyRate: expected a number, got "<b>"'],
      ['run.json', (d) => (d.precopy.rounds[1].round = '<b>'), 'precopy.rounds[1].round: expected a number or null, got "<b>"'],
      ['run.json', (d) => (d.precopy.rounds[0].dirtyPages = '<b>'), 'precopy.rounds[0].dirtyPages: expected a number or null, got "<b>"'],
      ['run.json', (d) => (d.precopy.rounds[0].sentPages = '<b>'), 'precopy.rounds[0].sentPages: expected a number or null, got "<b>"'],
      ['sweep.json', (d) => (d.points[0].index = '<b>'), 'points[0]: index: expected a grid point from 0 to 3, got "<b>"'],
      ['sweep.json', (d) => (d.points[0].completed = '<b>'), 'points[0]: completed: expected a whole number up to runs, got "<b>"'],
      ['sweep.json', (d) => (d.points[0].runs = '<b>'), 'points[0]: runs: expected a whole number, got "<b>"'],
      ['sweep.json', (d) => (d.scenario.guest.vcpus = '<b>'), 'scenario.guest.vcpus: expected a number, got "<b>"'],
      ['comparison.json', (d) => (d.rows[0].base.n = '<b>'), 'rows[0].base.n: expected a number or null, got "<b>"'],
      ['comparison.json', (d) => (d.rows[0].head.n = '<b>'), 'rows[0].head.n: expected a number or null, got "<b>"'],
    ];
    for (const [name, change, message] of cases) {
      const d = load(name);
      change(d);
      const e = refusal(() => checkReportDocument(d, 'f.json'));
      expect(e.code).toBe('E_RESULT');
      expect(e.message).toBe(`f.json: ${message}`);
    }
    // a suite's summaries are recomputed from its samples: a string summary is never read
    const s = load('suite-a.json') as { benchmarks: { metrics: Record<string, { summary: { n: unknown } }> }[] };
    for (const m of Object.values(s.benchmarks[0].metrics)) m.summary.n = '<b>';
    const read = checkReportDocument(s, 's.json') as SuiteDocument;
    for (const m of Object.values(read.benchmarks[0].metrics)) expect(typeof m.summary.n).toBe('number');
  });

  it('merge on a sweep whose points is 5 or whose transferredBytes is "NaN": E_RESULT, nothing written', () => {
    const sweep = load('sweep.json') as { points: { transferredBytes: unknown }[] };
    const out = join(dir, 'merged.json');
    const five = file('points5.json', { ...sweep, points: 5 });
    const nan = structuredClone(sweep);
    nan.points[0].transferredBytes = 'NaN';
    const nanPath = file('nan.json', nan);
    for (const [path, message] of [
      [five, 'points: expected an array, got 5'],
      [nanPath, 'points[0]: transferredBytes: expected a number or null, got "NaN"'],
    ]) {
      const e = refusal(() => mergeCommand([path], { out, json: false, quiet: true }));
      expect(e.code).toBe('E_RESULT');
      expect(e.message).toBe(`${path}: ${message}`);
    }
    expect(existsSync(out)).toBe(false);
  });
});
