/**
 * The prediction proper: an expected-value ("fluid") replay of the engine's own loop (precopy/loop.ts)
 * round by round, with the overlap and working-set corrections of the write model (write-model.ts), over
 * the pending segments (pending-set.ts).
 *  - the policy is the engine's own (`createPolicy` from precopy/policies.ts, `decideOnTime` from
 *    convergence.ts): no policy code is copied here. QEMU's rule as the engine runs it: a round sends
 *    runs of pending pages from a wrapping cursor until what is left is <= V_thd, and then on to the end
 *    of the QEMU iteration it is in (convergence.ts `iterationEnded`: the next multiple of a rate-limit
 *    window's budget, R × 100 ms, of bytes since the last sync, or nothing left), so a round leaves up to
 *    ~V_thd unsent, the "leftover", and always sends at least one iteration; then the dirty log is synced
 *    into the pending set (leftover ∪ pages written during the round); the loop switches over when the
 *    pending bytes are 0 or < V_thd, forces a stop after maxRounds, and at the timeout (counted from the
 *    request, setup included) cancels or forces a stop. Because of the leftover, the excess over V_thd,
 *    not the pending total, shrinks by ~λ per round: more rounds than n, and a downtime under the
 *    limit. Round-based policies (xen, hyperv, …) sync when nothing is left: the model finds the sync
 *    point of any policy by bisection on `policy.shouldSync`. dirty-sync-count counts the sync that
 *    starts dirty logging, as QEMU's and the engine's do.
 *  - convergence aids: auto-converge and dirty-limit through the engine's own trigger
 *    (`AutoConvergeTrigger`), scaling the write rate as the vCPU loop does.
 *  - time: the live rate is min(maxBandwidth, link); the emulated link is a token bucket that lets a
 *    burst of DEFAULT_BURST_MS through ahead of the rate; a phase starting on an idle link (the live
 *    phase, the stop-and-copy after the rate limit is lifted) ends that much earlier. The switchover
 *    threshold uses the configured live rate (the engine measures it). Before the first 100 ms bandwidth
 *    window closes the threshold is 0, so a bulk round shorter than that sends everything. Latency adds
 *    to the downtime once (the end frame).
 *  - zero pages: writes during the setup (PredictOptions.setupMs) and, within a round, before the cursor
 *    reaches a page (on average (1 − e^{−r t})/(r t) of a class's zero pages survive a round of t
 *    seconds) turn them normal.
 *  - XBZRLE (precopy.xbzrle): after the bulk round every page goes in a frame of its own; a page that
 *    hits the cache (pending-set.ts keeps the cached pages) as its expected delta, a miss in full, a zero
 *    page as a header (xbzrle-model.ts). The switchover still counts pending pages.
 * When the loop reaches a steady state that never converges, the rounds up to the limit are extrapolated
 * (`elidedRounds`): as soon as the excess over V_thd heads geometrically to a limit clearly above 0
 * (steady-state.ts; the rounds' figures follow the same geometric tail, summed in closed form), else
 * after 64 rounds without a 1e-6 improvement of the excess (the average of the last 64 rounds).
 * Pure: no threads, no clock, no I/O.
 */
import type { AutoConverge } from '../../options.ts';
import { AutoConvergeTrigger, aidsAfterTrigger } from '../../precopy/aids.ts';
import { QEMU_BUFFER_DELAY_MS, decideOnTime, expectedDowntimeMs, type Decision } from '../../precopy/convergence.ts';
import { createPolicy, policyInput, type Policy, type PolicySettings } from '../../precopy/policies.ts';
import { switchesToPostcopy } from '../../precopy/postcopy-port.ts';
import type { RoundRecord, RoundStage } from '../../results/migration-stats.ts';
import { DEVICE_CHUNK_BYTES, HEADER_BYTES } from '../../transport/frame.ts';
import { BandwidthMeter } from '../../transport/link.ts';
import { align8 } from '../../transport/ring.ts';
import { EPS, PendingSet, type Sent } from './pending-set.ts';
import { geometricLimit, geometricTailSum, settledAbove } from './steady-state.ts';
import type { WriteModel } from './write-model.ts';
import type { XbzrleModel } from './xbzrle-model.ts';

export interface Ctx {
  N: number;
  ps: number;
  maxRun: number;
  liveRate: number;
  linkRate: number;
  burstMs: number;
  latencyMs: number;
  deviceStateBytes: number;
  /** the share of the guest's pages that start as zero (zero-share.ts) */
  zeroShare: number;
  /** the same per write-model region (workload.workingSetZero gives the hot set its own) */
  regionZeroShares: readonly number[];
  model: WriteModel;
  /** page writes/s asked of all vCPUs (0 when idle) */
  dirtyRatePagesPerSec: number;
  vcpus: number;
  autoConverge: AutoConverge | null;
  /** page writes/s per vCPU once the dirty limit is armed, or null */
  dirtyLimitPagesPerSec: number | null;
  /** ms before the live phase starts (counted in total time and by the timeout) */
  setupMs: number;
  /** precopy.xbzrle, when on: re-sent pages after the bulk round go through the cache (xbzrle-model.ts) */
  xbzrle: XbzrleModel | null;
}

interface Totals {
  pages: number;
  zero: number;
  /** XBZRLE cache hits (sent as deltas or skipped): neither zero nor normal */
  hits: number;
  normal: number;
  bytes: number;
}

export interface SimResult {
  decision: Decision;
  rounds: RoundRecord[];
  elidedRounds: number;
  liveRounds: number;
  syncs: number;
  liveDirtyFound: number;
  lastSyncMs: number;
  precopyBytes: number;
  downtimeBytes: number;
  total: Totals;
  remainingPages: number;
  downtimeMs: number | null;
  totalTimeMs: number;
  expectedDowntimeMs: number;
  /** the loop settled in a steady state that never converges (only when detection is on) */
  stuck: boolean;
  /** post-copy (options.postcopyAfterRounds): the pending set at the switch (the loop stopped at that sync, totalTimeMs is its time); else null */
  switched: PendingSet | null;
}

const STUCK_WINDOW = 64;
const MAX_ITERATIONS = 100_000;

/** The aids are off at the start: the guest writes at full rate. */
function slowdownAtStart(ctx: Ctx): number {
  return ctx.dirtyRatePagesPerSec > 0 ? 1 : 0;
}

/** ms at which the live phase has committed `bytes` (the token bucket lets `burstMs` through ahead). */
function commitMs(ctx: Ctx, bytes: number, notBefore: number): number {
  if (ctx.liveRate === Infinity) return notBefore;
  return Math.max(notBefore, ctx.setupMs + (bytes * 1000) / ctx.liveRate - ctx.burstMs);
}

/**
 * Pages the bulk round sends from page 0 for `bytes`: each region at its own bytes per page (its zero
 * pages ride as bits in their run's header), in address order.
 */
function bulkWindowPages(ctx: Ctx, bytes: number): number {
  const perPage = (zero: number): number => (1 - zero) * ctx.ps + HEADER_BYTES / ctx.maxRun;
  const shares = ctx.regionZeroShares;
  if (shares.every((z) => z === ctx.zeroShare)) return bytes / perPage(ctx.zeroShare);
  let pages = 0;
  let left = bytes;
  for (let i = 0; i < ctx.model.regions.length; i++) {
    const r = ctx.model.regions[i];
    const cost = perPage(shares[i] ?? ctx.zeroShare);
    const len = r.end - r.start;
    if (left <= len * cost) return pages + left / cost;
    pages += len;
    left -= len * cost;
  }
  return pages;
}

export function deviceStateWireBytes(bytes: number): number {
  let wire = 0;
  for (let off = 0; off < bytes; off += DEVICE_CHUNK_BYTES) wire += align8(HEADER_BYTES + Math.min(DEVICE_CHUNK_BYTES, bytes - off));
  return wire;
}

/**
 * Where the policy syncs at `bandwidth`: the T (bytes) with `policy.shouldSync(x, bandwidth)` ⇔ x <= T
 * for every x >= 0, or null when that cannot be seen. The candidates are the policy's own threshold and
 * 0 (round-based policies); one is T when shouldSync holds at it and not at the next double above it
 * (shouldSync is monotone: true up to a point, false beyond, as syncPoint assumes).
 */
function syncBoundary(policy: Policy, ps: number, bandwidth: number): number | null {
  const own = policy.thresholdBytes({ bandwidthBytesPerSec: bandwidth, roundBandwidthBytesPerSec: bandwidth, pageSizeBytes: ps });
  for (const t of [own, 0]) {
    if (Number.isFinite(t) && t >= 0 && policy.shouldSync(t, bandwidth) && !policy.shouldSync(nextUp(t), bandwidth)) return t;
  }
  return null;
}

const bits = new Float64Array(1);
const bitsAsInt = new BigInt64Array(bits.buffer);
/** The next double above a finite x >= 0. */
function nextUp(x: number): number {
  bits[0] = x;
  bitsAsInt[0] += 1n; // the bit pattern of a non-negative double grows with its value (0 → the least subnormal)
  return bits[0];
}

/**
 * The most pages that may still be pending when the policy syncs: the largest r in [0, P] with
 * `policy.shouldSync(r × pageSize, bandwidth)` (it is true at 0 and monotone). QEMU: the threshold;
 * round-based policies: 0. `boundary` (syncBoundary), when known, stands in for asking the policy: the
 * same bisection, the same answer, without a call per step.
 */
function syncPoint(policy: Policy, pending: number, ps: number, bandwidth: number, boundary: number | null): number {
  const sync = boundary === null ? (bytes: number): boolean => policy.shouldSync(bytes, bandwidth) : (bytes: number): boolean => bytes <= boundary;
  if (sync(pending * ps)) return pending;
  if (!sync(0)) return 0;
  let lo = 0;
  let hi = pending;
  for (let k = 0; k < 80 && hi - lo > 1e-9 * Math.max(1, pending); k++) {
    const mid = (lo + hi) / 2;
    if (sync(mid * ps)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * `postcopyAfterRounds` (postcopy.startAfterRounds, when post-copy is on): at a sync after that many live
 * rounds where pre-copy would go on or be forced to stop, the loop stops and hands back the pending set
 * (`switched`), as the engine switches (precopy/postcopy-port.ts `switchesToPostcopy`, the same rule).
 */
export function simulate(ctx: Ctx, settings: PolicySettings, options: { record: boolean; detectStuck: boolean; jump: boolean; postcopyAfterRounds?: number }): SimResult {
  const { ps, maxRun, model } = ctx;
  const policy = createPolicy(settings);
  const set = new PendingSet(ctx.N, model.classPages.length, model.regions, ctx.regionZeroShares, ctx.xbzrle?.cachePages ?? null);
  const xbz = ctx.xbzrle;
  /** XBZRLE: expected wire bytes of a hit per class this round (set at the start of each round) */
  const hitCost = new Float64Array(model.classPages.length);
  /** writes/s per page of each class at full rate (sequential: a sweep's pass over its slice) */
  const writesPerPage = model.kind === 'sequential' ? Float64Array.of(model.slices.length > 0 ? model.sliceRate / Math.max(1, model.slices[0].end - model.slices[0].start) : 0) : model.ratePerPage;
  /** how the set sends in the current stage: through the XBZRLE cache after the bulk round */
  const via = (): { insert: boolean } | null => (xbz !== null && stage !== 'bulk' ? { insert: stage !== 'stop-and-copy' } : null);
  let lastRoundMs = 0;
  const seqPos = model.slices.map((s) => s.start);
  const rounds: RoundRecord[] = [];
  const total: Totals = { pages: 0, zero: 0, hits: 0, normal: 0, bytes: 0 };
  const pageBytes = (s: Sent): number => {
    if (s.hitsByClass === null || xbz === null) return (s.pages - s.zero) * ps + s.runs * HEADER_BYTES;
    // XBZRLE: one page per frame; hits at their class's expected delta
    let b = s.zero * xbz.zeroWireBytes + Math.max(0, s.pages - s.zero - s.hits) * xbz.missWireBytes;
    for (let c = 0; c < s.hitsByClass.length; c++) if (s.hitsByClass[c] > 0) b += s.hitsByClass[c] * hitCost[c];
    return b;
  };
  const R = ctx.liveRate;
  const w = ctx.dirtyRatePagesPerSec;
  // the policy's sync point at the two bandwidths the loop asks about (R, and 0 before the first window closes)
  const boundaryAtR = syncBoundary(policy, ps, R);
  const boundaryAt0 = syncBoundary(policy, ps, 0);
  /** bytes of one of QEMU's iterations: a rate-limit window's budget */
  const iterationBytes = (R * QEMU_BUFFER_DELAY_MS) / 1000;

  // Convergence aids: the engine's own trigger, fed with the model's syncs.
  const trigger = ctx.autoConverge || ctx.dirtyLimitPagesPerSec !== null ? new AutoConvergeTrigger(ctx.autoConverge, 0) : null;
  let throttle = 0;
  let limitArmed = false;
  /** achieved ÷ asked page writes under the aids */
  const slowdown = (): number => {
    if (w <= 0) return 0;
    const per = (w / ctx.vcpus) * (1 - throttle / 100);
    return (Math.min(per, limitArmed && ctx.dirtyLimitPagesPerSec !== null ? ctx.dirtyLimitPagesPerSec : Infinity) * ctx.vcpus) / w;
  };

  /** the aids can change nothing more: none, or the throttle at its top and the dirty limit armed */
  const aidsSettled = (): boolean =>
    trigger === null || ((ctx.autoConverge === null || throttle >= ctx.autoConverge.max) && (ctx.dirtyLimitPagesPerSec === null || limitArmed));

  let t = ctx.setupMs; // ms since the start; the live phase starts after the setup
  // The vCPUs run during the setup too: their writes turn zero pages into normal ones before the bulk
  // round (the dirty log is cleared at the start of the live phase, so they are not dirty).
  if (ctx.setupMs > 0) set.write(model, (ctx.setupMs / 1000) * slowdownAtStart(ctx), seqPos);
  let liveBytes = 0;
  let liveRounds = 0;
  // QEMU counts the sync that starts dirty logging in dirty-sync-count (as the engine's loop does)
  let syncs = 1;
  let liveDirtyFound = 0;
  let lastSyncMs = ctx.setupMs;
  let elided = 0;
  let lastExpected = 0;
  let prevSent: number | null = null;
  let decision: Decision = { action: 'continue' };
  let bestExcess = Infinity;
  let lastImprovement = 0;
  // the excess over V_thd after each sync since the aids last changed (steady-state.ts)
  const excesses: number[] = [];
  let jumped = false;
  const recent: { ms: number; bytes: number; pages: number; zero: number; hits: number; dirty: number }[] = [];
  let stage: RoundStage = 'bulk';

  const thresholdAt = (roundBandwidth: number): number => policy.thresholdBytes({ bandwidthBytesPerSec: R, roundBandwidthBytesPerSec: roundBandwidth, pageSizeBytes: ps });
  const record = (startMs: number, endMs: number, send: Sent, bytes: number, dirty: number, pending: number, expected: number, threshold: number, factor: number): void => {
    if (!options.record) return;
    const dur = endMs - startMs;
    rounds.push({
      round: rounds.length + elided,
      stage,
      startMs,
      durationMs: dur,
      dirtyPages: dirty,
      pendingPages: pending,
      sentPages: send.pages,
      zeroPages: send.zero,
      normalPages: send.pages - send.zero - send.hits,
      bytes,
      bandwidthBytesPerSec: dur > 0 ? (bytes * 1000) / dur : 0,
      dirtyRatePagesPerSec: w * factor,
      expectedDowntimeMs: expected,
      thresholdBytes: threshold,
      throttlePercent: throttle,
      guestSlowdown: w > 0 && dur > 0 ? factor : null,
    });
  };
  /**
   * Go on sending from where `sent` stopped to the end of the iteration it ended in: the next multiple
   * of a window's budget (R × 100 ms) of bytes since the sync, or until nothing is pending (which is
   * also where an unlimited live rate, whose 50 ms never pass here, ends). The extra pages are taken at
   * the round's average bytes per page so far.
   */
  const toIterationEnd = (sent: Sent): Sent => {
    const left = set.pending();
    if (left <= EPS) return sent;
    const b = pageBytes(sent);
    let more = left;
    if (iterationBytes !== Infinity) {
      const end = Math.max(1, Math.ceil((b / iterationBytes) * (1 - 1e-12))) * iterationBytes;
      more = Math.min(left, (end - b) / (b / sent.pages));
    }
    if (more <= EPS) return sent;
    const extra = set.send(more, maxRun, via());
    const zeroByClass = sent.zeroByClass === extra.zeroByClass ? sent.zeroByClass : sent.zeroByClass.map((z, c) => z + extra.zeroByClass[c]);
    const hitsByClass = sent.hitsByClass === null || extra.hitsByClass === null ? sent.hitsByClass : sent.hitsByClass.map((h, c) => h + extra.hitsByClass![c]);
    return { pages: sent.pages + extra.pages, zero: sent.zero + extra.zero, runs: sent.runs + extra.runs, zeroByClass, hits: sent.hits + extra.hits, hitsByClass };
  };
  const account = (send: Sent, bytes: number): void => {
    total.pages += send.pages;
    total.zero += send.zero;
    total.hits += send.hits;
    total.bytes += bytes;
  };

  for (let iter = 0; ; iter++) {
    const P = set.pending();
    // How far this round sends: until the policy would sync. The bandwidth reads 0 until the first
    // 100 ms window closes, so a bulk round sends at least what goes out in that window.
    let target = P <= EPS ? 0 : Math.max(P - syncPoint(policy, P, ps, R, boundaryAtR), EPS);
    if (stage === 'bulk' && P > EPS) {
      const unmeasured = P - syncPoint(policy, P, ps, 0, boundaryAt0);
      const windowPages = R === Infinity ? Infinity : bulkWindowPages(ctx, (((BandwidthMeter.WINDOW_MS + ctx.burstMs) / 1000) * R));
      target = Math.max(target, Math.min(unmeasured, windowPages));
    }
    const factor = slowdown();
    if (xbz !== null && stage !== 'bulk') for (let c = 0; c < hitCost.length; c++) hitCost[c] = xbz.hitWireBytes((writesPerPage[c] ?? 0) * factor * (lastRoundMs / 1000));
    // keep the state to redo the round if it may reach the timeout (the bound: every pending page in its own frame)
    const mayTimeOut = decideOnTime(settings, commitMs(ctx, liveBytes + P * (ps + HEADER_BYTES), t)).action !== 'continue';
    const before = mayTimeOut ? set.clone() : null;
    let send = set.send(target, maxRun, via());
    // QEMU's cadence (convergence.ts `iterationEnded`): the remainder is looked at, and synced, only at
    // the end of an iteration: every window's budget of bytes since the last sync, or when nothing is left.
    if (send.pages > 0) send = toIterationEnd(send);
    let bytes = pageBytes(send);
    let end = commitMs(ctx, liveBytes + bytes, t);
    if (model.kind === 'random' && send.zero > 0) {
      // A zero page written before the cursor reaches it goes as a normal page. Pages are sent evenly
      // over the round, so a page of class c is still zero when sent with probability
      // (1 − e^{−r t}) / (r t) on average. (Sequential sweeps trail the cursor while λ < 1: no loss.)
      for (let pass = 0; pass < 2; pass++) {
        const sec = ((end - t) / 1000) * factor;
        let zero = 0;
        for (let c = 0; c < send.zeroByClass.length; c++) {
          const x = model.ratePerPage[c] * sec;
          zero += send.zeroByClass[c] * (x > 1e-12 ? -Math.expm1(-x) / x : 1);
        }
        send = { ...send, zero };
        bytes = pageBytes(send);
        end = commitMs(ctx, liveBytes + bytes, t);
      }
    }

    // The engine checks the timeout before every batch and before the sync: a round that would end at
    // or after it is cut there.
    const onTime = decideOnTime(settings, end);
    if (onTime.action !== 'continue' && before) {
      const cutBytes = R === Infinity ? 0 : Math.max(0, ((settings.timeoutMs - ctx.setupMs + ctx.burstMs) / 1000) * R - liveBytes);
      set.segs = before.segs;
      set.cursor = before.cursor;
      set.cached = before.cached;
      send = set.send(bytes > 0 ? send.pages * Math.min(1, cutBytes / bytes) : 0, maxRun, via());
      bytes = pageBytes(send);
      end = Math.max(t, settings.timeoutMs);
      decision = onTime;
      liveBytes += bytes;
      account(send, bytes);
      const remaining = set.pending();
      lastExpected = expectedDowntimeMs(remaining * ps, R);
      // the engine closes the open round without a sync: nothing found, the migration bitmap pending
      record(t, end, send, bytes, 0, remaining, lastExpected, thresholdAt(R), factor);
      const dirty = set.write(model, ((end - t) / 1000) * factor, seqPos);
      t = end;
      if (decision.action === 'cancel') return finish(remaining, false);
      return stopAndCopy(dirty);
    }

    liveBytes += bytes;
    account(send, bytes);
    const dirty = set.write(model, ((end - t) / 1000) * factor, seqPos);
    set.evictStale();
    set.normalize();
    syncs++;
    liveRounds++;
    liveDirtyFound += dirty;
    lastSyncMs = end;
    const pending = set.pending();
    const dur = end - t;
    lastRoundMs = dur;
    const roundBandwidth = dur > 0 ? (bytes * 1000) / dur : bytes > 0 ? Infinity : 0;
    const threshold = thresholdAt(roundBandwidth);
    lastExpected = expectedDowntimeMs(pending * ps, R);
    record(t, end, send, bytes, dirty, pending, lastExpected, threshold, factor);
    recent.push({ ms: dur, bytes, pages: send.pages, zero: send.zero, hits: send.hits, dirty });
    if (recent.length > STUCK_WINDOW) recent.shift();
    t = end;
    if (trigger?.onSync(end, dirty * ps, total.bytes)) {
      const before: number = throttle;
      const wasArmed: boolean = limitArmed;
      ({ throttlePercent: throttle, dirtyLimitArmed: limitArmed } = aidsAfterTrigger(ctx, { throttlePercent: throttle, dirtyLimitArmed: limitArmed }));
      if (throttle !== before || limitArmed !== wasArmed) excesses.length = 0;
    }
    decision = policy.decide(policyInput({
      pendingPages: pending <= EPS ? 0 : pending,
      dirtyPagesAtSync: dirty,
      sentPagesThisRound: send.pages,
      sentPagesPrevRound: prevSent,
      liveRounds,
      elapsedMs: end,
      bandwidthBytesPerSec: R,
      roundBandwidthBytesPerSec: roundBandwidth,
      totalSentBytes: total.bytes,
      memoryBytes: ctx.N * ps,
      pageSizeBytes: ps,
    }));
    prevSent = send.pages;
    if (options.postcopyAfterRounds !== undefined && switchesToPostcopy(decision, liveRounds, options.postcopyAfterRounds)) {
      const r = finish(pending, false);
      r.switched = set;
      return r;
    }
    if (decision.action === 'cancel') return finish(pending, false);
    if (decision.action === 'stop-and-copy') return stopAndCopy(0);
    stage = 'iterative';

    // A steady state that never converges: stop (the diagnosis) or extrapolate to the limit (the prediction).
    const excess = pending - threshold / ps;
    if (excess < bestExcess * (1 - 1e-6) - EPS) {
      bestExcess = excess;
      lastImprovement = liveRounds;
    }
    excesses.push(excess);
    // a steady state reached early: the excess heads geometrically to a limit above 0, and the aids
    // (when armed) can change nothing more
    const rho = stage === 'iterative' && aidsSettled() ? settledAbove(excesses) : null;
    const isStuck = rho !== null || liveRounds - lastImprovement >= STUCK_WINDOW || iter >= MAX_ITERATIONS;
    if (iter >= 2 * MAX_ITERATIONS) {
      // neither a steady state nor a limit in sight: stop the way the engine's no-progress stop would
      decision = { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'no-progress' } };
      return stopAndCopy(0);
    }
    if (isStuck && options.detectStuck) return finish(pending, true);
    if (isStuck && options.jump && !jumped && recent.length > 0) {
      jumped = true;
      const k = recent.length;
      // per round in the steady state: the geometric limit of the last rounds (steady-state.ts), or the
      // average of the last STUCK_WINDOW rounds when no geometric approach was seen
      const avg = { ms: 0, bytes: 0, pages: 0, zero: 0, hits: 0, dirty: 0 };
      const fields = ['ms', 'bytes', 'pages', 'zero', 'hits', 'dirty'] as const;
      if (rho !== null && k >= 2) for (const f of fields) avg[f] = geometricLimit(recent[k - 2][f], recent[k - 1][f], rho);
      else {
        for (const r of recent) for (const f of fields) avg[f] += r[f] / k;
      }
      /** the next m rounds' sum of a figure */
      const tail = (f: (typeof fields)[number], m: number): number => (rho !== null && k >= 2 ? geometricTailSum(recent[k - 2][f], recent[k - 1][f], rho, m) : m * avg[f]);
      const byRounds = Math.min(
        settings.maxRounds === null ? Infinity : settings.maxRounds - liveRounds - 1,
        options.postcopyAfterRounds === undefined ? Infinity : options.postcopyAfterRounds - liveRounds - 1,
      );
      const byTime = avg.ms > 0 ? Math.floor((settings.timeoutMs - t) / avg.ms) - 2 : Infinity;
      const m = Math.max(0, Math.min(byRounds, byTime));
      if (m > 0 && Number.isFinite(m)) {
        const ms = tail('ms', m);
        const bytesOver = tail('bytes', m);
        elided += m;
        liveRounds += m;
        syncs += m;
        liveDirtyFound += tail('dirty', m);
        liveBytes += bytesOver;
        account({ pages: tail('pages', m), zero: tail('zero', m), runs: 0, zeroByClass: new Float64Array(0), hits: tail('hits', m), hitsByClass: null }, bytesOver);
        t += ms;
        lastSyncMs = t;
        model.slices.forEach((sl, j) => {
          const size = sl.end - sl.start;
          seqPos[j] = sl.start + ((seqPos[j] - sl.start + (ms * model.sliceRate * factor) / 1000) % size);
        });
      }
    }
  }

  /** Pause, final sync, lift the live rate limit, send every pending page from page 0, the device state, the end frame. */
  function stopAndCopy(finalFound: number): SimResult {
    const pendingAtPause = set.pending();
    const factor = slowdown();
    stage = 'stop-and-copy';
    set.cursor = 0;
    if (xbz !== null) for (let c = 0; c < hitCost.length; c++) hitCost[c] = xbz.hitWireBytes((writesPerPage[c] ?? 0) * factor * (lastRoundMs / 1000));
    const send = set.send(pendingAtPause, maxRun, via());
    const bytes = pageBytes(send) + deviceStateWireBytes(ctx.deviceStateBytes) + HEADER_BYTES;
    account(send, bytes);
    syncs++;
    const wire = ctx.linkRate === Infinity ? 0 : Math.max(0, (bytes * 1000) / ctx.linkRate - ctx.burstMs);
    const downtime = wire + ctx.latencyMs;
    record(t, t + downtime, send, bytes, finalFound, pendingAtPause, lastExpected, thresholdAt(ctx.linkRate), factor);
    const last = rounds.at(-1);
    if (last) {
      last.dirtyRatePagesPerSec = 0; // paused
      last.guestSlowdown = w > 0 && downtime > 0 ? 0 : null;
    }
    const r = finish(0, false);
    r.downtimeMs = downtime;
    r.downtimeBytes = bytes;
    r.totalTimeMs = t + downtime;
    return r;
  }

  function finish(remainingPages: number, stuck: boolean): SimResult {
    total.normal = total.pages - total.zero - total.hits;
    return {
      decision,
      rounds,
      elidedRounds: elided,
      liveRounds,
      syncs,
      liveDirtyFound,
      lastSyncMs,
      precopyBytes: liveBytes,
      downtimeBytes: 0,
      total,
      remainingPages,
      downtimeMs: null,
      totalTimeMs: t,
      expectedDowntimeMs: lastExpected,
      stuck,
      switched: null,
    };
  }
}
