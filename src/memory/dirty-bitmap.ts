/**
 * The dirty log: one bit per guest page in a SharedArrayBuffer (Int32Array words, for Atomics).
 *
 * Ownership and ordering (DESIGN §4):
 * - vCPU workers write a page FIRST, then set its bit with `Atomics.or` (`markDirty`).
 * - The migration thread syncs-and-clears with `Atomics.exchange` per word (`syncAndClear`) BEFORE it
 *   reads any page whose bit it took. A write racing with the copy either lands before the copy (and is
 *   sent now) or sets the bit again after the exchange (and is sent in a later round): never lost.
 */
import { popcount32, wordsFor } from './bitmap.ts';

export function createDirtyLog(totalPages: number): SharedArrayBuffer {
  return new SharedArrayBuffer(wordsFor(totalPages) * 4);
}

/** Writer side (vCPU): call after the page write has completed. */
export function markDirty(log: Int32Array, page: number): void {
  Atomics.or(log, page >>> 5, 1 << (page & 31));
}

/**
 * Take every set bit of the shared log, clearing it, and OR it into the private migration bitmap.
 * Returns how many bits the log held (pages the guest dirtied since the previous sync).
 *
 * A plain `Atomics.load` first skips clean words without the cost of a locked exchange; a bit set
 * just after that load is caught by the next sync, exactly as if it had come after the exchange.
 */
export function syncAndClear(log: Int32Array, into: Uint32Array): number {
  let found = 0;
  const n = log.length;
  for (let w = 0; w < n; w++) {
    if (Atomics.load(log, w) === 0) continue;
    const taken = Atomics.exchange(log, w, 0) >>> 0;
    found += popcount32(taken);
    into[w] = (into[w] | taken) >>> 0;
  }
  return found;
}

/** Clear the log, discarding its content (dirty logging starts now). */
export function clearLog(log: Int32Array): void {
  for (let w = 0; w < log.length; w++) Atomics.store(log, w, 0);
}
