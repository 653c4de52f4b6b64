/**
 * The analytic predictor (`migbench predict`): what a scenario's pre-copy and quick migration will do,
 * computed at once from the resolved scenario. Pure: no threads, no clock, no I/O, no page contents.
 *
 * Two answers for pre-copy:
 * 1. `closedForm` (closed-form.ts) — DESIGN §6 as written. The reference and the textbook check.
 * 2. The prediction proper (`rounds`, `stats`, `outcome`): an expected-value ("fluid") replay of the
 *    engine's own loop round by round (fluid-loop.ts), with the overlap and working-set corrections of
 *    the write model (write-model.ts), over memory held as pending address segments (pending-set.ts).
 *    Once with the user's limits (the prediction), once without them (does it converge at all, and
 *    when?); the steady dirty set says why not. explain.ts puts it in one sentence.
 * Quick migration: quick-model.ts. The public types and the JSON form: prediction.ts.
 *
 * Left out: the engine's per-round costs (dirty sync, event-loop turns, timer granularity),
 * measured-bandwidth noise (which moves V_thd, and so decides the last rounds), vCPU rate jitter, the
 * setup time itself (PredictOptions.setupMs, default 0; 100–500 ms here), the address order of the
 * leftover within a segment, the CPU cost of copying and zero-checking (an "unlimited" link takes no
 * time), fsync, and the randomness of the dirty counts: every count here is an expectation.
 */
import type { Scenario } from '../../options.ts';
import { switchoverThresholdBytes } from '../../precopy/convergence.ts';
import type { Outcome, StopReason } from '../../results/outcome.ts';
import type { PolicySettings } from '../../precopy/policies.ts';
import { DEFAULT_POLICY_PARAMS } from '../../precopy-params.ts';
import { ramStats } from '../../precopy/stats.ts';
import type { MigrationStats } from '../../results/migration-stats.ts';
import { maxRunPages } from '../../transport/frame.ts';
import { DEFAULT_BURST_MS } from '../../transport/link.ts';
import { closedFormPrecopy } from './closed-form.ts';
import { explainPrecopy } from './explain.ts';
import { deviceStateWireBytes, simulate, type Ctx, type SimResult } from './fluid-loop.ts';
import { applyLinkDown } from './link-down.ts';
import { postcopyPrediction } from './postcopy-prediction.ts';
import type { NonConvergence, PrecopyModelFacts, PrecopyPrediction, Prediction, PredictOptions } from './prediction.ts';
import { predictQuick } from './quick-model.ts';
import { halfWritesWorkingSet, steadyDirty, writeModel } from './write-model.ts';
import { xbzrleModel } from './xbzrle-model.ts';
import { initialZeroPages, regionZeroShares } from './zero-share.ts';

export function predict(scenario: Scenario, options: PredictOptions = {}): Prediction {
  const setupMs = Math.max(0, options.setupMs ?? 0);
  const ps = scenario.guest.pageSize;
  const N = scenario.guest.memory / ps;
  const liveRate = Math.min(scenario.precopy.maxBandwidth, scenario.link.bandwidth);
  const linkRate = scenario.link.bandwidth;
  const model = writeModel(scenario, N);
  const dirtyRatePagesPerSec = model.kind === 'none' ? 0 : scenario.workload.dirtyRate;
  const pc = scenario.precopy;
  const ctx: Ctx = {
    N,
    ps,
    maxRun: maxRunPages(ps),
    liveRate,
    linkRate,
    burstMs: options.linkBurstMs ?? DEFAULT_BURST_MS,
    latencyMs: scenario.link.latencyMs,
    deviceStateBytes: scenario.guest.deviceState,
    zeroShare: initialZeroPages(scenario) / N,
    regionZeroShares: regionZeroShares(scenario, model.regions),
    model,
    dirtyRatePagesPerSec,
    vcpus: scenario.guest.vcpus,
    autoConverge: pc.autoConverge,
    // as run.ts arms it: bytes/s per vCPU → page writes/s per vCPU
    dirtyLimitPagesPerSec: pc.dirtyLimit === null ? null : Math.max(1, pc.dirtyLimit / ps),
    setupMs,
    xbzrle: xbzrleModel(scenario),
  };
  const settings: PolicySettings = {
    downtimeLimitMs: pc.downtimeLimitMs,
    maxRounds: pc.maxRounds,
    timeoutMs: pc.timeoutMs,
    onTimeout: pc.onTimeout,
    policy: pc.policy,
    params: { ...DEFAULT_POLICY_PARAMS, ...pc.policyParams },
  };
  const thdBytes = switchoverThresholdBytes(liveRate, pc.downtimeLimitMs);
  const pcOn = scenario.postcopy.enabled;
  const run = simulate(ctx, settings, pcOn ? { record: true, detectStuck: false, jump: true, postcopyAfterRounds: scenario.postcopy.startAfterRounds } : { record: true, detectStuck: false, jump: true });
  // The same loop without the user's limits says whether it converges at all (and when).
  // (A run that converged within the limits is that run already.)
  const free =
    run.decision.action === 'stop-and-copy' && run.decision.outcome.outcome === 'converged'
      ? run
      : simulate(ctx, { ...settings, maxRounds: null, timeoutMs: Infinity }, { record: false, detectStuck: true, jump: false });
  const outcomeOf = (r: SimResult): Extract<Outcome, { outcome: 'converged' | 'forced-stop' | 'cancelled' }> =>
    r.decision.action === 'continue' ? { outcome: 'converged' } : r.decision.outcome;
  const o = outcomeOf(run);
  const freeOutcome = free.stuck ? null : outcomeOf(free);
  const lambda = liveRate === Infinity ? 0 : (dirtyRatePagesPerSec * ps) / liveRate;
  // (a run stopped at the switch to post-copy did not converge: its decision there was to go on or a forced stop)
  const converges = (run.switched === null && o.outcome === 'converged') || freeOutcome?.outcome === 'converged';
  const steady = steadyDirty(ctx);
  const hotSteady = scenario.workload.pattern === 'hotset' && model.classPages.length === 2 ? steady.perClass[0] * ps : null;
  let nonConvergence: NonConvergence | null = null;
  if (!converges && free.stuck) {
    const p = scenario.workload.pattern;
    if (p === 'hotset') nonConvergence = hotSteady !== null && hotSteady >= thdBytes ? 'working-set-above-threshold' : 'lambda-at-least-1';
    else if (p === 'zipf') nonConvergence = steady.pages * ps < 0.5 * scenario.guest.memory ? 'working-set-above-threshold' : 'lambda-at-least-1';
    else nonConvergence = 'lambda-at-least-1';
  }

  const completed = o.outcome !== 'cancelled';
  const totalTime = run.totalTimeMs;
  const stats: MigrationStats = {
    status: completed ? 'completed' : 'cancelled',
    'total-time': totalTime,
    'setup-time': setupMs,
    downtime: completed ? run.downtimeMs : null,
    'expected-downtime': run.expectedDowntimeMs,
    ram: ramStats({
      transferredBytes: run.total.bytes,
      transferredPages: run.total.pages,
      zeroPages: run.total.zero,
      normalPages: run.total.normal,
      remainingBytes: completed ? 0 : run.remainingPages * ps,
      memoryBytes: scenario.guest.memory,
      pageSizeBytes: ps,
      dirtySyncCount: run.syncs,
      dirtyPagesPerSec: run.lastSyncMs > setupMs ? (run.liveDirtyFound * 1000) / (run.lastSyncMs - setupMs) : 0,
      precopyBytes: run.precopyBytes,
      downtimeBytes: run.downtimeBytes,
      totalTimeMs: totalTime,
      setupTimeMs: setupMs,
    }),
  };
  const facts: PrecopyModelFacts = {
    memoryBytes: scenario.guest.memory,
    pageSizeBytes: ps,
    liveRateBytesPerSec: liveRate,
    linkRateBytesPerSec: linkRate,
    dirtyRateBytesPerSec: dirtyRatePagesPerSec * ps,
    lambda,
    thresholdBytes: thdBytes,
    steadyDirtyBytes: steady.pages * ps,
    steadyHotDirtyBytes: hotSteady,
    workingSetBytes: halfWritesWorkingSet(scenario, N) * ps,
    zeroPageShare: ctx.zeroShare,
    linkBurstMs: ctx.burstMs,
    policy: pc.policy,
  };
  const closedForm = closedFormPrecopy({
    memoryBytes: scenario.guest.memory,
    liveRateBytesPerSec: liveRate,
    linkRateBytesPerSec: linkRate,
    dirtyRateBytesPerSec: dirtyRatePagesPerSec * ps,
    downtimeLimitMs: pc.downtimeLimitMs,
    maxRounds: pc.maxRounds,
    deviceStateBytes: scenario.guest.deviceState,
  });
  const precopy: PrecopyPrediction = {
    outcome: o.outcome,
    reason: o.outcome === 'converged' ? null : (o.reason as StopReason),
    converges,
    nonConvergence,
    roundsToConverge: freeOutcome?.outcome === 'converged' ? free.liveRounds : null,
    timeToConvergeMs: freeOutcome?.outcome === 'converged' ? free.totalTimeMs : null,
    why: '',
    model: facts,
    closedForm,
    rounds: run.rounds,
    elidedRounds: run.elidedRounds,
    stats,
  };
  if (run.switched) {
    // post-copy: the pre-copy model stopped at the switch; the rest is postcopy-model.ts
    const w = scenario.workload;
    const switched = postcopyPrediction(
      scenario,
      run,
      {
        model,
        touchScale: w.dirtyRate > 0 ? (w.dirtyRate + w.readRate) / w.dirtyRate : 0,
        pageSizeBytes: ps,
        totalPages: N,
        maxRun: ctx.maxRun,
        linkRateBytesPerSec: linkRate,
        postcopyRateBytesPerSec: Math.min(scenario.postcopy.maxBandwidth, linkRate),
        latencyMs: scenario.link.latencyMs,
        burstMs: ctx.burstMs,
        deviceStateWireBytes: deviceStateWireBytes(scenario.guest.deviceState),
        vcpus: scenario.guest.vcpus,
        preempt: scenario.postcopy.preempt,
      },
      setupMs,
      thdBytes,
    );
    Object.assign(precopy, switched);
    const live = run.liveRounds;
    const alone = precopy.converges
      ? `pre-copy alone would converge only after ${precopy.roundsToConverge} live rounds`
      : precopy.nonConvergence === 'working-set-above-threshold'
        ? 'pre-copy alone never converges: the working set stays dirty above the switchover threshold'
        : precopy.nonConvergence === 'lambda-at-least-1'
          ? 'pre-copy alone never converges: λ >= 1'
          : 'pre-copy alone does not converge';
    precopy.why = `switches to post-copy after ${live} live round${live === 1 ? '' : 's'} (postcopy.startAfterRounds ${scenario.postcopy.startAfterRounds}): ${alone}; ${switched.postcopy.why}`;
  } else precopy.why = explainPrecopy(scenario, precopy, free.totalTimeMs, freeOutcome);
  const withFault = scenario.faults.linkDownAtMs === null ? precopy : applyLinkDown(scenario, precopy, { setupMs, liveRateBytesPerSec: liveRate, burstMs: ctx.burstMs });
  return { scenario, precopy: withFault, quick: predictQuick(scenario) };
}
