/**
 * Simulate mode's pre-copy: the engine's loop (precopy/loop.ts) itself, run synchronously on
 * simulate mode's ports: a virtual clock, page sets, a modelled wire and modelled writers. What
 * differs from emulate mode is only where time and bytes come from:
 *
 * - **time** advances by the bytes a batch puts on the link ÷ the rate (the live rate limit, or the
 *   link's share in a fleet); the link is exact (no burst, no noise); latency delays the end frame,
 *   so it adds once to the downtime; setup takes no time (emulate mode starts its workers before the
 *   migration's clock, `engine.prepareMs`, and its setup-time is the start of dirty logging). The meter's first window closes at 100 ms of virtual time or at the end of a shorter
 *   bulk round, and reads the exact rate after that.
 * - **bytes** are the engine's frames: a 48-byte header per run of up to 64 contiguous pending pages
 *   (zero pages ride in it as bits), each frame 8-byte aligned; device state in 256 KiB chunks; an end
 *   frame. XBZRLE pages go one per frame, as in the engine. Contents come from `ContentModel`.
 * - **the guest**: each vCPU draws its writes from the pattern generators emulate mode uses
 *   (`createPageGenerator`, seeded per vCPU), at its share of the dirty rate lowered by the throttle and
 *   capped by the dirty limit, spread evenly over virtual time; a sequential sweep is applied as whole
 *   ranges. The writes of a batch land after the batch's pages were taken: a batch is at most
 *   `BATCH_MAX_MS` of link time (or one run), so the order within it barely matters.
 * - **pages**: the dirty log and the migration bitmap are `PageSet`s: a sync moves the log into the
 *   pending set, and a round visits only the pages it sends, so the cost grows with the pages touched.
 *
 * `step()` runs the loop to the end of its next step (a sync, a batch, the stop-and-copy's setup), so a
 * fleet can interleave several migrations on one link (run-simulated.ts), each step at the link share
 * of the moment.
 */
import type { Scenario } from '../options.ts';
import { precopyLoop, stepSync, type GuestControls, type PendingPages, type PrecopyLoop, type PrecopyRun, type PrecopySettings, type RateMeter, type Timeline, type Wire } from '../precopy/loop.ts';
import { compressionResult, precopyResult } from '../precopy/result.ts';
import { precopySettingsFor } from '../precopy/settings.ts';
import { CodecCounters, SERIES_INTERVAL_MS, SendCounters, ramStats } from '../precopy/stats.ts';
import type { RoundRecord, RoundStage } from '../results/migration-stats.ts';
import type { PrecopyResult } from '../results/document.ts';
import { XbzrleCacheBook } from '../codec/page-cache.ts';
import { DEVICE_CHUNK_BYTES, HEADER_BYTES, maxRunPages } from '../transport/frame.ts';
import { align8 } from '../transport/ring.ts';
import { LinkDown } from '../transport/link-fault.ts';
import { createPageGenerator, sequentialSlice, type PageGenerator, type PatternSpec } from '../workload/patterns.ts';
import { Rng, deriveSeed } from '../workload/rng.ts';
import { ContentModel, KIND_ZERO } from './content-model.ts';
import { PageSet } from './page-set.ts';
import { SimPostcopy } from './simulate-postcopy.ts';
import { simPostcopyResult } from './simulate-postcopy-result.ts';
import { createOrchestrator, orchestratorStartOverrides } from '../orchestrator/index.ts';
import { withOrchestratorStart } from '../orchestrator/start.ts';
import { checkOrchestratorMode } from '../orchestrator/support.ts';

/** Link time one live batch may take at most (ms): bounds how far writes lag the pages they follow. */
export const BATCH_MAX_MS = 5;
/** The engine's bandwidth meter closes its first window after this long (ms). */
const FIRST_WINDOW_MS = 100;
/** RAM block size of the engine (pages of one frame never cross a block). */
const BLOCK_BYTES = 1024 * 1024 * 1024;

export interface SimulationOptions {
  /**
   * Count frame headers and 8-byte alignment as the engine's frames do (default true). false counts
   * payload bytes only: DESIGN §6's closed form, where the agreement tests hold it to 1e-6.
   */
  frameOverhead?: boolean;
  /** round records as they close */
  onRound?: (round: RoundRecord) => void;
}

interface Writer {
  kind: 'idle' | 'random' | 'sequential';
  /** random patterns: the generator */
  gen: PageGenerator | null;
  start: number;
  end: number;
  pos: number;
  /** writes due but not yet done (fraction) */
  debt: number;
  writes: number;
}

/** The migration bitmap and the dirty log, as page sets. */
class SimPages implements PendingPages {
  readonly pending: PageSet;
  /** the dirty log: the modelled vCPUs add to it */
  readonly dirty: PageSet;
  constructor(pages: number) {
    this.pending = new PageSet(pages);
    this.dirty = new PageSet(pages);
  }
  startLogging(): void {
    this.pending.fill(); // the log starts empty
  }
  nextFrom(fromPage: number): number {
    return this.pending.nextFrom(fromPage);
  }
  sync(): number {
    const found = this.dirty.count;
    this.pending.absorb(this.dirty);
    return found;
  }
  count(): number {
    return this.pending.count;
  }
  release(): void {
    this.pending.release();
    this.dirty.release();
  }
}

/** The modelled vCPUs: writers at their share of the dirty rate, under the throttle and the dirty limit. */
class SimGuest implements GuestControls {
  readonly error = null;
  readonly writers: Writer[];
  /** the pattern the writers draw from (null: idle or sequential) */
  readonly spec: PatternSpec | null;
  /** pages written since the start (only when some pages start as zero) */
  readonly written: PageSet | null;
  /** XBZRLE: writes per page since it was last sent */
  readonly writesSince: Map<number, number> | null;
  paused = false;
  private throttlePercent = 0;
  private dirtyLimitPerVcpu = Infinity;

  constructor(
    private readonly scenario: Scenario,
    pages: number,
    private readonly dirty: PageSet,
    hasZeroPages: boolean,
  ) {
    this.written = hasZeroPages ? new PageSet(pages) : null;
    this.writesSince = scenario.precopy.xbzrle.enabled ? new Map() : null;
    this.spec = patternSpec(scenario, pages);
    this.writers = makeWriters(scenario, pages, this.spec);
  }

  totalWrites(): number {
    let n = 0;
    for (const w of this.writers) n += w.writes;
    return n;
  }
  pause(): undefined {
    this.paused = true; // the guest stops writing
    return undefined;
  }
  setThrottle(percent: number): void {
    this.throttlePercent = percent;
  }
  setDirtyLimit(pagesPerSecPerVcpu: number): void {
    this.dirtyLimitPerVcpu = pagesPerSecPerVcpu > 0 ? pagesPerSecPerVcpu : Infinity; // 0 lifts it, as the vCPU pool's
  }

  /** The writes due over `dtMs` of virtual time. */
  write(dtMs: number): void {
    if (dtMs <= 0 || this.paused) return;
    const share = this.scenario.workload.dirtyRate / this.writers.length;
    const perVcpu = Math.min(share * (1 - this.throttlePercent / 100), this.dirtyLimitPerVcpu);
    if (!(perVcpu > 0)) return;
    const due = (perVcpu * dtMs) / 1000;
    for (const w of this.writers) {
      if (w.kind === 'idle') continue;
      w.debt += due;
      const n = Math.floor(w.debt + 1e-9);
      if (n <= 0) continue;
      w.debt -= n;
      w.writes += n;
      if (w.kind === 'random') this.randomWrites(w.gen!, n);
      else this.sweepWrites(w, n);
    }
  }

  private randomWrites(gen: PageGenerator, n: number): void {
    const { dirty, written, writesSince } = this;
    for (let k = 0; k < n; k++) {
      const p = gen.next();
      dirty.add(p);
      written?.add(p);
      if (writesSince) writesSince.set(p, (writesSince.get(p) ?? 0) + 1);
    }
  }

  /** A sequential vCPU writes the next `n` pages of its slice, wrapping. */
  private sweepWrites(w: Writer, n: number): void {
    const len = w.end - w.start;
    const cycles = Math.floor(n / len);
    const rest = n - cycles * len;
    if (cycles > 0) this.markWritten(w.start, w.end, cycles); // the whole slice, `cycles` times
    // then `rest` more pages from pos, wrapping to the slice start
    const first = Math.min(w.end, w.pos + rest);
    this.markWritten(w.pos, first, 1);
    this.markWritten(w.start, w.start + rest - (first - w.pos), 1);
    w.pos += rest;
    if (w.pos >= w.end) w.pos = w.start + (w.pos - w.end);
  }

  private markWritten(from: number, to: number, times: number): void {
    if (to <= from) return;
    this.dirty.addRange(from, to);
    this.written?.addRange(from, to);
    const since = this.writesSince;
    if (since) for (let p = from; p < to; p++) since.set(p, (since.get(p) ?? 0) + times);
  }
}

/** The virtual clock and the link's pace: a batch's bytes take bytes ÷ rate of virtual time. */
class SimTimeline implements Timeline {
  readonly steps = true;
  /** virtual ms since the migration request */
  ms = 0;
  /** the share of `link.bandwidth` this migration gets (a fleet lowers it while others run) */
  linkShare = 1;
  /** the live rate limit applies (lifted for the stop-and-copy) */
  live = true;
  /** bytes of the batch going on */
  batchBytes = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly guest: SimGuest,
  ) {}

  /** bytes/s the link gives this migration now */
  rate(): number {
    const link = this.scenario.link.bandwidth * this.linkShare;
    return this.live ? Math.min(this.scenario.precopy.maxBandwidth, link) : link;
  }
  nowMs(): number {
    return this.ms;
  }
  batchHasRoom(): boolean {
    return this.batchBytes < (this.rate() * BATCH_MAX_MS) / 1000;
  }
  batchEndMs(): number {
    return this.ms + (this.batchBytes * 1000) / this.rate();
  }
  afterBatch(): undefined {
    const dtMs = (this.batchBytes * 1000) / this.rate();
    this.ms += dtMs;
    this.guest.write(dtMs); // the guest writes meanwhile (not once paused)
    this.batchBytes = 0;
    return undefined;
  }
  /** the end frame arrives one latency later */
  arrive(): number {
    this.ms = this.ms + this.scenario.link.latencyMs;
    return this.ms;
  }
}

/** The modelled wire: the engine's frames for the pages taken, without their contents; and its meter. */
/** XBZRLE and compression figures: the fields of CodecCounters, as the engine's PageSender. */
class SimWire extends CodecCounters implements Wire, RateMeter {
  readonly total = new SendCounters();
  readonly round = new SendCounters();
  /** both of the above, for the per-frame bookkeeping */
  private readonly counters = [this.total, this.round];
  readonly waits = null;
  readonly error = null;
  readonly cache: XbzrleCacheBook | null;
  readonly xbzrle: XbzrleCacheBook | null;
  takenPages = 0;
  takenEndPage = 0;
  measured = false;
  private readonly ps: number;
  private readonly N: number;
  private readonly pagesPerBlock: number;
  private readonly maxRun: number;
  private readonly header: number;
  private readonly align: (n: number) => number;
  private readonly written: PageSet | null;
  private readonly writesSince: Map<number, number> | null;
  private readonly linkDownAtMs: number | null;
  private readonly linkUpAtMs: number;

  constructor(
    private readonly scenario: Scenario,
    frameOverhead: boolean,
    private readonly content: ContentModel,
    private readonly pages: SimPages,
    guest: SimGuest,
    private readonly timeline: SimTimeline,
  ) {
    super();
    const ps = scenario.guest.pageSize;
    this.ps = ps;
    this.N = scenario.guest.memory / ps;
    this.pagesPerBlock = BLOCK_BYTES / ps;
    this.maxRun = maxRunPages(ps);
    this.header = frameOverhead ? HEADER_BYTES : 0;
    this.align = frameOverhead ? align8 : (n) => n;
    const x = scenario.precopy.xbzrle;
    this.cache = x.enabled ? new XbzrleCacheBook(x.cacheSize, ps) : null;
    this.xbzrle = this.cache;
    this.written = guest.written;
    this.writesSince = guest.writesSince;
    this.linkDownAtMs = scenario.faults.linkDownAtMs;
    this.linkUpAtMs = linkUpAtMs(scenario);
  }

  // --- the meter: the exact rate once the first window has closed ---
  bytesPerSec(): number {
    if (this.timeline.live && !this.measured && this.timeline.ms >= FIRST_WINDOW_MS) this.measured = true;
    return this.rateForRecord();
  }
  rateForRecord(): number {
    return !this.timeline.live || this.measured ? this.timeline.rate() : 0;
  }
  closeFirstWindow(): void {
    this.measured = true;
  }

  /**
   * Take the run of pending pages at `page` (within its RAM block, at most one frame's worth) and book
   * its frame; then, while `batchFull` says the batch has room, the next runs after it, up to the end
   * of the guest (the loop wraps): the runs and frames the loop would take one call at a time.
   */
  send(page: number, stage: RoundStage, lastStage: boolean, batchFull?: () => boolean): undefined {
    const pending = this.pages.pending;
    const N = this.N;
    let taken = 0;
    let p = page;
    for (;;) {
      const blockEnd = Math.min(N, (Math.floor(p / this.pagesPerBlock) + 1) * this.pagesPerBlock);
      const len = pending.runLength(p, this.maxRun, blockEnd);
      pending.takeRun(p, len);
      taken += len;
      this.takenPages = taken;
      this.takenEndPage = p + len;
      this.sendRun(p, len, stage, lastStage);
      if (batchFull === undefined || p + len >= N || batchFull()) break;
      p = pending.nextFrom(p + len);
      if (p < 0) break;
    }
    return undefined;
  }
  flush(): undefined {
    return undefined; // one lane: every frame is in order
  }
  synced(syncCount: number): void {
    this.cache?.setGeneration(syncCount);
  }
  collect(): void {}
  setLiveLimit(on: boolean): void {
    this.timeline.live = on;
  }
  sendDeviceState(): undefined {
    // device state in chunks
    const ds = this.scenario.guest.deviceState;
    for (let off = 0; off < ds; off += DEVICE_CHUNK_BYTES) this.countBytes(this.align(this.header + Math.min(DEVICE_CHUNK_BYTES, ds - off)));
    return undefined;
  }
  sendEnd(): undefined {
    this.countBytes(this.align(this.header));
    return undefined;
  }
  awaitResume(): number {
    return this.timeline.arrive(); // the destination resumes when the end frame has arrived
  }

  /** Post-copy: the frame of the run [page, page + len) as the engine's sendRun sends it (never XBZRLE); its bytes. */
  sendPostcopyRun(page: number, len: number): number {
    return this.plainRun(page, len);
  }
  /** A control frame carrying `payloadBytes` (post-copy's missing-pages list, its run command); its bytes. */
  sendControl(payloadBytes: number): number {
    return this.countBytes(this.align(this.header + payloadBytes));
  }

  /** Bytes of one frame for the run [page, page + len), counting its pages. */
  private sendRun(page: number, len: number, stage: RoundStage, lastStage: boolean): number {
    if (this.cache && stage !== 'bulk') {
      // XBZRLE starts after the bulk round: one page at a time through the cache
      let bytes = 0;
      for (let k = 0; k < len; k++) bytes += this.sendPageXbzrle(page + k, lastStage);
      return bytes;
    }
    return this.plainRun(page, len);
  }

  /** One frame of the run [page, page + len): zero pages as bits, normal pages (compressed when that is smaller). */
  private plainRun(page: number, len: number): number {
    const zero = this.zeroPagesIn(page, len);
    const normal = len - zero;
    let payload = normal * this.ps;
    if (this.content.compresses && normal > 0) {
      let z = 0;
      for (let p = page; p < page + len; p++) if (!this.isZero(p)) z += this.content.compressedBytes(p, this.written?.has(p) ?? false);
      z = Math.ceil(z);
      if (z < payload) {
        this.compressedFrames++;
        this.compressedInputBytes += payload;
        this.compressedOutputBytes += z;
        payload = z;
      }
    }
    if (this.writesSince) for (let p = page; p < page + len; p++) this.writesSince.delete(p);
    return this.count(len, zero, this.align(this.header + payload));
  }

  private isZero(page: number): boolean {
    return this.written !== null && this.content.kindOf(page) === KIND_ZERO && !this.written.has(page);
  }

  private zeroPagesIn(page: number, len: number): number {
    if (this.written === null) return 0;
    if (this.content.uniformKind === KIND_ZERO) return len - this.written.countRange(page, page + len);
    let n = 0;
    for (let p = page; p < page + len; p++) if (this.isZero(p)) n++;
    return n;
  }

  /** Book a frame of `pages` pages (`zero` of them zero) on the totals and the round; returns its bytes. */
  private count(pages: number, zero: number, frameBytes: number): number {
    for (const c of this.counters) {
      c.pages += pages;
      c.zeroPages += zero;
      c.normalPages += pages - zero;
    }
    return this.countBytes(frameBytes);
  }

  /** The engine's `sendPageXbzrle` with a modelled delta (QEMU's save_xbzrle_page order). */
  private sendPageXbzrle(page: number, lastStage: boolean): number {
    const cache = this.cache!;
    const address = page * this.ps;
    const writes = this.writesSince!.get(page) ?? 0;
    this.writesSince!.delete(page);
    if (this.isZero(page)) {
      cache.claim(address, cache.currentGeneration);
      return this.count(1, 1, this.align(this.header));
    }
    const slot = cache.lookup(address);
    if (slot < 0) {
      cache.countMiss();
      if (!lastStage) cache.claim(address, cache.currentGeneration);
      return this.count(1, 0, this.align(this.header + this.ps));
    }
    const delta = this.content.xbzrleDeltaBytes(writes);
    const length = delta > this.ps ? -1 : delta;
    cache.countEncoded(length);
    if (length === 0) {
      this.xbzrleSkipped++;
      return this.countPage(0); // unchanged: a page transferred, nothing sent (as the engine counts it)
    }
    if (length < 0) return this.count(1, 0, this.align(this.header + this.ps));
    const frame = this.align(this.header + length);
    this.xbzrlePages++;
    this.xbzrleBytes += frame;
    return this.countPage(frame);
  }

  /** A page that is neither zero nor normal (an XBZRLE delta, or skipped as unchanged). */
  private countPage(frameBytes: number): number {
    this.total.pages++;
    this.round.pages++;
    return this.countBytes(frameBytes);
  }

  private countBytes(frameBytes: number): number {
    // faults.linkDownAtMs: the link refuses every frame booked from then on, until it is back (as transport/link-fault.ts)
    const down = this.linkDownAtMs;
    if (down !== null) {
      const atMs = this.timeline.ms + (this.timeline.batchBytes * 1000) / this.timeline.rate();
      if (atMs >= down && atMs < this.linkUpAtMs) throw new LinkDown(down);
    }
    this.timeline.batchBytes += frameBytes;
    this.total.bytes += frameBytes;
    this.round.bytes += frameBytes;
    return frameBytes;
  }
}

export class PrecopySimulation {
  readonly scenario: Scenario;
  readonly settings: PrecopySettings;
  private readonly pages: SimPages;
  private readonly guest: SimGuest;
  private readonly timeline: SimTimeline;
  private readonly wire: SimWire;
  private readonly loop: PrecopyLoop;
  private readonly postcopy: SimPostcopy | null;
  private finished: PrecopyRun | null = null;
  /** faults.linkDownAtMs: the link died (the loop ended there), and what it had sent */
  private failure: { error: LinkDown; atMs: number; guestLost: boolean } | null = null;

  constructor(userScenario: Scenario, options: SimulationOptions = {}) {
    // what simulate mode cannot run under the orchestrator is refused (E_SCENARIO); its start settings
    // are this migration's settings (orchestrator/start.ts)
    checkOrchestratorMode(userScenario, 'simulate');
    const scenario = withOrchestratorStart(userScenario);
    this.scenario = scenario;
    this.settings = precopySettingsFor(scenario);
    if (!Number.isFinite(scenario.link.bandwidth)) throw new RangeError('simulate mode needs a finite link.bandwidth');
    const ps = scenario.guest.pageSize;
    const N = scenario.guest.memory / ps;
    const content = new ContentModel(scenario);
    this.pages = new SimPages(N);
    this.guest = new SimGuest(scenario, N, this.pages.dirty, content.hasZeroPages);
    this.timeline = new SimTimeline(scenario, this.guest);
    this.wire = new SimWire(scenario, options.frameOverhead ?? true, content, this.pages, this.guest, this.timeline);
    this.postcopy = scenario.postcopy.enabled ? this.postcopyPort(N) : null;
    this.loop = precopyLoop({
      settings: this.settings,
      memoryBytes: scenario.guest.memory,
      pageSizeBytes: ps,
      pages: this.pages,
      wire: this.wire,
      meter: this.wire,
      guest: this.guest,
      timeline: this.timeline,
      startedAtMs: 0,
      seriesIntervalMs: seriesIntervalMs(scenario),
      onRound: options.onRound,
      postcopy: this.postcopy,
      orchestrator: createOrchestrator(scenario.orchestrator, scenario.guest.memory),
      orchestratorStart: orchestratorStartOverrides(scenario.orchestrator, scenario.guest.memory),
    });
  }

  /** Post-copy's port on this simulation's pages, wire, guest and clock (simulate-postcopy.ts). */
  private postcopyPort(N: number): SimPostcopy {
    const s = this.scenario;
    const { timeline, wire, guest } = this;
    /** a frame the wire booked: its bytes, off the batch (the port times its frames itself) */
    const frame = (bytes: number): number => {
      timeline.batchBytes = 0;
      return bytes;
    };
    const { writers, readers } = postcopyGenerators(s, N, guest);
    const vcpus = guest.writers.length;
    return new SimPostcopy({
      startAfterRounds: s.postcopy.startAfterRounds,
      preempt: s.postcopy.preempt,
      latencyMs: s.link.latencyMs,
      pageSizeBytes: s.guest.pageSize,
      totalPages: N,
      deviceStateBytes: s.guest.deviceState,
      pending: this.pages.pending,
      writers,
      readers,
      writeRatePerVcpu: s.workload.dirtyRate / vcpus,
      readRatePerVcpu: s.workload.readRate / vcpus,
      linkDownAtMs: s.faults.linkDownAtMs,
      recovery: s.postcopy.recovery,
      linkUpAtMs: linkUpAtMs(s),
      nowMs: () => timeline.ms,
      setNowMs: (ms) => {
        timeline.ms = ms;
      },
      linkRateBytesPerSec: () => s.link.bandwidth * timeline.linkShare,
      postcopyRateBytesPerSec: () => Math.min(s.postcopy.maxBandwidth, s.link.bandwidth * timeline.linkShare),
      sendRun: (page, len) => frame(wire.sendPostcopyRun(page, len)),
      sendControl: (payloadBytes) => frame(wire.sendControl(payloadBytes)),
      sendDeviceState: () => {
        wire.sendDeviceState();
        return frame(timeline.batchBytes);
      },
      sendEnd: () => {
        wire.sendEnd();
        return frame(timeline.batchBytes);
      },
      totalBytes: () => wire.total.bytes,
      precopyWrites: () => guest.totalWrites(),
    });
  }

  /** virtual ms since the migration request */
  get nowMs(): number {
    return this.timeline.ms;
  }

  /** the share of `link.bandwidth` this migration gets (a fleet lowers it while others run) */
  get linkShare(): number {
    return this.timeline.linkShare;
  }
  set linkShare(share: number) {
    this.timeline.linkShare = share;
  }

  get done(): boolean {
    return this.finished !== null || this.failure !== null;
  }

  /** where the migration stands: the guest runs (live rounds), is paused (stop-and-copy), or it is over */
  get phase(): 'live' | 'stop-and-copy' | 'done' {
    return this.done ? 'done' : this.guest.paused ? 'stop-and-copy' : 'live';
  }

  /** One step: a sync, a batch of pages, or the end. */
  step(): void {
    if (this.done) return;
    try {
      this.finished = stepSync(this.loop);
    } catch (error) {
      if (!(error instanceof LinkDown)) throw error;
      // the link died under a frame (faults.linkDownAtMs): in pre-copy the guest goes on on the
      // source; once it runs on the destination without all its pages it is lost (no recovery, or a
      // link that never came back: post-copy recovers from the outage itself, simulate-postcopy.ts)
      const t = this.timeline;
      this.failure = { error, atMs: t.ms + (t.batchBytes * 1000) / t.rate(), guestLost: this.postcopy?.resumed ?? false };
    }
    if (this.done) {
      // the page sets go back for the next simulation in this thread
      this.pages.release();
      this.guest.written?.release();
    }
  }

  /** Run to the end (a single migration with the link to itself). */
  run(): PrecopyResult {
    while (!this.done) this.step();
    return this.result();
  }

  /** The result block, in the same shape as an emulated run's. */
  result(): PrecopyResult {
    if (this.failure) return this.failedResult(this.failure);
    const run = this.finished;
    if (!run) throw new Error('PrecopySimulation.result: the simulation has not finished');
    const s = this.scenario;
    const w = this.wire;
    const liveMs = run.engine.liveDurationMs;
    const perVcpu = this.guest.writers.map((v) => (liveMs > 0 ? (v.writes * 1000) / liveMs : 0));
    const result = precopyResult(run, {
      verified: null,
      verification: null,
      workload: {
        targetPagesPerSec: s.workload.dirtyRate,
        achievedPagesPerSec: perVcpu.reduce((a, b) => a + b, 0),
        perVcpuPagesPerSec: perVcpu,
      },
      deviceStateBytes: s.guest.deviceState,
      xbzrle: w.cache ? w.xbzrleFigures() : null,
      compression: compressionResult(s.precopy.compression, s.precopy.compressionLevel, w.compressionFigures()),
    });
    if (run.outcome.outcome !== 'postcopy' || this.postcopy === null) return result;
    return { ...result, ...simPostcopyResult(run, this.postcopy.facts, s) };
  }

  /** The link died: outcome `failed`, what was sent until then, and whether the guest is lost (as emulate mode's run.ts). */
  private failedResult(f: { error: LinkDown; atMs: number; guestLost: boolean }): PrecopyResult {
    const s = this.scenario;
    const t = this.wire.total;
    const elapsedMs = f.atMs;
    // the guest's writes until the link died: on the source, then on the destination after a switch
    const onDest = this.postcopy?.resumed ? this.postcopy.writesPerVcpu() : null;
    const perVcpu = this.guest.writers.map((v, i) => (elapsedMs > 0 ? ((v.writes + (onDest?.[i] ?? 0)) * 1000) / elapsedMs : 0));
    return {
      outcome: 'failed',
      reason: 'link-down',
      error: f.error.message,
      verified: null,
      verification: null,
      stats: {
        status: 'failed',
        'total-time': elapsedMs,
        'setup-time': 0,
        downtime: null,
        'expected-downtime': 0,
        ram: ramStats({
          transferredBytes: t.bytes, transferredPages: t.pages, zeroPages: t.zeroPages, normalPages: t.normalPages, remainingBytes: s.guest.memory,
          memoryBytes: s.guest.memory, pageSizeBytes: s.guest.pageSize, dirtySyncCount: 0, dirtyPagesPerSec: 0,
          precopyBytes: t.bytes, downtimeBytes: 0, totalTimeMs: elapsedMs, setupTimeMs: 0,
        }),
      },
      rounds: [],
      series: [],
      engineBound: false,
      engine: { liveRateLimitBytesPerSec: null, liveBytesPerSec: 0, liveDurationMs: 0, linkWaitMs: 0, ringWaitMs: 0, destinationWaitMs: 0 },
      workload: { targetPagesPerSec: s.workload.dirtyRate, achievedPagesPerSec: perVcpu.reduce((x, y) => x + y, 0), perVcpuPagesPerSec: perVcpu },
      deviceStateBytes: s.guest.deviceState,
      xbzrle: null,
      compression: null,
      guestLost: f.guestLost,
    };
  }
}

/**
 * When the link is back after faults.linkDownAtMs (ms since the request): with postcopy.recovery after
 * faults.linkDownForMs (as run.ts gives emulate mode's FaultyLink), else never (Infinity). Pure.
 */
export function linkUpAtMs(s: Scenario): number {
  const down = s.faults.linkDownAtMs;
  return down !== null && s.postcopy.enabled && s.postcopy.recovery && s.faults.linkDownForMs > 0 ? down + s.faults.linkDownForMs : Infinity;
}

/**
 * Sample every 100 ms as the engine does, unless the bulk round alone would give more than ~1000
 * samples: then every 10^k × 100 ms, so a 1 TiB migration's series stays a few hundred KiB.
 */
export function seriesIntervalMs(s: Scenario): number {
  const bulkMs = (s.guest.memory * 1000) / Math.min(s.precopy.maxBandwidth, s.link.bandwidth);
  let interval = SERIES_INTERVAL_MS;
  while (bulkMs / interval > 1000) interval *= 10;
  return interval;
}

/** The pattern of a random-pattern guest (null: idle or sequential, which draw nothing). */
function patternSpec(s: Scenario, N: number): PatternSpec | null {
  if (s.workload.pattern === 'idle' || s.workload.pattern === 'sequential') return null;
  return {
    pattern: s.workload.pattern,
    totalPages: N,
    workingSetPages: Math.min(N, Math.max(1, Math.ceil(s.workload.workingSet / s.guest.pageSize))),
    hotFraction: s.workload.hotFraction,
    zipfExponent: s.workload.zipfExponent,
  };
}

/**
 * Post-copy's page generators, one per vCPU: its writes go on with the pre-copy sequence (a sequential
 * vCPU from where its sweep stands), its reads come from a pattern of their own, seeded as emulate mode
 * seeds a vCPU worker's reads (null: the vCPU does not write, or does not read).
 */
function postcopyGenerators(s: Scenario, N: number, guest: SimGuest): { writers: (PageGenerator | null)[]; readers: (PageGenerator | null)[] } {
  const n = guest.writers.length;
  const writers = guest.writers.map((w): PageGenerator | null => {
    if (w.kind === 'random') return w.gen;
    if (w.kind === 'idle') return null;
    return {
      next: () => {
        const p = w.pos++;
        if (w.pos >= w.end) w.pos = w.start;
        return p;
      },
    };
  });
  const readSpec: PatternSpec = guest.spec ?? {
    pattern: s.workload.pattern, totalPages: N, workingSetPages: 1, hotFraction: s.workload.hotFraction, zipfExponent: s.workload.zipfExponent,
  };
  const readers = guest.writers.map((_, i) => (s.workload.readRate > 0 ? createPageGenerator(readSpec, i, n, new Rng(deriveSeed(s.seed, 2000 + i))) : null));
  return { writers, readers };
}

/** One writer per vCPU, seeded as emulate mode seeds its vCPU workers. */
function makeWriters(s: Scenario, N: number, spec: PatternSpec | null): Writer[] {
  const n = s.guest.vcpus;
  const writers: Writer[] = [];
  for (let i = 0; i < n; i++) {
    const kind = s.workload.pattern === 'idle' ? 'idle' : s.workload.pattern === 'sequential' ? 'sequential' : 'random';
    const w: Writer = { kind, gen: null, start: 0, end: N, pos: 0, debt: 0, writes: 0 };
    if (s.workload.pattern === 'sequential') {
      const slice = sequentialSlice(N, i, n);
      if (slice.start < slice.end) {
        w.start = w.pos = slice.start;
        w.end = slice.end;
      }
    } else if (spec !== null) {
      w.gen = createPageGenerator(spec, i, n, new Rng(deriveSeed(s.seed, 1000 + i)));
    }
    writers.push(w);
  }
  return writers;
}
