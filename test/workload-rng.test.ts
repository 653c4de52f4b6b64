import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed } from '../src/workload/rng.ts';

const TWO_POW_32 = 2 ** 32;

function draws(rng: Rng, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(rng.nextU32());
  return out;
}

/** Pearson chi-square statistic of observed bucket counts against equal expected counts. */
function chiSquare(counts: ArrayLike<number>, total: number): number {
  const expected = total / counts.length;
  let chi = 0;
  for (let i = 0; i < counts.length; i++) chi += (counts[i] - expected) ** 2 / expected;
  return chi;
}

describe('Rng core (xoshiro128**)', () => {
  it('matches the C reference implementation from a given state', () => {
    // Vectors produced by the reference xoshiro128starstar.c (1.1) from this state.
    const rng = Rng.fromState(0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0);
    expect(rng.nextU32()).toBe(0xf1391922);
    expect(rng.getState()).toEqual([0x72410269, 0xef382c52, 0x2e43bec7, 0x62432f20]);
    expect(rng.nextU32()).toBe(0x6fe53806);
    expect(rng.nextU32()).toBe(0xa5be2840);
    expect(rng.nextU32()).toBe(0xf510ee70);
    expect(rng.getState()).toEqual([0xfc65379c, 0x52006d70, 0x87487639, 0xf1908343]);
  });

  it('refuses an all-zero state and non-integer seeds', () => {
    expect(() => Rng.fromState(0, 0, 0, 0)).toThrow(RangeError);
    expect(() => new Rng(1.5)).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
  });

  it('gives a non-zero, well-mixed state for seed 0', () => {
    const state = new Rng(0).getState();
    expect(state.some((w) => w !== 0)).toBe(true);
    expect(new Set(state).size).toBe(4);
  });
});

describe('Rng determinism', () => {
  it('same seed gives the same sequence', () => {
    for (const seed of [0, 1, 42, 0xffffffff, -7, 2 ** 40 + 3]) {
      expect(draws(new Rng(seed), 100)).toEqual(draws(new Rng(seed), 100));
    }
  });

  it('different seeds give different sequences', () => {
    const seeds = [0, 1, 2, 3, 42, 0xffffffff, -1, 2 ** 32, 2 ** 40 + 3];
    const firsts = seeds.map((s) => draws(new Rng(s), 8).join(','));
    expect(new Set(firsts).size).toBe(seeds.length);
    // Neighbouring seeds are not shifted copies of one another.
    const a = draws(new Rng(1), 64);
    const b = new Set(draws(new Rng(2), 64));
    expect(a.filter((x) => b.has(x))).toHaveLength(0);
  });

  it('seeds 0 .. 2^32-1 map to themselves; larger and negative seeds are folded, not truncated', () => {
    expect(draws(new Rng(2 ** 32), 4)).not.toEqual(draws(new Rng(0), 4));
    expect(draws(new Rng(-1), 4)).not.toEqual(draws(new Rng(0xffffffff), 4)); // hi word is 0xffffffff
  });

  it('deriveSeed is deterministic, uint32, and distinct across seeds and streams', () => {
    expect(deriveSeed(7, 3)).toBe(deriveSeed(7, 3));
    const seen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      for (let stream = 0; stream < 100; stream++) {
        const d = deriveSeed(seed, stream);
        expect(Number.isInteger(d) && d >= 0 && d < TWO_POW_32).toBe(true);
        seen.add(d);
      }
    }
    expect(seen.size).toBe(2000);
    // Swapping arguments does not collide.
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
  });

  it('streams derived from one seed give different sequences', () => {
    const seqs = [0, 1, 2, 3, 4, 5, 6, 7].map((stream) => draws(new Rng(deriveSeed(12345, stream)), 16).join(','));
    expect(new Set(seqs).size).toBe(8);
  });

  it('derived streams are uncorrelated (bit agreement between adjacent streams ~ 50%)', () => {
    const a = new Rng(deriveSeed(99, 0));
    const b = new Rng(deriveSeed(99, 1));
    let agree = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      let x = ~(a.nextU32() ^ b.nextU32());
      while (x !== 0) {
        x &= x - 1;
        agree++;
      }
    }
    expect(agree / (32 * n)).toBeGreaterThan(0.49);
    expect(agree / (32 * n)).toBeLessThan(0.51);
  });
});

describe('Rng.nextU32 / nextFloat / nextDouble', () => {
  it('nextU32 is a uint32 and every bit is set about half the time', () => {
    const rng = new Rng(3);
    const ones = new Array<number>(32).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const x = rng.nextU32();
      if (!(Number.isInteger(x) && x >= 0 && x < TWO_POW_32)) throw new Error(`nextU32 out of range: ${x}`);
      for (let b = 0; b < 32; b++) ones[b] += (x >>> b) & 1;
    }
    for (const c of ones) {
      expect(c / n).toBeGreaterThan(0.47);
      expect(c / n).toBeLessThan(0.53);
    }
  });

  it('nextFloat is in [0, 1), has mean ~1/2 and spreads evenly over 16 buckets', () => {
    const rng = new Rng(4);
    const n = 160_000;
    const buckets = new Array<number>(16).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const f = rng.nextFloat();
      if (!(f >= 0 && f < 1)) throw new Error(`nextFloat out of range: ${f}`);
      sum += f;
      buckets[Math.floor(f * 16)]++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    // 15 degrees of freedom: mean 15, P(chi2 > 50) ~ 1e-5.
    expect(chiSquare(buckets, n)).toBeLessThan(50);
  });

  it('nextDouble is in [0, 1) and carries more than 32 bits', () => {
    const rng = new Rng(5);
    let fine = 0;
    for (let i = 0; i < 1000; i++) {
      const d = rng.nextDouble();
      expect(d >= 0 && d < 1).toBe(true);
      if (!Number.isInteger(d * TWO_POW_32)) fine++;
    }
    expect(fine).toBeGreaterThan(990);
  });
});

describe('Rng.nextInt', () => {
  it('n = 1 always gives 0', () => {
    const rng = new Rng(6);
    let nonZero = 0;
    for (let i = 0; i < 10_000; i++) if (rng.nextInt(1) !== 0) nonZero++;
    expect(nonZero).toBe(0);
  });

  it('n = 3 gives 0, 1, 2 evenly', () => {
    const rng = new Rng(7);
    const counts = [0, 0, 0];
    const n = 90_000;
    for (let i = 0; i < n; i++) {
      const v = rng.nextInt(3);
      if (v === 0 || v === 1 || v === 2) counts[v]++;
    }
    expect(counts[0] + counts[1] + counts[2]).toBe(n);
    for (const c of counts) expect(Math.abs(c - n / 3)).toBeLessThan(n * 0.01);
  });

  it('stays within [0, n) across the fast and the wide path', () => {
    const rng = new Rng(8);
    const sizes = [2, 5, 10, 255, 256, 1000, 2 ** 21 - 1, 2 ** 21, 2 ** 21 + 1, 1e9, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32];
    for (const size of sizes) {
      let max = -1;
      let bad = 0;
      for (let i = 0; i < 20_000; i++) {
        const v = rng.nextInt(size);
        if (!(Number.isInteger(v) && v >= 0 && v < size)) bad++;
        if (v > max) max = v;
      }
      expect(bad, `n = ${size}`).toBe(0);
      // The top of the range is reached (not e.g. capped at 2^31 or n/2).
      if (size <= 256) expect(max).toBe(size - 1);
      else expect(max).toBeGreaterThan(size * 0.99);
    }
  });

  it('n = 2^32 covers the full 32-bit range', () => {
    const rng = new Rng(9);
    let high = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = rng.nextInt(2 ** 32);
      if (!(v >= 0 && v < 2 ** 32 && Number.isInteger(v))) throw new Error(`nextInt(2^32) out of range: ${v}`);
      if (v >= 2 ** 31) high++;
    }
    expect(high).toBeGreaterThan(4_700);
    expect(high).toBeLessThan(5_300);
  });

  it('is unbiased: chi-square over 10 buckets for small and for large n', () => {
    // n = 3e9 catches a plain `nextU32() % n` (values below 2^32 - 3e9 would be twice as likely).
    for (const [size, seed] of [
      [10, 10],
      [1000, 11],
      [3_000_000_000, 12],
      [2 ** 32 - 1, 13],
    ] as const) {
      const rng = new Rng(seed);
      const buckets = new Array<number>(10).fill(0);
      const n = 100_000;
      for (let i = 0; i < n; i++) buckets[Math.floor((rng.nextInt(size) * 10) / size)]++;
      // 9 degrees of freedom: mean 9, P(chi2 > 40) ~ 5e-6.
      expect(chiSquare(buckets, n)).toBeLessThan(40);
    }
  });

  it('is deterministic for a seed', () => {
    const a = new Rng(77);
    const b = new Rng(77);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 1000; i++) {
      xs.push(a.nextInt(1 + (i % 37) * 1_000_003));
      ys.push(b.nextInt(1 + (i % 37) * 1_000_003));
    }
    expect(xs).toEqual(ys);
  });
});

describe('Rng.fill', () => {
  it('is deterministic and equals the little-endian bytes of successive nextU32 values', () => {
    const a = new Uint8Array(1000);
    const b = new Uint8Array(1000);
    new Rng(20).fill(a);
    new Rng(20).fill(b);
    expect(a).toEqual(b);
    const ref = new Rng(20);
    for (let i = 0; i < 1000; i += 4) {
      const x = ref.nextU32();
      expect([a[i], a[i + 1], a[i + 2], a[i + 3]]).toEqual([x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24]);
    }
  });

  it('does not depend on alignment (word path and byte path write the same bytes)', () => {
    const backing = new Uint8Array(4096 + 3);
    const aligned = backing.subarray(0, 4096);
    const unaligned = backing.subarray(3, 4099);
    expect(aligned.byteOffset % 4).toBe(0);
    const first = new Uint8Array(4096);
    new Rng(21).fill(aligned);
    first.set(aligned);
    new Rng(21).fill(unaligned);
    expect(Uint8Array.from(unaligned)).toEqual(first);
  });

  it('a shorter fill is a prefix of a longer one; the tail consumes one word', () => {
    const long = new Uint8Array(128);
    new Rng(22).fill(long);
    for (const len of [0, 1, 2, 3, 4, 5, 7, 63, 64, 65, 127]) {
      const short = new Uint8Array(len);
      const rng = new Rng(22);
      rng.fill(short);
      expect(short).toEqual(long.subarray(0, len));
      // The next word continues where the fill stopped.
      const cont = new Rng(22);
      for (let i = 0; i < Math.ceil(len / 4); i++) cont.nextU32();
      expect(rng.nextU32()).toBe(cont.nextU32());
    }
  });

  it('fills a SharedArrayBuffer-backed view and produces every byte value', () => {
    const bytes = new Uint8Array(new SharedArrayBuffer(65536));
    new Rng(23).fill(bytes);
    const counts = new Array<number>(256).fill(0);
    for (const b of bytes) counts[b]++;
    expect(counts.every((c) => c > 0)).toBe(true);
    // 255 degrees of freedom: mean 255, sd ~22.6; 400 is > 6 sd away.
    expect(chiSquare(counts, bytes.length)).toBeLessThan(400);
  });

  it('different seeds fill differently', () => {
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    new Rng(1).fill(a);
    new Rng(2).fill(b);
    expect(a).not.toEqual(b);
  });
});
