/**
 * The `postcopy` block of a pre-copy result that switched to post-copy (outcome `postcopy`); QEMU's
 * own figures (postcopy-requests, postcopy-bytes, postcopy-blocktime, …) are in `stats` beside the
 * others. Times are ms from the start of the migration.
 */
export interface PostcopyResult {
  /** when the switch began: the pause request (QEMU: postcopy_start) */
  startMs: number;
  /** when the vCPUs ran on the destination (the end of the downtime) */
  resumedMs: number;
  /** when the destination held every page */
  completedMs: number;
  /** completedMs − resumedMs */
  durationMs: number;
  /** pages missing at the destination when the guest resumed there */
  missingPages: number;
  /** pages sent because the guest asked for them, and pushed in the background */
  urgentPages: number;
  backgroundPages: number;
  /** pages that reached the destination after the guest had them already (dropped there) */
  droppedPages: number;
  /** stalls: times a vCPU blocked on a missing page (a read or a write) */
  faults: number;
  /** requested pages went ahead of the background push (postcopy.preempt) */
  preempt: boolean;
  /** the post-copy phase's rate limit, bytes/s (null: the link's rate) */
  rateLimitBytesPerSec: number | null;
  /** page writes per second the guest achieved: during pre-copy, during post-copy, and after it completed (over `afterWindowMs`) */
  writeRate: { beforePagesPerSec: number; duringPagesPerSec: number; afterPagesPerSec: number | null; afterWindowMs: number };
  /** post-switch writes the vCPUs logged for verification, and stall records that did not fit (then the blocktime figures count the kept ones) */
  loggedWrites: number;
  /** post-switch writes the log had no room for: when above 0 the run cannot be verified (verified: null) */
  logDroppedWrites: number;
  stallRecordsDropped: number;
  /**
   * QEMU's migration status through the post-copy phase, in order (ms from the start): postcopy-active
   * at the switch, postcopy-paused when a link outage stops it, postcopy-recover once the link is back,
   * postcopy-active again after the handshake, completed when the destination holds every page
   */
  statuses: PostcopyStatusChange[];
  /** the link outage post-copy recovered from (postcopy.recovery); null when there was none */
  recovery: PostcopyRecovery | null;
}

export type PostcopyStatus = 'postcopy-active' | 'postcopy-paused' | 'postcopy-recover' | 'completed';

export interface PostcopyStatusChange {
  status: PostcopyStatus;
  /** ms from the start of the migration */
  tMs: number;
}

/** A link outage during post-copy and the recovery from it (times in ms from the start of the migration). */
export interface PostcopyRecovery {
  /** the link went down (faults.linkDownAtMs) */
  linkDownMs: number;
  /** the source noticed (its first send the link refused, or the destination lost the end) and paused */
  sourcePausedMs: number;
  /** the destination noticed (a frame lost in flight, or idle past linkDownMs) and paused */
  destinationPausedMs: number;
  /** the link came back (linkDownMs + faults.linkDownForMs) */
  linkUpMs: number;
  /** the source had the destination's received bitmap back: post-copy active again */
  recoveredMs: number;
  /** recoveredMs − linkDownMs: how long post-copy stood still */
  outageMs: number;
  /** frames and pages that were in flight when the link went down and never arrived */
  lostFrames: number;
  lostPages: number;
  /** pages the reloaded bitmap (not received at the destination) made pending again: sent twice */
  resentPages: number;
  /** pages the guest had asked for that were lost: asked for again at the resume */
  rerequestedPages: number;
  /** bytes of the received bitmap the destination sent back */
  bitmapBytes: number;
  /** the extra stall: ms the vCPUs spent blocked within [linkDownMs, recoveredMs], all together, per vCPU, and with every vCPU blocked at once */
  stallMs: number;
  vcpuStallMs: number[];
  allBlockedMs: number;
  /** stalls (faults) that were going on at some moment of the outage, and the longest of them (whole, ms) */
  faults: number;
  longestStallMs: number;
}
