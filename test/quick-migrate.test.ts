/** Quick migration end to end with real vCPU workers: verified, phases timed, faults lose nothing. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GuestMemory } from '../src/memory/guest-memory.ts';
import { verifyGuest } from '../src/memory/verify.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { migrateQuick } from '../src/quick/quick-migration.ts';
import { createGuest, runScenario, type Guest } from '../src/run.ts';
import { fillGuest } from '../src/workload/fill.ts';
import { until } from './helpers/until.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-quick-'));
let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

function scenario(over: ScenarioInput = {}) {
  return resolveScenario({
    ...over,
    guest: { memory: '8MiB', fill: { zero: 0.3, random: 0.4, text: 0.3 }, deviceState: '64KiB', ...over.guest },
    link: { bandwidth: '1GiB/s' },
    quick: { storageBandwidth: '1GiB/s', dir, ...over.quick },
  });
}

describe('quick migration', () => {
  it.each(['stream', 'mapped'] as const)('%s: vCPUs dirtying right up to the pause; the destination equals the paused source', async (format) => {
    guest = await createGuest(scenario({ workload: { pattern: 'uniform', dirtyRate: '50000/s', writeBytes: 64 }, quick: { format } }));
    const g = guest;
    await until('the guest writes before the pause', () => g.vcpus.totalWrites() > 0); // the guest runs and writes first
    const q = await migrateQuick(guest);
    expect(q.outcome).toBe('completed');
    expect(q.verified).toBe(true);
    expect(q.stats.downtime).toBe(q.stats['total-time']);
    const ph = q.phases;
    // the phases are cut at one sequence of clock readings, so they add up to the downtime exactly at
    // any speed (a reading between two phases, e.g. before the image file's close, would leave a gap)
    for (const ms of Object.values(ph)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(ph.pauseMs + ph.saveMs + ph.fsyncMs + ph.handoverMs + ph.restoreMs + ph.resumeMs).toBeCloseTo(q.stats.downtime!, 6);
    expect(q.pages.total).toBe(2048);
    expect(q.pages.normal + q.pages.zero).toBe(2048);
    expect(q.imagePath).toBeNull(); // not kept
    expect(readdirSync(dir).filter((f) => f.endsWith('.img'))).toHaveLength(0);
  });

  it('hand-over time is part of the downtime', async () => {
    guest = await createGuest(scenario({ workload: { pattern: 'idle' }, quick: { handoverMs: 120 } }));
    const q = await migrateQuick(guest);
    expect(q.verified).toBe(true);
    expect(q.phases.handoverMs).toBeGreaterThanOrEqual(120); // the real clock's sleep never ends early
    expect(q.stats.downtime).toBeGreaterThanOrEqual(q.phases.handoverMs);
  });

  it('keepImage keeps the image where quick.path says', async () => {
    const path = join(dir, 'kept.img');
    guest = await createGuest(scenario({ workload: { pattern: 'idle' }, quick: { path, keepImage: true, format: 'mapped' } }));
    const q = await migrateQuick(guest);
    expect(q.verified).toBe(true);
    expect(q.imagePath).toBe(path);
    expect(statSync(path).size).toBe(q.imageBytes);
  });
});

describe('I/O faults lose nothing', () => {
  async function faulty(quick: ScenarioInput['quick'], message: RegExp) {
    const s = scenario({ seed: 21, workload: { pattern: 'idle' }, quick });
    guest = await createGuest(s);
    const q = await migrateQuick(guest);
    expect(q.outcome).toBe('errored');
    expect(q.reason).toBe('E_IO');
    expect(q.error).toMatch(message);
    expect(q.verified).toBeNull();
    // the guest runs on the source again, its memory as the seed made it (idle: nothing wrote)
    expect(guest.vcpus.isPaused()).toBe(false);
    const expected = new GuestMemory(guest.source.layout);
    fillGuest(expected, s.guest.fill, s.seed);
    expect(verifyGuest(expected, guest.source, guest.deviceState, guest.deviceState).equal).toBe(true);
  }

  // (no space left on the device: test/quick-full-disk.test.ts, on a real full tmpfs; a device such as
  // /dev/full is never written at all: test/quick-image-file.test.ts)
  it('a device at quick.path is refused, never written, never removed', async () => {
    await faulty({ path: '/dev/full' }, /^open \/dev\/full: already there .*\(EEXIST\)$/);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('a missing directory', async () => {
    await faulty({ dir: join(dir, 'does', 'not', 'exist') }, /^mkdir .*does\/not\/exist\/migbench-XXXXXX: no such file or directory \(ENOENT\)$/);
  });

  it('a file size limit hit mid-write: the partial image is removed, exit 3', () => {
    const sub = mkdtempSync(join(dir, 'fsize-'));
    const r = spawnSync('bash', ['-c', `ulimit -f 1024; exec "${process.execPath}" "${BIN}" run --only quick --set guest.memory=8MiB --set guest.fill=random --set quick.dir=${sub} --json -q`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.quick.outcome).toBe('errored');
    expect(doc.quick.error).toMatch(/^write .*: file too large \(EFBIG\)$/);
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('both methods side by side', () => {
  it('runScenario runs pre-copy and quick migration on the same workload and compares them', async () => {
    // maxRounds bounds the pre-copy: it converges or is stopped at any speed, never runs into the timeout
    const doc = await runScenario(scenario({ workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '1MiB' }, precopy: { maxRounds: 15 }, quick: { storageBandwidth: '256MiB/s' } }));
    expect(doc.methods).toEqual(['precopy', 'quick']);
    expect(doc.precopy?.verified).toBe(true);
    expect(doc.quick?.verified).toBe(true);
    const c = doc.comparison!;
    expect(c.downtimeRatio).toBeCloseTo(doc.quick!.stats.downtime! / doc.precopy!.stats.downtime!, 6);
    expect(c.totalTimeRatio).toBeCloseTo(doc.quick!.stats['total-time'] / doc.precopy!.stats['total-time'], 6);
    expect(c.verdict).toMatch(/paused the guest .* less/);
  });

  it('the CLI: --json carries both blocks and the comparison; --only narrows it', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'run', '--set', 'guest.memory=8MiB', '--set', 'precopy.maxRounds=15', '--set', `quick.dir=${dir}`, '--json', '-q', ...args], { encoding: 'utf8', timeout: 60_000 });
    const both = run([]);
    expect(both.status).toBe(0);
    const doc = JSON.parse(both.stdout);
    expect(doc.precopy.verified).toBe(true);
    expect(doc.quick.verified).toBe(true);
    for (const k of ['pauseMs', 'saveMs', 'fsyncMs', 'handoverMs', 'restoreMs', 'resumeMs']) expect(typeof doc.quick.phases[k]).toBe('number');
    expect(typeof doc.quick.savedBytes).toBe('number');
    expect(typeof doc.comparison.verdict).toBe('string');
    const only = run(['--only', 'quick']);
    expect(only.status).toBe(0);
    const q = JSON.parse(only.stdout);
    expect(q.precopy).toBeNull();
    expect(q.comparison).toBeNull();
    expect(q.quick.verified).toBe(true);
    const bad = run(['--only', 'postcopy']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--only: expected one of precopy, quick, got "postcopy"/);
  });

  it('image inspect validates a kept image and refuses a damaged one', async () => {
    const path = join(dir, 'inspect.img');
    guest = await createGuest(scenario({ workload: { pattern: 'idle' }, quick: { path, keepImage: true } }));
    await migrateQuick(guest);
    const ok = spawnSync(process.execPath, [BIN, 'image', 'inspect', path], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(''); // the summary is for a person: stderr
    expect(ok.stderr).toMatch(/valid migbench image/);
    expect(ok.stderr).toMatch(/pages +2,048/);
    const missing = spawnSync(process.execPath, [BIN, 'image', 'inspect', join(dir, 'none.img')], { encoding: 'utf8' });
    expect(missing.status).toBe(2); // a missing file is a usage error
    expect(missing.stderr).toMatch(/image inspect: expected an image file, got ".*none\.img" \(no such file\)/);
    expect(existsSync(path)).toBe(true);
  });
});
