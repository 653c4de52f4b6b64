/**
 * Migrate-then-verify with real vCPU workers and a real destination worker on small guests.
 * Nothing here asserts on speed; rates and limits only steer (non-)convergence. A migration of a guest
 * that keeps dirtying is bounded by maxRounds (converged or forced-stop, whichever this machine's speed
 * gives); the timeout is a hang guard. Claims about how fast something converges run in simulate mode
 * here (deterministic), and the vCPU pacing on a virtual clock (workload-vcpu-loop.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GuestMemory } from '../src/memory/guest-memory.ts';
import { verifyGuest } from '../src/memory/verify.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { createGuest, migratePrecopy, runScenario as runBoth, type Guest } from '../src/run.ts';
import type { Scenario } from '../src/options.ts';
import { fillGuest } from '../src/workload/fill.ts';
import type { PatternName } from '../src/workload/patterns.ts';
import { simulatePrecopy } from '../src/sim/run-simulated.ts';
import { until } from './helpers/until.ts';

const MiB = 2 ** 20;
let guest: Guest | null = null;

afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

/** Pre-copy only: these tests are about the live migration. */
async function runScenario(s: Scenario) {
  const doc = await runBoth(s, { methods: ['precopy'] });
  expect(doc.quick).toBeNull();
  return { ...doc, precopy: doc.precopy! };
}

function scenario(over: ScenarioInput) {
  return resolveScenario({
    ...over,
    guest: { memory: '16MiB', vcpus: 2, fill: { zero: 0.2, random: 0.6, text: 0.2 }, deviceState: '64KiB', ...over.guest },
    link: { bandwidth: '512MiB/s', ...over.link },
    precopy: { timeoutMs: 20000, ...over.precopy },
  });
}

describe('pre-copy migrates a guest that real vCPUs keep dirtying, and the destination equals the source', () => {
  const cases: [PatternName, number, string][] = [
    ['idle', 1, '8MiB'],
    ['uniform', 2, '16MiB'],
    ['hotset', 3, '32MiB'],
    ['zipf', 4, '16MiB'],
    ['sequential', 5, '16MiB'],
    ['hotset', 6, '8MiB'],
    ['uniform', 7, '32MiB'],
  ];
  it.each(cases)('%s, seed %i, %s', async (pattern, seed, memory) => {
    const doc = await runScenario(
      scenario({ seed, guest: { memory }, workload: { pattern, dirtyRate: '20000/s', workingSet: '2MiB', writeBytes: 16 }, precopy: { maxRounds: 15 } }),
    );
    const p = doc.precopy;
    // an idle guest converges at any speed (nothing is dirty after the bulk round); a dirtying one
    // converges when this machine sends fast enough, else it is stopped after 15 rounds
    if (pattern === 'idle') expect(p.outcome).toBe('converged');
    else if (p.outcome !== 'converged') expect({ outcome: p.outcome, reason: p.reason }).toEqual({ outcome: 'forced-stop', reason: 'max-rounds' });
    expect(p.verified).toBe(true);
    expect(p.verification).toEqual({ badPages: 0, firstBadPage: null, deviceStateEqual: true });
    const pages = Number.parseInt(memory, 10) * MiB / 4096;
    // every page went over at least once; zero pages as headers only
    expect(p.stats.ram.normal + p.stats.ram.duplicate).toBeGreaterThanOrEqual(pages);
    // (a sequential sweep writes every page, zero ones too, before the bulk round reaches them)
    if (pattern !== 'sequential') expect(p.stats.ram.duplicate).toBeGreaterThan(0);
    expect(p.stats.ram['normal-bytes']).toBe(p.stats.ram.normal * 4096);
    expect(p.stats.ram.transferred).toBe(p.stats.ram['precopy-bytes'] + p.stats.ram['downtime-bytes']);
    expect(p.stats.ram.remaining).toBe(0);
    expect(p.rounds[0].stage).toBe('bulk');
    expect(p.rounds.at(-1)!.stage).toBe('stop-and-copy');
    expect(p.stats.ram['dirty-sync-count']).toBe(p.rounds.length + 1); // one sync per round, and QEMU's at the start of dirty logging
    expect(p.stats.downtime).toBeGreaterThan(0);
    expect(p.stats['total-time']).toBeGreaterThan(p.stats.downtime!);
    // the time series: from zero to everything, in time order, ending at the resume
    expect(p.series[0].transferredBytes).toBe(0);
    expect(p.series.at(-1)!.transferredBytes).toBe(p.stats.ram.transferred);
    expect(p.series.at(-1)!.remainingBytes).toBe(0);
    for (let i = 1; i < p.series.length; i++) expect(p.series[i].tMs).toBeGreaterThanOrEqual(p.series[i - 1].tMs);
    if (pattern !== 'idle') expect(p.workload.achievedPagesPerSec).toBeGreaterThan(0);
    else expect(p.workload.achievedPagesPerSec).toBe(0);
  });

  it('sends pages dirtied in the last rounds: the final copy carries what the guest wrote', async () => {
    // A hot set bigger than the switchover threshold keeps pages dirty right up to the pause.
    const doc = await runScenario(
      scenario({
        guest: { memory: '16MiB', fill: 'random' },
        workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '4MiB', hotFraction: 1 },
        link: { bandwidth: '64MiB/s' },
        precopy: { downtimeLimitMs: 5, maxRounds: 4 },
      }),
    );
    const p = doc.precopy;
    expect(p.verified).toBe(true);
    const last = p.rounds.at(-1)!;
    expect(last.stage).toBe('stop-and-copy');
    expect(last.sentPages).toBeGreaterThan(0);
    expect(p.stats.ram['downtime-bytes']).toBeGreaterThan(last.sentPages * 4096 - 1);
  });
});

describe('forced non-convergence', () => {
  it('a dirty rate above the link rate with a tiny downtime limit is stopped after maxRounds, and still verifies', async () => {
    const doc = await runScenario(
      scenario({
        guest: { memory: '8MiB', fill: 'random' },
        workload: { pattern: 'uniform', dirtyRate: '60000/s' }, // ≈ 234 MiB/s of page writes
        link: { bandwidth: '32MiB/s' },
        precopy: { downtimeLimitMs: 1, maxRounds: 5 },
      }),
    );
    const p = doc.precopy;
    expect(p.outcome).toBe('forced-stop');
    expect(p.reason).toBe('max-rounds');
    expect(p.verified).toBe(true);
    expect(p.rounds.filter((r) => r.stage !== 'stop-and-copy')).toHaveLength(5);
    expect(p.rounds.at(-1)!.stage).toBe('stop-and-copy');
    // it did not converge: the last live round left more than the threshold pending
    const lastLive = p.rounds[4];
    expect(lastLive.pendingPages * 4096).toBeGreaterThanOrEqual(lastLive.thresholdBytes);
  });

  it('timeout with onTimeout "force" stops and copies, and verifies', async () => {
    const doc = await runScenario(
      scenario({
        guest: { memory: '8MiB', fill: 'random' },
        workload: { pattern: 'uniform', dirtyRate: '60000/s' },
        link: { bandwidth: '32MiB/s' },
        precopy: { downtimeLimitMs: 1, timeoutMs: 600, onTimeout: 'force' },
      }),
    );
    expect(doc.precopy.outcome).toBe('forced-stop');
    expect(doc.precopy.reason).toBe('timeout');
    expect(doc.precopy.verified).toBe(true);
  });
});

describe('cancel', () => {
  it('timeout with onTimeout "cancel": outcome cancelled, the source is intact', async () => {
    const s = scenario({
      seed: 11,
      guest: { memory: '16MiB', fill: { zero: 0.5, text: 0.5 } },
      workload: { pattern: 'idle' },
      link: { bandwidth: '8MiB/s' }, // the bulk round alone needs 2 s
      precopy: { timeoutMs: 300, onTimeout: 'cancel' },
    });
    guest = await createGuest(s);
    const result = await migratePrecopy(guest);
    expect(result.outcome).toBe('cancelled');
    expect(result.reason).toBe('timeout');
    expect(result.verified).toBeNull();
    expect(result.stats.status).toBe('cancelled');
    expect(result.stats.downtime).toBeNull();
    expect(result.stats.ram.remaining).toBeGreaterThan(0);
    // the source is what the seed made it: the migration never wrote to it
    const expected = new GuestMemory(guest.source.layout);
    fillGuest(expected, s.guest.fill, s.seed);
    const same = verifyGuest(expected, guest.source, guest.deviceState, guest.deviceState);
    expect(same.equal).toBe(true);
    // and the destination did not get everything
    const dest = verifyGuest(guest.source, guest.dest, guest.deviceState, new Uint8Array(guest.destDeviceState));
    expect(dest.equal).toBe(false);
  });

  it('after a cancel the vCPUs are running and still dirtying memory', async () => {
    guest = await createGuest(
      scenario({
        workload: { pattern: 'uniform', dirtyRate: '5000/s' },
        link: { bandwidth: '8MiB/s' },
        precopy: { timeoutMs: 250, onTimeout: 'cancel' },
      }),
    );
    const result = await migratePrecopy(guest);
    expect(result.outcome).toBe('cancelled');
    expect(guest.vcpus.isPaused()).toBe(false);
    const g = guest;
    const before = g.vcpus.totalWrites();
    await until('the vCPUs write after the cancel', () => g.vcpus.totalWrites() > before);
  });

  it('an abort signal cancels with reason "interrupted"', async () => {
    guest = await createGuest(scenario({ workload: { pattern: 'uniform', dirtyRate: '1000/s' }, link: { bandwidth: '8MiB/s' } }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const result = await migratePrecopy(guest, { signal: ac.signal });
    expect(result.outcome).toBe('cancelled');
    expect(result.reason).toBe('interrupted');
    expect(guest.vcpus.isPaused()).toBe(false);
  });
});

describe('vCPU control', () => {
  it('pause waits for every acknowledgement; while paused nothing is written; resume restarts writing', async () => {
    guest = await createGuest(scenario({ guest: { vcpus: 3 }, workload: { pattern: 'uniform', dirtyRate: '30000/s' } }));
    await new Promise((r) => setTimeout(r, 100));
    await guest.vcpus.pause();
    expect(guest.vcpus.isPaused()).toBe(true);
    const snapshot = Buffer.from(guest.source.blocks[0]).subarray(0); // a view; copy it
    const copy = Buffer.from(snapshot);
    const writes = guest.vcpus.totalWrites();
    await new Promise((r) => setTimeout(r, 150));
    expect(guest.vcpus.totalWrites()).toBe(writes);
    expect(Buffer.from(guest.source.blocks[0]).equals(copy)).toBe(true);
    await guest.vcpus.resume();
    const g = guest;
    await until('the vCPUs write after the resume', () => g.vcpus.totalWrites() > writes);
  });

  it('each vCPU reports the rate it achieved: never above its share of the target', async () => {
    guest = await createGuest(scenario({ guest: { vcpus: 2 }, workload: { pattern: 'uniform', dirtyRate: '4000/s' } }));
    const g = guest;
    await new Promise((r) => setTimeout(r, 600)); // at least 600 ms of running (a minimum, not a speed)
    await until('every vCPU wrote', () => g.vcpus.rates().perVcpuPagesPerSec.every((r) => r > 0));
    const rates = g.vcpus.rates();
    expect(rates.perVcpuPagesPerSec).toHaveLength(2);
    // paced over 100 ms windows: at any speed never above the share (+ one write's rounding over
    // ≥ 600 ms of running); how near the share it gets is this machine's speed, checked exactly on a
    // virtual clock in workload-vcpu-loop.test.ts
    for (const r of rates.perVcpuPagesPerSec) expect(r).toBeLessThan(2000 * 1.15);
    expect(rates.totalPagesPerSec).toBeCloseTo(rates.perVcpuPagesPerSec[0] + rates.perVcpuPagesPerSec[1], 6);
  });

  it('throttle lowers the achieved rate: never above the throttled share', async () => {
    guest = await createGuest(scenario({ guest: { vcpus: 1 }, workload: { pattern: 'uniform', dirtyRate: '10000/s' } }));
    const g = guest;
    g.vcpus.setThrottle(80);
    const t0 = performance.now();
    const w0 = g.vcpus.totalWrites();
    await new Promise((r) => setTimeout(r, 500));
    await until('the throttled vCPU writes', () => g.vcpus.totalWrites() > w0);
    const throttled = g.vcpus.totalWrites() - w0;
    const elapsedMs = performance.now() - t0; // measured: a timer may fire late on a busy machine
    // 20% of 10000/s is 2000/s: at most that over the time that really passed, plus one window of the
    // throttled rate (200) and one chunk (64) in flight when the throttle was set; unthrottled it would
    // be 10000/s (the exact throttle arithmetic: workload-vcpu-loop.test.ts)
    expect(throttled).toBeLessThanOrEqual((2000 * elapsedMs) / 1000 + 200 + 64);
  });
});

describe('the link', () => {
  it('latency delays every frame: the downtime includes it', async () => {
    const doc = await runScenario(scenario({ guest: { memory: '4MiB' }, workload: { pattern: 'idle' }, link: { bandwidth: '1GiB/s', latencyMs: 80 } }));
    expect(doc.precopy.verified).toBe(true);
    // the end-of-stream frame reaches the destination no sooner than 80 ms after it was sent
    expect(doc.precopy.stats.downtime).toBeGreaterThanOrEqual(80);
  });

  it('a slow link is not engine-bound: the rate limiter set the pace', async () => {
    // 4 MiB/s is 1000 pages a second: far below what the engine moves even on a loaded machine (a busy
    // one here, load 9 on 2 cores, still moved ~25 MB/s), so the link is the bottleneck at any speed
    const doc = await runScenario(
      scenario({ guest: { memory: '4MiB', fill: 'random' }, workload: { pattern: 'idle' }, link: { bandwidth: '4MiB/s' }, precopy: { downtimeLimitMs: 50 } }),
    );
    expect(doc.precopy.verified).toBe(true);
    // 4 MiB at 4 MiB/s: about a second, less the 10 ms burst and the stop-and-copy's share
    expect(doc.precopy.engine.liveDurationMs).toBeGreaterThanOrEqual(200);
    expect(doc.precopy.engine.linkWaitMs).toBeGreaterThan(0);
    expect(doc.precopy.engineBound).toBe(false);
    // the engine facts agree with the byte counts (the decision itself is a table in precopy-stats.test.ts)
    const e = doc.precopy.engine;
    expect((e.liveBytesPerSec * e.liveDurationMs) / 1000).toBeCloseTo(doc.precopy.stats.ram['precopy-bytes'], -3);
    expect(e.liveRateLimitBytesPerSec).toBe(4 * 2 ** 20);
  });
});

describe('XBZRLE', () => {
  it.each(['uniform', 'hotset', 'zipf', 'sequential'] as const)('%s: migrates with deltas and verifies', async (pattern) => {
    const doc = await runScenario(
      scenario({
        seed: 31,
        guest: { memory: '16MiB', fill: { zero: 0.2, random: 0.6, text: 0.2 } },
        workload: { pattern, dirtyRate: '20000/s', workingSet: '2MiB', writeBytes: 8 },
        link: { bandwidth: '64MiB/s' },
        precopy: { downtimeLimitMs: 30, maxRounds: 12, xbzrle: { enabled: true, cacheSize: '8MiB' } },
      }),
    );
    const p = doc.precopy;
    expect(p.verified).toBe(true);
    expect(p.xbzrle!.pages).toBeGreaterThan(0);
    const x = p.stats['xbzrle-cache']!;
    expect(x['cache-size']).toBe(8 * MiB);
    expect(x.pages).toBeGreaterThanOrEqual(p.xbzrle!.pages);
    expect(x['cache-miss']).toBeGreaterThan(0);
  });

  const sparse = (enabled: boolean) =>
    scenario({
      guest: { memory: '16MiB', fill: 'random' },
      workload: { pattern: 'uniform', dirtyRate: '20000/s', writeBytes: 8 }, // 80 MB/s of pages, 160 kB/s of changed bytes
      link: { bandwidth: '32MiB/s' },
      precopy: { maxRounds: 20, xbzrle: { enabled, cacheSize: '16MiB' } },
    });

  it('a migration that does not converge without XBZRLE converges with it (sparse writes, a slow link; simulate mode)', () => {
    // Whether it converges is a matter of rates (the link's against the guest's), so the claim is held
    // in simulate mode, deterministic from the seed; the emulated run below checks what holds at any speed.
    const off = simulatePrecopy(sparse(false));
    expect({ outcome: off.outcome, reason: off.reason }).toEqual({ outcome: 'forced-stop', reason: 'max-rounds' });
    const on = simulatePrecopy(sparse(true));
    expect(on.outcome).toBe('converged');
    expect(on.stats.downtime!).toBeLessThan(off.stats.downtime! / 10);
    expect(on.stats['xbzrle-cache']!['encoding-rate']).toBeGreaterThan(10);
  });

  it('the same on real threads: with XBZRLE deltas go over the link, fewer bytes per page sent', async () => {
    const off = (await runScenario(sparse(false))).precopy;
    const on = (await runScenario(sparse(true))).precopy;
    expect(off.verified).toBe(true);
    expect(on.verified).toBe(true);
    expect(on.xbzrle!.pages).toBeGreaterThan(0);
    expect(on.stats['xbzrle-cache']!['encoding-rate']).toBeGreaterThan(10);
    // a random guest without XBZRLE sends every page in full; a delta is smaller than a page, so with
    // XBZRLE the average page costs less on the link (at any speed: the rounds may differ, the sizes not)
    const perPage = (p: typeof on) => p.stats.ram.transferred / p.rounds.reduce((n, r) => n + r.sentPages, 0);
    expect(perPage(off)).toBeGreaterThan(4096);
    expect(perPage(on)).toBeLessThan(perPage(off));
  });
});

describe('compression', () => {
  it('zlib: text pages shrink on the link, the destination inflates them, and it verifies', async () => {
    const doc = await runScenario(
      scenario({
        guest: { memory: '16MiB', fill: { zero: 0.2, text: 0.8 } },
        workload: { pattern: 'hotset', dirtyRate: '10000/s', workingSet: '2MiB' },
        link: { bandwidth: '256MiB/s' },
        precopy: { compression: 'zlib', compressionLevel: 1, maxRounds: 15 },
      }),
    );
    const p = doc.precopy;
    expect(p.verified).toBe(true);
    expect(p.compression!.frames).toBeGreaterThan(0);
    expect(p.compression!.ratio!).toBeGreaterThan(2);
    expect(p.stats.ram.transferred).toBeLessThan(p.stats.ram['normal-bytes'] / 2);
  });

  it('zstd: text pages shrink on the link, the destination decompresses them, and it verifies', async () => {
    const doc = await runScenario(
      scenario({
        seed: 21,
        guest: { memory: '16MiB', fill: { zero: 0.2, random: 0.2, text: 0.6 } },
        workload: { pattern: 'hotset', dirtyRate: '10000/s', workingSet: '2MiB', writeBytes: 64 },
        link: { bandwidth: '256MiB/s' },
        precopy: { compression: 'zstd', compressionLevel: 3, maxRounds: 15 },
      }),
    );
    const p = doc.precopy;
    expect(p.verified).toBe(true);
    expect(p.compression).toMatchObject({ codec: 'zstd', level: 3 });
    expect(p.compression!.frames).toBeGreaterThan(0);
    expect(p.compression!.ratio!).toBeGreaterThan(1.5);
    expect(p.compression!.outputBytes).toBeLessThan(p.compression!.inputBytes);
  });

  it('zlib with XBZRLE: both on, still byte for byte', async () => {
    const doc = await runScenario(
      scenario({
        guest: { memory: '16MiB', fill: { random: 0.5, text: 0.5 } },
        workload: { pattern: 'uniform', dirtyRate: '20000/s', writeBytes: 8 },
        link: { bandwidth: '64MiB/s' },
        precopy: { compression: 'zlib', xbzrle: { enabled: true, cacheSize: '16MiB' }, maxRounds: 10, downtimeLimitMs: 5 },
      }),
    );
    expect(doc.precopy.verified).toBe(true);
    expect(doc.precopy.xbzrle!.pages).toBeGreaterThan(0);
  });
});
