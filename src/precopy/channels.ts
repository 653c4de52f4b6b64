/**
 * Parallel channels (`precopy.channels` > 1, QEMU multifd), the migration thread's side.
 *
 * Design (one lane per channel):
 *   migration thread ── packet queue ──► channel worker ── own SPSC ring ──► destination worker of the lane
 * - The migration thread keeps the order of operations (loop.ts): it takes pending pages from the
 *   migration bitmap (clearing their bits) one aligned packet of 128 pages (512 KiB) at a time and
 *   publishes the packet's runs to a channel's queue. The channel copies, zero-checks, XBZRLE-encodes or
 *   compresses and sends them as frames on its own ring (channel-worker.ts); the lane's destination
 *   worker applies them to destination memory (the same FrameApplier as the single lane).
 * - All lanes book their bytes on one `SharedRateLimiter`: one token-bucket timeline in a
 *   SharedArrayBuffer, so the lanes together hold `link.bandwidth` / `precopy.maxBandwidth`. The main
 *   stream (device state, end of stream) books on the same budget.
 * - Flush at every dirty sync (QEMU's multifd_send_sync_main / recv sync): before the dirty log is synced,
 *   every queue is drained and every lane's destination has applied every frame it was sent. So within a
 *   round a page is in at most one packet, and a copy sent after a sync can never be overtaken by one sent
 *   before it on another lane. The stop-and-copy flushes after the pause, and again before the device
 *   state and the end of stream go out on the main stream: the destination resumes with every lane applied.
 * - Which lane: without XBZRLE, the lane with the fewest packets queued (QEMU picks a free channel). With
 *   XBZRLE, a packet goes to the lane that owns its 512 KiB stretch (stretch number mod channels): each
 *   channel keeps its own XBZRLE cache (cacheSize ÷ channels, a power of two) for the pages it owns, so a
 *   page's deltas are always made and applied on one lane, against the bytes that lane last sent.
 *   (QEMU refuses XBZRLE with multifd; migbench keeps both, and reports the cache as the lanes' sum.)
 * - Why raw worker_threads and not piscina (a dependency, named by DESIGN for channel pools): a channel is
 *   a long-lived, stateful lane (its ring, its sequence numbers, its XBZRLE cache, the pages it owns)
 *   that waits on shared memory with Atomics.wait; piscina dispatches stateless tasks to whichever worker
 *   is free, pauses idle workers in Atomics.wait of its own (atomics: 'sync'), and its maintainers advise
 *   plain worker_threads for polling loops (piscinajs/piscina#154). Sweeps keep piscina's model.
 */
import type { Worker } from 'node:worker_threads';
import { XbzrleRatePeriod, type XbzrleCacheStats } from '../codec/page-cache.ts';
import { MigbenchError, type ErrorCode } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { faultFor, type WorkerFault } from '../faults.ts';
import { startWorker } from '../threads.ts';
import { DestinationHandle } from '../transport/destination-handle.ts';
import { DEFAULT_STALL_LIMIT_MS, StallWatch } from '../transport/stall-watch.ts';
import type { BandwidthMeter, SharedRateLimiter } from '../transport/link.ts';
import { RING_HEAD, RING_TAIL, RingViews, createRing, type RingShared } from '../transport/ring.ts';
import {
  CHANNEL_FAILED, CHANNEL_STARTING, COUNTER_SLOTS, C_BYTES, C_CACHE_BYTES, C_CACHE_MISS, C_CACHE_OVERFLOW, C_CACHE_PAGES, C_COMPRESSED_FRAMES,
  C_COMPRESSED_IN, C_COMPRESSED_OUT, C_FRAMES, C_LINK_WAIT_MS, C_NORMAL_PAGES, C_PACKETS, C_PAGES, C_RING_WAIT_MS, C_XBZRLE_BYTES,
  C_XBZRLE_PAGES, C_XBZRLE_SKIPPED, C_ZERO_PAGES, P_FLAGS, P_GENERATION, P_PAGES, P_RUNS, QUEUE_DEPTH, Q_HEAD, Q_STATE, Q_STOP, Q_TAIL,
  SLOT_HEADER_INTS, createQueue, packetPages, slotIndex, type ChannelWorkerData,
} from './channel-queue.ts';
import type { FrameCompression, PageSender } from './page-sender.ts';
import type { ChannelsReport } from '../results/channels-report.ts';

/** The figures a single-lane run reports in the same shape (one lane: the migration thread's). */
export function singleLaneReport(sender: PageSender, destinationWaitMs: number): ChannelsReport {
  const t = sender.total;
  return {
    count: 1,
    lanes: [{
      packets: 0, pages: t.pages, zeroPages: t.zeroPages, normalPages: t.normalPages, bytes: t.bytes, frames: t.frames,
      linkWaitMs: sender.linkWaitMs, ringWaitMs: sender.ringWaitMs, destinationWaitMs,
    }],
    dispatchWaitMs: 0,
    flushes: 0,
    flushWaitMs: 0,
  };
}

/**
 * Where a lane's frames go: a destination worker in this process (DestinationHandle) or a channel
 * connection to `migbench receive` (TcpDestination, link.transport "tcp"), which also has `sync`.
 */
export interface LaneDestination {
  readonly error: MigbenchError | null;
  /** fail (see `error`) if it has left frames unread past its stall limit */
  checkStall(): void;
  /** ms it waited for frames (0 where this side cannot know) */
  readonly waitMs: number;
  /**
   * Over a network, the ring is drained once the socket has the frames: this waits until the far end
   * has applied them too (absent: a drained ring means applied).
   */
  sync?(): Promise<void>;
  stop(): Promise<void>;
}

/** How long the migration thread blocks (Atomics.wait) before it waits with the event loop free. */
const BLOCK_MS = 5;
const ASYNC_WAIT_MS = 20;

interface Lane {
  readonly queue: Int32Array;
  readonly counters: Float64Array;
  /** what the migration thread has already added to the sender's totals */
  readonly seen: Float64Array;
  readonly ring: RingViews;
  readonly worker: Worker;
  readonly destination: LaneDestination;
  /** resolves when the channel's worker has exited (its last message, if any, has arrived by then) */
  readonly exited: Promise<void>;
  /** notices a channel that stopped taking packets from its queue (hung: it will never say so itself) */
  readonly queueWatch: StallWatch;
  /** packets published (Q_HEAD) */
  head: number;
}

export interface ChannelLanesOptions {
  count: number;
  source: GuestMemory;
  /** the in-process destination's memory (the lanes' destination workers apply to it), unless `destinations` is given */
  dest?: GuestMemory;
  /** each lane's destination, started on its ring (default: a destination worker applying to `dest`) */
  destinations?: (ring: RingShared, channel: number) => Promise<LaneDestination>;
  ringBytes: number;
  latencyMs: number;
  link: SharedRateLimiter;
  compression: FrameCompression | null;
  /** each channel's XBZRLE cache in bytes, or null without XBZRLE */
  xbzrleCacheBytes: number | null;
  /** tests only: a channel dies on purpose (src/faults.ts; a fault of another worker is ignored here) */
  fault?: WorkerFault;
  /** how long a lane's destination may leave frames unread before it counts as hung (DestinationHandle) */
  stallLimitMs?: number;
}

export class ChannelLanes {
  readonly count: number;
  readonly pagesPerPacket: number;
  /** Aggregate of the channels' XBZRLE caches (QEMU's xbzrle-cache block), or null without XBZRLE. */
  readonly xbzrle: { updateRates(transferredPages: number): void; stats(): XbzrleCacheStats } | null;
  dispatchWaitMs = 0;
  flushes = 0;
  flushWaitMs = 0;
  private readonly lanes: Lane[];
  private destinationWaitAtStartMs: number[] = [];
  private readonly link: SharedRateLimiter;
  private readonly pageSizeBytes: number;
  private readonly ownership: boolean;
  private failure: MigbenchError | null = null;
  private failureIsGeneric = false;
  private stopping = false;
  private nextLane = 0;
  // the packet being built
  private readonly runs: Int32Array;
  /** poll's scratch: what all lanes sent since the last poll, per counter */
  private readonly delta = new Float64Array(COUNTER_SLOTS);
  private runCount = 0;
  private pages = 0;

  private constructor(options: ChannelLanesOptions, lanes: Lane[]) {
    this.count = options.count;
    this.pageSizeBytes = options.source.layout.pageSizeBytes;
    this.pagesPerPacket = packetPages(this.pageSizeBytes);
    this.runs = new Int32Array(2 * this.pagesPerPacket);
    this.lanes = lanes;
    this.link = options.link;
    this.ownership = options.xbzrleCacheBytes !== null;
    if (options.xbzrleCacheBytes === null) {
      this.xbzrle = null;
    } else {
      const cacheBytes = options.xbzrleCacheBytes * options.count;
      const period = new XbzrleRatePeriod();
      const sum = (i: number): number => lanes.reduce((n, l) => n + l.counters[i], 0);
      this.xbzrle = {
        updateRates: (transferredPages) => period.update(transferredPages, sum(C_CACHE_MISS), sum(C_CACHE_PAGES), sum(C_CACHE_BYTES), this.pageSizeBytes),
        stats: () => ({
          'cache-size': cacheBytes,
          bytes: sum(C_CACHE_BYTES),
          pages: sum(C_CACHE_PAGES),
          'cache-miss': sum(C_CACHE_MISS),
          'cache-miss-rate': period.missRate,
          'encoding-rate': period.encodingRate,
          overflow: sum(C_CACHE_OVERFLOW),
        }),
      };
    }
    lanes.forEach((lane, i) => {
      lane.worker.on('message', (m: { type: string; code?: string; message?: string }) => {
        if (m.type === 'error') this.fail(new MigbenchError((m.code as ErrorCode) ?? 'E_WORKER', `channel ${i}: ${m.message}`));
      });
      lane.worker.on('error', (e) => this.fail(new MigbenchError('E_WORKER', `channel ${i} worker crashed: ${e.message}`, { cause: e })));
      lane.worker.on('exit', (code) => {
        if (code !== 0 && !this.stopping) this.fail(new MigbenchError('E_WORKER', `channel ${i} worker exited with code ${code}`));
      });
    });
  }

  /** Start every channel worker and its destination worker; resolves once all are ready. */
  static async start(options: ChannelLanesOptions): Promise<ChannelLanes> {
    const perPacket = packetPages(options.source.layout.pageSizeBytes);
    const deviceState = new SharedArrayBuffer(0); // lanes carry pages only
    const rings = Array.from({ length: options.count }, () => createRing(options.ringBytes));
    // the lanes' destination workers start side by side (each boots tsx: tens of ms of CPU)
    const { dest, destinations } = options;
    if (destinations === undefined && dest === undefined) throw new RangeError('ChannelLanes.start: needs dest or destinations');
    const started = await Promise.allSettled(rings.map((ring, i): Promise<LaneDestination> =>
      destinations
        ? destinations(ring, i)
        : DestinationHandle.start({ ring, memory: dest!, deviceState, latencyMs: options.latencyMs, zstd: options.compression?.codec === 'zstd', stallLimitMs: options.stallLimitMs }),
    ));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
      throw (failed as PromiseRejectedResult).reason;
    }
    const stallBaseMs = (options.stallLimitMs ?? DEFAULT_STALL_LIMIT_MS) + options.latencyMs;
    const lanes: Lane[] = await Promise.all(rings.map(async (ring, i): Promise<Lane> => {
      const queue = createQueue(perPacket);
      const counters = new SharedArrayBuffer(8 * COUNTER_SLOTS);
      const data: ChannelWorkerData = {
        channel: i,
        channels: options.count,
        queue,
        counters,
        ring,
        memory: options.source.shared(),
        link: options.link.shared,
        compression: options.compression,
        xbzrleCacheBytes: options.xbzrleCacheBytes,
      };
      const fault = faultFor(options.fault, 'channel', i);
      if (fault) data.fault = fault;
      const worker = await startWorker('channel', data);
      return {
        queue: new Int32Array(queue),
        counters: new Float64Array(counters),
        seen: new Float64Array(COUNTER_SLOTS),
        ring: new RingViews(ring),
        worker,
        destination: (started[i] as PromiseFulfilledResult<LaneDestination>).value,
        exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())),
        queueWatch: new StallWatch(stallBaseMs),
        head: 0,
      };
    }));
    const channels = new ChannelLanes(options, lanes);
    try {
      for (const lane of lanes) {
        await channels.waitFor(() => Atomics.load(lane.queue, Q_STATE) !== CHANNEL_STARTING, lane.queue, Q_STATE, 30_000);
      }
    } catch (error) {
      await channels.stop();
      throw error;
    }
    return channels;
  }

  private fail(error: MigbenchError, generic = false): void {
    if (this.failure === null || (this.failureIsGeneric && !generic)) {
      this.failure = error;
      this.failureIsGeneric = generic;
    }
  }

  /** The first failure of a channel or of a lane's destination, or null. */
  get error(): MigbenchError | null {
    if (this.failure === null || this.failureIsGeneric) {
      // A channel may wait its turn on the shared link for every packet queued on every lane: its limit
      // grows by the time the link needs for them, so a slow link is never taken for a hung channel.
      const queuedBytes = (QUEUE_DEPTH + 1) * this.count * this.pagesPerPacket * this.pageSizeBytes;
      const rate = this.link.rateBytesPerSec;
      const linkMs = Number.isFinite(rate) && rate > 0 ? (queuedBytes * 1000) / rate : 0;
      for (const [i, lane] of this.lanes.entries()) {
        if (this.failure === null && lane.queueWatch.stalled(lane.head, Atomics.load(lane.queue, Q_TAIL), lane.queueWatch.limitMs + linkMs)) {
          this.fail(new MigbenchError('E_WORKER', `channel ${i}: took no packet for ${Math.round(lane.queueWatch.stalledForMs() / 1000)} s with packets queued (the worker is hung)`));
        }
        lane.destination.checkStall(); // a lane's destination that hangs fails here (the channel waiting on it cannot tell)
        const e = lane.destination.error;
        if (e) this.fail(new MigbenchError(e.code, `channel ${i} ${e.message}`, { cause: e }));
        else if (Atomics.load(lane.queue, Q_STATE) === CHANNEL_FAILED) this.fail(new MigbenchError('E_WORKER', `channel ${i} failed`), true);
      }
    }
    return this.failure;
  }

  /**
   * The first failure, once the failed channel's own message has arrived (a channel marks itself failed
   * in shared memory before its message crosses the event loop): waits at most `maxMs` for its exit.
   */
  async settledError(maxMs = 2000): Promise<MigbenchError | null> {
    if (this.error === null || !this.failureIsGeneric) return this.failure;
    const failed = this.lanes.filter((l) => Atomics.load(l.queue, Q_STATE) === CHANNEL_FAILED).map((l) => l.exited);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(failed), new Promise((r) => (timer = setTimeout(r, maxMs)))]);
    clearTimeout(timer);
    return this.failure;
  }

  /**
   * Wait until `done()`, woken by a notify on `words[index]`: blocking (a futex) for the first few ms, then
   * with the event loop free (so worker messages arrive). Throws the first failure of any lane.
   */
  private async waitFor(done: () => boolean, words: Int32Array, index: number, timeoutMs = Infinity): Promise<void> {
    const started = performance.now();
    for (;;) {
      if (done()) return;
      const failure = this.error;
      if (failure) throw failure;
      const value = Atomics.load(words, index);
      if (done()) return;
      const elapsed = performance.now() - started;
      if (elapsed > timeoutMs) throw new MigbenchError('E_WORKER', `a channel did not answer within ${timeoutMs} ms`);
      if (elapsed < BLOCK_MS) {
        Atomics.wait(words, index, value, BLOCK_MS - elapsed);
      } else {
        const r = Atomics.waitAsync(words, index, value, ASYNC_WAIT_MS);
        if (r.async) await r.value;
      }
    }
  }

  /** Start a new packet. */
  beginPacket(): void {
    this.runCount = 0;
    this.pages = 0;
  }

  /** Add `count` consecutive pages from global page `first` (all in the packet's aligned stretch). */
  addRun(first: number, count: number): void {
    this.runs[2 * this.runCount] = first;
    this.runs[2 * this.runCount + 1] = count;
    this.runCount++;
    this.pages += count;
  }

  /** Pages in the packet being built. */
  get packetPageCount(): number {
    return this.pages;
  }

  /**
   * Publish the packet to a channel: the owner of stretch `stretch` with XBZRLE, else the least busy.
   * Returns undefined when it went at once, a promise when it waited for queue space.
   */
  dispatch(stretch: number, generation: number, flags: number): Promise<void> | undefined {
    let lane: Lane;
    if (this.ownership) {
      lane = this.lanes[stretch % this.count];
    } else {
      lane = this.lanes[this.nextLane];
      let best = lane.head - Atomics.load(lane.queue, Q_TAIL);
      for (let k = 1; k < this.count && best > 0; k++) {
        const other = this.lanes[(this.nextLane + k) % this.count];
        const queued = other.head - Atomics.load(other.queue, Q_TAIL);
        if (queued < best) {
          best = queued;
          lane = other;
        }
      }
      this.nextLane = (this.nextLane + 1) % this.count;
    }
    if (lane.head - Atomics.load(lane.queue, Q_TAIL) < QUEUE_DEPTH) {
      this.publish(lane, generation, flags);
      return undefined;
    }
    const started = performance.now();
    return this.waitFor(() => lane.head - Atomics.load(lane.queue, Q_TAIL) < QUEUE_DEPTH, lane.queue, Q_TAIL).then(() => {
      this.dispatchWaitMs += performance.now() - started;
      this.publish(lane, generation, flags);
    });
  }

  private publish(lane: Lane, generation: number, flags: number): void {
    if (this.failure) throw this.failure;
    const slot = slotIndex(lane.head, this.pagesPerPacket);
    const q = lane.queue;
    q[slot + P_GENERATION] = generation;
    q[slot + P_FLAGS] = flags;
    q[slot + P_RUNS] = this.runCount;
    q[slot + P_PAGES] = this.pages;
    q.set(this.runs.subarray(0, 2 * this.runCount), slot + SLOT_HEADER_INTS);
    lane.head = (lane.head + 1) | 0;
    Atomics.store(q, Q_HEAD, lane.head);
    Atomics.notify(q, Q_HEAD);
  }

  /**
   * Add what the channels sent since the last poll to the migration thread's counters and link meter
   * (the loop's rounds, totals, series and bandwidth read them there).
   */
  poll(sender: PageSender, meter: BandwidthMeter): void {
    const d = this.delta;
    d.fill(0);
    for (const lane of this.lanes) {
      Atomics.load(lane.queue, Q_TAIL); // the counters of finished packets are visible after this
      const c = lane.counters;
      const s = lane.seen;
      for (let i = 0; i < COUNTER_SLOTS; i++) {
        // one read: the channel may write the counter between two reads, and the step between them
        // would be lost (seen as a 28 KiB shortfall of ram.transferred against the lanes' bytes in CI)
        const now = c[i];
        d[i] += now - s[i];
        s[i] = now;
      }
    }
    // No early return on "nothing new": a read may catch a channel between its counter writes (bytes
    // and pages not yet written, the others already), and `seen` has moved on for every counter.
    for (const t of [sender.total, sender.round]) {
      t.bytes += d[C_BYTES];
      t.pages += d[C_PAGES];
      t.zeroPages += d[C_ZERO_PAGES];
      t.normalPages += d[C_NORMAL_PAGES];
      t.frames += d[C_FRAMES];
    }
    sender.xbzrlePages += d[C_XBZRLE_PAGES];
    sender.xbzrleBytes += d[C_XBZRLE_BYTES];
    sender.xbzrleSkipped += d[C_XBZRLE_SKIPPED];
    sender.compressedFrames += d[C_COMPRESSED_FRAMES];
    sender.compressedInputBytes += d[C_COMPRESSED_IN];
    sender.compressedOutputBytes += d[C_COMPRESSED_OUT];
    if (d[C_BYTES] > 0) meter.add(d[C_BYTES]);
  }

  /**
   * The multifd flush: wait until every channel has finished every packet published so far and every
   * lane's destination has applied every frame of them; then poll.
   */
  async flush(sender: PageSender, meter: BandwidthMeter): Promise<void> {
    const started = performance.now();
    for (const lane of this.lanes) {
      await this.waitFor(() => Atomics.load(lane.queue, Q_TAIL) === lane.head, lane.queue, Q_TAIL);
      const ctl = lane.ring.control;
      await this.waitFor(() => Atomics.load(ctl, RING_TAIL) === Atomics.load(ctl, RING_HEAD), ctl, RING_TAIL);
    }
    // over a network a drained ring means sent, not applied: every channel's receiver acknowledges its
    // frames up to this sync point before the dirty log is synced (QEMU's multifd sync packets)
    const syncs = this.lanes.map((lane) => lane.destination.sync?.());
    if (syncs.some((s) => s !== undefined)) await this.settle(syncs);
    this.poll(sender, meter);
    this.flushes++;
    this.flushWaitMs += performance.now() - started;
  }

  /** Wait for every lane's sync; the first failure of a lane (its channel's message) is the one thrown. */
  private async settle(syncs: (Promise<void> | undefined)[]): Promise<void> {
    const results = await Promise.allSettled(syncs);
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed < 0) return;
    const reason = (results[failed] as PromiseRejectedResult).reason as unknown;
    const e = reason instanceof MigbenchError ? reason : new MigbenchError('E_IO', String(reason));
    this.fail(new MigbenchError(e.code, `channel ${failed} ${e.message}`, { cause: e }));
    throw this.failure!;
  }

  /** The longest any one channel waited for the link budget, and for its ring. */
  get maxLinkWaitMs(): number {
    return Math.max(0, ...this.lanes.map((l) => l.counters[C_LINK_WAIT_MS]));
  }
  get maxRingWaitMs(): number {
    return Math.max(0, ...this.lanes.map((l) => l.counters[C_RING_WAIT_MS]));
  }

  /** Each lane destination's wait so far: `report` counts only what comes after (the migration's clock starts now). */
  markClockStart(): void {
    this.destinationWaitAtStartMs = this.lanes.map((l) => l.destination.waitMs);
  }

  report(): ChannelsReport {
    return {
      count: this.count,
      lanes: this.lanes.map((l, i) => ({
        packets: l.counters[C_PACKETS],
        pages: l.counters[C_PAGES],
        zeroPages: l.counters[C_ZERO_PAGES],
        normalPages: l.counters[C_NORMAL_PAGES],
        bytes: l.counters[C_BYTES],
        frames: l.counters[C_FRAMES],
        linkWaitMs: l.counters[C_LINK_WAIT_MS],
        ringWaitMs: l.counters[C_RING_WAIT_MS],
        destinationWaitMs: l.destination.waitMs - (this.destinationWaitAtStartMs[i] ?? 0),
      })),
      dispatchWaitMs: this.dispatchWaitMs,
      flushes: this.flushes,
      flushWaitMs: this.flushWaitMs,
    };
  }

  /** Stop every channel and lane destination (after a flush nothing is in flight; after a failure or a cancel, whatever is, is dropped). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const lane of this.lanes) {
      Atomics.store(lane.queue, Q_STOP, 1);
      Atomics.notify(lane.queue, Q_HEAD);
      lane.ring.close();
    }
    await Promise.all(this.lanes.map(async (lane) => {
      await lane.worker.terminate();
      await lane.destination.stop();
    }));
  }
}
