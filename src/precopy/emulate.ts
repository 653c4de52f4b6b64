/**
 * Emulate mode's ports for the pre-copy loop (loop.ts): the migration bitmap fed by the vCPUs' shared
 * dirty log, the page sender or the channel lanes, the vCPU pool, the real clock and link. `runPrecopy`
 * plugs them in and awaits the loop.
 *
 * Who owns which memory:
 * - the dirty log (`dirtyLog`, a SharedArrayBuffer) is written by the vCPU workers (`Atomics.or` after
 *   the page write) and taken by this thread only through `syncAndClear` (`Atomics.exchange` per word);
 * - the migration bitmap is this thread's own (plain Uint32Array): bits are cleared here when pages
 *   are taken, before the sender or a channel reads those pages (DESIGN §4);
 * - the vCPUs' control words (throttle, dirty limit, pause) are written through `VcpuSteering`.
 */
import type { Clock } from '../clock.ts';
import { clearRange, countSetBits, nextSetBit, runLength, setAll, wordsFor } from '../memory/bitmap.ts';
import { clearLog, syncAndClear } from '../memory/dirty-bitmap.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { maxRunPages } from '../transport/frame.ts';
import type { BandwidthMeter, LinkBudget } from '../transport/link.ts';
import type { PageCache } from '../codec/page-cache.ts';
import type { ChannelLanes } from './channels.ts';
import { PACKET_LAST_STAGE, PACKET_XBZRLE } from './channel-queue.ts';
import type { PageSender } from './page-sender.ts';
import type { RoundRecord, RoundStage } from '../results/migration-stats.ts';
import type { PostcopyPort } from './postcopy-port.ts';
import type { Orchestrator } from './orchestrator-port.ts';
import { driveAsync, precopyLoop, type GuestControls, type LoopInput, type PendingPages, type PrecopyRun, type PrecopySettings, type RateMeter, type Timeline, type Wire } from './loop.ts';

/** What the loop needs of the vCPUs. */
export interface VcpuSteering extends GuestControls {
  pause(): Promise<void>;
}

/** What the loop needs of the destination: its resume time, on the loop's clock. */
export interface DestinationSteering {
  awaitResume(): Promise<number>;
  readonly error: Error | null;
}

export interface PrecopyInput {
  readonly settings: PrecopySettings;
  readonly source: GuestMemory;
  readonly dirtyLog: Int32Array;
  readonly vcpus: VcpuSteering;
  readonly destination: DestinationSteering;
  readonly sender: PageSender;
  readonly limiter: LinkBudget;
  readonly meter: BandwidthMeter;
  readonly deviceState: Uint8Array;
  /** QEMU XBZRLE's page cache when `precopy.xbzrle.enabled` on the single lane, else null */
  readonly xbzrleCache?: PageCache | null;
  /**
   * Parallel channels (`precopy.channels` > 1), or null for the single lane: pages then go to the
   * channels a packet at a time (each channel has its own XBZRLE cache when XBZRLE is on), and every
   * dirty sync is preceded by a flush (see channels.ts). `sender` then carries only the device state
   * and the end of stream, and its counters are fed from the channels' (`lanes.poll`).
   */
  readonly lanes?: ChannelLanes | null;
  readonly clock: Clock;
  /** when the migration was requested (before the destination started): setup-time starts here */
  readonly startedAtMs: number;
  readonly signal?: AbortSignal;
  readonly onRound?: (round: RoundRecord) => void;
  /** post-copy (postcopy.enabled): its port, made on the migration bitmap (src/postcopy/emulate.ts) */
  readonly postcopy?: ((pages: BitmapPages) => PostcopyPort) | null;
  /** the orchestrator watching the migration and what it set at the start (LoopInput) */
  readonly orchestrator?: Orchestrator | null;
  readonly orchestratorStart?: LoopInput['orchestratorStart'];
}

/** The migration bitmap (this thread's) and the shared dirty log behind it. */
export class BitmapPages implements PendingPages {
  readonly bitmap: Uint32Array;
  constructor(
    readonly totalPages: number,
    private readonly dirtyLog: Int32Array,
  ) {
    this.bitmap = new Uint32Array(wordsFor(totalPages));
  }
  startLogging(): void {
    clearLog(this.dirtyLog);
    setAll(this.bitmap, this.totalPages);
  }
  nextFrom(fromPage: number): number {
    return nextSetBit(this.bitmap, fromPage, this.totalPages);
  }
  sync(): number {
    return syncAndClear(this.dirtyLog, this.bitmap);
  }
  count(): number {
    return countSetBits(this.bitmap);
  }
}

/** The page sender on one lane, or the channel lanes (the sender then carries the device state and the end). */
export class EngineWire implements Wire {
  takenPages = 0;
  takenEndPage = 0;
  readonly xbzrle: Wire['xbzrle'];
  readonly waits: Wire['waits'];
  private syncCount = 0;
  private readonly ps: number;
  private readonly totalPages: number;
  private readonly pagesPerBlock: number;
  private readonly maxRun: number;
  private readonly cache: PageCache | null;
  private readonly lanes: ChannelLanes | null;

  constructor(
    private readonly input: PrecopyInput,
    private readonly pages: BitmapPages,
  ) {
    const layout = input.source.layout;
    this.ps = layout.pageSizeBytes;
    this.totalPages = input.source.totalPages;
    this.pagesPerBlock = layout.pagesPerBlock;
    this.maxRun = maxRunPages(this.ps);
    this.cache = input.xbzrleCache ?? null;
    this.lanes = input.lanes ?? null;
    this.xbzrle = this.cache ?? this.lanes?.xbzrle ?? null;
    const { sender } = input;
    const lanes = this.lanes;
    // with channels: the channel that waited longest for the shared budget (they wait side by side)
    this.waits = {
      linkWaitMs: () => sender.linkWaitMs + (lanes?.maxLinkWaitMs ?? 0),
      ringWaitMs: () => sender.ringWaitMs + (lanes?.maxRingWaitMs ?? 0),
    };
  }

  get total(): Wire['total'] {
    return this.input.sender.total;
  }
  get round(): Wire['round'] {
    return this.input.sender.round;
  }
  get error(): Error | null {
    return this.input.destination.error ?? this.lanes?.error ?? null;
  }

  send(page: number, stage: RoundStage, lastStage: boolean): Promise<void> | undefined {
    // XBZRLE starts after the bulk round (QEMU's xbzrle_started)
    const xbzrle = stage !== 'bulk';
    if (this.lanes) return this.sendPacket(this.lanes, page, (xbzrle && this.lanes.xbzrle ? PACKET_XBZRLE : 0) | (lastStage ? PACKET_LAST_STAGE : 0));
    const { bitmap } = this.pages;
    const blockEnd = Math.min(this.totalPages, (Math.floor(page / this.pagesPerBlock) + 1) * this.pagesPerBlock);
    const len = runLength(bitmap, page, this.maxRun, blockEnd);
    clearRange(bitmap, page, len); // taken: a write from now on sets the page pending again
    this.takenPages = len;
    this.takenEndPage = page + len;
    if (this.cache && xbzrle) return this.sendXbzrle(this.cache, page, page + len, lastStage);
    return this.input.sender.sendRun(page, len);
  }

  /** One page at a time through the cache (last stage: hits only, no inserts); waits only when the sender must. */
  private sendXbzrle(cache: PageCache, from: number, to: number, lastStage: boolean): Promise<void> | undefined {
    for (let p = from; p < to; p++) {
      const sending = this.input.sender.sendPageXbzrle(p, cache, lastStage);
      if (sending) return sending.then(() => this.sendXbzrle(cache, p + 1, to, lastStage));
    }
    return undefined;
  }

  /**
   * Parallel channels: one packet = the pending pages of the aligned stretch of `pagesPerPacket`
   * pages that holds `page`; their bits are cleared here (taken), before a channel reads them.
   */
  private sendPacket(lanes: ChannelLanes, page: number, flags: number): Promise<void> | undefined {
    const { bitmap } = this.pages;
    const perPacket = lanes.pagesPerPacket;
    const stretch = Math.floor(page / perPacket);
    const end = Math.min(this.totalPages, (stretch + 1) * perPacket);
    lanes.beginPacket();
    for (let p = page; p >= 0; p = nextSetBit(bitmap, p, end)) {
      const len = runLength(bitmap, p, end - p, end);
      clearRange(bitmap, p, len); // taken: a write from now on sets the page pending again
      lanes.addRun(p, len);
      p += len;
    }
    this.takenPages = lanes.packetPageCount;
    this.takenEndPage = end;
    return lanes.dispatch(stretch, this.syncCount, flags);
  }

  flush(): Promise<void> | undefined {
    return this.lanes?.flush(this.input.sender, this.input.meter);
  }
  synced(syncCount: number): void {
    this.syncCount = syncCount;
    this.cache?.setGeneration(syncCount);
  }
  collect(): void {
    this.lanes?.poll(this.input.sender, this.input.meter);
  }
  setLiveLimit(on: boolean): void {
    this.input.limiter.setRate(on ? this.input.settings.liveRateBytesPerSec : this.input.settings.linkRateBytesPerSec);
  }
  sendDeviceState(): Promise<void> {
    const { sender, deviceState } = this.input;
    // every lane applied before the device state and the end of stream
    return this.lanes ? this.lanes.flush(sender, this.input.meter).then(() => sender.sendDeviceState(deviceState)) : sender.sendDeviceState(deviceState);
  }
  sendEnd(): Promise<void> {
    return this.input.sender.sendEnd();
  }
  awaitResume(): Promise<number> {
    return this.input.destination.awaitResume();
  }
}

/** The engine's bandwidth meter: 100 ms windows of the bytes the sender put on the link. */
export function engineMeter(meter: BandwidthMeter): RateMeter {
  return {
    bytesPerSec: () => meter.bytesPerSec(),
    get measured() {
      return meter.measured;
    },
    closeFirstWindow: () => meter.closeFirstWindow(),
    rateForRecord: () => meter.bytesPerSec(),
  };
}

const YIELD_EVERY_MS = 50;

/** The real clock; every 50 ms of live rounds the event loop runs (timers, worker messages, Ctrl-C). */
export class EngineTimeline implements Timeline {
  readonly steps = false;
  private yieldAtMs: number;
  constructor(private readonly clock: Clock) {
    this.yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
  }
  nowMs(): number {
    return this.clock.nowMs();
  }
  batchHasRoom(): boolean {
    return false; // a batch is one run or one packet
  }
  batchEndMs(): number {
    return this.clock.nowMs();
  }
  afterBatch(live: boolean): Promise<void> | undefined {
    if (!live || this.clock.nowMs() < this.yieldAtMs) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.yieldAtMs = this.clock.nowMs() + YIELD_EVERY_MS;
    });
  }
}

/** Emulate mode's pre-copy: the loop on the real bitmap, sender or lanes, vCPU pool and clock. */
export function runPrecopy(input: PrecopyInput): Promise<PrecopyRun> {
  const pages = new BitmapPages(input.source.totalPages, input.dirtyLog);
  return driveAsync(
    precopyLoop({
      settings: input.settings,
      memoryBytes: input.source.layout.memoryBytes,
      pageSizeBytes: input.source.layout.pageSizeBytes,
      pages,
      wire: new EngineWire(input, pages),
      meter: engineMeter(input.meter),
      guest: input.vcpus,
      timeline: new EngineTimeline(input.clock),
      startedAtMs: input.startedAtMs,
      signal: input.signal,
      onRound: input.onRound,
      postcopy: input.postcopy ? input.postcopy(pages) : null,
      orchestrator: input.orchestrator ?? null,
      orchestratorStart: input.orchestratorStart,
    }),
  );
}
