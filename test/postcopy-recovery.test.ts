/**
 * Post-copy recovery from a link outage (issue 14 item 5, "Done when" #2): with postcopy.recovery a
 * link that goes down during post-copy pauses both sides (postcopy-paused), the vCPUs that fault stay
 * blocked, the link comes back after faults.linkDownForMs, the destination sends its received bitmap
 * back, the pages lost in flight are sent again and the run completes as `postcopy`, verified byte for
 * byte. The parts first (the destination's loss rule and its answer, a refused frame at the sender,
 * the outage's stall figures), on a ManualClock or constant time; then real workers, where the
 * assertions are orders, counts and lower bounds that hold at any speed (see each case).
 * Hang guard: each real-worker test's timeout; dispose stops every vCPU, a blocked one too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { createReceivedBitmap, isReceived } from '../src/memory/received-bitmap.ts';
import { PageSender } from '../src/precopy/page-sender.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { createGuest, migratePrecopy, type Guest } from '../src/run.ts';
import { outageStall } from '../src/postcopy/figures.ts';
import {
  DEST_CONTROL_BYTES, DEST_RESUMED, D_LINK_DOWN_AT_F64, D_LOST_FRAMES_F64, D_LOST_PAGES_F64, D_PAUSED_AT_F64, D_RECOVERED_AT_F64, D_STATE, FrameApplier, runDestination,
} from '../src/transport/destination.ts';
import { FRAME_POSTCOPY_MISSING, FRAME_POSTCOPY_RESUME, FRAME_POSTCOPY_RUN, maxRunPages } from '../src/transport/frame.ts';
import { FaultyLink, LinkDown } from '../src/transport/link-fault.ts';
import { BandwidthMeter, RateLimiter } from '../src/transport/link.ts';
import { RING_HEAD, RING_TAIL, RingProducer, RingViews, createRing } from '../src/transport/ring.ts';
import { Rng } from '../src/workload/rng.ts';

const PS = 4096;

function parts(pages: number, limiter?: (clock: ManualClock) => FaultyLink) {
  const layout = guestLayout(pages * PS, PS);
  const source = new GuestMemory(layout);
  const dest = new GuestMemory(layout);
  const rng = new Rng(9);
  for (const v of source.views) rng.fill(v);
  const ring = createRing(1 << 20);
  const views = new RingViews(ring);
  const clock = new ManualClock(1000);
  const sender = new PageSender({
    producer: new RingProducer(views), source, limiter: limiter ? limiter(clock) : new RateLimiter(clock, Infinity), meter: new BandwidthMeter(clock), clock, closedReason: () => null,
  });
  return { layout, source, dest, ring, views, clock, sender };
}

describe('the destination across a link outage (destination.ts)', () => {
  // 64 pages; 10..29 missing at the switch; latency 10 ms; the link goes down at 1100 (ManualClock ms)
  async function stream(loseEnd: boolean) {
    const p = parts(64);
    const missing = new Int32Array(2);
    for (let q = 10; q < 30; q++) missing[q >>> 5] |= 1 << (q & 31);
    await p.sender.sendControl(FRAME_POSTCOPY_MISSING, 0, new Uint8Array(missing.buffer));
    await p.sender.sendControl(FRAME_POSTCOPY_RUN, 0, new Uint8Array(0));
    p.clock.advance(50);
    p.sender.sendRun(10, 5); // sent at 1050, arrives at 1060: before the outage
    p.clock.advance(45);
    p.sender.sendRun(15, 5); // sent at 1095, would arrive at 1105: lost in flight
    if (loseEnd) {
      p.sender.sendRun(20, 10); // the rest, and the end: lost too
      await p.sender.sendEnd();
    }
    p.clock.advance(305); // the link is back at 1400: the source resumes, then sends what the bitmap says is missing
    await p.sender.sendControl(FRAME_POSTCOPY_RESUME, 0, new Uint8Array(0));
    p.sender.sendRun(15, 15);
    await p.sender.sendEnd();
    return p;
  }

  it.each([false, true])('loses what would arrive after the link went down, answers the resume with its received bitmap, then completes (end lost too: %s)', async (loseEnd) => {
    const p = await stream(loseEnd);
    const received = createReceivedBitmap(64);
    const reply = createReceivedBitmap(64);
    const control = new SharedArrayBuffer(DEST_CONTROL_BYTES);
    const f64 = new Float64Array(control);
    f64[D_LINK_DOWN_AT_F64] = 1100;
    // time stands at 5000 for the destination: every frame is due, no wait
    runDestination({ ring: p.ring, memory: p.dest.shared(), deviceState: new SharedArrayBuffer(16), control, latencyMs: 10, received, recoveryReply: reply }, () => 5000);
    expect(Atomics.load(new Int32Array(control), D_STATE)).toBe(DEST_RESUMED);
    expect(f64[D_LOST_FRAMES_F64]).toBe(loseEnd ? 3 : 1);
    expect(f64[D_LOST_PAGES_F64]).toBe(loseEnd ? 15 : 5);
    expect(f64[D_PAUSED_AT_F64]).toBe(5000);
    expect(f64[D_RECOVERED_AT_F64]).toBe(5000);
    // the answer: what it held at the resume: every page but 15..29 (the lost ones and those never sent)
    const answer = new Int32Array(reply);
    for (let q = 0; q < 64; q++) expect(isReceived(answer, q), `page ${q}`).toBe(q < 15 || q >= 30);
    // in the end it holds every page; the missing ones equal the source's
    const bits = new Int32Array(received);
    for (let q = 0; q < 64; q++) expect(isReceived(bits, q)).toBe(true);
    for (let q = 10; q < 30; q++) expect(Buffer.compare(p.dest.page(q), p.source.page(q)), `page ${q}`).toBe(0);
  });

  it('without the link outage to watch for, a resume is a corrupt stream', async () => {
    const p = await stream(false);
    const control = new SharedArrayBuffer(DEST_CONTROL_BYTES);
    expect(() => runDestination({ ring: p.ring, memory: p.dest.shared(), deviceState: new SharedArrayBuffer(16), control, latencyMs: 10, received: createReceivedBitmap(64) }, () => 5000))
      .toThrow(/post-copy resume without post-copy recovery/);
  });

  it('only pages and the end can be lost: a lost frame before post-copy is a corrupt stream', async () => {
    const p = parts(4);
    p.sender.sendRun(0, 1);
    const applier = new FrameApplier(p.views, p.dest, new Uint8Array(16), new Int32Array(createReceivedBitmap(4)));
    expect(() => applier.lose(0)).toThrow(/lost to a link outage before post-copy started/);
  });
});

describe('a frame the link refuses (page-sender.ts, link-fault.ts)', () => {
  it('takes back its sequence number and its pages: the stream goes on without a gap when the link is back', async () => {
    // down at 1100, up at 1400 (ManualClock ms)
    const p = parts(8, (clock) => new FaultyLink(new RateLimiter(clock, Infinity), clock, 1100, 1000, 1400));
    p.sender.sendRun(0, 2);
    p.clock.advance(150);
    expect(() => p.sender.sendRun(2, 2)).toThrow(LinkDown);
    expect(p.sender.total.pages).toBe(2);
    p.clock.advance(300);
    p.sender.sendRun(2, 2);
    await p.sender.sendEnd();
    expect(p.sender.total.pages).toBe(4);
    const applier = new FrameApplier(p.views, p.dest, new Uint8Array(16));
    const head = Atomics.load(p.views.control, RING_HEAD);
    for (let tail = 0; tail !== head; ) {
      tail += applier.apply(tail & p.views.mask).frameBytes; // a sequence gap would be "stream corrupt"
      Atomics.store(p.views.control, RING_TAIL, tail);
    }
    expect(applier.framesApplied).toBe(3);
    for (let q = 0; q < 4; q++) expect(Buffer.compare(p.dest.page(q), p.source.page(q))).toBe(0);
  });

  it('compressed: takes back the compression counters too', () => {
    const clock = new ManualClock(1000);
    const layout = guestLayout(8 * PS, PS);
    const source = new GuestMemory(layout);
    source.views[0].fill(7); // compressible pages
    const views = new RingViews(createRing(1 << 20));
    const sender = new PageSender({
      producer: new RingProducer(views), source, limiter: new FaultyLink(new RateLimiter(clock, Infinity), clock, 1100, 1000, 1400), meter: new BandwidthMeter(clock), clock,
      closedReason: () => null, compression: { codec: 'zlib', level: 1 },
    });
    sender.sendRun(0, 2);
    const once = sender.compressionFigures();
    expect(once.frames).toBe(1);
    clock.advance(150);
    expect(() => sender.sendRun(2, 2)).toThrow(LinkDown);
    expect(sender.compressionFigures()).toEqual(once);
  });

  it('without recovery the link never comes back', () => {
    const clock = new ManualClock(1000);
    const link = new FaultyLink(new RateLimiter(clock, Infinity), clock, 1100, 1000);
    expect(link.book(100)).toBe(0);
    clock.advance(1e9);
    expect(() => link.book(100)).toThrow('the link went down 100 ms after the migration request');
  });
});

describe('what the outage cost the guest (figures.ts outageStall)', () => {
  it.each<[string, [number, number][][], number, number, { stallMs: number; vcpuStallMs: number[]; allBlockedMs: number; faults: number; longestStallMs: number }]>([
    ['no stalls', [[], []], 100, 200, { stallMs: 0, vcpuStallMs: [0, 0], allBlockedMs: 0, faults: 0, longestStallMs: 0 }],
    ['blocked across, and one inside', [[[90, 250]], [[120, 130], [150, 210]]], 100, 200, { stallMs: 100 + 10 + 50, vcpuStallMs: [100, 60], allBlockedMs: 60, faults: 3, longestStallMs: 160 }],
    ['stalls outside the window do not count', [[[0, 100], [200, 300]]], 100, 200, { stallMs: 0, vcpuStallMs: [0], allBlockedMs: 0, faults: 0, longestStallMs: 0 }],
  ])('%s', (_what, stalls, from, to, expected) => {
    expect(outageStall(stalls, from, to)).toEqual(expected);
  });
});

let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

// As test/postcopy-faults.test.ts: the bulk round of 8 MiB at 64 MiB/s takes 125 ms of link time and
// the switch follows it; post-copy then pushes the hot set dirtied meanwhile (~4 MiB; 2.8 MiB even at a
// quarter of the write rate) at 2 MiB/s: at least 1.4 s of link time, whatever this machine's speed. So
// the link going down at 800 ms finds post-copy running.
const base: ScenarioInput = {
  seed: 4,
  guest: { memory: '8MiB', vcpus: 2, deviceState: '16KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '4MiB', hotFraction: 0.95 },
  precopy: { downtimeLimitMs: 10, maxRounds: 3, timeoutMs: 30_000 },
  link: { bandwidth: '64MiB/s', latencyMs: 50 },
  postcopy: { enabled: true, maxBandwidth: '2MiB/s', recovery: true },
};

describe('post-copy recovery with real workers (postcopy.recovery)', () => {
  it('pauses for the outage, re-sends what was lost and completes as postcopy, verified', async () => {
    const downForMs = 300;
    guest = await createGuest(resolveScenario({ ...base, faults: { linkDownAtMs: 800, linkDownForMs: downForMs } }));
    const heard: string[] = [];
    const r = await migratePrecopy(guest, { onPostcopyStatus: (status) => heard.push(status) });
    expect(r.error ?? null).toBeNull();
    expect(r.outcome).toBe('postcopy');
    expect(r.stats.status).toBe('completed');
    expect(r.verified).toBe(true);
    const pc = r.postcopy!;
    const order = ['postcopy-active', 'postcopy-paused', 'postcopy-recover', 'postcopy-active', 'completed'];
    expect(pc.statuses.map((s) => s.status)).toEqual(order);
    expect(heard).toEqual(order);
    for (let i = 1; i < pc.statuses.length; i++) expect(pc.statuses[i].tMs).toBeGreaterThanOrEqual(pc.statuses[i - 1].tMs);
    const o = pc.recovery!;
    expect(o).not.toBeNull();
    // the outage, in order: down, both sides paused, up, recovered (the handshake: a frame there, the bitmap back)
    expect(o.linkDownMs).toBeCloseTo(800, 6);
    expect(o.linkUpMs).toBeCloseTo(800 + downForMs, 6);
    expect(o.sourcePausedMs).toBeGreaterThanOrEqual(o.linkDownMs);
    expect(o.destinationPausedMs).toBeGreaterThanOrEqual(o.linkDownMs);
    expect(o.sourcePausedMs).toBeLessThanOrEqual(o.recoveredMs); // (a source kept off the cores past linkUpMs notices at the lost end)
    expect(o.recoveredMs).toBeGreaterThanOrEqual(o.linkUpMs + 2 * 50);
    expect(o.outageMs).toBeCloseTo(o.recoveredMs - o.linkDownMs, 6);
    expect(pc.statuses[1].tMs).toBeCloseTo(o.sourcePausedMs, 6);
    expect(pc.statuses[3].tMs).toBeCloseTo(o.recoveredMs, 6);
    expect(o.bitmapBytes).toBe(((8 << 20) / PS) / 8);
    // what was re-sent: every page lost in flight, plus those of the one frame the link refused (if any)
    expect(o.resentPages).toBeGreaterThanOrEqual(o.lostPages);
    expect(o.resentPages).toBeLessThanOrEqual(o.lostPages + maxRunPages(PS));
    expect(o.lostFrames).toBeLessThanOrEqual(o.lostPages + 1); // pages one a frame (preempt), and perhaps the end
    expect(pc.urgentPages + pc.backgroundPages).toBe(pc.missingPages + o.resentPages);
    // the extra stall: the hot set is missing, so the vCPUs fault at once and stay blocked until the
    // pages flow again: the longest stall spans the link's whole down time
    expect(o.faults).toBeGreaterThan(0);
    expect(o.longestStallMs).toBeGreaterThanOrEqual(downForMs);
    expect(o.vcpuStallMs).toHaveLength(2);
    for (const ms of o.vcpuStallMs) expect(ms).toBeLessThanOrEqual(o.outageMs + 1e-6);
    expect(o.allBlockedMs).toBeLessThanOrEqual(Math.min(...o.vcpuStallMs) + 1e-6);
    expect(r.stats['postcopy-vcpu-blocktime']!.every((ms, i) => ms >= o.vcpuStallMs[i] - 1e-6)).toBe(true);
  }, 60_000);

  it('a link that never comes back (linkDownForMs 0): failed, the guest is lost', async () => {
    guest = await createGuest(resolveScenario({ ...base, faults: { linkDownAtMs: 800, linkDownForMs: 0 } }));
    const heard: string[] = [];
    const r = await migratePrecopy(guest, { onPostcopyStatus: (status) => heard.push(status) });
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(true);
    expect(r.verified).toBeNull();
    expect(heard).toEqual(['postcopy-active', 'postcopy-paused']);
  }, 60_000);
});
