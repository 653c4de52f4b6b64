/**
 * One parallel channel (QEMU multifd send thread), run inside `workers/channel.ts`: take packets from
 * its queue, and for each page run copy the pages out of guest memory into a frame of its own ring (the
 * private copy, DESIGN §4: the migration thread cleared the pages' bits before it published the packet),
 * zero-check the copy, XBZRLE-encode it against this channel's cache (after the bulk round) or compress
 * the frame's normal pages, book the bytes on the link budget all channels share, and publish the frame
 * to this channel's destination worker. It is the single-lane `PageSender`, on another thread and ring.
 */
import { realClock } from '../clock.ts';
import { injectFault } from '../faults.ts';
import { PageCache } from '../codec/page-cache.ts';
import { zstdReady } from '../codec/zstd.ts';
import { GuestMemory } from '../memory/guest-memory.ts';
import { maxRunPages } from '../transport/frame.ts';
import { BandwidthMeter, SharedRateLimiter } from '../transport/link.ts';
import { RingProducer, RingViews } from '../transport/ring.ts';
import {
  CHANNEL_FAILED, CHANNEL_READY, CHANNEL_STOPPED, C_BYTES, C_CACHE_BYTES, C_CACHE_MISS, C_CACHE_OVERFLOW, C_CACHE_PAGES, C_COMPRESSED_FRAMES,
  C_COMPRESSED_IN, C_COMPRESSED_OUT, C_FRAMES, C_LINK_WAIT_MS, C_NORMAL_PAGES, C_PACKETS, C_PAGES, C_RING_WAIT_MS, C_XBZRLE_BYTES,
  C_XBZRLE_PAGES, C_XBZRLE_SKIPPED, C_ZERO_PAGES, PACKET_LAST_STAGE, PACKET_XBZRLE, P_FLAGS, P_GENERATION, P_RUNS, Q_HEAD, Q_STATE, Q_STOP,
  Q_TAIL, SLOT_HEADER_INTS, packetPages, slotIndex, type ChannelWorkerData,
} from './channel-queue.ts';
import { PageSender } from './page-sender.ts';

/** How long an idle channel sleeps between looks at Q_STOP (a new packet wakes it at once). */
const IDLE_WAIT_MS = 100;

export async function runChannel(data: ChannelWorkerData): Promise<void> {
  const queue = new Int32Array(data.queue);
  const counters = new Float64Array(data.counters);
  const ring = new RingViews(data.ring);
  try {
    if (data.compression?.codec === 'zstd') await zstdReady();
    const source = GuestMemory.attach(data.memory);
    const ps = source.layout.pageSizeBytes;
    const perPacket = packetPages(ps);
    const maxRun = maxRunPages(ps);
    const producer = new RingProducer(ring);
    const sender = new PageSender({
      producer,
      source,
      limiter: SharedRateLimiter.attach(data.link),
      meter: new BandwidthMeter(realClock), // the migration thread meters the link from the counters
      clock: realClock,
      closedReason: () => (ring.closed() ? `channel ${data.channel}: its stream was closed` : null),
      compression: data.compression,
    });
    const cache = data.xbzrleCacheBytes === null ? null : new PageCache(data.xbzrleCacheBytes, ps);
    let tail = Atomics.load(queue, Q_TAIL);
    Atomics.store(queue, Q_STATE, CHANNEL_READY);
    Atomics.notify(queue, Q_STATE);
    for (;;) {
      const head = Atomics.load(queue, Q_HEAD);
      if (head === tail) {
        if (Atomics.load(queue, Q_STOP) !== 0 || ring.closed()) break;
        Atomics.wait(queue, Q_HEAD, head, IDLE_WAIT_MS);
        continue;
      }
      const slot = slotIndex(tail, perPacket);
      const flags = queue[slot + P_FLAGS];
      const fault = data.fault;
      if (fault !== undefined && (fault.at === 'stop-and-copy' ? (flags & PACKET_LAST_STAGE) !== 0 : tail === fault.at)) {
        injectFault(fault, `at packet ${tail}${fault.at === 'stop-and-copy' ? ' (stop-and-copy)' : ''}`); // tests only
      }
      const runs = queue[slot + P_RUNS];
      if (cache) cache.setGeneration(queue[slot + P_GENERATION]);
      const xbzrle = cache !== null && (flags & PACKET_XBZRLE) !== 0;
      const lastStage = (flags & PACKET_LAST_STAGE) !== 0;
      for (let r = 0; r < runs; r++) {
        const first = queue[slot + SLOT_HEADER_INTS + 2 * r];
        const count = queue[slot + SLOT_HEADER_INTS + 2 * r + 1];
        if (xbzrle) {
          for (let k = 0; k < count; k++) {
            // this channel owns every `channels`-th stretch: number its pages 0, 1, 2, … so that they
            // spread over all of its cache's slots (direct-mapped by page number), not 1 in `channels`
            const page = first + k;
            const local = Math.floor(page / perPacket / data.channels) * perPacket + (page % perPacket);
            const sending = sender.sendPageXbzrle(page, cache, lastStage, local * ps);
            if (sending) await sending;
          }
        } else {
          for (let p = first, end = first + count; p < end; p += maxRun) {
            const sending = sender.sendRun(p, Math.min(maxRun, end - p));
            if (sending) await sending;
          }
        }
      }
      // the counters first, then the packet is done: the migration thread reads them after Q_TAIL
      counters[C_PACKETS]++;
      counters[C_BYTES] = sender.total.bytes;
      counters[C_PAGES] = sender.total.pages;
      counters[C_ZERO_PAGES] = sender.total.zeroPages;
      counters[C_NORMAL_PAGES] = sender.total.normalPages;
      counters[C_FRAMES] = sender.total.frames;
      counters[C_LINK_WAIT_MS] = sender.linkWaitMs;
      counters[C_RING_WAIT_MS] = sender.ringWaitMs;
      counters[C_XBZRLE_PAGES] = sender.xbzrlePages;
      counters[C_XBZRLE_BYTES] = sender.xbzrleBytes;
      counters[C_XBZRLE_SKIPPED] = sender.xbzrleSkipped;
      counters[C_COMPRESSED_FRAMES] = sender.compressedFrames;
      counters[C_COMPRESSED_IN] = sender.compressedInputBytes;
      counters[C_COMPRESSED_OUT] = sender.compressedOutputBytes;
      if (cache) {
        counters[C_CACHE_PAGES] = cache.pages;
        counters[C_CACHE_BYTES] = cache.bytes;
        counters[C_CACHE_MISS] = cache.cacheMiss;
        counters[C_CACHE_OVERFLOW] = cache.overflow;
      }
      tail = (tail + 1) | 0;
      Atomics.store(queue, Q_TAIL, tail);
      Atomics.notify(queue, Q_TAIL);
    }
    Atomics.store(queue, Q_STATE, CHANNEL_STOPPED);
    Atomics.notify(queue, Q_STATE);
  } catch (error) {
    Atomics.store(queue, Q_STATE, CHANNEL_FAILED);
    Atomics.notify(queue, Q_STATE);
    Atomics.notify(queue, Q_TAIL);
    ring.close(); // its destination stops waiting
    throw error;
  }
}
