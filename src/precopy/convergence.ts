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
