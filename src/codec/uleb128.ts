/**
 * ULEB128 (unsigned little-endian base 128): the run-length encoding of XBZRLE.
 *
 * A value is written 7 bits at a time, least significant group first; every byte but the last has its
 * high bit (0x80) set. 0 → `00`, 127 → `7f`, 128 → `80 01`, 1001 → `e9 07`, 16383 → `ff 7f`.
 *
 * QEMU's own helpers (`uleb128_encode_small` / `uleb128_decode_small`, util/cutils.c) handle 14-bit values
 * only (at most 2 bytes): its encoder asserts `n <= 0x3fff`, its decoder refuses a second byte that has
 * the continuation bit. A run inside a 4 KiB page always fits. migbench also allows pages up to 2 MiB,
 * whose runs need up to 4 bytes, so these functions take values up to 2^32 - 1 (5 bytes at most) and the
 * XBZRLE decoder bounds each length to what its page needs (`uleb128Length(pageSize)`, at least 2, so
 * that every delta QEMU's decoder accepts for a 4 KiB page is accepted here too).
 *
 * Like QEMU's decoder, `decodeUleb128` accepts a non-minimal encoding within the byte limit (`80 00` is
 * 0); the encoder always writes the minimal one.
 *
 * No call allocates: the decoder returns the value and writes the next offset into a cursor the caller
 * keeps.
 *
 * Pure: imports nothing from the rest of migbench.
 */

/** The longest encoding of a 32-bit value. */
export const ULEB128_MAX_BYTES = 5;
/** The largest value these functions handle (run lengths are at most a page, 2 MiB). */
export const ULEB128_MAX_VALUE = 0xffffffff;

/** Where a decode ended: `next` is the offset just past the last byte read. Keep one and reuse it. */
export interface Uleb128Cursor {
  next: number;
}

/** A fresh cursor (allocate once, outside hot loops). */
export function createUleb128Cursor(): Uleb128Cursor {
  return { next: 0 };
}

/** Bytes in the minimal encoding of `value` (1 to 5). */
export function uleb128Length(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/**
 * Write the minimal encoding of `value` at `dst[offset]`.
 * @returns bytes written (1 to 5), or -1 when the encoding does not fit before `dst.length` (nothing is
 *   written then).
 * @throws RangeError when `value` is not an integer from 0 to 2^32 - 1, or `offset` is not an integer
 *   from 0 to dst.length (misuse).
 */
export function encodeUleb128(value: number, dst: Uint8Array, offset: number): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= ULEB128_MAX_VALUE)) {
    throw new RangeError(`ULEB128 value must be an integer from 0 to ${ULEB128_MAX_VALUE}, got ${String(value)}`);
  }
  if (!(Number.isInteger(offset) && offset >= 0 && offset <= dst.length)) {
    throw new RangeError(`ULEB128 offset must be an integer from 0 to ${dst.length}, got ${String(offset)}`);
  }
  const length = uleb128Length(value);
  if (offset + length > dst.length) return -1;
  let v = value;
  let o = offset;
  for (let k = 1; k < length; k++) {
    dst[o++] = (v & 0x7f) | 0x80;
    v = (v - (v & 0x7f)) / 128; // exact for values up to 2^32 (`>>>` would be fine too; this reads plainly)
  }
  dst[o] = v;
  return length;
}

/**
 * Read one ULEB128 value from `src[offset]`, reading no byte at or beyond `end`.
 *
 * Refused (returns -1, cursor untouched):
 * - truncated: `offset >= end`, or the last byte before `end` still has the continuation bit;
 * - overlong: the encoding takes more than `maxBytes` bytes (default 5; the XBZRLE decoder passes what
 *   its page needs);
 * - too large: a 5th byte above 0x0f (the value would not fit in 32 bits).
 *
 * @returns the value (0 to 2^32 - 1) with `cursor.next` set just past it, or -1 when malformed.
 */
export function decodeUleb128(
  src: Uint8Array,
  offset: number,
  end: number,
  cursor: Uleb128Cursor,
  maxBytes: number = ULEB128_MAX_BYTES,
): number {
  const limit = end < src.length ? end : src.length;
  if (offset >= limit || offset < 0) return -1;
  // The common cases (a page's runs) first, unrolled.
  const b0 = src[offset];
  if (b0 < 0x80) {
    cursor.next = offset + 1;
    return b0;
  }
  if (maxBytes < 2 || offset + 1 >= limit) return -1;
  const b1 = src[offset + 1];
  if (b1 < 0x80) {
    cursor.next = offset + 2;
    return (b0 & 0x7f) | (b1 << 7);
  }
  const max = maxBytes < ULEB128_MAX_BYTES ? maxBytes : ULEB128_MAX_BYTES;
  let value = (b0 & 0x7f) | ((b1 & 0x7f) << 7);
  let scale = 16384; // 2^14
  for (let k = 2; k < max; k++) {
    const at = offset + k;
    if (at >= limit) return -1;
    const b = src[at];
    if (k === 4 && b > 0x0f) return -1; // bits beyond 32
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      cursor.next = at + 1;
      return value;
    }
    scale *= 128;
  }
  return -1; // still continuing at the byte limit: overlong (or beyond 32 bits)
}
