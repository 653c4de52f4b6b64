/**
 * Access patterns: which guest page a vCPU writes next. Pure logic; the caller owns the Rng and
 * calls `next()` in its hot loop, so no generator allocates per call.
 */
import type { Rng } from './rng.ts';

export type PatternName = 'idle' | 'uniform' | 'hotset' | 'zipf' | 'sequential';

export const PATTERN_NAMES: readonly PatternName[] = Object.freeze([
  'idle',
  'uniform',
  'hotset',
  'zipf',
  'sequential',
] as const);

export interface PatternSpec {
  pattern: PatternName;
  /** Pages in the guest, integer in [1, 2^32]. */
  totalPages: number;
  /** hotset: size of the hot set (1..totalPages); pages [0, workingSetPages) are hot. */
  workingSetPages: number;
  /** hotset: probability in [0,1] that a write goes to the hot set (else uniform over ALL pages). */
  hotFraction: number;
  /** zipf: exponent s > 0 (s = 1 works). */
  zipfExponent: number;
}

export interface PageGenerator {
  /** A page index in [0, totalPages). */
  next(): number;
}

const MAX_PAGES = 4294967296; // 2^32
const STRIDE_SEED = 2654435761; // Knuth's multiplicative-hash constant, floor(2^32 / golden ratio)

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** (a * b) mod n, exactly, for integers 0 <= a, b < n <= 2^32. No allocation; every step stays < 2^53. */
function mulMod(a: number, b: number, n: number): number {
  const bHi = Math.floor(b / 65536); // < 2^16
  const bLo = b - bHi * 65536; // < 2^16
  // a*bHi < 2^48; ((a*bHi) mod n) * 2^16 < 2^48; a*bLo < 2^48: the sum is < 2^49, exact in a double.
  return (((a * bHi) % n) * 65536 + a * bLo) % n;
}

/**
 * The stride of the zipf rank-to-page permutation for a guest of `totalPages` pages: starts at
 * 2654435761 mod totalPages (at least 1) and increments until it is coprime with totalPages,
 * so rank k -> ((k - 1) * stride) mod totalPages is a bijection of [1, N] onto [0, N).
 */
export function zipfStride(totalPages: number): number {
  checkTotalPages(totalPages);
  let stride = STRIDE_SEED % totalPages;
  if (stride < 1) stride = 1;
  while (gcd(stride, totalPages) !== 1) stride++;
  return stride;
}

/** The page that zipf rank `rank` (1 = most frequent, up to totalPages) lands on. */
export function zipfPageOfRank(totalPages: number, rank: number): number {
  const stride = zipfStride(totalPages);
  if (!Number.isInteger(rank) || rank < 1 || rank > totalPages) {
    throw new RangeError(`zipf rank must be an integer in [1, ${totalPages}], got ${String(rank)}`);
  }
  return mulMod(rank - 1, stride, totalPages);
}

function checkTotalPages(totalPages: number): void {
  if (!Number.isInteger(totalPages) || totalPages < 1 || totalPages > MAX_PAGES) {
    throw new RangeError(`totalPages must be an integer in [1, 2^32], got ${String(totalPages)}`);
  }
}

class UniformGenerator implements PageGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly totalPages: number,
  ) {}
  next(): number {
    return this.rng.nextInt(this.totalPages);
  }
}

class HotsetGenerator implements PageGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly totalPages: number,
    private readonly hotPages: number,
    private readonly hotFraction: number,
  ) {}
  next(): number {
    const rng = this.rng;
    return rng.nextFloat() < this.hotFraction ? rng.nextInt(this.hotPages) : rng.nextInt(this.totalPages);
  }
}

/** log1p(x) / x, continuous at x = 0 (Taylor series near 0). */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** expm1(x) / x, continuous at x = 0 (Taylor series near 0). */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}

/**
 * Zipf over ranks [1, N], P(k) ∝ k^-s, by rejection-inversion (W. Hörmann, G. Derflinger,
 * "Rejection-inversion to generate variates from monotone discrete distributions", ACM TOMACS 6(3),
 * 1996), in the formulation of Apache Commons RNG's RejectionInversionZipfSampler:
 *
 *   h(x) = x^-s, H(x) = ((x^(1-s)) - 1) / (1 - s)  (→ log x as s → 1; written with expm1/log1p helpers)
 *   draw u uniform in (H(1.5) - 1, H(N + 0.5)], x = H^-1(u), k = round(x) clamped to [1, N];
 *   accept if k - x <= s' (a precomputed squeeze) or u >= H(k + 0.5) - h(k), else retry.
 *
 * Expected iterations per sample are bounded by a small constant for every s > 0 and N, so each
 * call is O(1). Uses 53-bit uniforms so large guests keep resolution in the tail. Rank k is mapped
 * to page ((k - 1) * stride) mod N (see zipfStride) so hot pages are spread over memory.
 */
class ZipfGenerator implements PageGenerator {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly squeeze: number;
  private readonly stride: number;

  constructor(
    private readonly rng: Rng,
    private readonly totalPages: number,
    private readonly exponent: number,
  ) {
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(totalPages + 0.5);
    this.squeeze = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
    this.stride = zipfStride(totalPages);
  }

  /** A rank in [1, totalPages]. */
  nextRank(): number {
    const n = this.totalPages;
    const hX1 = this.hIntegralX1;
    const hN = this.hIntegralN;
    for (;;) {
      // u is uniform in (hIntegralX1, hIntegralN].
      const u = hN + this.rng.nextDouble() * (hX1 - hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= this.squeeze || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  next(): number {
    return mulMod(this.nextRank() - 1, this.stride, this.totalPages);
  }

  /** H(x) = (x^(1-s) - 1) / (1 - s), or log x for s = 1. */
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.exponent) * logX) * logX;
  }

  /** h(x) = x^-s. */
  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x));
  }

  /** H^-1(x) = (1 + x (1 - s))^(1 / (1 - s)), or e^x for s = 1. */
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.exponent);
    if (t < -1) t = -1; // rounding can push t just below -1
    return Math.exp(helper1(t) * x);
  }
}

/**
 * Sweeps [start, end) in order and wraps to start, like QEMU guestperf's stress program walking its
 * thread's share of RAM.
 */
class SequentialGenerator implements PageGenerator {
  private pos: number;
  constructor(
    private readonly start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }
  next(): number {
    const page = this.pos;
    const following = page + 1;
    this.pos = following === this.end ? this.start : following;
    return page;
  }
}

/** floor(a * b / c) exactly for non-negative integers with a * b < 2^53. */
function floorMulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  let q = Math.floor(p / c);
  if (q * c > p) q--;
  else if ((q + 1) * c <= p) q++;
  return q;
}

/** The slice [start, end) of pages that vCPU `vcpuIndex` of `vcpuCount` sweeps in the sequential pattern (may be empty). */
export function sequentialSlice(totalPages: number, vcpuIndex: number, vcpuCount: number): { start: number; end: number } {
  return {
    start: floorMulDiv(vcpuIndex, totalPages, vcpuCount),
    end: floorMulDiv(vcpuIndex + 1, totalPages, vcpuCount),
  };
}

function checkSpec(spec: PatternSpec, vcpuIndex: number, vcpuCount: number): void {
  if (!PATTERN_NAMES.includes(spec.pattern)) {
    throw new RangeError(`pattern must be one of ${PATTERN_NAMES.join(', ')}, got ${String(spec.pattern)}`);
  }
  checkTotalPages(spec.totalPages);
  if (!Number.isInteger(vcpuCount) || vcpuCount < 1) {
    throw new RangeError(`vcpuCount must be an integer >= 1, got ${String(vcpuCount)}`);
  }
  if (!Number.isInteger(vcpuIndex) || vcpuIndex < 0 || vcpuIndex >= vcpuCount) {
    throw new RangeError(`vcpuIndex must be an integer in [0, ${vcpuCount}), got ${String(vcpuIndex)}`);
  }
  if (spec.pattern === 'hotset') {
    const w = spec.workingSetPages;
    if (!Number.isInteger(w) || w < 1 || w > spec.totalPages) {
      throw new RangeError(`workingSetPages must be an integer in [1, ${spec.totalPages}], got ${String(w)}`);
    }
    const f = spec.hotFraction;
    if (typeof f !== 'number' || !(f >= 0 && f <= 1)) {
      throw new RangeError(`hotFraction must be a number in [0, 1], got ${String(f)}`);
    }
  }
  if (spec.pattern === 'zipf') {
    const s = spec.zipfExponent;
    if (typeof s !== 'number' || !Number.isFinite(s) || !(s > 0)) {
      throw new RangeError(`zipfExponent must be a finite number > 0, got ${String(s)}`);
    }
  }
}

/**
 * One generator per vCPU. Returns null for 'idle' (it never writes). Throws RangeError for an
 * invalid spec or vCPU index (only the fields the pattern uses are checked).
 */
export function createPageGenerator(
  spec: PatternSpec,
  vcpuIndex: number,
  vcpuCount: number,
  rng: Rng,
): PageGenerator | null {
  checkSpec(spec, vcpuIndex, vcpuCount);
  const n = spec.totalPages;
  switch (spec.pattern) {
    case 'idle':
      return null;
    case 'uniform':
      return new UniformGenerator(rng, n);
    case 'hotset':
      return new HotsetGenerator(rng, n, spec.workingSetPages, spec.hotFraction);
    case 'zipf':
      return new ZipfGenerator(rng, n, spec.zipfExponent);
    case 'sequential': {
      const { start, end } = sequentialSlice(n, vcpuIndex, vcpuCount);
      return start < end ? new SequentialGenerator(start, end) : new SequentialGenerator(0, n);
    }
  }
}
