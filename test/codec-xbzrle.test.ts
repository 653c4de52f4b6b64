import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeUleb128 } from '../src/codec/uleb128.ts';
import { decodeXbzrle } from '../src/codec/xbzrle.ts';
import { encodeWordwise, encodeXbzrle, encodeXbzrleInto, maxDeltaBytes, SCRATCH_MIN_PAGE_BYTES } from '../src/codec/xbzrle-encode.ts';
import { createXbzrleMemory, isXbzrleMemory } from '../src/codec/xbzrle-memory.ts';
import { Rng } from '../src/workload/rng.ts';
import { decodeXbzrleReference, encodeXbzrleReference } from './helpers/xbzrle-reference.ts';

const PAGE = 4096;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytesOf = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

/** A WebAssembly memory with the in-place kernel: room for two pages of up to 64 KiB and a delta. */
const MAX = 65536;
const arena = createXbzrleMemory(5 * MAX, 2 * MAX + 64);
let placement = 0;

/** Encode in place: both pages copied into the kernel memory (at varying alignments), dst in it or not. */
function encodeInPlace(old: Uint8Array, cur: Uint8Array, dlen: number): { length: number; bytes: Uint8Array } {
  if (arena === null) throw new Error('no WebAssembly SIMD');
  const n = old.length;
  const shift = [0, 1, 7, 8, 13][placement++ % 5];
  const a = arena.subarray(shift, shift + n);
  const b = arena.subarray(MAX + 2 * shift, MAX + 2 * shift + n);
  a.set(old);
  b.set(cur);
  const guard = 2 * MAX + 64; // past the new page at its largest shift
  arena.fill(0xa5, guard, 5 * MAX);
  const inMemory = placement % 2 === 0;
  const dst = inMemory ? arena.subarray(guard + 8, guard + 8 + dlen) : new Uint8Array(dlen);
  const length = encodeXbzrle(a, b, dst);
  if (inMemory) {
    // nothing written outside dst
    expect(arena.subarray(guard, guard + 8).every((x) => x === 0xa5)).toBe(true);
    expect(arena.subarray(guard + 8 + dlen, 5 * MAX).every((x) => x === 0xa5)).toBe(true);
  }
  return { length, bytes: dst.slice(0, Math.max(0, length)) };
}

/** Encode with every encoder; they must agree on the result and on every byte of the delta. */
function encodeBoth(old: Uint8Array, cur: Uint8Array, dlen: number): { length: number; delta: Uint8Array } {
  const fast = new Uint8Array(dlen);
  const ref = new Uint8Array(dlen);
  const a = encodeXbzrle(old, cur, fast);
  const b = encodeXbzrleReference(old, cur, ref);
  expect(a, 'fast and reference results').toBe(b);
  if (a > 0) expect(hex(fast.subarray(0, a))).toBe(hex(ref.subarray(0, b)));
  // the JavaScript word path, which encodeXbzrle leaves to small pages when WebAssembly SIMD is there
  const words = new Uint8Array(dlen);
  const w = dlen < 2 ? -1 : Buffer.compare(old, cur) === 0 ? 0 : encodeWordwise(old, cur, words, dlen);
  expect(w, 'word path and reference results').toBe(b);
  if (w > 0) expect(hex(words.subarray(0, w))).toBe(hex(ref.subarray(0, b)));
  if (old.length <= MAX) {
    const wasm = encodeInPlace(old, cur, dlen);
    expect(wasm.length, 'in-place and reference results').toBe(b);
    if (b > 0) expect(hex(wasm.bytes)).toBe(hex(ref.subarray(0, b)));
  }
  return { length: a, delta: a > 0 ? fast.slice(0, a) : new Uint8Array(0) };
}

/** The end of the last differing byte (what the decoder returns), 0 when equal. */
function lastChangeEnd(old: Uint8Array, cur: Uint8Array): number {
  for (let i = old.length - 1; i >= 0; i--) if (old[i] !== cur[i]) return i + 1;
  return 0;
}

/** Decode with both decoders onto copies of `old`; both must give `cur` and the same result. */
function decodeBoth(delta: Uint8Array, old: Uint8Array, cur: Uint8Array): void {
  const a = Uint8Array.from(old);
  const b = Uint8Array.from(old);
  const ra = decodeXbzrle(delta, a);
  const rb = decodeXbzrleReference(delta, b);
  expect(ra).toBe(rb);
  expect(ra).toBe(lastChangeEnd(old, cur));
  expect(Buffer.compare(a, cur), 'fast decode reproduces the page').toBe(0);
  expect(Buffer.compare(b, cur), 'reference decode reproduces the page').toBe(0);
}

describe('createXbzrleMemory', () => {
  it('makes a kernel memory on this runtime (WebAssembly SIMD), zero-filled', () => {
    expect(arena).not.toBeNull();
    const bytes = createXbzrleMemory(1000);
    expect(bytes?.length).toBe(1000);
    expect(bytes?.every((x) => x === 0)).toBe(true);
    expect(isXbzrleMemory(bytes as Uint8Array)).toBe(true);
    expect(isXbzrleMemory(new Uint8Array(8))).toBe(false);
    expect(() => createXbzrleMemory(-1)).toThrow(RangeError);
  });

  it('pages of one kernel memory with dst elsewhere, longer than the reserved output: the JavaScript path', () => {
    const bytes = createXbzrleMemory(2 * PAGE, 16) as Uint8Array;
    const old = bytes.subarray(0, PAGE);
    const cur = bytes.subarray(PAGE, 2 * PAGE);
    cur[100] = 1;
    const dst = new Uint8Array(PAGE);
    expect(encodeXbzrle(old, cur, dst)).toBe(3);
    expect(hex(dst.subarray(0, 3))).toBe('640101');
    const small = new Uint8Array(8);
    expect(encodeXbzrle(old, cur, small)).toBe(3); // within the reserved 16 bytes: in place, copied out
    expect(hex(small.subarray(0, 3))).toBe('640101');
  });
});

describe('known answers from QEMU (docs/xbzrle.txt, tests/unit/test-xbzrle.c)', () => {
  it('the docs/xbzrle.txt example: 24 bytes', () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    old.set(bytesOf('05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 68 00 00 6b 00 6d'), 1001);
    cur.set(bytesOf('01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 68 00 00 67 00 69'), 1001);
    const { length, delta } = encodeBoth(old, cur, PAGE);
    expect(length).toBe(24);
    expect(hex(delta)).toBe('e9070f0102030405060708090a0b0c0d0e0f030167010169');
    decodeBoth(delta, old, cur);
  });

  it('encode_decode_zero / encode_decode_unchanged: a page against itself encodes to 0', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 50; t++) {
      const page = new Uint8Array(PAGE);
      const diffLen = rng.nextInt(PAGE - 1006);
      for (let i = diffLen; i > 0; i--) page[1000 + i] = i + 4;
      page[1000 + diffLen + 3] = 107;
      page[1000 + diffLen + 5] = 109;
      expect(encodeBoth(page, page, PAGE).length).toBe(0);
      expect(encodeBoth(page, Uint8Array.from(page), PAGE).length).toBe(0); // equal, not the same array
    }
  });

  it('encode_decode_1_byte: the last byte changed → uleb(4095) + 2 bytes, decode returns 4096', () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    cur[PAGE - 1] = 1;
    const { length, delta } = encodeBoth(old, cur, PAGE);
    expect(length).toBe(4);
    expect(hex(delta)).toBe('ff1f0101');
    decodeBoth(delta, old, cur);
    expect(decodeXbzrle(delta, Uint8Array.from(old))).toBe(PAGE);
  });

  it('encode_decode_overflow: every second byte changed → -1', () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    for (let i = 0; i < PAGE / 2 - 1; i++) cur[i * 2] = 1;
    expect(encodeBoth(old, cur, PAGE).length).toBe(-1);
  });

  it('encode_decode_range: the delta worked out from the format, for many run lengths', () => {
    const rng = new Rng(2);
    for (let t = 0; t < 300; t++) {
      const diffLen = t < 3 ? t : rng.nextInt(PAGE - 1006);
      const buffer = new Uint8Array(PAGE); // the new page
      const test = new Uint8Array(PAGE); // the old page
      for (let i = diffLen; i > 0; i--) {
        buffer[1000 + i] = i;
        test[1000 + i] = i + 4;
      }
      buffer[1000 + diffLen + 3] = 103;
      test[1000 + diffLen + 3] = 107;
      buffer[1000 + diffLen + 5] = 105;
      test[1000 + diffLen + 5] = 109;
      // Expected: zrun 1001, nzrun diffLen new bytes, zrun 2, nzrun [103], zrun 1, nzrun [105];
      // with diffLen 0 the first two runs vanish into one zrun of 1003.
      const expected: number[] = [];
      const put = (v: number): void => {
        const tmp = new Uint8Array(5);
        expected.push(...tmp.subarray(0, encodeUleb128(v, tmp, 0)));
      };
      if (diffLen > 0) {
        put(1001);
        put(diffLen);
        for (let i = 1; i <= diffLen; i++) expected.push(i & 0xff);
        put(2);
      } else {
        put(1003);
      }
      put(1);
      expected.push(103);
      put(1);
      put(1);
      expected.push(105);
      const { length, delta } = encodeBoth(test, buffer, PAGE);
      expect(length).toBe(expected.length);
      expect(hex(delta)).toBe(hex(Uint8Array.from(expected)));
      const page = Uint8Array.from(test);
      const rc = decodeXbzrle(delta, page);
      expect(rc).toBe(1000 + diffLen + 6);
      expect(rc).toBeLessThan(PAGE);
      expect(Buffer.compare(page, buffer)).toBe(0);
    }
  });
});

describe("the encoder's choices, as QEMU's", () => {
  it('a change at byte 0 starts with a zero-length zrun', () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    cur[0] = 0xaa;
    expect(hex(encodeBoth(old, cur, PAGE).delta)).toBe('0001aa');
  });

  it('short equal stretches inside a changed region are not merged', () => {
    const old = new Uint8Array(64);
    const cur = new Uint8Array(64);
    cur.set([1, 2, 0, 3, 4], 8); // 1 2 | 0 equal | 3 4
    expect(hex(encodeBoth(old, cur, 64).delta)).toBe('0802010201020304');
  });

  it('a whole page changed: one nzrun of 4096 (80 20), which needs 4099 bytes', () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE).fill(0x5a);
    expect(encodeBoth(old, cur, PAGE).length).toBe(-1);
    const { length, delta } = encodeBoth(old, cur, PAGE + 3);
    expect(length).toBe(PAGE + 3);
    expect(hex(delta.subarray(0, 3))).toBe('00' + '8020');
    decodeBoth(delta, old, cur);
  });

  it("QEMU's overflow checks: 2 free bytes needed before each zrun, even a trailing one", () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    cur[0] = 0xaa; // delta 00 01 aa, then the loop comes round for the unchanged rest
    expect(encodeBoth(old, cur, 3).length).toBe(-1);
    expect(encodeBoth(old, cur, 4).length).toBe(-1);
    expect(encodeBoth(old, cur, 5).length).toBe(3);
    const last = new Uint8Array(8);
    last[7] = 0xbb; // 07 01 bb and the page ends: no further check
    expect(encodeBoth(new Uint8Array(8), last, 3).length).toBe(3);
    expect(encodeBoth(new Uint8Array(8), last, 2).length).toBe(-1);
  });

  it('a dst of under 2 bytes gives -1 even for an unchanged page (the first check comes first)', () => {
    const page = new Uint8Array(PAGE);
    expect(encodeXbzrle(page, page, new Uint8Array(1))).toBe(-1);
    expect(encodeXbzrleReference(page, page, new Uint8Array(0))).toBe(-1);
    expect(encodeXbzrle(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0))).toBe(0); // empty page
  });

  it('encodeXbzrleInto limits the output to dlen', () => {
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE).fill(1);
    const dst = new Uint8Array(2 * PAGE);
    expect(encodeXbzrleInto(old, cur, dst, PAGE)).toBe(-1);
    expect(encodeXbzrleInto(old, cur, dst, 2 * PAGE)).toBe(PAGE + 3);
  });

  it('throws when the pages differ in length', () => {
    expect(() => encodeXbzrle(new Uint8Array(8), new Uint8Array(16), new Uint8Array(8))).toThrow(RangeError);
  });

  it('+0 / -0 and NaN bit patterns are bytes like any others', () => {
    // A word that is +0.0 in one page and -0.0 in the other (only byte 7, 0x00 → 0x80), and NaN words
    // (0xff…) that are equal bit for bit: a float compare would get both wrong.
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    cur[7] = 0x80;
    cur[8 * 100 + 7] = 0x80;
    old.fill(0xff, 2048, 3072);
    cur.fill(0xff, 2048, 3072);
    const { delta } = encodeBoth(old, cur, PAGE);
    expect(hex(delta)).toBe('070180' + '9f06' /* zrun 799 */ + '0180');
    decodeBoth(delta, old, cur);
    expect(encodeBoth(old, Uint8Array.from(old), PAGE).length).toBe(0);
  });

  it('runs of 16384 bytes and more (64 KiB pages) use longer ULEB128 and round-trip', () => {
    const size = 65536;
    const old = new Uint8Array(size);
    const cur = new Uint8Array(size);
    cur.fill(7, 20000, 40000); // zrun 20000 (3 bytes), nzrun 20000 (3 bytes)
    const { length, delta } = encodeBoth(old, cur, size);
    expect(length).toBe(3 + 3 + 20000);
    expect(hex(delta.subarray(0, 3))).toBe('a09c01');
    decodeBoth(delta, old, cur);
  });
});

/** Page pairs of the kinds the benchmark and a guest produce. */
const KINDS = ['unchanged', 'one byte', 'sparse words', 'sparse bytes', 'dense', 'all changed', 'zero page, sign bytes', 'runs'] as const;
type Kind = (typeof KINDS)[number];

function makePair(rng: Rng, kind: Kind, old: Uint8Array, cur: Uint8Array): void {
  const n = old.length;
  if (kind === 'zero page, sign bytes') old.fill(0);
  else rng.fill(old);
  cur.set(old);
  switch (kind) {
    case 'unchanged':
      break;
    case 'one byte':
      cur[rng.nextInt(n)] ^= 1 + rng.nextInt(255);
      break;
    case 'sparse words':
      for (let k = 0; k < 16; k++) {
        const at = rng.nextInt(n >>> 2) << 2;
        for (let b = at; b < at + 4 && b < n; b++) cur[b] ^= 1 + rng.nextInt(255);
      }
      break;
    case 'sparse bytes':
      for (let k = 0; k < 1 + rng.nextInt(64); k++) cur[rng.nextInt(n)] = rng.nextInt(256);
      break;
    case 'dense':
      for (let b = 0; b < n; b++) if ((rng.nextU32() & 1) === 1) cur[b] ^= 1 + rng.nextInt(255);
      break;
    case 'all changed':
      for (let b = 0; b < n; b++) cur[b] ^= 1 + rng.nextInt(255);
      break;
    case 'zero page, sign bytes':
      for (let k = 0; k < 1 + rng.nextInt(8); k++) cur[(rng.nextInt(n >>> 3) << 3) + 7] = 0x80;
      break;
    case 'runs':
      for (let k = 0; k < 1 + rng.nextInt(6); k++) {
        const at = rng.nextInt(n);
        const len = 1 + rng.nextInt(Math.min(600, n - at));
        for (let b = at; b < at + len; b++) cur[b] ^= 1 + rng.nextInt(255);
      }
      break;
  }
}

describe('fast encoder = reference encoder, and round trips, on seeded random pages', () => {
  const SIZES = [512, 1024, 4096, 4096, 8192, 65536, 100, 4097, 12];
  it.each(KINDS)('%s', (kind) => {
    const rng = new Rng(1000 + KINDS.indexOf(kind));
    for (let t = 0; t < 120; t++) {
      const size = SIZES[t % SIZES.length];
      // aligned pages (the fast path) and misaligned ones (the byte path), in separate buffers
      const offOld = t % 5 === 4 ? 3 : 8 * (t % 3);
      const offCur = t % 7 === 6 ? 1 : 8 * (t % 2);
      const old = new Uint8Array(size + 32).subarray(offOld, offOld + size);
      const cur = new Uint8Array(size + 32).subarray(offCur, offCur + size);
      makePair(rng, kind, old, cur);
      const dlens = [size, 2 * size + 16, rng.nextInt(size + 1)];
      for (const dlen of dlens) {
        const { length, delta } = encodeBoth(old, cur, dlen);
        if (kind === 'unchanged') expect(length).toBe(dlen < 2 ? -1 : 0);
        if (length > 0) decodeBoth(delta, old, cur);
      }
    }
  });

  it('pages in one shared buffer, next to each other (the cache and a private copy)', () => {
    const rng = new Rng(77);
    const backing = new Uint8Array(new SharedArrayBuffer(PAGE * 8));
    for (let t = 0; t < 200; t++) {
      const a = rng.nextInt(8);
      const b = (a + 1 + rng.nextInt(7)) % 8;
      const old = backing.subarray(a * PAGE, (a + 1) * PAGE);
      const cur = backing.subarray(b * PAGE, (b + 1) * PAGE);
      makePair(rng, KINDS[t % KINDS.length], old, cur);
      const { length, delta } = encodeBoth(old, cur, PAGE);
      if (length > 0) decodeBoth(delta, old, cur);
    }
  });
});

describe('decodeXbzrle refuses malformed deltas, writing nothing', () => {
  const GUARD = 0xa5;
  /** A page of `size` bytes in the middle of a larger buffer filled with guard bytes. */
  function guarded(size: number): { all: Uint8Array; page: Uint8Array } {
    const all = new Uint8Array(size + 64).fill(GUARD);
    const page = all.subarray(32, 32 + size);
    for (let i = 0; i < size; i++) page[i] = i & 0x7f;
    return { all, page };
  }

  const CASES: readonly { name: string; delta: string; size?: number; expected: number }[] = [
    { name: 'empty delta: nothing changes', delta: '', expected: 0 },
    { name: 'one nzrun at the start', delta: '00 01 ee', expected: 1 },
    { name: 'non-minimal first zrun (80 00 = 0), as QEMU accepts', delta: '80 00 01 ee', expected: 1 },
    { name: 'an nzrun that ends at the page end', delta: 'ff 1f 01 ee', expected: PAGE },
    { name: 'truncated ULEB128 in a zrun', delta: '80', expected: -1 },
    { name: 'truncated ULEB128 in an nzrun', delta: '05 81', expected: -1 },
    { name: 'a zrun alone', delta: '05', expected: -1 },
    { name: 'an nzrun length without its bytes', delta: '05 01', expected: -1 },
    { name: 'nzrun bytes cut short', delta: '05 03 01 02', expected: -1 },
    { name: 'an empty nzrun', delta: '05 00', expected: -1 },
    { name: 'an empty nzrun at the start', delta: '00 00', expected: -1 },
    { name: 'a zero-length zrun that is not the first', delta: '00 01 aa 00 01 bb', expected: -1 },
    { name: 'a zrun past the page end', delta: '81 20 01 aa', expected: -1 },
    { name: 'a zrun to the page end, then an nzrun', delta: '80 20 01 aa', expected: -1 },
    { name: 'an nzrun past the page end', delta: 'ff 1f 02 aa bb', expected: -1 },
    { name: 'a 3-byte length on a 4 KiB page (overlong: QEMU takes 2)', delta: '85 80 00 01 aa', expected: -1 },
    { name: 'a 2-byte length continuing (QEMU: 80 80)', delta: '80 80', expected: -1 },
    { name: 'trailing garbage: one byte', delta: '05 01 aa 07', expected: -1 },
    { name: 'trailing garbage: a zrun and an empty nzrun', delta: '05 01 aa 02 00', expected: -1 },
    { name: 'trailing garbage: a zero zrun', delta: '05 01 aa 00 01 bb', expected: -1 },
    { name: 'a run of a whole 2 MiB page is 4 bytes; 5 are overlong', delta: '80 80 80 80 00 01 aa', size: 2 * 1024 * 1024, expected: -1 },
    { name: 'a 2 MiB page takes a 3-byte zrun', delta: '80 80 01 01 aa', size: 2 * 1024 * 1024, expected: 16385 },
  ];

  it.each(CASES)('$name → $expected', ({ delta, size = PAGE, expected }) => {
    const src = bytesOf(delta);
    for (const decode of [decodeXbzrle, decodeXbzrleReference]) {
      const { all, page } = guarded(size);
      const before = Uint8Array.from(all);
      expect(decode(src, page)).toBe(expected);
      // guards intact in every case; the page untouched when refused
      expect(all.subarray(0, 32).every((b) => b === GUARD)).toBe(true);
      expect(all.subarray(32 + size).every((b) => b === GUARD)).toBe(true);
      if (expected < 0) expect(Buffer.compare(all, before)).toBe(0);
    }
  });

  it('never reads past the end of the delta (a subarray of a longer buffer)', () => {
    const backing = bytesOf('05 03 01 02 03');
    for (const decode of [decodeXbzrle, decodeXbzrleReference]) {
      expect(decode(backing.subarray(0, 4), new Uint8Array(PAGE))).toBe(-1);
      expect(decode(backing, new Uint8Array(PAGE))).toBe(8);
    }
  });

  it('random and mutated deltas: both decoders agree, and a refused delta writes nothing', () => {
    const rng = new Rng(99);
    const old = new Uint8Array(PAGE);
    const cur = new Uint8Array(PAGE);
    for (let t = 0; t < 3000; t++) {
      let src: Uint8Array;
      if (t % 2 === 0) {
        src = new Uint8Array(rng.nextInt(24));
        rng.fill(src);
        for (let k = 0; k < src.length; k++) if (rng.nextInt(3) === 0) src[k] &= 0x0f; // more short lengths
      } else {
        makePair(rng, 'sparse bytes', old, cur);
        const { length, delta } = encodeBoth(old, cur, PAGE);
        src = length > 0 ? delta : new Uint8Array(1);
        const cut = rng.nextInt(3);
        if (cut === 0) src[rng.nextInt(src.length)] = rng.nextInt(256);
        else if (cut === 1) src = src.subarray(0, rng.nextInt(src.length + 1));
      }
      const a = new Uint8Array(PAGE + 16).fill(GUARD);
      const b = new Uint8Array(PAGE + 16).fill(GUARD);
      const pa = a.subarray(8, 8 + PAGE);
      const pb = b.subarray(8, 8 + PAGE);
      const ra = decodeXbzrle(src, pa);
      const rb = decodeXbzrleReference(src, pb);
      expect(ra).toBe(rb);
      expect(Buffer.compare(a, b)).toBe(0);
      if (ra < 0) expect(a.every((x) => x === GUARD)).toBe(true);
    }
  });
});

describe('pages in ordinary buffers, through the scratch kernel memory = reference encoder (fast-check)', () => {
  // A page (size, alignment in its buffer), the changes made to a copy (position, length, xor byte),
  // and the output room: every encoder must give the reference's result and bytes.
  const pagePair = fc.record({
    size: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.constantFrom(SCRATCH_MIN_PAGE_BYTES - 1, SCRATCH_MIN_PAGE_BYTES, 4096, 8192, 65536)),
    offOld: fc.constantFrom(0, 8, 16, 3),
    offCur: fc.constantFrom(0, 8, 1),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    zeroBase: fc.boolean(),
    changes: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 80 }), x: fc.integer({ min: 1, max: 255 }) }), { maxLength: 40 }),
    room: fc.oneof(fc.constantFrom('page', 'double', 'huge'), fc.double({ min: 0, max: 1.2, noNaN: true })),
  });

  it('identical output bytes and results on seeded random pairs', () => {
    fc.assert(
      fc.property(pagePair, (c) => {
        const old = new Uint8Array(c.size + 32).subarray(c.offOld, c.offOld + c.size);
        const cur = new Uint8Array(c.size + 32).subarray(c.offCur, c.offCur + c.size);
        if (!c.zeroBase) new Rng(c.seed).fill(old);
        cur.set(old);
        for (const ch of c.changes) {
          const at = Math.min(c.size - 1, Math.floor(ch.at * c.size));
          for (let b = at; b < Math.min(c.size, at + ch.len); b++) cur[b] ^= ch.x;
        }
        const dlen =
          c.room === 'page' ? c.size : c.room === 'double' ? 2 * c.size + 16 : c.room === 'huge' ? maxDeltaBytes(c.size) + 100 : Math.floor(c.room * c.size);
        const { length, delta } = encodeBoth(old, cur, dlen);
        if (length > 0) decodeBoth(delta, old, cur);
      }),
      { seed: 20261206, numRuns: 300 },
    );
  });

  it('a dst above the longest possible delta gives what the reference gives (the cut never binds)', () => {
    const rng = new Rng(5);
    for (const n of [SCRATCH_MIN_PAGE_BYTES, 4096, 65536]) {
      const old = new Uint8Array(n);
      rng.fill(old);
      const cur = Uint8Array.from(old);
      for (let b = 0; b < n; b += 2) cur[b] ^= 0x5a; // every second byte: the longest deltas there are
      const dlen = maxDeltaBytes(n) + 64;
      const ref = new Uint8Array(dlen);
      const fast = new Uint8Array(dlen);
      const b = encodeXbzrleReference(old, cur, ref);
      expect(b).toBeGreaterThan(n);
      expect(b).toBeLessThanOrEqual(maxDeltaBytes(n) - 2);
      expect(encodeXbzrle(old, cur, fast)).toBe(b);
      expect(hex(fast.subarray(0, b))).toBe(hex(ref.subarray(0, b)));
    }
  });
});
