/**
 * How long the sender waits on `migbench receive` for each answer (link.transport "tcp"), so a receiver
 * that hangs (in a channel's sync, before it resumes, while it hashes) ends the run instead of holding it
 * for minutes. A wait is the grace a healthy receiver on a loaded machine may need (the run's stall limit:
 * 30 s by default, the same patience as for a destination that leaves frames unread), plus what the link
 * needs for the bytes still on their way (a receiver answers a sync or the end only once it has applied
 * every frame before it), plus the receiver's own work for that answer (allocating and touching the guest
 * before it accepts; hashing memory before it answers a verification request), at floor rates several
 * times below what this machine does. Pure: the caller measures, this decides.
 */

const MiB = 1024 * 1024;

/**
 * The slowest rate a receiver is expected to allocate and touch guest memory at (this machine: 1 GiB in
 * 5.0 s with `receive` alone, 215 MB/s; a quarter of that leaves room for a loaded host).
 */
export const RECEIVER_TOUCH_FLOOR_BYTES_PER_SEC = 50 * MiB;
/** The slowest rate a receiver is expected to hash memory at (SHA-256 in node:crypto runs at 0.4–2 GB/s). */
export const RECEIVER_HASH_FLOOR_BYTES_PER_SEC = 100 * MiB;
/**
 * What the kernels' socket buffers may hold between the two processes beyond what this side still holds
 * (Linux's tcp_wmem and tcp_rmem maxima are 4 and 6 MiB by default; twice that, rounded up).
 */
export const SOCKET_BUFFERS_BYTES = 32 * MiB;

export interface PeerWait {
  /** patience beyond the computed work (ms): the run's stall limit */
  readonly graceMs: number;
  /** bytes given to the connection since the receiver last confirmed it had applied everything */
  readonly unconfirmedBytes: number;
  /** of those, the bytes still on this side (the ring's and the socket's buffers) */
  readonly bufferedBytes: number;
  /** the rate those bytes cross at (bytes/s): the lower of the sender's pace and what the connection achieved; ≤ 0 or Infinity: not known */
  readonly linkBytesPerSec: number;
  /** bytes the receiver allocates and touches before it answers */
  readonly touchBytes?: number;
  /** bytes the receiver hashes before it answers */
  readonly hashBytes?: number;
}

/** Bytes that may still be between the sender and the receiver's memory: never more than was sent unconfirmed, nor than the buffers hold. */
export function inFlightBytes(unconfirmedBytes: number, bufferedBytes: number): number {
  return Math.max(0, Math.min(unconfirmedBytes, bufferedBytes + SOCKET_BUFFERS_BYTES));
}

/** The wait, in whole ms. */
export function peerWaitMs(w: PeerWait): number {
  const rate = w.linkBytesPerSec;
  const linkMs = rate > 0 && Number.isFinite(rate) ? (inFlightBytes(w.unconfirmedBytes, w.bufferedBytes) / rate) * 1000 : 0;
  const touchMs = ((w.touchBytes ?? 0) / RECEIVER_TOUCH_FLOOR_BYTES_PER_SEC) * 1000;
  const hashMs = ((w.hashBytes ?? 0) / RECEIVER_HASH_FLOOR_BYTES_PER_SEC) * 1000;
  return Math.ceil(w.graceMs + linkMs + touchMs + hashMs);
}

/** A wait for the message ("31.2 s"). */
export function formatWaitMs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
