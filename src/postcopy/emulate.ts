/**
 * Emulate mode's post-copy (the loop's PostcopyPort, precopy/postcopy-port.ts): real threads, real bytes.
 *
 * At the switch (QEMU postcopy_start), with the vCPUs paused and the final dirty sync done:
 *   1. the bitmap of pages still pending goes to the destination (QEMU's discard list,
 *      postcopy_each_ram_send_discard): the destination marks every other page received;
 *   2. the device state, then the RUN command (QEMU MIG_CMD_POSTCOPY_RUN): the destination runs the guest;
 *   3. the main thread sets PC_ON_DESTINATION and resumes the vCPUs: they now run against the
 *      destination's memory. The downtime ends here.
 * Then, until every pending page has been sent (QEMU ram_find_and_save_block in postcopy):
 *   - requests first: each page a vCPU asked for on the request ring (QEMU ram_save_queue_pages and
 *     get_queued_page) is sent at once if it is still pending, and the background search jumps to just
 *     after it ("the guest is likely to want other pages near the one it just requested");
 *   - else one background run from the cursor. Without `preempt` a run is up to 64 pages (256 KiB) and
 *     a request waits behind the run on the link; with `preempt` (QEMU's postcopy-preempt channel, whose
 *     point is that urgent pages do not queue behind the background stream) the background goes a page
 *     at a time, so a request waits for at most one page.
 *   A request is served no sooner than `link.latencyMs` after it was made (its trip back to the source;
 *   the page's own trip is the destination's latency on every frame).
 * The source's memory is never written after the switch: the vCPUs write the destination.
 */
import type { Clock } from '../clock.ts';
import { MigbenchError } from '../errors.ts';
import { clearRange, countSetBits, nextSetBit, runLength } from '../memory/bitmap.ts';
import type { PageSender } from '../precopy/page-sender.ts';
import type { BitmapPages } from '../precopy/emulate.ts';
import type { DestinationHandle } from '../transport/destination-handle.ts';
import { DEVICE_CHUNK_BYTES, FRAME_POSTCOPY_MISSING, FRAME_POSTCOPY_RUN, maxRunPages } from '../transport/frame.ts';
import type { LinkBudget } from '../transport/link.ts';
import type { VcpuPool } from '../workload/vcpu-pool.ts';
import type { PostcopyPort } from '../precopy/postcopy-port.ts';
import { RequestRing } from '../memory/request-ring.ts';
import { PC_ON_DESTINATION, type PostcopyShared } from '../memory/postcopy-shared.ts';

export interface EmulatePostcopyInput {
  readonly startAfterRounds: number;
  readonly preempt: boolean;
  /** bytes/s of the post-copy phase (QEMU max-postcopy-bandwidth, at most the link's rate); Infinity = none */
  readonly rateBytesPerSec: number;
  readonly latencyMs: number;
  readonly pages: BitmapPages;
  readonly pageSizeBytes: number;
  readonly pagesPerBlock: number;
  readonly sender: PageSender;
  readonly limiter: LinkBudget;
  readonly destination: DestinationHandle;
  readonly vcpus: VcpuPool;
  readonly shared: PostcopyShared;
  readonly deviceState: Uint8Array;
  readonly clock: Clock;
}

/** What the phase did, for the result (times absolute on the loop's clock). */
export interface PostcopyFacts {
  missingPages: number;
  requests: number;
  urgentPages: number;
  backgroundPages: number;
  bytesAtSwitch: number;
  bytesAtResume: number;
  bytesAtEnd: number;
  writesAtSwitch: number;
  writesAtEnd: number;
  resumedAtMs: number;
  completedAtMs: number;
}

const YIELD_EVERY_MS = 50;

export class EmulatePostcopy implements PostcopyPort {
  readonly startAfterRounds: number;
  readonly facts: PostcopyFacts = {
    missingPages: 0, requests: 0, urgentPages: 0, backgroundPages: 0, bytesAtSwitch: 0, bytesAtResume: 0, bytesAtEnd: 0,
    writesAtSwitch: 0, writesAtEnd: 0, resumedAtMs: 0, completedAtMs: 0,
  };
  private readonly ring: RequestRing;

  constructor(private readonly input: EmulatePostcopyInput) {
    this.startAfterRounds = input.startAfterRounds;
    this.ring = new RequestRing(input.shared.requests);
  }

  private check(): void {
    const e = this.input.destination.error ?? this.input.vcpus.error;
    if (e) throw e;
  }

  async switchover(): Promise<number> {
    const { sender, pages, destination, vcpus, shared } = this.input;
    const f = this.facts;
    f.bytesAtSwitch = sender.total.bytes;
    f.writesAtSwitch = vcpus.totalWrites(); // paused: exact
    f.missingPages = countSetBits(pages.bitmap);
    // 1. the missing pages: the migration bitmap's words, in chunks
    const words = new Int32Array(pages.bitmap.buffer, pages.bitmap.byteOffset, pages.bitmap.length);
    const perChunk = DEVICE_CHUNK_BYTES / 4;
    for (let w = 0; w < words.length; w += perChunk) {
      const chunk = words.subarray(w, Math.min(words.length, w + perChunk));
      await sender.sendControl(FRAME_POSTCOPY_MISSING, w, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    // 2. the device state and the run command
    await sender.sendDeviceState(this.input.deviceState);
    await sender.sendControl(FRAME_POSTCOPY_RUN, 0, new Uint8Array(0));
    await destination.awaitPostcopyRunning();
    this.check();
    // 3. the vCPUs resume against the destination's memory
    Atomics.store(new Int32Array(shared.control), PC_ON_DESTINATION, 1);
    await vcpus.resume();
    this.check();
    this.input.limiter.setRate(this.input.rateBytesPerSec);
    f.bytesAtResume = sender.total.bytes;
    f.resumedAtMs = this.input.clock.nowMs();
    return f.resumedAtMs;
  }

  async complete(): Promise<number> {
    const { sender, pages, clock, destination } = this.input;
    const f = this.facts;
    const bitmap = pages.bitmap;
    const total = pages.totalPages;
    const ps = this.input.pageSizeBytes;
    const perBlock = this.input.pagesPerBlock;
    const backgroundRun = this.input.preempt ? 1 : maxRunPages(ps);
    const latency = this.input.latencyMs;
    const request = { page: 0, atMs: 0 };
    const waiting: { page: number; dueMs: number }[] = []; // requests on their way back to the source
    let remaining = countSetBits(bitmap);
    let cursor = 0;
    let yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
    const isPending = (p: number): boolean => (bitmap[p >>> 5] & (1 << (p & 31))) !== 0;
    while (remaining > 0) {
      this.check();
      while (this.ring.tryTake(request)) {
        f.requests++;
        if (request.page >= total) throw new MigbenchError('E_STREAM_CORRUPT', `post-copy: a request for page ${request.page}, the guest has ${total}`);
        waiting.push({ page: request.page, dueMs: request.atMs + latency });
      }
      // requests first (urgent), those that have reached the source
      const now = clock.nowMs();
      for (let i = 0; i < waiting.length && remaining > 0; ) {
        const r = waiting[i];
        if (r.dueMs > now) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        if (!isPending(r.page)) continue; // sent already (on its way, or placed): it arrives anyway
        clearRange(bitmap, r.page, 1);
        remaining--;
        f.urgentPages++;
        const sending = sender.sendRun(r.page, 1);
        if (sending) await sending;
        cursor = r.page + 1 >= total ? 0 : r.page + 1; // the background goes on near the faulted address
      }
      if (remaining === 0) break;
      // one background run from the cursor
      let page = nextSetBit(bitmap, cursor, total);
      if (page < 0) page = nextSetBit(bitmap, 0, total);
      const blockEnd = Math.min(total, (Math.floor(page / perBlock) + 1) * perBlock);
      const len = runLength(bitmap, page, backgroundRun, blockEnd);
      clearRange(bitmap, page, len);
      remaining -= len;
      f.backgroundPages += len;
      const sending = sender.sendRun(page, len);
      if (sending) await sending;
      cursor = page + len >= total ? 0 : page + len;
      if (clock.nowMs() >= yieldAtMs) {
        await new Promise<void>((resolve) => setImmediate(resolve)); // timers, worker messages, Ctrl-C
        yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
      }
    }
    await sender.sendEnd();
    await destination.awaitResume();
    this.check();
    // requests still on the ring were for pages already sent: count them (QEMU counts every request)
    while (this.ring.tryTake(request)) f.requests++;
    f.bytesAtEnd = sender.total.bytes;
    f.writesAtEnd = this.input.vcpus.totalWrites();
    f.completedAtMs = destination.completedAtMs;
    return f.completedAtMs;
  }
}
