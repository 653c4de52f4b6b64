/**
 * Statistics for benchmark samples: pure functions of numbers, with no knowledge of migration.
 *
 * - `summarize`: median with a distribution-free confidence interval (order statistics, as benchstat's
 *   `QuantileCI`), mean, sample standard deviation, min and max.
 * - `mannWhitneyU`: the two-sided Mann–Whitney U (Wilcoxon rank-sum) test, as benchstat's default
 *   `assume=nothing` comparison; values agree with SciPy's `mannwhitneyu(..., alternative='two-sided')`.
 * - `minPossibleP`: the smallest two-sided p a U test of n1 vs n2 samples can give (benchstat `uTestMinP`).
 * - `geomean`: geometric mean of positive values (the closing row of a comparison table).
 *
 * Every result is JSON-friendly: "undefined" quantities are `null`, never NaN or ±Infinity.
 */
import { mean, medianSorted, sampleStandardDeviation } from 'simple-statistics';

/** Descriptive summary of one sample (one benchmark metric on one side). */
export interface Summary {
  n: number;
  median: number;
  /** lower bound of the confidence interval for the median; null when n is too small to reach the level */
  ciLow: number | null;
  /** upper bound of the confidence interval for the median; null when n is too small to reach the level */
  ciHigh: number | null;
  /** the interval's actual confidence (>= the requested level), or null when there is no interval */
  ciLevel: number | null;
  mean: number;
  /** sample standard deviation (n − 1 denominator); null for a single sample */
  sd: number | null;
  min: number;
  max: number;
}

/** 1-based ranks (on sorted data) of an order-statistic confidence interval, and its actual confidence. */
export interface OrderStatisticInterval {
  lo: number;
  hi: number;
  level: number;
}

function checkSample(samples: readonly number[], what: string): void {
  if (samples.length === 0) throw new RangeError(`${what}: expected at least one sample`);
  for (const v of samples) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${what}: samples must be finite numbers, got ${String(v)}`);
  }
}

function checkLevel(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
}

/**
 * The distribution-free confidence interval for the median of n samples: the 1-based order statistics
 * [x_lo, x_hi] with lo = k, hi = n + 1 − k for the largest k whose coverage reaches `confidence`, or null
 * when even [x_1, x_n] does not (n = 5 at 95%: 93.75%).
 *
 * The interval [x_(k), x_(n+1−k)] holds the true median unless fewer than k samples fall below it or fewer
 * than k above it, so its coverage is P(k ≤ B ≤ n − k) with B ~ Binomial(n, 1/2)
 * (benchstat's `QuantileCI` at q = 0.5; the reported level is the actual one, ≥ the requested one).
 * Known values at 95%: n=6 → [1,6] 96.9%; n=10 → [2,9] 97.9%; n=12 → [3,10] 96.1%; n=20 → [6,15] 95.9%.
 */
export function medianCI(n: number, confidence = 0.95): OrderStatisticInterval | null {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  checkLevel(confidence);
  if (n < 2) return null;
  // Binomial(n, 1/2) probabilities in log space (2^-n underflows past n = 1074).
  const logHalfN = -n * Math.LN2;
  let logChoose = 0; // log C(n, 0)
  let below = 0; // P(B ≤ k − 1) for the current k
  let best: OrderStatisticInterval | null = null;
  for (let k = 1; 2 * k <= n; k++) {
    below += Math.exp(logChoose + logHalfN); // add P(B = k − 1)
    logChoose += Math.log((n - (k - 1)) / k); // log C(n, k)
    const level = 1 - 2 * below;
    if (level < confidence) break;
    best = { lo: k, hi: n + 1 - k, level };
  }
  return best;
}

/** Median, order-statistic confidence interval for the median, mean, sd, min and max of a sample. */
export function summarize(samples: readonly number[], confidence = 0.95): Summary {
  checkSample(samples, 'summarize');
  checkLevel(confidence);
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const ci = medianCI(n, confidence);
  return {
    n,
    median: medianSorted(sorted),
    ciLow: ci === null ? null : sorted[ci.lo - 1],
    ciHigh: ci === null ? null : sorted[ci.hi - 1],
    ciLevel: ci === null ? null : ci.level,
    mean: mean(sorted),
    sd: n < 2 ? null : sampleStandardDeviation(sorted),
    min: sorted[0],
    max: sorted[n - 1],
  };
}

// ---------------------------------------------------------------------------
// Mann–Whitney U
// ---------------------------------------------------------------------------

export interface UTestResult {
  /** U of the first sample: the number of (x, y) pairs with x > y, ties counting one half */
  u: number;
  /** two-sided p-value, in [0, 1] */
  p: number;
  /** 'exact': the exact null distribution (no ties, both n ≤ EXACT_U_LIMIT); 'normal': the approximation */
  method: 'exact' | 'normal';
}

/** Largest sample size (each side) for which the exact null distribution is used (when there are no ties). */
export const EXACT_U_LIMIT = 20;

/**
 * Null distribution of U for sample sizes m and n: counts[u] = number of arrangements with U = u,
 * u = 0 … m·n (they sum to C(m+n, m)). Recurrence on the largest of all m+n values: if it belongs to x
 * it beats all n values of y (U gains n, m − 1 left), else it beats none (n − 1 left).
 * Counts stay exact in doubles: C(40, 20) ≈ 1.4e11 < 2^53.
 */
const uCountsMemo = new Map<string, number[]>();
function uCounts(m: number, n: number): number[] {
  if (m === 0 || n === 0) return [1];
  const key = `${m},${n}`;
  const hit = uCountsMemo.get(key);
  if (hit !== undefined) return hit;
  const counts = new Array<number>(m * n + 1).fill(0);
  const xLargest = uCounts(m - 1, n); // shifted by n
  const yLargest = uCounts(m, n - 1);
  for (let u = 0; u < xLargest.length; u++) counts[u + n] += xLargest[u];
  for (let u = 0; u < yLargest.length; u++) counts[u] += yLargest[u];
  uCountsMemo.set(key, counts);
  return counts;
}

/**
 * Complementary error function, Numerical Recipes `erfcc` (Chebyshev fit, fractional error < 1.2e-7
 * everywhere), so that small tail probabilities keep their relative precision.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Two-sided Mann–Whitney U test of x against y.
 *
 * - No ties and both sizes ≤ EXACT_U_LIMIT: the exact null distribution,
 *   p = 2 · P(U ≤ min(U1, U2)), capped at 1.
 * - Otherwise the normal approximation with mid-ranks, tie correction of the variance and a continuity
 *   correction of 0.5: z = (max(U1, U2) − n1·n2/2 − 0.5) / σ, p = 2 · P(Z > z), capped at 1.
 * - All values tied (σ = 0): p = 1.
 * Agrees with SciPy's `mannwhitneyu(x, y, alternative='two-sided')` for the same method.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): UTestResult {
  checkSample(x, 'mannWhitneyU x');
  checkSample(y, 'mannWhitneyU y');
  const n1 = x.length;
  const n2 = y.length;
  const n = n1 + n2;
  const all = [...x.map((v) => ({ v, fromX: true })), ...y.map((v) => ({ v, fromX: false }))].sort((a, b) => a.v - b.v);

  // Mid-ranks (1-based) and tie groups.
  let rankSumX = 0;
  let tieTerm = 0; // Σ (t³ − t) over tie groups
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1].v === all[i].v) j++;
    const t = j - i + 1;
    const midRank = (i + 1 + (j + 1)) / 2;
    for (let k = i; k <= j; k++) if (all[k].fromX) rankSumX += midRank;
    if (t > 1) tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u1 = rankSumX - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;

  if (tieTerm === 0 && n1 <= EXACT_U_LIMIT && n2 <= EXACT_U_LIMIT) {
    const counts = uCounts(n1, n2);
    let total = 0;
    for (const c of counts) total += c;
    const uMin = Math.min(u1, u2); // an integer without ties
    let tail = 0;
    for (let u = 0; u <= uMin; u++) tail += counts[u];
    return { u: u1, p: Math.min(1, (2 * tail) / total), method: 'exact' };
  }

  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u: u1, p: 1, method: 'normal' };
  const z = (Math.max(u1, u2) - mu - 0.5) / Math.sqrt(variance);
  return { u: u1, p: Math.min(1, Math.max(0, 2 * normalSf(z))), method: 'normal' };
}

/**
 * The smallest two-sided p-value a U test of n1 against n2 samples can reach: both samples fully
 * separated, p = 2 / C(n1 + n2, n1) (capped at 1). n=3+3 → 0.1, 4+4 → 0.0286, 5+5 → 0.0079
 * (benchstat `uTestMinP`). If this is ≥ alpha, no difference can ever be called significant.
 */
export function minPossibleP(n1: number, n2: number): number {
  if (!Number.isInteger(n1) || !Number.isInteger(n2) || n1 < 0 || n2 < 0) {
    throw new RangeError(`sample sizes must be non-negative integers, got ${n1} and ${n2}`);
  }
  if (n1 === 0 || n2 === 0) return 1;
  // C(n1 + n2, k) for k = min(n1, n2), as a running product (exact enough; overflows only to Infinity → p 0).
  const k = Math.min(n1, n2);
  const n = n1 + n2;
  let choose = 1;
  for (let i = 1; i <= k; i++) choose = (choose * (n - k + i)) / i;
  return Math.min(1, 2 / choose);
}

/**
 * The smallest number of samples per side (equal sizes) for which a U test can reach p < alpha:
 * 4 at alpha 0.05, 5 at 0.01. For the warning "need >= N samples to detect a difference at alpha".
 */
export function minSamplesForAlpha(alpha: number): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  let n = 1;
  while (minPossibleP(n, n) >= alpha) n++;
  return n;
}

/**
 * Geometric mean of positive finite values (computed through logarithms, so it cannot overflow),
 * or null when `values` is empty or holds a value that is not positive and finite.
 */
export function geomean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sumLog = 0;
  for (const v of values) {
    if (!(v > 0 && Number.isFinite(v))) return null;
    sumLog += Math.log(v);
  }
  return Math.exp(sumLog / values.length);
}
