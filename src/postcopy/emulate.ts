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
 *
 * Recovery (`postcopy.recovery`, QEMU's postcopy-paused / migrate-recover): when the link refuses a send
 * (LinkDown, link-fault.ts) or the destination lost the end of the stream in flight, the source pauses
 * (QEMU postcopy_pause: status postcopy-paused). It takes no request meanwhile: the vCPUs that touch a
 * missing page stay blocked, their requests wait on the ring. When the link is back (linkDownForMs),
 * status postcopy-recover: the source sends POSTCOPY_RESUME, the destination answers with its received
 * bitmap (QEMU MIG_CMD_RECV_BITMAP → migrate_send_rp_recv_bitmap), and the source reloads its pending
 * pages from it: every page the destination does not hold is pending again (QEMU ram_dirty_bitmap_reload),
 * so the pages lost in flight are sent again. The pages the guest had asked for and lost are asked for
 * again (QEMU's destination re-sends its pending requests: migrate_send_rp_req_pages_pending). Then
 * postcopy-active again, and the push goes on. A link that never comes back (linkDownForMs 0) loses the
 * guest (run.ts: `failed`, guestLost).
 */
import type { PostcopyPhaseFacts } from './figures.ts';
import type { Clock } from '../clock.ts';
import { MigbenchError } from '../errors.ts';
import { clearRange, countSetBits, nextSetBit, popcount32, runLength, wordsFor } from '../memory/bitmap.ts';
import type { PageSender } from '../precopy/page-sender.ts';
import type { BitmapPages } from '../precopy/emulate.ts';
import type { DestinationHandle } from '../transport/destination-handle.ts';
import { DEVICE_CHUNK_BYTES, FRAME_POSTCOPY_MISSING, FRAME_POSTCOPY_RESUME, FRAME_POSTCOPY_RUN, maxRunPages } from '../transport/frame.ts';
import { LinkDown } from '../transport/link-fault.ts';
import type { PostcopyStatus } from '../results/postcopy-result.ts';
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
  /**
   * postcopy.recovery with a link fault: when the link goes down and comes back (absolute ms on `clock`;
   * up at Infinity: never) and when the migration started (for the message); null: no recovery
   */
  readonly recovery?: { readonly linkDownAtMs: number; readonly linkUpAtMs: number; readonly startedAtMs: number } | null;
  /** each change of QEMU's migration status during post-copy, as it happens (absolute ms on `clock`) */
  readonly onStatus?: (status: PostcopyStatus, atMs: number) => void;
}

/** The source's side of a link outage it recovered from (absolute ms on the loop's clock). */
export interface OutageFacts {
  linkDownAtMs: number;
  sourcePausedAtMs: number;
  linkUpAtMs: number;
  /** the received bitmap was back at the source: post-copy active again */
  recoveredAtMs: number;
  resentPages: number;
  rerequestedPages: number;
  bitmapBytes: number;
}

/** What the phase did, for the result (times absolute on the loop's clock). */
export interface PostcopyFacts extends PostcopyPhaseFacts {
  /** QEMU's migration status through post-copy, in order (absolute ms) */
  statuses: { status: PostcopyStatus; atMs: number }[];
  /** the link outage recovered from, or null */
  outage: OutageFacts | null;
}

const YIELD_EVERY_MS = 50;

export class EmulatePostcopy implements PostcopyPort {
  readonly startAfterRounds: number;
  readonly facts: PostcopyFacts = {
    missingPages: 0, requests: 0, urgentPages: 0, backgroundPages: 0, bytesAtSwitch: 0, bytesAtResume: 0, bytesAtEnd: 0,
    writesAtSwitch: 0, writesAtEnd: 0, resumedAtMs: 0, completedAtMs: 0, statuses: [], outage: null,
  };
  private readonly ring: RequestRing;
  /** requests on their way back to the source: served once due */
  private readonly waiting: { page: number; dueMs: number }[] = [];
  /** where the background push goes on */
  private cursor = 0;
  /** recovery only: every page the guest asked for (to ask again for the lost ones at the resume) */
  private readonly requested: Uint32Array | null;
  /** requests made before this (absolute ms) were made again by the destination at the resume: due from then */
  private returnPathUpAtMs = -Infinity;

  constructor(private readonly input: EmulatePostcopyInput) {
    this.startAfterRounds = input.startAfterRounds;
    this.ring = new RequestRing(input.shared.requests);
    this.requested = input.recovery ? new Uint32Array(wordsFor(input.pages.totalPages)) : null;
  }

  private status(status: PostcopyStatus, atMs: number): void {
    this.facts.statuses.push({ status, atMs });
    this.input.onStatus?.(status, atMs);
  }

  private check(): void {
    const e = this.input.destination.error ?? this.input.vcpus.error;
    if (e) throw e;
  }

  async switchover(): Promise<number> {
    const { sender, pages, destination, vcpus, shared } = this.input;
    const f = this.facts;
    this.status('postcopy-active', this.input.clock.nowMs()); // QEMU postcopy_start: active from the switch on
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
    const { sender, destination } = this.input;
    const f = this.facts;
    for (;;) {
      try {
        await this.push();
        await sender.sendEnd();
        if (!this.input.recovery) {
          await destination.awaitResume();
          break;
        }
        if ((await destination.awaitEndOrPause()) === 'resumed') break;
        // the end was in flight when the link went down: the destination lost it and paused
        throw new LinkDown(this.input.recovery.linkDownAtMs - this.input.recovery.startedAtMs);
      } catch (error) {
        // one outage per run: a second failure, or one without recovery, ends the run (run.ts)
        if (!(error instanceof LinkDown) || !this.input.recovery || f.outage !== null) throw error;
        await this.recover(error);
      }
    }
    this.check();
    // requests still on the ring were for pages already sent: count them (QEMU counts every request)
    const request = { page: 0, atMs: 0 };
    while (this.ring.tryTake(request)) f.requests++;
    f.bytesAtEnd = sender.total.bytes;
    f.writesAtEnd = this.input.vcpus.totalWrites();
    f.completedAtMs = destination.completedAtMs;
    this.status('completed', f.completedAtMs);
    return f.completedAtMs;
  }

  /** Send every pending page: the guest's requests first, the background push between them. */
  private async push(): Promise<void> {
    const { sender, pages, clock } = this.input;
    const f = this.facts;
    const bitmap = pages.bitmap;
    const total = pages.totalPages;
    const perBlock = this.input.pagesPerBlock;
    const backgroundRun = this.input.preempt ? 1 : maxRunPages(this.input.pageSizeBytes);
    const latency = this.input.latencyMs;
    const request = { page: 0, atMs: 0 };
    const waiting = this.waiting;
    const requested = this.requested;
    let remaining = countSetBits(bitmap);
    let yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
    const isPending = (p: number): boolean => (bitmap[p >>> 5] & (1 << (p & 31))) !== 0;
    while (remaining > 0) {
      this.check();
      while (this.ring.tryTake(request)) {
        f.requests++;
        if (request.page >= total) throw new MigbenchError('E_STREAM_CORRUPT', `post-copy: a request for page ${request.page}, the guest has ${total}`);
        if (requested) requested[request.page >>> 5] |= 1 << (request.page & 31);
        waiting.push({ page: request.page, dueMs: Math.max(request.atMs, this.returnPathUpAtMs) + latency });
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
        this.cursor = r.page + 1 >= total ? 0 : r.page + 1; // the background goes on near the faulted address
      }
      if (remaining === 0) break;
      // one background run from the cursor
      let page = nextSetBit(bitmap, this.cursor, total);
      if (page < 0) page = nextSetBit(bitmap, 0, total);
      const blockEnd = Math.min(total, (Math.floor(page / perBlock) + 1) * perBlock);
      const len = runLength(bitmap, page, backgroundRun, blockEnd);
      clearRange(bitmap, page, len);
      remaining -= len;
      f.backgroundPages += len;
      const sending = sender.sendRun(page, len);
      if (sending) await sending;
      this.cursor = page + len >= total ? 0 : page + len;
      if (clock.nowMs() >= yieldAtMs) {
        await new Promise<void>((resolve) => setImmediate(resolve)); // timers, worker messages, Ctrl-C
        yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
      }
    }
  }

  /**
   * The link is down (QEMU postcopy_pause): wait it out, then resume from the destination's received
   * bitmap. Throws `down` again when the link never comes back (the guest is lost).
   */
  private async recover(down: LinkDown): Promise<void> {
    const { sender, destination, clock, pages, shared } = this.input;
    const r = this.input.recovery!;
    const pausedAtMs = clock.nowMs();
    this.status('postcopy-paused', pausedAtMs);
    if (!Number.isFinite(r.linkUpAtMs)) throw down;
    if (r.linkUpAtMs > pausedAtMs) await clock.sleepMs(r.linkUpAtMs - pausedAtMs);
    this.check();
    this.status('postcopy-recover', clock.nowMs());
    await sender.sendControl(FRAME_POSTCOPY_RESUME, 0, new Uint8Array(0));
    const answeredAtMs = await destination.awaitRecovered();
    this.check();
    // the bitmap's trip back to the source
    const back = answeredAtMs + this.input.latencyMs - clock.nowMs();
    if (back > 0) await clock.sleepMs(back);
    // QEMU ram_dirty_bitmap_reload: pending = not received at the destination (the bits past the last page stay clear)
    const bitmap = pages.bitmap;
    const total = pages.totalPages;
    const reply = new Int32Array(shared.recoveryReply);
    const requested = this.requested!;
    let resent = 0;
    let rerequested = 0;
    const nowMs = clock.nowMs();
    for (let w = 0; w < bitmap.length; w++) {
      const last = total - w * 32;
      const valid = last >= 32 ? 0xffffffff : (2 ** last - 1);
      const pending = (~reply[w] & valid) >>> 0;
      const again = (pending & ~bitmap[w]) >>> 0; // sent before the outage, never arrived
      resent += popcount32(again);
      // pages the guest asked for and lost: asked for again (due now: the destination re-sent them at the resume)
      let ask = (again & requested[w]) >>> 0;
      while (ask !== 0) {
        const bit = 31 - Math.clz32(ask & -ask);
        this.waiting.push({ page: w * 32 + bit, dueMs: nowMs });
        rerequested++;
        ask = (ask & (ask - 1)) >>> 0;
      }
      bitmap[w] = pending;
    }
    this.returnPathUpAtMs = answeredAtMs;
    this.facts.outage = {
      linkDownAtMs: r.linkDownAtMs,
      sourcePausedAtMs: pausedAtMs,
      linkUpAtMs: r.linkUpAtMs,
      recoveredAtMs: nowMs,
      resentPages: resent,
      rerequestedPages: rerequested,
      bitmapBytes: reply.byteLength,
    };
    this.status('postcopy-active', nowMs);
  }
}
