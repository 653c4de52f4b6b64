/**
 * Post-copy as a phase of the one pre-copy loop (precopy/loop.ts): the port the loop calls at the
 * switch, and the pure rule for when it switches. Emulate mode's implementation is src/postcopy/emulate.ts,
 * simulate mode's src/sim/simulate-postcopy.ts (postcopy/support.ts says what each mode refuses).
 */
import type { Decision } from './convergence.ts';

export interface PostcopyPort {
  /** live rounds (bulk included) after which the loop switches to post-copy (postcopy.startAfterRounds) */
  readonly startAfterRounds: number;
  /**
   * The vCPUs are paused and the final dirty sync is done: send the list of missing pages and the
   * device state, have the destination run the guest (QEMU postcopy_start). Returns when the vCPUs run
   * on the destination: the end of the downtime, on the loop's clock.
   */
  switchover(): Promise<number> | number;
  /** Serve the guest's page requests first and push the rest until every page is at the destination; the completion time. */
  complete(): Promise<number> | number;
  /**
   * `complete()` a step at a time (simulate mode, whose timeline `steps`): one step of the push (a few
   * ms of link time at the link share of the moment), null while pages remain, then the completion
   * time. The loop yields a step end between calls, so a fleet's other migrations share the link with
   * this one's post-copy phase (sim/run-simulated.ts). Absent: `complete()` in one go.
   */
  completeStep?(): number | null;
}

/**
 * Switch to post-copy at this sync? When `liveRounds` (bulk included) have run and pre-copy would go
 * on or be forced to stop (a long stop-and-copy, where post-copy pauses for the device state only);
 * a pre-copy that converges completes as pre-copy (QEMU: migrate-start-postcopy never came), and a
 * cancel stays a cancel. Pure.
 */
export function switchesToPostcopy(decision: Decision, liveRounds: number, startAfterRounds: number): boolean {
  if (liveRounds < startAfterRounds) return false;
  return decision.action === 'continue' || (decision.action === 'stop-and-copy' && decision.outcome.outcome === 'forced-stop');
}
