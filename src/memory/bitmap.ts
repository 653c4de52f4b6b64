/**
 * Word-level operations on a private bitmap (the migration bitmap: one bit per page, owned by the
 * migration thread alone, so plain reads and writes). Bit i lives in word i >>> 5 at position i & 31.
 *
 * These are the fast paths; `test/helpers/bitmap-oracle.ts` holds the bit-at-a-time references they
 * are tested against on seeded random input.
 */

export function wordsFor(bits: number): number {
  return Math.ceil(bits / 32);
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function countSetBits(words: Uint32Array): number {
  let n = 0;
  for (let w = 0; w < words.length; w++) {
    const x = words[w];
    if (x !== 0) n += popcount32(x);
  }
  return n;
}

/** Set bits [0, bits) and clear the padding bits of the last word. */
export function setAll(words: Uint32Array, bits: number): void {
  words.fill(0xffffffff);
  const tail = bits & 31;
  if (tail !== 0) words[words.length - 1] = (2 ** tail - 1) >>> 0;
}

/** Index of the first set bit at or after `from` and before `limit`, or -1. */
export function nextSetBit(words: Uint32Array, from: number, limit: number): number {
  limit = Math.min(limit, words.length * 32);
  if (from >= limit) return -1;
  let w = from >>> 5;
  let x = words[w] & (0xffffffff << (from & 31));
  const lastWord = (limit - 1) >>> 5;
  for (;;) {
    if (x !== 0) {
      const bit = (w << 5) + (31 - Math.clz32(x & -x));
      return bit < limit ? bit : -1;
    }
    if (++w > lastWord) return -1;
    x = words[w];
  }
}

/**
 * Length of the run of set bits starting at `start` (which must be set), at most `maxLen`, not past
 * `limit`.
 */
export function runLength(words: Uint32Array, start: number, maxLen: number, limit: number): number {
  const end = Math.min(limit, start + maxLen, words.length * 32);
  if (start >= end) return 0;
  let i = start;
  while (i < end) {
    const w = i >>> 5;
    const off = i & 31;
    // bits of this word from `off` upward, inverted: the first zero ends the run
    const inv = ~(words[w] >>> off) >>> 0;
    const ones = inv === 0 ? 32 - off : 31 - Math.clz32(inv & -inv);
    const avail = Math.min(32 - off, ones);
    i += avail;
    if (avail < 32 - off) break;
  }
  return Math.min(i, end) - start;
}

/** Clear bits [start, start + len). */
export function clearRange(words: Uint32Array, start: number, len: number): void {
  let i = start;
  const end = start + len;
  while (i < end) {
    const w = i >>> 5;
    const off = i & 31;
    const n = Math.min(32 - off, end - i);
    const mask = n === 32 ? 0xffffffff : ((2 ** n - 1) * 2 ** off) >>> 0;
    words[w] = (words[w] & ~mask) >>> 0;
    i += n;
  }
}
