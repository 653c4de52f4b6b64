import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed } from '../src/workload/rng.ts';
import {
  PATTERN_NAMES,
  createPageGenerator,
  sequentialSlice,
  zipfPageOfRank,
  zipfStride,
  type PageGenerator,
  type PatternName,
  type PatternSpec,
} from '../src/workload/patterns.ts';

function spec(pattern: PatternName, totalPages: number, extra: Partial<PatternSpec> = {}): PatternSpec {
  return {
    pattern,
    totalPages,
    workingSetPages: Math.max(1, Math.floor(totalPages / 10)),
    hotFraction: 0.9,
    zipfExponent: 1,
    ...extra,
  };
}

function gen(s: PatternSpec, seed = 1, vcpuIndex = 0, vcpuCount = 1): PageGenerator {
  const g = createPageGenerator(s, vcpuIndex, vcpuCount, new Rng(seed));
  if (g === null) throw new Error('expected a generator');
  return g;
}

function take(g: PageGenerator, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(g.next());
  return out;
}

/** Exact zipf probabilities P(k) ∝ k^-s for k = 1..n (index k - 1). */
function zipfPmf(n: number, s: number): number[] {
  const w = Array.from({ length: n }, (_, i) => (i + 1) ** -s);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Naive reference sampler: inverse CDF by linear scan of cumulative weights. Returns a rank in [1, n]. */
function naiveZipfRank(cdf: number[], rng: Rng): number {
  const u = rng.nextDouble();
  for (let k = 0; k < cdf.length; k++) if (u < cdf[k]) return k + 1;
  return cdf.length;
}

function totalVariation(p: number[], q: number[]): number {
  let tv = 0;
  for (let i = 0; i < p.length; i++) tv += Math.abs(p[i] - q[i]);
  return tv / 2;
}

describe('pattern names and validation', () => {
  it('lists every pattern', () => {
    expect([...PATTERN_NAMES].sort()).toEqual(['hotset', 'idle', 'sequential', 'uniform', 'zipf']);
  });

  it('idle never writes: no generator', () => {
    expect(createPageGenerator(spec('idle', 1000), 0, 1, new Rng(1))).toBeNull();
    expect(createPageGenerator(spec('idle', 1), 3, 4, new Rng(1))).toBeNull();
  });

  it('rejects bad specs and vCPU indices', () => {
    const rng = new Rng(1);
    expect(() => createPageGenerator(spec('uniform', 0), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('uniform', 1.5), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('uniform', 2 ** 32 + 1), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('uniform', 10), 1, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('uniform', 10), 0, 0, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('hotset', 10, { workingSetPages: 11 }), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('hotset', 10, { workingSetPages: 0 }), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('hotset', 10, { hotFraction: 1.1 }), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('hotset', 10, { hotFraction: Number.NaN }), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('zipf', 10, { zipfExponent: 0 }), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('zipf', 10, { zipfExponent: -1 }), 0, 1, rng)).toThrow(RangeError);
    expect(() => createPageGenerator(spec('bogus' as PatternName, 10), 0, 1, rng)).toThrow(RangeError);
    // Fields a pattern does not use are not checked.
    expect(createPageGenerator(spec('uniform', 10, { zipfExponent: 0, workingSetPages: 0 }), 0, 1, rng)).not.toBeNull();
  });
});

describe('every pattern stays in range', () => {
  const writing: PatternName[] = ['uniform', 'hotset', 'zipf', 'sequential'];
  for (const pattern of writing) {
    it(`${pattern}: integer pages in [0, totalPages) for several sizes`, () => {
      for (const n of [1, 2, 7, 1000, 262144]) {
        for (const [vcpuIndex, vcpuCount] of [
          [0, 1],
          [2, 3],
          [7, 8],
        ] as const) {
          const g = gen(spec(pattern, n), deriveSeed(5, vcpuIndex), vcpuIndex, vcpuCount);
          for (let i = 0; i < 5000; i++) {
            const p = g.next();
            if (!(Number.isInteger(p) && p >= 0 && p < n)) {
              throw new Error(`${pattern} N=${n} vcpu ${vcpuIndex}/${vcpuCount}: page ${p} out of range`);
            }
          }
        }
      }
    });
  }

  it('huge guests (2^32 - 5 and 2^32 pages): uniform, hotset, zipf (s = 0.99, 1, 1.5) and sequential', () => {
    for (const n of [2 ** 32 - 5, 2 ** 32]) {
      const specs = [
        spec('uniform', n),
        spec('hotset', n, { workingSetPages: 2 ** 31 + 7, hotFraction: 0.5 }),
        spec('zipf', n, { zipfExponent: 0.99 }),
        spec('zipf', n, { zipfExponent: 1 }),
        spec('zipf', n, { zipfExponent: 1.5 }),
        spec('sequential', n),
      ];
      for (const s of specs) {
        const g = gen(s, 3, 1, 2);
        let max = 0;
        for (let i = 0; i < 20_000; i++) {
          const p = g.next();
          if (!(Number.isInteger(p) && p >= 0 && p < n)) throw new Error(`${s.pattern} N=${n}: page ${p} out of range`);
          if (p > max) max = p;
        }
        if (s.pattern !== 'sequential') expect(max).toBeGreaterThan(2 ** 31); // spread over the whole guest
      }
    }
  });

  it('is deterministic for a seed', () => {
    for (const pattern of writing) {
      const s = spec(pattern, 1000);
      expect(take(gen(s, 9), 200)).toEqual(take(gen(s, 9), 200));
    }
    expect(take(gen(spec('zipf', 1000), 9), 50)).not.toEqual(take(gen(spec('zipf', 1000), 10), 50));
  });
});

describe('uniform', () => {
  it('covers every page of a small guest about equally', () => {
    const n = 7;
    const counts = new Array<number>(n).fill(0);
    const g = gen(spec('uniform', n), 11);
    const draws = 70_000;
    for (let i = 0; i < draws; i++) counts[g.next()]++;
    for (const c of counts) expect(Math.abs(c - draws / n)).toBeLessThan(draws / n / 20);
  });
});

describe('hotset', () => {
  const cases: Array<[n: number, w: number, f: number, seed: number]> = [
    [10_000, 500, 0.8, 1],
    [10_000, 500, 0.0, 2],
    [262_144, 1024, 0.95, 3],
    [1000, 1000, 0.3, 4],
    [1000, 1, 0.5, 5],
  ];
  for (const [n, w, f, seed] of cases) {
    it(`N=${n} W=${w} hotFraction=${f}: hot share ≈ f + (1-f)·W/N`, () => {
      const g = gen(spec('hotset', n, { workingSetPages: w, hotFraction: f }), seed);
      const draws = 200_000;
      let hot = 0;
      for (let i = 0; i < draws; i++) if (g.next() < w) hot++;
      const expected = f + ((1 - f) * w) / n;
      // Binomial sd is at most ~0.0012 here.
      expect(Math.abs(hot / draws - expected)).toBeLessThan(0.006);
    });
  }

  it('hotFraction = 1 writes only the hot set, and all of it', () => {
    const g = gen(spec('hotset', 1000, { workingSetPages: 10, hotFraction: 1 }), 6);
    const seen = new Set(take(g, 5000));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('cold writes go over all pages, not just the cold ones', () => {
    const g = gen(spec('hotset', 100, { workingSetPages: 50, hotFraction: 0 }), 7);
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 100_000; i++) counts[g.next()]++;
    const hot = counts.slice(0, 50).reduce((a, b) => a + b, 0);
    expect(hot / 100_000).toBeGreaterThan(0.48);
    expect(hot / 100_000).toBeLessThan(0.52);
  });
});

describe('zipf', () => {
  it('the rank-to-page stride permutation is a bijection', () => {
    for (const n of [1, 2, 7, 1000, 4096, 65536, 100_003]) {
      const stride = zipfStride(n);
      expect(stride).toBeGreaterThanOrEqual(1);
      const pages = new Set<number>();
      for (let k = 1; k <= n; k++) pages.add(zipfPageOfRank(n, k));
      expect(pages.size).toBe(n);
      expect(Math.min(...pages)).toBe(0);
      expect(Math.max(...pages)).toBe(n - 1);
    }
  });

  it('the stride starts at 2654435761 mod N and is coprime with N', () => {
    expect(zipfStride(1000)).toBe(761); // 2654435761 mod 1000; prime, so coprime with 1000
    expect(zipfStride(4096)).toBe(2654435761 % 4096); // odd, so coprime with a power of two
    expect(zipfStride(2654435761)).toBe(1); // 0 -> at least 1 (2654435761 is prime: the only N <= 2^32 needing a bump)
    expect(zipfStride(10)).toBe(1);
    expect(zipfStride(1)).toBe(1);
  });

  it('maps ranks to pages exactly for huge guests (checked against BigInt)', () => {
    const rng = new Rng(31);
    for (const n of [2 ** 32 - 5, 2 ** 32, 2 ** 32 - 1, 3_000_000_019]) {
      const stride = BigInt(zipfStride(n));
      for (const k of [1, 2, 3, n, n - 1, ...Array.from({ length: 200 }, () => 1 + rng.nextInt(n))]) {
        const expected = Number(((BigInt(k) - 1n) * stride) % BigInt(n));
        expect(zipfPageOfRank(n, k)).toBe(expected);
      }
    }
  });

  it('spreads the hottest pages over memory', () => {
    const n = 262144;
    const top = Array.from({ length: 16 }, (_, i) => zipfPageOfRank(n, i + 1));
    expect(top[0]).toBe(0);
    expect(Math.max(...top)).toBeGreaterThan(n / 2);
  });

  for (const [s, seed] of [
    [0.99, 41],
    [1.0, 42],
    [1.5, 43],
    [3.0, 44], // steep: plain inversion without the rejection step is ~12% off here
  ] as const) {
    it(`s = ${s}: count(rank 1) / count(rank 2) ≈ 2^s and count(rank 1) / count(rank 3) ≈ 3^s`, () => {
      const n = 1000;
      const g = gen(spec('zipf', n, { zipfExponent: s }), seed);
      const p1 = zipfPageOfRank(n, 1);
      const p2 = zipfPageOfRank(n, 2);
      const p3 = zipfPageOfRank(n, 3);
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (let i = 0; i < 400_000; i++) {
        const p = g.next();
        if (p === p1) c1++;
        else if (p === p2) c2++;
        else if (p === p3) c3++;
      }
      // Relative sd of these ratios is < 2% at these counts; 6% cannot be hit by chance but s vs s±0.1 is.
      expect(c1 / c2 / 2 ** s).toBeGreaterThan(0.94);
      expect(c1 / c2 / 2 ** s).toBeLessThan(1.06);
      expect(c1 / c3 / 3 ** s).toBeGreaterThan(0.94);
      expect(c1 / c3 / 3 ** s).toBeLessThan(1.06);
      // Rank 1's share matches 1 / H(N, s).
      expect(c1 / 400_000 / zipfPmf(n, s)[0]).toBeGreaterThan(0.97);
      expect(c1 / 400_000 / zipfPmf(n, s)[0]).toBeLessThan(1.03);
    });
  }

  for (const [s, seed] of [
    [0.5, 51],
    [0.99, 52],
    [1.0, 53],
    [1.5, 54],
    [3.0, 55],
  ] as const) {
    it(`s = ${s}: rejection-inversion matches a naive inverse-CDF reference on N = 50 (TV < 0.03)`, () => {
      const n = 50;
      const draws = 200_000;
      const pmf = zipfPmf(n, s);
      const cdf: number[] = [];
      pmf.reduce((acc, p, i) => (cdf[i] = acc + p), 0);

      const rankOfPage = new Map<number, number>();
      for (let k = 1; k <= n; k++) rankOfPage.set(zipfPageOfRank(n, k), k);

      const fast = new Array<number>(n).fill(0);
      const g = gen(spec('zipf', n, { zipfExponent: s }), seed);
      for (let i = 0; i < draws; i++) fast[rankOfPage.get(g.next())! - 1]++;

      const naive = new Array<number>(n).fill(0);
      const rng = new Rng(seed + 1000);
      for (let i = 0; i < draws; i++) naive[naiveZipfRank(cdf, rng) - 1]++;

      const fastP = fast.map((c) => c / draws);
      const naiveP = naive.map((c) => c / draws);
      expect(totalVariation(fastP, naiveP)).toBeLessThan(0.03);
      // Against the exact pmf the sampling noise alone is ~0.006.
      expect(totalVariation(fastP, pmf)).toBeLessThan(0.015);
      expect(totalVariation(naiveP, pmf)).toBeLessThan(0.015);
    });
  }

  it('N = 1 always gives page 0; N = 2 gives both pages', () => {
    expect(new Set(take(gen(spec('zipf', 1)), 1000))).toEqual(new Set([0]));
    expect(new Set(take(gen(spec('zipf', 2)), 1000))).toEqual(new Set([0, 1]));
  });
});

describe('sequential', () => {
  it('sweeps its slice in order and wraps to the slice start', () => {
    // N = 10, c = 3: slices [0,3), [3,6), [6,10).
    expect(take(gen(spec('sequential', 10), 1, 0, 3), 7)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(take(gen(spec('sequential', 10), 1, 1, 3), 7)).toEqual([3, 4, 5, 3, 4, 5, 3]);
    expect(take(gen(spec('sequential', 10), 1, 2, 3), 9)).toEqual([6, 7, 8, 9, 6, 7, 8, 9, 6]);
    expect(take(gen(spec('sequential', 5), 1, 0, 1), 12)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
    expect(take(gen(spec('sequential', 1), 1, 0, 1), 3)).toEqual([0, 0, 0]);
  });

  it('does not use the rng', () => {
    const rng = new Rng(8);
    const before = rng.getState();
    const g = createPageGenerator(spec('sequential', 100), 0, 2, rng)!;
    take(g, 100);
    expect(rng.getState()).toEqual(before);
  });

  it('slices of all vCPUs are disjoint and cover every page', () => {
    for (const [n, c] of [
      [10, 3],
      [7, 7],
      [1000, 6],
      [262144, 5],
      [5, 8],
      [1, 4],
    ] as const) {
      const owner = new Array<number>(n).fill(-1);
      for (let i = 0; i < c; i++) {
        const { start, end } = sequentialSlice(n, i, c);
        expect(start).toBe(Math.floor((i * n) / c));
        expect(end).toBe(Math.floor(((i + 1) * n) / c));
        if (start === end) continue;
        const len = end - start;
        const pages = take(gen(spec('sequential', n), 1, i, c), len);
        expect(pages[0]).toBe(start);
        let clashes = 0;
        for (const p of pages) {
          if (owner[p] !== -1) clashes++;
          owner[p] = i;
        }
        expect(clashes).toBe(0);
        // After one full sweep it wraps.
        expect(take(gen(spec('sequential', n), 1, i, c), len + 1)[len]).toBe(start);
      }
      expect(owner.every((o) => o >= 0)).toBe(true);
    }
  });

  it('a vCPU with an empty slice (more vCPUs than pages) sweeps the whole memory', () => {
    // N = 5, c = 8: vCPU 0 owns floor(0) .. floor(5/8) = [0, 0): empty.
    expect(sequentialSlice(5, 0, 8)).toEqual({ start: 0, end: 0 });
    expect(take(gen(spec('sequential', 5), 1, 0, 8), 7)).toEqual([0, 1, 2, 3, 4, 0, 1]);
  });

  it('slice bounds are exact for huge guests', () => {
    const n = 2 ** 32 - 5;
    const c = 3;
    let prevEnd = 0;
    for (let i = 0; i < c; i++) {
      const { start, end } = sequentialSlice(n, i, c);
      expect(start).toBe(prevEnd);
      expect(BigInt(end)).toBe((BigInt(i + 1) * BigInt(n)) / BigInt(c));
      prevEnd = end;
    }
    expect(prevEnd).toBe(n);
  });
});
