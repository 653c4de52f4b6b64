/**
 * The XBZRLE encoder as a WebAssembly SIMD kernel (the format: xbzrle.ts): its listing, and the module
 * assembled from it. xbzrle-memory.ts compiles the module and gives the kernel memories to work in.
 *
 * Pure: imports nothing but the assembler.
 */
import {
  add, and, block, br, brIf, ctz, eq, eqz, geU, get, gtU, i32c, i32WrapI64, i64And, i64c, i64Ctz, i64Eqz, i64ExtendI32U,
  i64Or, i64Shl, i64Xor, i8x16Bitmask, i8x16Eq, ifElse, leU, load8u, loop, ltU, memoryCopy, ne, or, ret, select, set, shl,
  shrU, store8, sub, tee, v128AnyTrue, v128Load, v128Or, v128Store, v128Xor, wasmI32, wasmI64, when, xor, assembleModule,
  type Code,
} from './wasm-assembler.ts';

// In place: a WebAssembly SIMD kernel over pages that live in one WebAssembly memory.
//
// The kernel is written below as a listing of instructions (helpers named after the WebAssembly text
// format, from wasm-assembler.ts: `get(L)` is local.get L, `add` is i32.add, `i8x16Eq` is i8x16.eq, …)
// and assembled into a module when first needed (xbzrle-memory.ts compiles it). It makes the same runs
// with the same checks as the JavaScript encoders (xbzrle-encode.ts); what differs is how it finds them. Positions are page-relative; a "block" is 64 aligned bytes, a "chunk"
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

/** The kernel's module: `encode(old, cur, n, dst, dlen)` over the imported `env.memory`. */
export function assembleXbzrleKernel(): Uint8Array {
  return assembleModule({
    name: 'encode',
    params: [wasmI32, wasmI32, wasmI32, wasmI32, wasmI32],
    results: [wasmI32],
    locals: [[15, wasmI32], [4, wasmI64]],
    code: encodeKernelCode,
  });
}
