/**
 * A real full disk in the middle of a quick-migration image: a 2 MiB tmpfs (mounted here; CI runs as
 * root), an 8 MiB guest of random pages. The write that finds no space is reported with its step and
 * path, the partial image is removed, the guest runs on the source again, intact, and the CLI exits 3.
 * Skipped, with the reason printed, only where this process may not mount a tmpfs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveScenario } from '../src/options.ts';
import { migrateQuick } from '../src/quick/quick-migration.ts';
import { createGuest, type Guest } from '../src/run.ts';
import { liveWorkers } from '../src/threads.ts';
import { sourceIntact } from './helpers/source-oracle.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const disk = mkdtempSync(join(tmpdir(), 'migbench-full-disk-'));
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk], { encoding: 'utf8' });
const mounted = mount.status === 0;
if (!mounted) {
  console.warn(`quick-full-disk: skipped: cannot mount a 2 MiB tmpfs on ${disk} (${(mount.stderr || mount.error?.message || `exit ${mount.status}`).trim()}); run as root to test a real full disk`);
}

let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
  expect(liveWorkers().count).toBe(0);
});
afterAll(() => {
  if (mounted) spawnSync('umount', [disk]);
  rmSync(disk, { recursive: true, force: true });
});

/** bytes in use on the tmpfs (0 once the partial image is gone) */
const usedBytes = (): number => {
  const s = statfsSync(disk);
  return (s.blocks - s.bfree) * s.bsize;
};

describe.skipIf(!mounted)('a full disk in the middle of an image', () => {
  it.each(['stream', 'mapped'] as const)('%s: errored, the write step and the path named, no partial image, the source intact', async (format) => {
    guest = await createGuest(
      resolveScenario({
        seed: 3,
        guest: { memory: '8MiB', vcpus: 2, fill: 'random', deviceState: '64KiB' },
        workload: { pattern: 'uniform', dirtyRate: '5000/s' },
        quick: { dir: disk, format, storageBandwidth: 'unlimited' },
      }),
    );
    const q = await migrateQuick(guest);
    expect(q.outcome).toBe('errored');
    expect(q.reason).toBe('E_IO');
    expect(q.error).toMatch(new RegExp(`^write ${disk}/migbench-[^ ]+\\.img: no space left on the device \\(ENOSPC\\)$`));
    expect(q.verified).toBeNull();
    expect(q.imagePath).toBeNull();
    expect(readdirSync(disk)).toEqual([]);
    expect(usedBytes()).toBe(0);
    // the guest runs on the source again; its memory is the seed's plus its own writes
    expect(guest.vcpus.isAnyPaused()).toBe(false);
    await guest.vcpus.stop();
    expect(sourceIntact(guest)).toMatchObject({ equal: true, deviceStateEqual: true });
  });

  it('the CLI: exit 3, one line naming the step and the path, the document says errored', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', '--only', 'quick', '--set', 'guest.memory=8MiB', '--set', 'guest.fill=random', '--set', `quick.dir=${disk}`, '--json', '-q'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^error: quick migration failed: write ${disk}/migbench-[^ ]+\\.img: no space left on the device \\(ENOSPC\\)$`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(r.stdout).quick).toMatchObject({ outcome: 'errored', reason: 'E_IO', verified: null });
    expect(readdirSync(disk)).toEqual([]);
  });
});
