import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  RING_HEAD, RING_TAIL, RING_WAITING, RING_WAKE_AT, RingProducer, RingViews, consumerRelease, createRing, lowWaterBytes, tailReached, wakeTail,
} from '../src/transport/ring.ts';

describe('ring low-water mark (pure)', () => {
  it.each([
    // capacity, need, want
    [8 << 20, 262_192, 2 << 20], // a full 64-page frame in the 8 MiB ring: a quarter of the ring
    [1 << 20, 262_192, 262_192], // a frame just above a quarter of a 1 MiB ring: the frame
    [4096, 2048, 2048], // a frame of half the ring: the frame
    [4096, 4000, 4000], // a frame plus its WRAP gap
    [65536, 8, 16384],
  ])('capacity %d, need %d: sleeps for %d free bytes', (capacity, need, want) => {
    expect(lowWaterBytes(capacity, need)).toBe(want);
  });

  it('the wake-up TAIL works across the wrap of the 32-bit counters', () => {
    const capacity = 1 << 20;
    for (const head of [0, capacity, 2 ** 31 - 10, -(2 ** 31) + 5, -1]) {
      const at = wakeTail(head, capacity >>> 2, capacity);
      // free = capacity - (head - tail): exactly `want` free at `at`, one byte short just before
      expect(capacity - ((head - at) | 0)).toBe(capacity >>> 2);
      expect(tailReached(at, at)).toBe(true);
      expect(tailReached((at + 1) | 0, at)).toBe(true);
      expect(tailReached((at - 1) | 0, at)).toBe(false);
    }
  });

  it('consumerRelease notifies at the mark a waiting producer set, or when caught up; not for every frame', () => {
    const views = new RingViews(createRing(1 << 16));
    const c = views.control;
    Atomics.store(c, RING_HEAD, 60_000);
    Atomics.store(c, RING_WAKE_AT, 30_000);
    Atomics.store(c, RING_WAITING, 1);
    expect(consumerRelease(c, 10_000, 60_000)).toBe(false);
    expect(Atomics.load(c, RING_TAIL)).toBe(10_000); // TAIL published all the same
    expect(consumerRelease(c, 30_000, 60_000)).toBe(true);
    Atomics.store(c, RING_WAITING, 0);
    expect(consumerRelease(c, 40_000, 60_000)).toBe(false); // nobody sleeps for it
    expect(consumerRelease(c, 60_000, 60_000)).toBe(true); // every published byte taken (a flush waits for this)
  });

  it('createRing hands out a zeroed ring of the asked capacity', () => {
    const ring = createRing(1 << 16);
    expect(ring.buffer.byteLength).toBe(64 + (1 << 16));
    expect(new Uint8Array(ring.buffer).every((b) => b === 0)).toBe(true);
  });
});

/** Produce `frames` frames of `frameBytes` through blockingReserve into a consumer worker; the producer's wake-ups. */
async function produce(frames: number, frameBytes: number, capacity: number, everyFrame: boolean): Promise<{ wakeups: number; tail: number; head: number }> {
  const ring = createRing(capacity);
  const views = new RingViews(ring);
  const producer = new RingProducer(views);
  const worker = new Worker(new URL('./helpers/ring-consumer-worker.mjs', import.meta.url), { workerData: { ring, frames, everyFrame } });
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  try {
    for (let f = 0; f < frames; f++) {
      let pos = -1;
      // hang guard: a consumer that died leaves the ring full; give up after 10 s
      for (let tries = 0; pos < 0 && tries < 100; tries++) pos = producer.blockingReserve(frameBytes, 100);
      if (pos < 0) throw new Error(`no ring space for frame ${f}`);
      views.i32[pos >>> 2] = 1;
      views.i32[(pos >>> 2) + 1] = frameBytes;
      producer.commit(frameBytes);
    }
    expect(await exited).toBe(0);
  } finally {
    await worker.terminate();
  }
  return { wakeups: producer.wakeups, tail: Atomics.load(views.control, RING_TAIL), head: Atomics.load(views.control, RING_HEAD) };
}

describe('ring wake-ups (two threads)', () => {
  it('a producer on a full ring is woken once per quarter of the ring freed, not once per frame taken', async () => {
    const capacity = 256 << 10;
    const frameBytes = (16 << 10) + 8; // not a divisor of the ring: WRAP gaps too
    const frames = 200;
    const { wakeups, tail, head } = await produce(frames, frameBytes, capacity, false);
    expect(tail).toBe(head); // every frame taken
    // each notified wake-up needs a quarter of the ring freed (or the ring drained): at any speed
    expect(wakeups).toBeLessThanOrEqual(Math.ceil((frames * frameBytes) / (capacity / 4)) + 2);
  }, 30_000);
});
