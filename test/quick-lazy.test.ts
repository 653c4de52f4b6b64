/**
 * Lazy restore for quick migration (issue 14 item 6, "Done when" #3): the guest resumes after the
 * hand-over and faults its pages in from the image while a background reader fills the rest. Real vCPU
 * workers on small guests over slow simulated storage; every assertion holds at any machine speed
 * (bytes, counts, and time inequalities whose one side is a lower bound set by the storage pacer).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, writeSync, closeSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32 } from '../src/codec/crc32.ts';
import { crc32Combine } from '../src/codec/crc32-combine.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { mappedLayout } from '../src/quick/image-format.ts';
import { migrateQuick } from '../src/quick/quick-migration.ts';
import type { QuickResult } from '../src/results/quick-result.ts';
import { createGuest, runScenario, type Guest } from '../src/run.ts';
import { Rng } from '../src/workload/rng.ts';
import { until } from './helpers/until.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-lazy-'));
let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose(); // stops the vCPUs (a blocked one too): nothing stays behind
  guest = null;
});

/** The default scenario (1 GiB, hotset 20000/s, 200 MiB/s storage) shrunk to a test size: the restore dominates. */
function shrunkDefault(restore: 'eager' | 'lazy', over: ScenarioInput['quick'] = {}) {
  return resolveScenario({ guest: { memory: '16MiB' }, workload: { workingSet: '2MiB' }, quick: { storageBandwidth: '16MiB/s', dir, restore, ...over } });
}

/** A write-heavy guest: uniform writes everywhere, so pages are touched before the background reaches them. */
function writeHeavy(over: ScenarioInput['quick'] = {}, fill: ScenarioInput['guest'] = {}) {
  return resolveScenario({
    guest: { memory: '8MiB', deviceState: '64KiB', ...fill },
    workload: { pattern: 'uniform', dirtyRate: '50000/s', writeBytes: 16 },
    quick: { storageBandwidth: '8MiB/s', dir, restore: 'lazy', ...over },
  });
}

const pausedPartMs = (q: QuickResult): number => q.phases.pauseMs + q.phases.handoverMs + q.phases.restoreMs + q.phases.resumeMs;

describe('quick.restore "lazy"', () => {
  it('on the default scenario shrunk to 16 MiB: the downtime loses the restore; verified byte for byte', { timeout: 120_000 }, async () => {
    const eager = (await runScenario(shrunkDefault('eager'), { methods: ['quick'] })).quick!;
    const lazy = (await runScenario(shrunkDefault('lazy'), { methods: ['quick'] })).quick!;
    for (const q of [eager, lazy]) {
      expect(q.outcome).toBe('completed');
      expect(q.verified).toBe(true);
    }
    expect(eager.lazy).toBeUndefined();
    const l = lazy.lazy!;
    // bytes read before the resume: the whole image eagerly, only the header and the device state lazily
    expect(eager.restoredBytes).toBeGreaterThan(16 * 2 ** 20 * 0.9);
    expect(l.bytesBeforeResume).toBeLessThan(eager.restoredBytes * 0.05);
    // the eager restore cannot beat the storage pacer (a lower bound at any speed): about 1 s of 16 MiB at 16 MiB/s
    expect(eager.phases.restoreMs).toBeGreaterThan((eager.restoredBytes / (16 * 2 ** 20)) * 1000 - 20);
    // what the guest waits for besides the save: the lazy one is shorter by at least half the restore time
    expect(pausedPartMs(lazy)).toBeLessThanOrEqual(pausedPartMs(eager) - eager.phases.restoreMs * 0.5);
    // the restore moved after the resume: total time is when the last page was in place
    expect(l.resumedMs).toBe(lazy.stats.downtime);
    expect(l.completedMs).toBe(lazy.stats['total-time']);
    expect(lazy.stats['total-time']).toBeGreaterThan(lazy.stats.downtime!);
    expect(l.faultPages + l.zeroFaultPages + l.backgroundPages).toBe(lazy.pages.total);
    expect(lazy.restoredBytes).toBe(l.bytesBeforeResume + l.faultBytes + l.backgroundBytes);
    expect(l.guestLost).toBe(false);
  });

  it.each(['stream', 'mapped'] as const)('%s: a write-heavy guest faults (faults > 0, the stall histogram counts each); verified', { timeout: 60_000 }, async (format) => {
    guest = await createGuest(writeHeavy({ format }, { fill: { zero: 0.25, random: 0.75 } }));
    const g = guest;
    await until('the guest writes before the pause', () => g.vcpus.totalWrites() > 0);
    const q = await migrateQuick(guest);
    expect(q.outcome).toBe('completed');
    expect(q.verified).toBe(true);
    const l = q.lazy!;
    expect(l.faults).toBeGreaterThan(0);
    // every stall was one request on the ring (none dropped: the fill outlasts no vCPU)
    expect(l.requests).toBe(l.faults);
    expect(l.stallRecordsDropped).toBe(0);
    expect(q.stats['postcopy-latency-dist']!.reduce((a, b) => a + b, 0)).toBe(l.faults);
    expect(q.stats['postcopy-vcpu-blocktime']).toHaveLength(2);
    expect(q.stats['postcopy-latency']).toBeGreaterThan(0);
    // pages on demand and in the background add up to the guest; each byte read once
    expect(l.faultPages + l.zeroFaultPages).toBeGreaterThan(0);
    expect(l.faultPages + l.zeroFaultPages + l.backgroundPages).toBe(q.pages.total);
    expect(l.faultBytes).toBe(l.faultPages * 4096);
    expect(l.loggedWrites).toBeGreaterThan(0);
    expect(l.logDroppedWrites).toBe(0);
    expect(l.duringPagesPerSec).toBeGreaterThan(0);
    // downtime ≤ total time, phases add up to the downtime
    const ph = q.phases;
    expect(ph.pauseMs + ph.saveMs + ph.fsyncMs + ph.handoverMs + ph.restoreMs + ph.resumeMs).toBeCloseTo(q.stats.downtime!, 6);
    expect(q.stats['total-time']).toBeGreaterThanOrEqual(q.stats.downtime!);
    expect(g.vcpus.isPaused()).toBe(true); // paused again for the comparison
  });

  it.each(['stream', 'mapped'] as const)('%s: a page damaged on storage after the save is refused during the lazy restore; the guest is reported lost, never silently wrong', { timeout: 60_000 }, async (format) => {
    const s = writeHeavy({ format }, { fill: 'random' });
    guest = await createGuest(s);
    const ps = s.guest.pageSize;
    const pages = s.guest.memory / ps;
    const damage = (path: string): void => {
      // a byte in the middle of the page data: mapped at its fixed offset, stream halfway through the file
      const at = format === 'mapped'
        ? mappedLayout(ps, pages, s.guest.deviceState, [pages]).dataOffset + Math.floor(pages / 2) * ps + 100
        : Math.floor(statSync(path).size / 2);
      const fd = openSync(path, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, at);
      b[0] ^= 0x5a;
      writeSync(fd, b, 0, 1, at);
      closeSync(fd);
    };
    const q = await migrateQuick(guest, { afterSave: damage });
    expect(q.outcome).toBe('errored');
    expect(q.reason).toBe('E_IMAGE_CORRUPT');
    expect(q.verified).toBeNull();
    expect(q.error).toMatch(/CRC mismatch|record/);
    expect(q.error).toMatch(/lost/);
    expect(q.lazy!.guestLost).toBe(true);
    expect(q.lazy!.completedMs).toBeNull();
    expect(q.stats.downtime).toBe(q.lazy!.resumedMs);
  });

  it('a damaged header is refused before the resume: the guest goes on on the source', { timeout: 60_000 }, async () => {
    guest = await createGuest(writeHeavy({ format: 'stream' }));
    const q = await migrateQuick(guest, {
      afterSave: (path) => {
        const fd = openSync(path, 'r+');
        writeSync(fd, Buffer.from([0xff, 0xff]), 0, 2, 30); // inside the header: its CRC fails
        closeSync(fd);
      },
    });
    expect(q.outcome).toBe('errored');
    expect(q.reason).toBe('E_IMAGE_CORRUPT');
    expect(q.lazy).toBeUndefined(); // never resumed on the destination
    expect(q.stats.downtime).toBeNull();
    expect(guest.vcpus.isAnyPaused()).toBe(false); // running on the source again
  });
});

describe('migbench run with quick.restore "lazy"', () => {
  it('exit 0; the document has quick.lazy; the terminal prints the lazy restore after the summary', { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, [BIN, 'run', '--only', 'quick', '--set', 'guest.memory=8MiB', '--set', 'workload.pattern=uniform', '--set', 'workload.dirtyRate=50000/s',
      '--set', 'quick.storageBandwidth=8MiB/s', '--set', 'quick.restore=lazy', '--set', `quick.dir=${dir}`, '--json'], { encoding: 'utf8', timeout: 110_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const q = JSON.parse(r.stdout).quick as QuickResult;
    expect(q.verified).toBe(true);
    expect(q.lazy!.faults).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/read the index \(lazy restore\)/);
    // the summary table's lazy restore rows, then the latency histogram the table has no room for
    expect(r.stderr).toMatch(/│ lazy restore +│.*read before the resume/);
    expect(r.stderr).toMatch(/│ stalls +│.*[\d,]+ faults, mean /);
    expect(r.stderr).toMatch(/\nlazy restore  stall latency \S.*–.* [\d,]+\n/);
  });
});

describe('crc32Combine', () => {
  it('crc32(A ‖ B) from crc32(A), crc32(B) and |B|, on seeded random parts (page sizes included)', () => {
    const rng = new Rng(14);
    for (let i = 0; i < 200; i++) {
      const a = new Uint8Array(rng.nextInt(3000));
      const b = new Uint8Array(i % 10 === 0 ? 4096 * (1 + rng.nextInt(4)) : rng.nextInt(3000));
      rng.fill(a);
      rng.fill(b);
      const whole = new Uint8Array(a.length + b.length);
      whole.set(a);
      whole.set(b, a.length);
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(whole));
    }
  });

  it('an empty B leaves the CRC; a bad length is refused', () => {
    expect(crc32Combine(0x12345678, 0, 0)).toBe(0x12345678);
    expect(() => crc32Combine(1, 2, -1)).toThrow(RangeError);
  });
});
