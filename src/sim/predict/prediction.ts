/**
 * What `predict` answers (predict.ts): the public types of a prediction, and its JSON form.
 */
import type { PostcopyResult } from '../../results/postcopy-result.ts';
import type { Scenario } from '../../options.ts';
import type { StopReason } from '../../results/outcome.ts';
import type { PolicyName } from '../../precopy-params.ts';
import type { MigrationStats, RoundRecord } from '../../results/migration-stats.ts';
import type { ClosedForm } from './closed-form.ts';
import type { QuickPrediction } from './quick-model.ts';

/** Why plain pre-copy never converges (whatever the limits). */
export type NonConvergence = 'lambda-at-least-1' | 'working-set-above-threshold';

export interface PredictOptions {
  /** the link's burst allowance (ms): the emulated link's token bucket (DEFAULT_BURST_MS); 0 = an ideal link */
  linkBurstMs?: number;
  /** ms from the migration request to the live phase (destination start); not modelled, default 0 */
  setupMs?: number;
}

export interface PrecopyModelFacts {
  memoryBytes: number;
  pageSizeBytes: number;
  /** rate of the live rounds: min(precopy.maxBandwidth, link.bandwidth) */
  liveRateBytesPerSec: number;
  /** rate of the stop-and-copy (QEMU lifts max-bandwidth there) */
  linkRateBytesPerSec: number;
  /** workload.dirtyRate × pageSize (every write a new page) */
  dirtyRateBytesPerSec: number;
  /** D / R */
  lambda: number;
  /** V_thd = R × downtime limit */
  thresholdBytes: number;
  /** the largest V with V = (distinct pages written in V/R seconds) × pageSize: what a round dirties in the long run; 0 when λ < 1 */
  steadyDirtyBytes: number;
  /** hotset: the hot set's part of steadyDirtyBytes (null for other patterns) */
  steadyHotDirtyBytes: number | null;
  /** hotset: the hot set's size; zipf: ranks that take half the writes; others: the guest */
  workingSetBytes: number;
  zeroPageShare: number;
  linkBurstMs: number;
  /** the convergence policy replayed (precopy.policy) */
  policy: PolicyName;
}

/**
 * Post-copy (postcopy.enabled, and pre-copy switched to it): what the phase after the switch does, as a
 * run's `precopy.postcopy` block has it (times in ms from the migration request), and the model's own
 * facts (postcopy-model.ts). Expected values: counts are fractional.
 */
export interface PostcopyPrediction
  extends Pick<PostcopyResult, 'startMs' | 'resumedMs' | 'completedMs' | 'durationMs' | 'missingPages' | 'urgentPages' | 'backgroundPages' | 'faults' | 'preempt' | 'rateLimitBytesPerSec'> {
  /** page touches per second after the resume: workload.dirtyRate + workload.readRate */
  touchRatePagesPerSec: number;
  /** ms one fault stalls its vCPU: 2 × link.latencyMs + a page at the post-copy rate + the sender's service time */
  stallMs: number;
  /** ms after the resume during which the vCPUs fault as fast as the stall allows (every vCPU blocked) */
  stallBoundMs: number;
  /** one sentence */
  why: string;
}

export interface PrecopyPrediction {
  /** postcopy: completed through post-copy (postcopy.enabled); failed: faults.linkDownAtMs before the end */
  outcome: 'converged' | 'forced-stop' | 'cancelled' | 'postcopy' | 'failed';
  /** forced-stop: max-rounds | timeout; cancelled: timeout; failed: link-down; null when converged or postcopy */
  reason: StopReason | 'link-down' | null;
  /** would the loop converge with no round limit and no timeout? */
  converges: boolean;
  /** why it never converges (null when it does) */
  nonConvergence: NonConvergence | null;
  /** live rounds (bulk included) the loop needs to converge with no limits; null when it never does */
  roundsToConverge: number | null;
  /** total time (ms) of the migration with no round limit and no timeout, when it converges; null when it never does */
  timeToConvergeMs: number | null;
  /** one sentence */
  why: string;
  model: PrecopyModelFacts;
  closedForm: ClosedForm;
  /** predicted rounds, as a run records them (expected values, so counts are fractional) */
  rounds: RoundRecord[];
  /** rounds of a non-converging steady state not listed (extrapolated into the totals); they come before the last listed live round */
  elidedRounds: number;
  /** QEMU `query-migrate` names, as a run's `precopy.stats` (setup-time: PredictOptions.setupMs, default 0) */
  stats: MigrationStats;
  /** present when pre-copy switched to post-copy (outcome postcopy, or failed once the switch began) */
  postcopy?: PostcopyPrediction;
  /** outcome failed only: the link died after the guest resumed on the destination, which lacks pages: the guest is lost */
  guestLost?: boolean;
}

export interface Prediction {
  scenario: Scenario;
  precopy: PrecopyPrediction;
  quick: QuickPrediction;
}

/** JSON of a prediction: the scenario in its JSON form, Infinity as null (as in result documents). */
export function predictionToJson(p: Prediction, scenarioJson: unknown): string {
  return JSON.stringify({ ...p, scenario: scenarioJson }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}
