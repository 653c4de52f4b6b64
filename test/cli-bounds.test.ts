/**
 * Issue 20, attack 4 and the timer overflow of attack 6, as a user meets them: the real binary in a
 * child process. Inputs whose cost had no bound are refused in one line (exit 2) before anything is
 * built, and a long simulate-mode run stops at Ctrl-C or SIGTERM. Time limits here are hang guards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function migbench(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** exit 2 with exactly one line on stderr, matching `line`, and no stack trace */
function expectRefused(r: ReturnType<typeof migbench>, line: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr.trim()).toMatch(line);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('simulate mode: modelled work is bounded up front', () => {
  it.each([
    ['workload.dirtyRate=10M/s', /^error: workload\.dirtyRate: simulate mode models at most 200,000,000 guest writes per run; .*lower workload\.dirtyRate or precopy\.timeoutMs.*, got 10,000,000\/s$/],
    ['workload.dirtyRate=1G/s', /^error: workload\.dirtyRate: simulate mode models at most/],
    ['link.bandwidth=1bit/s', /^error: link\.bandwidth: simulate mode models at most 10,000,000 guest writes in one step \(.*raise link\.bandwidth or lower workload\.dirtyRate.*, got 1 bit\/s$/],
  ])('a 64 MiB guest with %s is refused in one line (it ran for minutes, or never ended)', (set, line) => {
    const r = migbench(['run', '--mode', 'simulate', '--set', 'guest.memory=64MiB', '--set', set, '--json']);
    expectRefused(r, line);
    expect(r.stdout).toBe('');
  });

  it('a sweep point above the bound is refused before any point runs', () => {
    const r = migbench(['sweep', '--mode', 'simulate', '--jobs', '1', '--set', 'guest.memory=64MiB', '--param', 'workload.dirtyRate=1000,1G/s']);
    expectRefused(r, /^error: grid point 1 \(workload\.dirtyRate="1G\/s"\): workload\.dirtyRate: simulate mode models at most/);
  });
});

/** Start the binary, send `signal` once `ready` shows on stderr, collect how it ended (or null after the hang guard). */
async function interrupt(args: string[], ready: RegExp, signal: NodeJS.Signals, delayMs = 0, guardMs = 20_000) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  let stdout = '';
  let sentAt: number | null = null;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (sentAt === null && ready.test(stderr)) {
      sentAt = performance.now() + delayMs;
      setTimeout(() => child.kill(signal), delayMs);
    }
  });
  let guard: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s]))),
    new Promise<null>((resolve) => (guard = setTimeout(() => resolve(null), 60_000))),
  ]);
  clearTimeout(guard);
  const afterSignalMs = sentAt === null ? null : performance.now() - sentAt;
  if (ended === null) child.kill('SIGKILL');
  return { ended, afterSignalMs, guardMs, stderr, stdout };
}

/**
 * About 1.9e8 guest writes (just under the bound): seconds of wall time at the least. It never
 * converges, so it runs ~500 live rounds to the timeout, then (onTimeout force) a stop-and-copy: a run
 * that printed the stop-and-copy was not stopped by the signal, it finished and only then exited 130.
 */
const LONG = ['--set', 'guest.memory=64MiB', '--set', 'workload.dirtyRate=1600000', '--set', 'precopy.onTimeout=force'];

describe('Ctrl-C and SIGTERM stop a simulate-mode run (it ran synchronously: no signal handler could run)', () => {
  it.each([['SIGINT', 130, 'interrupted'], ['SIGTERM', 143, 'terminated \\(SIGTERM\\)']] as const)('run: %s after the first round exits %d', async (signal, exitCode, word) => {
    const r = await interrupt(['run', '--mode', 'simulate', ...LONG, '--json'], /round +0 bulk/, signal);
    expect(r.ended, r.stderr).not.toBeNull();
    expect(r.afterSignalMs!).toBeLessThan(r.guardMs); // a hang guard, not a speed assertion
    expect(r.ended).toEqual([exitCode, null]); // it exited by itself, not by the signal's default action
    expect(r.stderr).toMatch(new RegExp(`${word}: the guest stays on the source; no result written`));
    expect(r.stderr).not.toMatch(/stop-and-copy/); // stopped mid-simulation, not after it
    expect(r.stdout).toBe('');
  }, 90_000);

  it('suite --jobs 1 (in this thread): SIGINT stops the running benchmark, exit 130', async () => {
    const file = join(dir, 'long-suite.json');
    writeFileSync(file, JSON.stringify({ name: 'long', methods: ['precopy'], scenarios: [{ name: 'long', guest: { memory: '64MiB' }, workload: { dirtyRate: 1_600_000 } }] }));
    // suite prints its plan line just before it starts listening for signals: give it a moment
    const r = await interrupt(['suite', file, '--mode', 'simulate', '--jobs', '1'], /migbench suite long/, 'SIGINT', 500);
    expect(r.ended, r.stderr).not.toBeNull();
    expect(r.afterSignalMs!).toBeLessThan(r.guardMs);
    expect(r.ended).toEqual([130, null]);
    expect(r.stdout).toBe('');
  }, 90_000);
});

describe('suite and sweep combinations are counted before anything is built', () => {
  const axes = ['guest.memory', 'workload.dirtyRate', 'link.bandwidth', 'precopy.downtimeLimitMs', 'workload.hotFraction', 'seed', 'guest.vcpus', 'precopy.timeoutMs'];

  it('an 8 × 20 suite matrix (it aborted at 4.5 GB) is refused with the count and the flag', () => {
    const file = join(dir, 'bomb.json');
    const matrix = Object.fromEntries(axes.map((k) => [k, Array.from({ length: 20 }, (_, i) => i + 1)]));
    writeFileSync(file, JSON.stringify({ name: 'bomb', matrix }));
    const r = migbench(['suite', file, '--mode', 'simulate']);
    expectRefused(r, /^error: suite\.matrix: expands to more than 10000 benchmarks \(give fewer values, or allow more with --max-points N\), got "25600000000 \(20 × 20 × 20 × 20 × 20 × 20 × 20 × 20\)"$/);
  });

  it('--max-points sets the suite cap both ways', () => {
    const file = join(dir, 'four.json');
    writeFileSync(file, JSON.stringify({ name: 'four', methods: ['quick'], base: { guest: { memory: '1MiB' } }, matrix: { seed: [1, 2], 'guest.vcpus': [1, 2] } }));
    expectRefused(migbench(['suite', file, '--mode', 'simulate', '--jobs', '1', '--max-points', '3']), /expands to more than 3 benchmarks.*got "4 \(2 × 2\)"$/);
    const ok = migbench(['suite', file, '--mode', 'simulate', '--jobs', '1', '--max-points', '4', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).benchmarks).toHaveLength(4);
  });

  it.each(['sweep', 'tune'])('%s: an 8 × 20 grid is refused with the count and the flag (it built every point)', (command) => {
    const params = axes.flatMap((k) => ['--param', `${k}=${Array.from({ length: 20 }, (_, i) => i + 1).join(',')}`]);
    const extra = command === 'tune' ? ['--max-downtime', '300ms'] : [];
    const r = migbench([command, '--mode', 'simulate', ...extra, ...params]);
    expectRefused(r, /^error: --param: the grid has 25,600,000,000 points \(20 × 20 × 20 × 20 × 20 × 20 × 20 × 20\), more than 10,000; give fewer values, or allow more with --max-points N$/);
  });

  it.each(['sweep', 'tune'])('%s: points × --runs counts against the cap, before any task is built', (command) => {
    const extra = command === 'tune' ? ['--max-downtime', '300ms'] : [];
    const r = migbench([command, '--mode', 'simulate', ...extra, '--param', 'seed=1,2,3', '--runs', '1000000000']);
    expectRefused(r, /^error: --runs: 3 points × 1,000,000,000 runs make 3,000,000,000 runs, more than 10,000; give fewer runs or values, or allow more with --max-points N$/);
  });

  it('sweep --max-points lowers the cap, and a bad value is a usage error', () => {
    expectRefused(migbench(['sweep', '--mode', 'simulate', '--param', 'seed=1,2,3', '--max-points', '2']), /the grid has 3 points \(3\), more than 2;/);
    expectRefused(migbench(['sweep', '--mode', 'simulate', '--param', 'seed=1,2,3', '--max-points', 'many']), /^error: --max-points: expected a whole number >= 1, got "many"$/);
  });
});

describe('JSON nested 50,000 levels deep is refused with E_SCENARIO (no stack overflow)', () => {
  const deepArray = `${'['.repeat(50_000)}1${']'.repeat(50_000)}`;
  const deepObject = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;

  it.each([['run', ['run', '--mode', 'simulate']], ['predict', ['predict']]])('%s: a scenario file', (_name, args) => {
    const file = join(dir, 'deep-scenario.json');
    writeFileSync(file, `{"name":"deep","guest":${deepObject}}`);
    expectRefused(migbench([...args, file]), /^error: scenario: nested more than 100 levels deep/);
  });

  it('suite: a suite file', () => {
    const file = join(dir, 'deep-suite.json');
    writeFileSync(file, `{"name":"deep","scenarios":[{"name":"a","guest":${deepObject}}]}`);
    expectRefused(migbench(['suite', file, '--mode', 'simulate']), /^error: suite: nested more than 100 levels deep/);
  });

  it('--set: a value that parses as JSON', () => {
    expectRefused(migbench(['run', '--mode', 'simulate', '--set', `guest=${deepArray}`]), /^error: --set guest: nested more than 100 levels deep/);
    expectRefused(migbench(['predict', '--set', `precopy.policyParams=${deepArray}`]), /^error: --set precopy\.policyParams: nested more than 100 levels deep/);
  });

  it.each(['sweep', 'tune'])('%s --param: a value (it overflowed the stack: "internal error: RangeError")', (command) => {
    const extra = command === 'tune' ? ['--max-downtime', '300ms'] : [];
    expectRefused(migbench([command, '--mode', 'simulate', ...extra, '--param', `guest=1,${deepArray}`]), /^error: --param guest: a value nested more than 100 levels deep/);
  });
});

describe('timer values above 2^31 − 1 ms (issue 20, attack 6)', () => {
  it('emulate mode refuses quick.handoverMs=3e9 in one line naming the limit (it hung, a TimeoutOverflowWarning every ms)', () => {
    const r = migbench(['run', '--only', 'quick', '--set', 'guest.memory=1MiB', '--set', 'quick.handoverMs=3e9']);
    expectRefused(r, /^error: quick\.handoverMs: emulate mode waits the hand-over out on a real timer, at most 2,147,483,647 ms \(597 h; --mode simulate and predict take any value\), got 3,000,000,000$/);
  });

  it('simulate mode and predict model 3e9 as given (no timer)', () => {
    const r = migbench(['run', '--mode', 'simulate', '--only', 'quick', '--set', 'guest.memory=1MiB', '--set', 'quick.handoverMs=3e9', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).quick.phases.handoverMs).toBe(3e9);
    const p = migbench(['predict', '--set', 'guest.memory=1MiB', '--set', 'quick.handoverMs=3e9', '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/"handoverMs": 3000000000\b/);
  });
});
