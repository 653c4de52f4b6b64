/**
 * Seeded pseudo-random numbers for the workload hot loops.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
 * 128 bits of state held in four 32-bit words s0..s3, period 2^128 - 1. One step:
 *
 *   result = rotl(s1 * 5, 7) * 9            (all mod 2^32)
 *   t = s1 << 9
 *   s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
 *   s2 ^= t;  s3 = rotl(s3, 11)
 *
 * Seeding: the state must not be all zero, and a poor seed (0, 1, 2, ...) must still give a
 * well-mixed state, so the four words are the first four outputs of splitmix32 started at the seed:
 *
 *   x += 0x9e3779b9 (golden ratio increment)
 *   z = x; z ^= z >>> 16; z *= 0x21f0aaad; z ^= z >>> 15; z *= 0x735a2d97; z ^= z >>> 15
 *
 * The finaliser (Hash Prospector's low-bias 32-bit mixer) is a bijection, and the four inputs are
 * distinct, so at most one state word can be zero: the state is never all zero.
 *
 * All arithmetic is 32-bit integer arithmetic through Math.imul and `>>> 0`; no call allocates
 * (fill() on a large aligned buffer creates one typed-array view per call, not per byte).
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;
const TWO_POW_MINUS_53 = 1 / 9007199254740992;
const GOLDEN = 0x9e3779b9;

/** True on little-endian hosts: fill() may then write whole 32-bit words through a Uint32Array view. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;

/** The splitmix32 finaliser: a bijective, well-avalanching mix of a 32-bit word. Returns a uint32. */
export function mix32(x: number): number {
  let z = x | 0;
  z ^= z >>> 16;
  z = Math.imul(z, 0x21f0aaad);
  z ^= z >>> 15;
  z = Math.imul(z, 0x735a2d97);
  z ^= z >>> 15;
  return z >>> 0;
}

/**
 * Fold any integer seed (negative, or beyond 32 bits up to ±2^53) into 32 bits. Seeds in
 * [0, 2^32) map to themselves; negative seeds behave like their 64-bit two's complement.
 */
function foldSeed(seed: number, what: string): number {
  if (!Number.isInteger(seed)) {
    throw new RangeError(`${what} must be an integer, got ${String(seed)}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return hi === 0 ? lo : (lo ^ mix32(hi ^ GOLDEN)) >>> 0;
}

export class Rng {
  // State words are kept as int32 (`| 0`) so V8 stores them as small integers, never heap doubles.
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any integer (0 is fine); the same seed always gives the same sequence. */
  constructor(seed: number) {
    let x = foldSeed(seed, 'Rng seed');
    x = (x + GOLDEN) | 0;
    this.s0 = mix32(x) | 0;
    x = (x + GOLDEN) | 0;
    this.s1 = mix32(x) | 0;
    x = (x + GOLDEN) | 0;
    this.s2 = mix32(x) | 0;
    x = (x + GOLDEN) | 0;
    this.s3 = mix32(x) | 0;
  }

  /**
   * A generator with an explicit xoshiro128** state (bypasses splitmix32 seeding). For checking the
   * core against reference vectors; the state must not be all zero.
   */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    if (((s0 | s1 | s2 | s3) >>> 0) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    const rng = new Rng(0);
    rng.s0 = s0 | 0;
    rng.s1 = s1 | 0;
    rng.s2 = s2 | 0;
    rng.s3 = s3 | 0;
    return rng;
  }

  /** The current state words (uint32), e.g. for tests or to checkpoint a stream. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    this.s0 = s0 ^ s3;
    this.s1 = s1 ^ s2;
    this.s2 = s2 ^ (s1 << 9);
    this.s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of randomness (multiples of 2^-32). */
  nextFloat(): number {
    return this.nextU32() * TWO_POW_MINUS_32;
  }

  /** Uniform in [0, 1) with 53 bits of randomness (two nextU32 calls). For fine-grained inversion. */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_POW_MINUS_53;
  }

  /**
   * Uniform integer in [0, n) for integer 1 <= n <= 2^32, without bias.
   * n <= 2^21: Lemire's multiply-high with rejection (x * n < 2^53, so the product is exact).
   * Larger n: rejection from the largest multiple of n below 2^32, then modulo.
   * (Unchecked on the hot path: a non-integer or out-of-range n gives a meaningless result.)
   */
  nextInt(n: number): number {
    if (n <= 2097152) {
      let m = this.nextU32() * n;
      let lo = m % TWO_POW_32;
      if (lo < n) {
        const threshold = (TWO_POW_32 - n) % n; // 2^32 mod n
        while (lo < threshold) {
          m = this.nextU32() * n;
          lo = m % TWO_POW_32;
        }
      }
      return (m - lo) * TWO_POW_MINUS_32;
    }
    if (n >= TWO_POW_32) return this.nextU32();
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // largest multiple of n that is <= 2^32
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /**
   * Fill `bytes` with random bytes. Each nextU32 supplies 4 bytes, least significant first; a
   * trailing 1-3 bytes consume one more nextU32. The output depends only on the seed and the length
   * (not on the buffer's alignment): aligned buffers on little-endian hosts take a word-at-a-time path
   * that writes exactly the same bytes.
   */
  fill(bytes: Uint8Array): void {
    const len = bytes.length;
    const words = len >>> 2;
    let i = 0;
    if (LITTLE_ENDIAN && words >= 16 && (bytes.byteOffset & 3) === 0) {
      const view = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
      for (let w = 0; w < words; w++) view[w] = this.nextU32();
      i = words << 2;
    } else {
      for (; i + 4 <= len; i += 4) {
        const x = this.nextU32();
        bytes[i] = x;
        bytes[i + 1] = x >>> 8;
        bytes[i + 2] = x >>> 16;
        bytes[i + 3] = x >>> 24;
      }
    }
    if (i < len) {
      let x = this.nextU32();
      for (; i < len; i++) {
        bytes[i] = x;
        x >>>= 8;
      }
    }
  }
}

/**
 * Seed of sub-stream `stream` (one per vCPU, or per purpose) of scenario seed `seed`: deterministic,
 * and neighbouring seeds or streams give unrelated values. Two rounds of the splitmix32 mixer:
 * mix32(mix32(seed + golden) ^ (stream * 0x85ebca6b + golden)). Both arguments are integers
 * (folded to 32 bits like the Rng seed); the result is a uint32 suitable for `new Rng(...)`.
 */
export function deriveSeed(seed: number, stream: number): number {
  const s = foldSeed(seed, 'seed');
  const t = foldSeed(stream, 'stream');
  const h = mix32((s + GOLDEN) | 0);
  return mix32(h ^ ((Math.imul(t, 0x85ebca6b) + GOLDEN) | 0));
}
