/**
 * The WebAssembly SIMD kernel (src/codec/xbzrle-kernel.ts) against the byte-at-a-time reference encoder
 * (test/helpers/xbzrle-reference.ts): identical result and identical bytes, on pages built to hit the
 * kernel's edges: changes in the first and last byte, runs that start or end on a 16-, 64- and
 * 2048-byte boundary (a lane, a block, a group) or cross one, whole differing blocks and groups, long
 * equal stretches (runs of 2^14 bytes and more on 64 KiB pages), pages that are not a multiple of 64
 * bytes, and every output limit around the delta's length (QEMU's overflow checks, -1).
 * Both ways in: by byte offsets (what the page cache calls) and through `encodeXbzrle` on pages in
 * ordinary buffers (the scratch kernel memory).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeXbzrle, encodeXbzrleInto } from '../src/codec/xbzrle-encode.ts';
import { createXbzrleMemory, xbzrleKernelFor } from '../src/codec/xbzrle-memory.ts';
import { Rng } from '../src/workload/rng.ts';
import { encodeXbzrleReference } from './helpers/xbzrle-reference.ts';

const MAX = 65536;
const OUT = 2 * MAX + 64; // room for any delta of a page up to MAX with dlen up to 2 pages
const GUARD = 0xa5;
/** old page at 0, new page at MAX, delta at 2 * MAX, guard bytes after */
const memory = createXbzrleMemory(2 * MAX + OUT + 64, 0);
const kernel = memory === null ? null : xbzrleKernelFor(memory);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

interface Out {
  length: number;
  delta: Uint8Array;
}
const refOut = new Uint8Array(OUT);
const apiOut = new Uint8Array(OUT);

/** The kernel by offsets: result and delta, with the bytes past dlen checked untouched. */
function viaKernel(old: Uint8Array, cur: Uint8Array, dlen: number): Out {
  if (memory === null || kernel === null) throw new Error('no WebAssembly SIMD');
  const n = old.length;
  memory.set(old, 0);
  memory.set(cur, MAX);
  const end = 2 * MAX + dlen + 64;
  memory.fill(GUARD, 2 * MAX + dlen, end);
  const length = kernel(0, MAX, n, 2 * MAX, dlen);
  if (!memory.subarray(2 * MAX + dlen, end).every((x) => x === GUARD)) expect.fail(`kernel wrote past dlen (n=${n}, dlen=${dlen})`);
  return { length, delta: memory.subarray(2 * MAX, 2 * MAX + Math.max(0, length)) };
}

function viaReference(old: Uint8Array, cur: Uint8Array, dlen: number): Out {
  const length = encodeXbzrleReference(old, cur, refOut.subarray(0, dlen));
  return { length, delta: refOut.subarray(0, Math.max(0, length)) };
}

function viaPublicApi(old: Uint8Array, cur: Uint8Array, dlen: number): Out {
  const length = encodeXbzrle(old, cur, apiOut.subarray(0, dlen));
  return { length, delta: apiOut.subarray(0, Math.max(0, length)) };
}

const same = (a: Out, b: Out): boolean => a.length === b.length && Buffer.compare(a.delta, b.delta) === 0;

/** Every encoder agrees with the reference for this pair and limit (the result and every byte). */
function agree(old: Uint8Array, cur: Uint8Array, dlen: number): number {
  const ref = viaReference(old, cur, dlen);
  const k = viaKernel(old, cur, dlen);
  if (!same(k, ref)) expect({ length: k.length, delta: hex(k.delta) }, `kernel, n=${old.length}, dlen=${dlen}`).toEqual({ length: ref.length, delta: hex(ref.delta) });
  const a = viaPublicApi(old, cur, dlen);
  if (!same(a, ref)) expect({ length: a.length, delta: hex(a.delta) }, `encodeXbzrle, n=${old.length}, dlen=${dlen}`).toEqual({ length: ref.length, delta: hex(ref.delta) });
  return ref.length;
}

/** Positions the kernel treats specially: block and group edges (and a few lane edges), the page's ends. */
function edges(n: number): number[] {
  const out = new Set<number>([0, 1, 15, 16, 17, n - 1, n - 2]);
  for (const step of [64, 2048]) {
    for (let b = step; b < n; b += step) for (const d of [-1, 0, 1]) out.add(b + d);
  }
  return [...out].filter((x) => x >= 0 && x < n).sort((a, b) => a - b);
}

describe('the SIMD kernel = the reference encoder', () => {
  it('is there (WebAssembly SIMD on this runtime)', () => {
    expect(kernel).not.toBeNull();
  });

  it('a change in the first byte, the last byte, and both', () => {
    for (const n of [1, 2, 63, 64, 65, 100, 4096, 4097, 65536]) {
      const old = new Uint8Array(n);
      for (const at of n > 1 ? [[0], [n - 1], [0, n - 1]] : [[0]]) {
        const cur = Uint8Array.from(old);
        for (const i of at) cur[i] = 0x5a;
        for (const dlen of [0, 1, 2, 3, 4, 5, 6, 8, n, 2 * n + 16]) agree(old, cur, dlen);
      }
    }
  });

  it('runs starting and ending at every lane, block and group edge (4 KiB and odd-sized pages)', () => {
    const lengths = [1, 2, 3, 15, 16, 17, 63, 64, 65, 66, 129];
    for (const n of [4096, 4096 + 37, 2048 + 64, 200]) {
      const rng = new Rng(n);
      const old = new Uint8Array(n);
      rng.fill(old);
      const cur = Uint8Array.from(old);
      const marks = edges(n);
      for (const s of marks) {
        for (const len of lengths) {
          // a run starting at the edge, and one ending at it
          for (const start of [s, s - len + 1]) {
            if (start < 0 || start + len > n) continue;
            for (let i = start; i < start + len; i++) cur[i] ^= 1 + (i % 255);
            agree(old, cur, n);
            // and with a later change, so the run is closed when the next differing block is found
            if (start + len < n - 1) {
              cur[n - 1] ^= 0x11;
              agree(old, cur, n);
              cur[n - 1] = old[n - 1];
            }
            cur.set(old.subarray(start, start + len), start);
          }
        }
      }
    }
  });

  it('whole differing blocks and groups, next to unchanged ones', () => {
    const n = 8192;
    const old = new Uint8Array(n);
    new Rng(3).fill(old);
    const spans: [number, number][] = [[0, 64], [64, 128], [0, 2048], [2048, 4096], [1984, 2112], [4032, 8192], [0, 8192], [63, 2049], [2047, 6145]];
    for (const [s, e] of spans) {
      const cur = Uint8Array.from(old);
      for (let i = s; i < e; i++) cur[i] = ~cur[i];
      for (const dlen of [n, e - s + 3, e - s + 4, e - s + 5, 2 * n + 16]) agree(old, cur, dlen);
    }
  });

  it('long equal stretches and runs (lengths of 2^14 bytes and more, 64 KiB pages)', () => {
    const n = 65536;
    const old = new Uint8Array(n);
    const cur = new Uint8Array(n);
    cur[16384] = 1; // a zrun of exactly 2^14: three ULEB128 bytes
    cur[16385 + 16383] = 2; // a zrun of 16383: two
    cur.fill(3, 40000, 40000 + 20000); // an nzrun of 20000
    cur[n - 1] = 4;
    for (const dlen of [n, 20000 + 20, 2 * n + 16]) agree(old, cur, dlen);
    const whole = new Uint8Array(n).fill(9); // the whole page differs: one nzrun of 65536
    for (const dlen of [n, n + 4, n + 5, 2 * n + 16]) agree(old, whole, dlen);
  });

  it('every output limit from 0 to past the delta: the same -1 where QEMU gives up', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 8; t++) {
      const n = [4096, 4096 + 5, 1024, 300][t % 4];
      const old = new Uint8Array(n);
      rng.fill(old);
      const cur = Uint8Array.from(old);
      for (let k = 0; k < 1 + rng.nextInt(12); k++) {
        const at = rng.nextInt(n);
        const len = 1 + rng.nextInt(t % 3 === 0 ? 60 : 9);
        for (let i = at; i < Math.min(n, at + len); i++) cur[i] ^= 1 + rng.nextInt(255);
      }
      const full = viaReference(old, cur, 2 * n + 16).length;
      for (let dlen = 0; dlen <= full + 3; dlen++) agree(old, cur, dlen);
    }
  });

  it('seeded random pages (fast-check): changes at edges, scattered words, runs, zero pages', () => {
    const size = fc.oneof(fc.constantFrom(64, 2048, 4096, 4096 + 64, 8192, 4100), fc.integer({ min: 1, max: 5000 }));
    const change = fc.record({
      at: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('edge' as const)),
      edge: fc.nat(),
      len: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 300 })),
      x: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(size, fc.array(change, { maxLength: 24 }), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 1.1, noNaN: true }), (n, changes, zero, seed, room) => {
        const old = new Uint8Array(n);
        if (!zero) new Rng(seed).fill(old);
        const cur = Uint8Array.from(old);
        const marks = edges(n);
        for (const c of changes) {
          const at = c.at === 'edge' ? marks[c.edge % marks.length] : Math.min(n - 1, Math.floor(c.at * n));
          for (let i = at; i < Math.min(n, at + c.len); i++) cur[i] ^= c.x;
        }
        agree(old, cur, n);
        agree(old, cur, Math.floor(room * n));
        agree(old, cur, 2 * n + 16);
      }),
      { seed: 20261206, numRuns: 120 },
    );
  });

  it('encodeXbzrleInto on ordinary buffers limits the output to dlen as the reference does', () => {
    const n = 4096;
    const old = new Uint8Array(n);
    const cur = Uint8Array.from(old);
    for (let i = 0; i < n; i += 97) cur[i] = 1;
    const ref = viaReference(old, cur, 2 * n).length;
    const dst = new Uint8Array(2 * n);
    for (const dlen of [ref - 1, ref, ref + 1, ref + 2]) {
      const expected = viaReference(old, cur, dlen);
      const length = encodeXbzrleInto(old, cur, dst, dlen);
      expect(length).toBe(expected.length);
      if (length > 0) expect(hex(dst.subarray(0, length))).toBe(hex(expected.delta));
    }
  });
});
