import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { summarize } from '../src/results/statistics.ts';
import { metricSeries, parseSuiteDocument, suiteDocumentToJson } from '../src/results/suite-document.ts';
import type { MetricSeries, SuiteBenchmark, SuiteDocument } from '../src/results/suite-document.ts';
import { mergeSuiteDocuments } from '../src/results/suite-merge.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** One pass of a suite: one run per benchmark, as `migbench suite --runs 1 --warmup 0` writes it. */
function pass(
  i: number,
  benchmarks: Record<string, Record<string, MetricSeries>>,
  over: Partial<SuiteDocument> = {},
): SuiteDocument {
  return {
    schemaVersion: 1,
    kind: 'suite',
    tool: { name: 'migbench', version: '0.1.0' },
    suite: 'smoke',
    git: { commit: COMMIT, branch: null, dirty: false },
    env: {
      node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2,
      totalMemBytes: 8 * 1024 ** 3, loadAvg: [0.1 * i, 0.2, 0.3], ci: false,
    },
    startedAt: `2026-01-01T00:0${i}:00.000Z`,
    finishedAt: `2026-01-01T00:0${i}:30.000Z`,
    mode: 'emulate',
    seed: 1,
    runs: 1,
    warmup: 0,
    benchmarks: Object.entries(benchmarks).map(([name, metrics]): SuiteBenchmark => ({ name, scenario: { name, pass: i }, metrics })),
    ...over,
  };
}

const ms = (...samples: number[]): MetricSeries => metricSeries('ms', 'lower', samples);
const bytes = (...samples: number[]): MetricSeries => metricSeries('B', 'lower', samples, true);

function refusal(fn: () => unknown): MigbenchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    return error as MigbenchError;
  }
  throw new Error('expected a MigbenchError, nothing was thrown');
}

describe('mergeSuiteDocuments', () => {
  it('concatenates the samples of each benchmark and metric in pass order and recomputes the summaries', () => {
    const docs = [
      pass(1, { idle: { 'precopy.downtime': ms(10), 'precopy.ram.transferred': bytes(4096) }, hot: { 'precopy.downtime': ms(50) } }),
      pass(2, { hot: { 'precopy.downtime': ms(52) }, idle: { 'precopy.downtime': ms(12), 'precopy.ram.transferred': bytes(4096) } }),
      pass(3, { idle: { 'precopy.downtime': ms(11), 'precopy.ram.transferred': bytes(4096) }, hot: { 'precopy.downtime': ms(51) } }),
    ];
    const m = mergeSuiteDocuments(docs, 'base');
    expect(m.benchmarks.map((b) => b.name)).toEqual(['idle', 'hot']); // the first document's order
    const idle = m.benchmarks[0];
    expect(idle.metrics['precopy.downtime'].samples).toEqual([10, 12, 11]);
    expect(idle.metrics['precopy.downtime'].summary).toEqual(summarize([10, 12, 11]));
    expect(idle.metrics['precopy.downtime'].summary.median).toBe(11);
    expect(idle.metrics['precopy.ram.transferred']).toMatchObject({ unit: 'B', better: 'lower', exact: true, samples: [4096, 4096, 4096] });
    expect(m.benchmarks[1].metrics['precopy.downtime'].samples).toEqual([50, 52, 51]);
    expect(idle.scenario).toEqual({ name: 'idle', pass: 1 });
  });

  it('sums runs and warmup, spans from the earliest start to the latest end, keeps the first tool and environment', () => {
    const docs = [
      pass(2, { a: { x: ms(1) } }),
      pass(1, { a: { x: ms(2) } }, { runs: 2, warmup: 1, finishedAt: '2026-01-01T00:09:00.000Z' }),
      pass(3, { a: { x: ms(3) } }),
    ];
    const m = mergeSuiteDocuments(docs, 'head');
    expect(m.runs).toBe(4);
    expect(m.warmup).toBe(1);
    expect(m.startedAt).toBe('2026-01-01T00:01:00.000Z');
    expect(m.finishedAt).toBe('2026-01-01T00:09:00.000Z');
    expect(m.env.loadAvg[0]).toBeCloseTo(0.2);
    expect(m.tool).toEqual({ name: 'migbench', version: '0.1.0' });
    expect(m.seed).toBe(1);
    expect(m.git).toEqual({ commit: COMMIT, branch: null, dirty: false });
  });

  it('compares times as instants, not as text', () => {
    const m = mergeSuiteDocuments(
      [
        pass(1, { a: { x: ms(1) } }, { startedAt: '2026-01-01T01:00:00+01:00', finishedAt: '2026-01-01T00:30:00Z' }),
        pass(2, { a: { x: ms(1) } }, { startedAt: '2026-01-01T00:10:00Z', finishedAt: '2026-01-01T01:20:00+01:00' }),
      ],
      'base',
    );
    expect(m.startedAt).toBe('2026-01-01T01:00:00+01:00'); // 00:00Z
    expect(m.finishedAt).toBe('2026-01-01T00:30:00Z'); // later than 00:20Z
  });

  it('merges one document into itself, unchanged but for a fresh copy', () => {
    const doc = pass(1, { a: { x: ms(5, 6, 7) } }, { runs: 3 });
    const m = mergeSuiteDocuments([doc], 'base');
    expect(m).toEqual(doc);
    expect(m.benchmarks[0].metrics.x.samples).not.toBe(doc.benchmarks[0].metrics.x.samples);
  });

  it('keeps a metric that some passes lack (a run without a value), with the samples of those that have it', () => {
    const m = mergeSuiteDocuments([pass(1, { a: { x: ms(1), y: ms(9) } }), pass(2, { a: { x: ms(2) } }), pass(3, { a: { x: ms(3), y: ms(8) } })], 'base');
    expect(m.benchmarks[0].metrics.x.samples).toEqual([1, 2, 3]);
    expect(m.benchmarks[0].metrics.y.samples).toEqual([9, 8]);
  });

  it('sets the seed to null when the passes used different seeds, and dirty to true when any pass was dirty', () => {
    const m = mergeSuiteDocuments(
      [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: ms(1) } }, { seed: 2, git: { commit: COMMIT, branch: null, dirty: true } })],
      'head',
    );
    expect(m.seed).toBeNull();
    expect(m.git.dirty).toBe(true);
  });

  it('writes a document that parses back to itself', () => {
    const m = mergeSuiteDocuments([pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: ms(3) } })], 'base');
    expect(parseSuiteDocument(suiteDocumentToJson(m), 'merged.json')).toEqual(m);
  });

  const refusals: Array<[string, () => SuiteDocument[], RegExp]> = [
    ['nothing to merge', () => [], /^base: cannot merge the suite results: no result to merge$/],
    [
      'different suites',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: ms(1) } }, { suite: 'standard' })],
      /^base: .*pass 2 ran suite "standard", pass 1 ran suite "smoke"/,
    ],
    [
      'a benchmark missing',
      () => [pass(1, { a: { x: ms(1) }, b: { x: ms(1) } }), pass(2, { a: { x: ms(1) } })],
      /^base: .*pass 2 ran different benchmarks from pass 1 \(it lacks "b"\)/,
    ],
    [
      'a benchmark in addition',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: ms(1) } }), pass(3, { a: { x: ms(1) }, c: { x: ms(1) } })],
      /^base: .*pass 3 ran different benchmarks from pass 1 \(it has "c" in addition\)/,
    ],
    [
      'a metric in another unit',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: metricSeries('s', 'lower', [1]) } })],
      /^base: .*benchmark "a", metric "x": unit "s" in pass 2, "ms" in pass 1/,
    ],
    [
      'a metric in the other direction',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: metricSeries('ms', 'higher', [1]) } })],
      /^base: .*benchmark "a", metric "x": higher is better in pass 2, lower in pass 1/,
    ],
    [
      'a metric exact in one pass only',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: metricSeries('ms', 'lower', [1], true) } })],
      /^base: .*metric "x": exact is true in pass 2, false in pass 1/,
    ],
    [
      'passes in different modes',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: ms(1) } }, { mode: 'simulate' })],
      /^base: cannot merge the suite results: pass 2 ran in simulate mode, pass 1 in emulate mode$/,
    ],
    [
      'different commits',
      () => [pass(1, { a: { x: ms(1) } }), pass(2, { a: { x: ms(1) } }, { git: { commit: 'fedcba9876543210', branch: null, dirty: false } })],
      /^base: .*different commits \(0123456789ab, fedcba987654\)/,
    ],
  ];
  it.each(refusals)('refuses %s with E_USAGE, naming the label', (_what, docs, message) => {
    const e = refusal(() => mergeSuiteDocuments(docs(), 'base'));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(message);
  });
});
