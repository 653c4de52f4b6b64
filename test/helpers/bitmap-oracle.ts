/**
 * Bit-at-a-time reference implementations of `src/memory/bitmap.ts`, for property tests.
 * Same layout: bit i lives in word i >>> 5 at position i & 31. Slow and obvious on purpose.
 */

export function getBit(words: Uint32Array, i: number): boolean {
  return ((words[i >>> 5] >>> (i & 31)) & 1) === 1;
}

export function setBit(words: Uint32Array, i: number): void {
  words[i >>> 5] = (words[i >>> 5] | (1 << (i & 31))) >>> 0;
}

export function clearBit(words: Uint32Array, i: number): void {
  words[i >>> 5] = (words[i >>> 5] & ~(1 << (i & 31))) >>> 0;
}

/** Set bits of one 32-bit value, one bit at a time. */
export function popcount32Oracle(x: number): number {
  const v = x >>> 0;
  let n = 0;
  for (let b = 0; b < 32; b++) if (((v >>> b) & 1) === 1) n++;
  return n;
}

export function countSetBitsOracle(words: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words.length * 32; i++) if (getBit(words, i)) n++;
  return n;
}

/** Bits [0, bits) set, every other bit of `words` clear. */
export function setAllOracle(words: Uint32Array, bits: number): void {
  for (let i = 0; i < words.length * 32; i++) {
    if (i < bits) setBit(words, i);
    else clearBit(words, i);
  }
}

/** First set bit in [from, limit), or -1. */
export function nextSetBitOracle(words: Uint32Array, from: number, limit: number): number {
  for (let i = Math.max(0, from); i < limit; i++) if (getBit(words, i)) return i;
  return -1;
}

/** Consecutive set bits starting at `start`, at most `maxLen`, not reaching `limit`. */
export function runLengthOracle(words: Uint32Array, start: number, maxLen: number, limit: number): number {
  let n = 0;
  while (n < maxLen && start + n < limit && getBit(words, start + n)) n++;
  return n;
}

/** Clear bits [start, start + len). */
export function clearRangeOracle(words: Uint32Array, start: number, len: number): void {
  for (let i = start; i < start + len; i++) clearBit(words, i);
}
