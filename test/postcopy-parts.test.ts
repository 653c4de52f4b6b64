/** The pure and single-thread parts of post-copy (src/postcopy/), table-driven where the domain is a table. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { PageSender } from '../src/precopy/page-sender.ts';
import type { Decision } from '../src/precopy/convergence.ts';
import { FrameApplier } from '../src/transport/destination.ts';
import { FRAME_POSTCOPY_MISSING, FRAME_POSTCOPY_RUN } from '../src/transport/frame.ts';
import { BandwidthMeter, RateLimiter } from '../src/transport/link.ts';
import { RING_HEAD, RING_TAIL, RingProducer, RingViews, createRing } from '../src/transport/ring.ts';
import { Rng } from '../src/workload/rng.ts';
import { LATENCY_BUCKETS, allBlockedMs, latencyBucket, stallFigures } from '../src/postcopy/figures.ts';
import { switchesToPostcopy } from '../src/precopy/postcopy-port.ts';
import { applyMissing, createReceivedBitmap, isReceived, markReceived } from '../src/memory/received-bitmap.ts';
import { RequestRing, createRequestRing } from '../src/memory/request-ring.ts';
import { MAX_LOG_BYTES, logEntriesFor } from '../src/memory/postcopy-shared.ts';
import { WriteLogWriter, createWriteLog, entryBytes, logCounts, replayWriteLog } from '../src/memory/write-log.ts';

describe('the request ring', () => {
  it('hands requests over in order across many laps, and refuses a push when full', () => {
    const ring = new RequestRing(createRequestRing(8));
    const out = { page: 0, atMs: 0 };
    const rng = new Rng(7);
    const queued: number[] = [];
    let next = 0;
    for (let step = 0; step < 5000; step++) {
      if (rng.nextInt(2) === 0) {
        const page = next++ * 2654435761 >>> 0; // pages up to 2^32 - 1 come back unsigned
        if (queued.length < 8) {
          expect(ring.tryPush(page, step)).toBe(true);
          queued.push(page);
        } else expect(ring.tryPush(page, step)).toBe(false);
      } else if (queued.length > 0) {
        expect(ring.tryTake(out)).toBe(true);
        expect(out.page).toBe(queued.shift());
      } else expect(ring.tryTake(out)).toBe(false);
    }
  });
  it('rings the doorbell on every push', () => {
    const ring = new RequestRing(createRequestRing(4));
    const before = ring.doorbell();
    ring.tryPush(3, 1.5);
    ring.tryPush(4, 2.5);
    expect(ring.doorbell()).toBe(before + 2);
    const out = { page: 0, atMs: 0 };
    ring.tryTake(out);
    expect(out).toEqual({ page: 3, atMs: 1.5 });
  });
  it('refuses a capacity that is not a power of two', () => {
    expect(() => createRequestRing(6)).toThrow(/power of two/);
  });
});

describe('the received bitmap', () => {
  it.each([[1], [31], [32], [33], [100], [4096]])('%i pages: every page not missing is received, no bit past the last page', (pages) => {
    const bits = new Int32Array(createReceivedBitmap(pages));
    const rng = new Rng(pages);
    const missing = new Int32Array(bits.length).map(() => rng.nextInt(2 ** 31) | (rng.nextInt(2) << 31));
    applyMissing(bits, 0, missing, pages);
    for (let p = 0; p < pages; p++) expect(isReceived(bits, p)).toBe(((missing[p >>> 5] >>> (p & 31)) & 1) === 0);
    const tail = pages & 31;
    if (tail !== 0) expect(bits[bits.length - 1] >>> tail).toBe(0);
    for (let p = 0; p < pages; p++) markReceived(bits, p);
    for (let p = 0; p < pages; p++) expect(isReceived(bits, p)).toBe(true);
  });
});

describe('QEMU figures from stalls', () => {
  it.each<[number, number]>([
    [0, 0], [0.0005, 0], [0.001, 0], [0.002, 1], [0.0039, 1], [0.004, 2], [0.256, 8], [0.5119, 8], [0.512, 9], [1, 9], [1e6, LATENCY_BUCKETS - 1],
  ])('a stall of %f ms goes to bucket %i ([2^N, 2^(N+1)) µs)', (ms, bucket) => {
    expect(latencyBucket(ms)).toBe(bucket);
  });
  it.each<[string, [number, number][][], number]>([
    ['no vCPU', [], 0],
    ['one vCPU: its own stalls', [[[0, 2], [5, 6]]], 3],
    ['two vCPUs that never stall together', [[[0, 2]], [[2, 4]]], 0],
    ['overlaps', [[[0, 10], [20, 30]], [[5, 25]]], 10],
    ['three, one never stalls', [[[0, 10]], [[0, 10]], []], 0],
    ['three', [[[0, 10]], [[2, 8]], [[4, 12]]], 4],
  ])('postcopy-blocktime: %s', (_what, stalls, ms) => {
    expect(allBlockedMs(stalls)).toBeCloseTo(ms, 9);
  });
  it('per vCPU blocktime, the latency mean (ns) and the histogram add up', () => {
    const f = stallFigures([[[0, 1], [2, 2.5]], [[0.5, 3]]]);
    expect(f['postcopy-vcpu-blocktime']).toEqual([1.5, 2.5]);
    expect(f['postcopy-blocktime']).toBeCloseTo(1, 9); // [0.5, 1] and [2, 2.5]
    expect(f.faults).toBe(3);
    expect(f['postcopy-latency']).toBeCloseTo((4 / 3) * 1e6, 3);
    expect(f['postcopy-latency-dist'].reduce((a, b) => a + b, 0)).toBe(3);
    expect(f['postcopy-latency-dist'][latencyBucket(2.5)]).toBe(1);
  });
});

describe('the write log', () => {
  it('replaying a vCPU\'s logged XOR writes turns the frozen copy into what the vCPU left', () => {
    const layout = guestLayout(64 * 4096, 4096);
    const frozen = new GuestMemory(layout);
    const rng = new Rng(11);
    for (const v of frozen.views) rng.fill(v);
    const live = new GuestMemory(layout);
    live.views[0].set(frozen.views[0]);
    const writeBytes = 5;
    const log = createWriteLog(1000, writeBytes);
    const w = new WriteLogWriter(log, writeBytes);
    for (let i = 0; i < 700; i++) {
      const page = rng.nextInt(64);
      const offset = rng.nextInt(4096 - writeBytes + 1);
      expect(w.begin(page, offset)).toBe(true);
      for (let k = 0; k < writeBytes; k++) {
        const v = 1 + rng.nextInt(255);
        live.views[0][page * 4096 + offset + k] ^= v;
        w.value(k, v);
      }
      w.end();
    }
    expect(logCounts(log)).toEqual({ entries: 700, dropped: 0 });
    expect(Buffer.compare(frozen.views[0], live.views[0])).not.toBe(0);
    expect(replayWriteLog(log, writeBytes, frozen)).toBe(700);
    expect(Buffer.compare(frozen.views[0], live.views[0])).toBe(0);
  });
  it('a full log counts what it dropped (the run then cannot be verified)', () => {
    const log = createWriteLog(2, 8);
    const w = new WriteLogWriter(log, 8);
    for (let i = 0; i < 5; i++) if (w.begin(i, 0)) w.end();
    expect(logCounts(log)).toEqual({ entries: 2, dropped: 3 });
  });
  it('replay refuses an entry outside the guest', () => {
    const memory = new GuestMemory(guestLayout(4 * 4096, 4096));
    const log = createWriteLog(1, 8);
    const w = new WriteLogWriter(log, 8);
    w.begin(4, 0);
    w.end();
    expect(() => replayWriteLog(log, 8, memory)).toThrow(/page 4 offset 0 outside the guest/);
  });
  it('is sized from the post-copy bound, within MAX_LOG_BYTES', () => {
    expect(logEntriesFor({ memoryBytes: 64 << 20, postcopyRateBytesPerSec: 64 << 20, writesPerSecPerVcpu: 1000, writeBytes: 8 })).toBe(Math.ceil(1000 * 61 * 1.5) + 1024);
    expect(logEntriesFor({ memoryBytes: 2 ** 40, postcopyRateBytesPerSec: 1e6, writesPerSecPerVcpu: 1e6, writeBytes: 4096 }) * entryBytes(4096)).toBeLessThanOrEqual(MAX_LOG_BYTES);
  });
});

describe('when the loop switches to post-copy', () => {
  const cont: Decision = { action: 'continue' };
  const converged: Decision = { action: 'stop-and-copy', outcome: { outcome: 'converged' } };
  const forced: Decision = { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'max-rounds' } };
  const cancel: Decision = { action: 'cancel', outcome: { outcome: 'cancelled', reason: 'timeout' } };
  it.each<[string, Decision, number, number, boolean]>([
    ['going on, after the bulk round', cont, 1, 1, true],
    ['going on, too early', cont, 1, 2, false],
    ['a forced stop: post-copy instead of a long stop-and-copy', forced, 3, 1, true],
    ['converged: completes as pre-copy', converged, 2, 1, false],
    ['a cancel stays a cancel', cancel, 5, 1, false],
  ])('%s', (_what, d, rounds, after, expected) => {
    expect(switchesToPostcopy(d, rounds, after)).toBe(expected);
  });
});

describe('the destination in post-copy never overwrites a page the guest has (QEMU: UFFDIO_COPY refuses it)', () => {
  it('places missing pages, marks them received, and drops a late copy of a page the guest already wrote', async () => {
    const ps = 4096;
    const layout = guestLayout(64 * ps, ps);
    const source = new GuestMemory(layout);
    const dest = new GuestMemory(layout);
    const rng = new Rng(5);
    for (const v of source.views) rng.fill(v);
    dest.views[0].set(source.views[0]);
    const views = new RingViews(createRing(1 << 20));
    const clock = new ManualClock(0);
    const sender = new PageSender({ producer: new RingProducer(views), source, limiter: new RateLimiter(clock, Infinity), meter: new BandwidthMeter(clock), clock, closedReason: () => null });
    const received = new Int32Array(createReceivedBitmap(64));
    const applier = new FrameApplier(views, dest, new Uint8Array(16), received);
    const consume = (): void => {
      const head = Atomics.load(views.control, RING_HEAD);
      let tail = Atomics.load(views.control, RING_TAIL);
      while (tail !== head) {
        tail = (tail + applier.apply(tail & views.mask).frameBytes) | 0;
        Atomics.store(views.control, RING_TAIL, tail);
      }
    };
    // pages 10..19 are missing at the switch; the destination holds stale bytes there
    dest.views[0].fill(0xee, 10 * ps, 20 * ps);
    const missing = new Int32Array(2);
    for (let p = 10; p < 20; p++) missing[p >>> 5] |= 1 << (p & 31);
    await sender.sendControl(FRAME_POSTCOPY_MISSING, 0, new Uint8Array(missing.buffer));
    await sender.sendControl(FRAME_POSTCOPY_RUN, 0, new Uint8Array(0));
    consume();
    expect(applier.postcopy).toBe(true);
    for (let p = 0; p < 64; p++) expect(isReceived(received, p)).toBe(p < 10 || p >= 20);
    // the guest faults page 12 in (an urgent page), then writes it
    sender.sendRun(12, 1);
    consume();
    expect(isReceived(received, 12)).toBe(true);
    dest.views[0][12 * ps + 100] ^= 0x5a;
    const written = dest.page(12).slice();
    // the background push then sends 10..19 (12 among them, its copy now stale): 12 is dropped, the rest placed
    sender.sendRun(10, 10);
    consume();
    expect(Buffer.compare(dest.page(12), written)).toBe(0);
    expect(applier.droppedPages).toBe(1);
    for (let p = 10; p < 20; p++) {
      expect(isReceived(received, p)).toBe(true);
      if (p !== 12) expect(Buffer.compare(dest.page(p), source.page(p))).toBe(0);
    }
  });
  it('a run command before the missing pages is a corrupt stream', async () => {
    const layout = guestLayout(4 * 4096, 4096);
    const views = new RingViews(createRing(1 << 16));
    const clock = new ManualClock(0);
    const source = new GuestMemory(layout);
    const sender = new PageSender({ producer: new RingProducer(views), source, limiter: new RateLimiter(clock, Infinity), meter: new BandwidthMeter(clock), clock, closedReason: () => null });
    const applier = new FrameApplier(views, new GuestMemory(layout), new Uint8Array(16), new Int32Array(createReceivedBitmap(4)));
    await sender.sendControl(FRAME_POSTCOPY_RUN, 0, new Uint8Array(0));
    expect(() => applier.apply(0)).toThrow(/post-copy run before the missing pages/);
  });
});
