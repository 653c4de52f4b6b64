import { describe, expect, it } from 'vitest';
import {
  EXACT_U_LIMIT,
  geomean,
  mannWhitneyU,
  medianCI,
  minPossibleP,
  minSamplesForAlpha,
  summarize,
} from '../src/results/statistics.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('mannWhitneyU (SciPy 1.17.1 mannwhitneyu two-sided reference values)', () => {
  it.each<[string, number[], number[], 'exact' | 'normal', number, number]>([
    ['A: 5 vs 5 fully separated', range(1, 5), range(6, 10), 'exact', 0, 0.0079365],
    ['D: 3 vs 3 fully separated', [1, 2, 3], [4, 5, 6], 'exact', 0, 0.1],
    ['E: 4 vs 4 fully separated', range(1, 4), range(5, 8), 'exact', 0, 0.0285714],
    [
      'B: ties, normal + tie correction + continuity',
      [1.2, 1.5, 1.5, 2.0, 2.2, 2.3, 2.8, 3.0, 3.1, 3.3],
      [2.0, 2.5, 2.7, 3.0, 3.2, 3.5, 3.6, 3.9, 4.1, 4.4],
      'normal',
      18,
      0.017132,
    ],
    ['C: all values tied', [10, 10, 10, 10, 10], [10, 10, 10, 10, 10], 'normal', 12.5, 1],
  ])('%s', (_name, x, y, method, u, p) => {
    const r = mannWhitneyU(x, y);
    expect(r.method).toBe(method);
    expect(r.u).toBe(u);
    expect(r.p).toBeCloseTo(p, 6);
    expect(Number.isNaN(r.p)).toBe(false);
  });

  it('is symmetric in p and complementary in U when the samples swap', () => {
    const x = [1.2, 1.5, 1.5, 2.0, 2.2, 2.3, 2.8, 3.0, 3.1, 3.3];
    const y = [2.0, 2.5, 2.7, 3.0, 3.2, 3.5, 3.6, 3.9, 4.1, 4.4];
    const xy = mannWhitneyU(x, y);
    const yx = mannWhitneyU(y, x);
    expect(yx.p).toBeCloseTo(xy.p, 12);
    expect(xy.u + yx.u).toBe(x.length * y.length);
    expect(mannWhitneyU(range(6, 10), range(1, 5))).toEqual({ u: 25, p: 2 / 252, method: 'exact' });
  });

  it('caps p at 1 for balanced untied samples, and gives p = 1 for any all-tied pair', () => {
    expect(mannWhitneyU([1, 4], [2, 3])).toEqual({ u: 2, p: 1, method: 'exact' });
    expect(mannWhitneyU([1, 2, 3], [1.5, 2.5, 0.5]).p).toBeCloseTo(0.7, 12); // U = 6, P(U <= 3) = 7/20
    expect(mannWhitneyU([7], [7])).toEqual({ u: 0.5, p: 1, method: 'normal' });
    expect(mannWhitneyU([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [3, 3]).p).toBe(1);
  });

  it('uses the exact distribution up to EXACT_U_LIMIT per side, the normal approximation beyond', () => {
    const small = mannWhitneyU(range(1, EXACT_U_LIMIT), range(EXACT_U_LIMIT + 1, 2 * EXACT_U_LIMIT));
    expect(small.method).toBe('exact');
    expect(small.p).toBeCloseTo(minPossibleP(EXACT_U_LIMIT, EXACT_U_LIMIT), 20);
    const big = mannWhitneyU(range(1, EXACT_U_LIMIT + 1), range(100, 110));
    expect(big.method).toBe('normal');
    expect(big.p).toBeGreaterThan(0);
    expect(big.p).toBeLessThan(0.001);
  });

  it('exact p-values of a partly overlapping pair match the enumerated distribution', () => {
    // x = 1,2,4 vs y = 3,5,6: U_x = 1; P(U <= 1) = 2/20 → two-sided 0.2 (SciPy: 0.2).
    expect(mannWhitneyU([1, 2, 4], [3, 5, 6])).toEqual({ u: 1, p: 0.2, method: 'exact' });
  });

  it('refuses empty or non-finite samples', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, Number.NaN], [1])).toThrow(/finite/);
  });
});

describe('minPossibleP and minSamplesForAlpha', () => {
  it.each<[number, number, number]>([
    [3, 3, 0.1],
    [4, 4, 0.0286],
    [5, 5, 0.0079],
    [1, 1, 1],
    [2, 2, 1 / 3],
  ])('minPossibleP(%i, %i) = %f', (n1, n2, p) => {
    expect(minPossibleP(n1, n2)).toBeCloseTo(p, 4);
  });

  it('equals the p of two fully separated samples', () => {
    expect(minPossibleP(3, 7)).toBeCloseTo(mannWhitneyU([1, 2, 3], range(4, 10)).p, 12);
    expect(minPossibleP(0, 5)).toBe(1);
  });

  it('says how many samples per side can reach alpha', () => {
    expect(minSamplesForAlpha(0.05)).toBe(4);
    expect(minSamplesForAlpha(0.01)).toBe(5);
    expect(minSamplesForAlpha(0.1)).toBe(4); // 3+3 gives exactly 0.1, which is not < 0.1
  });
});

describe('medianCI (order-statistic interval for the median)', () => {
  it.each<[number, { lo: number; hi: number; level: number } | null]>([
    [1, null],
    [5, null], // [x1, x5] covers only 93.75%
    [6, { lo: 1, hi: 6, level: 0.96875 }],
    [10, { lo: 2, hi: 9, level: 0.978515625 }],
    [12, { lo: 3, hi: 10, level: 0.96142578125 }],
    [20, { lo: 6, hi: 15, level: 0.9586105346679688 }],
  ])('n = %i at 95%%', (n, expected) => {
    const ci = medianCI(n, 0.95);
    if (expected === null) {
      expect(ci).toBeNull();
    } else {
      expect(ci).not.toBeNull();
      expect(ci!.lo).toBe(expected.lo);
      expect(ci!.hi).toBe(expected.hi);
      expect(ci!.level).toBeCloseTo(expected.level, 12);
    }
  });

  it('reaches 0.9375 with n = 5 at a 90% level, and the level is always at least the one asked', () => {
    expect(medianCI(5, 0.9)).toEqual({ lo: 1, hi: 5, level: 0.9375 });
    for (let n = 6; n <= 300; n++) {
      const ci = medianCI(n, 0.95)!;
      expect(ci.level).toBeGreaterThanOrEqual(0.95);
      expect(ci.lo + ci.hi).toBe(n + 1);
    }
    // Large n stays finite (binomial in log space).
    expect(medianCI(5000, 0.95)!.level).toBeGreaterThanOrEqual(0.95);
  });
});

describe('summarize', () => {
  it('n = 6: median, the [x1, x6] interval, mean, sample sd, min, max', () => {
    expect(summarize([3, 1, 2, 5, 4, 6])).toEqual({
      n: 6,
      median: 3.5,
      ciLow: 1,
      ciHigh: 6,
      ciLevel: 0.96875,
      mean: 3.5,
      sd: expect.closeTo(Math.sqrt(3.5), 12),
      min: 1,
      max: 6,
    });
  });

  it('n = 10 uses the 2nd and 9th order statistics; n = 12 the 3rd and 10th', () => {
    const s10 = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
    expect([s10.ciLow, s10.ciHigh, s10.median]).toEqual([2, 9, 5.5]);
    expect(s10.ciLevel).toBeCloseTo(0.979, 3);
    const s12 = summarize(range(1, 12).reverse());
    expect([s12.ciLow, s12.ciHigh, s12.ciLevel]).toEqual([3, 10, 0.96142578125]);
  });

  it('too few samples for the interval: null bounds and level (JSON-friendly), sd null for one sample', () => {
    const s5 = summarize([5, 4, 3, 2, 1]);
    expect(s5).toMatchObject({ n: 5, median: 3, ciLow: null, ciHigh: null, ciLevel: null, min: 1, max: 5 });
    const s1 = summarize([42]);
    expect(s1).toEqual({ n: 1, median: 42, ciLow: null, ciHigh: null, ciLevel: null, mean: 42, sd: null, min: 42, max: 42 });
    expect(JSON.parse(JSON.stringify(s1))).toEqual(s1);
  });

  it('does not reorder the caller’s array', () => {
    const xs = [3, 1, 2];
    summarize(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('refuses empty or non-finite samples', () => {
    expect(() => summarize([])).toThrow(/at least one sample/);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(/finite/);
  });
});

describe('geomean', () => {
  it('is the geometric mean of positive values', () => {
    expect(geomean([2, 8])).toBeCloseTo(4, 12);
    expect(geomean([1, 10, 100])).toBeCloseTo(10, 12);
    expect(geomean([5])).toBe(5);
  });

  it('does not overflow on large values', () => {
    expect(geomean(Array.from({ length: 50 }, () => 1e300))).toBeCloseTo(1e300, -290);
  });

  it('is null for an empty list or a value that is not positive and finite', () => {
    expect(geomean([])).toBeNull();
    expect(geomean([1, 0])).toBeNull();
    expect(geomean([1, -2])).toBeNull();
    expect(geomean([1, Number.NaN])).toBeNull();
  });
});
