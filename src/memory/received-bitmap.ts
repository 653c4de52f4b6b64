/**
 * The received bitmap of post-copy: one bit per page, set once the page is in the destination's memory
 * (QEMU: the page is placed with UFFDIO_COPY, postcopy_place_page, which also wakes the faulting
 * threads). Int32 words in a SharedArrayBuffer, Atomics only.
 *
 * Ownership: written by the destination worker alone: at the switch from the list of missing pages
 * (`applyMissing`: every page not missing is received), then one bit per page it places, AFTER the
 * page's bytes are written (`markReceived`, with a notify that wakes a vCPU waiting on the word). The
 * vCPUs only read it: a vCPU touches a page of destination memory only once its bit is set, and the
 * destination never writes a page whose bit is set (a late copy of it is dropped: QEMU's EEXIST), so
 * from then on the page is the vCPU's.
 */
export function receivedWords(totalPages: number): number {
  return Math.ceil(totalPages / 32);
}

export function createReceivedBitmap(totalPages: number): SharedArrayBuffer {
  return new SharedArrayBuffer(receivedWords(totalPages) * 4);
}

export function isReceived(bits: Int32Array, page: number): boolean {
  return (Atomics.load(bits, page >>> 5) & (1 << (page & 31))) !== 0;
}

/** Destination only: the page's bytes are in place; wake whoever waits for it. */
export function markReceived(bits: Int32Array, page: number): void {
  const w = page >>> 5;
  Atomics.or(bits, w, 1 << (page & 31));
  Atomics.notify(bits, w);
}

/**
 * Destination only: words [firstWord, firstWord + missing.length) of the missing-pages bitmap arrive
 * (QEMU's discard list, postcopy_each_ram_send_discard): a page is received unless it is missing.
 * Bits past the last page stay clear.
 */
export function applyMissing(bits: Int32Array, firstWord: number, missing: Int32Array, totalPages: number): void {
  for (let i = 0; i < missing.length; i++) {
    const w = firstWord + i;
    let v = ~missing[i];
    const last = totalPages - w * 32;
    if (last < 32) v &= last <= 0 ? 0 : (2 ** last - 1) | 0;
    Atomics.store(bits, w, v | 0);
  }
}

/**
 * vCPU side: block until `page` is received (Atomics.wait on its word, woken by `markReceived`), checking
 * `stop()` every `checkMs`. True once received; false when told to stop.
 */
export function waitReceived(bits: Int32Array, page: number, stop: () => boolean, checkMs = 50): boolean {
  const w = page >>> 5;
  const bit = 1 << (page & 31);
  for (;;) {
    const v = Atomics.load(bits, w);
    if ((v & bit) !== 0) return true;
    if (stop()) return false;
    Atomics.wait(bits, w, v, checkMs);
  }
}
