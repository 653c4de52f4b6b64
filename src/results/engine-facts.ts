/** `precopy.engine` in the result document: what limited the live rounds (the loop measures it). */

export interface PrecopyEngineFacts {
  /** the live rounds' rate limit (null = none) */
  liveRateLimitBytesPerSec: number | null;
  /** bytes/s the live rounds achieved */
  liveBytesPerSec: number;
  liveDurationMs: number;
  /** ms the sender waited for the link's rate limit */
  linkWaitMs: number;
  /** ms the sender waited for the destination to free ring space */
  ringWaitMs: number;
  /** ms the destination waited for frames (filled in by the caller that owns the destination) */
  destinationWaitMs: number;
  /**
   * emulate mode: ms migbench spent starting its workers and allocating its buffers before the
   * migration's clock started (not in `total-time` or `setup-time`); absent in simulate mode
   */
  prepareMs?: number;
}
