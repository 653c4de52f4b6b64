import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import {
  compareSuites,
  hasRegression,
  renderComparisonMarkdown,
  renderComparisonText,
} from '../src/results/compare.ts';
import type { CompareOptions, Comparison } from '../src/results/compare.ts';
import { metricSeries, parseSuiteDocument, suiteDocumentToJson } from '../src/results/suite-document.ts';
import type { MetricSeries, SuiteBenchmark, SuiteDocument } from '../src/results/suite-document.ts';

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/** mulberry32: a tiny seeded generator, so the "noise" below is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n samples around `center`, each off by up to ±spread (a fraction), seeded. */
function jitter(seed: number, center: number, spread: number, n = 10): number[] {
  const next = seeded(seed);
  return Array.from({ length: n }, () => center * (1 + spread * (2 * next() - 1)));
}

function suite(benchmarks: Record<string, Record<string, MetricSeries>>, over: Partial<SuiteDocument> = {}): SuiteDocument {
  return {
    schemaVersion: 1,
    kind: 'suite',
    tool: { name: 'migbench', version: '0.1.0' },
    suite: 'smoke',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    env: {
      node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2,
      totalMemBytes: 8 * 1024 ** 3, loadAvg: [0.1, 0.2, 0.3], ci: false,
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    mode: 'emulate',
    seed: 1,
    runs: 10,
    warmup: 1,
    benchmarks: Object.entries(benchmarks).map(([name, metrics]): SuiteBenchmark => ({ name, scenario: { name }, metrics })),
    ...over,
  };
}

const ms = (samples: number[]): MetricSeries => metricSeries('ms', 'lower', samples);

const OPTIONS: CompareOptions = { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels: { base: 'base.json', head: 'head.json' } };

function compare(
  base: Record<string, Record<string, MetricSeries>>,
  head: Record<string, Record<string, MetricSeries>>,
  options: Partial<CompareOptions> = {},
): Comparison {
  return compareSuites(suite(base), suite(head, { git: { commit: 'fedcba9876543210fedcba9876543210fedcba98', branch: 'pr', dirty: true } }), {
    ...OPTIONS,
    ...options,
  });
}

function row(c: Comparison, benchmark: string, metric: string) {
  const r = c.rows.find((x) => x.benchmark === benchmark && x.metric === metric);
  if (r === undefined) throw new Error(`no row ${benchmark} ${metric}`);
  return r;
}

function refusal(f: () => unknown, code: 'E_USAGE' | 'E_RESULT'): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe(code);
    return (error as MigbenchError).message;
  }
  throw new Error(`expected an ${code} error`);
}
const usageError = (f: () => unknown): string => refusal(f, 'E_USAGE');
/** a corrupt result file */
const resultError = (f: () => unknown): string => refusal(f, 'E_RESULT');

// ---------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------

describe('compareSuites verdicts', () => {
  it('catches a planted regression (head clearly slower, beyond the threshold)', () => {
    const c = compare(
      { idle: { 'precopy.total-time': ms(jitter(1, 100, 0.02)) } },
      { idle: { 'precopy.total-time': ms(jitter(2, 120, 0.02)) } },
    );
    const r = row(c, 'idle', 'precopy.total-time');
    expect(r.verdict).toBe('regression');
    expect(r.method).toBe('exact');
    expect(r.p).toBeCloseTo(2 / 184756, 12); // fully separated 10 vs 10: the smallest possible p
    expect(r.change).toBeGreaterThan(0.15);
    expect(r.change).toBeLessThan(0.25);
    expect(r.base.n).toBe(10);
    expect(r.base.ciLevel).toBeCloseTo(0.979, 3);
    expect(c.counts.regression).toBe(1);
    expect(hasRegression(c)).toBe(true);
  });

  it('reports a planted improvement, which does not fail the gate', () => {
    const c = compare(
      { idle: { 'precopy.downtime': ms(jitter(3, 50, 0.02)) } },
      { idle: { 'precopy.downtime': ms(jitter(4, 40, 0.02)) } },
    );
    const r = row(c, 'idle', 'precopy.downtime');
    expect(r.verdict).toBe('improvement');
    expect(r.change).toBeLessThan(-0.15);
    expect(hasRegression(c)).toBe(false);
  });

  it('does not call pure noise a regression (same distribution, different seeds)', () => {
    const names = ['idle', 'uniform', 'hotset', 'sequential', 'sparse'];
    const metric = (seed: number) => ({
      'precopy.total-time': ms(jitter(seed, 1000, 0.1)),
      'precopy.downtime': ms(jitter(seed + 1, 30, 0.2)),
    });
    const base = Object.fromEntries(names.map((n, i) => [n, metric(100 + 10 * i)]));
    const head = Object.fromEntries(names.map((n, i) => [n, metric(500 + 10 * i)]));
    const c = compare(base, head);
    expect(c.rows).toHaveLength(10);
    expect(hasRegression(c)).toBe(false);
    for (const r of c.rows) expect(['not-significant', 'within-threshold']).toContain(r.verdict);
    expect(c.geomeans.map((g) => g.metric)).toEqual(['precopy.total-time', 'precopy.downtime']);
    expect(Math.abs(c.geomeans[0].change!)).toBeLessThan(0.05);
    // 10 comparisons at alpha 0.05: the multiple-testing caveat is stated.
    expect(c.warnings.some((w) => /10 comparisons at alpha=0\.05: about 0\.5 may come out significant by chance/.test(w))).toBe(true);
  });

  it('a significant change smaller than the threshold is within-threshold; a tighter metric threshold makes it a regression', () => {
    const base = { idle: { 'precopy.total-time': ms(jitter(5, 100, 0.002)) } };
    const head = { idle: { 'precopy.total-time': ms(jitter(6, 102, 0.002)) } };
    const loose = row(compare(base, head), 'idle', 'precopy.total-time');
    expect(loose.p).toBeLessThan(0.05);
    expect(loose.change).toBeCloseTo(0.02, 2);
    expect(loose.verdict).toBe('within-threshold');
    expect(loose.threshold).toBe(0.05);

    // "total-time" matches "precopy.total-time" by its last segment(s).
    const tight = compare(base, head, { metricThresholds: { 'total-time': 0.01 } });
    expect(row(tight, 'idle', 'precopy.total-time')).toMatchObject({ verdict: 'regression', threshold: 0.01 });
    expect(hasRegression(tight)).toBe(true);
    const exactName = compare(base, head, { metricThresholds: { 'precopy.total-time': 0.01, 'total-time': 0.5 } });
    expect(row(exactName, 'idle', 'precopy.total-time').threshold).toBe(0.01);
    // A global threshold of 1% does it too.
    expect(row(compare(base, head, { threshold: 0.01 }), 'idle', 'precopy.total-time').verdict).toBe('regression');
  });

  it('warns about a metric threshold that matches nothing (a typo)', () => {
    const c = compare({ a: { 'precopy.downtime': ms([1, 2, 3, 4, 5]) } }, { a: { 'precopy.downtime': ms([1, 2, 3, 4, 5]) } }, {
      metricThresholds: { dowtime: 0.1 },
    });
    expect(c.warnings).toContain('metric threshold "dowtime" matches no compared metric');
  });

  it('metrics where higher is better: a drop is the regression, a rise the improvement', () => {
    const rate = (samples: number[]) => metricSeries('B/s', 'higher', samples);
    const c = compare(
      { down: { throughput: rate(jitter(7, 1e8, 0.02)) }, up: { throughput: rate(jitter(8, 1e8, 0.02)) } },
      { down: { throughput: rate(jitter(9, 0.8e8, 0.02)) }, up: { throughput: rate(jitter(10, 1.25e8, 0.02)) } },
    );
    expect(row(c, 'down', 'throughput')).toMatchObject({ verdict: 'regression', better: 'higher' });
    expect(row(c, 'down', 'throughput').change).toBeLessThan(0);
    expect(row(c, 'up', 'throughput')).toMatchObject({ verdict: 'improvement' });
    expect(row(c, 'up', 'throughput').change).toBeGreaterThan(0);
    expect(hasRegression(c)).toBe(true);
  });

  it('n = 3 per side can never reach alpha 0.05: insufficient-samples, with a warning', () => {
    const c = compare(
      { tiny: { 'precopy.total-time': ms([100, 101, 102]) } },
      { tiny: { 'precopy.total-time': ms([200, 201, 202]) } },
    );
    const r = row(c, 'tiny', 'precopy.total-time');
    expect(r.verdict).toBe('insufficient-samples');
    expect(r.p).toBeCloseTo(0.1, 12);
    expect(r.base.ciLow).toBeNull();
    expect(hasRegression(c)).toBe(false);
    expect(c.warnings).toContain(
      'need >= 4 samples per side to detect a difference at alpha=0.05: n=3 for "tiny" precopy.total-time',
    );
    expect(c.warnings).toContain('need >= 6 samples for a 95% confidence interval of the median (shown as ± ∞)');
    // Unequal sizes are named as n1+n2.
    const uneven = compare({ t: { m: ms([1, 2]) } }, { t: { m: ms([5, 6, 7, 8, 9]) } });
    expect(uneven.warnings.some((w) => w.includes('n=2+5'))).toBe(true);
  });

  describe('exact metrics (deterministic for a seed, benchstat assume=exact)', () => {
    const exact = (samples: number[], better: 'lower' | 'higher' = 'lower') => metricSeries('B', better, samples, true);

    it('equal values: p = 1, not significant, even with one sample', () => {
      const c = compare({ sim: { 'ram.transferred': exact([1000]) } }, { sim: { 'ram.transferred': exact([1000]) } });
      expect(row(c, 'sim', 'ram.transferred')).toMatchObject({ method: 'equality', p: 1, verdict: 'not-significant', change: 0, exact: true });
      expect(c.warnings.filter((w) => w.includes('samples'))).toEqual([]);
    });

    it('different values: p = 0; beyond the threshold a regression, inside it within-threshold', () => {
      const worse = compare({ sim: { 'ram.transferred': exact([1000, 1000, 1000]) } }, { sim: { 'ram.transferred': exact([1100, 1100, 1100]) } });
      expect(row(worse, 'sim', 'ram.transferred')).toMatchObject({ method: 'equality', p: 0, verdict: 'regression' });
      expect(row(worse, 'sim', 'ram.transferred').change).toBeCloseTo(0.1, 12);
      const slight = compare({ sim: { 'ram.transferred': exact([1000]) } }, { sim: { 'ram.transferred': exact([1001]) } });
      expect(row(slight, 'sim', 'ram.transferred')).toMatchObject({ p: 0, verdict: 'within-threshold' });
      const better = compare({ sim: { 'ram.transferred': exact([1000]) } }, { sim: { 'ram.transferred': exact([500]) } });
      expect(row(better, 'sim', 'ram.transferred').verdict).toBe('improvement');
    });

    it('warns when a side of an exact metric varies', () => {
      const c = compare({ sim: { 'ram.transferred': exact([1000, 1000, 1002]) } }, { sim: { 'ram.transferred': exact([1000]) } });
      expect(c.warnings).toContain(
        '"sim" ram.transferred: declared exact (deterministic for a seed) but the base.json samples differ (1000 … 1002); compared by median',
      );
      expect(row(c, 'sim', 'ram.transferred').verdict).toBe('not-significant');
    });

    it('exact on one side only falls back to the U test', () => {
      const c = compare({ s: { m: exact([1, 2, 3, 4, 5]) } }, { s: { m: metricSeries('B', 'lower', [1, 2, 3, 4, 5]) } });
      expect(row(c, 's', 'm')).toMatchObject({ exact: false, method: 'normal', p: 1 }) // equal samples tie;
      expect(c.warnings).toContain('"s" m: exact on one side only; compared with the U test');
    });
  });

  it('a zero base median gives change null, and a significant rise from zero is a regression', () => {
    const c = compare(
      { z: { 'precopy.xbzrle-overflows': metricSeries('count', 'lower', [0, 0, 0, 0, 0, 0]) } },
      { z: { 'precopy.xbzrle-overflows': metricSeries('count', 'lower', [5, 6, 7, 8, 9, 10]) } },
    );
    const r = row(c, 'z', 'precopy.xbzrle-overflows');
    expect(r.change).toBeNull();
    expect(r.verdict).toBe('regression');
    expect(c.geomeans[0]).toMatchObject({ base: null, head: null, change: null, benchmarks: 0, skipped: 1 });
    expect(JSON.parse(JSON.stringify(c))).toEqual(c); // JSON form: no NaN or Infinity anywhere
  });

  it('geomean row: geometric means of the medians over benchmarks, and their ratio', () => {
    const c = compare(
      { a: { m: ms([10, 10, 10, 10, 10, 10]) }, b: { m: ms([40, 40, 40, 40, 40, 40]) } },
      { a: { m: ms([20, 20, 20, 20, 20, 20]) }, b: { m: ms([40, 40, 40, 40, 40, 40]) } },
    );
    expect(c.geomeans).toHaveLength(1);
    expect(c.geomeans[0].base).toBeCloseTo(20, 10);
    expect(c.geomeans[0].head).toBeCloseTo(Math.sqrt(800), 10);
    expect(c.geomeans[0].change).toBeCloseTo(Math.SQRT2 - 1, 10);
    expect(c.geomeans[0]).toMatchObject({ metric: 'm', unit: 'ms', better: 'lower', benchmarks: 2, skipped: 0 });
  });
});

// ---------------------------------------------------------------------------
// Pairing and refusals
// ---------------------------------------------------------------------------

describe('pairing benchmarks and metrics', () => {
  it('lists benchmarks and metrics present on one side only as warnings', () => {
    const c = compare(
      { both: { m: ms([1, 2, 3, 4, 5]), gone: ms([1]) }, old: { m: ms([1]) } },
      { both: { m: ms([1, 2, 3, 4, 5]), added: ms([1]) }, fresh: { m: ms([1]) } },
    );
    expect(c.rows.map((r) => `${r.benchmark}/${r.metric}`)).toEqual(['both/m']);
    expect(c.onlyInBase).toEqual(['old']);
    expect(c.onlyInHead).toEqual(['fresh']);
    expect(c.warnings).toContain('only in base.json (not compared): "old"');
    expect(c.warnings).toContain('only in head.json (not compared): "fresh"');
    expect(c.warnings).toContain('metrics on one side only (not compared): "both" added (only in head.json), "both" gone (only in base.json)');
  });

  it('skips a metric whose unit or direction changed, with a warning', () => {
    const c = compare({ a: { m: ms([1, 2, 3, 4]), n: ms([1, 2, 3, 4]) } }, { a: { m: metricSeries('B', 'lower', [1, 2, 3, 4]), n: ms([1, 2, 3, 4]) } });
    expect(c.rows.map((r) => r.metric)).toEqual(['n']);
    expect(c.warnings.some((w) => w.startsWith('"a" m: not compared, the sides disagree on its unit or direction'))).toBe(true);
  });

  it('warns when the two sides ran in different environments', () => {
    const base = suite({ a: { m: ms([1, 2, 3, 4]) } });
    const head = suite({ a: { m: ms([1, 2, 3, 4]) } }, { env: { ...base.env, node: 'v22.1.0', cpuCount: 8 } });
    const c = compareSuites(base, head, OPTIONS);
    expect(c.warnings).toContain(
      'the two sides ran in different environments (node: v20.20.2 vs v22.1.0; cpuCount: 2 vs 8): differences may not come from the code',
    );
  });

  it.each<[string, () => unknown, string]>([
    [
      'different suites',
      () => compareSuites(suite({ a: { m: ms([1]) } }), suite({ a: { m: ms([1]) } }, { suite: 'standard' }), OPTIONS),
      'cannot compare different suites: base.json is suite "smoke", head.json is suite "standard"',
    ],
    [
      'an emulate-mode result against a simulate-mode one',
      () => compareSuites(suite({ a: { m: ms([1]) } }), suite({ a: { m: ms([1]) } }, { mode: 'simulate' }), OPTIONS),
      'cannot compare suite results of different modes: base.json ran in emulate mode, head.json in simulate mode (run both sides in one mode)',
    ],
    [
      'no benchmark in common',
      () => compare({ a: { m: ms([1]) }, b: { m: ms([1]) } }, { c: { m: ms([1]) } }),
      'base.json and head.json have no benchmark in common (base.json: "a", "b"; head.json: "c")',
    ],
    ['alpha out of range', () => compare({ a: { m: ms([1]) } }, { a: { m: ms([1]) } }, { alpha: 5 }), 'alpha: expected a number between 0 and 1 (e.g. 0.05), got 5'],
    [
      'negative threshold',
      () => compare({ a: { m: ms([1]) } }, { a: { m: ms([1]) } }, { threshold: -0.1 }),
      'threshold: expected a fraction >= 0 (e.g. 0.05 for 5%), got -0.1',
    ],
    [
      'bad metric threshold',
      () => compare({ a: { m: ms([1]) } }, { a: { m: ms([1]) } }, { metricThresholds: { downtime: Number.NaN } }),
      'metric threshold downtime: expected a fraction >= 0 (e.g. 0.1 for 10%), got NaN',
    ],
  ])('refuses %s', (_name, f, message) => {
    expect(usageError(f)).toBe(message);
  });
});

// ---------------------------------------------------------------------------
// Reading suite files
// ---------------------------------------------------------------------------

describe('parseSuiteDocument', () => {
  const good = suite({ idle: { 'precopy.total-time': ms([3, 1, 2]), 'precopy.ram.transferred': metricSeries('B', 'lower', [4096], true) } });

  it('reads back what suiteDocumentToJson wrote, recomputing summaries from the samples', () => {
    const text = suiteDocumentToJson(good);
    expect(parseSuiteDocument(text, 'a.json')).toEqual(good);
    const tampered = JSON.parse(text);
    tampered.benchmarks[0].metrics['precopy.total-time'].summary.median = 999;
    delete tampered.benchmarks[0].metrics['precopy.ram.transferred'].exact; // missing exact means false
    const read = parseSuiteDocument(JSON.stringify(tampered), 'a.json');
    expect(read.benchmarks[0].metrics['precopy.total-time'].summary.median).toBe(2);
    expect(read.benchmarks[0].metrics['precopy.ram.transferred'].exact).toBe(false);
  });

  it('reads the mode; a file without one (written before simulate mode) is an emulate-mode result', () => {
    const text = suiteDocumentToJson({ ...good, mode: 'simulate' });
    expect(parseSuiteDocument(text, 'a.json').mode).toBe('simulate');
    const old = JSON.parse(text);
    delete old.mode;
    expect(parseSuiteDocument(JSON.stringify(old), 'a.json').mode).toBe('emulate');
  });

  /** `good` with one change applied to a deep copy. */
  function edited(edit: (doc: any) => void): string {
    const doc = JSON.parse(suiteDocumentToJson(good));
    edit(doc);
    return JSON.stringify(doc);
  }

  it.each<[string, string, string]>([
    ['not JSON', '{"schemaVersion": 1,', 'a.json: not a JSON file ('],
    // found by fuzzing: V8 quotes the text around the bad token, and the message took its newline along
    ['not JSON, a newline near the bad byte', `{"pad": "${'x'.repeat(300)}", "totalMemBytes"\n\ufffd"x": 1, "more": "${'x'.repeat(300)}"}`, 'a.json: not a JSON file ('],
    ['an array', '[1, 2]', 'a.json: expected a JSON object (a migbench suite result), got an array'],
    ['a string', '"hello"', 'a.json: expected a JSON object (a migbench suite result), got "hello"'],
    ['no schemaVersion', edited((d) => delete d.schemaVersion), 'a.json: schemaVersion is missing: not a migbench suite result (this migbench reads schemaVersion 1)'],
    ['schemaVersion 2', edited((d) => (d.schemaVersion = 2)), 'a.json: schemaVersion 2 is not supported (this migbench reads schemaVersion 1)'],
    ['schemaVersion "1"', edited((d) => (d.schemaVersion = '1')), 'a.json: schemaVersion "1" is not supported (this migbench reads schemaVersion 1)'],
    [
      'a single-run result',
      JSON.stringify({ schemaVersion: 1, tool: { name: 'migbench', version: '0.1.0' }, precopy: {} }),
      'a.json: this is a single-run result (migbench run), not a suite result (migbench suite)',
    ],
    ['kind "run"', edited((d) => (d.kind = 'run')), 'a.json: kind is "run", expected "suite" (a migbench suite result)'],
    ['no tool', edited((d) => delete d.tool), 'a.json: tool: expected { name, version } strings'],
    ['no suite name', edited((d) => delete d.suite), "a.json: suite: expected the suite's name, got nothing"],
    ['bad git', edited((d) => (d.git = { commit: 5 })), 'a.json: git: expected { commit, branch, dirty } (strings, a boolean, or null)'],
    ['no env', edited((d) => delete d.env), 'a.json: env: expected an object, got nothing'],
    ['bad startedAt', edited((d) => (d.startedAt = 0)), 'a.json: startedAt: expected an ISO 8601 time, got 0'],
    ['bad seed', edited((d) => (d.seed = 'x')), 'a.json: seed: expected a number or null, got "x"'],
    ['bad runs', edited((d) => (d.runs = -1)), 'a.json: runs: expected a whole number >= 0, got -1'],
    ['no benchmarks', edited((d) => delete d.benchmarks), 'a.json: benchmarks: expected an array, got nothing'],
    ['empty benchmarks', edited((d) => (d.benchmarks = [])), 'a.json: benchmarks: empty (the suite measured nothing)'],
    ['benchmark not an object', edited((d) => (d.benchmarks = [7])), 'a.json: benchmarks[0]: expected an object, got 7'],
    ['benchmark without a name', edited((d) => delete d.benchmarks[0].name), 'a.json: benchmarks[0]: name: expected a non-empty string, got nothing'],
    ['duplicate benchmark', edited((d) => d.benchmarks.push(d.benchmarks[0])), 'a.json: benchmark "idle" appears twice'],
    ['no metrics', edited((d) => delete d.benchmarks[0].metrics), 'a.json: benchmark "idle": metrics: expected an object keyed by metric name, got nothing'],
    [
      'metric not an object',
      edited((d) => (d.benchmarks[0].metrics['precopy.downtime'] = [1, 2])),
      'a.json: benchmark "idle", metric "precopy.downtime": expected an object, got an array',
    ],
    [
      'no unit',
      edited((d) => delete d.benchmarks[0].metrics['precopy.total-time'].unit),
      'a.json: benchmark "idle", metric "precopy.total-time": unit: expected a string, got nothing',
    ],
    [
      'bad better',
      edited((d) => (d.benchmarks[0].metrics['precopy.total-time'].better = 'smaller')),
      'a.json: benchmark "idle", metric "precopy.total-time": better: expected "lower" or "higher", got "smaller"',
    ],
    ['a bad mode', edited((d) => (d.mode = 'fast')), 'a.json: mode: expected "emulate" or "simulate", got "fast"'],
    [
      'bad exact',
      edited((d) => (d.benchmarks[0].metrics['precopy.total-time'].exact = 'yes')),
      'a.json: benchmark "idle", metric "precopy.total-time": exact: expected true or false, got "yes"',
    ],
    [
      'no samples',
      edited((d) => delete d.benchmarks[0].metrics['precopy.total-time'].samples),
      'a.json: benchmark "idle", metric "precopy.total-time": samples: expected an array of numbers, got nothing',
    ],
    [
      'empty samples',
      edited((d) => (d.benchmarks[0].metrics['precopy.total-time'].samples = [])),
      'a.json: benchmark "idle", metric "precopy.total-time": samples: empty (no measured run)',
    ],
    [
      'a null sample (Infinity written as JSON)',
      edited((d) => (d.benchmarks[0].metrics['precopy.total-time'].samples = [1, null])),
      'a.json: benchmark "idle", metric "precopy.total-time": samples[1]: expected a finite number, got null',
    ],
    [
      'a string sample',
      edited((d) => (d.benchmarks[0].metrics['precopy.total-time'].samples = ['12ms'])),
      'a.json: benchmark "idle", metric "precopy.total-time": samples[0]: expected a finite number, got "12ms"',
    ],
    [
      'a malformed summary',
      edited((d) => (d.benchmarks[0].metrics['precopy.total-time'].summary = 3)),
      'a.json: benchmark "idle", metric "precopy.total-time": summary: expected an object, got 3',
    ],
  ])('refuses %s', (_name, text, message) => {
    const got = resultError(() => parseSuiteDocument(text, 'a.json'));
    if (message.endsWith('(')) expect(got.startsWith(message)).toBe(true);
    else expect(got).toBe(message);
    expect(got).not.toContain('\n');
  });
});

// ---------------------------------------------------------------------------
// Renderers
// ---------------------------------------------------------------------------

describe('renderers', () => {
  const c = compare(
    {
      idle: { 'precopy.total-time': ms([97, 98, 99, 101, 102, 103]), 'precopy.ram.transferred': metricSeries('B', 'lower', [67108864], true) },
      hotset: { 'precopy.total-time': ms([297, 298, 299, 301, 302, 303]), 'precopy.ram.transferred': metricSeries('B', 'lower', [90000000], true) },
      'a|b': { 'precopy.total-time': ms([10, 11, 12, 13, 14, 12]), 'precopy.ram.transferred': metricSeries('B', 'lower', [1024], true) },
    },
    {
      idle: { 'precopy.total-time': ms([117, 118, 119, 121, 122, 123]), 'precopy.ram.transferred': metricSeries('B', 'lower', [67108864], true) },
      hotset: { 'precopy.total-time': ms([296, 298.5, 299.5, 300.5, 301.5, 304]), 'precopy.ram.transferred': metricSeries('B', 'lower', [80000000], true) },
      'a|b': { 'precopy.total-time': ms([10, 11, 12, 13, 14, 12]), 'precopy.ram.transferred': metricSeries('B', 'lower', [1024], true) },
    },
  );

  it('text: a benchstat-like table per metric with ~, (p=… n=…), verdicts and a geomean row', () => {
    const text = renderComparisonText(c);
    const lines = text.split('\n');
    expect(lines[0]).toBe('suite "smoke": base.json (0123456) vs head.json (fedcba9+dirty)');
    expect(lines[1]).toBe('alpha 0.05, threshold 5%: 1 regression, 1 improvement, 4 unchanged');
    expect(text).toContain('precopy.total-time (ms, lower is better)');
    const idle = lines.find((l) => l.startsWith('idle') && l.includes('ms'))!;
    expect(idle).toMatch(/^idle\s+100 ms ± \d+%\s+120 ms ± \d+%\s+\+20\.00%\s+\(p=0\.002 n=6\)\s+regression \(> 5%\)$/);
    const hotset = lines.find((l) => l.startsWith('hotset') && l.includes('ms'))!;
    expect(hotset).toMatch(/^hotset\s+300 ms ± \d+%\s+300 ms ± \d+%\s+~\s+\(p=\d\.\d{3} n=6\)$/);
    // exact metrics: no interval, "(exact n=1)", formatted bytes
    expect(text).toContain('precopy.ram.transferred (B, lower is better)');
    expect(lines.some((l) => /^hotset\s+85\.8 MiB\s+76\.3 MiB\s+-11\.11%\s+\(exact n=1\)\s+improvement \(> 5%\)$/.test(l))).toBe(true);
    expect(lines.filter((l) => l.startsWith('geomean'))).toHaveLength(2);
    expect(text).not.toMatch(/\u001b\[/); // no colour unless asked
  });

  it('text: warnings close the output', () => {
    const text = renderComparisonText(c);
    expect(text).toContain('warning: ');
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^warning: /);
  });

  it('markdown: a GitHub table per metric, regressions in bold with a red mark, pipes escaped', () => {
    const mdText = renderComparisonMarkdown(c);
    expect(mdText).toContain('### migbench compare: suite `smoke`');
    expect(mdText).toContain('🔴 **1 regression, 1 improvement, 4 unchanged**');
    expect(mdText).toContain('#### precopy.total-time (ms, lower is better)');
    expect(mdText).toContain('| benchmark | base.json | head.json | vs base | p (n) | verdict |');
    expect(mdText).toMatch(/\| \*\*idle\*\* \| 100 ms ± \d+% \| 120 ms ± \d+% \| \*\*\+20\.00%\*\* \| p=0\.002 n=6 \| 🔴 \*\*regression \(> 5%\)\*\* \|/);
    expect(mdText).toContain('| hotset | 85.8 MiB | 76.3 MiB | -11.11% | exact n=1 | 🟢 improvement (> 5%) |');
    expect(mdText).toContain('| a\\|b |');
    expect(mdText).toMatch(/\| \*geomean\* \| [^|]+ \| [^|]+ \| [+-]\d+\.\d\d% \| \| \|/);
    // every table row has the same number of cells as the header
    for (const line of mdText.split('\n').filter((l) => l.startsWith('|'))) {
      expect(line.replace(/\\\|/g, '').split('|').length).toBe(8);
    }
  });

  it('markdown without regressions has no red mark', () => {
    const quiet = compare({ a: { m: ms([1, 2, 3, 4, 5]) } }, { a: { m: ms([1, 2, 3, 4, 5]) } });
    const mdText = renderComparisonMarkdown(quiet);
    expect(mdText).not.toContain('🔴');
    expect(mdText).toContain('0 regressions, 0 improvements, 1 unchanged');
    expect(mdText).toContain('| a | 3.00 ms ± ∞ | 3.00 ms ± ∞ | ~ | p=1.000 n=5 |  |');
  });

  it('counts print plainly; insufficient samples say so', () => {
    const small = compare(
      { a: { 'precopy.rounds': metricSeries('count', 'lower', [3, 4, 5]) } },
      { a: { 'precopy.rounds': metricSeries('count', 'lower', [6, 7, 8.5]) } },
    );
    const text = renderComparisonText(small);
    expect(text).toContain('precopy.rounds (count, lower is better)');
    expect(text).toMatch(/^a\s+4 ± ∞\s+7 ± ∞\s+~\s+\(p=0\.100 n=3\)\s+too few samples$/m);
  });
});
