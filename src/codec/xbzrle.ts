/**
 * XBZRLE (XOR-based zero run-length encoding), byte-compatible with QEMU (`migration/xbzrle.c`,
 * `docs/xbzrle.txt`): a page is sent as a delta against the copy the sender last sent.
 *
 *   page  = zrun nzrun | zrun nzrun page
 *   zrun  = length                 bytes equal in the old and the new page
 *   nzrun = length byte...         bytes that differ, followed by their NEW values (not the XOR)
 *   length = ULEB128 (uleb128.ts)
 *
 * Example (docs/xbzrle.txt): 1001 equal bytes, 15 changed, 3 equal, 1 changed, 1 equal, 1 changed, the
 * rest equal → `e9 07 | 0f 01 02 … 0f | 03 | 01 67 | 01 | 01 69` (24 bytes).
 *
 * The encoder's choices, as QEMU's (both its `long`-at-a-time and AVX-512 encoders) make them, so the
 * output is byte-identical for the same pages:
 * - every run is maximal: a zrun ends at the first differing byte, an nzrun at the first equal byte
 *   (QEMU finds them a word at a time with the has-zero-byte test on old ^ new, which is exact); short
 *   equal stretches inside a changed region are never merged into the nzrun (the format would allow it,
 *   QEMU's encoder does not do it);
 * - the first zrun may be 0 (the page starts with a change); the trailing zrun is not sent;
 * - an unchanged page returns 0 (nothing to send);
 * - overflow, returning -1 ("send the page normally"), follows QEMU's checks exactly: with `dlen` the
 *   output size, -1 when fewer than 2 bytes are left before a zrun (even if the rest of the page is
 *   unchanged), when fewer than 2 are left after a zrun, or when an nzrun's bytes do not fit. So a
 *   `dst` of under 2 bytes gives -1 for any non-empty page. QEMU passes dlen = page size (ram.c).
 * Runs of 16384 bytes or more (pages over 16 KiB, which QEMU's 14-bit ULEB128 helpers cannot encode)
 * are written with longer ULEB128 and an exact fit check; for 4 KiB pages that case never arises.
 *
 * The decoder applies a delta onto `dst`, which holds the old page, and returns QEMU's value: the
 * offset just past the last changed byte (the rest of the page is unchanged by definition), 0 for an
 * empty delta; or -1 for a malformed delta, as QEMU's decoder refuses them: a truncated or overlong
 * ULEB128 length, a zero-length zrun other than the first, a zero-length nzrun, a run past the page end,
 * an nzrun whose bytes run past the delta, or leftover bytes that do not form a zrun + nzrun pair. Unlike
 * QEMU's, it checks the whole delta before writing, so `dst` is untouched when it returns -1. Neither
 * function reads or writes outside its arrays.
 *
 * The encoder: xbzrle-encode.ts (JavaScript, and the in-place WebAssembly SIMD kernel of xbzrle-kernel.ts
 * in memories made by xbzrle-memory.ts). The plain byte-at-a-time reference codec the fast ones are
 * tested against: test/helpers/xbzrle-reference.ts.
 *
 * Pure: imports nothing from the rest of migbench except the ULEB128 helpers.
 */
import { copyBytes } from './byte-copy.ts';
import { createUleb128Cursor, decodeUleb128, uleb128Length } from './uleb128.ts';

/** `encodeXbzrle` result: the page is unchanged, send nothing. */
export const XBZRLE_UNCHANGED = 0;
/** `encodeXbzrle` result: the delta does not fit, send the page normally. `decodeXbzrle`: malformed. */
export const XBZRLE_OVERFLOW = -1;
/** `decodeXbzrle` result for a malformed delta. */
export const XBZRLE_MALFORMED = -1;

// ---------------------------------------------------------------------------------------------------
// Decoder

const cursor = createUleb128Cursor();

/** Longest ULEB128 run length accepted for a page of `pageBytes`: what it needs, and QEMU's 2 at least. */
export function maxLengthBytes(pageBytes: number): number {
  const need = uleb128Length(pageBytes);
  return need > 2 ? need : 2;
}

/**
 * Check a delta against a page of `dlen` bytes without writing anything.
 * @returns the end of the last nzrun (QEMU's decode result), or -1 when malformed.
 */
function validate(src: Uint8Array, dlen: number): number {
  const slen = src.length;
  const maxBytes = maxLengthBytes(dlen);
  let i = 0;
  let d = 0;
  while (i < slen) {
    // zrun: 1- and 2-byte lengths inline (every page up to 16 KiB), longer ones through the reader
    const at = i;
    let zrun = src[i];
    if (zrun < 0x80) i++;
    else if (i + 1 < slen && src[i + 1] < 0x80) {
      zrun = (zrun & 0x7f) | (src[i + 1] << 7);
      i += 2;
    } else {
      zrun = decodeUleb128(src, i, slen, cursor, maxBytes);
      if (zrun < 0) return -1;
      i = cursor.next;
    }
    if (zrun === 0 && at !== 0) return -1; // only the first zrun may be empty
    d += zrun;
    if (d > dlen || i >= slen) return -1;
    // nzrun
    let nzrun = src[i];
    if (nzrun < 0x80) i++;
    else if (i + 1 < slen && src[i + 1] < 0x80) {
      nzrun = (nzrun & 0x7f) | (src[i + 1] << 7);
      i += 2;
    } else {
      nzrun = decodeUleb128(src, i, slen, cursor, maxBytes);
      if (nzrun < 0) return -1;
      i = cursor.next;
    }
    if (nzrun === 0 || d + nzrun > dlen || i + nzrun > slen) return -1;
    d += nzrun;
    i += nzrun;
  }
  return d;
}

/**
 * Apply the delta `src` onto `dst`, which holds the old page (QEMU's `xbzrle_decode_buffer` with
 * dlen = dst.length).
 * @returns the offset just past the last changed byte (0 for an empty delta), or -1 for a malformed
 *   delta, in which case `dst` is left as it was.
 */
export function decodeXbzrle(src: Uint8Array, dst: Uint8Array): number {
  const end = validate(src, dst.length);
  if (end < 0) return -1;
  // Apply: the delta is well formed, so every length below is in bounds.
  const slen = src.length;
  let i = 0;
  let d = 0;
  while (i < slen) {
    // lengths as in validate(); the delta is well formed here
    let zrun = src[i];
    if (zrun < 0x80) i++;
    else if (src[i + 1] < 0x80) {
      zrun = (zrun & 0x7f) | (src[i + 1] << 7);
      i += 2;
    } else {
      zrun = decodeUleb128(src, i, slen, cursor);
      i = cursor.next;
    }
    d += zrun;
    let nzrun = src[i];
    if (nzrun < 0x80) i++;
    else if (src[i + 1] < 0x80) {
      nzrun = (nzrun & 0x7f) | (src[i + 1] << 7);
      i += 2;
    } else {
      nzrun = decodeUleb128(src, i, slen, cursor);
      i = cursor.next;
    }
    if (nzrun < 16) {
      const stop = i + nzrun;
      while (i < stop) dst[d++] = src[i++];
    } else {
      copyBytes(src, i, dst, d, nzrun);
      d += nzrun;
      i += nzrun;
    }
  }
  return end;
}
