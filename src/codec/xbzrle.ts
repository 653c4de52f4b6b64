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
 * Speed (bench/codec.bench.ts): the fast encoder first lets one native memcmp (`Buffer#equals`) settle
 * an unchanged page, then skips equal stretches 64 bytes at a time with `BigInt64Array` compares (exact;
 * TurboFan compiles them to plain 64-bit loads and compares, no BigInt is allocated; a Float64Array would
 * be faster still but calls +0 and -0 equal and NaN unequal), pinpoints the first differing byte from
 * the XOR of two 32-bit words, finds the end of an nzrun with the has-zero-byte test on 32-bit XORs, and
 * copies long nzruns natively. It needs both pages 8-byte aligned in their buffers (page buffers are) and
 * a little-endian host; otherwise it falls back to the byte-at-a-time path. Hot paths allocate nothing
 * (typed-array views over a buffer are made once per buffer and reused).
 *
 * `encodeXbzrleReference` / `decodeXbzrleReference` are the plain byte-at-a-time versions the fast ones
 * are tested against.
 *
 * Pure: imports nothing from the rest of migbench except the ULEB128 helpers.
 */
import { Buffer } from 'node:buffer';
import { createUleb128Cursor, decodeUleb128, encodeUleb128, uleb128Length } from './uleb128.ts';

/** `encodeXbzrle` result: the page is unchanged, send nothing. */
export const XBZRLE_UNCHANGED = 0;
/** `encodeXbzrle` result: the delta does not fit, send the page normally. `decodeXbzrle`: malformed. */
export const XBZRLE_OVERFLOW = -1;
/** `decodeXbzrle` result for a malformed delta. */
export const XBZRLE_MALFORMED = -1;

/** Runs shorter than this are copied byte by byte; longer ones with one native copy. */
const NATIVE_COPY_MIN = 48;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;
const bufferEquals = Buffer.prototype.equals;
const bufferCopy = Buffer.prototype.copy;

// ---------------------------------------------------------------------------------------------------
// Word views over whole buffers, made once per buffer. Two one-entry caches (the old page's buffer and
// the new page's: in the sender, the cache and the private page copy) in front of a WeakMap.

interface WordViews {
  readonly q: BigInt64Array; // 8-byte words
  readonly w: Int32Array; // 4-byte words
}
const viewsByBuffer = new WeakMap<ArrayBufferLike, WordViews>();
let lastOldBuffer: ArrayBufferLike | null = null;
let lastOldViews: WordViews | null = null;
let lastNewBuffer: ArrayBufferLike | null = null;
let lastNewViews: WordViews | null = null;

function makeViews(buffer: ArrayBufferLike): WordViews {
  let views = viewsByBuffer.get(buffer);
  if (views === undefined) {
    views = { q: new BigInt64Array(buffer, 0, buffer.byteLength >>> 3), w: new Int32Array(buffer, 0, buffer.byteLength >>> 2) };
    viewsByBuffer.set(buffer, views);
  }
  return views;
}

/** Index (0-3) of the lowest non-zero byte of a non-zero 32-bit value (byte 0 = lowest address, LE). */
function lowestByte(x: number): number {
  // x & -x isolates the lowest set bit; Math.imul keeps -x in int32 for x = -2^31.
  return (31 - Math.clz32(x & Math.imul(x, -1))) >>> 3;
}

/**
 * Write a run length at dst[d]; returns the new d, or -1 when it does not fit. For lengths under 2^14
 * (every run of a page up to 16 KiB) the caller has already made sure two bytes are free (QEMU's
 * checks), so both bytes are written without a branch; the second is dead when the length takes one.
 */
function putLength(dst: Uint8Array, d: number, v: number, dlen: number): number {
  if (v < 0x4000) {
    const two = ((v >>> 7) + 0x7fffffff) >>> 31; // 1 when v >= 128
    dst[d] = (v & 0x7f) | (two << 7);
    dst[d + 1] = v >>> 7;
    return d + 1 + two;
  }
  if (d + uleb128Length(v) > dlen) return -1;
  return d + encodeUleb128(v, dst, d);
}

function checkPages(old: Uint8Array, cur: Uint8Array): void {
  if (old.length !== cur.length) {
    throw new RangeError(`XBZRLE: the old and the new page differ in length (${old.length} and ${cur.length} bytes)`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoder

/**
 * Encode `cur` as a delta against `old` into `dst` (QEMU's `xbzrle_encode_buffer` with dlen = dst.length).
 * @returns the delta's length (> 0); 0 when the pages are equal (send nothing); -1 when the delta does
 *   not fit in `dst` (send the page normally). Bytes of `dst` past the returned length are unspecified.
 * @throws RangeError when the pages differ in length (misuse).
 */
export function encodeXbzrle(old: Uint8Array, cur: Uint8Array, dst: Uint8Array): number {
  return encodeXbzrleInto(old, cur, dst, dst.length);
}

/**
 * As `encodeXbzrle`, with the output limited to `dst[0, dlen)` (the page cache passes dlen = page size,
 * QEMU's limit, whatever the size of its output buffer). `dlen` must not exceed dst.length.
 */
export function encodeXbzrleInto(old: Uint8Array, cur: Uint8Array, dst: Uint8Array, dlen: number): number {
  checkPages(old, cur);
  const n = old.length;
  if (n === 0) return 0;
  if (dlen > dst.length) dlen = dst.length;
  if (dlen < 2) return -1; // QEMU's first check, made before it looks at the page
  // One native memcmp settles an unchanged page (and stops at the first difference otherwise).
  if (bufferEquals.call(old, cur)) return 0;
  if (!LITTLE_ENDIAN || ((old.byteOffset | cur.byteOffset) & 7) !== 0) return encodeBytewise(old, cur, dst, dlen);

  const oldBuffer = old.buffer;
  const newBuffer = cur.buffer;
  let ov: WordViews;
  let nv: WordViews;
  if (oldBuffer === lastOldBuffer && lastOldViews !== null) ov = lastOldViews;
  else {
    ov = makeViews(oldBuffer);
    lastOldBuffer = oldBuffer;
    lastOldViews = ov;
  }
  if (newBuffer === lastNewBuffer && lastNewViews !== null) nv = lastNewViews;
  else {
    nv = makeViews(newBuffer);
    lastNewBuffer = newBuffer;
    lastNewViews = nv;
  }
  const oq = ov.q;
  const nq = nv.q;
  const ow = ov.w;
  const nw = nv.w;
  const oq0 = old.byteOffset >>> 3; // index of the page's first 8-byte word in oq
  const nq0 = cur.byteOffset >>> 3;
  const ow0 = old.byteOffset >>> 2; // index of the page's first 4-byte word in ow
  const nw0 = cur.byteOffset >>> 2;
  const words = n >>> 3; // whole 8-byte words in the page
  const n4 = n & ~3; // bytes in whole 4-byte words
  const words4 = n4 >>> 2;

  let i = 0;
  let d = 0;
  for (;;) {
    // Invariant: i < n, i is where a zrun starts (the previous nzrun ended at an equal byte, or i = 0).
    if (d + 2 > dlen) return -1;
    const zrunStart = i;

    // ---- zrun: j = the first differing byte at or after i ----
    let j: number;
    let w = i >>> 3; // the 8-byte word holding byte i
    if (w < words) {
      // The rest of word w, from the XOR of its two 4-byte halves with the bytes before i masked off.
      const a = (oq0 + w) << 1;
      const b = (nq0 + w) << 1;
      let lo = ow[a] ^ nw[b];
      let hi = ow[a + 1] ^ nw[b + 1];
      const skip = i & 7;
      if (skip !== 0) {
        if (skip < 4) lo &= -1 << (skip << 3);
        else {
          lo = 0;
          hi &= -1 << ((skip - 4) << 3);
        }
      }
      if ((lo | hi) !== 0) j = (w << 3) + (lo !== 0 ? lowestByte(lo) : 4 + lowestByte(hi));
      else {
        w++;
        // 64 bytes per step; then the differing word within the block (or the last few words).
        while (w + 8 <= words) {
          const x = oq0 + w;
          const y = nq0 + w;
          if (
            oq[x] !== nq[y] ||
            oq[x + 1] !== nq[y + 1] ||
            oq[x + 2] !== nq[y + 2] ||
            oq[x + 3] !== nq[y + 3] ||
            oq[x + 4] !== nq[y + 4] ||
            oq[x + 5] !== nq[y + 5] ||
            oq[x + 6] !== nq[y + 6] ||
            oq[x + 7] !== nq[y + 7]
          ) {
            break;
          }
          w += 8;
        }
        while (w < words && oq[oq0 + w] === nq[nq0 + w]) w++;
        if (w < words) {
          const a2 = (oq0 + w) << 1;
          const b2 = (nq0 + w) << 1;
          const lo2 = ow[a2] ^ nw[b2];
          j = (w << 3) + (lo2 !== 0 ? lowestByte(lo2) : 4 + lowestByte(ow[a2 + 1] ^ nw[b2 + 1]));
        } else {
          j = words << 3;
          while (j < n && old[j] === cur[j]) j++;
        }
      }
    } else {
      j = i;
      while (j < n && old[j] === cur[j]) j++;
    }
    if (j >= n) return zrunStart === 0 ? 0 : d; // the trailing zrun is not sent

    d = putLength(dst, d, j - zrunStart, dlen);
    if (d < 0 || d + 2 > dlen) return -1;

    // ---- nzrun: k = the first equal byte after j ----
    let k = j + 1;
    if (k < n4) {
      let v = k >>> 2; // the 4-byte word holding byte k
      let mask = -1 << ((k & 3) << 3); // its bytes from k on
      for (;;) {
        const x = ow[ow0 + v] ^ nw[nw0 + v];
        // 0x80 in each byte of x that is zero (exact, no false positives), 0 elsewhere
        const equalBytes = ~((((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) | 0x7f7f7f7f) & mask;
        if (equalBytes !== 0) {
          k = (v << 2) + lowestByte(equalBytes);
          break;
        }
        mask = -1;
        if (++v >= words4) {
          k = n4;
          break;
        }
      }
    }
    if (k >= n4) while (k < n && old[k] !== cur[k]) k++;

    const length = k - j;
    d = putLength(dst, d, length, dlen);
    if (d < 0 || d + length > dlen) return -1;
    if (length < NATIVE_COPY_MIN) {
      for (let s = j; s < k; s++) dst[d++] = cur[s];
    } else {
      bufferCopy.call(cur, dst, d, j, k);
      d += length;
    }
    if (k >= n) return d;
    i = k;
  }
}

/** Byte-at-a-time encoder with QEMU's checks (also the fallback for unaligned pages). */
function encodeBytewise(old: Uint8Array, cur: Uint8Array, dst: Uint8Array, dlen: number): number {
  const n = old.length;
  let i = 0;
  let d = 0;
  while (i < n) {
    if (d + 2 > dlen) return -1;
    const zrunStart = i;
    while (i < n && old[i] === cur[i]) i++;
    if (zrunStart === 0 && i === n) return 0; // unchanged
    if (i === n) return d; // the trailing zrun is not sent
    const zrun = i - zrunStart;
    if (d + uleb128Length(zrun) > dlen) return -1; // only reachable for runs of 2^14 bytes or more
    d += encodeUleb128(zrun, dst, d);
    if (d + 2 > dlen) return -1;
    const nzrunStart = i;
    while (i < n && old[i] !== cur[i]) i++;
    const nzrun = i - nzrunStart;
    if (d + uleb128Length(nzrun) > dlen) return -1;
    d += encodeUleb128(nzrun, dst, d);
    if (d + nzrun > dlen) return -1;
    for (let s = nzrunStart; s < i; s++) dst[d++] = cur[s];
  }
  return d;
}

/**
 * The plain reference encoder: a byte at a time, QEMU's checks, output identical to `encodeXbzrle`.
 */
export function encodeXbzrleReference(old: Uint8Array, cur: Uint8Array, dst: Uint8Array): number {
  checkPages(old, cur);
  return encodeBytewise(old, cur, dst, dst.length);
}

// ---------------------------------------------------------------------------------------------------
// Decoder

const cursor = createUleb128Cursor();

/** Longest ULEB128 run length accepted for a page of `pageBytes`: what it needs, and QEMU's 2 at least. */
function maxLengthBytes(pageBytes: number): number {
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
    const zrun = decodeUleb128(src, i, slen, cursor, maxBytes);
    if (zrun < 0 || (zrun === 0 && i !== 0)) return -1;
    d += zrun;
    if (d > dlen) return -1;
    i = cursor.next;
    const nzrun = decodeUleb128(src, i, slen, cursor, maxBytes);
    if (nzrun <= 0) return -1; // malformed, or an empty nzrun
    i = cursor.next;
    if (d + nzrun > dlen || i + nzrun > slen) return -1;
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
    // one-byte lengths inline; longer ones through the ULEB128 reader
    let zrun = src[i];
    if (zrun < 0x80) i++;
    else {
      zrun = decodeUleb128(src, i, slen, cursor);
      i = cursor.next;
    }
    d += zrun;
    let nzrun = src[i];
    if (nzrun < 0x80) i++;
    else {
      nzrun = decodeUleb128(src, i, slen, cursor);
      i = cursor.next;
    }
    if (nzrun < NATIVE_COPY_MIN) {
      const stop = i + nzrun;
      while (i < stop) dst[d++] = src[i++];
    } else {
      bufferCopy.call(src, dst, d, i, i + nzrun);
      d += nzrun;
      i += nzrun;
    }
  }
  return end;
}

/**
 * The plain reference decoder: a byte at a time, the same rules and result as `decodeXbzrle` (checks the
 * whole delta first, leaves `dst` untouched when malformed).
 */
export function decodeXbzrleReference(src: Uint8Array, dst: Uint8Array): number {
  const slen = src.length;
  const dlen = dst.length;
  const maxBytes = maxLengthBytes(dlen);
  // Pass 1: parse every run, byte by byte.
  let i = 0;
  let d = 0;
  while (i < slen) {
    const zrun = readLengthBytewise(src, i, maxBytes);
    if (zrun < 0 || (zrun === 0 && i !== 0)) return -1;
    i = referenceNext;
    d += zrun;
    if (d > dlen) return -1;
    const nzrun = readLengthBytewise(src, i, maxBytes);
    if (nzrun <= 0) return -1;
    i = referenceNext;
    if (d + nzrun > dlen || i + nzrun > slen) return -1;
    d += nzrun;
    i += nzrun;
  }
  const end = d;
  // Pass 2: apply.
  i = 0;
  d = 0;
  while (i < slen) {
    d += readLengthBytewise(src, i, maxBytes);
    i = referenceNext;
    const nzrun = readLengthBytewise(src, i, maxBytes);
    i = referenceNext;
    for (let k = 0; k < nzrun; k++) dst[d++] = src[i++];
  }
  return end;
}

/** Where the last `readLengthBytewise` ended. */
let referenceNext = 0;

/** ULEB128 the plain way, for the reference decoder: value, or -1 when truncated, overlong or > 32 bits. */
function readLengthBytewise(src: Uint8Array, at: number, maxBytes: number): number {
  let value = 0;
  let scale = 1;
  for (let k = 0; k < maxBytes && k < 5; k++) {
    if (at + k >= src.length) return -1; // truncated
    const byte = src[at + k];
    if (k === 4 && byte > 0x0f) return -1; // beyond 32 bits
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      referenceNext = at + k + 1;
      return value;
    }
    scale *= 128;
  }
  return -1; // overlong
}
