/**
 * The figures of a pre-copy migration as the result document holds them: the rounds, QEMU's
 * `query-migrate` blocks (names and units as QEMU has them) and the progress series. Types only; the
 * engine fills them in (src/precopy/stats.ts builds them).
 */
import type { XbzrleCacheStats } from '../codec/page-cache.ts';

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
  /** the downtime limit in force at that sync, ms (QEMU downtime-limit; an orchestrator may change it); absent in older documents */
  downtimeLimitMs?: number;
  /** QEMU cpu-throttle-percentage during the round (auto-converge) */
  throttlePercent: number;
  /** page writes achieved ÷ asked during the round (1 = the guest ran at full speed); null when it asks none */
  guestSlowdown: number | null;
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
  /** post-copy runs only: page requests the source received from the destination (QEMU postcopy-requests) */
  'postcopy-requests'?: number;
  /** post-copy runs only: bytes sent after the guest resumed on the destination (QEMU postcopy-bytes) */
  'postcopy-bytes'?: number;
}

/** QEMU `MigrationInfo` fields migbench measures (times in ms). */
export interface MigrationStats {
  /** QEMU's xbzrle-cache block, present when XBZRLE is on */
  'xbzrle-cache'?: XbzrleCacheStats;
  status: 'completed' | 'cancelled' | 'failed';
  'total-time': number;
  'setup-time': number;
  downtime: number | null;
  'expected-downtime': number;
  ram: RamStats;
  /** post-copy runs only: ms during which every vCPU was blocked on a missing page at once (QEMU postcopy-blocktime) */
  'postcopy-blocktime'?: number;
  /** post-copy runs only: ms each vCPU was blocked on missing pages (QEMU postcopy-vcpu-blocktime) */
  'postcopy-vcpu-blocktime'?: number[];
  /** post-copy runs only: mean fault latency, ns (QEMU 10.1 postcopy-latency) */
  'postcopy-latency'?: number;
  /** post-copy runs only: faults per latency bucket, bucket N = [2^N µs, 2^(N+1) µs), 24 buckets (QEMU 10.1) */
  'postcopy-latency-dist'?: number[];
}

/** One sample of the migration's progress (like polling QEMU's query-migrate every 100 ms). */
export interface SeriesPoint {
  /** ms from the migration start */
  tMs: number;
  transferredBytes: number;
  /** pending in the migration bitmap (dirty pages not yet synced are not counted, as in QEMU) */
  remainingBytes: number;
  /** bytes put on the link per second since the previous sample */
  linkBytesPerSec: number;
  /** page writes per second the vCPUs achieved since the previous sample */
  dirtyRatePagesPerSec: number;
  throttlePercent: number;
  stage: RoundStage;
}
