/** Suites: expansion of scenario lists and matrices; the suite and compare commands as a user runs them. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { parseSuiteDocument, suiteDocumentToJson, metricSeries, type SuiteDocument } from '../src/results/suite-document.ts';
import { expandSuite } from '../src/suite/suite-file.ts';
import { Rng } from '../src/workload/rng.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const SMOKE = fileURLToPath(new URL('../bench/suites/smoke.json', import.meta.url));
const STANDARD = fileURLToPath(new URL('../bench/suites/standard.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-suite-'));
const migbench = (args: string[], timeout = 120_000) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });

describe('expandSuite', () => {
  it('a list of named scenarios, with --set applied to each', () => {
    const s = expandSuite({ name: 's', scenarios: [{ name: 'a', guest: { memory: '8MiB' } }, { name: 'b' }] }, ['link.bandwidth=100Mbit/s']);
    expect(s.benchmarks.map((b) => b.name)).toEqual(['a', 'b']);
    expect(s.benchmarks[0].scenario.guest.memory).toBe(8 * 2 ** 20);
    expect(s.benchmarks.every((b) => b.scenario.link.bandwidth === 12_500_000)).toBe(true);
    expect(s.methods).toEqual(['precopy', 'quick']);
  });

  it('a base with a matrix: every combination, named by its point', () => {
    const s = expandSuite({ name: 'grid', base: { name: 'g', guest: { memory: '8MiB' } }, matrix: { 'workload.pattern': ['idle', 'uniform'], 'link.bandwidth': ['1Gbit/s', '10Gbit/s', 'unlimited'] } });
    expect(s.benchmarks).toHaveLength(6);
    expect(s.benchmarks[0].name).toBe('g/pattern=idle,bandwidth=1Gbit/s');
    expect(s.benchmarks[5].name).toBe('g/pattern=uniform,bandwidth=unlimited');
    expect(s.benchmarks[5].scenario.link.bandwidth).toBe(Infinity);
    expect(s.benchmarks[5].scenario.workload.pattern).toBe('uniform');
  });

  it('warnings (issue 18 item 8): a decimal size once for the benchmarks it is in, a bare-number rate in --set once; none for the shipped suites', () => {
    const grid = expandSuite({ name: 'grid', base: { name: 'g', guest: { memory: '64MB' } }, matrix: { 'workload.pattern': ['idle', 'uniform'] } }, ['link.bandwidth=1000']);
    expect(grid.warnings).toEqual([
      'guest.memory: "64MB" is decimal, 64,000,000 bytes (61.0 MiB); write "64MiB" for 64.0 MiB, or 64000000 to keep this size without this warning (every benchmark)',
      '--set link.bandwidth=1000: a bare number is read as bytes/s, 1000 B/s (8.00 kbit/s); give the unit you mean, e.g. "1000MiB/s" or "1000Mbit/s" ("1000B/s" keeps this reading without this warning)',
    ]);
    const list = expandSuite({ name: 's', scenarios: [{ name: 'a' }, { name: 'b', workload: { workingSet: '1MB' } }] });
    expect(list.warnings).toEqual(['workload.workingSet: "1MB" is decimal, 1,000,000 bytes (977 KiB); write "1MiB" for 1.00 MiB, or 1000000 to keep this size without this warning ("b")']);
    expect(expandSuite(JSON.parse(readFileSync(SMOKE, 'utf8'))).warnings).toEqual([]);
    expect(expandSuite(JSON.parse(readFileSync(STANDARD, 'utf8'))).warnings).toEqual([]);
  });

  it('the shipped suites expand', () => {
    expect(expandSuite(JSON.parse(readFileSync(SMOKE, 'utf8'))).benchmarks.length).toBe(2);
    const std = expandSuite(JSON.parse(readFileSync(STANDARD, 'utf8')));
    expect(std.benchmarks.length).toBe(10);
    expect(new Set(std.benchmarks.map((b) => b.scenario.workload.pattern))).toEqual(new Set(['idle', 'uniform', 'hotset', 'sequential']));
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', [], /^suite: expected a JSON object/],
    ['unknown key', { name: 's', scenarios: [{ name: 'a' }], runz: 3 }, /^suite\.runz: unknown key/],
    ['bad name', { name: 'a b', scenarios: [{ name: 'a' }] }, /^suite\.name: expected a name/],
    ['no scenarios', { name: 's' }, /^suite: expected "scenarios" or "base" with "matrix"/],
    ['unnamed scenario', { name: 's', scenarios: [{ guest: {} }] }, /^suite\.scenarios\[0\]\.name: every scenario of a suite needs a name/],
    ['duplicate names', { name: 's', scenarios: [{ name: 'a' }, { name: 'a' }] }, /benchmark names must be unique/],
    ['a bad scenario key, located', { name: 's', scenarios: [{ name: 'a' }, { name: 'b', guest: { memory: '1 potato' } }] }, /^suite\.scenarios\[1\]: guest\.memory: expected a size/],
    ['an empty matrix axis', { name: 's', matrix: { 'guest.vcpus': [] } }, /^suite\.matrix\["guest\.vcpus"\]: expected a non-empty list/],
    ['a bad matrix value, located', { name: 's', matrix: { 'guest.vcpus': [1, 100] } }, /^suite\.matrix point vcpus=100: guest\.vcpus: expected an integer from 1 to 64, got 100/],
    ['bad methods', { name: 's', methods: ['postcopy'], scenarios: [{ name: 'a' }] }, /^suite\.methods: expected a non-empty list/],
    ['zero runs', { name: 's', runs: 0, scenarios: [{ name: 'a' }] }, /^suite\.runs: must be at least 1/],
    // found by fuzzing: a RangeError from JSON.stringify in the message, or from structuredClone
    ['a deeply nested value', { name: 's', scenarios: [{ name: 'a', guest: JSON.parse(`${'['.repeat(20000)}1${']'.repeat(20000)}`) }] }, /^suite: nested more than 100 levels deep/],
    ['a matrix of a million points (refused before it is expanded)', { name: 's', matrix: { 'guest.vcpus': new Array(1000).fill(1), 'seed': new Array(1000).fill(1) } }, /^suite\.matrix: expands to more than 10000 benchmarks \(give fewer values, or allow more with --max-points N\), got "1000000 \(1000 × 1000\)"$/],
  ])('refuses %s', (_what, input, message) => {
    try {
      expandSuite(input);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(MigbenchError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('migbench suite and compare', () => {
  let basePath = '';
  let base: SuiteDocument;
  beforeAll(() => {
    basePath = join(dir, 'base.json');
    // 10 emulated migrations of each method: ~20 s on this machine, idle or busy; the hook's timeout is a
    // hang guard. maxRounds bounds hotset-16m's rounds: it converges or is stopped at any speed, so every
    // run yields every metric (a run cancelled at the timeout would have no downtime).
    const r = migbench(['suite', SMOKE, '--runs', '5', '--warmup', '0', '--set', 'precopy.maxRounds=15', '--out', basePath, '--export', `github-action-benchmark=${join(dir, 'gab.json')}`, '--export', `bencher=${join(dir, 'bmf.json')}`], 290_000);
    expect(r.stderr).toMatch(/suite smoke: 2 benchmarks, 5 runs each/);
    expect(r.status).toBe(0);
    base = parseSuiteDocument(readFileSync(basePath, 'utf8'), 'base');
  }, 300_000);

  it('writes a suite result with raw samples and summaries for every metric', () => {
    expect(base.suite).toBe('smoke');
    expect(base.runs).toBe(5);
    expect(base.benchmarks.map((b) => b.name)).toEqual(['idle-16m', 'hotset-16m']);
    for (const b of base.benchmarks) {
      for (const m of ['precopy.total-time', 'precopy.downtime', 'precopy.transferred', 'precopy.rounds', 'quick.downtime', 'quick.total-time', 'quick.saved']) {
        expect(b.metrics[m].samples).toHaveLength(5);
        expect(b.metrics[m].summary.n).toBe(5);
        expect(b.metrics[m].better).toBe('lower');
      }
    }
    expect(base.env.cpuCount).toBeGreaterThan(0);
    expect(base.git).toHaveProperty('branch');
  });

  it('exports github-action-benchmark and Bencher formats', () => {
    const gab = JSON.parse(readFileSync(join(dir, 'gab.json'), 'utf8'));
    expect(gab).toContainEqual(expect.objectContaining({ name: 'idle-16m precopy.downtime', unit: 'ms', value: base.benchmarks[0].metrics['precopy.downtime'].summary.median }));
    const bmf = JSON.parse(readFileSync(join(dir, 'bmf.json'), 'utf8'));
    expect(bmf['hotset-16m']['quick-downtime'].value).toBe(base.benchmarks[1].metrics['quick.downtime'].summary.median);
  });

  /**
   * The base with every metric's samples replaced by its median × (0.98, 0.99, 1, 1.01, 1.02): a spread
   * fixed by the test, not by how steady this machine's five runs happened to be (on a busy machine one
   * run may take 1.5× another, and a planted 1.5× change would then no longer separate the samples).
   * The planted comparisons below compare against it, so their verdicts hold at any speed.
   */
  let steadyPath = '';
  let steady: SuiteDocument;
  beforeAll(() => {
    steady = structuredClone(base);
    for (const b of steady.benchmarks) {
      for (const [name, m] of Object.entries(b.metrics)) {
        b.metrics[name] = metricSeries(m.unit, m.better, m.samples.map((_, i) => m.summary.median * (1 + 0.01 * (i - 2))), m.exact);
      }
    }
    steadyPath = join(dir, 'steady.json');
    writeFileSync(steadyPath, suiteDocumentToJson(steady));
  });

  /** A head file made from the steady base: every sample of `metric` scaled (and jittered, seeded). */
  function planted(name: string, metric: string, factor: number, jitter = 0): string {
    const rng = new Rng(7);
    const head: SuiteDocument = structuredClone(steady);
    for (const b of head.benchmarks) {
      const m = b.metrics[metric];
      const samples = m.samples.map((x) => x * factor * (1 + jitter * (rng.nextFloat() - 0.5)));
      b.metrics[metric] = metricSeries(m.unit, m.better, samples, m.exact);
    }
    const path = join(dir, `${name}.json`);
    writeFileSync(path, suiteDocumentToJson(head));
    return path;
  }

  it('the same file against itself: no regression, exit 0, a benchstat-like table', () => {
    const r = migbench(['compare', basePath, basePath]);
    expect(r.status).toBe(0);
    // the text table is for a person: stderr (--format markdown|json is data: stdout)
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/precopy\.total-time \(ms, lower is better\)/);
    expect(r.stderr).toMatch(/geomean/);
    expect(r.stderr).toMatch(/~ +\(p=1\.000 n=5\)/);
  });

  it('a planted regression: exit 1 with --fail-on regression, 0 with never', () => {
    const head = planted('slower', 'precopy.total-time', 1.5);
    const r = migbench(['compare', steadyPath, head, '--format', 'markdown']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/regression/);
    expect(migbench(['compare', steadyPath, head, '--fail-on', 'never']).status).toBe(0);
    // above a per-metric threshold the same change is not a regression
    expect(migbench(['compare', steadyPath, head, '--metric-threshold', 'total-time=60%']).status).toBe(0);
  });

  it('a planted improvement: exit 0, reported as an improvement', () => {
    const r = migbench(['compare', steadyPath, planted('faster', 'quick.downtime', 0.5), '--format', 'json']);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.rows.filter((x: { verdict: string }) => x.verdict === 'improvement').length).toBe(2);
  });

  it('pure noise (±2% jitter): no regression', () => {
    expect(migbench(['compare', steadyPath, planted('noise', 'precopy.total-time', 1, 0.04)]).status).toBe(0);
  });

  it.each<[string, string[], RegExp]>([
    ['a missing file', ['missing.json'], /missing\.json: cannot read it \(file not found\)/],
    ['a bad threshold', ['BASE', '--threshold', '5'], /--threshold: a fraction must be below 1 \(did you mean "5%"\?\)/],
    ['a bad format', ['BASE', '--format', 'html'], /--format: expected text, markdown or json/],
    ['a bad --fail-on', ['BASE', '--fail-on', 'always'], /--fail-on: expected regression or never/],
  ])('%s: exit 2', (_what, args, message) => {
    const r = migbench(['compare', basePath, ...args.map((a) => (a === 'BASE' ? basePath : a === 'missing.json' ? join(dir, a) : a))]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('files of different schema versions or suites are refused: exit 2', () => {
    const other = structuredClone(base);
    other.suite = 'standard';
    const p1 = join(dir, 'other-suite.json');
    writeFileSync(p1, suiteDocumentToJson(other));
    const r1 = migbench(['compare', basePath, p1]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/smoke.*standard|standard.*smoke/);
    const p2 = join(dir, 'v2.json');
    writeFileSync(p2, JSON.stringify({ ...base, schemaVersion: 2 }));
    const r2 = migbench(['compare', basePath, p2]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/schemaVersion/);
  });

  it('suite refuses bad flags: exit 2', () => {
    expect(migbench(['suite', SMOKE, '--runs', '0']).stderr).toMatch(/--runs: expected a whole number >= 1, got "0"/);
    expect(migbench(['suite', SMOKE, '--export', 'csv=x']).status).toBe(2);
  });
});

describe('migbench suite --mode simulate and compare', () => {
  const a = join(dir, 'sim-a.json');
  const b = join(dir, 'sim-b.json');
  let doc: SuiteDocument;
  beforeAll(() => {
    const r = migbench(['suite', SMOKE, '--mode', 'simulate', '--out', a]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/2 benchmarks × \(0 warm-up \+ 1 run\), precopy and quick, on 2 threads \(simulate mode\)|in this thread \(simulate mode\)/);
    doc = parseSuiteDocument(readFileSync(a, 'utf8'), 'a');
    expect(migbench(['suite', SMOKE, '--mode', 'simulate', '--jobs', '1', '--runs', '3', '--out', b, '-q']).status).toBe(0);
  });

  it('records the mode; one run by default; every metric exact', () => {
    expect(doc.mode).toBe('simulate');
    expect(doc.runs).toBe(1);
    expect(doc.warmup).toBe(0);
    for (const bench of doc.benchmarks) {
      expect(Object.keys(bench.metrics)).toEqual(['precopy.total-time', 'precopy.downtime', 'precopy.transferred', 'precopy.rounds', 'quick.downtime', 'quick.total-time', 'quick.saved']);
      for (const m of Object.values(bench.metrics)) {
        expect(m.exact).toBe(true);
        expect(m.samples).toHaveLength(1);
      }
    }
    // more runs repeat the same values (the same seed, no timing noise), whatever --jobs is
    const three = parseSuiteDocument(readFileSync(b, 'utf8'), 'b');
    for (const [i, bench] of three.benchmarks.entries()) {
      for (const [name, m] of Object.entries(bench.metrics)) expect(m.samples).toEqual([1, 2, 3].map(() => doc.benchmarks[i].metrics[name].samples[0]));
    }
  });

  it('two identical simulate results compare as no change: exit 0, no regression, no warnings', () => {
    const r = migbench(['compare', a, b, '--format', 'json']);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.counts.regression).toBe(0);
    expect(c.rows).toHaveLength(14);
    for (const row of c.rows) expect(row).toMatchObject({ exact: true, method: 'equality', p: 1, verdict: 'not-significant' });
    expect(c.warnings).toEqual([]);
    expect(migbench(['compare', a, a]).stderr).toMatch(/~ +\(exact n=1\)/);
  });

  it('a changed model output is a regression at once, even with one sample', () => {
    const slower = join(dir, 'sim-slower.json');
    expect(migbench(['suite', SMOKE, '--mode', 'simulate', '--jobs', '1', '--set', 'link.bandwidth=500Mbit/s', '--out', slower, '-q']).status).toBe(0);
    const r = migbench(['compare', a, slower, '--format', 'json']);
    expect(r.status).toBe(1);
    const c = JSON.parse(r.stdout);
    const row = c.rows.find((x: { benchmark: string; metric: string }) => x.benchmark === 'idle-16m' && x.metric === 'precopy.total-time');
    expect(row).toMatchObject({ method: 'equality', p: 0, verdict: 'regression' });
    expect(row.change).toBeCloseTo(1, 1); // half the bandwidth, twice the time
  });

  it('compare refuses an emulate result against a simulate one: exit 2, one line', () => {
    const emulated = join(dir, 'emulated.json');
    const e: SuiteDocument = structuredClone(doc);
    e.mode = 'emulate';
    for (const bench of e.benchmarks) for (const [k, m] of Object.entries(bench.metrics)) bench.metrics[k] = metricSeries(m.unit, m.better, m.samples, false);
    writeFileSync(emulated, suiteDocumentToJson(e));
    const r = migbench(['compare', emulated, a]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toBe('error: cannot compare suite results of different modes: emulated.json ran in emulate mode, sim-a.json in simulate mode (run both sides in one mode)');
  });

  it.each<[string, string[], RegExp]>([
    ['--jobs above 1 in emulate mode', ['--jobs', '2'], /^error: --jobs: emulate mode runs one migration at a time .*got 2$/],
    ['an unknown mode', ['--mode', 'virtual'], /^error: --mode: expected one of emulate, simulate, got "virtual"$/],
    ['a benchmark simulate mode cannot model', ['--mode', 'simulate', '--set', 'link.bandwidth=unlimited'], /^error: idle-16m: link\.bandwidth: simulate mode needs a finite rate/],
    ['a fleet', ['--mode', 'simulate', '--set', 'fleet={"count":2}'], /^error: idle-16m: fleet: a suite measures one guest's migration/],
  ])('suite refuses %s: exit 2, one line', (_what, args, message) => {
    const r = migbench(['suite', SMOKE, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });
});
