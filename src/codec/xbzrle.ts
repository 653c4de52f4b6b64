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
 * Speed (bench/codec.bench.ts). Two fast encoders give the same bytes:
 * - In place, WebAssembly SIMD: when both pages are views into one memory made by
 *   `createXbzrleMemory` (the page cache allocates its slots there, with a scratch page for the sender's
 *   private copy and a page for the delta), a kernel finds run boundaries from bit masks: a branch-free
 *   pass per 4 KiB marks which 64-byte blocks differ (`v128.xor`, `v128.any_true`), `i64.ctz` on that
 *   summary jumps to the next differing block, and `i8x16.eq` + `i8x16.bitmask` masks of a block give the
 *   exact bytes where runs start and end; short nzruns are copied with one vector store. It is assembled
 *   at load time from the listing below (no binary blob, no build step). `xbzrleKernelFor` gives it by
 *   byte offsets, without the typed-array getters `encodeXbzrle` needs to find the memory. Without
 *   WebAssembly SIMD no such memory is made and everything runs in JavaScript.
 * - JavaScript, for any other pages: one native memcmp (`Buffer#equals`) settles an unchanged page; then
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

// Byte copies between arrays without allocating (Buffer#copy and TypedArray#set over a subarray both make
// a view per call): short runs byte by byte, longer ones 8 bytes per step through DataViews over the
// whole buffers (unaligned 32-bit accesses; integers, so every bit pattern is kept).
const dataViewsByBuffer = new WeakMap<ArrayBufferLike, DataView>();
let lastSourceBuffer: ArrayBufferLike | null = null;
let lastSourceView: DataView | null = null;
let lastTargetBuffer: ArrayBufferLike | null = null;
let lastTargetView: DataView | null = null;

function dataViewOf(buffer: ArrayBufferLike): DataView {
  let view = dataViewsByBuffer.get(buffer);
  if (view === undefined) {
    view = new DataView(buffer);
    dataViewsByBuffer.set(buffer, view);
  }
  return view;
}

/** dst[d, d + length) = src[s, s + length); both ranges in bounds. */
function copyBytes(src: Uint8Array, s: number, dst: Uint8Array, d: number, length: number): void {
  if (length < 16) {
    for (let k = 0; k < length; k++) dst[d + k] = src[s + k];
    return;
  }
  const sb = src.buffer;
  const db = dst.buffer;
  let sv: DataView;
  let dv: DataView;
  if (sb === lastSourceBuffer && lastSourceView !== null) sv = lastSourceView;
  else {
    sv = dataViewOf(sb);
    lastSourceBuffer = sb;
    lastSourceView = sv;
  }
  if (db === lastTargetBuffer && lastTargetView !== null) dv = lastTargetView;
  else {
    dv = dataViewOf(db);
    lastTargetBuffer = db;
    lastTargetView = dv;
  }
  const so = src.byteOffset + s;
  const to = dst.byteOffset + d;
  const whole = length & ~7;
  let k = 0;
  for (; k < whole; k += 8) {
    dv.setInt32(to + k, sv.getInt32(so + k, true), true);
    dv.setInt32(to + k + 4, sv.getInt32(so + k + 4, true), true);
  }
  for (; k < length; k++) dst[d + k] = src[s + k];
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

function throwLengthMismatch(oldLength: number, newLength: number): never {
  throw new RangeError(`XBZRLE: the old and the new page differ in length (${oldLength} and ${newLength} bytes)`);
}

function checkPages(old: Uint8Array, cur: Uint8Array): void {
  if (old.length !== cur.length) throwLengthMismatch(old.length, cur.length);
}

// ---------------------------------------------------------------------------------------------------
// In place: a WebAssembly SIMD kernel over pages that live in one WebAssembly memory.
//
// The kernel is written below as a listing of instructions (helpers named after the WebAssembly text
// format: `get(L)` is local.get L, `add` is i32.add, `i8x16Eq` is i8x16.eq, …) and assembled into a
// module when first needed. It makes the same runs with the same checks as the encoders above; what
// differs is how it finds them. Positions are page-relative; a "block" is 64 aligned bytes, a "chunk"
// 64 blocks (4 KiB); the tail is what follows the last whole block.
//
//   encode(old, cur, n, dst, dlen) -> length | 0 | -1        (addresses in the memory, n = page bytes)
//     if n == 0: return 0;  if dlen < 2: return -1
//     i = d = 0
//     loop:
//       if d + 2 > dlen: return -1
//       zs = j = i
//       zrun (j = first differing byte >= j):
//         in whole blocks: ML = differ-mask of j's block (4 x i8x16.eq + i8x16.bitmask -> i64, kept
//           while the search stays in that block); bits >= j set → j = block + ctz; found.
//           Else the chunk's summary S (bit b: block b differs; one branch-free pass of v128.xor /
//           v128.any_true per chunk, made once) gives the next differing block by ctz, and its mask the
//           byte; no block left in the chunk → the next chunk.
//         in the tail: 16 bytes (i8x16.bitmask, ctz), then one, at a time
//       if j >= n: return zs == 0 ? 0 : d
//       put_length(j - zs);  if d + 2 > dlen: return -1
//       nzrun (k = first equal byte > j): in j's block from ~ML by ctz; if the run reaches the block's
//         end, the next blocks' masks one by one; in the tail, 16 bytes then one at a time
//       put_length(k - j);  if d + (k - j) > dlen: return -1
//       copy cur[j, k) to dst + d (one v128 store when k - j <= 16 and 16 bytes fit; else memory.copy)
//       d += k - j;  if k >= n: return d;  i = k
//   put_length(v): v < 2^14: two bytes written without a branch (QEMU's checks left room), d += 1 or 2;
//                  else: -1 unless ULEB128 fits, then the general loop.
// Run boundaries come from bit masks, so a sparse page costs few mispredicted branches: about 10 ns per
// changed run (2.6 GHz Zen), and an unchanged 4 KiB page as long as one memcmp.
// Every load is inside a page (16-byte loads only where j + 16 <= n), every store inside dst[0, dlen).

type Code = readonly (number | Code)[];

function lebU(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function lebS(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function flatten(code: Code): number[] {
  const out: number[] = [];
  for (const x of code) {
    if (typeof x === 'number') out.push(x);
    else out.push(...flatten(x));
  }
  return out;
}

const wasmI32 = 0x7f;
const wasmVoid = 0x40;
// instructions
const get = (local: number): Code => [0x20, ...lebU(local)];
const set = (local: number): Code => [0x21, ...lebU(local)];
const tee = (local: number): Code => [0x22, ...lebU(local)];
const i32c = (v: number): Code => [0x41, ...lebS(v)];
const i64c = (v: number): Code => [0x42, ...lebS(v)];
const block = (...body: Code[]): Code => [0x02, wasmVoid, ...body, 0x0b];
const loop = (...body: Code[]): Code => [0x03, wasmVoid, ...body, 0x0b];
const when = (...body: Code[]): Code => [0x04, wasmVoid, ...body, 0x0b]; // if (condition on the stack)
const ifElse = (then: Code, otherwise: Code): Code => [0x04, wasmVoid, ...then, 0x05, ...otherwise, 0x0b];
const br = (depth: number): Code => [0x0c, ...lebU(depth)];
const brIf = (depth: number): Code => [0x0d, ...lebU(depth)];
const ret: Code = [0x0f];
const eqz: Code = [0x45];
const eq: Code = [0x46];
const ne: Code = [0x47];
const ltU: Code = [0x49];
const gtU: Code = [0x4b];
const leU: Code = [0x4d];
const geU: Code = [0x4f];
const ctz: Code = [0x68];
const add: Code = [0x6a];
const sub: Code = [0x6b];
const and: Code = [0x71];
const or: Code = [0x72];
const xor: Code = [0x73];
const shl: Code = [0x74];
const shrU: Code = [0x76];
const i64Ctz: Code = [0x7a];
const i64Or: Code = [0x84];
const i64Xor: Code = [0x85];
const i64Shl: Code = [0x86];
const i32WrapI64: Code = [0xa7];
const i64ExtendI32U: Code = [0xad];
const load8u: Code = [0x2d, 0, 0]; // i32.load8_u align=1 offset=0
const store8 = (offset: number): Code => [0x3a, 0, ...lebU(offset)];
const v128Load = (offset: number): Code => [0xfd, 0x00, 0, ...lebU(offset)];
const v128Store: Code = [0xfd, 0x0b, 0, 0];
const i8x16Eq: Code = [0xfd, 0x23];
const v128Or: Code = [0xfd, 0x50];
const v128Xor: Code = [0xfd, 0x51];
const v128AnyTrue: Code = [0xfd, 0x53];
const i8x16Bitmask: Code = [0xfd, 0x64];
const select: Code = [0x1b];
const i64Eqz: Code = [0x50];
const i64And: Code = [0x83];
const memoryCopy: Code = [0xfc, 0x0a, 0, 0];

// locals: parameters 0-4, then i32s 5-19, then i64s 20-23
const OLD = 0;
const CUR = 1;
const N = 2;
const DST = 3;
const DLEN = 4;
const I = 5;
const J = 6;
const K = 7;
const D = 8;
const ZS = 9;
const M = 10;
const V = 11;
const T = 12;
const C = 13; // start of the 4 KiB chunk being searched (page-relative)
const SC = 14; // chunk whose summary is in S (-1: none yet)
const BLK = 15; // start of a 64-byte block (page-relative)
const B = 16;
const NB = 17;
const N64 = 18; // bytes of the page in whole 64-byte blocks
const MBASE = 19; // block whose difference mask is in ML (-1: none yet)
const S = 20; // i64: bit b set when block b of chunk SC differs
const ML = 21; // i64: bit i set when byte i of block MBASE differs
const R = 22; // i64
const E = 23; // i64
const wasmI64 = 0x7e;

/** i8x16.eq of the 16 bytes at old + at + offset and cur + at + offset */
const equalAt = (at: number, offset: number): Code => [get(OLD), get(at), add, v128Load(offset), get(CUR), get(at), add, v128Load(offset), i8x16Eq];
/** v128.xor of the 16 bytes at old + at + offset and cur + at + offset */
const xorAt = (at: number, offset: number): Code => [get(OLD), get(at), add, v128Load(offset), get(CUR), get(at), add, v128Load(offset), v128Xor];
/** i64: bit i set when byte i of the 64-byte block at `at` is equal in both pages */
const equalMask64 = (at: number): Code => [
  equalAt(at, 0), i8x16Bitmask, i64ExtendI32U,
  equalAt(at, 16), i8x16Bitmask, i64ExtendI32U, i64c(16), i64Shl, i64Or,
  equalAt(at, 32), i8x16Bitmask, i64ExtendI32U, i64c(32), i64Shl, i64Or,
  equalAt(at, 48), i8x16Bitmask, i64ExtendI32U, i64c(48), i64Shl, i64Or,
];
/** i64: bit i set when byte i of the 64-byte block at `at` differs */
const differMask64 = (at: number): Code => [equalMask64(at), i64c(-1), i64Xor];
/** i32 1 when the 64-byte block at `at` differs anywhere, else 0 (no branch) */
const blockDiffers = (at: number): Code => [xorAt(at, 0), xorAt(at, 16), v128Or, xorAt(at, 32), xorAt(at, 48), v128Or, v128Or, v128AnyTrue];

/** Write the run length in V at dst + d. */
const putLengthCode: Code = [
  get(V), i32c(0x4000), ltU,
  ifElse(
    [
      get(V), i32c(7), shrU, i32c(0), ne, set(T), // T = length takes two bytes
      get(DST), get(D), add, get(V), i32c(0x7f), and, get(T), i32c(7), shl, or, store8(0),
      get(DST), get(D), add, get(V), i32c(7), shrU, store8(1),
      get(D), i32c(1), add, get(T), add, set(D),
    ],
    [
      // 3 to 5 bytes; -1 unless they fit
      get(D), i32c(3), add, get(V), i32c(0x200000), geU, add, get(V), i32c(0x10000000), geU, add, get(DLEN), gtU,
      when(i32c(-1), ret),
      block(loop(
        get(V), i32c(0x80), ltU, brIf(1),
        get(DST), get(D), add, get(V), i32c(0x7f), and, i32c(0x80), or, store8(0),
        get(V), i32c(7), shrU, set(V),
        get(D), i32c(1), add, set(D),
        br(0),
      )),
      get(DST), get(D), add, get(V), store8(0),
      get(D), i32c(1), add, set(D),
    ],
  ),
];

/** The 16-bytes-then-bytes scan for the first equal byte from K (nzrun end outside whole blocks). */
const nzrunScanCode: Code = block(
  loop(
    get(K), i32c(16), add, get(N), leU,
    when(
      equalAt(K, 0), i8x16Bitmask, tee(M),
      when(get(K), get(M), ctz, add, set(K), br(3)),
      get(K), i32c(16), add, set(K),
      br(1),
    ),
    loop(
      get(K), get(N), ltU,
      when(
        get(OLD), get(K), add, load8u, get(CUR), get(K), add, load8u, ne,
        when(get(K), i32c(1), add, set(K), br(2)),
      ),
    ),
  ),
);

const encodeKernelCode: Code = [
  get(N), eqz, when(i32c(0), ret),
  get(DLEN), i32c(2), ltU, when(i32c(-1), ret),
  i32c(-1), set(SC),
  i32c(-1), set(MBASE),
  get(N), i32c(~63), and, set(N64),
  loop(
    get(D), i32c(2), add, get(DLEN), gtU, when(i32c(-1), ret),
    get(I), tee(ZS), set(J),
    // ---- zrun: J = the first differing byte at or after I ----
    block(
      loop(
        get(J), get(N64), ltU,
        when(
          // J's block, from byte J on (its mask is kept while the search stays in it)
          get(J), i32c(~63), and, tee(BLK), get(MBASE), ne,
          when(get(BLK), set(MBASE), differMask64(BLK), set(ML)),
          get(ML), i64c(-1), get(J), get(BLK), sub, i64ExtendI32U, i64Shl, i64And,
          tee(R), i64Eqz, eqz,
          when(get(BLK), get(R), i64Ctz, i32WrapI64, add, set(J), br(3)), // found
          // the chunk's summary: one branch-free pass over its 64-byte blocks
          get(BLK), i32c(~4095), and, tee(C), get(SC), ne,
          when(
            i64c(0), set(S),
            i32c(0), set(B),
            get(N64), get(C), sub, i32c(6), shrU, tee(NB), i32c(64), get(NB), i32c(64), ltU, select, set(NB),
            block(loop(
              get(B), get(NB), geU, brIf(1),
              get(C), get(B), i32c(6), shl, add, set(BLK),
              get(S), blockDiffers(BLK), i64ExtendI32U, get(B), i64ExtendI32U, i64Shl, i64Or, set(S),
              get(B), i32c(1), add, set(B),
              br(0),
            )),
            get(C), set(SC),
            get(J), i32c(~63), and, set(BLK),
          ),
          // the next block of the chunk that differs, straight from the summary
          get(S), i64c(-2), get(BLK), get(C), sub, i32c(6), shrU, i64ExtendI32U, i64Shl, i64And,
          tee(R), i64Eqz, eqz,
          when(
            get(C), get(R), i64Ctz, i32WrapI64, i32c(6), shl, add, tee(BLK), set(MBASE),
            differMask64(BLK), set(ML),
            get(BLK), get(ML), i64Ctz, i32WrapI64, add, set(J),
            br(3), // found
          ),
          // nothing left in this chunk: on to the next (or to the tail)
          get(C), i32c(4096), add, tee(T), get(N64), get(T), get(N64), ltU, select, set(J),
          br(1),
        ),
        // the tail after the last whole block: 16 bytes, then one, at a time
        block(
          loop(
            get(J), i32c(16), add, get(N), leU,
            when(
              equalAt(J, 0), i8x16Bitmask, tee(M), i32c(0xffff), eq,
              when(get(J), i32c(16), add, set(J), br(2)),
              get(J), get(M), i32c(-1), xor, ctz, add, set(J),
              br(2),
            ),
          ),
          loop(
            get(J), get(N), ltU,
            when(
              get(OLD), get(J), add, load8u, get(CUR), get(J), add, load8u, eq,
              when(get(J), i32c(1), add, set(J), br(2)),
            ),
          ),
        ),
      ),
    ),
    get(J), get(N), geU, when(get(ZS), eqz, when(i32c(0), ret), get(D), ret),
    get(J), get(ZS), sub, set(V), putLengthCode,
    get(D), i32c(2), add, get(DLEN), gtU, when(i32c(-1), ret),
    // ---- nzrun: K = the first equal byte after J ----
    get(J), i32c(1), add, set(K),
    block(
      get(J), get(N64), ltU,
      when(
        get(J), i32c(~63), and, tee(BLK), get(MBASE), ne,
        when(get(BLK), set(MBASE), differMask64(BLK), set(ML)),
        // an equal byte after J in J's block
        get(ML), i64c(-1), i64Xor, i64c(-2), get(J), get(BLK), sub, i64ExtendI32U, i64Shl, i64And,
        tee(E), i64Eqz, eqz,
        when(get(BLK), get(E), i64Ctz, i32WrapI64, add, set(K), br(2)), // found
        // the run reaches the block's end: the next blocks, whole
        get(BLK), i32c(64), add, set(K),
        block(loop(
          get(K), get(N64), geU, brIf(1), // past the whole blocks: the scan below goes on from K
          get(K), set(MBASE),
          differMask64(K), tee(ML), i64c(-1), i64Xor, tee(E), i64Eqz, eqz,
          when(get(K), get(E), i64Ctz, i32WrapI64, add, set(K), br(4)), // found
          get(K), i32c(64), add, set(K),
          br(0),
        )),
      ),
      nzrunScanCode,
    ),
    get(K), get(J), sub, set(V), putLengthCode,
    get(D), get(K), get(J), sub, tee(V), add, get(DLEN), gtU, when(i32c(-1), ret),
    get(V), i32c(16), leU, get(D), i32c(16), add, get(DLEN), leU, and, get(J), i32c(16), add, get(N), leU, and,
    ifElse(
      [get(DST), get(D), add, get(CUR), get(J), add, v128Load(0), v128Store],
      [get(DST), get(D), add, get(CUR), get(J), add, get(V), memoryCopy],
    ),
    get(D), get(V), add, set(D),
    get(K), get(N), geU, when(get(D), ret),
    get(K), set(I),
    br(0),
  ),
  i32c(-1), // not reached
];

function assembleModule(): Uint8Array {
  const vec = (items: number[][]): number[] => [...lebU(items.length), ...items.flat()];
  const name = (text: string): number[] => [...lebU(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
  const section = (id: number, body: number[]): number[] => [id, ...lebU(body.length), ...body];
  const body = [...vec([[15, wasmI32], [4, wasmI64]]), ...flatten(encodeKernelCode), 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec([[0x60, ...vec([[wasmI32], [wasmI32], [wasmI32], [wasmI32], [wasmI32]]), ...vec([[wasmI32]])]])), // types
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])), // import env.memory, min 0
    ...section(3, vec([[0]])), // one function of type 0
    ...section(7, vec([[...name('encode'), 0x00, 0x00]])), // export it as "encode"
    ...section(10, vec([[...lebU(body.length), ...body]])), // its code
  ]);
}

// The few WebAssembly JS API members used here (the project's type libraries do not declare them).
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let kernelModule: WasmModule | null | undefined;

/** The compiled kernel module, or null when this runtime has no WebAssembly (SIMD). */
function xbzrleKernelModule(): WasmModule | null {
  if (kernelModule === undefined) {
    kernelModule = null;
    if (wasmApi !== undefined) {
      try {
        kernelModule = new wasmApi.Module(assembleModule());
      } catch {
        kernelModule = null;
      }
    }
  }
  return kernelModule;
}

/** The in-place encoder by byte offsets into its memory (see `xbzrleKernelFor`). */
export type XbzrleKernel = (oldOffset: number, newOffset: number, pageBytes: number, dstOffset: number, dlen: number) => number;

interface Kernel {
  readonly encode: XbzrleKernel;
  readonly bytes: Uint8Array; // the whole memory
  readonly outputOffset: number; // a reserved area for deltas bound for arrays outside the memory
  readonly outputBytes: number;
}

const kernelsByBuffer = new WeakMap<ArrayBufferLike, Kernel>();

const WASM_PAGE = 65536;
/** Room reserved after the caller's bytes for deltas that go to arrays outside the memory. */
const DEFAULT_OUTPUT_BYTES = 65536;

/**
 * Make `byteLength` bytes of memory in which XBZRLE encodes in place with the WebAssembly SIMD kernel:
 * `encodeXbzrle(old, cur, dst)` takes that path when `old` and `cur` are both views of the returned
 * array's buffer (any alignment), whether `dst` is in it or not (a delta of up to `outputBytes` is then
 * written in a reserved area past `byteLength` and copied out).
 * @returns a zero-filled Uint8Array of `byteLength` bytes over the start of a new WebAssembly memory, or
 *   null when WebAssembly SIMD is missing or the memory cannot be had (use an ordinary buffer then).
 */
export function createXbzrleMemory(byteLength: number, outputBytes: number = DEFAULT_OUTPUT_BYTES): Uint8Array | null {
  if (!(Number.isSafeInteger(byteLength) && byteLength >= 0 && Number.isSafeInteger(outputBytes) && outputBytes >= 0)) {
    throw new RangeError(`createXbzrleMemory: sizes must be non-negative integers, got ${String(byteLength)} and ${String(outputBytes)}`);
  }
  const module = xbzrleKernelModule();
  if (module === null || wasmApi === undefined) return null;
  const outputOffset = Math.ceil(byteLength / 16) * 16;
  const pages = Math.ceil((outputOffset + outputBytes) / WASM_PAGE);
  if (pages > 65536) return null; // beyond 4 GiB
  let memory: WasmMemory;
  try {
    memory = new wasmApi.Memory({ initial: pages, maximum: pages });
  } catch {
    return null;
  }
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const buffer = memory.buffer;
  kernelsByBuffer.set(buffer, {
    encode: instance.exports.encode as XbzrleKernel,
    bytes: new Uint8Array(buffer),
    outputOffset,
    outputBytes,
  });
  return new Uint8Array(buffer, 0, byteLength);
}

/** True when `bytes` is a view of a memory made by `createXbzrleMemory` (pages there encode in place). */
export function isXbzrleMemory(bytes: Uint8Array): boolean {
  return kernelsByBuffer.has(bytes.buffer);
}

/**
 * The in-place encoder, by byte offsets: `kernel(oldOffset, newOffset, pageBytes, dstOffset, dlen)`
 * encodes the page at `newOffset` against the page at `oldOffset` into `dstOffset`, all offsets into
 * the buffer of `bytes` (a view of a memory made by `createXbzrleMemory`), with the results of
 * `encodeXbzrleInto`. No checks: the caller keeps every range inside the memory and dlen >= 0. It saves
 * the typed-array getters (~10 ns each for `buffer`) that `encodeXbzrle` needs to find the memory; the
 * page cache uses it for its own slots and scratch page.
 * @returns the kernel, or null when `bytes` is not in such a memory.
 */
export function xbzrleKernelFor(bytes: Uint8Array): XbzrleKernel | null {
  return kernelsByBuffer.get(bytes.buffer)?.encode ?? null;
}

let classifiedBuffer: ArrayBufferLike | null = null;
let classifiedKernel: Kernel | null = null;

/** The kernel of the memory `buffer` belongs to, or null (remembered for the next call). */
function kernelOf(buffer: ArrayBufferLike): Kernel | null {
  if (buffer === classifiedBuffer) return classifiedKernel;
  const kernel = kernelsByBuffer.get(buffer) ?? null;
  classifiedBuffer = buffer;
  classifiedKernel = kernel;
  return kernel;
}

/**
 * Forget the one-entry buffer caches above (views over the last buffers seen). They hold strong
 * references: a finished run's XBZRLE cache, page copy and ring would stay alive through them until
 * the next run used XBZRLE. Called between runs (memory/reclaim.ts); the WeakMaps need no help.
 */
export function forgetRecentBuffers(): void {
  lastOldBuffer = lastNewBuffer = lastSourceBuffer = lastTargetBuffer = classifiedBuffer = null;
  lastOldViews = lastNewViews = null;
  lastSourceView = lastTargetView = null;
  classifiedKernel = null;
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
  // JavaScript: one native memcmp settles an unchanged page (and stops at the first difference otherwise).
  if (bufferEquals.call(old, cur)) return 0;
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
