/**
 * The terminal (issue 18, item 9): data on stdout, human output on stderr for every command; tables
 * that fit the terminal's width; the table of medians `suite` ends with; when a progress bar is drawn;
 * a suite ETA from measured durations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { comparisonStream } from '../src/cli/compare.ts';
import { formatEta, nextBenchmark, suiteEtaMs } from '../src/cli/suite-eta.ts';
import { renderSuiteMedians } from '../src/cli/suite-medians.ts';
import { DEFAULT_COLUMNS, MIN_COLUMN_WIDTH, fitColumnWidths, fittedColWidths, showProgressBar, terminalColumns } from '../src/cli/terminal.ts';
import { GuestMemory, PROGRESS_BYTES, guestLayout } from '../src/memory/guest-memory.ts';
import { colorsFor } from '../src/report/style.ts';
import { fillGuest } from '../src/workload/fill.ts';
import { metricSeries, suiteDocumentToJson, type SuiteDocument } from '../src/results/suite-document.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-terminal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migbench = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
const plain = colorsFor({ isTTY: false } as NodeJS.WriteStream, { NO_COLOR: '1' });
const widest = (text: string): number => Math.max(...stripVTControlCharacters(text).split('\n').map((l) => [...l].length));

function suiteDoc(names: string[], factor = 1): SuiteDocument {
  return {
    schemaVersion: 1, kind: 'suite', tool: { name: 'migbench', version: '0.1.0' }, suite: 'smoke',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    env: { node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2, totalMemBytes: 1, loadAvg: [0, 0, 0], ci: false },
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', mode: 'emulate', seed: 1, runs: 5, warmup: 1,
    benchmarks: names.map((name) => ({
      name,
      scenario: { name },
      metrics: {
        'precopy.total-time': metricSeries('ms', 'lower', [400, 430, 410, 420, 900].map((x) => x * factor)),
        'precopy.downtime': metricSeries('ms', 'lower', [20, 22, 21, 23, 24].map((x) => x * factor)),
        'precopy.transferred': metricSeries('B', 'lower', [1, 2, 3, 4, 5].map((x) => x * 16 * 2 ** 20)),
        'precopy.rounds': metricSeries('count', 'lower', [3, 3, 4, 3, 3]),
        'quick.downtime': metricSeries('ms', 'lower', [300, 310, 305, 320, 315]),
        'quick.total-time': metricSeries('ms', 'lower', [300, 310, 305, 320, 315]),
        'quick.saved': metricSeries('B', 'lower', [16, 16, 16, 16, 16].map((x) => x * 2 ** 20)),
      },
    })),
  };
}

describe('data on stdout, human output on stderr', () => {
  it('predict: the summary on stderr, stdout empty; --json: the document alone on stdout', () => {
    const r = migbench(['predict', '--set', 'guest.memory=64MiB']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/migbench predict: default/);
    expect(r.stderr).toMatch(/closed form/);
    expect(r.stderr).not.toMatch(/DESIGN/); // the package does not ship DESIGN.md
    const j = migbench(['predict', '--set', 'guest.memory=64MiB', '--json']);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout).precopy).toBeTruthy();
  });

  it('predict --help cites nothing the package does not ship', () => {
    const r = migbench(['predict', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/DESIGN/);
  });

  it('sweep and tune: the table on stderr, stdout empty without --json', () => {
    const sweep = migbench(['sweep', '--mode', 'simulate', '--jobs', '1', '--set', 'guest.memory=64MiB', '--param', 'precopy.downtimeLimitMs=30,300']);
    expect(sweep.status).toBe(0);
    expect(sweep.stdout).toBe('');
    expect(sweep.stderr).toMatch(/│ downtime +│ transferred/);
    const tune = migbench(['tune', '--mode', 'simulate', '--jobs', '1', '--set', 'guest.memory=64MiB', '--max-downtime', '300ms', '--param', 'precopy.downtimeLimitMs=30,300']);
    expect(tune.status).toBe(0);
    expect(tune.stdout).toBe('');
    expect(tune.stderr).toMatch(/recommendation|no setting meets the target/);
    expect(tune.stderr).toMatch(/Pareto frontier/);
  });

  it('compare: the text table on stderr; --format markdown|json on stdout (so `> file` keeps working)', () => {
    const base = join(dir, 'base.json');
    writeFileSync(base, suiteDocumentToJson(suiteDoc(['idle'])));
    const text = migbench(['compare', base, base]);
    expect(text.status).toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/geomean/);
    const md = migbench(['compare', base, base, '--format', 'markdown']);
    expect(md.status).toBe(0);
    expect(md.stdout).toMatch(/^### migbench compare/);
    expect(md.stderr).toBe('');
    const json = migbench(['compare', base, base, '--format', 'json']);
    expect(JSON.parse(json.stdout).outcome).toBe('no-regression');
    expect([comparisonStream('text'), comparisonStream('markdown'), comparisonStream('json')]).toEqual(['stderr', 'stdout', 'stdout']);
  });
});

describe('tables fit the terminal', () => {
  it('terminal width: a TTY says, anything else is 100 columns', () => {
    expect(terminalColumns({ isTTY: true, columns: 72 })).toBe(72);
    expect(terminalColumns({ isTTY: false, columns: 72 })).toBe(DEFAULT_COLUMNS);
    expect(terminalColumns({})).toBe(100);
    expect(terminalColumns({ isTTY: true, columns: 0 })).toBe(100);
  });

  it('fitColumnWidths: unchanged when it fits; else the widest columns shrink, never below a floor', () => {
    expect(fitColumnWidths([10, 20, 30], 100)).toEqual([10, 20, 30]);
    // 3 columns: 4 border characters; 40 - 4 = 36 for the cells
    const w = fitColumnWidths([10, 20, 30], 40);
    expect(w.reduce((a, b) => a + b, 0) + 4).toBeLessThanOrEqual(40);
    expect(w[0]).toBe(10); // the narrow one kept
    expect(w[1]).toBe(w[2]); // the wide ones cut to one cap
    // a longest word is kept whole while that is enough
    expect(fitColumnWidths([30, 30], 43, [20, 10])).toEqual([20, 20]);
    // too narrow for anything: the floor
    expect(fitColumnWidths([30, 30, 30], 10)).toEqual([MIN_COLUMN_WIDTH, MIN_COLUMN_WIDTH, MIN_COLUMN_WIDTH]);
    // colour does not count
    expect(fittedColWidths([['\u001b[1mab\u001b[22m']], 100)).toEqual([4]);
  });

  it('the table of medians suite ends with: one row per benchmark, each metric\'s median, within the width', () => {
    const doc = suiteDoc(['idle-16m', 'hotset-16m-with-a-rather-long-name-that-goes-on-and-on'], 1);
    for (const columns of [60, 80, 100, 160]) {
      const out = renderSuiteMedians(doc, plain, columns);
      expect(widest(out)).toBeLessThanOrEqual(columns);
      expect(out).toMatch(/^medians of 5 runs \(emulate mode\)/);
      if (columns >= 80) expect(out).toContain('420 ms'); // the median, not the mean (468) nor the last (900)
      if (columns >= 100) expect(out).toMatch(/│ idle-16m +│/);
      if (columns >= 100) expect(out).toMatch(/pre-copy +│ +pre-copy +│/); // heads wrap at spaces, not inside words
    }
    const wide = renderSuiteMedians(doc, plain, 200);
    expect(wide).toContain('hotset-16m-with-a-rather-long-name-that-goes-on-and-on'); // whole when it fits
    expect(wide).toMatch(/pre-copy downtime/);
    expect(wide).toContain('48.0 MiB');
  });
});

describe('the progress bar', () => {
  it('is drawn on a terminal only, never with --quiet or TERM=dumb; NO_COLOR does not hide it (it has no colour)', () => {
    expect(showProgressBar({ isTTY: true }, false, {})).toBe(true);
    expect(showProgressBar({ isTTY: false }, false, {})).toBe(false);
    expect(showProgressBar({}, false, {})).toBe(false);
    expect(showProgressBar({ isTTY: true }, true, {})).toBe(false);
    expect(showProgressBar({ isTTY: true }, false, { TERM: 'dumb' })).toBe(false);
    expect(showProgressBar({ isTTY: true }, false, { NO_COLOR: '1' })).toBe(true);
  });

  // a pseudo-terminal from util-linux `script`: the run sees a TTY on stderr. An 8 MiB idle guest on a
  // 50 Mbit/s link: the bulk round takes ≥ 1.3 s at any machine speed (the link caps it), the bar ticks every 200 ms.
  const hasScript = existsSync('/usr/bin/script');
  const TINY_SLOW = ['run', '--only', 'precopy', '--set', 'guest.memory=8MiB', '--set', 'workload.pattern=idle', '--set', 'link.bandwidth=50Mbit/s'];
  const onPty = (args: string[]) =>
    spawnSync('script', ['-qec', [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' } });

  it.skipIf(!hasScript)('run on a terminal: a live bar while allocating and during a round, cleared before each line', () => {
    const r = onPty(TINY_SLOW);
    expect(r.status).toBe(0);
    const out = r.stdout; // script puts the terminal's output on its stdout
    expect(out).toMatch(/allocating: [\d.]+ MiB of 24\.0 MiB/);
    expect(out).toMatch(/round 0: [\d,]+ pages of 2,048 pages/);
    // the bar is taken off (erase line) before the round's line is written
    expect(out).toMatch(/\u001b\[2Kround {3}0 bulk/);
    expect(out).toMatch(/verdict|pre-copy/);
  });

  it.skipIf(!hasScript)('run on a terminal with --quiet: no bar; on a pipe: no bar', () => {
    const quiet = onPty([...TINY_SLOW, '--quiet']);
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).not.toMatch(/round 0: |allocating: /);
    const piped = migbench(TINY_SLOW);
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toMatch(/round 0: |allocating: |\u001b\[/);
    expect(piped.stderr).toMatch(/^round {3}0 bulk/m);
  });

  it('a suite on a pipe prints lines, no bar (no carriage returns or cursor codes)', () => {
    const r = migbench(['suite', fileURLToPath(new URL('../bench/suites/smoke.json', import.meta.url)), '--mode', 'simulate', '--jobs', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\r|\u001b\[/);
    expect(r.stderr).toMatch(/^\[1\/2\] idle-16m run 1\/1 \(.*, about \d+ s left\)$/m);
    expect(r.stderr).toMatch(/medians of 1 run \(simulate mode\)\n/);
    expect(r.stderr).toMatch(/│ hotset-16m +│/);
  });
});

describe('allocation progress', () => {
  it('touch and fill report growing byte counts up to the guest size, and fill the same bytes as without', () => {
    const layout = guestLayout(40 * 2 ** 20, 4096);
    const weights = { zero: 0.3, random: 0.4, text: 0.3 };
    const plainFill = new GuestMemory(layout);
    fillGuest(plainFill, weights, 7);
    const watched = new GuestMemory(layout);
    const touched: number[] = [];
    watched.touch((done) => touched.push(done));
    const filled: number[] = [];
    fillGuest(watched, weights, 7, (done) => filled.push(done));
    for (const seen of [touched, filled]) {
      expect(seen.length).toBeGreaterThanOrEqual(3); // 40 MiB in 16 MiB steps
      expect(seen.every((d, i) => i === 0 || d > seen[i - 1])).toBe(true);
      expect(seen.at(-1)).toBe(40 * 2 ** 20);
      expect(seen[0]).toBeLessThanOrEqual(PROGRESS_BYTES);
    }
    expect(Buffer.compare(Buffer.from(watched.views[0]), Buffer.from(plainFill.views[0]))).toBe(0);
  });
});

describe('the suite ETA', () => {
  it('nothing measured: no estimate', () => {
    expect(suiteEtaMs({ warmup: 0, durationsMs: [[], []], remainingRuns: [6, 6], current: 0, currentElapsedMs: 500 })).toBeNull();
  });

  it('costs each benchmark at its own measured runs, warm-up included: exact for steady runs of unequal length', () => {
    // a 16 MiB benchmark of 1 s and a 1 GiB one of 20 s, 1 warm-up + 5 runs each, interleaved;
    // after the first pass: 5 runs of each left = 5 × 21 s
    expect(suiteEtaMs({ warmup: 0, durationsMs: [[1000], [20_000]], remainingRuns: [5, 5], current: 0, currentElapsedMs: 0 })).toBe(105_000);
    // the rate of the last run alone (what a rate-based ETA extrapolates from) would say 10 × 20 s or 10 × 1 s
    // the run in progress counts what it has left: 5 s into a 20 s run
    expect(suiteEtaMs({ warmup: 0, durationsMs: [[1000, 1000], [20_000]], remainingRuns: [4, 5], current: 1, currentElapsedMs: 5000 })).toBe(4 * 1000 + 5 * 20_000 - 5000);
    // a run that overruns its estimate leaves nothing of it, never a negative time
    expect(suiteEtaMs({ warmup: 0, durationsMs: [[1000], [20_000]], remainingRuns: [1, 0], current: 0, currentElapsedMs: 9000 })).toBe(0);
  });

  it('a benchmark not measured yet is costed at the mean of the runs measured', () => {
    expect(suiteEtaMs({ warmup: 0, durationsMs: [[2000], []], remainingRuns: [5, 6], current: 1, currentElapsedMs: 0 })).toBe(11 * 2000);
  });

  it('once a benchmark has measured runs, its warm-up (start-up included) no longer counts', () => {
    // the smoke suite here: warm-ups of 2.4 and 2.2 s, measured runs of 1.0 and 1.6 s; 4 runs of each left
    const input = { warmup: 1, durationsMs: [[2400, 1000], [2200, 1600]], remainingRuns: [4, 4], current: null, currentElapsedMs: 0 };
    expect(suiteEtaMs(input)).toBe(4 * 1000 + 4 * 1600);
    // only warm-ups so far: they are all there is
    expect(suiteEtaMs({ ...input, durationsMs: [[2400], [2200]], remainingRuns: [5, 5] })).toBe(5 * 2400 + 5 * 2200);
  });

  it('formatEta: whole seconds, then minutes, then hours', () => {
    expect(formatEta(0)).toBe('0 s');
    expect(formatEta(8200)).toBe('9 s');
    expect(formatEta(125_000)).toBe('2 min 05 s');
    expect(formatEta(3_723_000)).toBe('1 h 02 min');
  });

  it('the next benchmark: pass by pass', () => {
    expect([0, 1, 2, 3, 4, 5].map((d) => nextBenchmark(d, 3, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(nextBenchmark(6, 3, 6)).toBeNull();
  });
});
