/**
 * The XBZRLE encoder (the format, QEMU's encoder choices and the decoder: xbzrle.ts). It gives the same
 * bytes by whichever path it takes.
 *
 * Speed (bench/codec.bench.ts). Two fast encoders give the same bytes:
 * - In place, WebAssembly SIMD: when both pages are views into one memory made by
 *   `createXbzrleMemory` (the page cache allocates its slots there, with a scratch page for the sender's
 *   private copy and a page for the delta), a kernel finds run boundaries from bit masks: a branch-free
 *   pass per 2 KiB marks which 64-byte blocks differ (`v128.xor`, `v128.any_true`), `ctz` on that
 *   summary jumps to the next differing block, and the `i8x16.eq` + `i8x16.bitmask` mask of a block gives
 *   every run that starts and ends in it by `i64.ctz`; short nzruns are copied with one vector store. It is assembled
 *   at load time from its listing (xbzrle-kernel.ts; no binary blob, no build step). `xbzrleKernelFor`
 *   (xbzrle-memory.ts) gives it by byte offsets, without the typed-array getters `encodeXbzrle` needs to
 *   find the memory. Without WebAssembly SIMD no such memory is made and everything runs in JavaScript.
 * - Pages in ordinary buffers (of at least SCRATCH_MIN_PAGE_BYTES): one native memcmp (`Buffer#equals`)
 *   settles an unchanged page; a changed one is copied, with its old page, into a small kernel memory of
 *   the module's own (`scratchKernel`, xbzrle-memory.ts), encoded there by the same kernel, and the delta
 *   copied out: two native page copies and the kernel cost less than the JavaScript scan below on a
 *   changed page (bench/codec.bench.ts, "encode, js").
 * - JavaScript (`encodeWordwise`), for smaller pages and without WebAssembly SIMD: one native memcmp settles an unchanged page; then
 *   equal stretches are skipped 64 bytes at a time with `BigInt64Array` compares (exact; TurboFan
 *   compiles them to plain 64-bit loads and compares, no BigInt is allocated; a Float64Array would be
 *   faster but calls +0 and -0 equal and NaN unequal), the first differing byte comes from the XOR of
 *   two 32-bit words, an nzrun's end from the has-zero-byte test on 32-bit XORs. It needs both pages
 *   8-byte aligned in their buffers (page buffers are) and a little-endian host; otherwise it falls back
 *   to the byte-at-a-time path.
 * Hot paths allocate nothing: typed-array and DataView views over a buffer are made once per buffer and
 * reused; long runs are copied 8 bytes per step through DataViews (Buffer#copy and TypedArray#set over
 * a subarray both allocate a view per call).
 *
 * The byte-at-a-time path (`encodeBytewise`) is also what the reference encoder in
 * test/helpers/xbzrle-reference.ts runs.
 *
 * Pure: imports nothing from the rest of migbench except the ULEB128 helpers.
 */
import { Buffer } from 'node:buffer';
import { copyBytes, forgetCopyBuffers } from './byte-copy.ts';
import { encodeUleb128, uleb128Length } from './uleb128.ts';
import { forgetClassifiedBuffer, kernelOf, scratchKernel } from './xbzrle-memory.ts';

/** Pages of at least this many bytes in ordinary buffers go through the scratch kernel memory. */
export const SCRATCH_MIN_PAGE_BYTES = 1024;

/**
 * No delta of an n-byte page is longer than this: at most n data bytes and (n + 1) / 2 run pairs of two
 * ULEB128 lengths of at most 4 bytes each (pages of up to 2^28 bytes); QEMU's checks add 2 bytes.
 */
export const maxDeltaBytes = (n: number): number => 5 * n + 8;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;
const bufferEquals = Buffer.prototype.equals;

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

export function throwLengthMismatch(oldLength: number, newLength: number): never {
  throw new RangeError(`XBZRLE: the old and the new page differ in length (${oldLength} and ${newLength} bytes)`);
}

/**
 * Forget the one-entry buffer caches (views over the last buffers seen: the word views here, the copy
 * views of byte-copy.ts, the memory `kernelOf` classified last). They hold strong references: a
 * finished run's XBZRLE cache, page copy and ring would stay alive through them until the next run used
 * XBZRLE. Called between runs (memory/reclaim.ts); the WeakMaps need no help.
 */
export function forgetRecentBuffers(): void {
  lastOldBuffer = lastNewBuffer = null;
  lastOldViews = lastNewViews = null;
  forgetCopyBuffers();
  forgetClassifiedBuffer();
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
  return encodeXbzrleInto(old, cur, dst, Number.MAX_SAFE_INTEGER);
}

/**
 * As `encodeXbzrle`, with the output limited to `dst[0, dlen)` (the page cache passes dlen = page size,
 * QEMU's limit, whatever the size of its output buffer); a `dlen` beyond dst.length means dst.length.
 */
export function encodeXbzrleInto(old: Uint8Array, cur: Uint8Array, dst: Uint8Array, dlen: number): number {
  // (Typed-array getters are not free, `buffer` least of all: each is read once.)
  const n = old.length;
  if (cur.length !== n) throwLengthMismatch(n, cur.length);
  if (n === 0) return 0;
  const dstLength = dst.length;
  if (dlen > dstLength) dlen = dstLength;
  if (dlen < 2) return -1; // QEMU's first check, made before it looks at the page
  const oldBuffer = old.buffer;
  const newBuffer = cur.buffer;
  const oldOffset = old.byteOffset;
  const newOffset = cur.byteOffset;
  // In place: both pages in one kernel memory.
  const kernel = kernelOf(oldBuffer);
  if (kernel !== null && newBuffer === oldBuffer) {
    if (dst.buffer === oldBuffer) return kernel.encode(oldOffset, newOffset, n, dst.byteOffset, dlen);
    if (dlen <= kernel.outputBytes) {
      const length = kernel.encode(oldOffset, newOffset, n, kernel.outputOffset, dlen);
      if (length > 0) copyBytes(kernel.bytes, kernel.outputOffset, dst, 0, length);
      return length;
    }
  }
  // One native memcmp settles an unchanged page (and stops at the first difference otherwise).
  if (bufferEquals.call(old, cur)) return 0;
  // Pages elsewhere: copied into the scratch kernel memory (two native copies), encoded there by the
  // kernel, the delta copied out. A dlen above maxDeltaBytes(n) never binds, so it is cut to that.
  if (n >= SCRATCH_MIN_PAGE_BYTES) {
    const limit = dlen < maxDeltaBytes(n) ? dlen : maxDeltaBytes(n);
    const sk = scratchKernel(n, limit);
    if (sk !== null) {
      const mem = sk.kernel.bytes;
      mem.set(old, 0);
      mem.set(cur, sk.curOffset);
      const length = sk.kernel.encode(0, sk.curOffset, n, sk.outOffset, limit);
      if (length > 0) copyBytes(mem, sk.outOffset, dst, 0, length);
      return length;
    }
  }
  return encodeWordwise(old, cur, dst, dlen);
}

/**
 * The JavaScript encoder for two pages that differ (`encodeXbzrleInto`'s path for pages under
 * SCRATCH_MIN_PAGE_BYTES, or without WebAssembly SIMD): word at a time on 8-byte aligned pages of a
 * little-endian host, else byte at a time. Exported for the tests.
 */
export function encodeWordwise(old: Uint8Array, cur: Uint8Array, dst: Uint8Array, dlen: number): number {
  const n = old.length;
  const oldBuffer = old.buffer;
  const newBuffer = cur.buffer;
  const oldOffset = old.byteOffset;
  const newOffset = cur.byteOffset;
  if (!LITTLE_ENDIAN || ((oldOffset | newOffset) & 7) !== 0) return encodeBytewise(old, cur, dst, dlen);

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
  const oq0 = oldOffset >>> 3; // index of the page's first 8-byte word in oq
  const nq0 = newOffset >>> 3;
  const ow0 = oldOffset >>> 2; // index of the page's first 4-byte word in ow
  const nw0 = newOffset >>> 2;
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
    copyBytes(cur, j, dst, d, length);
    d += length;
    if (k >= n) return d;
    i = k;
  }
}

/** Byte-at-a-time encoder with QEMU's checks: the fallback for unaligned pages, and the reference encoder. */
export function encodeBytewise(old: Uint8Array, cur: Uint8Array, dst: Uint8Array, dlen: number): number {
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
