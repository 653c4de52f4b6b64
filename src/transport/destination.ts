/**
 * The destination side: applies frames from the ring to the destination's own RAM blocks.
 *
 * Runs inside the destination worker (`workers/destination.ts`); the pure part (`FrameApplier`) is
 * also used directly by tests. It trusts nothing in a frame: every index and length is checked before
 * a byte is written, and a bad frame is an `E_STREAM_CORRUPT` error naming what is wrong.
 *
 * Destination control block (its own SharedArrayBuffer):
 *   Int32 D_STATE       written by the destination worker only: STARTING | READY | RESUMED | FAILED
 *   Int32 D_FRAMES      written by the destination worker only: frames applied
 *   Float64 D_RESUMED_AT written by the destination worker only: absolute ms of the resume (after END)
 *   Float64 D_PAGES / D_ZERO_PAGES written by the destination worker only: pages applied (all / zero)
 *   Float64 D_WAIT_MS   written by the destination worker only: ms spent waiting for frames
 *   Float64 D_COMPLETED_AT written by the destination worker only: post-copy: absolute ms of END (every page placed)
 *   Float64 D_DROPPED_PAGES written by the destination worker only: post-copy: pages dropped as already received
 *   Float64 D_LINK_DOWN_AT  written by the main thread only, before the first frame: post-copy recovery's outage
 *   Float64 D_PAUSED_AT, D_RECOVERED_AT, D_LOST_FRAMES, D_LOST_PAGES  written by the destination worker only (below)
 *
 * Post-copy (src/postcopy/): POSTCOPY_MISSING frames fill the received bitmap (the destination worker
 * is its only writer); POSTCOPY_RUN stamps D_RESUMED_AT and sets POSTCOPY (the guest runs here now);
 * from then on a page is written only while its received bit is clear, and marked received after its
 * bytes are in place (QEMU postcopy_place_page: UFFDIO_COPY, which refuses a page already there).
 *
 * Post-copy recovery (`recoveryReply` given and D_LINK_DOWN_AT set): once the guest runs here, a frame
 * that would arrive (sent + latency) after the link went down is lost (`lose`): nothing of it is placed.
 * The destination notices the outage then, or when it idles past that time, and enters POSTCOPY_PAUSED
 * (QEMU postcopy_pause_incoming); the vCPUs waiting for missing pages stay blocked. The source's
 * POSTCOPY_RESUME ends the outage: the destination copies its received bitmap into `recoveryReply` for
 * the source (QEMU migrate_send_rp_recv_bitmap, which the source turns into its dirty bitmap in
 * ram_dirty_bitmap_reload) and goes back to POSTCOPY (QEMU MIG_RP_MSG_RESUME_ACK). One outage per run.
 */
import { MigbenchError } from '../errors.ts';
import { decodeXbzrle } from '../codec/xbzrle.ts';
import { inflateRawSync } from 'node:zlib';
import { zstdDecompressExact } from '../codec/zstd.ts';
import { GuestMemory } from '../memory/guest-memory.ts';
import { injectFault, type FaultData } from '../faults.ts';
import {
  FRAME_DEVICE_STATE, FRAME_END, FRAME_PAGES, FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD, FRAME_POSTCOPY_MISSING, FRAME_POSTCOPY_RESUME, FRAME_POSTCOPY_RUN, FRAME_VERSION, FRAME_WRAP, FRAME_XBZRLE, HEADER_BYTES, H_BLOCK, H_COUNT,
  H_FIRST, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_PRESENT_HI, H_PRESENT_LO, H_SENT_AT_F64, H_SEQ, H_TYPE, H_VERSION,
  MAX_RUN_PAGES,
} from './frame.ts';
import { RING_HEAD, RING_TAIL, RingViews, align8, consumerRelease } from './ring.ts';
import { applyMissing, isReceived, markReceived } from '../memory/received-bitmap.ts';

export const D_STATE = 0;
export const D_FRAMES = 1;
export const D_RESUMED_AT_F64 = 1; // Float64 index (bytes 8..16)
export const D_PAGES_F64 = 2;
export const D_ZERO_PAGES_F64 = 3;
export const D_WAIT_MS_F64 = 4; // ms the destination spent waiting for frames (idle, or the link latency)
export const D_COMPLETED_AT_F64 = 5;
export const D_DROPPED_PAGES_F64 = 6;
/** post-copy recovery: absolute ms the link goes down; written by the main thread before the first frame (0: no recovery to watch for) */
export const D_LINK_DOWN_AT_F64 = 7;
/** post-copy recovery, written by the destination worker only: absolute ms it noticed the outage (postcopy-paused) */
export const D_PAUSED_AT_F64 = 8;
/** … absolute ms it applied POSTCOPY_RESUME and answered with its received bitmap (postcopy-active again) */
export const D_RECOVERED_AT_F64 = 9;
/** … frames and pages lost in flight to the outage */
export const D_LOST_FRAMES_F64 = 10;
export const D_LOST_PAGES_F64 = 11;
export const DEST_CONTROL_BYTES = 128;

export const DEST_STARTING = 0;
export const DEST_READY = 1;
export const DEST_RESUMED = 2;
export const DEST_FAILED = 3;
/** post-copy: the guest runs on the destination while missing pages still arrive */
export const DEST_POSTCOPY = 4;
/** post-copy recovery: the link failed; the guest runs here, blocked on its missing pages, until POSTCOPY_RESUME */
export const DEST_POSTCOPY_PAUSED = 5;

function corrupt(where: string, what: string): never {
  throw new MigbenchError('E_STREAM_CORRUPT', `stream corrupt at ${where}: ${what}`);
}

export class FrameApplier {
  private readonly ring: RingViews;
  private readonly dest: GuestMemory;
  private readonly deviceState: Uint8Array;
  private expectedSeq = 0;
  pagesApplied = 0;
  zeroPagesApplied = 0;
  xbzrlePagesApplied = 0;
  framesApplied = 0;
  /** post-copy: pages that arrived already received (dropped, QEMU's EEXIST) */
  droppedPages = 0;
  /** post-copy has started (the missing pages are known): pages are placed only while not received */
  postcopy = false;
  /** post-copy recovery: frames and pages lost in flight to a link outage (`lose`) */
  framesLost = 0;
  pagesLost = 0;
  private readonly received: Int32Array | null;

  constructor(ring: RingViews, dest: GuestMemory, deviceState: Uint8Array, received: Int32Array | null = null) {
    this.ring = ring;
    this.dest = dest;
    this.deviceState = deviceState;
    this.received = received;
  }

  /**
   * Apply the frame starting at ring byte position `pos` (8-aligned). Returns its type and length.
   * WRAP frames carry no sequence number.
   */
  /** The checks every frame passes (length, version, sequence, payload length); WRAP frames carry no sequence number. */
  private header(pos: number): { h: number; type: number; frameBytes: number; payloadBytes: number; where: string } {
    const { i32, capacity } = this.ring;
    const h = pos >>> 2;
    const type = i32[h + H_TYPE];
    const frameBytes = i32[h + H_FRAME_BYTES];
    const where = `frame ${this.expectedSeq} (ring offset ${pos})`;
    if (type === FRAME_WRAP) {
      if (pos === 0 || frameBytes !== capacity - pos) corrupt(where, `wrap frame of ${frameBytes} bytes, expected ${capacity - pos}`);
      return { h, type, frameBytes, payloadBytes: 0, where };
    }
    if (frameBytes < HEADER_BYTES || frameBytes > capacity - pos || (frameBytes & 7) !== 0) {
      corrupt(where, `frame length ${frameBytes} out of range`);
    }
    if (i32[h + H_VERSION] !== FRAME_VERSION) corrupt(where, `unknown frame version ${i32[h + H_VERSION]}`);
    const seq = i32[h + H_SEQ];
    if (seq !== this.expectedSeq) corrupt(where, `sequence number ${seq}, expected ${this.expectedSeq}`);
    const payloadBytes = i32[h + H_PAYLOAD_BYTES];
    if (payloadBytes < 0 || align8(HEADER_BYTES + payloadBytes) !== frameBytes) {
      corrupt(where, `payload of ${payloadBytes} bytes does not match frame length ${frameBytes}`);
    }
    return { h, type, frameBytes, payloadBytes, where };
  }

  /**
   * Post-copy recovery: the frame at `pos` was in flight when the link went down and never arrives
   * (QEMU loses what was in the broken socket). Its header is checked as any frame's and its sequence
   * number is consumed; nothing is written. Only page frames and END can be lost this way (the link
   * fails after POSTCOPY_RUN); the pages it carried stay missing. Returns its type, length and pages.
   */
  lose(pos: number): { type: number; frameBytes: number; pages: number } {
    const { h, type, frameBytes, where } = this.header(pos);
    if (type === FRAME_WRAP) return { type, frameBytes, pages: 0 };
    if (!this.postcopy) corrupt(where, 'a frame lost to a link outage before post-copy started');
    let pages = 0;
    switch (type) {
      case FRAME_PAGES:
      case FRAME_PAGES_ZLIB:
      case FRAME_PAGES_ZSTD:
      case FRAME_XBZRLE:
        pages = this.ring.i32[h + H_COUNT];
        if (pages < 1 || pages > MAX_RUN_PAGES) corrupt(where, `page count ${pages} out of range 1..${MAX_RUN_PAGES}`);
        break;
      case FRAME_END:
        break;
      default:
        corrupt(where, `frame type ${type} lost to a link outage (only pages and the end can be in flight then)`);
    }
    this.expectedSeq++;
    this.framesLost++;
    this.pagesLost += pages;
    return { type, frameBytes, pages };
  }

  apply(pos: number): { type: number; frameBytes: number } {
    const { i32, bytes } = this.ring;
    const { h, type, frameBytes, payloadBytes, where } = this.header(pos);
    if (type === FRAME_WRAP) return { type, frameBytes };
    const payload = pos + HEADER_BYTES;
    switch (type) {
      case FRAME_PAGES:
        this.applyPages(h, payload, payloadBytes, where);
        break;
      case FRAME_XBZRLE:
        this.applyXbzrle(h, payload, payloadBytes, where);
        break;
      case FRAME_PAGES_ZLIB:
        this.applyPages(h, payload, payloadBytes, where, 'zlib');
        break;
      case FRAME_PAGES_ZSTD:
        this.applyPages(h, payload, payloadBytes, where, 'zstd');
        break;
      case FRAME_DEVICE_STATE: {
        const offset = i32[h + H_FIRST];
        if (offset < 0 || offset + payloadBytes > this.deviceState.length) {
          corrupt(where, `device state bytes [${offset}, ${offset + payloadBytes}) outside ${this.deviceState.length}`);
        }
        this.deviceState.set(bytes.subarray(payload, payload + payloadBytes), offset);
        break;
      }
      case FRAME_END:
        if (payloadBytes !== 0) corrupt(where, 'end frame with a payload');
        break;
      case FRAME_POSTCOPY_MISSING: {
        const words = this.received;
        const firstWord = i32[h + H_FIRST];
        if (words === null) corrupt(where, 'a post-copy frame on a destination without a received bitmap');
        if ((payloadBytes & 3) !== 0 || firstWord < 0 || firstWord + payloadBytes / 4 > words.length) corrupt(where, `missing-pages words [${firstWord}, ${firstWord + payloadBytes / 4}) outside the bitmap of ${words.length}`);
        applyMissing(words, firstWord, new Int32Array(this.ring.i32.buffer, this.ring.i32.byteOffset + payload, payloadBytes / 4), this.dest.totalPages);
        this.postcopy = true;
        break;
      }
      case FRAME_POSTCOPY_RUN:
        if (payloadBytes !== 0 || !this.postcopy) corrupt(where, this.postcopy ? 'post-copy run frame with a payload' : 'post-copy run before the missing pages');
        break;
      case FRAME_POSTCOPY_RESUME:
        if (payloadBytes !== 0 || !this.postcopy) corrupt(where, this.postcopy ? 'post-copy resume frame with a payload' : 'post-copy resume before post-copy');
        break;
      default:
        corrupt(where, `unknown frame type ${type}`);
    }
    this.expectedSeq++;
    this.framesApplied++;
    return { type, frameBytes };
  }

  /** One page as a delta against what this destination holds (QEMU's XBZRLE format). */
  private applyXbzrle(h: number, payload: number, payloadBytes: number, where: string): void {
    const { i32, bytes } = this.ring;
    const layout = this.dest.layout;
    const ps = layout.pageSizeBytes;
    const block = i32[h + H_BLOCK];
    const first = i32[h + H_FIRST];
    if (block < 0 || block >= layout.blockBytes.length) corrupt(where, `RAM block ${block} out of range (${layout.blockBytes.length} blocks)`);
    if (i32[h + H_COUNT] !== 1) corrupt(where, `an XBZRLE frame carries one page, not ${i32[h + H_COUNT]}`);
    if (first < 0 || first >= layout.blockBytes[block] / ps) corrupt(where, `page ${first} outside block ${block}`);
    if (payloadBytes < 1 || payloadBytes > ps) corrupt(where, `XBZRLE delta of ${payloadBytes} bytes for a page of ${ps}`);
    const page = this.dest.views[block].subarray(first * ps, (first + 1) * ps);
    if (decodeXbzrle(bytes.subarray(payload, payload + payloadBytes), page) < 0) corrupt(where, 'malformed XBZRLE delta');
    this.pagesApplied++;
    this.xbzrlePagesApplied++;
  }

  private applyPages(h: number, payload: number, payloadBytes: number, where: string, compressed: 'zlib' | 'zstd' | null = null): void {
    const { i32 } = this.ring;
    let bytes = this.ring.bytes;
    const layout = this.dest.layout;
    const ps = layout.pageSizeBytes;
    const block = i32[h + H_BLOCK];
    const first = i32[h + H_FIRST];
    const count = i32[h + H_COUNT];
    if (block < 0 || block >= layout.blockBytes.length) corrupt(where, `RAM block ${block} out of range (${layout.blockBytes.length} blocks)`);
    const pagesInBlock = layout.blockBytes[block] / ps;
    if (count < 1 || count > MAX_RUN_PAGES) corrupt(where, `page count ${count} out of range 1..${MAX_RUN_PAGES}`);
    if (first < 0 || first + count > pagesInBlock) corrupt(where, `pages [${first}, ${first + count}) outside block ${block} of ${pagesInBlock} pages`);
    const lo = i32[h + H_PRESENT_LO] >>> 0;
    const hi = i32[h + H_PRESENT_HI] >>> 0;
    const beyondLo = count >= 32 ? 0 : lo >>> count;
    const beyondHi = count >= 64 ? 0 : count <= 32 ? hi : hi >>> (count - 32);
    if (beyondLo !== 0 || beyondHi !== 0) corrupt(where, `present mask marks pages beyond the run of ${count}`);
    let present = 0;
    for (let k = 0; k < count; k++) if (((k < 32 ? lo >>> k : hi >>> (k - 32)) & 1) !== 0) present++;
    if (compressed === 'zstd') {
      // the frame must declare exactly what the present pages need, and decodes into no more than that
      const out = zstdDecompressExact(bytes.subarray(payload, payload + payloadBytes), present * ps);
      if (out === null) corrupt(where, `compressed payload does not decompress (zstd) to ${present * ps} bytes`);
      bytes = out;
      payload = 0;
      payloadBytes = out.length;
    } else if (compressed === 'zlib') {
      // inflate at most what the present pages need: a larger or shorter output is a corrupt frame
      let out: Buffer;
      try {
        out = inflateRawSync(bytes.subarray(payload, payload + payloadBytes), { maxOutputLength: Math.max(1, present * ps) });
      } catch (error) {
        corrupt(where, `compressed payload does not inflate to ${present * ps} bytes (${(error as Error).message})`);
      }
      if (out.length !== present * ps) corrupt(where, `compressed payload inflates to ${out.length} bytes, ${present} normal pages need ${present * ps}`);
      bytes = out;
      payload = 0;
      payloadBytes = out.length;
    }
    if (present * ps !== payloadBytes) corrupt(where, `${present} normal pages need ${present * ps} payload bytes, frame has ${payloadBytes}`);
    const view = this.dest.views[block];
    const base = first * ps;
    if (this.postcopy) {
      this.placePages(view, block, first, count, lo, hi, bytes, payload);
      return;
    }
    if (present === count) {
      // all normal: one copy for the whole run
      view.set(bytes.subarray(payload, payload + payloadBytes), base);
    } else {
      let src = payload;
      for (let k = 0; k < count; k++) {
        const off = base + k * ps;
        if (((k < 32 ? lo >>> k : hi >>> (k - 32)) & 1) !== 0) {
          view.set(bytes.subarray(src, src + ps), off);
          src += ps;
        } else {
          view.fill(0, off, off + ps);
        }
      }
    }
    this.pagesApplied += count;
    this.zeroPagesApplied += count - present;
  }

  /** Post-copy: place each page of the run that is not received yet, then mark it received; drop the others. */
  private placePages(view: Uint8Array, block: number, first: number, count: number, lo: number, hi: number, bytes: Uint8Array, payload: number): void {
    const ps = this.dest.layout.pageSizeBytes;
    const received = this.received!;
    const firstGlobal = block * this.dest.layout.pagesPerBlock + first;
    let src = payload;
    for (let k = 0; k < count; k++) {
      const normal = ((k < 32 ? lo >>> k : hi >>> (k - 32)) & 1) !== 0;
      const page = firstGlobal + k;
      if (isReceived(received, page)) {
        this.droppedPages++; // the guest may have written it already: never overwrite
      } else {
        const off = (first + k) * ps;
        if (normal) view.set(bytes.subarray(src, src + ps), off);
        else view.fill(0, off, off + ps);
        markReceived(received, page); // after the bytes: a vCPU waiting on it may touch it now
        this.pagesApplied++;
        if (!normal) this.zeroPagesApplied++;
      }
      if (normal) src += ps;
    }
  }
}

export interface DestinationWorkerData {
  ring: { buffer: SharedArrayBuffer; capacityBytes: number };
  memory: { layout: GuestMemory['layout']; blocks: readonly SharedArrayBuffer[] };
  deviceState: SharedArrayBuffer;
  control: SharedArrayBuffer;
  latencyMs: number;
  /** post-copy's received bitmap (src/memory/received-bitmap.ts), when post-copy may happen */
  received?: SharedArrayBuffer;
  /** post-copy recovery: where the received bitmap goes back to the source (as many words as `received`) */
  recoveryReply?: SharedArrayBuffer;
  /** load the zstd module before the first frame (the stream may carry PAGES_ZSTD frames) */
  zstd?: boolean;
  /** tests only: this destination dies on purpose (src/faults.ts); absent in every real run */
  fault?: FaultData;
}

/**
 * The destination worker's loop: wait for frames, honour the link latency, apply them, acknowledge
 * consumed bytes through TAIL; on END, stamp the resume time and return.
 */
export function runDestination(data: DestinationWorkerData, nowMs: () => number): void {
  const ring = new RingViews(data.ring);
  const dest = GuestMemory.attach(data.memory);
  const control = new Int32Array(data.control);
  const controlF64 = new Float64Array(data.control);
  const applier = new FrameApplier(ring, dest, new Uint8Array(data.deviceState), data.received ? new Int32Array(data.received) : null);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let tail = Atomics.load(ring.control, RING_TAIL);
  const fault = data.fault;
  const reply = data.recoveryReply && data.received ? new Int32Array(data.recoveryReply) : null;
  let running = false; // POSTCOPY_RUN applied: the guest runs here
  let paused = false;
  let recovered = false;
  /** post-copy recovery: when the link goes down (absolute ms), while it is to be watched for; else 0 */
  const downAt = (): number => (running && !recovered && reply !== null ? controlF64[D_LINK_DOWN_AT_F64] : 0);
  const pause = (): void => {
    if (paused) return;
    paused = true; // QEMU postcopy_pause_incoming: the channel broke; the faulting vCPUs stay blocked
    controlF64[D_PAUSED_AT_F64] = nowMs();
    Atomics.store(control, D_STATE, DEST_POSTCOPY_PAUSED);
    Atomics.notify(control, D_STATE);
  };
  Atomics.store(control, D_STATE, DEST_READY);
  Atomics.notify(control, D_STATE);
  try {
    for (;;) {
      const head = Atomics.load(ring.control, RING_HEAD);
      if (head === tail) {
        if (ring.closed()) return; // the source gave up (cancel): nothing more will come
        let waitMs = 200;
        const down = downAt();
        if (down > 0 && !paused) {
          const left = down - nowMs();
          if (left <= 0) {
            pause(); // idle when the link went down: it notices all the same
            continue;
          }
          waitMs = Math.min(waitMs, left);
        }
        const t = nowMs();
        Atomics.wait(ring.control, RING_HEAD, head, waitMs);
        controlF64[D_WAIT_MS_F64] += nowMs() - t;
        continue;
      }
      while (tail !== head) {
        const pos = tail & ring.mask;
        const published = (head - tail) >>> 0;
        const claimed = ring.i32[(pos >>> 2) + H_FRAME_BYTES];
        if (!(claimed > 0 && claimed <= published)) {
          throw new MigbenchError('E_STREAM_CORRUPT', `stream corrupt at ring offset ${pos}: frame of ${claimed} bytes, only ${published} published`);
        }
        const frameType = ring.i32[(pos >>> 2) + H_TYPE];
        const down = downAt();
        if (down > 0 && frameType !== FRAME_WRAP && frameType !== FRAME_POSTCOPY_RESUME && ring.f64[(pos >>> 3) + H_SENT_AT_F64] + data.latencyMs > down) {
          // in flight when the link went down: it never arrives. The destination learns so when the
          // link goes down, not before (until then it receives what arrives earlier: frames before this one)
          for (let wait = down - nowMs(); wait > 0; wait = down - nowMs()) Atomics.wait(sleeper, 0, 0, wait);
          pause();
          const lost = applier.lose(pos);
          controlF64[D_LOST_FRAMES_F64] = applier.framesLost;
          controlF64[D_LOST_PAGES_F64] = applier.pagesLost;
          tail = (tail + lost.frameBytes) | 0;
          consumerRelease(ring.control, tail, head);
          continue;
        }
        if (data.latencyMs > 0 && ring.i32[(pos >>> 2) + H_TYPE] !== FRAME_WRAP) {
          const due = ring.f64[(pos >>> 3) + H_SENT_AT_F64] + data.latencyMs;
          const t = nowMs();
          for (let wait = due - t; wait > 0; wait = due - nowMs()) Atomics.wait(sleeper, 0, 0, wait);
          controlF64[D_WAIT_MS_F64] += nowMs() - t;
        }
        if (fault !== undefined) {
          // tests only: die before applying the frame that passes `after` pages, or the device state
          const at = fault.at;
          if (at === 'stop-and-copy' ? ring.i32[(pos >>> 2) + H_TYPE] === FRAME_DEVICE_STATE : applier.pagesApplied >= at) {
            injectFault(fault, at === 'stop-and-copy' ? 'at the device state (stop-and-copy)' : `after ${applier.pagesApplied} pages applied`);
          }
        }
        const { type, frameBytes } = applier.apply(pos);
        tail = (tail + frameBytes) | 0;
        // the producer is woken at its low-water mark or when every published frame is taken (ring.ts)
        consumerRelease(ring.control, tail, head);
        if (type === FRAME_POSTCOPY_RUN) {
          controlF64[D_RESUMED_AT_F64] = nowMs(); // the guest resumes here, before its missing pages
          running = true;
          Atomics.store(control, D_STATE, DEST_POSTCOPY);
          Atomics.notify(control, D_STATE);
        }
        if (type === FRAME_POSTCOPY_RESUME) {
          if (reply === null || !running || recovered) {
            throw new MigbenchError('E_STREAM_CORRUPT', `stream corrupt at ring offset ${pos}: a post-copy resume ${reply === null ? 'without post-copy recovery' : recovered ? 'after the recovery' : 'before the guest ran here'}`);
          }
          pause(); // it comes after the outage: noticed by now at the latest
          // the received bitmap goes back to the source (QEMU migrate_send_rp_recv_bitmap)
          const words = new Int32Array(data.received!);
          for (let w = 0; w < words.length && w < reply.length; w++) reply[w] = Atomics.load(words, w);
          recovered = true;
          controlF64[D_RECOVERED_AT_F64] = nowMs();
          Atomics.store(control, D_STATE, DEST_POSTCOPY); // QEMU MIG_RP_MSG_RESUME_ACK: post-copy goes on
          Atomics.notify(control, D_STATE);
        }
        if (type === FRAME_END) {
          if (applier.postcopy) {
            controlF64[D_COMPLETED_AT_F64] = nowMs();
            controlF64[D_DROPPED_PAGES_F64] = applier.droppedPages;
          } else controlF64[D_RESUMED_AT_F64] = nowMs();
          controlF64[D_PAGES_F64] = applier.pagesApplied;
          controlF64[D_ZERO_PAGES_F64] = applier.zeroPagesApplied;
          Atomics.store(control, D_FRAMES, applier.framesApplied);
          Atomics.store(control, D_STATE, DEST_RESUMED);
          Atomics.notify(control, D_STATE);
          return;
        }
      }
      Atomics.store(control, D_FRAMES, applier.framesApplied);
    }
  } catch (error) {
    Atomics.store(control, D_STATE, DEST_FAILED);
    Atomics.notify(control, D_STATE);
    ring.close();
    throw error;
  }
}
