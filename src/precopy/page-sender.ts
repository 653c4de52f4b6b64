/**
 * Sends runs of pages as frames: copy into the ring slot (the private copy), zero-check the copy,
 * compact the normal pages, book the bytes on the link, publish.
 *
 * Order (DESIGN §4): the caller has already cleared the pages' bits in the migration bitmap (taken from
 * the dirty log by an exchange); the page is read exactly once, by the copy; the zero check and
 * everything after work on the copy, never on guest memory.
 */
import type { Clock } from '../clock.ts';
import { isZeroRange } from '../codec/zero-page.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { popcount32 } from '../memory/bitmap.ts';
import { XBZRLE_SEND_NORMAL, XBZRLE_SKIP, type PageCache } from '../codec/page-cache.ts';
import { deflateRawSync } from 'node:zlib';
import { zstdCompress } from '../codec/zstd.ts';
import {
  DEVICE_CHUNK_BYTES, FRAME_DEVICE_STATE, FRAME_END, FRAME_PAGES, FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD, FRAME_VERSION, FRAME_XBZRLE, HEADER_BYTES, H_BLOCK, H_COUNT,
  H_FIRST, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_PRESENT_HI, H_PRESENT_LO, H_SENT_AT_F64, H_SEQ, H_TYPE, H_VERSION,
} from '../transport/frame.ts';
import type { LinkBudget, BandwidthMeter } from '../transport/link.ts';
import { align8, type RingProducer } from '../transport/ring.ts';
import { CodecCounters, SendCounters } from './stats.ts';

/** Generic compression of each frame's normal pages (QEMU multifd-compression and its level). */
export interface FrameCompression {
  readonly codec: 'zlib' | 'zstd';
  readonly level: number;
}

/** How long the sender blocks for ring space before it yields to the event loop (RingProducer.blockingReserve). */
export const RING_BLOCK_MS = 5;

/** XBZRLE and compression figures: the fields of CodecCounters. */
export class PageSender extends CodecCounters {
  private readonly producer: RingProducer;
  private readonly source: GuestMemory;
  private readonly limiter: LinkBudget;
  private readonly meter: BandwidthMeter;
  private readonly clock: Clock;
  private readonly closedReason: () => string | null;
  private seq = 0;
  /** totals since the start */
  readonly total = new SendCounters();
  /** since the last `round.reset()` */
  readonly round = new SendCounters();
  /** ms spent waiting for the link's rate limit */
  linkWaitMs = 0;
  private readonly compression: FrameCompression | null;

  /** ms spent waiting for the destination to free ring space */
  get ringWaitMs(): number {
    return this.producer.waitMs;
  }

  constructor(options: {
    producer: RingProducer;
    source: GuestMemory;
    limiter: LinkBudget;
    meter: BandwidthMeter;
    clock: Clock;
    closedReason: () => string | null;
    /** codec and level to compress the normal pages of each frame with, or null for none (zstd: await zstdReady() first) */
    compression?: FrameCompression | null;
  }) {
    super();
    this.compression = options.compression ?? null;
    this.producer = options.producer;
    this.source = options.source;
    this.limiter = options.limiter;
    this.meter = options.meter;
    this.clock = options.clock;
    this.closedReason = options.closedReason;
  }

  /**
   * Send pages [page, page + count) of one RAM block as one frame. Returns undefined when the frame
   * went out at once, or a promise when it had to wait for ring space or for the link (the hot path
   * allocates no promise).
   */
  sendRun(page: number, count: number): Promise<void> | undefined {
    const frameMax = align8(HEADER_BYTES + count * this.source.layout.pageSizeBytes);
    const pos = this.producer.blockingReserve(frameMax, RING_BLOCK_MS);
    if (pos >= 0) return this.buildAndPublish(pos, page, count);
    return this.producer.reserve(frameMax, this.closedReason).then((p) => this.buildAndPublish(p, page, count));
  }

  private buildAndPublish(pos: number, page: number, count: number): Promise<void> | undefined {
    const src = this.source;
    const ps = src.layout.pageSizeBytes;
    const block = src.blockOf(page);
    const runBytes = count * ps;
    const ring = this.producer.views;
    const payload = pos + HEADER_BYTES;
    const from = src.offsetOf(page);
    // The private copy: the one read of these guest pages in this round.
    ring.bytes.set(src.views[block].subarray(from, from + runBytes), payload);
    // Zero check on the copy; compact the normal pages to the front of the payload.
    let lo = 0;
    let hi = 0;
    let write = payload;
    for (let k = 0, at = payload; k < count; k++, at += ps) {
      if (isZeroRange(ring.bytes, at, ps)) continue;
      if (write !== at) ring.bytes.copyWithin(write, at, at + ps);
      if (k < 32) lo |= 1 << k;
      else hi |= 1 << (k - 32);
      write += ps;
    }
    let payloadBytes = write - payload;
    const normal = payloadBytes / ps;
    let type = FRAME_PAGES;
    const compression = this.compression;
    if (compression !== null && payloadBytes > 0) {
      // QEMU multifd-compression: the packet's normal pages, compressed; kept only when it shrinks
      const pages = ring.bytes.subarray(payload, payload + payloadBytes);
      const zstd = compression.codec === 'zstd';
      const z = zstd ? zstdCompress(pages, compression.level) : deflateRawSync(pages, { level: compression.level });
      if (z.length < payloadBytes) {
        this.compressedFrames++;
        this.compressedInputBytes += payloadBytes;
        this.compressedOutputBytes += z.length;
        ring.bytes.set(z, payload);
        payloadBytes = z.length;
        type = zstd ? FRAME_PAGES_ZSTD : FRAME_PAGES_ZLIB;
      }
    }
    const frameBytes = this.writeHeader(pos, type, payloadBytes);
    const h = pos >>> 2;
    ring.i32[h + H_BLOCK] = block;
    ring.i32[h + H_FIRST] = from / ps;
    ring.i32[h + H_COUNT] = count;
    ring.i32[h + H_PRESENT_LO] = lo;
    ring.i32[h + H_PRESENT_HI] = hi;
    this.total.pages += count;
    this.total.normalPages += normal;
    this.total.zeroPages += count - normal;
    this.round.pages += count;
    this.round.normalPages += normal;
    this.round.zeroPages += count - normal;
    return this.publish(pos, frameBytes);
  }

  /**
   * Send one page through XBZRLE (QEMU's save_xbzrle_page order): copy it into the cache's scratch
   * page (the private copy), zero-check the copy (a zero page goes as a header and is recorded in the
   * cache), else encode it against the cache: a delta frame, nothing at all when unchanged, or the page
   * in full on a miss or an overflow. `cacheAddress` is the page's key in the cache (its guest address;
   * a channel passes an address in the compact space of the pages it owns, so they use all its slots).
   */
  sendPageXbzrle(page: number, cache: PageCache, lastStage: boolean, cacheAddress?: number): Promise<void> | undefined {
    const src = this.source;
    const ps = src.layout.pageSizeBytes;
    const block = src.blockOf(page);
    const from = src.offsetOf(page);
    const copy = cache.scratchPage;
    copy.set(src.views[block].subarray(from, from + ps)); // the one read of this page in this round
    const address = cacheAddress ?? page * ps;
    if (isZeroRange(copy, 0, ps)) {
      cache.cacheZeroPage(address);
      return this.sendSinglePage(page, null);
    }
    const encoded = cache.encodePage(address, copy, cache.encodedBuffer, lastStage);
    if (encoded === XBZRLE_SKIP) {
      this.xbzrleSkipped++;
      this.total.pages++;
      this.round.pages++;
      return undefined;
    }
    if (encoded === XBZRLE_SEND_NORMAL) return this.sendSinglePage(page, copy);
    const frameMax = align8(HEADER_BYTES + encoded);
    const pos = this.producer.blockingReserve(frameMax, RING_BLOCK_MS);
    const build = (p: number): Promise<void> | undefined => {
      const ring = this.producer.views;
      ring.bytes.set(cache.encodedBuffer.subarray(0, encoded), p + HEADER_BYTES);
      const frameBytes = this.writeHeader(p, FRAME_XBZRLE, encoded);
      const h = p >>> 2;
      ring.i32[h + H_BLOCK] = block;
      ring.i32[h + H_FIRST] = from / ps;
      ring.i32[h + H_COUNT] = 1;
      ring.i32[h + H_PRESENT_LO] = 0;
      ring.i32[h + H_PRESENT_HI] = 0;
      this.xbzrlePages++;
      this.xbzrleBytes += frameBytes;
      this.total.pages++;
      this.round.pages++;
      return this.publish(p, frameBytes);
    };
    if (pos >= 0) return build(pos);
    // the encoded bytes live in the cache's buffer until the frame is built: build before anything else runs
    return this.producer.reserve(frameMax, this.closedReason).then(build);
  }

  /** One page from a private copy (null: a zero page, header only). */
  private sendSinglePage(page: number, copy: Uint8Array | null): Promise<void> | undefined {
    const src = this.source;
    const ps = src.layout.pageSizeBytes;
    const frameMax = align8(HEADER_BYTES + (copy ? ps : 0));
    const build = (pos: number): Promise<void> | undefined => {
      const ring = this.producer.views;
      if (copy) ring.bytes.set(copy, pos + HEADER_BYTES);
      const frameBytes = this.writeHeader(pos, FRAME_PAGES, copy ? ps : 0);
      const h = pos >>> 2;
      ring.i32[h + H_BLOCK] = src.blockOf(page);
      ring.i32[h + H_FIRST] = src.offsetOf(page) / ps;
      ring.i32[h + H_COUNT] = 1;
      ring.i32[h + H_PRESENT_LO] = copy ? 1 : 0;
      ring.i32[h + H_PRESENT_HI] = 0;
      const normal = copy ? 1 : 0;
      this.total.pages++;
      this.total.normalPages += normal;
      this.total.zeroPages += 1 - normal;
      this.round.pages++;
      this.round.normalPages += normal;
      this.round.zeroPages += 1 - normal;
      return this.publish(pos, frameBytes);
    };
    const pos = this.producer.blockingReserve(frameMax, RING_BLOCK_MS);
    if (pos >= 0) return build(pos);
    return this.producer.reserve(frameMax, this.closedReason).then(build);
  }

  /** Device state after the last pages (part of the downtime). */
  async sendDeviceState(state: Uint8Array): Promise<void> {
    for (let offset = 0; offset < state.length; offset += DEVICE_CHUNK_BYTES) {
      const n = Math.min(DEVICE_CHUNK_BYTES, state.length - offset);
      const pos = await this.producer.reserve(align8(HEADER_BYTES + n), this.closedReason);
      this.producer.views.bytes.set(state.subarray(offset, offset + n), pos + HEADER_BYTES);
      const frameBytes = this.writeHeader(pos, FRAME_DEVICE_STATE, n);
      this.producer.views.i32[(pos >>> 2) + H_FIRST] = offset;
      await this.publish(pos, frameBytes);
    }
  }

  /** A control frame of `type` carrying `payload` (post-copy's missing pages, its run command); `first` goes in H_FIRST. */
  async sendControl(type: number, first: number, payload: Uint8Array): Promise<void> {
    const pos = await this.producer.reserve(align8(HEADER_BYTES + payload.length), this.closedReason);
    this.producer.views.bytes.set(payload, pos + HEADER_BYTES);
    const frameBytes = this.writeHeader(pos, type, payload.length);
    this.producer.views.i32[(pos >>> 2) + H_FIRST] = first;
    await this.publish(pos, frameBytes);
  }

  /** The end of the stream: the destination resumes once it has applied this. */
  async sendEnd(): Promise<void> {
    const pos = await this.producer.reserve(HEADER_BYTES, this.closedReason);
    await this.publish(pos, this.writeHeader(pos, FRAME_END, 0));
  }

  private writeHeader(pos: number, type: number, payloadBytes: number): number {
    const i32 = this.producer.views.i32;
    const h = pos >>> 2;
    const frameBytes = align8(HEADER_BYTES + payloadBytes);
    i32[h + H_TYPE] = type;
    i32[h + H_FRAME_BYTES] = frameBytes;
    i32[h + H_SEQ] = this.seq++;
    i32[h + H_PAYLOAD_BYTES] = payloadBytes;
    i32[h + H_VERSION] = FRAME_VERSION;
    return frameBytes;
  }

  /** Book the frame on the link, then hand it to the destination (after the wait, if any). */
  private publish(pos: number, frameBytes: number): Promise<void> | undefined {
    let wait: number;
    try {
      wait = this.limiter.book(frameBytes);
    } catch (error) {
      this.unwrite(pos); // the link refused the frame (link-fault.ts): it never left
      throw error;
    }
    if (wait <= 0) {
      this.commit(pos, frameBytes);
      return undefined;
    }
    const t = this.clock.nowMs();
    return this.clock.sleepMs(wait).then(() => {
      this.linkWaitMs += this.clock.nowMs() - t;
      this.commit(pos, frameBytes);
    });
  }

  /**
   * A frame the link refused: take back its sequence number and its pages, so the stream goes on
   * without a gap when the link comes back (post-copy recovery; its reserved ring space is simply
   * reused by the next frame, it was never committed).
   */
  private unwrite(pos: number): void {
    this.seq--;
    const i32 = this.producer.views.i32;
    const h = pos >>> 2;
    const type = i32[h + H_TYPE];
    if (type !== FRAME_PAGES && type !== FRAME_PAGES_ZLIB && type !== FRAME_PAGES_ZSTD) return;
    const count = i32[h + H_COUNT];
    const normal = popcount32(i32[h + H_PRESENT_LO]) + popcount32(i32[h + H_PRESENT_HI]);
    this.total.pages -= count;
    this.total.normalPages -= normal;
    this.total.zeroPages -= count - normal;
    this.round.pages -= count;
    this.round.normalPages -= normal;
    this.round.zeroPages -= count - normal;
    if (type !== FRAME_PAGES) {
      // its normal pages went in compressed: the payload is what came out
      this.compressedFrames--;
      this.compressedInputBytes -= normal * this.source.layout.pageSizeBytes;
      this.compressedOutputBytes -= i32[h + H_PAYLOAD_BYTES];
    }
  }

  private commit(pos: number, frameBytes: number): void {
    this.producer.views.f64[(pos >>> 3) + H_SENT_AT_F64] = this.clock.nowMs();
    this.producer.commit(frameBytes);
    this.meter.add(frameBytes);
    this.total.bytes += frameBytes;
    this.round.bytes += frameBytes;
    this.total.frames++;
    this.round.frames++;
  }
}
