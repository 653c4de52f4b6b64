/**
 * The vCPU control block: shared words through which the main thread steers the vCPU workers.
 *
 * Int32 words (Atomics only):
 *   CMD            written by the main thread: RUN | PAUSE | STOP; workers wait on it while paused
 *   THROTTLE_PCT   written by the main thread: 0..99, the share of each 100 ms window a vCPU sleeps
 *   DIRTY_LIMIT    written by the main thread: a cap on each vCPU's page writes per second (0 = none)
 *   FAULT_ARMED    written by the main thread: 1 once a migration has started (tests only: a vCPU given a
 *                  fault counts its `after` writes from then, src/faults.ts; read only by that vCPU)
 *   STATE_BASE + i written by vCPU i only: STARTING | RUNNING | PAUSED | EXITED (its acknowledgement)
 *
 * Float64 counters (a second SharedArrayBuffer), one pair per vCPU, each written by vCPU i only with
 * aligned 8-byte stores and read by the main thread (possibly a little stale, never torn):
 *   WRITES_BASE + i      page writes done since start
 *   RUNNING_MS_BASE + i  milliseconds spent running (not paused) since start
 */
export const CMD = 0;
export const THROTTLE_PCT = 1;
export const DIRTY_LIMIT = 2;
export const FAULT_ARMED = 3;
export const STATE_BASE = 4;

export const CMD_RUN = 0;
export const CMD_PAUSE = 1;
export const CMD_STOP = 2;

export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_PAUSED = 2;
export const STATE_EXITED = 3;

export interface VcpuControlShared {
  readonly words: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  readonly vcpuCount: number;
}

export function createVcpuControl(vcpuCount: number): VcpuControlShared {
  return {
    words: new SharedArrayBuffer((STATE_BASE + vcpuCount) * 4),
    counters: new SharedArrayBuffer(2 * vcpuCount * 8),
    vcpuCount,
  };
}

export function writesIndex(vcpu: number): number {
  return vcpu;
}
export function runningMsIndex(vcpu: number, vcpuCount: number): number {
  return vcpuCount + vcpu;
}
