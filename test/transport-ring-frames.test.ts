import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import { MigbenchError } from '../src/errors.ts';
import { GuestMemory, MAX_BLOCK_BYTES, guestLayout } from '../src/memory/guest-memory.ts';
import { PageSender } from '../src/precopy/page-sender.ts';
import { FrameApplier } from '../src/transport/destination.ts';
import {
  DEVICE_CHUNK_BYTES, FRAME_DEVICE_STATE, FRAME_END, FRAME_PAGES, FRAME_VERSION, FRAME_WRAP, HEADER_BYTES, H_BLOCK,
  H_COUNT, H_FIRST, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_PRESENT_HI, H_PRESENT_LO, H_SENT_AT_F64, H_SEQ, H_TYPE, H_VERSION,
  MAX_RUN_PAGES, maxRunPages,
} from '../src/transport/frame.ts';
import { BandwidthMeter, RateLimiter } from '../src/transport/link.ts';
import { RING_HEAD, RING_TAIL, RingProducer, RingViews, align8, createRing } from '../src/transport/ring.ts';
import { Rng } from '../src/workload/rng.ts';

interface Rig {
  source: GuestMemory;
  dest: GuestMemory;
  views: RingViews;
  producer: RingProducer;
  sender: PageSender;
  applier: FrameApplier;
  deviceState: Uint8Array;
  clock: ManualClock;
  zeroPages: Set<number>;
}

/**
 * Source filled with seeded random content, with about a third of the pages zero (single pages and
 * whole stretches) and some pages holding a single non-zero byte; the destination is filled with
 * different random bytes, so a zero page that is not written shows up.
 */
function makeRig(opts: { memoryBytes: number; pageSize: number; ringBytes: number; seed: number; deviceStateBytes?: number }): Rig {
  const rng = new Rng(opts.seed);
  const layout = guestLayout(opts.memoryBytes, opts.pageSize);
  const source = new GuestMemory(layout);
  const dest = new GuestMemory(layout);
  for (const v of source.views) rng.fill(v);
  for (const v of dest.views) rng.fill(v);
  const zeroPages = new Set<number>();
  for (let p = 0; p < layout.totalPages; p++) {
    const r = rng.nextInt(12);
    if (r < 3) {
      source.page(p).fill(0);
      zeroPages.add(p);
    } else if (r === 3) {
      // a stretch of zero pages
      const n = 1 + rng.nextInt(40);
      for (let k = 0; k < n && p < layout.totalPages; k++, p++) {
        source.page(p).fill(0);
        zeroPages.add(p);
      }
      p--;
    } else if (r === 4) {
      // not zero: one byte at the first / middle / last / random position
      const page = source.page(p);
      page.fill(0);
      page[[0, page.length >>> 1, page.length - 1, rng.nextInt(page.length)][rng.nextInt(4)]] = 1 + rng.nextInt(255);
    }
  }
  const views = new RingViews(createRing(opts.ringBytes));
  const producer = new RingProducer(views);
  const clock = new ManualClock(1000);
  const sender = new PageSender({
    producer,
    source,
    limiter: new RateLimiter(clock, Infinity),
    meter: new BandwidthMeter(clock),
    clock,
    closedReason: () => null,
  });
  const deviceState = new Uint8Array(new SharedArrayBuffer(opts.deviceStateBytes ?? 4096));
  const applier = new FrameApplier(views, dest, deviceState);
  return { source, dest, views, producer, sender, applier, deviceState, clock, zeroPages };
}

interface Applied {
  type: number;
  frameBytes: number;
  pos: number;
}

/** The consumer, on this thread: walk from TAIL to HEAD applying every frame, then store TAIL. */
function consume(views: RingViews, applier: FrameApplier): Applied[] {
  const out: Applied[] = [];
  const head = Atomics.load(views.control, RING_HEAD);
  let tail = Atomics.load(views.control, RING_TAIL);
  while (tail !== head) {
    const pos = tail & views.mask;
    const { type, frameBytes } = applier.apply(pos);
    out.push({ type, frameBytes, pos });
    tail = (tail + frameBytes) | 0;
    Atomics.store(views.control, RING_TAIL, tail);
  }
  return out;
}

function used(views: RingViews): number {
  return (Atomics.load(views.control, RING_HEAD) - Atomics.load(views.control, RING_TAIL)) >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function expectCorrupt(fn: () => unknown): MigbenchError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(MigbenchError);
  expect((caught as MigbenchError).code).toBe('E_STREAM_CORRUPT');
  return caught as MigbenchError;
}

describe('frame format constants', () => {
  it.each([
    [256, 64],
    [512, 64],
    [4096, 64],
    [8192, 32],
    [65536, 4],
    [1 << 20, 1],
    [1 << 21, 1],
  ])('maxRunPages(%d) = %d', (ps, n) => {
    expect(maxRunPages(ps)).toBe(n);
  });

  it('the header fits the i32 and f64 slots it names', () => {
    expect(HEADER_BYTES % 8).toBe(0);
    expect(H_VERSION * 4 + 4).toBeLessThanOrEqual(H_SENT_AT_F64 * 8);
    expect(H_SENT_AT_F64 * 8 + 8).toBe(HEADER_BYTES);
  });
});

describe('guestLayout', () => {
  it('splits 5 GiB of 4 KiB pages into five 1 GiB RAM blocks (no memory allocated)', () => {
    const layout = guestLayout(5 * 2 ** 30, 4096);
    expect(layout.blockBytes).toEqual([MAX_BLOCK_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_BYTES]);
    expect(MAX_BLOCK_BYTES).toBe(2 ** 30);
    expect(layout.pagesPerBlock).toBe(262144);
    expect(layout.totalPages).toBe(5 * 262144);
    expect(layout.memoryBytes).toBe(5 * 2 ** 30);
    expect(Object.isFrozen(layout)).toBe(true);
  });

  it('gives a short last block when memory is not a multiple of 1 GiB', () => {
    const layout = guestLayout(2 * 2 ** 30 + 3 * 65536, 65536);
    expect(layout.pagesPerBlock).toBe(16384);
    expect(layout.blockBytes).toEqual([2 ** 30, 2 ** 30, 3 * 65536]);
    expect(layout.totalPages).toBe(2 * 16384 + 3);
  });

  it.each([
    [0, 4096],
    [4096, 3000],
    [4096 + 1, 4096],
    [-4096, 4096],
    [4096, 0],
  ])('rejects memory %d with page size %d', (m, ps) => {
    expect(() => guestLayout(m, ps)).toThrow(RangeError);
  });
});

describe('RingProducer: space accounting', () => {
  it('never hands out a slot (or a WRAP gap) over unconsumed bytes, and never refuses one that fits', () => {
    for (const capacity of [4096, 8192, 65536]) {
      const rng = new Rng(capacity);
      const views = new RingViews(createRing(capacity));
      const producer = new RingProducer(views);
      // committed frames in counter space, oldest first: [start, end) including the WRAP gap before each
      const queue: Array<{ start: number; end: number }> = [];
      let tail = 0;
      let published = 0;
      let wraps = 0;
      let refusals = 0;
      for (let step = 0; step < 5000; step++) {
        if (rng.nextInt(3) === 0 && queue.length > 0) {
          // the consumer takes one or more frames
          for (let n = 1 + rng.nextInt(queue.length); n > 0; n--) tail = queue.shift()!.end;
          Atomics.store(views.control, RING_TAIL, tail | 0);
          continue;
        }
        const bytes = 8 * (1 + rng.nextInt(capacity / 16)); // up to half the ring
        const pos0 = published % capacity;
        const gap = bytes <= capacity - pos0 ? 0 : capacity - pos0;
        const fits = published + gap + bytes - tail <= capacity;
        const pos = producer.tryReserve(bytes);
        if (pos < 0) {
          expect(fits, `refused ${bytes} B with ${capacity - (published - tail)} free (gap ${gap})`).toBe(false);
          refusals++;
          continue;
        }
        expect(fits, `granted ${bytes} B at ${pos} with ${capacity - (published - tail)} free (gap ${gap})`).toBe(true);
        expect(pos).toBe(gap > 0 ? 0 : pos0);
        if (gap > 0) {
          wraps++;
          expect(views.i32[pos0 >>> 2]).toBe(FRAME_WRAP);
          expect(views.i32[(pos0 >>> 2) + 1]).toBe(gap);
        }
        producer.commit(bytes);
        queue.push({ start: published, end: published + gap + bytes });
        published += gap + bytes;
        expect(Atomics.load(views.control, RING_HEAD)).toBe(published | 0);
      }
      expect(wraps).toBeGreaterThan(10);
      expect(refusals).toBeGreaterThan(10);
    }
  });

  it('rejects a frame larger than half the ring', () => {
    const producer = new RingProducer(new RingViews(createRing(4096)));
    expect(() => producer.tryReserve(2048 + 8)).toThrow(RangeError);
    expect(producer.tryReserve(2048)).toBe(0);
  });

  it.each([0, 1000, 2048 + 4096, 3 * 4096])('createRing(%d) is refused (power of two >= 4096)', (n) => {
    expect(() => createRing(n)).toThrow(RangeError);
  });

  it('reserve() waits for the consumer to free space, and rejects with the reason once closed', async () => {
    const views = new RingViews(createRing(4096));
    const producer = new RingProducer(views);
    expect(await producer.reserve(2048, () => null)).toBe(0);
    producer.commit(2048);
    expect(await producer.reserve(2048, () => null)).toBe(2048);
    producer.commit(2048);
    expect(producer.drained()).toBe(false);
    // full: a closed ring gives up at once with the reason
    await expect(producer.reserve(8, () => 'destination failed')).rejects.toThrow('destination failed');
    // full: the consumer frees space a little later
    setTimeout(() => {
      Atomics.store(views.control, RING_TAIL, 2048);
      Atomics.notify(views.control, RING_TAIL);
    }, 5);
    expect(await producer.reserve(2048, () => null)).toBe(0);
    expect(producer.waitMs).toBeGreaterThanOrEqual(0);
  });
});

describe('ring + page sender + frame applier (one thread)', () => {
  it.each([
    // name, memory, page size, ring bytes, seed
    ['4 KiB pages, 64 KiB ring', 2 << 20, 4096, 64 << 10, 1],
    ['512 B pages, 64 KiB ring', 256 << 10, 512, 64 << 10, 2],
    ['256 B pages, 64 KiB ring, full 64-page runs', 256 << 10, 256, 64 << 10, 3],
    ['4 KiB pages, 1 MiB ring, full 64-page runs', 4 << 20, 4096, 1 << 20, 4],
  ])('%s: destination == source, zero pages counted, WRAP frames crossed', async (_name, memoryBytes, pageSize, ringBytes, seed) => {
    const rig = makeRig({ memoryBytes, pageSize, ringBytes, seed });
    const { source, dest, views, sender, applier } = rig;
    const rng = new Rng(seed * 7919);
    const totalPages = source.totalPages;
    // the largest run whose frame fits the ring (a frame may take at most half of it)
    const maxRun = Math.min(maxRunPages(pageSize), Math.floor((ringBytes / 2 - HEADER_BYTES) / pageSize));
    // cut the guest into runs of random length (some of maxRun exactly), sent in a shuffled order
    const runs: Array<[number, number]> = [];
    for (let p = 0; p < totalPages; ) {
      const n = Math.min(totalPages - p, rng.nextInt(3) === 0 ? maxRun : 1 + rng.nextInt(maxRun));
      runs.push([p, n]);
      p += n;
    }
    for (let i = runs.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [runs[i], runs[j]] = [runs[j], runs[i]];
    }

    const applied: Applied[] = [];
    for (const [page, count] of runs) {
      // a frame needs at most 2 × its size of free space (its own bytes + a WRAP gap smaller than it)
      const frame = align8(HEADER_BYTES + count * pageSize);
      if (views.capacity - used(views) < 2 * frame || rng.nextInt(4) === 0) applied.push(...consume(views, applier));
      await sender.sendRun(page, count);
    }
    applied.push(...consume(views, applier));

    // memory: byte for byte
    for (let b = 0; b < source.views.length; b++) expect(sameBytes(dest.views[b], source.views[b])).toBe(true);

    // counters
    const zero = rig.zeroPages.size;
    expect(sender.total.pages).toBe(totalPages);
    expect(sender.total.zeroPages).toBe(zero);
    expect(sender.total.normalPages).toBe(totalPages - zero);
    expect(sender.total.frames).toBe(runs.length);
    expect(applier.pagesApplied).toBe(totalPages);
    expect(applier.zeroPagesApplied).toBe(zero);
    expect(applier.framesApplied).toBe(runs.length);

    // frames: PAGES with their lengths, plus WRAP frames in this small ring
    const pages = applied.filter((f) => f.type === FRAME_PAGES);
    const wraps = applied.filter((f) => f.type === FRAME_WRAP);
    expect(pages.length).toBe(runs.length);
    expect(applied.length).toBe(pages.length + wraps.length);
    expect(wraps.length).toBeGreaterThan(0);
    for (const w of wraps) expect(w.pos + w.frameBytes).toBe(views.capacity);
    expect(sender.total.bytes).toBe(pages.reduce((s, f) => s + f.frameBytes, 0));
    expect(sender.total.bytes).toBe(runs.length * HEADER_BYTES + (totalPages - zero) * pageSize);
    for (const f of applied) {
      expect(f.pos % 8).toBe(0);
      expect(f.pos + f.frameBytes).toBeLessThanOrEqual(views.capacity);
    }
    expect(rig.producer.drained()).toBe(true);
  });

  it('an all-zero run is a header-only frame; a run of 64 pages with zero pages in both halves sets presentLo/Hi', async () => {
    const rig = makeRig({ memoryBytes: 128 * 256, pageSize: 256, ringBytes: 64 << 10, seed: 9 });
    const { source, dest, views, sender, applier } = rig;
    for (let p = 0; p < 64; p++) source.page(p).fill(0);
    await sender.sendRun(0, 64);
    const zeroRun = consume(views, applier);
    expect(zeroRun).toEqual([{ type: FRAME_PAGES, frameBytes: HEADER_BYTES, pos: 0 }]);
    expect(applier.zeroPagesApplied).toBe(64);

    // pages 64..127: normal except 64+5, 64+31, 64+32, 64+63
    const rng = new Rng(10);
    for (let p = 64; p < 128; p++) {
      const page = source.page(p);
      rng.fill(page);
      page[0] = 1;
    }
    for (const k of [5, 31, 32, 63]) source.page(64 + k).fill(0);
    const pos = Atomics.load(views.control, RING_HEAD) & views.mask;
    await sender.sendRun(64, 64);
    const h = pos >>> 2;
    expect(views.i32[h + H_TYPE]).toBe(FRAME_PAGES);
    expect(views.i32[h + H_VERSION]).toBe(FRAME_VERSION);
    expect(views.i32[h + H_SEQ]).toBe(1);
    expect(views.i32[h + H_BLOCK]).toBe(0);
    expect(views.i32[h + H_FIRST]).toBe(64);
    expect(views.i32[h + H_COUNT]).toBe(64);
    expect(views.i32[h + H_PRESENT_LO] >>> 0).toBe((0xffffffff & ~(1 << 5) & ~(1 << 31)) >>> 0);
    expect(views.i32[h + H_PRESENT_HI] >>> 0).toBe((0xffffffff & ~(1 << 0) & ~(1 << 31)) >>> 0);
    expect(views.i32[h + H_PAYLOAD_BYTES]).toBe(60 * 256);
    expect(views.i32[h + H_FRAME_BYTES]).toBe(align8(HEADER_BYTES + 60 * 256));
    expect(views.f64[(pos >>> 3) + H_SENT_AT_F64]).toBe(rig.clock.nowMs());
    consume(views, applier);
    expect(sameBytes(dest.views[0], source.views[0])).toBe(true);
    expect(applier.zeroPagesApplied).toBe(68);
    expect(sender.total.zeroPages).toBe(68);
    expect(sender.round.zeroPages).toBe(68);
  });

  it('device state and END round trip into the device-state buffer (chunked past DEVICE_CHUNK_BYTES)', async () => {
    const stateBytes = DEVICE_CHUNK_BYTES + 45_001;
    const rig = makeRig({ memoryBytes: 64 * 4096, pageSize: 4096, ringBytes: 1 << 20, seed: 12, deviceStateBytes: stateBytes });
    const { views, sender, applier, deviceState } = rig;
    await sender.sendRun(0, 64);
    consume(views, applier);
    const state = new Uint8Array(stateBytes);
    new Rng(13).fill(state);
    await sender.sendDeviceState(state);
    await sender.sendEnd();
    const frames = consume(views, applier).filter((f) => f.type !== FRAME_WRAP);
    expect(frames.map((f) => f.type)).toEqual([FRAME_DEVICE_STATE, FRAME_DEVICE_STATE, FRAME_END]);
    expect(frames.map((f) => f.frameBytes)).toEqual([
      align8(HEADER_BYTES + DEVICE_CHUNK_BYTES),
      align8(HEADER_BYTES + 45_001),
      HEADER_BYTES,
    ]);
    expect(sameBytes(deviceState, state)).toBe(true);
    expect(applier.framesApplied).toBe(4);
    expect(sender.total.frames).toBe(4);
  });

  it('device state in a small ring, END last, with a WRAP in between', async () => {
    const rig = makeRig({ memoryBytes: 16 * 4096, pageSize: 4096, ringBytes: 64 << 10, seed: 14, deviceStateBytes: 20_000 });
    const { views, sender, applier, deviceState, source, dest } = rig;
    for (let p = 0; p < 14; p++) source.page(p)[100] = 1; // normal pages: 2 × (48 + 7 × 4096) bytes
    await sender.sendRun(0, 7);
    await sender.sendRun(7, 7);
    consume(views, applier);
    const state = new Uint8Array(20_000);
    new Rng(15).fill(state);
    await sender.sendDeviceState(state); // 20 048 bytes do not fit before the end: WRAP
    const types = consume(views, applier).map((f) => f.type);
    expect(types).toContain(FRAME_WRAP);
    expect(types.filter((t) => t !== FRAME_WRAP)).toEqual([FRAME_DEVICE_STATE]);
    await sender.sendRun(14, 2);
    await sender.sendEnd();
    expect(consume(views, applier).map((f) => f.type)).toEqual([FRAME_PAGES, FRAME_END]);
    expect(sameBytes(deviceState, state)).toBe(true);
    expect(sameBytes(dest.views[0], source.views[0])).toBe(true);
  });
});

describe('frame applier rejects corrupt frames (E_STREAM_CORRUPT) before writing a byte', () => {
  const PS = 4096;
  const PAGES = 32;
  const RING = 256 << 10;

  /**
   * A ring holding one real frame produced by the page sender (pages 8..15: a mix of zero and
   * normal pages, or device state, or END), not yet applied; a destination full of random bytes.
   */
  async function realFrame(kind: 'pages' | 'device' | 'end'): Promise<{ rig: Rig; pos: number; h: number }> {
    const rig = makeRig({ memoryBytes: PAGES * PS, pageSize: PS, ringBytes: RING, seed: 99, deviceStateBytes: 8192 });
    const src = rig.source;
    for (let p = 8; p < 16; p++) {
      const page = src.page(p);
      if (p % 3 === 0) page.fill(0);
      else page[0] = 0x5a; // never zero
    }
    if (kind === 'pages') await rig.sender.sendRun(8, 8);
    else if (kind === 'device') {
      const state = new Uint8Array(5000);
      new Rng(5).fill(state);
      await rig.sender.sendDeviceState(state);
    } else await rig.sender.sendEnd();
    return { rig, pos: 0, h: 0 };
  }

  function snapshot(rig: Rig): { memory: Uint8Array[]; device: Uint8Array } {
    return { memory: rig.dest.views.map((v) => v.slice()), device: rig.deviceState.slice() };
  }

  function expectUntouched(rig: Rig, before: { memory: Uint8Array[]; device: Uint8Array }): void {
    for (let b = 0; b < before.memory.length; b++) expect(sameBytes(rig.dest.views[b], before.memory[b])).toBe(true);
    expect(sameBytes(rig.deviceState, before.device)).toBe(true);
  }

  async function expectRejected(kind: 'pages' | 'device' | 'end', mutate: (i32: Int32Array, h: number, rig: Rig) => void): Promise<void> {
    const { rig, pos, h } = await realFrame(kind);
    mutate(rig.views.i32, h, rig);
    const before = snapshot(rig);
    expectCorrupt(() => rig.applier.apply(pos));
    expectUntouched(rig, before);
    expect(rig.applier.pagesApplied).toBe(0);
    expect(rig.applier.framesApplied).toBe(0);
  }

  it('the unmodified frames apply (control for the cases below)', async () => {
    for (const kind of ['pages', 'device', 'end'] as const) {
      const { rig, pos } = await realFrame(kind);
      expect(rig.applier.apply(pos).type).toBe(kind === 'pages' ? FRAME_PAGES : kind === 'device' ? FRAME_DEVICE_STATE : FRAME_END);
    }
    const { rig, pos } = await realFrame('pages');
    const before = snapshot(rig);
    rig.applier.apply(pos);
    expect(rig.applier.zeroPagesApplied).toBe(3); // pages 9, 12, 15
    // pages 8..15 now equal the source; every other page is as it was
    for (let p = 0; p < PAGES; p++) {
      const expected = p >= 8 && p < 16 ? rig.source.page(p) : before.memory[0].subarray(p * PS, (p + 1) * PS);
      expect(sameBytes(rig.dest.page(p), expected), `page ${p}`).toBe(true);
    }
  });

  type Mutation = [string, 'pages' | 'device' | 'end', (i32: Int32Array, h: number, rig: Rig) => void];
  const cases: Mutation[] = [
    ['version 0', 'pages', (i32, h) => void (i32[h + H_VERSION] = 0)],
    ['version 2', 'pages', (i32, h) => void (i32[h + H_VERSION] = FRAME_VERSION + 1)],
    ['version 2 on END', 'end', (i32, h) => void (i32[h + H_VERSION] = 2)],
    ['sequence 1 instead of 0', 'pages', (i32, h) => void (i32[h + H_SEQ] = 1)],
    ['sequence -1', 'pages', (i32, h) => void (i32[h + H_SEQ] = -1)],
    ['sequence 2^31-1 on device state', 'device', (i32, h) => void (i32[h + H_SEQ] = 0x7fffffff)],
    ['block 1 of a one-block guest', 'pages', (i32, h) => void (i32[h + H_BLOCK] = 1)],
    ['block -1', 'pages', (i32, h) => void (i32[h + H_BLOCK] = -1)],
    ['block 1000', 'pages', (i32, h) => void (i32[h + H_BLOCK] = 1000)],
    ['first + count one past the block', 'pages', (i32, h) => void (i32[h + H_FIRST] = PAGES - 8 + 1)],
    ['first at the end of the block', 'pages', (i32, h) => void (i32[h + H_FIRST] = PAGES)],
    ['first -1', 'pages', (i32, h) => void (i32[h + H_FIRST] = -1)],
    ['first 2^31-1', 'pages', (i32, h) => void (i32[h + H_FIRST] = 0x7fffffff)],
    ['count 0', 'pages', (i32, h) => void (i32[h + H_COUNT] = 0)],
    ['count -1', 'pages', (i32, h) => void (i32[h + H_COUNT] = -1)],
    ['count 65 (MAX_RUN_PAGES + 1)', 'pages', (i32, h) => void (i32[h + H_COUNT] = MAX_RUN_PAGES + 1)],
    ['count 6 (drops a normal page that is in the payload)', 'pages', (i32, h) => void (i32[h + H_COUNT] = 6)],
    ['present mask with one more normal page than the payload holds', 'pages', (i32, h) => void (i32[h + H_PRESENT_LO] |= 1 << 1)],
    ['present mask with one normal page fewer', 'pages', (i32, h) => void (i32[h + H_PRESENT_LO] &= ~1)],
    ['present mask moved to the hi word', 'pages', (i32, h) => {
      i32[h + H_PRESENT_HI] = i32[h + H_PRESENT_LO];
      i32[h + H_PRESENT_LO] = 0;
    }],
    ['payload one page longer (frame length kept consistent)', 'pages', (i32, h) => {
      i32[h + H_PAYLOAD_BYTES] += PS;
      i32[h + H_FRAME_BYTES] += PS;
    }],
    ['payload one page shorter (frame length kept consistent)', 'pages', (i32, h) => {
      i32[h + H_PAYLOAD_BYTES] -= PS;
      i32[h + H_FRAME_BYTES] -= PS;
    }],
    ['payload length not matching the frame length', 'pages', (i32, h) => void (i32[h + H_PAYLOAD_BYTES] -= 8)],
    ['payload length negative', 'pages', (i32, h) => void (i32[h + H_PAYLOAD_BYTES] = -HEADER_BYTES)],
    ['frame length 0', 'pages', (i32, h) => void (i32[h + H_FRAME_BYTES] = 0)],
    ['frame length 40 (shorter than a header)', 'end', (i32, h) => void (i32[h + H_FRAME_BYTES] = 40)],
    ['frame length not a multiple of 8', 'pages', (i32, h) => void (i32[h + H_FRAME_BYTES] += 4)],
    ['frame length past the end of the ring', 'pages', (i32, h) => {
      i32[h + H_FRAME_BYTES] = RING + 8;
      i32[h + H_PAYLOAD_BYTES] = RING + 8 - HEADER_BYTES;
    }],
    ['frame length negative', 'pages', (i32, h) => void (i32[h + H_FRAME_BYTES] = -4096)],
    ['unknown type 0', 'pages', (i32, h) => void (i32[h + H_TYPE] = 0)],
    ['unknown type 5', 'pages', (i32, h) => void (i32[h + H_TYPE] = 5)],
    ['unknown type -1', 'device', (i32, h) => void (i32[h + H_TYPE] = -1)],
    ['a PAGES frame turned into WRAP (wrong length for a wrap)', 'pages', (i32, h) => void (i32[h + H_TYPE] = FRAME_WRAP)],
    ['a PAGES frame turned into END (END with a payload)', 'pages', (i32, h) => void (i32[h + H_TYPE] = FRAME_END)],
    ['a PAGES frame turned into DEVICE_STATE past the buffer', 'pages', (i32, h) => {
      // payload of 5 pages (20 KiB) into an 8 KiB device-state buffer
      i32[h + H_TYPE] = FRAME_DEVICE_STATE;
      i32[h + H_FIRST] = 0;
    }],
    ['device-state offset -1', 'device', (i32, h) => void (i32[h + H_FIRST] = -1)],
    ['device-state offset one past the fit', 'device', (i32, h) => void (i32[h + H_FIRST] = 8192 - 5000 + 1)],
    ['device-state offset at the end', 'device', (i32, h) => void (i32[h + H_FIRST] = 8192)],
    ['device-state offset 2^31-1', 'device', (i32, h) => void (i32[h + H_FIRST] = 0x7fffffff)],
    ['END with a payload', 'end', (i32, h) => {
      i32[h + H_PAYLOAD_BYTES] = 8;
      i32[h + H_FRAME_BYTES] = HEADER_BYTES + 8;
    }],
  ];

  it.each(cases)('%s', async (_name, kind, mutate) => {
    await expectRejected(kind, mutate);
  });

  it('the device-state offset that exactly fits is accepted (boundary of the case above)', async () => {
    const { rig, pos, h } = await realFrame('device');
    rig.views.i32[h + H_FIRST] = 8192 - 5000;
    rig.applier.apply(pos);
    expect(rig.deviceState.subarray(0, 8192 - 5000).every((b) => b === 0)).toBe(true);
  });

  it('a repeated frame (same sequence number twice) is rejected and writes nothing the second time', async () => {
    const { rig, pos } = await realFrame('pages');
    rig.applier.apply(pos);
    rig.dest.views[0].fill(0xee); // anything the replay wrote would show
    const before = snapshot(rig);
    expectCorrupt(() => rig.applier.apply(pos));
    expectUntouched(rig, before);
  });

  it('a lost frame (a gap in sequence numbers) is rejected', async () => {
    const rig = makeRig({ memoryBytes: PAGES * PS, pageSize: PS, ringBytes: RING, seed: 7 });
    await rig.sender.sendRun(0, 4); // seq 0: "lost"
    const second = Atomics.load(rig.views.control, RING_HEAD) & rig.views.mask;
    await rig.sender.sendRun(4, 4); // seq 1
    const before = snapshot(rig);
    expectCorrupt(() => rig.applier.apply(second));
    expectUntouched(rig, before);
  });

  it('a hand-made WRAP frame must span exactly to the end of the ring', () => {
    const rig = makeRig({ memoryBytes: PAGES * PS, pageSize: PS, ringBytes: 4096, seed: 8 });
    const { i32 } = rig.views;
    const pos = 4096 - 64;
    i32[pos >>> 2] = FRAME_WRAP;
    i32[(pos >>> 2) + 1] = 64;
    expect(rig.applier.apply(pos)).toEqual({ type: FRAME_WRAP, frameBytes: 64 });
    for (const bad of [56, 72, 0, -64, 4096]) {
      i32[(pos >>> 2) + 1] = bad;
      expectCorrupt(() => rig.applier.apply(pos));
    }
    // a WRAP carries no sequence number: the next real frame is still seq 0
    expect(rig.applier.framesApplied).toBe(0);
  });

  it('hand-crafted PAGES frame: valid, then each field broken in turn', () => {
    const rig = makeRig({ memoryBytes: PAGES * PS, pageSize: PS, ringBytes: 1 << 16, seed: 3 });
    const { i32, bytes } = rig.views;
    const write = (fields: Partial<Record<number, number>>): void => {
      const base: Record<number, number> = {
        [H_TYPE]: FRAME_PAGES,
        [H_FRAME_BYTES]: HEADER_BYTES + 2 * PS,
        [H_SEQ]: 0,
        [H_BLOCK]: 0,
        [H_FIRST]: 30,
        [H_COUNT]: 2,
        [H_PRESENT_LO]: 0b11,
        [H_PRESENT_HI]: 0,
        [H_PAYLOAD_BYTES]: 2 * PS,
        [H_VERSION]: FRAME_VERSION,
      };
      for (const [k, v] of Object.entries({ ...base, ...fields })) i32[Number(k)] = v as number;
    };
    bytes.fill(0x42, HEADER_BYTES, HEADER_BYTES + 2 * PS);
    const bad: Array<Partial<Record<number, number>>> = [
      { [H_FIRST]: 31 }, // pages 31..32 of a 32-page block
      { [H_COUNT]: 3, [H_PRESENT_LO]: 0b111 }, // 3 present pages, 2 in the payload, past the block too
      { [H_PRESENT_LO]: 0b01 },
      { [H_PRESENT_LO]: 0b101 }, // bit 2 is beyond count: still 1 present page in the run, payload says 2
      { [H_VERSION]: 0 },
      { [H_SEQ]: 5 },
      { [H_TYPE]: 42 },
      { [H_BLOCK]: 1 },
      { [H_FRAME_BYTES]: HEADER_BYTES + 2 * PS + 8 },
    ];
    for (const fields of bad) {
      write(fields);
      const before = snapshot(rig);
      expectCorrupt(() => rig.applier.apply(0));
      expectUntouched(rig, before);
    }
    write({});
    rig.applier.apply(0);
    expect(rig.dest.views[0].subarray(30 * PS).every((b) => b === 0x42)).toBe(true);
  });
});
