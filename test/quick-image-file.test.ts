/**
 * Image files are untrusted paths (issue 20, attack 2): a `quick.path` from a scenario or suite file
 * never overwrites or deletes a file that is there, never writes through a symbolic link, and only the
 * command line's `--force` lets a run replace a regular file; default images live in a fresh private
 * folder, removed with the image.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { checkImagePaths } from '../src/quick/image-file.ts';
import { migrateQuick } from '../src/quick/quick-migration.ts';
import { createGuest, runScenario, type Guest } from '../src/run.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-image-file-'));
let n = 0;
const fresh = (): string => {
  const d = join(dir, `case-${n++}`);
  mkdirSync(d);
  return d;
};
const VICTIM_TEXT = 'precious bytes that are not migbench\'s\n';

let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

function scenario(quick: ScenarioInput['quick']) {
  return resolveScenario({ guest: { memory: '4MiB', deviceState: '16KiB' }, workload: { pattern: 'idle' }, quick: { storageBandwidth: 'unlimited', ...quick } });
}

/** the real CLI in `cwd`, as CI would run it on a pull request's scenario */
function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
}

describe('a scenario that names a file that is there as quick.path (the victim file)', () => {
  it('run: exit 2 before the run starts, one line naming the path; the file intact', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'victim.txt'), VICTIM_TEXT);
    writeFileSync(join(cwd, 'scenario.json'), JSON.stringify({ guest: { memory: '4MiB' }, quick: { path: 'victim.txt' } }));
    const r = cli(cwd, ['run', 'scenario.json', '--only', 'quick', '-q']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(/^error: quick\.path: "victim\.txt" is already there \(a regular file\); .*--force/);
    expect(readFileSync(join(cwd, 'victim.txt'), 'utf8')).toBe(VICTIM_TEXT);
  });

  it('suite: the same, through a suite file (which cannot ask for --force)', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'victim.txt'), VICTIM_TEXT);
    writeFileSync(join(cwd, 'suite.json'), JSON.stringify({ name: 'evil', runs: 1, warmup: 0, methods: ['quick'], scenarios: [{ name: 'evil', guest: { memory: '4MiB' }, quick: { path: 'victim.txt' } }] }));
    const r = cli(cwd, ['suite', 'suite.json', '-q']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: quick\.path: "victim\.txt" is already there/);
    expect(readFileSync(join(cwd, 'victim.txt'), 'utf8')).toBe(VICTIM_TEXT);
    // a suite file has no key that grants it
    writeFileSync(join(cwd, 'suite2.json'), JSON.stringify({ name: 'evil', force: true, scenarios: [{ name: 'evil', quick: { path: 'victim.txt', force: true } }] }));
    expect(cli(cwd, ['suite', 'suite2.json', '-q']).status).toBe(2);
    expect(readFileSync(join(cwd, 'victim.txt'), 'utf8')).toBe(VICTIM_TEXT);
  });

  it('--force on the command line replaces a regular file, and leaves it (the run did not create it)', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'old.img'), VICTIM_TEXT);
    const r = cli(cwd, ['run', '--only', 'quick', '--set', 'guest.memory=4MiB', '--set', 'quick.path=old.img', '--force', '--json', '-q']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).quick.verified).toBe(true);
    expect(existsSync(join(cwd, 'old.img'))).toBe(true); // never deleted
    expect(readFileSync(join(cwd, 'old.img')).subarray(0, 8).toString()).toBe('MGBIMAGE');
  });

  it('a kept image at one path written by several runs of a suite is refused up front without --force', () => {
    const s = scenario({ path: join(fresh(), 'kept.img'), keepImage: true });
    expect(() => checkImagePaths([{ label: 'a', scenario: s, runs: 3 }], false)).toThrow(/quick\.path: ".*kept\.img" would be kept \(quick\.keepImage\) by 3 runs/);
    expect(() => checkImagePaths([{ label: 'a', scenario: s, runs: 3 }], true)).not.toThrow();
  });
});

describe('a symbolic link planted at the image path', () => {
  function plant(): { link: string; target: string } {
    const d = fresh();
    const target = join(d, 'target.txt');
    writeFileSync(target, VICTIM_TEXT);
    const link = join(d, 'image.img');
    symlinkSync(target, link);
    return { link, target };
  }

  it('is refused before the run, --force or not; the link and its target intact', async () => {
    const { link, target } = plant();
    await expect(runScenario(scenario({ path: link }), { methods: ['quick'] })).rejects.toThrow(/quick\.path: ".*image\.img" is already there \(a symbolic link\)/);
    await expect(runScenario(scenario({ path: link }), { methods: ['quick'], force: true })).rejects.toThrow(/is a symbolic link; an image is only ever written to a regular file, --force or not/);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('planted after the check (a race): the open itself never follows it and never removes it', async () => {
    for (const force of [false, true]) {
      const { link, target } = plant();
      guest = await createGuest(scenario({ path: link }));
      const q = await migrateQuick(guest, { force });
      expect(q.outcome).toBe('errored');
      expect(q.reason).toBe('E_IO');
      expect(q.error).toMatch(force ? /^open .*image\.img: a symbolic link \(never followed\) \(ELOOP\)$/ : /^open .*image\.img: already there .*\(EEXIST\)$/);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readFileSync(target, 'utf8')).toBe(VICTIM_TEXT);
      await guest.dispose();
      guest = null;
    }
  });

  it('a FIFO at quick.path with --force is refused at once (never opened for a reader to wait on)', async () => {
    const d = fresh();
    const fifo = join(d, 'fifo.img');
    execFileSync('mkfifo', [fifo]);
    guest = await createGuest(scenario({ path: fifo }));
    const q = await migrateQuick(guest, { force: true });
    expect(q.outcome).toBe('errored');
    expect(q.error).toMatch(/^open .*fifo\.img: not a regular file \(a FIFO or a device\) \(ENXIO\)$/);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it('/dev/full is never written (it is there) and never removed', async () => {
    guest = await createGuest(scenario({ path: '/dev/full' }));
    const q = await migrateQuick(guest, { force: true });
    expect(q.outcome).toBe('errored');
    expect(q.error).toMatch(/^open \/dev\/full: a character device: an image is only ever written to a regular file, --force or not$/);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });
});

describe('default image names', () => {
  it('are unpredictable: a fresh private folder (mkdtemp, mode 0700) holds the image, and goes with it', async () => {
    const d = fresh();
    guest = await createGuest(scenario({ dir: d, keepImage: true }));
    const q = await migrateQuick(guest);
    expect(q.verified).toBe(true);
    const folder = q.imagePath!.slice(0, q.imagePath!.lastIndexOf('/'));
    expect(folder).toMatch(new RegExp(`^${d}/migbench-[A-Za-z0-9]{6}$`));
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    await guest.dispose();
    // not kept: nothing is left, folder included
    guest = await createGuest(scenario({ dir: d }));
    const again = await migrateQuick(guest);
    expect(again.verified).toBe(true);
    expect(readdirSync(d)).toEqual([folder.slice(d.length + 1)]); // only the kept one from before
  });

  it('a folder that is not there: errored, naming the step and the path', async () => {
    guest = await createGuest(scenario({ dir: join(dir, 'does', 'not', 'exist') }));
    const q = await migrateQuick(guest);
    expect(q.outcome).toBe('errored');
    expect(q.error).toMatch(/^mkdir .*does\/not\/exist\/migbench-XXXXXX: no such file or directory \(ENOENT\)$/);
  });
});

it('checkImagePaths names the benchmark in a suite', () => {
  const d = fresh();
  writeFileSync(join(d, 'x.img'), 'x');
  const s = scenario({ path: join(d, 'x.img') });
  const e = (() => {
    try {
      checkImagePaths([{ label: 'first', scenario: scenario({}), runs: 1 }, { label: 'second', scenario: s, runs: 1 }], false);
    } catch (error) {
      return error as MigbenchError;
    }
    return null;
  })();
  expect(e?.code).toBe('E_SCENARIO');
  expect(e?.message).toMatch(/^second: quick\.path: ".*x\.img" is already there/);
});
