/**
 * Parallel channels (precopy.channels, QEMU multifd) with real channel, destination and vCPU workers on
 * small guests: migrate-then-verify, the shared link budget, XBZRLE per channel, a failing channel.
 * Nothing here asserts on speed; the one timing check is a lower bound set by the link's rate. Rounds
 * are bounded by maxRounds; the timeout is a hang guard.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GuestMemory } from '../src/memory/guest-memory.ts';
import { verifyGuest } from '../src/memory/verify.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { createGuest, migratePrecopy, type Guest } from '../src/run.ts';
import { fillGuest } from '../src/workload/fill.ts';
import { until } from './helpers/until.ts';

const MiB = 2 ** 20;
let guest: Guest | null = null;

afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

function scenario(over: ScenarioInput) {
  return resolveScenario({
    seed: 5,
    ...over,
    guest: { memory: '8MiB', vcpus: 2, fill: { zero: 0.2, random: 0.4, text: 0.4 }, deviceState: '64KiB', ...over.guest },
    workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '2MiB', writeBytes: 16, ...over.workload },
    link: { bandwidth: '256MiB/s', ...over.link },
    precopy: { timeoutMs: 20000, ...over.precopy }, // a hang guard: every test bounds its rounds or migrates an idle guest
  });
}

async function migrate(over: ScenarioInput) {
  guest = await createGuest(scenario(over));
  return migratePrecopy(guest);
}

describe('pre-copy over parallel channels: the destination equals the source', () => {
  it.each<[number, 'none' | 'zlib' | 'zstd']>([
    [2, 'none'],
    [4, 'none'],
    [2, 'zstd'],
    [4, 'zlib'],
  ])('%i channels, compression %s', async (channels, compression) => {
    // Rounds are bounded by maxRounds, not by the timeout: whether the 2 MiB hot set fits the threshold
    // (measured bandwidth × 20 ms) depends on how fast this machine compresses and copies, so the
    // migration either converges or is stopped after 12 rounds, at any speed; it never runs into the
    // timeout (a hang guard here). What is checked is what holds either way.
    const p = await migrate({ precopy: { channels, compression, downtimeLimitMs: 20, maxRounds: 12 } });
    if (p.outcome !== 'converged') expect({ outcome: p.outcome, reason: p.reason }).toEqual({ outcome: 'forced-stop', reason: 'max-rounds' });
    expect(p.stats.status).toBe('completed');
    expect(p.verified).toBe(true);
    expect(p.verification).toEqual({ badPages: 0, firstBadPage: null, deviceStateEqual: true });
    const ch = p.channels!;
    expect(ch.count).toBe(channels);
    expect(ch.lanes).toHaveLength(channels);
    // every lane carried pages (the least busy lane gets the next packet), and their sum is the whole
    for (const lane of ch.lanes) expect(lane.pages).toBeGreaterThan(0);
    const sum = (k: 'pages' | 'zeroPages' | 'normalPages' | 'bytes') => ch.lanes.reduce((n, l) => n + l[k], 0);
    expect(sum('normalPages')).toBe(p.stats.ram.normal);
    expect(sum('zeroPages')).toBe(p.stats.ram.duplicate);
    expect(p.stats.ram.normal + p.stats.ram.duplicate).toBeGreaterThanOrEqual(8 * MiB / 4096);
    // the main stream carried the device state and the end of stream, on the same link budget
    expect(p.stats.ram.transferred).toBeGreaterThan(sum('bytes') + 64 * 1024);
    expect(p.stats.ram.transferred).toBe(p.stats.ram['precopy-bytes'] + p.stats.ram['downtime-bytes']);
    // one flush per dirty sync but the one that starts dirty logging (nothing is in flight then), and one before the device state
    expect(ch.flushes).toBe(p.stats.ram['dirty-sync-count']);
    // rounds add up to the totals
    expect(p.rounds.reduce((n, r) => n + r.sentPages, 0)).toBe(sum('pages'));
    expect(p.rounds.at(-1)!.stage).toBe('stop-and-copy');
    if (compression !== 'none') {
      expect(p.compression!.codec).toBe(compression);
      expect(p.compression!.frames).toBeGreaterThan(0);
      expect(p.compression!.outputBytes).toBeLessThan(p.compression!.inputBytes);
    } else {
      expect(p.compression).toBeNull();
    }
  });

  it('pages dirtied right up to the pause travel in the final packets (a hot set above the threshold, forced stop)', async () => {
    const p = await migrate({
      guest: { memory: '8MiB', fill: 'random' },
      workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '2MiB', hotFraction: 1 },
      link: { bandwidth: '64MiB/s' },
      precopy: { channels: 3, downtimeLimitMs: 2, maxRounds: 4 },
    });
    expect(p.outcome).toBe('forced-stop');
    expect(p.verified).toBe(true);
    expect(p.rounds.at(-1)!.sentPages).toBeGreaterThan(0);
  });

  it('the link rate holds over all lanes together (a lower bound on the time taken)', async () => {
    // 8 MiB/s: far below what four lanes move even on a loaded machine, so the link is the bottleneck
    // (and the lanes wait for it) at any speed
    const rate = 8 * MiB;
    const p = await migrate({ guest: { memory: '4MiB', fill: 'random' }, workload: { pattern: 'idle' }, link: { bandwidth: rate }, precopy: { channels: 4 } });
    expect(p.verified).toBe(true);
    expect(p.outcome).toBe('converged');
    // 4 MiB of random pages at 8 MiB/s need 500 ms; four lanes do not make the link faster
    const transferMs = p.stats['total-time'] - p.stats['setup-time'];
    expect(transferMs).toBeGreaterThanOrEqual((p.stats.ram.transferred / rate) * 1000 - 4 * 10 - 5);
    expect(p.engine.linkWaitMs).toBeGreaterThan(0);
  });

  it('with one channel nothing changes: one lane, the migration thread\'s, no packets and no flushes', async () => {
    const p = await migrate({ precopy: { channels: 1, maxRounds: 12 } });
    expect(p.verified).toBe(true);
    expect(p.channels!.count).toBe(1);
    expect(p.channels!.lanes).toHaveLength(1);
    expect(p.channels!.lanes[0]).toMatchObject({ packets: 0, normalPages: p.stats.ram.normal, zeroPages: p.stats.ram.duplicate, bytes: p.stats.ram.transferred });
    expect(p.channels!.flushes).toBe(0);
  });
});

describe('XBZRLE with parallel channels: each channel caches the pages it owns', () => {
  it('2 channels: deltas are made and applied per lane, and it verifies', async () => {
    const p = await migrate({
      guest: { memory: '8MiB', fill: 'random' },
      workload: { pattern: 'uniform', dirtyRate: '20000/s', writeBytes: 8 },
      link: { bandwidth: '32MiB/s' },
      precopy: { channels: 2, maxRounds: 8, downtimeLimitMs: 10, xbzrle: { enabled: true, cacheSize: '8MiB' } },
    });
    expect(p.verified).toBe(true);
    expect(p.xbzrle!.pages).toBeGreaterThan(0);
    const x = p.stats['xbzrle-cache']!;
    expect(x['cache-size']).toBe(8 * MiB); // two caches of 4 MiB
    expect(x.pages).toBeGreaterThanOrEqual(p.xbzrle!.pages);
    expect(x['cache-miss']).toBeGreaterThan(0);
    expect(x['encoding-rate']).toBeGreaterThan(1);
    // the two 4 MiB caches hold the 8 MiB guest: each page misses at most once (its owner's cache uses
    // all of its slots for the pages it owns; no page pushes out another)
    expect(x['cache-miss']).toBeLessThanOrEqual((8 * MiB) / 4096);
  });

  it('3 channels with zstd and XBZRLE together', async () => {
    const p = await migrate({
      guest: { memory: '8MiB', fill: { random: 0.5, text: 0.5 } },
      workload: { pattern: 'uniform', dirtyRate: '20000/s', writeBytes: 8 },
      link: { bandwidth: '64MiB/s' },
      precopy: { channels: 3, compression: 'zstd', maxRounds: 8, downtimeLimitMs: 5, xbzrle: { enabled: true, cacheSize: '8MiB' } },
    });
    expect(p.verified).toBe(true);
    expect(p.xbzrle!.pages).toBeGreaterThan(0);
    expect(p.stats['xbzrle-cache']!['cache-size']).toBe(3 * 2 * MiB); // 8 MiB ÷ 3, down to a power of two
  });
});

describe('a failing channel', () => {
  it('ends the migration as errored, without hanging; the guest stays on the source, intact and running', async () => {
    const s = scenario({
      seed: 9,
      guest: { memory: '8MiB', fill: { zero: 0.3, text: 0.7 } },
      workload: { pattern: 'idle' },
      link: { bandwidth: '16MiB/s' },
      precopy: { channels: 2 },
    });
    guest = await createGuest(s);
    const p = await migratePrecopy(guest, { fault: { worker: 'channel', index: 1, action: 'throw', at: 2 } });
    expect(p.outcome).toBe('errored');
    expect(p.reason).toBe('E_WORKER');
    expect(p.error).toMatch(/channel 1: injected fault at packet 2/);
    expect(p.verified).toBeNull();
    expect(guest.vcpus.isPaused()).toBe(false);
    // the source is what the seed made it: channels only read it
    const expected = new GuestMemory(guest.source.layout);
    fillGuest(expected, s.guest.fill, s.seed);
    expect(verifyGuest(expected, guest.source, guest.deviceState, guest.deviceState).equal).toBe(true);
  });

  it('a channel failing in the stop-and-copy resumes the paused guest on the source', async () => {
    guest = await createGuest(scenario({ guest: { memory: '4MiB', fill: 'random' }, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, precopy: { channels: 2, maxRounds: 1 } }));
    const p = await migratePrecopy(guest, { fault: { worker: 'channel', index: 0, action: 'throw', at: 'stop-and-copy' } });
    expect(p.outcome).toBe('errored');
    expect(p.error).toMatch(/channel 0: injected fault at packet \d+ \(stop-and-copy\)/);
    expect(guest.vcpus.isPaused()).toBe(false);
    const g = guest;
    const before = g.vcpus.totalWrites();
    await until('the resumed vCPUs write again', () => g.vcpus.totalWrites() > before);
  });
});
