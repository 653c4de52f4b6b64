/**
 * The pre-copy loop: the order of operations, once, for every mode. Decisions come from
 * `convergence.ts`, `policies.ts` and `aids.ts`; everything the loop touches is a port (below), with
 * two implementations: emulate mode's (emulate.ts: the migration bitmap and the vCPUs' dirty log,
 * the page sender or the channel lanes, the vCPU pool, the real clock and link) and simulate mode's
 * (sim/simulate-precopy.ts: page sets, the modelled wire and writers, the virtual clock).
 *
 *   setup     start dirty logging (clear the log), mark every page pending (the bulk round)
 *   rounds    send pending pages in address order from a wrapping cursor, a batch at a time (emulate:
 *             one run or channel packet; simulate: up to BATCH_MAX_MS of link time). At the end of each
 *             of QEMU's iterations (a rate-limit window's bytes or time, 50 ms without a rate limit, or
 *             nothing left: `iterationEnded`), if what is left is at or below the policy's threshold
 *             (QEMU: measured bandwidth × downtime limit; 0 until the first 100 ms window or the end of
 *             the bulk round has given a measurement), flush the channels and sync the dirty log into
 *             the pending pages: that ends a round (QEMU's dirty-sync / pass). The sync that starts
 *             dirty logging counts too (dirty-sync-count starts at 1, as QEMU's). The convergence aids
 *             are evaluated at the sync; then the policy
 *             switches over, forces a stop (max-rounds, traffic-cap, no-progress) or goes on. A timeout
 *             cancels (the guest stays on the source) or forces a stop; so does an abort (cancel).
 *   orchestrator  (LoopInput.orchestrator, issue 19) polled when the clock passes its next poll time,
 *             in the live rounds (before each batch and after each sync): it sees what its system sees
 *             (MigrationView) and acts through the loop's controls, in order: set-downtime changes the
 *             limit the policy uses from now on; postcopy switches as at a sync (a PostcopyPort is
 *             needed); pause ends the live rounds with a stop-and-copy of everything left (outcome
 *             `paused`); abort cancels (outcome `aborted`, the guest stays on the source). Every
 *             action is recorded, and every round record carries the downtime limit in force.
 *   stop-and-copy  pause the vCPUs, flush, final sync, lift the live rate limit, send every pending
 *             page, the device state and the end of stream; downtime runs from the pause request to
 *             the destination's resume. The final record closes the stop-and-copy round.
 *
 * The loop is a generator: it yields only where a port returned a promise (emulate mode awaits it and
 * resumes the loop with the value) and, when the timeline `steps`, at the end of each step (a sync, a
 * batch, the stop-and-copy's setup, a step of the post-copy push), so simulate mode runs it
 * synchronously and a fleet interleaves several migrations step by step (sim/run-simulated.ts).
 */
import { createPolicy, policyInput, type PolicySettings } from './policies.ts';
import { AutoConvergeTrigger, aidsAfterTrigger } from './aids.ts';
import { decideOnTime, expectedDowntimeMs, iterationEnded, type Decision } from './convergence.ts';
import { SERIES_INTERVAL_MS, SeriesSampler, isEngineBound, ramStats, roundRecord } from './stats.ts';
import type { PrecopyEngineFacts } from '../results/engine-facts.ts';
import type { MigrationStats, RoundRecord, RoundStage, SeriesPoint } from '../results/migration-stats.ts';
import type { Outcome } from '../results/outcome.ts';
import type { AutoConverge } from '../options.ts';
import type { XbzrleCacheStats } from '../codec/page-cache.ts';
import { switchesToPostcopy, type PostcopyPort } from './postcopy-port.ts';
import type { MigrationView, Orchestrator, OrchestratorAction } from './orchestrator-port.ts';
import type { OrchestratorActionRecord, OrchestratorReport } from '../results/orchestrator-report.ts';

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

export interface PrecopyRun {
  outcome: Outcome;
  rounds: RoundRecord[];
  /** progress sampled every 100 ms (simulate mode: wider for long migrations) */
  series: SeriesPoint[];
  stats: MigrationStats;
  engineBound: boolean;
  engine: PrecopyEngineFacts;
  /** absolute times on the loop's clock (null when the phase did not happen) */
  pauseRequestedAtMs: number | null;
  resumedAtMs: number | null;
  /** what the orchestrator did (LoopInput.orchestrator), or null without one */
  orchestrator: OrchestratorReport | null;
}

// ---------------------------------------------------------------- ports

/** The pages still to send (QEMU's migration bitmap) and the dirty log that feeds them. */
export interface PendingPages {
  /** dirty logging starts now (an empty log) and every page becomes pending: the bulk round */
  startLogging(): void;
  /** the first pending page at or after `fromPage`, or -1 */
  nextFrom(fromPage: number): number;
  /** a dirty sync: move the log into the pending pages; returns the pages the log held */
  sync(): number;
  /** pages pending now */
  count(): number;
}

/** Counters of what crossed the link (the page sender's `SendCounters`). */
export interface SendTotals {
  readonly bytes: number;
  readonly pages: number;
  readonly zeroPages: number;
  readonly normalPages: number;
}

/** The wire: takes pending pages and sends them; the destination at its far end. */
export interface Wire {
  /** since the start, and since the last `round.reset()` */
  readonly total: SendTotals;
  readonly round: SendTotals & { reset(): void };
  /**
   * Take the pending pages at `page` off the pending set (a run within one RAM block, or the stretch
   * of one channel packet) and send them; `takenPages` and `takenEndPage` (the page after the stretch)
   * then say what it took. A promise when the sending must be waited for. A wire that never waits
   * (simulate mode's) may go on with the next pending runs after it, in address order up to the end of
   * the guest, as long as `batchFull()` (the loop's own check after each run) says the batch has room.
   */
  send(page: number, stage: RoundStage, lastStage: boolean, batchFull?: () => boolean): Promise<void> | undefined;
  readonly takenPages: number;
  readonly takenEndPage: number;
  /** before a dirty sync: every page taken so far has been applied at the destination (multifd flush) */
  flush(): Promise<void> | undefined;
  /** a dirty sync happened (the count): XBZRLE cache generations follow it */
  synced(syncCount: number): void;
  /** gather what parallel senders did into the totals and the meter (no-op for one sender) */
  collect(): void;
  /** the live rounds' rate limit (QEMU max-bandwidth) on, or lifted for the stop-and-copy */
  setLiveLimit(on: boolean): void;
  sendDeviceState(): Promise<void> | undefined;
  sendEnd(): Promise<void> | undefined;
  /** the destination's resume, on the loop's clock */
  awaitResume(): Promise<number> | number;
  /** QEMU's xbzrle-cache figures when XBZRLE is on, else null */
  readonly xbzrle: { updateRates(transferredPages: number): void; stats(): XbzrleCacheStats } | null;
  /** the engine's measured waits; null for a modelled wire (it never waits and is never engine-bound) */
  readonly waits: { linkWaitMs(): number; ringWaitMs(): number } | null;
  readonly error: Error | null;
}

/** The bandwidth the decisions use: measured over 100 ms windows. */
export interface RateMeter {
  /** bytes/s of the last closed window (0 until one closed); may close a window that is due */
  bytesPerSec(): number;
  readonly measured: boolean;
  /** the end of a bulk round shorter than a window: it is the first measurement */
  closeFirstWindow(): void;
  /** the rate for a record the loop closes at the end of a phase (emulate: `bytesPerSec()`; simulate: without closing a window) */
  rateForRecord(): number;
}

/** The guest's controls: its vCPUs. */
export interface GuestControls {
  /** page writes so far, all vCPUs together */
  totalWrites(): number;
  /** stop the vCPUs (each acknowledges) */
  pause(): Promise<void> | undefined;
  /** convergence aids: slow every vCPU down (percent), or cap each one's page writes per second (0 lifts it) */
  setThrottle(percent: number): void;
  setDirtyLimit(pagesPerSecPerVcpu: number): void;
  readonly error: Error | null;
}

/** Time and the batches' pace. */
export interface Timeline {
  nowMs(): number;
  /** may the batch going on take another run? (emulate: no, a batch is one run or packet) */
  batchHasRoom(): boolean;
  /** when the batch going on would end on this clock (emulate: now) */
  batchEndMs(): number;
  /**
   * A batch was sent. Simulate mode advances the virtual clock by its link time (the guest writes
   * meanwhile unless paused); emulate mode lets the event loop run now and then during the live rounds.
   */
  afterBatch(live: boolean): Promise<void> | undefined;
  /** true: the loop yields STEP at the end of every step (simulate mode's fleets interleave there) */
  readonly steps: boolean;
}

export interface LoopInput {
  readonly settings: PrecopySettings;
  readonly memoryBytes: number;
  readonly pageSizeBytes: number;
  readonly pages: PendingPages;
  readonly wire: Wire;
  readonly meter: RateMeter;
  readonly guest: GuestControls;
  readonly timeline: Timeline;
  /** when the migration was requested: setup-time and the records' times count from here */
  readonly startedAtMs: number;
  /** ms between progress samples (default SERIES_INTERVAL_MS) */
  readonly seriesIntervalMs?: number;
  readonly signal?: AbortSignal;
  readonly onRound?: (round: RoundRecord) => void;
  /** post-copy (postcopy.enabled): the switch to it at a sync, instead of going on or a forced stop (src/postcopy/) */
  readonly postcopy?: PostcopyPort | null;
  /**
   * The orchestrator watching the migration (src/orchestrator/), or null; `orchestratorStart` is what it
   * set before the run (already in `settings`), for the record.
   */
  readonly orchestrator?: Orchestrator | null;
  readonly orchestratorStart?: OrchestratorReport['start'];
}

/** What the loop yields besides a port's promise: the end of a step (simulate mode). */
export const STEP: unique symbol = Symbol('precopy step');
export type LoopYield = Promise<unknown> | typeof STEP;
export type PrecopyLoop = Generator<LoopYield, PrecopyRun, unknown>;

/** A port's answer, now or later: the loop waits for it only when it is a promise. */
function* answer<T>(value: T | Promise<T>): Generator<LoopYield, T, unknown> {
  return value instanceof Promise ? ((yield value) as T) : value;
}

/** The loop's end of a port's promise: wait only when there is one. */
function* done(value: Promise<unknown> | undefined): Generator<LoopYield, void, unknown> {
  if (value) yield value;
}

/** Run the loop awaiting the ports (emulate mode). A rejected promise is thrown into the loop. */
export async function driveAsync(loop: PrecopyLoop): Promise<PrecopyRun> {
  let r = loop.next();
  while (!r.done) {
    const v = r.value;
    if (v === STEP) {
      r = loop.next();
      continue;
    }
    let value: unknown;
    try {
      value = await v;
    } catch (error) {
      r = loop.throw(error);
      continue;
    }
    r = loop.next(value);
  }
  return r.value;
}

/**
 * Run the loop to the end of its next step, synchronously (simulate mode); the run when it ended,
 * else null. Its ports must not return promises.
 */
export function stepSync(loop: PrecopyLoop): PrecopyRun | null {
  const r = loop.next();
  if (r.done) return r.value;
  if (r.value !== STEP) throw new Error('precopy loop: a synchronous port returned a promise');
  return null;
}

const CANCEL_INTERRUPTED: Extract<Decision, { action: 'cancel' }> = { action: 'cancel', outcome: { outcome: 'cancelled', reason: 'interrupted' } };

export function* precopyLoop(input: LoopInput): PrecopyLoop {
  const { settings, pages, wire, meter, guest, timeline } = input;
  const ps = input.pageSizeBytes;
  const totalPages = input.memoryBytes / ps;
  const rounds: RoundRecord[] = [];
  // the downtime limit in force: the scenario's (or the orchestrator's start value), then what it sets
  let downtimeLimitMs = settings.downtimeLimitMs;
  const policy = createPolicy(settings, () => downtimeLimitMs);
  const orchestrator = input.orchestrator ?? null;
  const actions: OrchestratorActionRecord[] = [];
  const stepEnd = function* (): Generator<LoopYield, void, unknown> {
    if (timeline.steps) yield STEP;
  };

  // --- setup: dirty logging starts now; every page is pending (the bulk round) ---
  pages.startLogging();
  let remaining = totalPages;
  const liveStartMs = timeline.nowMs();
  const setupTimeMs = liveStartMs - input.startedAtMs;
  wire.setLiveLimit(true);

  const xbzrle = wire.xbzrle;
  let ratesUpdatedMs = liveStartMs;
  const updateXbzrleRates = (now: number, force: boolean): void => {
    // QEMU recomputes cache-miss-rate and encoding-rate at a sync once a second has passed
    if (!xbzrle || (!force && now - ratesUpdatedMs < 1000)) return;
    xbzrle.updateRates(wire.total.pages);
    ratesUpdatedMs = now;
  };
  const trigger = settings.autoConverge || settings.dirtyLimitPagesPerSec !== null ? new AutoConvergeTrigger(settings.autoConverge, liveStartMs) : null;
  let throttlePercent = 0;
  let dirtyLimitArmed = false;
  let prevRoundSentPages: number | null = null;

  let stage: RoundStage = 'bulk';
  const sampler = new SeriesSampler(input.startedAtMs, liveStartMs, guest.totalWrites(), totalPages * ps, 'bulk', input.seriesIntervalMs ?? SERIES_INTERVAL_MS);
  const sample = (now: number, force = false): void =>
    sampler.maybe(now, () => ({ bytes: wire.total.bytes, remainingBytes: remaining * ps, writes: guest.totalWrites(), throttlePercent, stage }), force);
  let roundStartMs = liveStartMs;
  let roundStartWrites = guest.totalWrites();
  // QEMU counts the sync that starts dirty logging (ram_init_bitmaps → migration_bitmap_sync_precopy)
  // in dirty-sync-count: the bulk round runs in generation 1.
  let syncs = 1;
  wire.synced(syncs);
  let liveDirtyFound = 0;
  let lastSyncMs = liveStartMs;
  // QEMU's iteration going on (convergence.ts `iterationEnded`): where it started
  let iterationStartMs = liveStartMs;
  let iterationStartBytes = wire.total.bytes;
  let lastExpectedDowntimeMs = 0;
  let sentSinceSync = 0;
  let cursor = 0;
  let decision: Decision = { action: 'continue' };
  let roundOpen = true;
  let postcopyNow = false;
  // how the orchestrator ended the live rounds (pause, abort), or null
  let orchestratorEnd: Extract<Outcome, { outcome: 'paused' | 'aborted' }> | null = null;
  let nextPollAtMs = input.startedAtMs;
  let lastDirtyPagesPerSec = 0;
  wire.round.reset();

  const thresholdAt = (bandwidth: number, roundBandwidth = bandwidth): number =>
    policy.thresholdBytes({ bandwidthBytesPerSec: bandwidth, roundBandwidthBytesPerSec: roundBandwidth, pageSizeBytes: ps });
  const closeRound = (now: number, dirtyPages: number, pendingPages: number, bandwidth: number, threshold: number, expectedMs?: number): void => {
    const expected = expectedMs ?? expectedDowntimeMs(pendingPages * ps, bandwidth);
    const record = roundRecord({
      round: rounds.length,
      stage,
      startMs: roundStartMs - input.startedAtMs,
      durationMs: now - roundStartMs,
      dirtyPages,
      pendingPages,
      sent: wire.round,
      writes: guest.totalWrites() - roundStartWrites,
      expectedDowntimeMs: expected,
      thresholdBytes: threshold,
      downtimeLimitMs,
      throttlePercent,
      targetDirtyRatePagesPerSec: settings.targetDirtyRatePagesPerSec,
    });
    lastExpectedDowntimeMs = expected;
    rounds.push(record);
    input.onRound?.(record);
    wire.round.reset();
    roundOpen = false;
  };
  const failIfBroken = (): void => {
    const e = guest.error ?? wire.error;
    if (e) throw e;
  };
  /** QEMU looks at the pending estimate once per iteration of its migration thread (convergence.ts). */
  const iterationDone = (now: number): boolean =>
    iterationEnded({ pendingPages: remaining, bytesSinceSync: wire.total.bytes - iterationStartBytes, msSinceSync: now - iterationStartMs, liveRateBytesPerSec: settings.liveRateBytesPerSec });
  const startIteration = (now: number): void => {
    iterationStartMs = now;
    iterationStartBytes = wire.total.bytes;
  };
  // Take and send the pending pages at a page: `wire.send`, then `took()` (the pages taken leave
  // `remaining`), wait for the send's promise if it returned one, then `moveCursor()` past what was
  // taken. Written out at each call, not as a nested generator: simulate mode sends millions of runs,
  // and a generator object per run was a tenth of its time.
  const took = (): number => {
    const taken = wire.takenPages;
    remaining -= taken;
    return taken;
  };
  const moveCursor = (): void => {
    cursor = wire.takenEndPage >= totalPages ? 0 : wire.takenEndPage;
  };
  // After a run: does the live batch end here? Where QEMU's iteration ends (the pending estimate is
  // checked there), when the timeline has no room, or at the timeout (checked between batches, as the
  // engine checks it between frames).
  const liveBatchFull = (): boolean =>
    !timeline.batchHasRoom() || iterationDone(timeline.batchEndMs()) || decideOnTime(settings, timeline.batchEndMs() - input.startedAtMs).action !== 'continue';
  const finalBatchFull = (): boolean => !timeline.batchHasRoom();

  /** What the orchestrator's system reports now (libvirt job info / QEMU query-migrate). */
  const view = (now: number): MigrationView => ({
    elapsedMs: now - input.startedAtMs,
    memoryBytes: input.memoryBytes,
    remainingBytes: remaining * ps,
    transferredBytes: wire.total.bytes,
    iterations: syncs,
    dirtyPagesPerSec: lastDirtyPagesPerSec,
    expectedDowntimeMs: lastExpectedDowntimeMs,
    downtimeLimitMs,
    phase: 'precopy',
    postcopyCapable: input.postcopy != null,
  });
  /**
   * Poll the orchestrator when its time has come and apply what it asks, in order. Returns true when
   * an action ended the live rounds (post-copy, pause or abort).
   */
  const pollOrchestrator = (now: number): boolean => {
    if (!orchestrator || now < nextPollAtMs) return false;
    const seen = view(now);
    nextPollAtMs = now + orchestrator.nextPollInMs(seen);
    for (const a of orchestrator.poll(seen)) {
      if (applyAction(a, now)) return true;
    }
    return false;
  };
  const applyAction = (a: OrchestratorAction, now: number): boolean => {
    const atMs = now - input.startedAtMs;
    switch (a.kind) {
      case 'set-downtime':
        actions.push({ atMs, action: a.kind, reason: null, detail: null, before: downtimeLimitMs, after: a.downtimeLimitMs });
        downtimeLimitMs = a.downtimeLimitMs;
        return false;
      case 'postcopy':
        // only asked when the view said postcopyCapable; the modes refuse a scenario whose orchestrator
        // may ask for it where post-copy cannot run (orchestrator/support.ts)
        if (!input.postcopy) throw new Error(`precopy loop: the orchestrator asked for post-copy (${a.reason}) but this run has no post-copy port`);
        actions.push({ atMs, action: a.kind, reason: a.reason, detail: a.detail ?? null, before: 'precopy', after: 'postcopy' });
        postcopyNow = true;
        return true;
      case 'pause':
        actions.push({ atMs, action: a.kind, reason: a.reason, detail: a.detail ?? null, before: 'running', after: 'paused' });
        orchestratorEnd = { outcome: 'paused', reason: a.reason };
        return true;
      case 'abort':
        actions.push({ atMs, action: a.kind, reason: a.reason, detail: a.detail ?? null, before: 'migrating', after: 'aborted' });
        orchestratorEnd = { outcome: 'aborted', reason: a.reason };
        return true;
    }
  };

  // --- live rounds ---
  for (;;) {
    if (input.signal?.aborted) {
      decision = CANCEL_INTERRUPTED;
      break;
    }
    failIfBroken();
    wire.collect();
    let now = timeline.nowMs();
    if (pollOrchestrator(now)) break;
    decision = decideOnTime(settings, now - input.startedAtMs);
    if (decision.action !== 'continue') break;
    let bandwidth = meter.bytesPerSec();
    // QEMU checks its pending estimate between iterations only: one ended, the next starts now
    const atBoundary = iterationDone(now);
    if (atBoundary) startIteration(now);
    if (atBoundary && policy.shouldSync(remaining * ps, bandwidth) && (sentSinceSync > 0 || remaining === 0)) {
      const flushing = wire.flush();
      if (flushing) {
        yield flushing; // multifd flush: every packet taken so far is applied before the sync
        now = timeline.nowMs();
      }
      if (!meter.measured) {
        // A bulk round shorter than one 100 ms window: it is the first measurement.
        meter.closeFirstWindow();
        bandwidth = meter.bytesPerSec();
        if (!policy.shouldSync(remaining * ps, bandwidth) && remaining > 0) {
          yield* stepEnd();
          continue;
        }
      }
      const found = pages.sync();
      syncs++;
      wire.synced(syncs);
      updateXbzrleRates(now, false);
      liveDirtyFound += found;
      if (now > lastSyncMs) lastDirtyPagesPerSec = (found * 1000) / (now - lastSyncMs);
      lastSyncMs = now;
      startIteration(now);
      remaining = pages.count();
      sentSinceSync = 0;
      const roundSent = wire.round.pages;
      const roundMs = now - roundStartMs;
      const roundBandwidth = roundMs > 0 ? (wire.round.bytes * 1000) / roundMs : 0;
      closeRound(now, found, remaining, bandwidth, thresholdAt(bandwidth, roundBandwidth));
      // Convergence aids, evaluated at the sync as QEMU does (migration_trigger_throttle); they act on
      // the next round (the record just closed shows the throttle the guest ran under).
      if (trigger?.onSync(now, found * ps, wire.total.bytes)) {
        const aids = aidsAfterTrigger(settings, { throttlePercent, dirtyLimitArmed });
        if (aids.dirtyLimitArmed && !dirtyLimitArmed) guest.setDirtyLimit(settings.dirtyLimitPagesPerSec!);
        if (aids.throttlePercent !== throttlePercent) guest.setThrottle(aids.throttlePercent);
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
        totalSentBytes: wire.total.bytes,
        memoryBytes: input.memoryBytes,
        pageSizeBytes: ps,
      }));
      prevRoundSentPages = roundSent;
      if (input.postcopy && switchesToPostcopy(decision, rounds.length, input.postcopy.startAfterRounds)) {
        postcopyNow = true; // the switch: pause as for a stop-and-copy, then post-copy (below)
        break;
      }
      if (decision.action !== 'continue') break;
      stage = 'iterative';
      roundStartMs = now;
      roundStartWrites = guest.totalWrites();
      roundOpen = true;
      yield* stepEnd();
      continue;
    }
    // One batch from the cursor: until the timeline has no room, the policy would sync, or the timeout.
    for (;;) {
      let page = pages.nextFrom(cursor);
      if (page < 0) page = pages.nextFrom(0);
      if (page < 0) {
        remaining = 0; // nothing pending: the next turn syncs
        break;
      }
      const sending = wire.send(page, stage, false, liveBatchFull);
      sentSinceSync += took();
      if (sending) yield sending;
      moveCursor();
      if (liveBatchFull()) break;
    }
    const pausing = timeline.afterBatch(true);
    sample(timeline.nowMs());
    yield* done(pausing);
    yield* stepEnd();
  }

  wire.collect();
  const liveEndMs = timeline.nowMs();
  const precopyBytes = wire.total.bytes;
  const liveDurationMs = liveEndMs - liveStartMs;
  const liveLimit = settings.liveRateBytesPerSec;
  const liveBytesPerSec = liveDurationMs > 0 ? (precopyBytes * 1000) / liveDurationMs : 0;
  const waits = wire.waits;
  const engine: PrecopyEngineFacts = {
    liveRateLimitBytesPerSec: Number.isFinite(liveLimit) ? liveLimit : null,
    liveBytesPerSec,
    liveDurationMs,
    linkWaitMs: waits ? waits.linkWaitMs() : 0,
    ringWaitMs: 0,
    destinationWaitMs: 0,
  };
  const engineBound = waits !== null && isEngineBound({ liveRateLimitBytesPerSec: liveLimit, liveBytesPerSec, liveDurationMs, linkWaitMs: engine.linkWaitMs });
  const dirtyPagesRate = lastSyncMs > liveStartMs ? (liveDirtyFound * 1000) / (lastSyncMs - liveStartMs) : 0;

  // A round still open ended without a sync of its own (a timeout mid-round, or a cancel).
  if (roundOpen) {
    const bw = meter.rateForRecord();
    closeRound(liveEndMs, 0, remaining, bw, thresholdAt(bw));
  }
  // A cancelled migration leaves the guest running on the source at full speed.
  const liftAids = (): void => {
    if (throttlePercent > 0) guest.setThrottle(0);
    if (dirtyLimitArmed) guest.setDirtyLimit(0);
  };

  // the live loop only ends on a stop-and-copy, a cancel, the switch to post-copy or an orchestrator's pause or abort
  const ended = orchestratorEnd as Extract<Outcome, { outcome: 'paused' | 'aborted' }> | null;
  const outcome: Outcome = postcopyNow ? { outcome: 'postcopy' } : (ended ?? (decision as Exclude<Decision, { action: 'continue' }>).outcome);
  const cancelled = !postcopyNow && (ended ? ended.outcome === 'aborted' : decision.action === 'cancel');
  const orchestratorReport: OrchestratorReport | null = orchestrator ? { kind: orchestrator.kind, start: input.orchestratorStart ?? {}, actions } : null;
  sample(liveEndMs, true);
  const finish = (status: 'completed' | 'cancelled', endMs: number, downtimeMs: number | null, expectedMs: number, pauseMs: number | null): PrecopyRun => {
    const totalTime = endMs - input.startedAtMs;
    if (waits) engine.ringWaitMs = waits.ringWaitMs();
    const downtimeBytes = wire.total.bytes - precopyBytes;
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
          transferredBytes: wire.total.bytes,
          transferredPages: wire.total.pages,
          zeroPages: wire.total.zeroPages,
          normalPages: wire.total.normalPages,
          remainingBytes: remaining * ps,
          memoryBytes: input.memoryBytes,
          pageSizeBytes: ps,
          dirtySyncCount: syncs,
          dirtyPagesPerSec: dirtyPagesRate,
          precopyBytes,
          downtimeBytes,
          totalTimeMs: totalTime,
          setupTimeMs,
        }),
        ...(xbzrle ? { 'xbzrle-cache': xbzrle.stats() } : {}),
      },
      engineBound,
      engine,
      pauseRequestedAtMs: pauseMs,
      resumedAtMs: status === 'completed' ? endMs : null,
      orchestrator: orchestratorReport,
    };
  };

  if (cancelled) {
    liftAids();
    return finish('cancelled', liveEndMs, null, lastExpectedDowntimeMs, null);
  }

  // --- stop-and-copy ---
  const pauseRequestedAtMs = timeline.nowMs();
  stage = 'stop-and-copy';
  roundStartMs = pauseRequestedAtMs;
  roundStartWrites = guest.totalWrites();
  yield* done(guest.pause());
  failIfBroken();
  yield* done(wire.flush()); // a live round may have been cut short: its packets land first
  const finalFound = pages.sync();
  syncs++;
  wire.synced(syncs);
  remaining = pages.count();
  const pendingAtPause = remaining;
  wire.setLiveLimit(false); // QEMU lifts max-bandwidth for the final copy
  cursor = 0;
  yield* stepEnd();
  if (postcopyNow && input.postcopy) {
    // --- post-copy (src/postcopy/): the guest resumes on the destination now; its pending pages follow ---
    const resumedAtMs = yield* answer(input.postcopy.switchover());
    failIfBroken();
    const bw = meter.rateForRecord();
    // the switch's record (stage stop-and-copy): the pages missing at the pause, the downtime
    closeRound(resumedAtMs, finalFound, pendingAtPause, bw, thresholdAt(bw), lastExpectedDowntimeMs);
    liftAids(); // the guest runs on the destination now, at full speed
    let completedAtMs: number;
    if (timeline.steps && input.postcopy.completeStep) {
      // a step at a time, so a fleet's other migrations share the link with this post-copy phase
      for (let at = input.postcopy.completeStep(); ; at = input.postcopy.completeStep()) {
        if (at !== null) {
          completedAtMs = at;
          break;
        }
        yield* stepEnd();
      }
    } else completedAtMs = yield* answer(input.postcopy.complete());
    failIfBroken();
    remaining = 0;
    sample(completedAtMs, true);
    return { ...finish('completed', completedAtMs, resumedAtMs - pauseRequestedAtMs, lastExpectedDowntimeMs, pauseRequestedAtMs), resumedAtMs };
  }
  // Batches of every pending page; the batch that empties them carries the device state and the end.
  for (;;) {
    let exhausted = remaining === 0;
    while (!exhausted) {
      const page = pages.nextFrom(cursor);
      if (page < 0) {
        exhausted = true; // (cannot happen while `remaining` counts the pending pages)
        break;
      }
      const sending = wire.send(page, stage, true, finalBatchFull);
      took();
      if (sending) yield sending;
      moveCursor();
      exhausted = remaining === 0;
      if (finalBatchFull()) break;
    }
    if (exhausted) {
      yield* done(wire.sendDeviceState());
      yield* done(wire.sendEnd());
    }
    yield* done(timeline.afterBatch(false));
    wire.collect();
    sample(timeline.nowMs());
    if (exhausted) break;
    yield* stepEnd();
  }
  const resumedAtMs = yield* answer(wire.awaitResume());
  failIfBroken();
  sample(resumedAtMs, true);
  const bw = meter.rateForRecord();
  const expectedAtSwitchover = lastExpectedDowntimeMs;
  // The stop-and-copy record: the pages pending after the final sync, and the downtime expected then.
  closeRound(resumedAtMs, finalFound, pendingAtPause, bw, thresholdAt(bw), expectedAtSwitchover);
  liftAids(); // the guest now runs on the destination; the source's vCPUs stay paused
  return finish('completed', resumedAtMs, resumedAtMs - pauseRequestedAtMs, expectedAtSwitchover, pauseRequestedAtMs);
}
