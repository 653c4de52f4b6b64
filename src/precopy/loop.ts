/**
 * The pre-copy loop: the order of operations, nothing else. Decisions come from `convergence.ts`,
 * bytes go through `PageSender`, time comes from the injected clock.
 *
 *   setup     start dirty logging (clear the log), mark every page pending in the migration bitmap
 *   rounds    send pending pages in address order from a wrapping cursor; whenever what is left is at
 *             or below the switchover threshold (measured bandwidth × downtime limit; 0 until the first
 *             100 ms window or the end of the bulk round has given a measurement), sync the dirty
 *             log into the migration bitmap: that ends a round (QEMU's dirty-sync / pass). Then switch
 *             over if the pending bytes are 0 or below the threshold; else force a stop after
 *             `maxRounds`; else go on. A timeout cancels (guest stays on the source) or forces a stop.
 *   stop-and-copy  pause the vCPUs (each acknowledges), final sync, lift the live rate limit, send every
 *             pending page and the device state, end the stream; downtime runs from the pause request
 *             to the destination's resume.
 */
import type { Clock } from '../clock.ts';
import { clearRange, countSetBits, nextSetBit, runLength, setAll, wordsFor } from '../memory/bitmap.ts';
import { clearLog, syncAndClear } from '../memory/dirty-bitmap.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { maxRunPages } from '../transport/frame.ts';
import type { BandwidthMeter, LinkBudget } from '../transport/link.ts';
import { decideOnTime, expectedDowntimeMs, type Decision, type Outcome } from './convergence.ts';
import { createPolicy, policyInput, type PolicySettings } from './policies.ts';
import { AutoConvergeTrigger, aidsAfterTrigger } from './aids.ts';
import { ramStats } from './result.ts';
import type { AutoConverge } from '../options.ts';
import type { PageSender } from './page-sender.ts';
import type { PageCache } from '../codec/page-cache.ts';
import type { ChannelLanes } from './channels.ts';
import { PACKET_LAST_STAGE, PACKET_XBZRLE } from './channel-queue.ts';
import { SeriesSampler, isEngineBound, roundRecord, type MigrationStats, type SeriesPoint, type RoundRecord, type RoundStage } from './stats.ts';

/** What the loop needs of the vCPUs. */
export interface VcpuSteering {
  pause(): Promise<void>;
  totalWrites(): number;
  /** convergence aids: slow every vCPU down (percent), or cap each one's page writes per second */
  setThrottle(percent: number): void;
  setDirtyLimit(pagesPerSecPerVcpu: number): void;
  readonly error: Error | null;
}

/** What the loop needs of the destination: its resume time, on the loop's clock. */
export interface DestinationSteering {
  awaitResume(): Promise<number>;
  readonly error: Error | null;
}

export interface PrecopySettings extends PolicySettings {
  /** QEMU auto-converge steps (percent), or null */
  readonly autoConverge: AutoConverge | null;
  /** QEMU dirty-limit per vCPU in page writes per second once armed, or null */
  readonly dirtyLimitPagesPerSec: number | null;
  /** the page writes per second the scenario asks of all vCPUs (for the guest slowdown) */
  readonly targetDirtyRatePagesPerSec: number;
  /** rate limit of the live rounds (QEMU max-bandwidth), bytes/s; Infinity = none */
  readonly liveRateBytesPerSec: number;
  /** the link's own rate, used for the stop-and-copy; Infinity = unlimited */
  readonly linkRateBytesPerSec: number;
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
}

export interface PrecopyEngineFacts {
  /** the live rounds' rate limit (null = none) */
  liveRateLimitBytesPerSec: number | null;
  /** bytes/s the live rounds achieved */
  liveBytesPerSec: number;
  liveDurationMs: number;
  /** ms the sender waited for the link's rate limit */
  linkWaitMs: number;
  /** ms the sender waited for the destination to free ring space */
  ringWaitMs: number;
  /** ms the destination waited for frames (filled in by the caller that owns the destination) */
  destinationWaitMs: number;
}

export interface PrecopyRun {
  outcome: Outcome;
  rounds: RoundRecord[];
  /** progress sampled every 100 ms */
  series: SeriesPoint[];
  stats: MigrationStats;
  engineBound: boolean;
  engine: PrecopyEngineFacts;
  /** absolute times on the loop's clock (null when the phase did not happen) */
  pauseRequestedAtMs: number | null;
  resumedAtMs: number | null;
}

const YIELD_EVERY_MS = 50;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function runPrecopy(input: PrecopyInput): Promise<PrecopyRun> {
  const { settings, source, dirtyLog, vcpus, sender, clock, meter, limiter } = input;
  const ps = source.layout.pageSizeBytes;
  const totalPages = source.totalPages;
  const pagesPerBlock = source.layout.pagesPerBlock;
  const maxRun = maxRunPages(ps);
  const bitmap = new Uint32Array(wordsFor(totalPages));
  const rounds: RoundRecord[] = [];

  // --- setup: dirty logging starts now; every page is pending (the bulk round) ---
  clearLog(dirtyLog);
  setAll(bitmap, totalPages);
  let remaining = totalPages;
  const liveStartMs = clock.nowMs();
  const setupTimeMs = liveStartMs - input.startedAtMs;
  limiter.setRate(settings.liveRateBytesPerSec);

  const policy = createPolicy(settings);
  const cache = input.xbzrleCache ?? null;
  const lanes = input.lanes ?? null;
  const xbzrleStats = cache ?? lanes?.xbzrle ?? null;
  let ratesUpdatedMs = liveStartMs;
  const updateXbzrleRates = (now: number, force: boolean): void => {
    // QEMU recomputes cache-miss-rate and encoding-rate at a sync once a second has passed
    if (!xbzrleStats || (!force && now - ratesUpdatedMs < 1000)) return;
    xbzrleStats.updateRates(sender.total.pages);
    ratesUpdatedMs = now;
  };
  const trigger = settings.autoConverge || settings.dirtyLimitPagesPerSec !== null ? new AutoConvergeTrigger(settings.autoConverge, liveStartMs) : null;
  let throttlePercent = 0;
  let dirtyLimitArmed = false;
  let prevRoundSentPages: number | null = null;

  let stage: RoundStage = 'bulk';
  const sampler = new SeriesSampler(input.startedAtMs, liveStartMs, vcpus.totalWrites(), totalPages * ps, 'bulk');
  const sample = (now: number, force = false): void =>
    sampler.maybe(now, () => ({ bytes: sender.total.bytes, remainingBytes: remaining * ps, writes: vcpus.totalWrites(), throttlePercent, stage }), force);
  let roundStartMs = liveStartMs;
  let roundStartWrites = vcpus.totalWrites();
  let syncs = 0;
  let liveDirtyFound = 0;
  let lastSyncMs = liveStartMs;
  let lastExpectedDowntimeMs = 0;
  let sentSinceSync = 0;
  let cursor = 0;
  let yieldAtMs = liveStartMs + YIELD_EVERY_MS;
  let decision: Decision = { action: 'continue' };
  let roundOpen = true;
  sender.round.reset();

  const closeRound = (now: number, dirtyPages: number, pendingPages: number, bandwidth: number, threshold: number, expectedMs?: number): void => {
    const duration = now - roundStartMs;
    const expected = expectedMs ?? expectedDowntimeMs(pendingPages * ps, bandwidth);
    const record = roundRecord({
      round: rounds.length,
      stage,
      startMs: roundStartMs - input.startedAtMs,
      durationMs: duration,
      dirtyPages,
      pendingPages,
      sent: sender.round,
      writes: vcpus.totalWrites() - roundStartWrites,
      expectedDowntimeMs: expected,
      thresholdBytes: threshold,
      throttlePercent,
      targetDirtyRatePagesPerSec: settings.targetDirtyRatePagesPerSec,
    });
    lastExpectedDowntimeMs = expected;
    rounds.push(record);
    input.onRound?.(record);
    sender.round.reset();
    roundOpen = false;
  };

  const failIfBroken = (): void => {
    const e = vcpus.error ?? input.destination.error ?? lanes?.error;
    if (e) throw e;
  };

  // Parallel channels: one packet = the pending pages of the aligned stretch of `perPacket` pages that
  // holds `page`; their bits are cleared here (taken), before a channel reads them (DESIGN §4).
  const perPacket = lanes?.pagesPerPacket ?? 1;
  let packetEnd = 0;
  const takePacket = (page: number, flags: number): Promise<void> | undefined => {
    const l = lanes!;
    const stretch = Math.floor(page / perPacket);
    const end = Math.min(totalPages, (stretch + 1) * perPacket);
    l.beginPacket();
    for (let p = page; p >= 0; p = nextSetBit(bitmap, p, end)) {
      const len = runLength(bitmap, p, end - p, end);
      clearRange(bitmap, p, len); // taken: a write from now on sets the page pending again
      l.addRun(p, len);
      p += len;
    }
    packetEnd = end;
    return l.dispatch(stretch, syncs, flags);
  };

  // --- live rounds ---
  for (;;) {
    if (input.signal?.aborted) {
      decision = { action: 'cancel', outcome: { outcome: 'cancelled', reason: 'interrupted' } };
      break;
    }
    failIfBroken();
    lanes?.poll(sender, meter);
    let now = clock.nowMs();
    decision = decideOnTime(settings, now - input.startedAtMs);
    if (decision.action !== 'continue') break;
    let bandwidth = meter.bytesPerSec();
    if (policy.shouldSync(remaining * ps, bandwidth) && (sentSinceSync > 0 || remaining === 0)) {
      if (lanes) {
        // multifd flush: every packet taken so far is applied at the destination before the sync
        await lanes.flush(sender, meter);
        now = clock.nowMs();
      }
      if (!meter.measured) {
        // A bulk round shorter than one 100 ms window: it is the first measurement.
        meter.closeFirstWindow();
        bandwidth = meter.bytesPerSec();
        if (!policy.shouldSync(remaining * ps, bandwidth) && remaining > 0) continue;
      }
      const found = syncAndClear(dirtyLog, bitmap);
      syncs++;
      cache?.setGeneration(syncs);
      updateXbzrleRates(now, false);
      liveDirtyFound += found;
      lastSyncMs = now;
      remaining = countSetBits(bitmap);
      sentSinceSync = 0;
      const roundSent = sender.round.pages;
      const roundMs = now - roundStartMs;
      const roundBandwidth = roundMs > 0 ? (sender.round.bytes * 1000) / roundMs : 0;
      const threshold = policy.thresholdBytes({ bandwidthBytesPerSec: bandwidth, roundBandwidthBytesPerSec: roundBandwidth, pageSizeBytes: ps });
      closeRound(now, found, remaining, bandwidth, threshold);
      // Convergence aids, evaluated at the sync as QEMU does (migration_trigger_throttle); they act on
      // the next round (the record just closed shows the throttle the guest ran under).
      if (trigger?.onSync(now, found * ps, sender.total.bytes)) {
        const aids = aidsAfterTrigger(settings, { throttlePercent, dirtyLimitArmed });
        if (aids.dirtyLimitArmed && !dirtyLimitArmed) vcpus.setDirtyLimit(settings.dirtyLimitPagesPerSec!);
        if (aids.throttlePercent !== throttlePercent) vcpus.setThrottle(aids.throttlePercent);
        ({ throttlePercent, dirtyLimitArmed } = aids);
      }
      decision = policy.decide(policyInput({
        pendingPages: remaining,
        dirtyPagesAtSync: found,
        sentPagesThisRound: roundSent,
        sentPagesPrevRound: prevRoundSentPages,
        liveRounds: rounds.length,
        elapsedMs: now - input.startedAtMs,
        bandwidthBytesPerSec: bandwidth,
        roundBandwidthBytesPerSec: roundBandwidth,
        totalSentBytes: sender.total.bytes,
        memoryBytes: source.layout.memoryBytes,
        pageSizeBytes: ps,
      }));
      prevRoundSentPages = roundSent;
      if (decision.action !== 'continue') break;
      stage = 'iterative';
      roundStartMs = now;
      roundStartWrites = vcpus.totalWrites();
      roundOpen = true;
      continue;
    }
    // One batch: the next run of pending pages from the cursor, within one RAM block.
    let page = nextSetBit(bitmap, cursor, totalPages);
    if (page < 0) page = nextSetBit(bitmap, 0, totalPages);
    if (page < 0) {
      remaining = 0; // nothing pending: the next turn syncs
      continue;
    }
    if (lanes) {
      const sending = takePacket(page, lanes.xbzrle && stage !== 'bulk' ? PACKET_XBZRLE : 0);
      const taken = lanes.packetPageCount;
      remaining -= taken;
      if (sending) await sending;
      sentSinceSync += taken;
      cursor = packetEnd >= totalPages ? 0 : packetEnd;
      now = clock.nowMs();
      sample(now);
      if (now >= yieldAtMs) {
        await yieldToEventLoop();
        yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
      }
      continue;
    }
    const blockEnd = Math.min(totalPages, (Math.floor(page / pagesPerBlock) + 1) * pagesPerBlock);
    const len = runLength(bitmap, page, maxRun, blockEnd);
    clearRange(bitmap, page, len); // taken: a write from now on sets the page pending again
    remaining -= len;
    if (cache && stage !== 'bulk') {
      // XBZRLE starts after the bulk round (QEMU's xbzrle_started): one page at a time through the cache
      for (let k = 0; k < len; k++) {
        const sending = sender.sendPageXbzrle(page + k, cache, false);
        if (sending) await sending;
      }
    } else {
      const sending = sender.sendRun(page, len);
      if (sending) await sending;
    }
    sentSinceSync += len;
    cursor = page + len >= totalPages ? 0 : page + len;
    now = clock.nowMs();
    sample(now);
    if (now >= yieldAtMs) {
      await yieldToEventLoop();
      yieldAtMs = clock.nowMs() + YIELD_EVERY_MS;
    }
  }

  lanes?.poll(sender, meter);
  const liveEndMs = clock.nowMs();
  const precopyBytes = sender.total.bytes;
  const liveDurationMs = liveEndMs - liveStartMs;
  const liveLimit = settings.liveRateBytesPerSec;
  const liveBytesPerSec = liveDurationMs > 0 ? (precopyBytes * 1000) / liveDurationMs : 0;
  const engine: PrecopyEngineFacts = {
    liveRateLimitBytesPerSec: Number.isFinite(liveLimit) ? liveLimit : null,
    liveBytesPerSec,
    liveDurationMs,
    // with channels: the channel that waited longest for the shared budget (they wait side by side)
    linkWaitMs: sender.linkWaitMs + (lanes?.maxLinkWaitMs ?? 0),
    ringWaitMs: 0,
    destinationWaitMs: 0,
  };
  const engineBound = isEngineBound({ liveRateLimitBytesPerSec: liveLimit, liveBytesPerSec, liveDurationMs, linkWaitMs: engine.linkWaitMs });
  const dirtyPagesRate = lastSyncMs > liveStartMs ? (liveDirtyFound * 1000) / (lastSyncMs - liveStartMs) : 0;

  // A round still open ended without a sync of its own (a timeout mid-round, or a cancel).
  if (roundOpen) {
    const bw = meter.bytesPerSec();
    closeRound(liveEndMs, 0, remaining, bw, policy.thresholdBytes({ bandwidthBytesPerSec: bw, roundBandwidthBytesPerSec: bw, pageSizeBytes: ps }));
  }
  // A cancelled migration leaves the guest running on the source at full speed.
  const liftAids = (): void => {
    if (throttlePercent > 0) vcpus.setThrottle(0);
    if (dirtyLimitArmed) vcpus.setDirtyLimit(0);
  };

  const outcome: Outcome = decision.outcome; // the live loop only ends on a stop-and-copy or a cancel
  sample(liveEndMs, true);
  const finish = (status: 'completed' | 'cancelled', endMs: number, downtimeMs: number | null, expectedMs: number, pauseMs: number | null): PrecopyRun => {
    const totalTime = endMs - input.startedAtMs;
    engine.ringWaitMs = sender.ringWaitMs + (lanes?.maxRingWaitMs ?? 0);
    const downtimeBytes = sender.total.bytes - precopyBytes;
    updateXbzrleRates(endMs, true);
    return {
      outcome,
      rounds,
      series: sampler.points,
      stats: {
        status,
        'total-time': totalTime,
        'setup-time': setupTimeMs,
        downtime: downtimeMs,
        'expected-downtime': expectedMs,
        ram: ramStats({
          transferredBytes: sender.total.bytes,
          transferredPages: sender.total.pages,
          zeroPages: sender.total.zeroPages,
          normalPages: sender.total.normalPages,
          remainingBytes: remaining * ps,
          memoryBytes: source.layout.memoryBytes,
          pageSizeBytes: ps,
          dirtySyncCount: syncs,
          dirtyPagesPerSec: dirtyPagesRate,
          precopyBytes,
          downtimeBytes,
          totalTimeMs: totalTime,
          setupTimeMs,
        }),
        ...(xbzrleStats ? { 'xbzrle-cache': xbzrleStats.stats() } : {}),
      },
      engineBound,
      engine,
      pauseRequestedAtMs: pauseMs,
      resumedAtMs: status === 'completed' ? endMs : null,
    };
  };

  if (decision.action === 'cancel') {
    liftAids();
    return finish('cancelled', liveEndMs, null, lastExpectedDowntimeMs, null);
  }

  // --- stop-and-copy ---
  const pauseRequestedAtMs = clock.nowMs();
  stage = 'stop-and-copy';
  roundStartMs = pauseRequestedAtMs;
  roundStartWrites = vcpus.totalWrites();
  await vcpus.pause();
  failIfBroken();
  if (lanes) await lanes.flush(sender, meter); // a live round may have been cut short: its packets land first
  const finalFound = syncAndClear(dirtyLog, bitmap);
  syncs++;
  cache?.setGeneration(syncs);
  remaining = countSetBits(bitmap);
  const pendingAtPause = remaining;
  limiter.setRate(settings.linkRateBytesPerSec); // QEMU lifts max-bandwidth for the final copy
  if (lanes) {
    const flags = lanes.xbzrle ? PACKET_XBZRLE | PACKET_LAST_STAGE : PACKET_LAST_STAGE;
    for (let page = nextSetBit(bitmap, 0, totalPages); page >= 0; page = nextSetBit(bitmap, packetEnd, totalPages)) {
      const sending = takePacket(page, flags);
      remaining -= lanes.packetPageCount;
      if (sending) await sending;
      lanes.poll(sender, meter);
      sample(clock.nowMs());
    }
    await lanes.flush(sender, meter); // every lane applied before the device state and the end of stream
  }
  for (let page = lanes ? -1 : nextSetBit(bitmap, 0, totalPages); page >= 0; page = nextSetBit(bitmap, page, totalPages)) {
    const blockEnd = Math.min(totalPages, (Math.floor(page / pagesPerBlock) + 1) * pagesPerBlock);
    const len = runLength(bitmap, page, maxRun, blockEnd);
    clearRange(bitmap, page, len);
    remaining -= len;
    if (cache) {
      for (let k = 0; k < len; k++) {
        const sending = sender.sendPageXbzrle(page + k, cache, true); // last stage: hits only, no inserts
        if (sending) await sending;
      }
    } else {
      const sending = sender.sendRun(page, len);
      if (sending) await sending;
    }
    sample(clock.nowMs());
  }
  await sender.sendDeviceState(input.deviceState);
  await sender.sendEnd();
  const resumedAtMs = await input.destination.awaitResume();
  failIfBroken();
  sample(resumedAtMs, true);
  const bw = meter.bytesPerSec();
  const expectedAtSwitchover = lastExpectedDowntimeMs;
  // The stop-and-copy record: the pages pending after the final sync, and the downtime expected then.
  closeRound(resumedAtMs, finalFound, pendingAtPause, bw, policy.thresholdBytes({ bandwidthBytesPerSec: bw, roundBandwidthBytesPerSec: bw, pageSizeBytes: ps }), expectedAtSwitchover);
  liftAids(); // the guest now runs on the destination; the source's vCPUs stay paused
  return finish('completed', resumedAtMs, resumedAtMs - pauseRequestedAtMs, expectedAtSwitchover, pauseRequestedAtMs);
}
