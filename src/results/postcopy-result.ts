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
}
