/**
 * Post-copy and link failures in simulate mode (issue 14 items 5 and 7): the loop's post-copy port on
 * the virtual clock (src/sim/simulate-postcopy.ts). Everything here is the model's own arithmetic, so
 * it holds exactly at any machine speed; agreement with emulate mode is test/sim-postcopy-agreement.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { LATENCY_BUCKETS } from '../src/postcopy/figures.ts';
import { simulatePrecopy, simulateScenario } from '../src/sim/run-simulated.ts';
import { simulationWork, simulationWorkProblem } from '../src/sim/work-bound.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { DEVICE_CHUNK_BYTES, HEADER_BYTES, maxRunPages } from '../src/transport/frame.ts';

const MiB = 2 ** 20;
const align8 = (n: number) => Math.ceil(n / 8) * 8;

// A 64 MiB guest whose 16 MiB hot set is rewritten faster than a round over it takes at 64 MiB/s:
// 20 ms of downtime holds 320 pages, the hot set is 4096: pre-copy never converges.
const base: ScenarioInput = {
  seed: 3,
  guest: { memory: '64MiB', vcpus: 2, fill: 'random', deviceState: '64KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '16MiB', hotFraction: 0.95, writeBytes: 8 },
  link: { bandwidth: '64MiB/s' },
  precopy: { downtimeLimitMs: 20, maxRounds: 2, timeoutMs: 30_000 },
};
const post = (extra: ScenarioInput = {}) => simulatePrecopy(resolveScenario({ ...base, ...extra, postcopy: { enabled: true, ...extra.postcopy } }));

/** The highest latency bucket with a fault in it; its lower edge in ms. */
function longestStallFloorMs(dist: number[]): number {
  let top = 0;
  for (let b = 0; b < dist.length; b++) if (dist[b] > 0) top = b;
  return 2 ** top / 1000;
}

describe('post-copy in simulate mode', () => {
  it('a hot set that cannot converge: pre-copy is forced to stop; post-copy completes with a downtime of the switch alone', () => {
    const pre = simulatePrecopy(resolveScenario(base));
    expect(pre.outcome).toBe('forced-stop');
    const r = post();
    expect(r.outcome).toBe('postcopy');
    expect(r.reason).toBeNull();
    expect(r.rounds.map((x) => x.stage)).toEqual(['bulk', 'stop-and-copy']); // startAfterRounds 1: after the bulk round
    // the downtime: the missing-pages bitmap (64 MiB of 4 KiB pages = 2 KiB), the 64 KiB device state
    // and the run command, at the link's rate, then one latency (0 here)
    const pauseBytes = align8(HEADER_BYTES + 2048) + align8(HEADER_BYTES + 64 * 1024) + align8(HEADER_BYTES);
    expect(r.stats.ram['downtime-bytes']).toBe(pauseBytes);
    expect(r.stats.downtime!).toBeCloseTo((pauseBytes * 1000) / (64 * MiB), 9);
    expect(r.stats.downtime!).toBeLessThan(pre.stats.downtime! / 50);
    const pc = r.postcopy!;
    expect(pc.missingPages).toBeGreaterThan(1000);
    expect(pc.urgentPages + pc.backgroundPages).toBe(pc.missingPages);
    expect(pc.urgentPages).toBeGreaterThan(0);
    // every missing page crosses once after the resume, in full (random fill: no zero pages)
    expect(r.stats.ram['postcopy-bytes']!).toBeGreaterThanOrEqual(pc.missingPages * 4096);
    expect(r.stats.ram['postcopy-bytes']!).toBeLessThanOrEqual(pc.missingPages * align8(HEADER_BYTES + 4096) + HEADER_BYTES);
    // QEMU's figures: each fault is one request (the model never drops a stall record)
    const requests = r.stats.ram['postcopy-requests']!;
    expect(requests).toBeGreaterThan(0);
    expect(pc.faults).toBe(requests);
    const dist = r.stats['postcopy-latency-dist']!;
    expect(dist).toHaveLength(LATENCY_BUCKETS);
    expect(dist.reduce((a, b) => a + b, 0)).toBe(pc.faults);
    const perVcpu = r.stats['postcopy-vcpu-blocktime']!;
    expect(perVcpu).toHaveLength(2);
    expect(r.stats['postcopy-blocktime']!).toBeLessThanOrEqual(Math.min(...perVcpu) + 1e-9);
    expect(r.stats['postcopy-latency']!).toBeCloseTo(((perVcpu[0] + perVcpu[1]) / pc.faults) * 1e6, 3);
    // times in order; the completion is the total time; the push takes the missing pages' link time at least
    expect(pc.startMs).toBeLessThan(pc.resumedMs);
    expect(pc.completedMs).toBe(r.stats['total-time']);
    expect(pc.durationMs).toBeGreaterThanOrEqual((pc.missingPages * 4096 * 1000) / (64 * MiB));
    // the guest: at the dirty rate before, slowed by its stalls during, at the dirty rate again after
    expect(pc.writeRate.beforePagesPerSec).toBeCloseTo(40_000, -2);
    expect(pc.writeRate.duringPagesPerSec).toBeLessThan(40_000);
    expect(pc.writeRate.afterPagesPerSec).toBeCloseTo(40_000, -2); // paced as a vCPU worker: a little under the rate over a short window
    expect(pc.rateLimitBytesPerSec).toBe(64 * MiB);
  });

  it('a fault costs a round trip and the page, queued behind the frame on the link: preempt puts a request behind one page, not a 64-page run', () => {
    const latencyMs = 3;
    const link = { bandwidth: '64MiB/s', latencyMs };
    const frameMs = (pages: number) => (align8(HEADER_BYTES + pages * 4096) * 1000) / (64 * MiB);
    const withPreempt = post({ link });
    const without = post({ link, postcopy: { preempt: false } });
    for (const [r, run] of [[withPreempt, 1], [without, maxRunPages(4096)]] as const) {
      // at most: the trip to the source, the frame already on the link, the requests ahead (one per vCPU), the page, the trip back
      const boundMs = 2 * latencyMs + frameMs(run) + 2 * frameMs(1) + 1e-6;
      expect(longestStallFloorMs(r.stats['postcopy-latency-dist']!)).toBeLessThanOrEqual(boundMs);
      expect(r.stats['postcopy-latency']! / 1e6).toBeLessThanOrEqual(boundMs);
    }
    // the urgent lane: shorter stalls, so the guest gets more done and asks more often
    expect(withPreempt.stats['postcopy-latency']!).toBeLessThan(without.stats['postcopy-latency']!);
    expect(withPreempt.postcopy!.writeRate.duringPagesPerSec).toBeGreaterThan(without.postcopy!.writeRate.duringPagesPerSec);
  });

  it('a longer link latency: longer stalls, fewer requests, and the downtime grows by the latency', () => {
    const near = post();
    const far = post({ link: { bandwidth: '64MiB/s', latencyMs: 10 } });
    expect(far.stats['postcopy-latency']! / 1e6).toBeGreaterThan(10); // at least one latency each way for a page not sent yet, on average
    expect(far.stats.ram['postcopy-requests']!).toBeLessThan(near.stats.ram['postcopy-requests']! / 5);
    expect(far.stats.downtime! - near.stats.downtime!).toBeCloseTo(10, 6);
  });

  it('reads fault too (workload.readRate): more requests than with writes alone', () => {
    const writes = post({ link: { bandwidth: '64MiB/s', latencyMs: 2 } });
    const reads = post({ link: { bandwidth: '64MiB/s', latencyMs: 2 }, workload: { ...base.workload, dirtyRate: '4000/s', readRate: '36000/s' } });
    const fewWrites = post({ link: { bandwidth: '64MiB/s', latencyMs: 2 }, workload: { ...base.workload, dirtyRate: '4000/s' } });
    expect(reads.stats.ram['postcopy-requests']!).toBeGreaterThan(fewWrites.stats.ram['postcopy-requests']!);
    expect(writes.stats.ram['postcopy-requests']!).toBeGreaterThan(0);
  });

  it('postcopy.maxBandwidth slows the push and the post-copy phase takes longer', () => {
    const full = post();
    const slow = post({ postcopy: { maxBandwidth: '16MiB/s' } });
    expect(slow.postcopy!.rateLimitBytesPerSec).toBe(16 * MiB);
    expect(slow.postcopy!.durationMs).toBeGreaterThan(3 * full.postcopy!.durationMs);
    expect(slow.stats.downtime).toBe(full.stats.downtime); // the switch is at the link's rate
  });

  it('a device state above one chunk goes in 256 KiB chunks, and a large guest\'s bitmap too', () => {
    const r = post({ guest: { ...base.guest, deviceState: '600KiB' } });
    const ds = 600 * 1024;
    const chunks = align8(HEADER_BYTES + DEVICE_CHUNK_BYTES) * 2 + align8(HEADER_BYTES + ds - 2 * DEVICE_CHUNK_BYTES);
    expect(r.stats.ram['downtime-bytes']).toBe(align8(HEADER_BYTES + 2048) + chunks + align8(HEADER_BYTES));
  });

  it('scales with the pages touched: a 256 GiB guest with a 64 MiB hot set completes through post-copy', async () => {
    const s = resolveScenario({
      guest: { memory: '256GiB' },
      workload: { pattern: 'hotset', workingSet: '64MiB', hotFraction: 1, dirtyRate: '20000/s' },
      link: { bandwidth: '10Gbit/s', latencyMs: 1 },
      precopy: { downtimeLimitMs: 1, maxRounds: 3, timeoutMs: '2h' },
      postcopy: { enabled: true, startAfterRounds: 2 },
    });
    const d = await simulateScenario(s, { methods: ['precopy'] });
    const r = d.precopy!;
    expect(r.outcome).toBe('postcopy');
    expect(r.rounds.filter((x) => x.stage !== 'stop-and-copy')).toHaveLength(2);
    expect(r.postcopy!.missingPages).toBeLessThanOrEqual((64 * MiB) / 4096);
    expect(r.stats['total-time']).toBeGreaterThan(200_000); // the bulk round alone: 256 GiB at 10 Gbit/s
  });

  it('a post-copy phase that would model too many guest accesses in its one step is refused, naming the key', () => {
    const s = resolveScenario({ ...base, workload: { ...base.workload, dirtyRate: '1000000/s' }, postcopy: { enabled: true, maxBandwidth: '1MiB/s' } });
    const p = simulationWorkProblem(s, ['precopy']);
    expect(p?.key).toBe('postcopy.maxBandwidth');
    expect(p!.message).toMatch(/^postcopy\.maxBandwidth: simulate mode models at most 10,000,000 guest accesses in the post-copy phase .*, got 8\.39 Mbit\/s$/);
    expect(simulationWorkProblem(resolveScenario({ ...base, postcopy: { enabled: true } }), ['precopy'])).toBeNull();
  });

  it('the post-copy bound is a true bound: the phase and its after window last less, and model fewer accesses', () => {
    for (const extra of [{}, { postcopy: { preempt: false } }, { postcopy: { maxBandwidth: '8MiB/s' } }, { link: { bandwidth: '64MiB/s', latencyMs: 20 } }, { workload: { ...base.workload, readRate: '30000/s' } }] as ScenarioInput[]) {
      const s = resolveScenario({ ...base, ...extra, postcopy: { enabled: true, ...extra.postcopy } });
      const w = simulationWork(s, ['precopy']);
      const r = simulatePrecopy(s);
      const pc = r.postcopy!;
      expect(pc.completedMs - pc.resumedMs + pc.writeRate.afterWindowMs).toBeLessThan(w.postcopyBoundMs); // the guest runs from the resume
      const accessesPerSec = s.workload.dirtyRate + s.workload.readRate;
      expect((accessesPerSec * (pc.completedMs - pc.resumedMs + pc.writeRate.afterWindowMs)) / 1000).toBeLessThanOrEqual(w.postcopyAccesses);
    }
  });
});

/** A document without what moves with the wall clock. */
function strip(d: ResultDocument): string {
  const { startedAt: _s, finishedAt: _f, git: _g, env: _e, simulation, ...rest } = d;
  const { wallTimeMs: _w, speedup: _p, perMethod: _m, ...model } = simulation!;
  return JSON.stringify({ ...rest, model });
}

describe('determinism', () => {
  it('the same scenario and seed give the same document; another seed another one', async () => {
    for (const extra of [{ postcopy: { enabled: true } }, { postcopy: { enabled: true, preempt: false }, link: { bandwidth: '64MiB/s', latencyMs: 2 }, workload: { ...base.workload, readRate: '10000/s' } }] as ScenarioInput[]) {
      const s = resolveScenario({ ...base, ...extra });
      const a = strip(await simulateScenario(s, { methods: ['precopy'] }));
      expect(a).toBe(strip(await simulateScenario(s, { methods: ['precopy'] })));
      expect(strip(await simulateScenario(resolveScenario({ ...base, ...extra, seed: 4 }), { methods: ['precopy'] }))).not.toBe(a);
    }
  });
});

describe('a link that dies (faults.linkDownAtMs) in simulate mode', () => {
  const link = { bandwidth: '64MiB/s' };
  it('in pre-copy: failed, the guest goes on on the source; what crossed is what the link carried until then', () => {
    // 64 MiB at 64 MiB/s: the bulk round takes 1 s, so at 300 ms it is running
    const r = simulatePrecopy(resolveScenario({ ...base, link, faults: { linkDownAtMs: 300 } }));
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(false);
    expect(r.error).toBe('the link went down 300 ms after the migration request');
    expect(r.stats.status).toBe('failed');
    expect(r.stats.downtime).toBeNull();
    expect(r.stats['total-time']).toBeGreaterThanOrEqual(300);
    const frameMs = (align8(HEADER_BYTES + 64 * 4096) * 1000) / (64 * MiB);
    expect(r.stats['total-time']).toBeLessThan(300 + frameMs);
    // the link carried 300 ms of frames at its rate, to within one frame
    expect(Math.abs(r.stats.ram.transferred - 0.3 * 64 * MiB)).toBeLessThanOrEqual(align8(HEADER_BYTES + 64 * 4096));
  });

  it('with post-copy enabled, before the switch: failed, the guest is not lost', () => {
    const r = post({ faults: { linkDownAtMs: 500 } });
    expect(r.outcome).toBe('failed');
    expect(r.guestLost).toBe(false);
  });

  it('during the switch (the guest paused, not yet resumed on the destination): failed, the guest is not lost', () => {
    const ok = post({ guest: { ...base.guest, deviceState: '1MiB' } });
    const pause = ok.postcopy!.startMs;
    const r = post({ guest: { ...base.guest, deviceState: '1MiB' }, faults: { linkDownAtMs: pause + 5 } }); // the 1 MiB device state takes 15.6 ms
    expect(r.outcome).toBe('failed');
    expect(r.guestLost).toBe(false);
  });

  it('after the switch to post-copy: failed, the guest is lost (split between the hosts)', () => {
    const ok = post();
    const pc = ok.postcopy!;
    const r = post({ faults: { linkDownAtMs: (pc.resumedMs + pc.completedMs) / 2 } });
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(true);
    expect(r.postcopy).toBeUndefined();
    // the guest's writes until then count those it did on the destination too
    const writesBeforeSwitch = (pc.writeRate.beforePagesPerSec * pc.startMs) / 1000;
    expect((r.workload.achievedPagesPerSec * r.stats['total-time']) / 1000).toBeGreaterThan(writesBeforeSwitch + 100);
  });

  it('after the migration completed: nothing happens (the same result as without the fault)', () => {
    const ok = post();
    const late = post({ faults: { linkDownAtMs: ok.stats['total-time'] + 1 } });
    expect(late).toEqual(ok);
  });
});
