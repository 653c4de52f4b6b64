/**
 * Faults as a user meets them, through the real binary: a worker dying mid-migration (the test-only
 * MIGBENCH_TEST_FAULT variable, src/faults.ts) is exit 3 with one line and no stack trace; SIGTERM stops
 * run, suite, sweep and tune like Ctrl-C does, with exit 143 and no output file. Every command's exit
 * also checks that no worker thread is still running (main.ts warns about one: a leak would show here).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { until } from './helpers/until.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-cli-faults-'));

/** a pre-copy that cannot converge (1 ms downtime limit under uniform writes): only the fault ends it */
const LIVE = [
  '--only', 'precopy', '--set', 'guest.memory=8MiB', '--set', 'workload.pattern=uniform', '--set', 'workload.dirtyRate=20000/s',
  '--set', 'link.bandwidth=32MiB/s', '--set', 'precopy.downtimeLimitMs=1', '--set', 'precopy.timeoutMs=60s',
];

describe('a worker dying mid-migration: exit 3, one line, no stack trace', () => {
  it.each<[string, string[], RegExp]>([
    ['destination:exit:after=200', [], /^error: pre-copy failed: destination worker exited with code 86$/],
    ['vcpu1:throw:after=300', [], /^error: pre-copy failed: vCPU 1: injected fault after \d+ page writes of the migration$/],
    ['channel1:exit:after=3', ['--set', 'precopy.channels=2'], /^error: pre-copy failed: channel 1 worker exited with code 86$/],
  ])('MIGBENCH_TEST_FAULT=%s', (fault, extra, message) => {
    const r = spawnSync(process.execPath, [BIN, 'run', ...LIVE, ...extra, '--json', '-q'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: '1', MIGBENCH_TEST_FAULT: fault },
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // nor a leftover-worker warning
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const doc = JSON.parse(r.stdout);
    expect(doc.precopy).toMatchObject({ outcome: 'errored', reason: 'E_WORKER', verified: null });
  });

  it('a malformed MIGBENCH_TEST_FAULT is a usage error (exit 2)', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', ...LIVE], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', MIGBENCH_TEST_FAULT: 'vcpu0:explode' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: MIGBENCH_TEST_FAULT \(tests only\): expected .*, got "vcpu0:explode"$/);
  });
});

/** Start the binary, send `signal` once `ready` shows on stderr (and `delayMs` more), collect what it did. */
async function interrupt(args: string[], ready: RegExp, signal: NodeJS.Signals, delayMs = 500) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  let stdout = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && ready.test(stderr)) {
      sent = true;
      setTimeout(() => child.kill(signal), delayMs);
    }
  });
  const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  return { code, killedBy, stderr, stdout };
}

/** a migration that takes seconds at the least: 64 MiB over a 16 MiB/s link */
const SLOW = ['--set', 'guest.memory=64MiB', '--set', 'link.bandwidth=16MiB/s'];

describe('SIGTERM behaves like Ctrl-C: the run stops, the workers end, nothing is written, exit 143', () => {
  it('run', async () => {
    const out = join(dir, 'run.json');
    const r = await interrupt(['run', ...SLOW, '--json', '--out', out], /migrating with pre-copy/, 'SIGTERM');
    expect(r.killedBy).toBeNull(); // it exited by itself, not by the signal's default action
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): cancelling the migration/);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): the guest stays on the source; no result written/);
    expect(r.stderr).not.toMatch(/still running/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('suite', async () => {
    const file = join(dir, 'suite.json');
    writeFileSync(file, JSON.stringify({ name: 'slow', runs: 3, warmup: 0, scenarios: [{ name: 'slow-64m', guest: { memory: '64MiB' }, link: { bandwidth: '16MiB/s' } }] }));
    const out = join(dir, 'suite-out.json');
    const r = await interrupt(['suite', file, '--out', out], /migbench suite slow/, 'SIGTERM', 1500);
    expect(r.killedBy).toBeNull();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): stopping after the current run/);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): no result written/);
    expect(r.stderr).not.toMatch(/still running/);
    expect(existsSync(out)).toBe(false);
  });

  it.each<[string, string[], RegExp]>([
    ['sweep', ['sweep', ...SLOW, '--param', 'precopy.downtimeLimitMs=30,60'], /terminated \(SIGTERM\): no result written/],
    ['tune', ['tune', ...SLOW, '--max-downtime', '300ms', '--param', 'precopy.downtimeLimitMs=30,60'], /terminated \(SIGTERM\): no recommendation/],
  ])('%s', async (_what, args, said) => {
    const out = join(dir, `${args[0]}-out.json`);
    const r = await interrupt([...args, '--out', out], /migbench (sweep|tune)/, 'SIGTERM', 1500);
    expect(r.killedBy).toBeNull();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): stopping after the current run/);
    expect(r.stderr).toMatch(said);
    expect(r.stderr).not.toMatch(/still running/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('Ctrl-C still exits 130 (and says "interrupted")', async () => {
    const r = await interrupt(['run', ...SLOW, '--only', 'precopy'], /migrating with pre-copy/, 'SIGINT');
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted: the guest stays on the source; no result written/);
    expect(r.stderr).not.toMatch(/still running/);
  });
});

/**
 * Start the binary, send `signal` as soon as `ready(stderr)` holds (polled), collect what it did. With
 * `twice`, a second signal follows once the first is acknowledged on stderr (quit at once).
 */
async function interruptWhen(args: string[], ready: (stderr: string) => boolean, signal: NodeJS.Signals, twice = false) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  let done = false;
  void exited.then(() => (done = true));
  await until('the image to be there', () => done || ready(stderr), 60_000);
  if (!done) child.kill(signal);
  if (twice) {
    await until('the first signal to be acknowledged', () => done || /cancelling the migration|stopping after the current run/.test(stderr), 60_000);
    if (!done) child.kill(signal);
  }
  const [code, killedBy] = await exited;
  return { code, killedBy, stderr };
}

/** every file under `root` (the image sits in a private folder of its own) */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' });
}

describe('SIGTERM in the middle of a quick migration removes the partial image and its folder', () => {
  /** 16 MiB saved and restored at 4 MiB/s: about 4 s each way, so the signal lands mid-save or mid-restore */
  const QUICK = (imageDir: string) => ['--only', 'quick', '--set', 'guest.memory=16MiB', '--set', 'quick.storageBandwidth=4MiB/s', '--set', `quick.dir=${imageDir}`];
  const imageThere = (imageDir: string) => () => filesUnder(imageDir).some((f) => f.endsWith('.img'));

  it.each<[string, (imageDir: string) => (stderr: string) => boolean]>([
    ['while it is being saved', imageThere],
    ['while it is being restored', () => (stderr) => /quick +fsync/.test(stderr)],
  ])('run, %s: exit 143, nothing left in quick.dir', async (_when, ready) => {
    const imageDir = mkdtempSync(join(dir, 'images-'));
    const r = await interruptWhen(['run', ...QUICK(imageDir)], ready(imageDir), 'SIGTERM');
    expect(r.killedBy).toBeNull();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): the guest stays on the source; no result written/);
    expect(r.stderr).not.toMatch(/still running/);
    expect(filesUnder(imageDir)).toEqual([]);
  });

  it('run, a second SIGTERM (quit at once) while the image is being written: exit 143, nothing left in quick.dir', async () => {
    const imageDir = mkdtempSync(join(dir, 'images-'));
    // 1 MiB/s: the writer waits seconds for the storage after its first buffer, so the second signal finds it mid-save
    const args = ['run', '--only', 'quick', '--set', 'guest.memory=32MiB', '--set', 'quick.storageBandwidth=1MiB/s', '--set', `quick.dir=${imageDir}`];
    const r = await interruptWhen(args, imageThere(imageDir), 'SIGTERM', true);
    expect(r.killedBy).toBeNull();
    expect(r.code).toBe(143);
    expect(filesUnder(imageDir)).toEqual([]);
  });

  it('suite: exit 143, nothing left in quick.dir', async () => {
    const imageDir = mkdtempSync(join(dir, 'images-'));
    const file = join(dir, 'quick-suite.json');
    writeFileSync(file, JSON.stringify({ name: 'quick', runs: 2, warmup: 0, methods: ['quick'], scenarios: [{ name: 'q', guest: { memory: '32MiB' }, quick: { storageBandwidth: '4MiB/s', dir: imageDir } }] }));
    const r = await interruptWhen(['suite', file], imageThere(imageDir), 'SIGTERM');
    expect(r.killedBy).toBeNull();
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/terminated \(SIGTERM\): no result written/);
    expect(filesUnder(imageDir)).toEqual([]);
  });
});
