/** Sweeps and the tuner: grids, shards and merging, the Pareto frontier, and a tune with a known answer. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { expandGrid, parseAxis, parseShard, shardIndices } from '../src/sweep/grid.ts';
import { paretoFrontier, recommend, type PointFigures } from '../src/results/pareto.ts';
import { mergeSweeps, pointOf, pointScenarios, runSeed, runSweep, sweepToCsv } from '../src/sweep/run-sweep.ts';
import type { SweepRun } from '../src/results/sweep-figures.ts';
import type { SweepDocument } from '../src/results/sweep-types.ts';
import { parseSweepDocument } from '../src/sweep/sweep-document.ts';
import { deriveSeed } from '../src/workload/rng.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-sweep-'));
const migbench = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });

describe('grids', () => {
  it('parses axes, reading values as --set does', () => {
    expect(parseAxis('precopy.downtimeLimitMs=30,100,300')).toEqual({ key: 'precopy.downtimeLimitMs', values: [30, 100, 300] });
    expect(parseAxis('link.bandwidth=1Gbit/s,unlimited')).toEqual({ key: 'link.bandwidth', values: ['1Gbit/s', 'unlimited'] });
    expect(parseAxis('guest.fill={"zero":1},random').values).toEqual([{ zero: 1 }, 'random']);
    expect(parseAxis('precopy.autoConverge=false,true').values).toEqual([false, true]);
  });
  it('expands the cartesian product, first axis slowest', () => {
    const g = expandGrid([parseAxis('a.b=1,2'), parseAxis('c.d=x,y,z')]);
    expect(g).toHaveLength(6);
    expect(g[0]).toEqual({ 'a.b': 1, 'c.d': 'x' });
    expect(g[5]).toEqual({ 'a.b': 2, 'c.d': 'z' });
  });
  it('shards cover the grid exactly once', () => {
    const seen = [1, 2, 3].flatMap((i) => shardIndices(10, { index: i, count: 3 }));
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(shardIndices(4, null)).toEqual([0, 1, 2, 3]);
  });
  it.each<[string, () => unknown, RegExp]>([
    ['a param without values', () => parseAxis('precopy.downtimeLimitMs'), /--param: expected key\.path=v1,v2/],
    ['an empty value', () => parseAxis('precopy.downtimeLimitMs=30,,300'), /empty value/],
    ['a bad key', () => parseAxis('9x=1'), /bad key path/],
    ['a key twice', () => expandGrid([parseAxis('a.b=1'), parseAxis('a.b=2')]), /a key given twice/],
    ['a bad shard', () => parseShard('3/2'), /--shard: expected I\/N with 1 <= I <= N/],
    ['a bad value at a grid point', () => pointScenarios({}, [{ 'guest.vcpus': 2 }, { 'guest.vcpus': 100 }]), /^grid point 1 \(guest\.vcpus=100\): guest\.vcpus: expected an integer from 1 to 64, got 100$/],
    ['an unknown key at a grid point', () => pointScenarios({}, [{ 'precopy.downtime': 5 }]), /precopy\.downtime: unknown key/],
  ])('refuses %s', (_what, f, message) => {
    expect(f).toThrow(MigbenchError);
    expect(f).toThrow(message);
  });
});

const fig = (index: number, totalTimeMs: number | null, downtimeMs: number | null, extra: Partial<PointFigures> = {}): PointFigures => ({
  index, params: { i: index }, totalTimeMs, downtimeMs, transferredBytes: 1000 + index, guestSlowdown: 1, completed: 1, runs: 1, ...extra,
});

describe('the frontier and the recommendation', () => {
  const pts = [fig(0, 10, 500), fig(1, 20, 100), fig(2, 30, 50), fig(3, 25, 120), fig(4, 40, 60), fig(5, null, null, { completed: 0 })];
  it('keeps the non-dominated points, by downtime', () => {
    expect(paretoFrontier(pts).map((p) => p.index)).toEqual([2, 1, 0]);
  });
  it('recommends the best objective among the settings that meet the target', () => {
    const r = recommend(pts, 120, 'total-time', (p) => `#${p.index}`);
    expect(r.met).toBe(true);
    expect(r.point?.index).toBe(1);
    expect(r.why).toMatch(/4 of 6 settings met the downtime target of 120 ms; #1 has the best total-time/);
    expect(recommend(pts, 120, 'bytes', (p) => `#${p.index}`).point?.index).toBe(1);
  });
  it('says so plainly when nothing meets the target, and gives the closest', () => {
    const r = recommend(pts, 10, 'total-time', (p) => `#${p.index}`);
    expect(r.met).toBe(false);
    expect(r.point?.index).toBe(2);
    expect(r.why).toMatch(/no setting met the downtime target of 10 ms; the closest is #2 with 50 ms/);
  });
});

describe('shards', () => {
  const run = (t: number): SweepRun => ({ outcome: 'converged', reason: null, verified: true, totalTimeMs: t, downtimeMs: t / 10, transferredBytes: t * 1000, rounds: 3, guestSlowdown: 1, seed: 1 });
  const whole: SweepDocument = {
    schemaVersion: 1, kind: 'sweep', tool: { name: 'migbench', version: '0' }, git: { commit: null, branch: null, dirty: null },
    env: { node: 'v20', v8: '', platform: 'linux', arch: 'x64', cpuModel: '', cpuCount: 2, totalMemBytes: 1, loadAvg: [0, 0, 0], ci: false },
    startedAt: 'a', finishedAt: 'b', mode: 'emulate', scenario: { name: 'x' }, axes: [{ key: 'k', values: [1, 2, 3, 4, 5] }], gridPoints: 5, shard: null, runs: 1,
    points: [0, 1, 2, 3, 4].map((i) => pointOf(i, { k: i + 1 }, [run(100 + i)])),
  };
  it('the slices of a sharded sweep merge into the whole', () => {
    const slice = (index: number): SweepDocument => ({ ...whole, shard: { index, count: 2 }, points: whole.points.filter((p) => shardIndices(5, { index, count: 2 }).includes(p.index)) });
    expect(mergeSweeps([slice(2), slice(1)], ['2', '1'])).toEqual(whole);
  });
  it('CSV: a text value a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers (issue 20)', () => {
    const doc: SweepDocument = {
      ...whole,
      axes: [{ key: 'k', values: ['=HYPERLINK("http://x")', '+1', '-5', '@SUM(A1)', 'plain'] }],
      points: ['=HYPERLINK("http://x")', '+1', '-5', '@SUM(A1)', 'plain'].map((k, i) => pointOf(i, { k }, [run(-1 - i)])),
    };
    const rows = sweepToCsv(doc).trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 2));
    expect(rows.map((r) => r[1])).toEqual(['"\'=HYPERLINK(""http://x"")"', "'+1", "'-5", "'@SUM(A1)", 'plain']);
    expect(sweepToCsv(doc)).toContain(',-1,'); // a negative number is not a formula
  });
  it('reads a sweep file back, refusing a malformed one with E_RESULT (what merge reads)', () => {
    expect(parseSweepDocument(JSON.parse(JSON.stringify(whole)), 'w.json')).toEqual(whole);
    const refusals: [unknown, RegExp][] = [
      [[whole], /^w\.json: expected a JSON object \(a migbench sweep file\), got an array$/],
      [{ ...whole, kind: 'suite' }, /^w\.json: not a migbench sweep file/],
      [{ ...whole, points: {} }, /^w\.json: points: expected an array, got an object$/],
      [{ ...whole, points: [{ ...whole.points[0], runsDetail: null }] }, /^w\.json: points\[0\]: runsDetail: expected an array, got null$/],
      [{ ...whole, points: [{ ...whole.points[0], index: 9 }] }, /^w\.json: points\[0\]: index: expected a grid point from 0 to 4, got 9$/],
      [{ ...whole, axes: [{ key: 'k' }] }, /^w\.json: axes\[0\]: expected \{ key, values \}/],
      // found by fuzzing: merge refused one file holding a point twice as two overlapping slices (E_USAGE)
      [{ ...whole, points: [whole.points[0], whole.points[0]] }, /^w\.json: points\[1\]: grid point 0 appears twice$/],
      // found by fuzzing: merge wrote it back with JSON.stringify, which threw a RangeError
      [{ ...whole, scenario: JSON.parse(`{"name":${'['.repeat(20000)}1${']'.repeat(20000)}}`) }, /^w\.json: nested more than 100 levels deep/],
    ];
    for (const [doc, message] of refusals) {
      let error: unknown;
      try {
        parseSweepDocument(doc, 'w.json');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MigbenchError);
      expect((error as MigbenchError).code).toBe('E_RESULT');
      expect((error as Error).message).toMatch(message);
    }
  });
  it('refuses slices of different sweeps and overlapping slices', () => {
    expect(() => mergeSweeps([whole, { ...whole, runs: 3 }], ['a', 'b'])).toThrow(/b: a slice of another sweep/);
    expect(() => mergeSweeps([whole, whole], ['a', 'b'])).toThrow(/b: grid point 0 is in two slices/);
  });
  it('real sharded sweeps merge to the grid a whole sweep runs', () => {
    const common = ['--set', 'guest.memory=4MiB', '--set', 'workload.pattern=idle', '--set', 'link.bandwidth=1GiB/s', '--param', 'precopy.policy=qemu,xen,vmotion', '-q'];
    expect(migbench(['sweep', ...common, '--shard', '1/2', '--out', join(dir, 's1.json')]).status).toBe(0);
    expect(migbench(['sweep', ...common, '--shard', '2/2', '--out', join(dir, 's2.json')]).status).toBe(0);
    const merged = migbench(['merge', join(dir, 's1.json'), join(dir, 's2.json'), '--json', '--csv', join(dir, 'm.csv')]);
    expect(merged.status).toBe(0);
    const doc = JSON.parse(merged.stdout) as SweepDocument;
    expect(doc.points.map((p) => p.params)).toEqual([{ 'precopy.policy': 'qemu' }, { 'precopy.policy': 'xen' }, { 'precopy.policy': 'vmotion' }]);
    expect(doc.points.every((p) => p.completed === 1 && p.outcomes.converged === 1)).toBe(true);
    expect(doc.shard).toBeNull();
    expect(readFileSync(join(dir, 'm.csv'), 'utf8').split('\n')[0]).toBe('index,precopy.policy,outcome,completed,runs,total_time_ms,downtime_ms,transferred_bytes,rounds,guest_slowdown');
  });
  it('bad flags exit 2', () => {
    expect(migbench(['sweep', '--param', 'guest.vcpus=1,100']).status).toBe(2);
    expect(migbench(['sweep']).stderr).toMatch(/give at least one --param/);
    expect(migbench(['tune', '--max-downtime', 'soon']).stderr).toMatch(/--max-downtime: expected a duration/);
    expect(migbench(['tune', '--max-downtime', '1s', '--search', 'guest.vcpus']).stderr).toMatch(/--search: no default candidates for "guest\.vcpus"/);
  });
});

describe('tune', () => {
  const known = [
    'tune', '--set', 'guest.memory=16MiB', '--set', 'workload.workingSet=4MiB', '--set', 'link.bandwidth=64MiB/s',
    '--set', 'precopy.timeoutMs=10000', '--set', 'precopy.onTimeout=force',
    '--param', 'precopy.downtimeLimitMs=20,60,200', '--max-downtime', '100ms', '--json', '-q',
  ];
  it('emulate mode: recommends from what this machine measured, and --apply writes the recommendation', () => {
    // Which limit meets 100 ms on real threads is this machine's speed (a busy machine pauses the guest
    // longer), so the known answer is held in simulate mode below. Here what holds at any speed: every
    // setting completes (onTimeout force), and the recommendation, the frontier and the applied scenario
    // are the ones the measured points give.
    // a 2 s timeout: the 20 ms limit never converges here either, and real time is the test's cost
    const apply = join(dir, 'tuned.json');
    const r = migbench([...known.map((a) => (a === 'precopy.timeoutMs=10000' ? 'precopy.timeoutMs=2000' : a)), '--apply', apply]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { met: boolean; recommendation: PointFigures; frontier: PointFigures[]; points: PointFigures[]; why: string };
    expect(out.points.map((p) => p.params)).toEqual([20, 60, 200].map((v) => ({ 'precopy.downtimeLimitMs': v })));
    for (const p of out.points) expect(p.completed).toBe(1);
    const rec = recommend(out.points, 100, 'total-time', () => '');
    expect(out.met).toBe(rec.met);
    expect(out.recommendation.index).toBe(rec.point!.index);
    expect(out.frontier.map((p) => p.index)).toEqual(paretoFrontier(out.points).map((p) => p.index));
    expect(out.frontier.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(apply, 'utf8')).precopy.downtimeLimitMs).toBe(out.recommendation.params['precopy.downtimeLimitMs']);
  });

  it('finds the answer the model predicts (simulate mode): the largest downtime limit whose downtime meets the target', () => {
    // The downtime follows the limit (DESIGN §6: downtime ≈ pending at the switch ÷ bandwidth, the pending
    // below threshold = bandwidth × limit): 20 and 60 ms meet 100 ms, 200 does not; the larger limit of the
    // two ends the live phase sooner (20 ms never converges: its hot set stays above the threshold until
    // the timeout forces the stop), so it has the best total time.
    const apply = join(dir, 'tuned-sim.json');
    const r = migbench([...known, '--mode', 'simulate', '--jobs', '2', '--apply', apply]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.met).toBe(true);
    expect(out.recommendation.params).toEqual({ 'precopy.downtimeLimitMs': 60 });
    expect(out.frontier.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(apply, 'utf8')).precopy.downtimeLimitMs).toBe(60);
    expect(out.why).toMatch(/^2 of 3 settings met the downtime target of 100 ms; precopy\.downtimeLimitMs=60 has the best total-time among them$/);
    // downtime follows the limit (DESIGN §6): below it plus the device state's time on the link (256 KiB
    // at 64 MiB/s: 3.9 ms) where the run converged; where the timeout forced the stop, the pending set was
    // still above the threshold at the last sync, so the downtime is at least near the limit. (Since
    // issue 15 the loop syncs once per QEMU iteration, so the pending set no longer hovers at the
    // threshold and a converged downtime may sit well below the limit: 121.7 ms at 200 ms.)
    const deviceMs = ((256 * 1024) / (64 * 1024 * 1024)) * 1000;
    for (const p of out.points as { params: Record<string, number>; downtimeMs: number }[]) {
      const limit = p.params['precopy.downtimeLimitMs'];
      if (limit === 20) expect(p.downtimeMs).toBeGreaterThan(limit * 0.9);
      else expect(p.downtimeMs).toBeLessThanOrEqual(limit + deviceMs + 1e-6);
    }
  });
});

describe('simulate mode', () => {
  // small guests: every run is a few milliseconds of simulation
  const small = ['--set', 'guest.memory=16MiB', '--set', 'workload.workingSet=4MiB', '--set', 'link.bandwidth=64MiB/s', '--set', 'precopy.timeoutMs=10000', '--set', 'precopy.onTimeout=force'];
  const grid = ['--param', 'precopy.downtimeLimitMs=20,60,200', '--param', 'precopy.policy=qemu,xen'];
  const base = { guest: { memory: '16MiB' }, workload: { workingSet: '4MiB' }, link: { bandwidth: '64MiB/s' }, precopy: { timeoutMs: 10000, onTimeout: 'force' } };
  const axes = [{ key: 'precopy.downtimeLimitMs', values: [20, 60, 200] }, { key: 'precopy.policy', values: ['qemu', 'xen'] }];
  const points = expandGrid(axes);
  const sweep = (jobs: number, runs = 1, indices = points.map((_, i) => i)) =>
    runSweep({ base, axes, points, indices, shard: null, runs, mode: 'simulate', jobs });

  it('simulates every grid point, in grid order, and writes JSON and CSV', () => {
    const r = migbench(['sweep', ...small, ...grid, '--mode', 'simulate', '--jobs', '1', '--out', join(dir, 'sim.json'), '--csv', join(dir, 'sim.csv'), '-q']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SweepDocument;
    expect(doc.mode).toBe('simulate');
    expect(doc.gridPoints).toBe(6);
    expect(doc.points.map((p) => p.params)).toEqual(points);
    for (const p of doc.points) {
      expect(p.completed).toBe(1);
      expect(p.runsDetail[0].verified).toBeNull(); // nothing to verify: no bytes moved
      expect(p.runsDetail[0].seed).toBe(1); // the scenario's seed
      expect(p.downtimeMs).toBeGreaterThan(0);
    }
    const csv = readFileSync(join(dir, 'sim.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('index,precopy.downtimeLimitMs,precopy.policy,outcome,completed,runs,total_time_ms,downtime_ms,transferred_bytes,rounds,guest_slowdown');
    expect(csv).toHaveLength(7);
    expect(csv[1]).toMatch(/^0,20,qemu,/);
    expect(csv[6]).toMatch(/^5,200,xen,/);
    expect(readFileSync(join(dir, 'sim.csv'), 'utf8')).toBe(sweepToCsv(doc));
  });

  it('gives the same points whatever --jobs is (a pool of 2 threads against this thread)', async () => {
    const one = await sweep(1, 2);
    const two = await sweep(2, 2);
    expect(two.points).toEqual(one.points);
    expect(two.mode).toBe('simulate');
    // and from the command line: the same CSV
    const csv = (jobs: string) => {
      const file = join(dir, `jobs${jobs}.csv`);
      expect(migbench(['sweep', ...small, ...grid, '--mode', 'simulate', '--jobs', jobs, '--csv', file, '-q']).status).toBe(0);
      return readFileSync(file, 'utf8');
    };
    expect(csv('2')).toBe(csv('1'));
  });

  it('gives each run of a point a seed of its own, the same at every point; run 1 keeps the scenario seed', async () => {
    expect(runSeed(7, 0)).toBe(7);
    expect(runSeed(7, 2)).toBe(deriveSeed(7, 20_002));
    const doc = await sweep(1, 3);
    for (const p of doc.points) expect(p.runsDetail.map((r) => r.seed)).toEqual([1, runSeed(1, 1), runSeed(1, 2)]);
    expect(new Set(doc.points[0].runsDetail.map((r) => r.seed)).size).toBe(3);
    // the first run of each point is the one-run sweep's run
    const single = await sweep(1, 1);
    expect(doc.points.map((p) => p.runsDetail[0])).toEqual(single.points.map((p) => p.runsDetail[0]));
  });

  it('shards merge into exactly the whole sweep', async () => {
    const whole = await sweep(1);
    const common = [...small, ...grid, '--mode', 'simulate', '-q'];
    expect(migbench(['sweep', ...common, '--shard', '1/2', '--jobs', '2', '--out', join(dir, 'p1.json')]).status).toBe(0);
    expect(migbench(['sweep', ...common, '--shard', '2/2', '--jobs', '1', '--out', join(dir, 'p2.json')]).status).toBe(0);
    const merged = migbench(['merge', join(dir, 'p2.json'), join(dir, 'p1.json'), '--json']);
    expect(merged.status).toBe(0);
    const doc = JSON.parse(merged.stdout) as SweepDocument;
    expect(doc.mode).toBe('simulate');
    expect(doc.shard).toBeNull();
    expect(doc.points).toEqual(whole.points);
  });

  it('merge refuses slices of different modes', () => {
    const slice = JSON.parse(readFileSync(join(dir, 'p2.json'), 'utf8')) as SweepDocument;
    writeFileSync(join(dir, 'p2-emulate.json'), JSON.stringify({ ...slice, mode: 'emulate' }));
    const r = migbench(['merge', join(dir, 'p1.json'), join(dir, 'p2-emulate.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/p2-emulate\.json: a sweep in emulate mode, .*p1\.json one in simulate mode: merge joins the slices of one sweep, run in one mode/);
    expect(() => mergeSweeps([slice, { ...slice, mode: 'emulate' }], ['a', 'b'])).toThrow(/^b: a sweep in emulate mode, a one in simulate mode/);
  });

  it.each<[string, string[], RegExp]>([
    ['--jobs above 1 in emulate mode', ['--jobs', '2'], /^error: --jobs: emulate mode runs one migration at a time \(migrations running together would disturb each other's timing\); more than 1 needs --mode simulate, got 2$/],
    ['--jobs 0', ['--mode', 'simulate', '--jobs', '0'], /^error: --jobs: expected a whole number >= 1, got "0"$/],
    ['an unknown mode', ['--mode', 'fast'], /^error: --mode: expected one of emulate, simulate, got "fast"$/],
    ['a point simulate mode cannot model', ['--mode', 'simulate', '--param', 'link.bandwidth=1Gbit/s,unlimited'], /^error: grid point 1 \(precopy\.downtimeLimitMs=20 link\.bandwidth="unlimited"\): link\.bandwidth: simulate mode needs a finite rate/],
    ['a fleet', ['--mode', 'simulate', '--set', 'fleet={"count":4,"concurrency":2}'], /^error: grid point 0 \(.*\): fleet: a sweep tabulates one guest's migration/],
  ])('sweep refuses %s: exit 2, one line, no stack', (_what, args, message) => {
    const r = migbench(['sweep', ...small, '--param', 'precopy.downtimeLimitMs=20,60', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it.each(['1', '2'])('Ctrl-C stops a simulated sweep between runs (--jobs %s): exit 130, nothing written', async (jobs) => {
    const out = join(dir, `interrupted${jobs}.json`);
    const child = spawn(process.execPath, [BIN, 'sweep', '--mode', 'simulate', '--jobs', jobs, '--param', `seed=${Array.from({ length: 300 }, (_, i) => i + 1).join(',')}`, '--out', out], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('[1/300]')) sent = child.kill('SIGINT'); // once: a second Ctrl-C quits at once
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: no result written/);
    expect(existsSync(out)).toBe(false);
  });

  it('tune refuses --jobs above 1 in emulate mode', () => {
    const r = migbench(['tune', '--max-downtime', '100ms', '--jobs', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: --jobs: emulate mode runs one migration at a time.*got 3$/);
  });
});
