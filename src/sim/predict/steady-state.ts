/**
 * The fluid loop's steady state, seen from the excess over the switchover threshold after each sync
 * (pending pages − V_thd in pages). Near a steady state the round-to-round recurrence is close to
 * linear, so the excess moves toward its limit geometrically: e_{i+1} − e* = ρ (e_i − e*), and the
 * changes d_i = e_i − e_{i−1} shrink by the same ρ each round. When the last `STEADY_RATIOS` ratios of
 * successive changes all lie within `RATIO_TOLERANCE` of each other, in [0, 0.9], the limit is
 * e* = e + d ρ / (1 − ρ) (Aitken's Δ²), and every per-round figure follows the same geometric tail.
 * A falling excess counts as settled only when even the highest ratio + RATIO_TOLERANCE leaves its limit
 * above 0 (by MARGIN of the excess).
 * A fixed point (changes below 1e-5 of the excess for as many rounds) is ρ = 0.
 * The loop stops iterating when that limit stays above the threshold by a clear margin (`MARGIN` of the
 * excess): the migration never converges, and the rounds up to a limit follow in closed form.
 * Pure.
 */

/** how many successive ratios of changes must agree */
export const STEADY_RATIOS = 6;
const RATIO_TOLERANCE = 0.05;
/** changes below this share of the excess are a fixed point (the runs' and iterations' granularity jitters below it) */
const FIXED_TOLERANCE = 1e-5;
/** the limit must keep at least this share of the current excess (and more than a page) */
const MARGIN = 0.05;
/** a slower approach is left to the loop (its closed-form tail would lean too hard on one ratio) */
const MAX_RHO = 0.9;

/**
 * The geometric ratio ρ of the excess's approach to a limit that stays above the threshold, or null
 * when the last excesses do not show one (too few, oscillating, growing away, or heading below 0).
 */
export function settledAbove(excess: readonly number[]): number | null {
  const n = excess.length;
  if (n < STEADY_RATIOS + 2) return null;
  const e = excess[n - 1];
  if (!(e > 1)) return null;
  const d = (j: number): number => excess[j] - excess[j - 1];
  const tiny = FIXED_TOLERANCE * Math.max(1, Math.abs(e));
  let fixed = true;
  for (let j = n - STEADY_RATIOS; j < n; j++) if (Math.abs(d(j)) > tiny) fixed = false;
  if (fixed) return 0;
  let low = Infinity;
  let high = -Infinity;
  for (let j = n - STEADY_RATIOS; j < n; j++) {
    const prev = d(j - 1);
    if (Math.abs(prev) <= tiny) return null;
    const r = d(j) / prev;
    if (!(r >= 0 && r <= MAX_RHO)) return null;
    low = Math.min(low, r);
    high = Math.max(high, r);
  }
  // all of them within the tolerance (a ratio that drifts, as a Zipf tail's does, is no geometric approach)
  if (high - low > RATIO_TOLERANCE) return null;
  const rho = d(n - 1) / d(n - 2);
  // the limit, and (for a falling excess) the lowest limit the ratios' spread allows: the tail of the
  // fall, d ρ / (1 − ρ), grows fast with ρ
  const last = d(n - 1);
  const rhoHigh = last < 0 ? high + RATIO_TOLERANCE : rho;
  const lowest = e + (last * rhoHigh) / (1 - rhoHigh);
  return lowest > Math.max(1, MARGIN * e) ? rho : null;
}

/**
 * The sum of the next `m` values of a figure that approaches its limit geometrically with ratio ρ,
 * given its last two values (`prev`, `last`): Σ_{j=1..m} (x* − (x* − last) ρ^j), x* = last + (last − prev) ρ / (1 − ρ).
 */
export function geometricTailSum(prev: number, last: number, rho: number, m: number): number {
  const limit = last + ((last - prev) * rho) / (1 - rho);
  return m * limit - ((limit - last) * rho * (1 - rho ** m)) / (1 - rho);
}

/** The limit of that figure (its per-round value in the steady state). */
export function geometricLimit(prev: number, last: number, rho: number): number {
  return last + ((last - prev) * rho) / (1 - rho);
}
