/**
 * The XBZRLE encoder as a WebAssembly SIMD kernel (the format: xbzrle.ts): its listing, and the module
 * assembled from it. xbzrle-memory.ts compiles the module and gives the kernel memories to work in.
 *
 * Pure: imports nothing but the assembler.
 */
import {
  add, and, block, br, brIf, ctz, eq, eqz, geU, get, gtU, i32c, i32WrapI64, i64And, i64c, i64Ctz, i64Eqz, i64ExtendI32U,
  i64Or, i64Shl, i64Xor, i8x16Bitmask, i8x16Eq, ifElse, leU, load8u, loop, ltU, memoryCopy, ne, or, ret, select, set, shl,
  shrU, store16, store8, sub, tee, v128AnyTrue, v128Load, v128Or, v128Store, v128Xor, wasmI32, wasmI64, when, assembleModule,
  type Code,
} from './wasm-assembler.ts';

// In place: a WebAssembly SIMD kernel over pages that live in one WebAssembly memory.
//
// The kernel is written below as a listing of instructions (helpers named after the WebAssembly text
// format, from wasm-assembler.ts: `get(L)` is local.get L, `add` is i32.add, `i8x16Eq` is i8x16.eq, …)
// and assembled into a module when first needed (xbzrle-memory.ts compiles it). It makes the same runs
// with the same result as the JavaScript encoders (xbzrle-encode.ts); what differs is how it finds
// them. Positions are page-relative; a "block" is 64 aligned bytes, a "group" 32 blocks (2 KiB); the
// tail is what follows the last whole block.
//
//   encode(old, cur, n, dst, dlen) -> length | 0 | -1        (addresses in the memory, n = page bytes)
//     if n == 0: return 0;  if dlen < 2: return -1
//     d = 0; p = 0 (where the next zrun starts); rs = -1 (start of an nzrun still open at a block's end)
//     for each group: S = bit b set when block b of the group differs (one branch-free pass of
//         v128.xor / v128.or / v128.any_true per block; unrolling it measured slower on V8 11)
//       for each set bit of S, lowest first (ctz, S &= S - 1): the block's differ mask M (bit i: byte
//           i differs; 4 x i8x16.eq + i8x16.bitmask), then
//         an open run ends at the previous block's end unless this block follows it and its byte 0
//           differs; then it ends at the first equal byte of M (or stays open past the block)
//         every other run of the block from M alone: start = ctz(M from here), end = ctz(~M from the
//           start); a run that reaches the block's end stays open
//     the tail, a byte at a time; a run still open ends at n
//     no run: return 0;  runs ending before n: QEMU's check for the trailing zrun (d + 2 > dlen: -1)
//   emit(s, e): zrun = s - p, nzrun = e - s; QEMU makes three checks (2 bytes free before the zrun,
//       2 after it, the nzrun's bytes after its length), each implied by the last, so one is made
//       before anything is written: d + |zrun| + |nzrun| + (e - s) > dlen → -1. Lengths under 2^14
//       (every run of a page up to 16 KiB) are written with two i32.store16 without a branch (the
//       second byte is dead, or overwritten, when a length takes one); longer ones by the ULEB128 loop.
//       The nzrun's bytes: one v128 store when it is at most 16 bytes and 16 bytes fit, else memory.copy.
// Run boundaries come from bit masks, so a sparse page costs few branches, none of them per byte: the
// unchanged blocks cost one vector pass, a changed run some 120 instructions (the block's mask, two ctz,
// one emit). Summarising a group before its runs (not a whole page) lets the hardware prefetcher fetch
// the rest of the page meanwhile. Measured against the kernel it replaced (one summary per 4 KiB, the
// search for each run boundary restarted from the summary, QEMU's three checks one by one; CPU time,
// `bench/codec.bench.ts --pairs 8192`): 0.58 → 0.84–0.91 of Buffer.equals on pages with 16 changed
// words, 0.93 → 1.19 on unchanged pages.
// Every load is inside a page, every store inside dst[0, dlen).

// locals: parameters 0-4, then i32s 5-25, then i64s 26-29
const OLD = 0;
const CUR = 1;
const N = 2;
const DST = 3;
const DLEN = 4;
const D = 5; // output bytes so far
const P = 6; // where the next zrun starts (the end of the last nzrun)
const RS = 7; // start of an nzrun open at the end of block LB (-1: none)
const LB = 8; // the last differing block looked at
const G = 9; // group start
const GE = 10; // group end
const BLK = 11; // a block's start
const SS = 12; // emit: run start
const EE = 13; // emit: run end
const Z = 14; // emit: zrun length
const L = 15; // emit: nzrun length
const TZ = 16; // emit: 1 when the zrun's length takes two bytes
const TL = 17; // emit: 1 when the nzrun's length takes two bytes
const A = 18; // emit: where the nzrun's bytes go
const N64 = 19; // bytes of the page in whole 64-byte blocks
const S = 20; // bit b: block b of the group differs
const J = 21;
const PO = 22; // old + G
const PC = 23; // cur + G
const V = 24;
const B = 25;
const M = 26; // i64: bit i set when byte i of block BLK differs
const Q = 27; // i64
const SB = 28; // i64: a run's first bit in M
const EB = 29; // i64: a run's end bit in M; where the search for the next run starts

const GROUP_BLOCKS = 32; // S is an i32

/** i8x16.eq of the 16 bytes at old + at + offset and cur + at + offset */
const equalAt = (at: number, offset: number): Code => [get(OLD), get(at), add, v128Load(offset), get(CUR), get(at), add, v128Load(offset), i8x16Eq];
/** i64: bit i set when byte i of the 64-byte block at `at` is equal in both pages */
const equalMask64 = (at: number): Code => [
  equalAt(at, 0), i8x16Bitmask, i64ExtendI32U,
  equalAt(at, 16), i8x16Bitmask, i64ExtendI32U, i64c(16), i64Shl, i64Or,
  equalAt(at, 32), i8x16Bitmask, i64ExtendI32U, i64c(32), i64Shl, i64Or,
  equalAt(at, 48), i8x16Bitmask, i64ExtendI32U, i64c(48), i64Shl, i64Or,
];
/** i64: bit i set when byte i of the 64-byte block at `at` differs */
const differMask64 = (at: number): Code => [equalMask64(at), i64c(-1), i64Xor];
/** v128.xor of the 16 bytes at addresses `po` + offset and `pc` + offset */
const xorFrom = (po: number, pc: number, offset: number): Code => [get(po), v128Load(offset), get(pc), v128Load(offset), v128Xor];
/** i32 1 when the 64-byte blocks at addresses `po` and `pc` differ anywhere, else 0 (no branch) */
const blockDiffersFrom = (po: number, pc: number): Code => [
  xorFrom(po, pc, 0), xorFrom(po, pc, 16), v128Or, xorFrom(po, pc, 32), xorFrom(po, pc, 48), v128Or, v128Or, v128AnyTrue,
];
/** i32: the ULEB128 length of local `x` (1 to 5 bytes) */
const ulebLength = (x: number): Code => [
  i32c(1), get(x), i32c(0x7f), gtU, add, get(x), i32c(0x3fff), gtU, add, get(x), i32c(0x1fffff), gtU, add, get(x), i32c(0xfffffff), gtU, add,
];
/** Write local V as ULEB128 at dst + d; d advances (the room was checked). */
const putUlebCode: Code = [
  block(loop(
    get(V), i32c(0x80), ltU, brIf(1),
    get(DST), get(D), add, get(V), i32c(0x7f), and, i32c(0x80), or, store8(0),
    get(V), i32c(7), shrU, set(V),
    get(D), i32c(1), add, set(D),
    br(0),
  )),
  get(DST), get(D), add, get(V), store8(0),
  get(D), i32c(1), add, set(D),
];
/** The two bytes of a length under 2^14 in local `x` whose length-takes-two flag is in local `t`, as one i32 for i32.store16 */
const twoBytes = (x: number, t: number): Code => [get(x), i32c(0x7f), and, get(t), i32c(7), shl, or, get(x), i32c(7), shrU, i32c(8), shl, or];

/** Emit the run [SS, EE): zrun, nzrun and its bytes, with QEMU's result (see the listing above). */
const emitCode: Code = [
  get(SS), get(P), sub, set(Z),
  get(EE), get(SS), sub, set(L),
  get(Z), get(L), or, i32c(0x4000), ltU,
  ifElse(
    [
      get(Z), i32c(0x7f), gtU, set(TZ),
      get(L), i32c(0x7f), gtU, set(TL),
      get(D), i32c(2), add, get(TZ), add, get(TL), add, tee(A), get(L), add, get(DLEN), gtU, when(i32c(-1), ret),
      get(DST), get(D), add, twoBytes(Z, TZ), store16(0),
      get(DST), get(D), add, get(TZ), add, twoBytes(L, TL), store16(1),
    ],
    [
      get(D), ulebLength(Z), add, ulebLength(L), add, tee(A), get(L), add, get(DLEN), gtU, when(i32c(-1), ret),
      get(Z), set(V), putUlebCode,
      get(L), set(V), putUlebCode,
    ],
  ),
  get(L), i32c(16), leU, get(A), i32c(16), add, get(DLEN), leU, and, get(SS), i32c(16), add, get(N), leU, and,
  ifElse(
    [get(DST), get(A), add, get(CUR), get(SS), add, v128Load(0), v128Store],
    [get(DST), get(A), add, get(CUR), get(SS), add, get(L), memoryCopy],
  ),
  get(A), get(L), add, set(D),
  get(EE), set(P),
];

/** Emit the open run [RS, end) and close it. */
const closeOpenRun = (end: Code): Code => [get(RS), set(SS), end, set(EE), emitCode, i32c(-1), set(RS)];

const encodeKernelCode: Code = [
  get(N), eqz, when(i32c(0), ret),
  get(DLEN), i32c(2), ltU, when(i32c(-1), ret),
  i32c(-1), set(RS),
  i32c(-128), set(LB),
  get(N), i32c(~63), and, set(N64),
  // ---- the whole blocks, a group at a time ----
  block(loop(
    get(G), get(N64), geU, brIf(1),
    get(OLD), get(G), add, set(PO),
    get(CUR), get(G), add, set(PC),
    // the group's summary: one branch-free pass over its blocks
    get(G), i32c(64 * GROUP_BLOCKS), add, tee(GE), get(N64), get(GE), get(N64), ltU, select, set(GE),
    i32c(0), set(S),
    i32c(0), set(B),
    block(loop(
      get(G), get(B), i32c(6), shl, add, get(GE), geU, brIf(1),
      get(PO), get(B), i32c(6), shl, add, set(V),
      get(PC), get(B), i32c(6), shl, add, set(J),
      get(S), blockDiffersFrom(V, J), get(B), shl, or, set(S),
      get(B), i32c(1), add, set(B),
      br(0),
    )),
    // the group's differing blocks, lowest first
    block(loop(
      get(S), eqz, brIf(1),
      get(G), get(S), ctz, i32c(6), shl, add, set(BLK),
      get(S), get(S), i32c(1), sub, and, set(S),
      differMask64(BLK), set(M),
      i64c(0), set(EB),
      block(
        // a run open at the end of the last differing block
        get(RS), i32c(-1), ne,
        when(
          get(BLK), get(LB), i32c(64), add, ne, get(M), i64c(1), i64And, i64Eqz, or,
          ifElse(
            closeOpenRun([get(LB), i32c(64), add]), // it ended at that block's end
            [
              get(M), i64c(-1), i64Xor, tee(Q), i64Eqz, brIf(2), // the whole block differs: still open
              get(Q), i64Ctz, set(EB),
              closeOpenRun([get(BLK), get(EB), i32WrapI64, add]),
            ],
          ),
        ),
        // the block's other runs, from M
        loop(
          get(M), i64c(-1), get(EB), i64Shl, i64And, tee(Q), i64Eqz, brIf(1),
          get(Q), i64Ctz, set(SB),
          get(M), i64c(-1), i64Xor, i64c(-1), get(SB), i64Shl, i64And, tee(Q), i64Eqz,
          when(get(BLK), get(SB), i32WrapI64, add, set(RS), br(2)), // it reaches the block's end: open
          get(Q), i64Ctz, set(EB),
          get(BLK), get(SB), i32WrapI64, add, set(SS),
          get(BLK), get(EB), i32WrapI64, add, set(EE),
          emitCode,
          br(0),
        ),
      ),
      get(BLK), set(LB),
      br(0),
    )),
    get(GE), set(G),
    br(0),
  )),
  // a run open at the end of a block before the tail ended there
  get(RS), i32c(-1), ne, get(LB), i32c(64), add, get(N64), ne, and,
  when(closeOpenRun([get(LB), i32c(64), add])),
  // ---- the tail, a byte at a time ----
  get(N64), set(J),
  block(loop(
    get(J), get(N), geU, brIf(1),
    get(OLD), get(J), add, load8u, get(CUR), get(J), add, load8u, ne,
    ifElse(
      [get(RS), i32c(-1), eq, when(get(J), set(RS))],
      [get(RS), i32c(-1), ne, when(closeOpenRun([get(J)]))],
    ),
    get(J), i32c(1), add, set(J),
    br(0),
  )),
  get(RS), i32c(-1), ne, when(closeOpenRun([get(N)])),
  get(D), eqz, when(i32c(0), ret), // unchanged
  get(P), get(N), ltU, when(get(D), i32c(2), add, get(DLEN), gtU, when(i32c(-1), ret)), // the trailing zrun's check
  get(D),
];

/** The kernel's module: `encode(old, cur, n, dst, dlen)` over the imported `env.memory`. */
export function assembleXbzrleKernel(): Uint8Array {
  return assembleModule({
    name: 'encode',
    params: [wasmI32, wasmI32, wasmI32, wasmI32, wasmI32],
    results: [wasmI32],
    locals: [[21, wasmI32], [4, wasmI64]],
    code: encodeKernelCode,
  });
}
