/**
 * The memory ledger: how many bytes of guest memory, caches and rings migbench has allocated in this
 * process and not yet released. A run reserves what it allocates before allocating it and releases it
 * when it has dropped every reference (see reclaim.ts); the resource check counts what is still held.
 * Main thread only (workers attach memory the main thread reserved; they allocate none of their own
 * beyond their channel caches, which die with them).
 */
export interface Reservation {
  readonly bytes: number;
  readonly what: string;
  /** Give the bytes back to the ledger (idempotent). */
  release(): void;
}

let reserved = 0;
const open = new Set<Reservation>();

export function reserveMemory(bytes: number, what: string): Reservation {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`reserveMemory: bytes must be a finite number ≥ 0, got ${bytes}`);
  let released = false;
  const reservation: Reservation = {
    bytes,
    what,
    release() {
      if (released) return;
      released = true;
      reserved -= bytes;
      open.delete(reservation);
    },
  };
  reserved += bytes;
  open.add(reservation);
  return reservation;
}

/** Bytes reserved and not yet released. */
export function reservedBytes(): number {
  return reserved;
}

/** What is still reserved, for messages and tests. */
export function openReservations(): readonly Reservation[] {
  return [...open];
}
