/**
 * A page sender writing frames into a ring nobody reads, on a ManualClock with no rate limit: tests
 * and fuzz properties use it to make the exact frames the engine sends, then read them back.
 */
import { ManualClock } from '../../src/clock.ts';
import type { GuestMemory } from '../../src/memory/guest-memory.ts';
import { PageSender } from '../../src/precopy/page-sender.ts';
import { H_FRAME_BYTES } from '../../src/transport/frame.ts';
import { BandwidthMeter, RateLimiter } from '../../src/transport/link.ts';
import { RING_HEAD, RingProducer, RingViews, createRing } from '../../src/transport/ring.ts';

/** A sender of `source`'s pages into a ring of `ringBytes` (large enough for everything the test sends). */
export function ringSender(source: GuestMemory, ringBytes: number, compression: 'zlib' | 'zstd' | null = null): { sender: PageSender; views: RingViews } {
  const views = new RingViews(createRing(ringBytes));
  const clock = new ManualClock(1000);
  const sender = new PageSender({
    producer: new RingProducer(views),
    source,
    limiter: new RateLimiter(clock, Infinity),
    meter: new BandwidthMeter(clock),
    clock,
    closedReason: () => null,
    compression: compression === null ? null : { codec: compression, level: 1 },
  });
  return { sender, views };
}

/** Every frame written into the ring so far, copied out, in order. */
export function framesIn(views: RingViews): Uint8Array[] {
  const head = Atomics.load(views.control, RING_HEAD);
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < head; ) {
    const bytes = views.i32[(pos >>> 2) + H_FRAME_BYTES];
    out.push(views.bytes.slice(pos, pos + bytes));
    pos += bytes;
  }
  return out;
}
