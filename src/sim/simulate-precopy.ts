/**
 * Simulate mode's pre-copy: the engine's loop (precopy/loop.ts) replayed on a virtual clock, page by
 * page, without page contents. Same policy objects (`createPolicy`), same timeout rule
 * (`decideOnTime`), same aids trigger (`AutoConvergeTrigger`), same round records, series sampler and
 * QEMU statistics; what differs is where time and bytes come from:
 *
 * - **time** advances by the bytes a batch puts on the link ÷ the rate (the live rate limit, or the
 *   link's share in a fleet); the link is exact (no burst, no noise); latency delays the end frame,
 *   so it adds once to the downtime; setup takes no time (emulate mode spends 100–500 ms starting the
 *   destination).
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
 * The simulation is a state machine (`step()`), so a fleet can interleave several migrations on one
 * link (sim/fleet.ts), each `step` at the link share of the moment.
 */
import type { Scenario } from '../options.ts';
import { AutoConvergeTrigger, aidsAfterTrigger } from '../precopy/aids.ts';
import { decideOnTime, expectedDowntimeMs, type Decision, type Outcome } from '../precopy/convergence.ts';
import type { PrecopySettings } from '../precopy/loop.ts';
import { createPolicy, policyInput, type Policy } from '../precopy/policies.ts';
import { compressionResult, precopyResult, ramStats } from '../precopy/result.ts';
import { precopySettingsFor } from '../precopy/settings.ts';
import { SERIES_INTERVAL_MS, SendCounters, SeriesSampler, roundRecord, type MigrationStats, type RoundRecord, type RoundStage } from '../precopy/stats.ts';
import type { PrecopyResult } from '../results/document.ts';
import { XbzrleCacheBook } from '../codec/page-cache.ts';
import { DEVICE_CHUNK_BYTES, HEADER_BYTES, maxRunPages } from '../transport/frame.ts';
import { align8 } from '../transport/ring.ts';
import { createPageGenerator, sequentialSlice, type PageGenerator } from '../workload/patterns.ts';
import { Rng, deriveSeed } from '../workload/rng.ts';
import { ContentModel, KIND_ZERO } from './content-model.ts';
import { PageSet } from './page-set.ts';

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

type Phase = 'live' | 'stop-and-copy' | 'done';

export class PrecopySimulation {
  readonly scenario: Scenario;
  readonly settings: PrecopySettings;
  /** virtual ms since the migration request */
  nowMs = 0;
  phase: Phase = 'live';
  /** the share of `link.bandwidth` this migration gets (a fleet lowers it while others run) */
  linkShare = 1;

  private readonly ps: number;
  private readonly N: number;
  private readonly pagesPerBlock: number;
  private readonly maxRun: number;
  private readonly header: number;
  private readonly align: (n: number) => number;
  private readonly policy: Policy;
  private readonly content: ContentModel;
  private readonly pending: PageSet;
  private readonly dirty: PageSet;
  /** pages written since the start (only when some pages start as zero) */
  private readonly written: PageSet | null;
  private readonly cache: XbzrleCacheBook | null;
  /** XBZRLE: writes per page since it was last sent */
  private readonly writesSince: Map<number, number> | null;
  private readonly writers: Writer[];
  private readonly trigger: AutoConvergeTrigger | null;
  private readonly onRound?: (round: RoundRecord) => void;

  private readonly total = new SendCounters();
  private readonly round = new SendCounters();
  /** both of the above, for the per-frame bookkeeping */
  private readonly counters = [this.total, this.round];
  readonly rounds: RoundRecord[] = [];
  private readonly sampler: SeriesSampler;
  private stage: RoundStage = 'bulk';
  private remaining: number;
  private cursor = 0;
  private measured = false;
  private syncs = 0;
  private liveDirtyFound = 0;
  private lastSyncMs = 0;
  private lastExpectedDowntimeMs = 0;
  private sentSinceSync = 0;
  private roundStartMs = 0;
  private roundStartWrites = 0;
  private prevRoundSentPages: number | null = null;
  /** pages were taken or time passed since the last sync (as the engine's roundOpen) */
  private roundOpen = true;
  private throttlePercent = 0;
  private dirtyLimitPerVcpu = Infinity;
  private ratesUpdatedMs = 0;
  private outcome: Outcome | null = null;
  private liveEndMs = 0;
  private precopyBytes = 0;
  private pauseAtMs: number | null = null;
  private resumeAtMs: number | null = null;
  private pendingAtPause = 0;
  private finalFound = 0;
  private deviceSent = false;
  // XBZRLE and compression figures (as the engine's PageSender)
  private xbzrlePages = 0;
  private xbzrleBytes = 0;
  private xbzrleSkipped = 0;
  private compressedFrames = 0;
  private compressedIn = 0;
  private compressedOut = 0;

  constructor(scenario: Scenario, options: SimulationOptions = {}) {
    this.scenario = scenario;
    this.settings = precopySettingsFor(scenario);
    if (!Number.isFinite(scenario.link.bandwidth)) throw new RangeError('simulate mode needs a finite link.bandwidth');
    const ps = scenario.guest.pageSize;
    this.ps = ps;
    this.N = scenario.guest.memory / ps;
    this.pagesPerBlock = BLOCK_BYTES / ps;
    this.maxRun = maxRunPages(ps);
    const frames = options.frameOverhead ?? true;
    this.header = frames ? HEADER_BYTES : 0;
    this.align = frames ? align8 : (n) => n;
    this.onRound = options.onRound;
    this.policy = createPolicy(this.settings);
    this.content = new ContentModel(scenario);
    this.pending = new PageSet(this.N);
    this.dirty = new PageSet(this.N);
    this.written = this.content.hasZeroPages ? new PageSet(this.N) : null;
    const x = scenario.precopy.xbzrle;
    this.cache = x.enabled ? new XbzrleCacheBook(x.cacheSize, ps) : null;
    this.writesSince = x.enabled ? new Map() : null;
    this.writers = makeWriters(scenario, this.N);
    this.trigger = this.settings.autoConverge || this.settings.dirtyLimitPagesPerSec !== null ? new AutoConvergeTrigger(this.settings.autoConverge, 0) : null;
    // setup: dirty logging starts now (an empty log); every page is pending
    this.pending.fill();
    this.remaining = this.N;
    this.sampler = new SeriesSampler(0, 0, 0, this.N * ps, 'bulk', seriesIntervalMs(scenario));
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** bytes/s the link gives this migration now (the stop-and-copy lifts the live limit) */
  private rate(): number {
    const link = this.scenario.link.bandwidth * this.linkShare;
    return this.phase === 'live' ? Math.min(this.scenario.precopy.maxBandwidth, link) : link;
  }

  private totalWrites(): number {
    let n = 0;
    for (const w of this.writers) n += w.writes;
    return n;
  }

  /** One step: a sync, a batch of pages, or the end. */
  step(): void {
    if (this.phase === 'live') this.stepLive();
    else if (this.phase === 'stop-and-copy') this.stepStopAndCopy();
  }

  /** Run to the end (a single migration with the link to itself). */
  run(): PrecopyResult {
    while (!this.done) this.step();
    return this.result();
  }

  private sample(force = false): void {
    this.sampler.maybe(
      this.nowMs,
      () => ({ bytes: this.total.bytes, remainingBytes: this.remaining * this.ps, writes: this.totalWrites(), throttlePercent: this.throttlePercent, stage: this.stage }),
      force,
    );
  }

  private stepLive(): void {
    const { settings, policy, ps } = this;
    const now = this.nowMs;
    let decision: Decision = decideOnTime(settings, now);
    if (decision.action !== 'continue') return this.endLive(decision);
    if (!this.measured && now >= FIRST_WINDOW_MS) this.measured = true;
    let bandwidth = this.measured ? this.rate() : 0;
    if (policy.shouldSync(this.remaining * ps, bandwidth) && (this.sentSinceSync > 0 || this.remaining === 0)) {
      if (!this.measured) {
        // a bulk round shorter than one meter window: its end is the first measurement
        this.measured = true;
        bandwidth = this.rate();
        if (!policy.shouldSync(this.remaining * ps, bandwidth) && this.remaining > 0) return;
      }
      const found = this.dirty.count;
      this.pending.absorb(this.dirty);
      this.syncs++;
      this.cache?.setGeneration(this.syncs);
      this.updateXbzrleRates(false);
      this.liveDirtyFound += found;
      this.lastSyncMs = now;
      this.remaining = this.pending.count;
      this.sentSinceSync = 0;
      const roundSent = this.round.pages;
      const roundMs = now - this.roundStartMs;
      const roundBandwidth = roundMs > 0 ? (this.round.bytes * 1000) / roundMs : 0;
      const threshold = policy.thresholdBytes({ bandwidthBytesPerSec: bandwidth, roundBandwidthBytesPerSec: roundBandwidth, pageSizeBytes: ps });
      this.closeRound(found, this.remaining, bandwidth, threshold);
      if (this.trigger?.onSync(now, found * ps, this.total.bytes)) {
        const aids = aidsAfterTrigger(settings, { throttlePercent: this.throttlePercent, dirtyLimitArmed: this.dirtyLimitPerVcpu !== Infinity });
        if (aids.dirtyLimitArmed) this.dirtyLimitPerVcpu = settings.dirtyLimitPagesPerSec!;
        this.throttlePercent = aids.throttlePercent;
      }
      decision = policy.decide(policyInput({
        pendingPages: this.remaining,
        dirtyPagesAtSync: found,
        sentPagesThisRound: roundSent,
        sentPagesPrevRound: this.prevRoundSentPages,
        liveRounds: this.rounds.length,
        elapsedMs: now,
        bandwidthBytesPerSec: bandwidth,
        roundBandwidthBytesPerSec: roundBandwidth,
        totalSentBytes: this.total.bytes,
        memoryBytes: this.scenario.guest.memory,
        pageSizeBytes: ps,
      }));
      this.prevRoundSentPages = roundSent;
      if (decision.action !== 'continue') return this.endLive(decision);
      this.stage = 'iterative';
      this.roundStartMs = now;
      this.roundStartWrites = this.totalWrites();
      this.roundOpen = true;
      return;
    }
    // One batch of runs from the cursor: until the policy would sync, or BATCH_MAX_MS of link time.
    const rate = this.rate();
    const byteCap = (rate * BATCH_MAX_MS) / 1000;
    let bytes = 0;
    for (;;) {
      let page = this.pending.nextFrom(this.cursor);
      if (page < 0) page = this.pending.nextFrom(0);
      if (page < 0) {
        this.remaining = 0;
        break;
      }
      const len = this.takeRun(page);
      bytes += this.sendRun(page, len, false);
      this.sentSinceSync += len;
      if (policy.shouldSync(this.remaining * ps, bandwidth) || bytes >= byteCap) break;
      // the timeout is checked between batches, as the engine checks it between frames
      if (now + (bytes * 1000) / rate >= settings.timeoutMs) break;
    }
    this.advance(bytes, rate, true);
  }

  /** Take the run of pending pages at `page` (within its RAM block, at most one frame's worth). */
  private takeRun(page: number): number {
    const blockEnd = Math.min(this.N, (Math.floor(page / this.pagesPerBlock) + 1) * this.pagesPerBlock);
    const len = this.pending.runLength(page, this.maxRun, blockEnd);
    this.pending.takeRun(page, len);
    this.remaining -= len;
    this.cursor = page + len >= this.N ? 0 : page + len;
    return len;
  }

  /** Virtual time for `bytes` at `rate`; the guest writes meanwhile when it runs. */
  private advance(bytes: number, rate: number, guestRuns: boolean): void {
    const dtMs = (bytes * 1000) / rate;
    this.nowMs += dtMs;
    if (guestRuns) this.guestWrites(dtMs);
    this.sample();
  }

  private guestWrites(dtMs: number): void {
    if (dtMs <= 0) return;
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

  /** Bytes of one frame for the run [page, page + len), counting its pages. */
  private sendRun(page: number, len: number, lastStage: boolean): number {
    if (this.cache && this.stage !== 'bulk') {
      // XBZRLE starts after the bulk round: one page at a time through the cache
      let bytes = 0;
      for (let k = 0; k < len; k++) bytes += this.sendPageXbzrle(page + k, lastStage);
      return bytes;
    }
    const zero = this.zeroPagesIn(page, len);
    const normal = len - zero;
    let payload = normal * this.ps;
    if (this.content.compresses && normal > 0) {
      let z = 0;
      for (let p = page; p < page + len; p++) if (!this.isZero(p)) z += this.content.compressedBytes(p, this.written?.has(p) ?? false);
      z = Math.ceil(z);
      if (z < payload) {
        this.compressedFrames++;
        this.compressedIn += payload;
        this.compressedOut += z;
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

  private updateXbzrleRates(force: boolean): void {
    if (!this.cache || (!force && this.nowMs - this.ratesUpdatedMs < 1000)) return;
    this.cache.updateRates(this.total.pages);
    this.ratesUpdatedMs = this.nowMs;
  }

  private closeRound(dirtyPages: number, pendingPages: number, bandwidth: number, threshold: number, expectedMs?: number): void {
    const expected = expectedMs ?? expectedDowntimeMs(pendingPages * this.ps, bandwidth);
    const record = roundRecord({
      round: this.rounds.length,
      stage: this.stage,
      startMs: this.roundStartMs,
      durationMs: this.nowMs - this.roundStartMs,
      dirtyPages,
      pendingPages,
      sent: this.round,
      writes: this.totalWrites() - this.roundStartWrites,
      expectedDowntimeMs: expected,
      thresholdBytes: threshold,
      throttlePercent: this.throttlePercent,
      targetDirtyRatePagesPerSec: this.settings.targetDirtyRatePagesPerSec,
    });
    this.lastExpectedDowntimeMs = expected;
    this.rounds.push(record);
    this.onRound?.(record);
    this.round.reset();
    this.roundOpen = false;
  }

  private endLive(decision: Exclude<Decision, { action: 'continue' }>): void {
    this.outcome = decision.outcome;
    this.liveEndMs = this.nowMs;
    this.precopyBytes = this.total.bytes;
    if (this.roundOpen) {
      // a round still open ended without a sync of its own (a timeout mid-round)
      const bw = this.measured ? this.rate() : 0;
      this.closeRound(0, this.remaining, bw, this.policy.thresholdBytes({ bandwidthBytesPerSec: bw, roundBandwidthBytesPerSec: bw, pageSizeBytes: this.ps }));
    }
    this.sample(true);
    if (decision.action === 'cancel') {
      this.throttlePercent = 0;
      this.finish();
      return;
    }
    // stop-and-copy: pause (the guest stops writing), final sync, lift the live rate limit
    this.pauseAtMs = this.nowMs;
    this.stage = 'stop-and-copy';
    this.phase = 'stop-and-copy';
    this.roundStartMs = this.nowMs;
    this.roundStartWrites = this.totalWrites();
    this.finalFound = this.dirty.count;
    this.pending.absorb(this.dirty);
    this.syncs++;
    this.cache?.setGeneration(this.syncs);
    this.remaining = this.pending.count;
    this.pendingAtPause = this.remaining;
    this.cursor = 0;
  }

  private stepStopAndCopy(): void {
    const rate = this.rate();
    const byteCap = (rate * BATCH_MAX_MS) / 1000;
    let bytes = 0;
    while (this.remaining > 0 && bytes < byteCap) {
      const page = this.pending.nextFrom(this.cursor);
      if (page < 0) break;
      const len = this.takeRun(page);
      bytes += this.sendRun(page, len, true);
    }
    if (this.remaining === 0 && !this.deviceSent) {
      // device state in chunks, then the end frame
      const ds = this.scenario.guest.deviceState;
      for (let off = 0; off < ds; off += DEVICE_CHUNK_BYTES) bytes += this.countBytes(this.align(this.header + Math.min(DEVICE_CHUNK_BYTES, ds - off)));
      bytes += this.countBytes(this.align(this.header));
      this.deviceSent = true;
    }
    this.advance(bytes, rate, false);
    if (!this.deviceSent) return;
    // the destination resumes when the end frame has arrived
    this.resumeAtMs = this.nowMs + this.scenario.link.latencyMs;
    this.nowMs = this.resumeAtMs;
    this.sample(true);
    const bw = this.rate();
    this.closeRound(this.finalFound, this.pendingAtPause, bw, this.policy.thresholdBytes({ bandwidthBytesPerSec: bw, roundBandwidthBytesPerSec: bw, pageSizeBytes: this.ps }), this.lastExpectedDowntimeMs);
    this.throttlePercent = 0;
    this.finish();
  }

  /** The end: the page sets go back for the next simulation in this thread. */
  private finish(): void {
    this.phase = 'done';
    this.pending.release();
    this.dirty.release();
    this.written?.release();
  }

  private countBytes(frameBytes: number): number {
    this.total.bytes += frameBytes;
    this.round.bytes += frameBytes;
    return frameBytes;
  }

  /** The result block, in the same shape as an emulated run's. */
  result(): PrecopyResult {
    if (!this.done || this.outcome === null) throw new Error('PrecopySimulation.result: the simulation has not finished');
    const s = this.scenario;
    const completed = this.resumeAtMs !== null;
    const endMs = completed ? this.resumeAtMs! : this.liveEndMs;
    this.updateXbzrleRates(true);
    const liveDurationMs = this.liveEndMs;
    const liveLimit = this.settings.liveRateBytesPerSec;
    const dirtyPagesRate = this.lastSyncMs > 0 ? (this.liveDirtyFound * 1000) / this.lastSyncMs : 0;
    const stats: MigrationStats = {
      status: completed ? 'completed' : 'cancelled',
      'total-time': endMs,
      'setup-time': 0,
      downtime: completed ? this.resumeAtMs! - this.pauseAtMs! : null,
      'expected-downtime': this.lastExpectedDowntimeMs,
      ram: ramStats({
        transferredBytes: this.total.bytes,
        transferredPages: this.total.pages,
        zeroPages: this.total.zeroPages,
        normalPages: this.total.normalPages,
        remainingBytes: this.remaining * this.ps,
        memoryBytes: s.guest.memory,
        pageSizeBytes: this.ps,
        dirtySyncCount: this.syncs,
        dirtyPagesPerSec: dirtyPagesRate,
        precopyBytes: this.precopyBytes,
        downtimeBytes: this.total.bytes - this.precopyBytes,
        totalTimeMs: endMs,
        setupTimeMs: 0,
      }),
      ...(this.cache ? { 'xbzrle-cache': this.cache.stats() } : {}),
    };
    const liveMs = liveDurationMs;
    const perVcpu = this.writers.map((w) => (liveMs > 0 ? (w.writes * 1000) / liveMs : 0));
    return precopyResult({
      outcome: this.outcome,
      verified: null,
      verification: null,
      stats,
      rounds: this.rounds,
      series: this.sampler.points,
      engineBound: false,
      engine: {
        liveRateLimitBytesPerSec: Number.isFinite(liveLimit) ? liveLimit : null,
        liveBytesPerSec: liveDurationMs > 0 ? (this.precopyBytes * 1000) / liveDurationMs : 0,
        liveDurationMs,
        linkWaitMs: 0,
        ringWaitMs: 0,
        destinationWaitMs: 0,
      },
      workload: {
        targetPagesPerSec: s.workload.dirtyRate,
        achievedPagesPerSec: perVcpu.reduce((a, b) => a + b, 0),
        perVcpuPagesPerSec: perVcpu,
      },
      deviceStateBytes: s.guest.deviceState,
      xbzrle: this.cache ? { pages: this.xbzrlePages, bytes: this.xbzrleBytes, skippedPages: this.xbzrleSkipped } : null,
      compression: compressionResult(s.precopy.compression, s.precopy.compressionLevel, { frames: this.compressedFrames, inputBytes: this.compressedIn, outputBytes: this.compressedOut }),
    });
  }
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

/** One writer per vCPU, seeded as emulate mode seeds its vCPU workers. */
function makeWriters(s: Scenario, N: number): Writer[] {
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
    } else if (s.workload.pattern !== 'idle') {
      const spec = {
        pattern: s.workload.pattern,
        totalPages: N,
        workingSetPages: Math.min(N, Math.max(1, Math.ceil(s.workload.workingSet / s.guest.pageSize))),
        hotFraction: s.workload.hotFraction,
        zipfExponent: s.workload.zipfExponent,
      };
      w.gen = createPageGenerator(spec, i, n, new Rng(deriveSeed(s.seed, 1000 + i)));
    }
    writers.push(w);
  }
  return writers;
}
