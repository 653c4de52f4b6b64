/**
 * Convergence aids' trigger, as QEMU's `migration_trigger_throttle` (ram.c): evaluated at a dirty sync
 * once at least a second has passed since the period began; a period in which the guest dirtied more
 * than `triggerThreshold`% of the bytes sent counts as too fast; the second such period fires (then
 * the count restarts). Pure: the caller turns a firing into a throttle step or arms the dirty limit.
 */
import type { AutoConverge } from '../options.ts';

export const THROTTLE_PERIOD_MS = 1000;

export class AutoConvergeTrigger {
  private periodStartMs: number;
  private dirtyBytes = 0;
  private sentAtPeriodStart = 0;
  private highCount = 0;
  private readonly thresholdPct: number;

  constructor(config: AutoConverge | null, startMs: number) {
    this.thresholdPct = config?.triggerThreshold ?? 50;
    this.periodStartMs = startMs;
  }

  /** Feed one sync: the bytes it found dirty and the total sent so far. True when the aid should act. */
  onSync(nowMs: number, dirtyBytesFound: number, totalSentBytes: number): boolean {
    this.dirtyBytes += dirtyBytesFound;
    if (nowMs - this.periodStartMs < THROTTLE_PERIOD_MS) return false;
    const sent = totalSentBytes - this.sentAtPeriodStart;
    let fire = false;
    if (this.dirtyBytes > (sent * this.thresholdPct) / 100 && ++this.highCount >= 2) {
      this.highCount = 0;
      fire = true;
    }
    this.periodStartMs = nowMs;
    this.dirtyBytes = 0;
    this.sentAtPeriodStart = totalSentBytes;
    return fire;
  }
}

/** QEMU's throttle step (mig_throttle_guest_down): the first firing sets `initial`, each next adds `increment`, up to `max` (percent). */
export function nextThrottlePercent(currentPercent: number, config: AutoConverge): number {
  return currentPercent === 0 ? config.initial : Math.min(config.max, currentPercent + config.increment);
}

/** The aids a migration has on: QEMU's dirty-limit wins over auto-converge when both are set. */
export interface AidSettings {
  readonly autoConverge: AutoConverge | null;
  /** per vCPU, page writes per second once armed; null = off */
  readonly dirtyLimitPagesPerSec: number | null;
}

/** Where the aids stand: the throttle the vCPUs run under (percent) and whether the dirty limit is armed. */
export interface AidState {
  readonly throttlePercent: number;
  readonly dirtyLimitArmed: boolean;
}

/** What a firing of the trigger does: arm the dirty limit, or take one throttle step. Pure. */
export function aidsAfterTrigger(settings: AidSettings, state: AidState): AidState {
  if (settings.dirtyLimitPagesPerSec !== null) return { throttlePercent: state.throttlePercent, dirtyLimitArmed: true };
  if (settings.autoConverge) return { throttlePercent: nextThrottlePercent(state.throttlePercent, settings.autoConverge), dirtyLimitArmed: state.dirtyLimitArmed };
  return state;
}
