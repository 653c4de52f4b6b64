/**
 * `migbench ab` between commits of a throwaway git repository: a tiny fake project whose
 * bin/migbench.js implements just enough of the `migbench suite` contract (one benchmark, one
 * "precopy.downtime" sample per pass around a level read from level.txt, ±1% pid-based jitter).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { abCommand } from '../src/cli/ab.ts';
import type { AbCommandOptions } from '../src/cli/ab.ts';
import { MigbenchError } from '../src/errors.ts';
import { parseSuiteDocument } from '../src/results/suite-document.ts';
import { until } from './helpers/until.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const FAKE_BIN = `#!/usr/bin/env node
// A fake migbench: \`suite FILE --runs 1 --warmup 0 --out FILE --quiet [--set k=v ...]\` only.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fail = (code, message) => { process.stderr.write('fake migbench: ' + message + '\\n'); process.exit(code); };
const args = process.argv.slice(2);
if (args[0] !== 'suite' || args[1] === undefined) fail(2, 'usage: migbench suite FILE [options]');
const opts = { set: [] };
for (let i = 2; i < args.length; i++) {
  const a = args[i];
  if (a === '--quiet') opts.quiet = true;
  else if (a === '--runs' || a === '--warmup' || a === '--out') opts[a.slice(2)] = args[++i];
  else if (a === '--set') opts.set.push(args[++i]);
  else fail(2, 'unknown option ' + a);
}
if (opts.runs !== '1' || opts.warmup !== '0' || !opts.out || !opts.quiet) fail(2, 'expected --runs 1 --warmup 0 --out FILE --quiet');
if (existsSync(root + '/crash.txt')) fail(3, 'a worker crashed');
const sets = Object.fromEntries(opts.set.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
if (sets['fake.refuse']) fail(2, 'suite: unknown key fake.refuse');
if (sets['fake.started']) {
  // a pass that runs until stopped: it handles SIGTERM like migbench suite (a moment to stop, then exit 143),
  // and has a child of its own (in its process group) that only the group's signal ends
  const { spawn } = await import('node:child_process');
  const grandchild = spawn('sleep', ['60'], { stdio: 'ignore' });
  process.on('SIGTERM', () => {
    writeFileSync(sets['fake.started'] + '.stopping', String(process.pid));
    setTimeout(() => { writeFileSync(sets['fake.started'] + '.stopped', String(process.pid)); process.exit(143); }, 300);
  });
  writeFileSync(sets['fake.started'] + '.grandchild', String(grandchild.pid));
  writeFileSync(sets['fake.started'], String(process.pid));
  await new Promise((r) => setTimeout(r, 60000));
}
const suite = JSON.parse(readFileSync(args[1], 'utf8'));
const level = Number(readFileSync(root + '/level.txt', 'utf8'));
if (sets['fake.log']) appendFileSync(sets['fake.log'], level + '\\n');
const jitter = ((Math.imul(process.pid, 2654435761) >>> 0) % 2001 - 1000) / 100000; // ±1%
const value = level * (1 + jitter);
let commit = null;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}
const now = new Date().toISOString();
const summary = { n: 1, median: value, ciLow: null, ciHigh: null, ciLevel: null, mean: value, sd: null, min: value, max: value };
writeFileSync(opts.out, JSON.stringify({
  schemaVersion: 1, kind: 'suite', tool: { name: 'migbench', version: '0.0.0-fake' }, suite: suite.name,
  git: { commit, branch: null, dirty: false },
  env: { node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, cpuModel: 'fake', cpuCount: 1, totalMemBytes: 0, loadAvg: [0, 0, 0], ci: false },
  startedAt: now, finishedAt: now, seed: 1, runs: 1, warmup: 0,
  benchmarks: [{ name: 'hotset', scenario: { sets }, metrics: { 'precopy.downtime': { unit: 'ms', better: 'lower', exact: false, samples: [value], summary } } }],
}, null, 2));
`;

const root = mkdtempSync(join(tmpdir(), 'migbench-ab-test-'));
const repo = join(root, 'repo');
const suiteFile = join(repo, 'suite.json');
let sha1 = ''; // base: level 100
let sha2 = ''; // head: level 150
let sha3 = ''; // crashes

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function commit(message: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(repo, name, '..'), { recursive: true });
    writeFileSync(join(repo, name), text);
  }
  git('add', '-A');
  git('commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
}

function worktreeCount(): number {
  return git('worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length;
}

function options(over: Partial<AbCommandOptions>): AbCommandOptions {
  return {
    base: sha1,
    runs: '5',
    warmup: '1',
    set: [],
    alpha: '0.05',
    threshold: '5%',
    metricThreshold: [],
    format: 'text',
    failOn: 'regression',
    ...over,
  };
}

async function rejection(p: Promise<unknown>): Promise<MigbenchError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    return error as MigbenchError;
  }
  throw new Error('expected a MigbenchError, the promise resolved');
}

let lines: string[] = [];
const io = () => ({ log: (line: string) => lines.push(line), cwd: repo });
let stdout = '';
let stderr = '';

beforeAll(() => {
  mkdirSync(repo);
  git('init', '-q');
  git('config', 'user.name', 'migbench test');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'commit.gpgsign', 'false');
  sha1 = commit('base', {
    'package.json': `${JSON.stringify({ name: 'fake', version: '1.0.0', private: true, type: 'module', bin: { migbench: 'bin/migbench.js' } }, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify({ name: 'fake', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'fake', version: '1.0.0', bin: { migbench: 'bin/migbench.js' } } } }, null, 2)}\n`,
    'bin/migbench.js': FAKE_BIN,
    'level.txt': '100\n',
    'suite.json': `${JSON.stringify({ name: 'fake-smoke', scenarios: [{ name: 'hotset' }] })}\n`,
    '.gitignore': 'node_modules/\nmigbench-ab-*/\n',
  });
  sha2 = commit('head: slower', { 'level.txt': '150\n' });
  sha3 = commit('crashes', { 'crash.txt': 'yes\n' });
  git('checkout', '-q', sha1);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  lines = [];
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  // the text comparison is for a person: stderr, as with `migbench compare` (markdown and json: stdout)
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('migbench ab', () => {
  it('finds a planted regression between two commits: exit 1, both results and the comparison written, worktrees gone', async () => {
    const out = join(root, 'ab-regression');
    const order = join(root, 'order.log');
    const code = await abCommand(suiteFile, options({ head: sha2, outDir: out, set: [`fake.log=${order}`] }), io());
    expect(code).toBe(1);

    for (const f of ['base.json', 'head.json', 'comparison.md', 'comparison.json']) expect(existsSync(join(out, f))).toBe(true);
    const base = parseSuiteDocument(readFileSync(join(out, 'base.json'), 'utf8'), 'base.json');
    const head = parseSuiteDocument(readFileSync(join(out, 'head.json'), 'utf8'), 'head.json');
    expect(base.suite).toBe('fake-smoke');
    expect(base.runs).toBe(5);
    expect(base.warmup).toBe(1);
    expect(base.git.commit).toBe(sha1);
    expect(head.git.commit).toBe(sha2);
    const baseSamples = base.benchmarks[0].metrics['precopy.downtime'].samples;
    const headSamples = head.benchmarks[0].metrics['precopy.downtime'].samples;
    expect(baseSamples).toHaveLength(5);
    expect(headSamples).toHaveLength(5);
    // ±1 % jitter, reached exactly by 2 pids in 2001: allow the rounding of level × (1 ± 0.01)
    for (const v of baseSamples) expect(Math.abs(v / 100 - 1)).toBeLessThanOrEqual(0.01 + 1e-12);
    for (const v of headSamples) expect(Math.abs(v / 150 - 1)).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(base.benchmarks[0].scenario).toEqual({ sets: { 'fake.log': order } }); // --set reached every pass

    // interleaved: the warm-up pair, then base, head, base, head …
    expect(readFileSync(order, 'utf8').trim().split('\n')).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? '100' : '150')));

    const comparison = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
    expect(comparison.rows).toHaveLength(1);
    expect(comparison.rows[0]).toMatchObject({ benchmark: 'hotset', metric: 'precopy.downtime', verdict: 'regression' });
    expect(comparison.rows[0].p).toBeCloseTo(0.0079365, 6);
    expect(readFileSync(join(out, 'comparison.md'), 'utf8')).toMatch(/🔴 \*\*1 regression/);
    expect(stderr).toMatch(/regression/); // the comparison printed like `migbench compare`: text on stderr
    expect(stdout).toBe('');

    const s1 = sha1.slice(0, 7);
    const s2 = sha2.slice(0, 7);
    expect(lines).toContain(`warm-up 1/2 base (${s1})`);
    expect(lines).toContain(`warm-up 2/2 head (${s2})`);
    expect(lines).toContain(`pass 1/10 base (${s1})`);
    expect(lines.some((l) => l.startsWith(`pass 3/10 base (${s1})`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`pass 10/10 head (${s2})`))).toBe(true);
    expect(worktreeCount()).toBe(1);
  }, 240_000); // a hang guard: 10–12 node processes and two git worktrees, slow on a loaded machine

  it('exits 0 when both sides run the same code, into the default output directory', async () => {
    const code = await abCommand('suite.json', options({ head: sha1, runs: '5', warmup: '0', format: 'markdown' }), io());
    expect(code).toBe(0);
    const out = join(repo, `migbench-ab-${sha1.slice(0, 7)}-${sha1.slice(0, 7)}`);
    const base = parseSuiteDocument(readFileSync(join(out, 'base.json'), 'utf8'), 'base.json');
    expect(base.benchmarks[0].metrics['precopy.downtime'].samples).toHaveLength(5);
    expect(base.warmup).toBe(0);
    expect(lines.some((l) => l.startsWith('warm-up'))).toBe(false);
    expect(stdout).toMatch(/^### migbench compare: suite `fake-smoke`/);
    expect(worktreeCount()).toBe(1);
  }, 240_000); // a hang guard: 10–12 node processes and two git worktrees, slow on a loaded machine

  it('refuses a FIFO where --out-dir puts a result file, before any pass runs (issue 20: the one output writer)', async () => {
    const dir = join(root, 'ab-fifo');
    mkdirSync(dir, { recursive: true });
    execFileSync('mkfifo', [join(dir, 'comparison.md')]);
    const error = await rejection(abCommand(suiteFile, options({ head: sha1, outDir: dir }), io()));
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toContain('comparison.md');
    expect(lines.some((l) => l.startsWith('checking out'))).toBe(false);
    expect(statSync(join(dir, 'comparison.md')).isFIFO()).toBe(true);
    expect(existsSync(join(dir, 'base.json'))).toBe(false);
  });

  it('stops with exit 3 when a pass crashes, naming the side and the pass, and removes the worktrees', async () => {
    const code = await abCommand(suiteFile, options({ head: sha3, outDir: join(root, 'ab-crash') }), io());
    expect(code).toBe(3);
    expect(lines).toContain('  fake migbench: a worker crashed');
    expect(lines.some((l) => /^error: ab: head \([0-9a-f]{7}\), warm-up 2\/2: migbench suite exited with code 3/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('pass '))).toBe(false);
    expect(worktreeCount()).toBe(1);
  });

  it.each([['SIGTERM', 143], ['SIGINT', 130]] as const)('%s stops the running pass, removes the worktrees and exits %d', async (signal, exitCode) => {
    const started = join(root, `started-${signal}`);
    const running = abCommand(suiteFile, options({ head: sha1, set: [`fake.started=${started}`], outDir: join(root, `ab-${signal}`) }), io());
    // the fake pass writes `started` and then sleeps a minute: the signal comes while it runs
    for (let i = 0; i < 600 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(started)).toBe(true);
    process.emit(signal);
    expect(await running).toBe(exitCode);
    expect(lines.some((l) => l.startsWith(signal === 'SIGTERM' ? 'terminated (SIGTERM): stopping the running pass' : 'interrupted: stopping the running pass'))).toBe(true);
    expect(worktreeCount()).toBe(1);
    expect(existsSync(join(root, `ab-${signal}`, 'comparison.json'))).toBe(false);
  });

  it.each([['SIGTERM', 143], ['SIGINT', 130]] as const)('the real CLI on %s: stops the pass\'s whole process group, waits for it, removes the worktrees, their list entries and its folder, exits %d', async (signal, exitCode) => {
    const started = join(root, `cli-started-${signal}`);
    const child = spawn(process.execPath, [BIN, 'ab', 'suite.json', '--base', sha1, '--head', sha1, '--runs', '4', '--warmup', '0', '--set', `fake.started=${started}`, '--out-dir', join(root, `cli-ab-${signal}`)], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    let done = false;
    void exited.then(() => (done = true));
    await until('the first pass to start', () => done || existsSync(started), 120_000);
    expect(done).toBe(false);
    expect(worktreeCount()).toBe(3);
    child.kill(signal);
    const [code, killedBy] = await exited;
    expect(killedBy).toBeNull();
    expect(code).toBe(exitCode);
    // the pass got SIGTERM, and ab waited for it to finish stopping before it went on
    expect(existsSync(`${started}.stopped`)).toBe(true);
    // its own child went with it (the signal went to the pass's process group)
    const grandchild = Number(readFileSync(`${started}.grandchild`, 'utf8'));
    await until('the pass\'s child to be gone', () => !alive(grandchild), 10_000);
    expect(worktreeCount()).toBe(1);
    const tmp = /checking out base \([0-9a-f]{7}\) into (.*)\/base\n/.exec(stderr)![1];
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(join(root, `cli-ab-${signal}`, 'comparison.json'))).toBe(false);
  }, 240_000); // a hang guard: two npm ci and a few node processes

  it('keeps the worktrees with keepWorktrees', async () => {
    const code = await abCommand(suiteFile, options({ head: sha1, runs: '4', warmup: '0', failOn: 'never', outDir: join(root, 'ab-keep'), keepWorktrees: true }), io());
    expect(code).toBe(0); // --fail-on never: 0 whatever the (jittered) samples say
    expect(worktreeCount()).toBe(3);
    const kept = git('worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).slice(1).map((l) => l.slice('worktree '.length));
    for (const dir of kept) git('worktree', 'remove', '--force', dir);
    expect(worktreeCount()).toBe(1);
    const passes = lines.find((l) => l.startsWith('kept the pass results in '))!.slice('kept the pass results in '.length);
    expect(existsSync(join(passes, 'pass-1-base.json'))).toBe(true);
    rmSync(join(passes, '..'), { recursive: true, force: true });
  });

  it.each([
    ['--base', { base: 'no-such-ref' }, /^--base: "no-such-ref" is not a commit of the repository/],
    ['--head', { head: 'v9.9.9' }, /^--head: "v9.9.9" is not a commit/],
    ['--base', { base: '--output=x' }, /^--base: expected a git revision/],
  ])('refuses a bad %s ref with E_USAGE, naming it, before creating any worktree', async (_flag, over, message) => {
    const e = await rejection(abCommand(suiteFile, options({ outDir: join(root, 'ab-bad'), ...over }), io()));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(message);
    expect(worktreeCount()).toBe(1);
    expect(existsSync(join(root, 'ab-bad'))).toBe(false);
  });

  it.each([
    [{ runs: '0' }, /^--runs: expected a whole number of passes per side, from 1 to 10000, got "0"/],
    [{ runs: 'ten' }, /^--runs: .*got "ten"/],
    [{ runs: '2.5' }, /^--runs: .*got "2.5"/],
    [{ runs: '3' }, /^--runs: 3 runs per side cannot reach significance at --alpha 0\.05 \(the Mann-Whitney U test needs at least 4\), got 3$/],
    [{ runs: '1' }, /^--runs: 1 run per side cannot reach significance at --alpha 0\.05 \(the Mann-Whitney U test needs at least 4\), got 1$/],
    [{ runs: '4', alpha: '0.01' }, /^--runs: 4 runs per side cannot reach significance at --alpha 0\.01 \(the Mann-Whitney U test needs at least 5\), got 4$/],
    [{ warmup: '-1' }, /^--warmup: expected a whole number of passes per side, from 0 to 10000, got "-1"/],
    [{ format: 'html' }, /^--format: expected text, markdown or json/],
    [{ set: ['guest.memory'] }, /^--set: expected key.path=value, got "guest.memory"/],
  ])('refuses %o with E_USAGE', async (over, message) => {
    const e = await rejection(abCommand(suiteFile, options(over), io()));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(message);
  });

  it('refuses a missing suite file and a directory outside git with E_USAGE', async () => {
    const missing = await rejection(abCommand('nope.json', options({}), io()));
    expect(missing.message).toMatch(/^nope\.json: cannot read the suite file/);
    const outside = await rejection(abCommand(suiteFile, options({}), { log: () => {}, cwd: root }));
    expect(outside.code).toBe('E_USAGE');
    expect(outside.message).toMatch(/is not inside a git repository/);
  });

  it('refuses a side that rejects the suite (exit 2 from migbench suite) with E_USAGE', async () => {
    const e = await rejection(abCommand(suiteFile, options({ head: sha2, outDir: join(root, 'ab-usage'), set: ['fake.refuse=1'] }), io()));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/^ab: base \([0-9a-f]{7}\), warm-up 1\/2: migbench suite exited with code 2: fake migbench: suite: unknown key fake.refuse$/);
    expect(worktreeCount()).toBe(1);
  });
});
