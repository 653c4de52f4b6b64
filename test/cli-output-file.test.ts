/**
 * Output files and stdout (issue 20, attacks 1 and 6): a named output never replaces what is not a
 * regular file, never goes through a symbolic link, is checked before the run, is written all or none
 * without leaving temporary files, and data on stdout that cannot be written is exit 3.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { main } from '../src/cli/main.ts';
import { targetProblem, writeOutputs, type TargetFacts } from '../src/cli/output-file.ts';
import { exitCodeAfterStdout } from '../src/cli/stdout-errors.ts';
import { MigbenchError } from '../src/errors.ts';
import type { NodeKind } from '../src/file-kind.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SMOKE = fileURLToPath(new URL('../bench/suites/smoke.json', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'migbench-outputs-'));
let n = 0;
/** A fresh empty folder per test: what is left in it is what the command left. */
const scratch = (): string => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

const ENV = { ...process.env, NO_COLOR: '1' };
/** Run a program to its end (asynchronously, so that the CLI tests below can run side by side). */
function exec(file: string, args: string[], stdout: 'pipe' | number = 'pipe'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: ENV, stdio: ['ignore', stdout, 'pipe'], timeout: 120_000 });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}
const migbench = (args: string[], stdout: 'pipe' | number = 'pipe') => exec(process.execPath, [BIN, ...args], stdout);

/** A tiny guest in simulate mode: a run takes well under a second. */
const TINY = ['--mode', 'simulate', '--set', 'guest.memory=4MiB'];

/** A character device like /dev/null (major 1, minor 3) at `path`. */
function makeDevice(path: string): void {
  const r = spawnSync('mknod', [path, 'c', '1', '3']);
  if (r.status !== 0) throw new Error(`mknod (the test needs root): ${r.stderr}`);
}
const makeFifo = (path: string): void => {
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
};
const tmpLeft = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.tmp'));

/** One line on stderr, naming the flag, no stack trace. */
function expectOneLineRefusal(r: { code: number | null; stderr: string }, code: number, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(code);
}

describe('targetProblem (the decision, pure)', () => {
  const facts = (target: NodeKind, more: Partial<TargetFacts> = {}): TargetFacts => ({ path: 'out/x.json', target, folder: 'out', folderKind: 'directory', folderNotWritable: null, ...more });
  it.each<[string, TargetFacts, RegExp | null]>([
    ['nothing there yet', facts('absent'), null],
    ['a regular file', facts('file'), null],
    ['a directory', facts('directory'), /--out "out\/x.json": is a directory; give a file name/],
    ['a character device', facts('char-device'), /is a character device, not a regular file; migbench replaces only regular files/],
    ['a block device', facts('block-device'), /is a block device, not a regular file/],
    ['a FIFO', facts('fifo'), /is a FIFO, not a regular file/],
    ['a socket', facts('socket'), /is a socket, not a regular file/],
    ['a symbolic link', facts('symlink', { linkTo: '/etc/passwd' }), /is a symbolic link \(to "\/etc\/passwd"\); migbench neither writes through a link nor replaces it/],
    ['a link to stdout', facts('symlink', { linkTo: '/proc/self/fd/1' }), /\(for stdout use --json\)/],
    ['a missing folder', facts('absent', { folderKind: 'absent' }), /--out "out\/x.json": the folder "out" does not exist/],
    ['a folder that is a file', facts('absent', { folderKind: 'file' }), /"out" is not a folder \(it is a regular file\)/],
    ['a read-only folder', facts('file', { folderNotWritable: 'EROFS' }), /the folder "out" is not writable \(EROFS\)/],
    ['a trailing slash', facts('absent', { path: 'out/' }), /names a folder; give a file name/],
  ])('%s', (_what, f, expected) => {
    const problem = targetProblem('--out', f);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('stdout errors: EPIPE keeps the exit code, any other error makes an answer a failure (3)', () => {
    expect(exitCodeAfterStdout(0, null)).toBe(0);
    expect(exitCodeAfterStdout(1, 'EPIPE')).toBe(1);
    expect(exitCodeAfterStdout(0, 'ENOSPC')).toBe(3);
    expect(exitCodeAfterStdout(1, 'EIO')).toBe(3);
    expect(exitCodeAfterStdout(2, 'ENOSPC')).toBe(2);
    expect(exitCodeAfterStdout(130, 'ENOSPC')).toBe(130);
  });
});

describe('writeOutputs (in process)', () => {
  it('writes every file, replacing a regular file, and leaves no temporary file', () => {
    const d = scratch();
    writeFileSync(join(d, 'a.json'), 'old');
    writeOutputs([{ flag: '--out', path: join(d, 'a.json'), text: '{}\n' }, { flag: '--html', path: join(d, 'b.html'), text: '<p>' }]);
    expect(readFileSync(join(d, 'a.json'), 'utf8')).toBe('{}\n');
    expect(readFileSync(join(d, 'b.html'), 'utf8')).toBe('<p>');
    expect(tmpLeft(d)).toEqual([]);
  });

  it('refuses before writing any of them when one target is bad (all or none)', () => {
    const d = scratch();
    mkdirSync(join(d, 'taken'));
    let error: unknown;
    try {
      writeOutputs([{ flag: '--out', path: join(d, 'a.json'), text: '{}' }, { flag: '--html', path: join(d, 'taken'), text: '<p>' }]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_USAGE');
    expect((error as MigbenchError).message).toMatch(/--html ".*taken": is a directory/);
    expect(readdirSync(d)).toEqual(['taken']);
  });
});

describe.concurrent('migbench refuses output targets that are not regular files (exit 2, before the run)', async () => {
  it('run --out onto a character device: refused, the device is still a device', async () => {
    const d = scratch();
    const target = join(d, 'target');
    makeDevice(target);
    const r = await migbench(['run', ...TINY, '--out', target]);
    expectOneLineRefusal(r, 2, /--out ".*target": is a character device, not a regular file/);
    expect(lstatSync(target).isCharacterDevice()).toBe(true);
    expect(tmpLeft(d)).toEqual([]);
  });

  it('run --html onto a FIFO: refused, still a FIFO', async () => {
    const d = scratch();
    const target = join(d, 'fifo');
    makeFifo(target);
    const r = await migbench(['run', ...TINY, '--html', target]);
    expectOneLineRefusal(r, 2, /--html ".*fifo": is a FIFO, not a regular file/);
    expect(lstatSync(target).isFIFO()).toBe(true);
  });

  it('run --out onto a symbolic link to a file elsewhere: refused, the link and the file it points to unchanged', async () => {
    const d = scratch();
    const elsewhere = join(scratch(), 'victim.txt');
    writeFileSync(elsewhere, 'precious\n');
    const link = join(d, 'result.json');
    symlinkSync(elsewhere, link);
    const r = await migbench(['run', ...TINY, '--out', link]);
    expectOneLineRefusal(r, 2, /--out ".*result\.json": is a symbolic link \(to ".*victim\.txt"\)/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(elsewhere, 'utf8')).toBe('precious\n');
  });

  it('run --out onto a link to /proc/self/fd/1 (what /dev/stdout is): refused, pointing at --json', async () => {
    // a link of our own: against the old code this test replaced it with a file (as it did /dev/stdout)
    const link = join(scratch(), 'stdout');
    symlinkSync('/proc/self/fd/1', link);
    const r = await migbench(['run', ...TINY, '--out', link]);
    expectOneLineRefusal(r, 2, /--out ".*stdout": is a symbolic link \(to "\/proc\/self\/fd\/1"\); .*\(for stdout use --json\)/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('run --out into a missing folder fails before the run: no progress line, nothing written', async () => {
    const d = scratch();
    // no -q: a run that started would print its first line and its rounds on stderr
    const r = await migbench(['run', ...TINY, '--out', join(d, 'missing', 'dir', 'x.json')]);
    expectOneLineRefusal(r, 2, /--out ".*x\.json": the folder ".*missing\/dir" does not exist/);
    expect(r.stderr).not.toMatch(/round|migbench:/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('run --out onto a directory, and two flags naming one file: refused', async () => {
    const d = scratch();
    expectOneLineRefusal(await migbench(['run', ...TINY, '--out', d]), 2, /--out ".*": is a directory; give a file name/);
    const same = join(d, 'r.json');
    expectOneLineRefusal(await migbench(['run', ...TINY, '--out', same, '--html', same]), 2, /--html ".*r\.json": the same file as --out/);
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('every command that writes a named file refuses a device there (in process: it stops before any work)', () => {
  let written: MockInstance[] = [];
  beforeEach(() => {
    written = [vi.spyOn(process.stderr, 'write').mockImplementation(() => true), vi.spyOn(process.stdout, 'write').mockImplementation(() => true)];
  });
  afterEach(() => {
    for (const w of written) w.mockRestore();
  });
  const said = (i: number): string => written[i].mock.calls.map((c) => String(c[0])).join('');

  it.each<[string, (target: string) => string[]]>([
    ['suite --out', (t) => ['suite', SMOKE, '--mode', 'simulate', '--jobs', '1', '--out', t]],
    ['suite --export', (t) => ['suite', SMOKE, '--mode', 'simulate', '--jobs', '1', '--export', `bencher=${t}`]],
    ['sweep --out', (t) => ['sweep', ...TINY, '--jobs', '1', '--param', 'precopy.downtimeLimitMs=100,300', '--out', t]],
    ['sweep --csv', (t) => ['sweep', ...TINY, '--jobs', '1', '--param', 'precopy.downtimeLimitMs=100,300', '--csv', t]],
    ['sweep --html', (t) => ['sweep', ...TINY, '--jobs', '1', '--param', 'precopy.downtimeLimitMs=100,300', '--html', t]],
    ['tune --out', (t) => ['tune', ...TINY, '--jobs', '1', '--max-downtime', '1s', '--out', t]],
    ['tune --apply', (t) => ['tune', ...TINY, '--jobs', '1', '--max-downtime', '1s', '--apply', t]],
    ['tune --html', (t) => ['tune', ...TINY, '--jobs', '1', '--max-downtime', '1s', '--html', t]],
    ['merge --out', (t) => ['merge', join(FIXTURES, 'sweep.json'), '--out', t]],
    ['merge --csv', (t) => ['merge', join(FIXTURES, 'sweep.json'), '--csv', t]],
    ['report --html', (t) => ['report', join(FIXTURES, 'run.json'), '--html', t]],
    ['report --markdown', (t) => ['report', join(FIXTURES, 'run.json'), '--markdown', t]],
    ['compare --html', (t) => ['compare', join(FIXTURES, 'suite-a.json'), join(FIXTURES, 'suite-b.json'), '--html', t]],
  ])('%s', async (what, args) => {
    const d = scratch();
    const target = join(d, 'dev');
    makeDevice(target);
    const code = await main(args(target));
    expectOneLineRefusal({ code, stderr: said(0) }, 2, new RegExp(`${what.split(' ')[1]}( bencher)? ".*dev": is a character device`));
    expect(said(1)).toBe('');
    expect(lstatSync(target).isCharacterDevice()).toBe(true);
    expect(readdirSync(d)).toEqual(['dev']);
  });
});

describe.concurrent('all or none', async () => {
  it('sweep --out with a bad --html writes neither file, and fails before the run', async () => {
    const d = scratch();
    const r = await migbench(['sweep', ...TINY, '--jobs', '1', '--param', 'precopy.downtimeLimitMs=100,300', '--out', join(d, 'sweep.json'), '--html', join(d, 'no', 'sweep.html')]);
    expectOneLineRefusal(r, 2, /--html ".*sweep\.html": the folder ".*no" does not exist/);
    expect(r.stderr).not.toMatch(/migbench sweep|\[1\/2\]/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('a write that fails after the run (file too large) writes neither file and leaves no temporary file: exit 3', async () => {
    const d = scratch();
    // The JSON (about 6 KiB) fits under a 16 KiB file-size limit, the HTML (about 50 KiB) does not: its
    // write fails with EFBIG (SIGXFSZ ignored, so the write returns the error instead of killing).
    const r = await exec('bash', ['-c', 'trap "" XFSZ; ulimit -f 16; exec "$@"', 'bash', process.execPath, BIN, 'run', ...TINY, '-q', '--out', join(d, 'r.json'), '--html', join(d, 'r.html')]);
    expectOneLineRefusal(r, 3, /--html ".*r\.html": cannot write it \(file too large\); nothing was written/);
    expect(readdirSync(d)).toEqual([]);
  });
});

describe.concurrent('data on stdout', async () => {
  it('run --json > /dev/full: exit 3 with one line', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = await migbench(['run', ...TINY, '-q', '--json'], full);
      expectOneLineRefusal(r, 3, /stdout: cannot write the output \(no space left on device\)/);
    } finally {
      closeSync(full);
    }
  });

  it('compare --format json > /dev/full: exit 3 (not the gate\'s answer)', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = await migbench(['compare', join(FIXTURES, 'suite-a.json'), join(FIXTURES, 'suite-b.json'), '--format', 'json', '--fail-on', 'never'], full);
      expectOneLineRefusal(r, 3, /stdout: cannot write the output/);
    } finally {
      closeSync(full);
    }
  });

  it('a reader that stops early (| head) is not an error: exit 0, nothing on stderr', async () => {
    const r = await exec('bash', ['-c', '"$@" | head -c 1 > /dev/null; echo "exit ${PIPESTATUS[0]}" >&2', 'bash', process.execPath, BIN, 'run', ...TINY, '-q', '--json', '--set', 'precopy.maxRounds=2000', '--set', 'workload.dirtyRate=100000/s', '--set', 'link.bandwidth=10MiB/s']);
    expect(r.stderr).toBe('exit 0\n');
  });
});
