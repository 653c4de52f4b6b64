/**
 * When to stop and copy: pure decisions, no clock, no I/O. The loop asks them; tests hold them to
 * decision tables.
 *
 * QEMU's rule (migration.c `migration_iteration_run`): with
 *   thresholdBytes = measured bandwidth (bytes/ms) × downtime-limit (ms),
 * when the pages still to send look small enough (`remaining <= threshold`) QEMU syncs the dirty
 * bitmap, and if the exact pending bytes are then `0` or `< threshold` it switches over.
 */
import type { Outcome } from '../results/outcome.ts';

export interface ConvergenceSettings {
  readonly downtimeLimitMs: number;
  /** live rounds (bulk included) after which a stop-and-copy is forced; null = no limit */
  readonly maxRounds: number | null;
  readonly timeoutMs: number;
  readonly onTimeout: 'cancel' | 'force';
}

export function switchoverThresholdBytes(bandwidthBytesPerSec: number, downtimeLimitMs: number): number {
  return (bandwidthBytesPerSec * downtimeLimitMs) / 1000;
}

/** Should the loop sync now? (QEMU: the pending estimate has come down to the threshold.) */
export function shouldSync(remainingBytes: number, thresholdBytes: number): boolean {
  return remainingBytes <= thresholdBytes;
}

/**
 * QEMU's rate-limit window (migration.c `BUFFER_DELAY`, ms): `max-bandwidth` is enforced as a budget of
 * max-bandwidth ÷ `XFER_LIMIT_RATIO` (10) bytes per window.
 */
export const QEMU_BUFFER_DELAY_MS = 100;
/** ram.c `ram_save_iterate`: one iteration sends for at most this long (`MAX_WAIT`, ms) */
export const QEMU_MAX_WAIT_MS = 50;

/**
 * Has QEMU's iteration ended, so that the loop looks at the pending estimate (and syncs, if it is at or
 * below the threshold) and starts the next one?
 * QEMU checks the estimate once per iteration of its migration thread (`migration_iteration_run`:
 * `ram_state_pending_estimate`, then `ram_state_pending_exact`, which syncs, only when the estimate is
 * below `threshold_size`), and an iteration (`ram_save_iterate`) sends until the rate-limit window's
 * budget is spent (`migration_rate_exceeded`; the thread then sleeps to the window's end in
 * `migration_rate_limit`), until `MAX_WAIT` has passed, or until no dirty page is left. So the estimate
 * is looked at once per iteration: a window's worth of bytes (or the window's time) with a rate limit,
 * `MAX_WAIT` without one, or sooner when the migration bitmap is empty. (A sender slower than the link
 * ends QEMU's iteration at `MAX_WAIT`; the window's 100 ms is used here, as the token bucket paces the
 * bytes evenly where QEMU sends a window's budget in a burst and sleeps.) Without this
 * the loop re-synced as soon as a handful of pages took what was left below the threshold, about twice
 * as often as QEMU (and far more often when the pages go as cheap XBZRLE deltas). Pure.
 */
export function iterationEnded(s: { pendingPages: number; bytesSinceSync: number; msSinceSync: number; liveRateBytesPerSec: number }): boolean {
  if (s.pendingPages === 0) return true;
  if (!Number.isFinite(s.liveRateBytesPerSec)) return s.msSinceSync >= QEMU_MAX_WAIT_MS;
  const windowBudgetBytes = (s.liveRateBytesPerSec * QEMU_BUFFER_DELAY_MS) / 1000;
  return s.bytesSinceSync >= windowBudgetBytes || s.msSinceSync >= QEMU_BUFFER_DELAY_MS;
}

export type Decision =
  | { readonly action: 'continue' }
  | { readonly action: 'stop-and-copy'; readonly outcome: Extract<Outcome, { outcome: 'converged' | 'forced-stop' }> }
  | { readonly action: 'cancel'; readonly outcome: Extract<Outcome, { outcome: 'cancelled' }> };

const CONTINUE: Decision = { action: 'continue' };

/**
 * After a dirty sync: switch over, force a stop, cancel or go on.
 * `liveRounds` counts the live rounds completed so far (the bulk round is round 1 of them).
 * Precedence: converging beats every limit; then the round limit; then the timeout.
 */
export function decideAfterSync(
  s: ConvergenceSettings,
  state: { pendingBytes: number; thresholdBytes: number; liveRounds: number; elapsedMs: number },
): Decision {
  if (state.pendingBytes === 0 || state.pendingBytes < state.thresholdBytes) {
    return { action: 'stop-and-copy', outcome: { outcome: 'converged' } };
  }
  if (s.maxRounds !== null && state.liveRounds >= s.maxRounds) {
    return { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'max-rounds' } };
  }
  return decideOnTime(s, state.elapsedMs);
}

/** Between batches inside a round: only the timeout can end the live phase there. */
export function decideOnTime(s: ConvergenceSettings, elapsedMs: number): Decision {
  if (elapsedMs < s.timeoutMs) return CONTINUE;
  return s.onTimeout === 'cancel'
    ? { action: 'cancel', outcome: { outcome: 'cancelled', reason: 'timeout' } }
    : { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'timeout' } };
}

/** QEMU's expected-downtime: the bytes pending at the last sync over the bandwidth (ms). */
export function expectedDowntimeMs(pendingBytes: number, bandwidthBytesPerSec: number): number {
  if (pendingBytes === 0) return 0;
  return bandwidthBytesPerSec > 0 ? (pendingBytes * 1000) / bandwidthBytesPerSec : Infinity;
}
