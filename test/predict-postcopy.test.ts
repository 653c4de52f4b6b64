/**
 * Post-copy in `predict` (issue 14 item 7): the model of the phase after the switch
 * (sim/predict/postcopy-model.ts) against its own closed form and against a seeded page-by-page
 * simulation of the same process, its properties (bandwidth, latency, reads, the stall cap), the
 * prediction a run document would hold, and link failures before and after the switch. Pure and fast:
 * no threads (the emulate comparison is test/predict-postcopy-emulate.test.ts and bench/predict-postcopy-fidelity.ts).
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { PendingSet } from '../src/sim/predict/pending-set.ts';
import { postcopyModel, SERVICE_MS, type PostcopyModelInput } from '../src/sim/predict/postcopy-model.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { writeModel } from '../src/sim/predict/write-model.ts';
import { HEADER_BYTES } from '../src/transport/frame.ts';
import { Rng } from '../src/workload/rng.ts';

const PS = 4096;

/** A uniform guest of `pages` pages, every page missing at the switch, written at `writesPerSec`. */
function uniformInput(pages: number, writesPerSec: number, over: Partial<PostcopyModelInput> = {}): PostcopyModelInput {
  const s = resolveScenario({ guest: { memory: pages * PS }, workload: { pattern: 'uniform', dirtyRate: writesPerSec } });
  const model = writeModel(s, pages);
  return {
    set: new PendingSet(pages, model.classPages.length, model.regions, 0),
    model,
    touchScale: 1,
    pageSizeBytes: PS,
    totalPages: pages,
    maxRun: 64,
    linkRateBytesPerSec: 64 * 2 ** 20,
    postcopyRateBytesPerSec: 64 * 2 ** 20,
    latencyMs: 0,
    burstMs: 0,
    deviceStateWireBytes: 0,
    vcpus: 1e9, // never stall-bound
    preempt: true,
    ...over,
  };
}

/**
 * The process the model describes, page by page (the test's own oracle): the source pushes one page per
 * slot of (page + header) / rate in address order, skipping pages already sent; between slots the guest
 * touches Poisson(rate × slot) pages chosen uniformly; a touched missing page faults and takes the next
 * slot itself (the request goes first). Returns the faults.
 */
function pagewise(pages: number, touchesPerSec: number, rateBytesPerSec: number, seed: number): number {
  const rng = new Rng(seed);
  const slotSec = (PS + HEADER_BYTES) / rateBytesPerSec;
  const here = new Uint8Array(pages);
  const requested: number[] = [];
  let frontier = 0;
  let left = pages;
  let faults = 0;
  const lambda = touchesPerSec * slotSec;
  while (left > 0) {
    // touches during this slot (Poisson by inversion)
    let k = 0;
    for (let p = Math.exp(-lambda), u = rng.nextDouble(), cum = p; u > cum; k++) {
      p *= lambda / (k + 1);
      cum += p;
    }
    for (let j = 0; j < k; j++) {
      const page = rng.nextInt(pages);
      if (here[page] === 0 && !requested.includes(page)) {
        faults++;
        requested.push(page);
      }
    }
    // the slot: a requested page first, else the next page of the push
    let sent = -1;
    while (requested.length > 0 && sent < 0) {
      const r = requested.shift()!;
      if (here[r] === 0) sent = r;
    }
    if (sent < 0) {
      while (here[frontier] === 1) frontier++;
      sent = frontier;
    }
    here[sent] = 1;
    left--;
  }
  return faults;
}

describe('the post-copy model: the closed form where the vCPUs keep up', () => {
  it('uniform writes over a fully missing guest: N (1 − (1 − e^{−aT}) / (aT)), T the push', () => {
    const N = 4096;
    const w = 200; // light: the requests take under 2 % of the link
    const i = uniformInput(N, w);
    const m = postcopyModel(i);
    const T = (N * (PS + HEADER_BYTES)) / i.postcopyRateBytesPerSec; // s
    const aT = (w / N) * T;
    expect(m.missingPages).toBeCloseTo(N, 6);
    expect(m.stallBoundMs).toBe(0);
    expect(m.faults).toBeCloseTo(N * (1 - -Math.expm1(-aT) / aT), 6);
    expect(m.durationMs).toBeCloseTo(((N * (PS + HEADER_BYTES) + HEADER_BYTES) * 1000) / i.postcopyRateBytesPerSec, 6);
    expect(m.bytes).toBe(N * (PS + HEADER_BYTES) + HEADER_BYTES);
  });

  it.each([
    [2000, 1000],
    [2000, 8000],
    [4000, 30000],
  ])('agrees with a page-by-page simulation of the process (%d pages, %d touches/s) within 5 %%', (N, w) => {
    const rate = 16 * 2 ** 20;
    const m = postcopyModel(uniformInput(N, w, { postcopyRateBytesPerSec: rate, linkRateBytesPerSec: rate }));
    let sum = 0;
    const runs = 4;
    for (let seed = 1; seed <= runs; seed++) sum += pagewise(N, w, rate, seed);
    const simulated = sum / runs;
    expect(simulated).toBeGreaterThan(0);
    expect(Math.abs(m.faults - simulated) / simulated).toBeLessThan(0.05);
  });

  it('reads count as touches: touchScale 2 faults more, less than twice as much (the push still ends at T)', () => {
    const base = postcopyModel(uniformInput(4096, 100));
    const reads = postcopyModel(uniformInput(4096, 100, { touchScale: 2 }));
    expect(reads.faults).toBeGreaterThan(base.faults);
    expect(reads.faults).toBeLessThan(2 * base.faults); // a page touched twice faults once
    expect(reads.durationMs).toBeCloseTo(base.durationMs, 9);
  });
});

describe('the post-copy model: stall-bound vCPUs', () => {
  it('V vCPUs fault at most V / stall times a second; every vCPU blocked meanwhile', () => {
    const i = uniformInput(8192, 400_000, { vcpus: 2 });
    const m = postcopyModel(i);
    const pageMs = ((PS + HEADER_BYTES) * 1000) / i.postcopyRateBytesPerSec;
    expect(m.stallMs).toBeCloseTo(pageMs + SERVICE_MS, 9);
    expect(m.stallBoundMs).toBeGreaterThan(0);
    const capped = (2 / m.stallMs) * m.durationMs;
    expect(m.faults).toBeLessThanOrEqual(capped * (1 + 1e-9));
    expect(m.faults).toBeGreaterThan(0.9 * (2 / m.stallMs) * m.stallBoundMs);
    expect(m.vcpuBlocktimeMs).toBeCloseTo((m.faults * m.stallMs) / 2, 6);
    expect(m.blocktimeMs).toBeGreaterThanOrEqual(m.stallBoundMs);
    expect(m.blocktimeMs).toBeLessThanOrEqual(m.vcpuBlocktimeMs + 1e-9);
    // without the cap the same guest would fault far more
    expect(postcopyModel({ ...i, vcpus: 1e9 }).faults).toBeGreaterThan(2 * m.faults);
  });

  it('latency: a round trip per fault; the stall grows by 2 × latency and the phases by one latency each', () => {
    const i = uniformInput(8192, 40_000, { vcpus: 2 });
    const m0 = postcopyModel(i);
    const m10 = postcopyModel({ ...i, latencyMs: 10 });
    expect(m10.stallMs - m0.stallMs).toBeCloseTo(20, 9);
    expect(m10.downtimeMs - m0.downtimeMs).toBeCloseTo(10, 9);
    expect(m10.durationMs - m0.durationMs).toBeCloseTo(10, 9);
    expect(m10.faults).toBeLessThan(m0.faults);
    expect(m10.vcpuBlocktimeMs).toBeGreaterThan(m0.vcpuBlocktimeMs);
  });

  it('without preempt a request waits behind half a run of the background push', () => {
    const i = uniformInput(8192, 40_000, { vcpus: 2 });
    const pre = postcopyModel(i);
    const behind = postcopyModel({ ...i, preempt: false });
    const pageMs = ((PS + HEADER_BYTES) * 1000) / i.postcopyRateBytesPerSec;
    expect(behind.stallMs - pre.stallMs).toBeCloseTo((63 / 2) * pageMs, 6); // a fully missing guest: runs of 64
    expect(behind.bytes).toBeLessThan(pre.bytes); // one header per run, not per page
  });
});

// The 64 MiB guest of test/postcopy-emulate.test.ts: a 16 MiB hot set written 40,000 times a second
// never fits under 20 ms × 64 MiB/s, so pre-copy alone never converges.
const hot: ScenarioInput = {
  seed: 3,
  guest: { memory: '64MiB', vcpus: 2, fill: 'random', deviceState: '64KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '16MiB', hotFraction: 0.95, writeBytes: 8 },
  link: { bandwidth: '64MiB/s' },
  precopy: { downtimeLimitMs: 20, maxRounds: 2, timeoutMs: 30_000 },
  postcopy: { enabled: true },
};
const with_ = (over: (s: ScenarioInput) => ScenarioInput) => predict(resolveScenario(over(hot))).precopy;
const post = (p: ReturnType<typeof with_>) => p.postcopy!;

describe('predict with postcopy.enabled', () => {
  it('switches after the bulk round and completes as postcopy, with the figures a run document has', () => {
    const alone = predict(resolveScenario({ ...hot, postcopy: { enabled: false } })).precopy;
    expect(alone.outcome).toBe('forced-stop');
    const p = with_((s) => s);
    expect(p.outcome).toBe('postcopy');
    expect(p.reason).toBeNull();
    expect(p.converges).toBe(false); // pre-copy alone
    expect(p.rounds.map((r) => r.stage)).toEqual(['bulk', 'stop-and-copy']);
    const pc = post(p);
    const st = p.stats;
    expect(st.status).toBe('completed');
    expect(pc.missingPages).toBeGreaterThan(4096); // the hot set and more
    expect(pc.urgentPages + pc.backgroundPages).toBeCloseTo(pc.missingPages, 9);
    expect(pc.faults).toBeGreaterThan(0);
    expect(st.ram['postcopy-requests']).toBe(pc.faults);
    expect(st.ram['postcopy-bytes']!).toBeGreaterThanOrEqual(pc.missingPages * (PS + HEADER_BYTES));
    expect(st['postcopy-vcpu-blocktime']).toHaveLength(2);
    expect(st['postcopy-blocktime']!).toBeLessThanOrEqual(st['postcopy-vcpu-blocktime']![0]);
    expect(st['postcopy-latency']).toBeCloseTo(pc.stallMs * 1e6, 6);
    // the times in order; total time = the completion
    expect(pc.startMs).toBeLessThanOrEqual(pc.resumedMs);
    expect(pc.resumedMs).toBeLessThan(pc.completedMs);
    expect(st['total-time']).toBeCloseTo(pc.completedMs, 9);
    expect(st.downtime).toBeCloseTo(pc.resumedMs - pc.startMs, 9);
    // every byte counted once: live + paused + post-copy
    expect(st.ram.transferred).toBeCloseTo(st.ram['precopy-bytes']! + st.ram['downtime-bytes']! + st.ram['postcopy-bytes']!, 3);
    expect(st.ram.remaining).toBe(0);
    // the pause carries the device state and the missing-pages list, not the hot set
    expect(st.ram['downtime-bytes']!).toBeLessThan(alone.stats.ram['downtime-bytes']! / 10);
    expect(st.downtime!).toBeLessThan(alone.stats.downtime!);
    expect(p.why).toMatch(/^switches to post-copy after 1 live round \(postcopy\.startAfterRounds 1\): pre-copy alone never converges/);
  });

  it('more post-copy bandwidth: fewer requests and a shorter total time', () => {
    const slow = with_((s) => ({ ...s, postcopy: { enabled: true, maxBandwidth: '16MiB/s' } }));
    const fast = with_((s) => s);
    expect(post(fast).faults).toBeLessThan(post(slow).faults);
    expect(fast.stats['total-time']).toBeLessThan(slow.stats['total-time']);
    expect(post(slow).rateLimitBytesPerSec).toBe(16 * 2 ** 20);
    expect(post(fast).rateLimitBytesPerSec).toBe(64 * 2 ** 20);
  });

  it('latency 0 vs 10 ms: a 20 ms round trip per fault, so fewer requests, longer stalls and a later completion', () => {
    const l0 = with_((s) => s);
    const l10 = with_((s) => ({ ...s, link: { bandwidth: '64MiB/s', latencyMs: 10 } }));
    expect(post(l10).stallMs).toBeGreaterThanOrEqual(20);
    expect(post(l10).faults).toBeLessThan(post(l0).faults);
    expect(l10.stats['total-time']).toBeGreaterThan(l0.stats['total-time']);
    expect(l10.stats.downtime!).toBeGreaterThanOrEqual(10);
  });

  it('workload.readRate raises the requests (reads of missing pages fault too)', () => {
    const uni = (readRate: string) => with_((s) => ({ ...s, workload: { pattern: 'uniform', dirtyRate: '2000/s', readRate } }));
    const none = uni('0/s');
    const reads = uni('20000/s');
    expect(post(none).faults).toBeGreaterThan(0);
    expect(post(reads).faults).toBeGreaterThan(post(none).faults);
    expect(post(reads).touchRatePagesPerSec).toBe(22000);
  });

  it('a pre-copy that converges before startAfterRounds completes as pre-copy (the engine never switches)', () => {
    // (a guest that writes at all leaves the bulk round's leftover, ~V_thd, plus its writes: above V_thd, so it switches)
    const p = with_((s) => ({ ...s, workload: { pattern: 'idle' } }));
    expect(p.outcome).toBe('converged');
    expect(p.postcopy).toBeUndefined();
  });

  it('postcopy.startAfterRounds 3: three live rounds first', () => {
    const p = with_((s) => ({ ...s, precopy: { ...s.precopy, maxRounds: null }, postcopy: { enabled: true, startAfterRounds: 3 } }));
    expect(p.outcome).toBe('postcopy');
    expect(p.rounds.map((r) => r.stage)).toEqual(['bulk', 'iterative', 'iterative', 'stop-and-copy']);
  });

  it('precopy.maxRounds before postcopy.startAfterRounds: the forced stop comes first, no switch (as the engine)', () => {
    const p = with_((s) => ({ ...s, precopy: { ...s.precopy, maxRounds: 2 }, postcopy: { enabled: true, startAfterRounds: 3 } }));
    expect(p.outcome).toBe('forced-stop');
    expect(p.reason).toBe('max-rounds');
    expect(p.postcopy).toBeUndefined();
  });

  it('zero pages among the missing ones cross as header bits only', () => {
    // (a 300 ms limit: the bulk round stops at the end of the iteration past V_thd and leaves ~3,300
    // never-written pages unsent; at 20 ms it sends the whole guest, and only written pages go missing)
    const zero = with_((s) => ({ ...s, guest: { ...s.guest, fill: { zero: 0.5, random: 0.5 } }, precopy: { ...s.precopy, downtimeLimitMs: 300 } }));
    const pc = post(zero);
    expect(zero.stats.ram['postcopy-bytes']!).toBeLessThan(pc.missingPages * (PS + HEADER_BYTES));
    // the hot set is written all the time, so what is missing is mostly non-zero, but the cold leftover keeps some zero pages
    expect(zero.stats.ram.duplicate).toBeGreaterThan(0);
  });

  it('a prediction without post-copy has no postcopy key (pre-copy documents unchanged)', () => {
    const p = predict(resolveScenario({ ...hot, postcopy: { enabled: false } })).precopy;
    expect('postcopy' in p).toBe(false);
    expect('guestLost' in p).toBe(false);
  });
});

describe('predict with faults.linkDownAtMs', () => {
  const base = with_((s) => s);
  const pc = post(base);
  const at = (ms: number, over: (s: ScenarioInput) => ScenarioInput = (s) => s) => with_((s) => ({ ...over(s), faults: { linkDownAtMs: ms } }));

  it('during pre-copy: failed, the guest stays on the source; what crossed until then', () => {
    const p = at(pc.startMs / 2);
    expect(p.outcome).toBe('failed');
    expect(p.reason).toBe('link-down');
    expect(p.guestLost).toBe(false);
    expect(p.stats.status).toBe('failed');
    expect(p.stats.downtime).toBeNull();
    expect(p.stats['total-time']).toBe(pc.startMs / 2);
    // the live rounds send at the link's rate (plus its burst)
    const sent = p.stats.ram.transferred;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(((pc.startMs / 2 + 10) * 64 * 2 ** 20) / 1000 + 1);
    expect(p.why).toMatch(/^the link dies .* the migration fails and the guest goes on on the source/);
    expect(p.postcopy).toBeUndefined(); // the switch never began
  });

  it('after the resume on the destination: failed, the guest is lost', () => {
    const p = at((pc.resumedMs + pc.completedMs) / 2);
    expect(p.outcome).toBe('failed');
    expect(p.guestLost).toBe(true);
    expect(p.postcopy).toEqual(pc);
    expect(p.stats.ram.transferred).toBeGreaterThan(base.stats.ram['precopy-bytes']!);
    expect(p.stats.ram.transferred).toBeLessThan(base.stats.ram.transferred);
  });

  it('after the completion: nothing happens', () => {
    const p = at(pc.completedMs + 1);
    expect(p.outcome).toBe('postcopy');
    expect(p.guestLost).toBeUndefined();
  });

  it('plain pre-copy: failed before its end, with the guest on the source; untouched after it', () => {
    const off = (s: ScenarioInput): ScenarioInput => ({ ...s, postcopy: { enabled: false } });
    const end = predict(resolveScenario(off(hot))).precopy.stats['total-time'];
    const early = at(end / 2, off);
    expect(early.outcome).toBe('failed');
    expect(early.guestLost).toBe(false);
    expect(at(end + 1, off).outcome).toBe('forced-stop');
  });
});
