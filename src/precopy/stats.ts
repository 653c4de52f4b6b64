/**
 * Counters of the pre-copy loop and their QEMU `query-migrate` form.
 *
 * Byte counts are what crossed the link: frame headers, page payloads, device state and the end
 * frame (QEMU's `ram.transferred` likewise counts the whole migration stream).
 */

export type RoundStage = 'bulk' | 'iterative' | 'stop-and-copy';

/** One round: the interval between two dirty syncs (or the stop-and-copy). */
export interface RoundRecord {
  round: number;
  stage: RoundStage;
  /** ms from the start of the migration */
  startMs: number;
  durationMs: number;
  /** pages found in the dirty log at the sync that ended this round (dirtied while it ran) */
  dirtyPages: number;
  /** pages left to send after that sync (what the next round starts with) */
  pendingPages: number;
  sentPages: number;
  zeroPages: number;
  normalPages: number;
  bytes: number;
  bandwidthBytesPerSec: number;
  /** page writes per second the vCPUs achieved during the round */
  dirtyRatePagesPerSec: number;
  /** QEMU expected-downtime at the sync that ended the round: pending bytes / measured bandwidth */
  expectedDowntimeMs: number;
  /** the policy's threshold at that sync (QEMU: measured bandwidth × downtime limit; Xen: 50 pages; …) */
  thresholdBytes: number;
  /** QEMU cpu-throttle-percentage during the round (auto-converge) */
  throttlePercent: number;
  /** page writes achieved ÷ asked during the round (1 = the guest ran at full speed); null when it asks none */
  guestSlowdown: number | null;
}

/** Running totals kept by the page sender; plain fields, no allocation on the hot path. */
export class SendCounters {
  bytes = 0;
  pages = 0;
  zeroPages = 0;
  normalPages = 0;
  frames = 0;

  reset(): void {
    this.bytes = this.pages = this.zeroPages = this.normalPages = this.frames = 0;
  }
  snapshot(): { bytes: number; pages: number; zeroPages: number; normalPages: number } {
    return { bytes: this.bytes, pages: this.pages, zeroPages: this.zeroPages, normalPages: this.normalPages };
  }
}

/** QEMU `MigrationStats` (the `ram` object of `query-migrate`), names and units as QEMU has them. */
export interface RamStats {
  transferred: number;
  remaining: number;
  total: number;
  duplicate: number;
  normal: number;
  'normal-bytes': number;
  'dirty-sync-count': number;
  'dirty-pages-rate': number;
  mbps: number;
  'pages-per-second': number;
  'precopy-bytes': number;
  'downtime-bytes': number;
  'page-size': number;
}

/** QEMU `MigrationInfo` fields migbench measures (times in ms). */
export interface MigrationStats {
  status: 'completed' | 'cancelled' | 'failed';
  'total-time': number;
  'setup-time': number;
  downtime: number | null;
  'expected-downtime': number;
  ram: RamStats;
}

/** QEMU's completion formulas: rates over the transfer time (total time less setup). */
export function throughput(transferredBytes: number, pages: number, totalTimeMs: number, setupTimeMs: number): { mbps: number; pagesPerSecond: number } {
  const transferMs = totalTimeMs - setupTimeMs;
  if (!(transferMs > 0)) return { mbps: 0, pagesPerSecond: 0 };
  return { mbps: (transferredBytes * 8) / transferMs / 1000, pagesPerSecond: (pages * 1000) / transferMs };
}

/**
 * Was migbench itself, not the configured link, the limit of the live rounds? Yes when they ran
 * clearly (> 10%) below a finite rate limit, for long enough to measure (two 100 ms bandwidth
 * windows), while the rate limiter held the sender back for less than 10% of that time.
 */
export function isEngineBound(f: { liveRateLimitBytesPerSec: number; liveBytesPerSec: number; liveDurationMs: number; linkWaitMs: number }): boolean {
  return (
    Number.isFinite(f.liveRateLimitBytesPerSec) &&
    f.liveDurationMs >= 200 &&
    f.liveBytesPerSec < 0.9 * f.liveRateLimitBytesPerSec &&
    f.linkWaitMs < 0.1 * f.liveDurationMs
  );
}
