import { describe, expect, it } from 'vitest';
import { PageSet, popcount32 } from '../src/sim/page-set.ts';
import { Rng } from '../src/workload/rng.ts';

/** The plain reference: a JavaScript Set, one page at a time. */
function plainNextFrom(set: Set<number>, pages: number, from: number): number {
  for (let p = from; p < pages; p++) if (set.has(p)) return p;
  return -1;
}

describe('PageSet against a plain Set on seeded random operations', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i', (seed) => {
    const rng = new Rng(seed);
    const pages = 1 + rng.nextInt(5000);
    const fast = new PageSet(pages);
    const other = new PageSet(pages);
    const plain = new Set<number>();
    const plainOther = new Set<number>();
    for (let step = 0; step < 3000; step++) {
      const op = rng.nextInt(8);
      const a = rng.nextInt(pages);
      const b = Math.min(pages, a + rng.nextInt(200));
      if (op === 0) {
        expect(fast.add(a)).toBe(!plain.has(a));
        plain.add(a);
      } else if (op === 1) {
        let fresh = 0;
        for (let p = a; p < b; p++) if (!plain.has(p)) (plain.add(p), fresh++);
        expect(fast.addRange(a, b)).toBe(fresh);
      } else if (op === 2) {
        const p = fast.nextFrom(a);
        expect(p).toBe(plainNextFrom(plain, pages, a));
        if (p >= 0) {
          const len = fast.runLength(p, 64, b > p ? b : pages);
          let plainLen = 0;
          while (plainLen < 64 && p + plainLen < (b > p ? b : pages) && plain.has(p + plainLen)) plainLen++;
          expect(len).toBe(plainLen);
          fast.takeRun(p, len);
          for (let k = 0; k < len; k++) plain.delete(p + k);
        }
      } else if (op === 3) {
        other.add(a);
        plainOther.add(a);
        other.addRange(a, b);
        for (let p = a; p < b; p++) plainOther.add(p);
      } else if (op === 4 && rng.nextInt(10) === 0) {
        let fresh = 0;
        for (const p of plainOther) if (!plain.has(p)) (plain.add(p), fresh++);
        plainOther.clear();
        expect(fast.absorb(other)).toBe(fresh);
        expect(other.count).toBe(0);
      } else if (op === 5) {
        let n = 0;
        for (let p = a; p < b; p++) if (plain.has(p)) n++;
        expect(fast.countRange(a, b)).toBe(n);
      } else if (op === 6 && rng.nextInt(50) === 0) {
        fast.clear();
        plain.clear();
      } else {
        expect(fast.has(a)).toBe(plain.has(a));
      }
      expect(fast.count).toBe(plain.size);
    }
    // a full walk finds exactly the plain set, in order
    const walked: number[] = [];
    for (let p = fast.nextFrom(0); p >= 0; p = fast.nextFrom(p + 1)) walked.push(p);
    expect(walked).toEqual([...plain].sort((x, y) => x - y));
  });

  it('a released bitmap comes back empty to the next set of the same size', () => {
    const a = new PageSet(10_000);
    a.addRange(100, 5000);
    a.add(9999);
    a.release();
    const b = new PageSet(10_000);
    expect(b.count).toBe(0);
    expect(b.nextFrom(0)).toBe(-1);
    expect(b.countRange(0, 10_000)).toBe(0);
    b.add(7);
    expect(b.nextFrom(0)).toBe(7);
  });

  it('fill, 2^32-page guests and word edges', () => {
    const s = new PageSet(100);
    s.fill();
    expect(s.count).toBe(100);
    expect(s.runLength(0, 1000, 100)).toBe(100);
    expect(s.nextFrom(99)).toBe(99);
    expect(s.nextFrom(100)).toBe(-1);
    s.takeRun(31, 2);
    expect([s.has(30), s.has(31), s.has(32), s.has(33)]).toEqual([true, false, false, true]);
    expect(s.nextFrom(31)).toBe(33);
    const huge = new PageSet(2 ** 32);
    huge.add(2 ** 32 - 1);
    expect(huge.nextFrom(0)).toBe(2 ** 32 - 1);
    expect(() => new PageSet(0)).toThrow(RangeError);
    expect([0, 1, 0xffffffff | 0, 0x80000000 | 0, 0x55555555].map(popcount32)).toEqual([0, 1, 32, 1, 16]);
  });
});
