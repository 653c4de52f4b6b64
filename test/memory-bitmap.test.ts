import { describe, expect, it } from 'vitest';
import { clearRange, countSetBits, nextSetBit, popcount32, runLength, setAll, wordsFor } from '../src/memory/bitmap.ts';
import { Rng } from '../src/workload/rng.ts';
import {
  clearRangeOracle, countSetBitsOracle, getBit, nextSetBitOracle, popcount32Oracle, runLengthOracle, setAllOracle, setBit,
} from './helpers/bitmap-oracle.ts';

type Kind = 'zero' | 'ones' | 'sparse' | 'half' | 'dense' | 'runs' | 'word-edges';
const KINDS: readonly Kind[] = ['zero', 'ones', 'sparse', 'half', 'dense', 'runs', 'word-edges'];
/** Interesting lengths: word boundaries +-1, not multiples of 32, and a few larger ones. */
const LENGTHS = [1, 2, 31, 32, 33, 63, 64, 65, 95, 96, 97, 100, 127, 128, 129, 255, 1000, 1023, 4097];

/**
 * A bitmap of `bits` bits of the given kind. With `dirtyPadding`, the padding bits of the last word
 * (bits >= `bits`) are set too, so functions given `limit = bits` must ignore them.
 */
function makeBitmap(rng: Rng, bits: number, kind: Kind, dirtyPadding = false): Uint32Array {
  const words = new Uint32Array(wordsFor(bits));
  const put = (i: number): void => setBit(words, i);
  switch (kind) {
    case 'zero':
      break;
    case 'ones':
      for (let i = 0; i < bits; i++) put(i);
      break;
    case 'sparse':
      for (let i = 0; i < bits; i++) if (rng.nextFloat() < 0.03) put(i);
      break;
    case 'half':
      for (let i = 0; i < bits; i++) if (rng.nextFloat() < 0.5) put(i);
      break;
    case 'dense':
      for (let i = 0; i < bits; i++) if (rng.nextFloat() < 0.95) put(i);
      break;
    case 'runs': {
      // runs of ones and gaps of random lengths (1..100): many cross word boundaries
      let i = rng.nextInt(40);
      while (i < bits) {
        const run = 1 + rng.nextInt(100);
        for (let k = 0; k < run && i + k < bits; k++) put(i + k);
        i += run + 1 + rng.nextInt(60);
      }
      break;
    }
    case 'word-edges':
      // bits right at word boundaries: 31, 32 / 63, 64 ...
      for (let i = 0; i < bits; i++) if ((i & 31) === 0 || (i & 31) === 31) put(i);
      break;
  }
  if (dirtyPadding) for (let i = bits; i < words.length * 32; i++) put(i);
  return words;
}

function randomCases(seed: number): Array<{ bits: number; kind: Kind; dirtyPadding: boolean; rng: Rng }> {
  const rng = new Rng(seed);
  const out: Array<{ bits: number; kind: Kind; dirtyPadding: boolean; rng: Rng }> = [];
  for (const bits of LENGTHS) {
    for (const kind of KINDS) {
      out.push({ bits, kind, dirtyPadding: false, rng });
      if ((bits & 31) !== 0) out.push({ bits, kind, dirtyPadding: true, rng });
    }
  }
  for (let k = 0; k < 40; k++) {
    out.push({ bits: 1 + rng.nextInt(3000), kind: KINDS[rng.nextInt(KINDS.length)], dirtyPadding: rng.nextInt(2) === 1, rng });
  }
  return out;
}

describe('popcount32', () => {
  it.each([
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [0x80000000, 1],
    [0xffffffff, 32],
    [0x7fffffff, 31],
    [0x55555555, 16],
    [0xaaaaaaaa, 16],
    [0x0f0f0f0f, 16],
    [0x01010101, 4],
    [0xdeadbeef, 24],
    [-1, 32], // an Int32 view gives negative words
    [-2147483648, 1],
    [-2, 31],
  ])('popcount32(%d) = %d', (x, n) => {
    expect(popcount32(x)).toBe(n);
  });

  it('matches the oracle on seeded random words, as uint32 and as int32', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 20000; k++) {
      const x = rng.nextU32();
      const expected = popcount32Oracle(x);
      expect(popcount32(x)).toBe(expected);
      expect(popcount32(x | 0)).toBe(expected);
    }
  });
});

describe('countSetBits', () => {
  it.each([
    [[], 0],
    [[0], 0],
    [[0xffffffff], 32],
    [[0xffffffff, 0xffffffff, 1], 65],
    [[0x80000000, 0, 0x1], 2],
  ])('countSetBits(%j) = %d', (words, n) => {
    expect(countSetBits(Uint32Array.from(words))).toBe(n);
  });

  it('matches the oracle on seeded random bitmaps', () => {
    for (const c of randomCases(21)) {
      const words = makeBitmap(c.rng, c.bits, c.kind, c.dirtyPadding);
      expect(countSetBits(words), `${c.kind} ${c.bits}`).toBe(countSetBitsOracle(words));
    }
  });
});

describe('setAll', () => {
  it.each([
    [1, [0x1]],
    [5, [0x1f]],
    [31, [0x7fffffff]],
    [32, [0xffffffff]],
    [33, [0xffffffff, 0x1]],
    [64, [0xffffffff, 0xffffffff]],
    [65, [0xffffffff, 0xffffffff, 0x1]],
    [95, [0xffffffff, 0xffffffff, 0x7fffffff]],
  ])('setAll(%d bits) = %j', (bits, expected) => {
    const words = new Uint32Array(wordsFor(bits)).fill(0x12345678);
    setAll(words, bits);
    expect(Array.from(words)).toEqual(expected);
  });

  it('matches the oracle for every length 1..300 over random prior content (padding cleared)', () => {
    const rng = new Rng(31);
    for (let bits = 1; bits <= 300; bits++) {
      const fast = new Uint32Array(wordsFor(bits));
      for (let w = 0; w < fast.length; w++) fast[w] = rng.nextU32();
      const slow = fast.slice();
      setAll(fast, bits);
      setAllOracle(slow, bits);
      expect(Array.from(fast), `bits ${bits}`).toEqual(Array.from(slow));
      expect(countSetBits(fast)).toBe(bits);
    }
  });
});

describe('nextSetBit', () => {
  // bits 0, 31, 32, 70 of a 100-bit map
  const known = new Uint32Array(wordsFor(100));
  for (const i of [0, 31, 32, 70]) setBit(known, i);
  it.each([
    [0, 100, 0],
    [1, 100, 31],
    [31, 100, 31],
    [32, 100, 32],
    [33, 100, 70],
    [70, 100, 70],
    [71, 100, -1],
    [99, 100, -1],
    [100, 100, -1], // from at the end
    [150, 100, -1], // from past the end
    [1, 31, -1], // limit excludes bit 31
    [1, 32, 31],
    [33, 70, -1], // limit excludes bit 70
    [33, 71, 70],
    [5, 5, -1], // empty range
    [10, 3, -1], // from > limit
  ])('from %d, limit %d -> %d', (from, limit, expected) => {
    expect(nextSetBit(known, from, limit)).toBe(expected);
  });

  it('finds bit 31 and bit 63 (sign bit of a word)', () => {
    const words = new Uint32Array(2);
    setBit(words, 31);
    setBit(words, 63);
    expect(nextSetBit(words, 0, 64)).toBe(31);
    expect(nextSetBit(words, 32, 64)).toBe(63);
    expect(nextSetBit(words, 32, 63)).toBe(-1);
  });

  it('matches the oracle for every `from` (incl. at and past the end) and random limits', () => {
    for (const c of randomCases(41)) {
      const words = makeBitmap(c.rng, c.bits, c.kind, c.dirtyPadding);
      const limits = [c.bits, c.rng.nextInt(c.bits + 1), c.rng.nextInt(c.bits + 1), Math.max(0, c.bits - 1)];
      for (const limit of limits) {
        for (let from = 0; from <= c.bits + 2; from++) {
          const got = nextSetBit(words, from, limit);
          const want = nextSetBitOracle(words, from, limit);
          if (got !== want) expect(got, `${c.kind} bits ${c.bits} from ${from} limit ${limit}`).toBe(want);
        }
      }
    }
  });

  it('walking with nextSetBit visits exactly the set bits below the limit', () => {
    for (const c of randomCases(42)) {
      const words = makeBitmap(c.rng, c.bits, c.kind, c.dirtyPadding);
      const visited: number[] = [];
      for (let i = nextSetBit(words, 0, c.bits); i >= 0; i = nextSetBit(words, i + 1, c.bits)) visited.push(i);
      const expected: number[] = [];
      for (let i = 0; i < c.bits; i++) if (getBit(words, i)) expected.push(i);
      expect(visited).toEqual(expected);
    }
  });
});

describe('runLength', () => {
  // ones at [3, 40) and [64, 130), then a single one at 140
  const known = new Uint32Array(wordsFor(160));
  for (let i = 3; i < 40; i++) setBit(known, i);
  for (let i = 64; i < 130; i++) setBit(known, i);
  setBit(known, 140);
  it.each([
    // start, maxLen, limit, expected
    [3, 1000, 160, 37], // crosses the word boundary at 32
    [3, 10, 160, 10], // maxLen caps
    [3, 37, 160, 37],
    [3, 38, 160, 37],
    [3, 1000, 20, 17], // limit caps
    [3, 1000, 3, 0], // limit at start
    [31, 1000, 160, 9],
    [32, 1000, 160, 8],
    [39, 1000, 160, 1],
    [40, 1000, 160, 0], // a clear bit
    [64, 1000, 160, 66], // word-aligned start, two full words then 2 bits
    [64, 64, 160, 64], // maxLen = MAX_RUN_PAGES
    [64, 32, 160, 32],
    [64, 1000, 96, 32], // limit on a word boundary
    [64, 1000, 97, 33],
    [65, 1000, 160, 65],
    [95, 1000, 160, 35],
    [96, 1000, 160, 34],
    [140, 1000, 160, 1],
    [140, 1000, 141, 1],
    [140, 0, 160, 0], // maxLen 0
    [10, 1, 160, 1],
  ])('start %d, maxLen %d, limit %d -> %d', (start, maxLen, limit, expected) => {
    expect(runLength(known, start, maxLen, limit)).toBe(expected);
  });

  it('all ones: runs stop at exactly min(maxLen, limit - start)', () => {
    const words = new Uint32Array(wordsFor(300)).fill(0xffffffff);
    for (const start of [0, 1, 31, 32, 33, 63, 64, 100, 299]) {
      for (const maxLen of [1, 2, 31, 32, 33, 64, 65, 1000]) {
        for (const limit of [start, start + 1, 257, 300]) {
          if (limit < start) continue;
          expect(runLength(words, start, maxLen, limit)).toBe(Math.min(maxLen, limit - start));
        }
      }
    }
  });

  it('matches the oracle from every set bit with random maxLen and limit', () => {
    for (const c of randomCases(51)) {
      const words = makeBitmap(c.rng, c.bits, c.kind, c.dirtyPadding);
      for (let start = 0; start < c.bits; start++) {
        if (!getBit(words, start)) continue;
        const maxLens = [1, 64, 1 + c.rng.nextInt(200), c.bits];
        const limits = [c.bits, start + 1 + c.rng.nextInt(c.bits - start)];
        for (const maxLen of maxLens) {
          for (const limit of limits) {
            const got = runLength(words, start, maxLen, limit);
            const want = runLengthOracle(words, start, maxLen, limit);
            if (got !== want) expect(got, `${c.kind} bits ${c.bits} start ${start} maxLen ${maxLen} limit ${limit}`).toBe(want);
          }
        }
      }
    }
  });

  it('is 0 at a clear bit and at start == limit', () => {
    for (const c of randomCases(52)) {
      const words = makeBitmap(c.rng, c.bits, c.kind, c.dirtyPadding);
      const wrong: number[] = [];
      for (let start = 0; start < c.bits; start++) {
        if (!getBit(words, start) && runLength(words, start, 64, c.bits) !== 0) wrong.push(start);
      }
      expect(wrong).toEqual([]);
      expect(runLength(words, c.bits, 64, c.bits)).toBe(0);
    }
  });
});

describe('clearRange', () => {
  it.each([
    // start, len, expected words after clearing an all-ones 96-bit map
    [0, 0, [0xffffffff, 0xffffffff, 0xffffffff]],
    [0, 1, [0xfffffffe, 0xffffffff, 0xffffffff]],
    [31, 1, [0x7fffffff, 0xffffffff, 0xffffffff]],
    [31, 2, [0x7fffffff, 0xfffffffe, 0xffffffff]],
    [0, 32, [0, 0xffffffff, 0xffffffff]],
    [32, 32, [0xffffffff, 0, 0xffffffff]],
    [4, 60, [0xf, 0, 0xffffffff]],
    [16, 64, [0xffff, 0, 0xffff0000]],
    [0, 96, [0, 0, 0]],
    [95, 1, [0xffffffff, 0xffffffff, 0x7fffffff]],
  ])('clearRange(start %d, len %d)', (start, len, expected) => {
    const words = new Uint32Array(3).fill(0xffffffff);
    clearRange(words, start, len);
    expect(Array.from(words)).toEqual(expected);
  });

  it('matches the oracle on random ranges (touches nothing outside the range)', () => {
    for (const c of randomCases(61)) {
      for (let k = 0; k < 12; k++) {
        const fast = makeBitmap(c.rng, c.bits, c.kind, c.dirtyPadding);
        const slow = fast.slice();
        const start = c.rng.nextInt(c.bits + 1);
        const len = k === 0 ? 0 : k === 1 ? c.bits - start : c.rng.nextInt(c.bits - start + 1);
        clearRange(fast, start, len);
        clearRangeOracle(slow, start, len);
        expect(Array.from(fast), `${c.kind} bits ${c.bits} start ${start} len ${len}`).toEqual(Array.from(slow));
      }
    }
  });

  it('the loop idiom nextSetBit → runLength → clearRange takes every set bit exactly once', () => {
    for (const c of randomCases(62)) {
      const words = makeBitmap(c.rng, c.bits, c.kind, false);
      const expected: number[] = [];
      for (let i = 0; i < c.bits; i++) if (getBit(words, i)) expected.push(i);
      const taken: number[] = [];
      const maxRun = 1 + c.rng.nextInt(64);
      for (let p = nextSetBit(words, 0, c.bits); p >= 0; p = nextSetBit(words, p, c.bits)) {
        const len = runLength(words, p, maxRun, c.bits);
        expect(len).toBeGreaterThanOrEqual(1);
        expect(len).toBeLessThanOrEqual(maxRun);
        clearRange(words, p, len);
        for (let k = 0; k < len; k++) taken.push(p + k);
      }
      expect(taken).toEqual(expected);
      expect(countSetBits(words)).toBe(0);
    }
  });
});
