/**
 * Golden-section search for the minimum of a unimodal function on [lo, hi]: the bracket shrinks by
 * 0.618 per evaluation. Pure; the fit's searches (the rate for a working set, the rate of a write
 * model, the zipf exponent) all run through it.
 */

const INVERSE_PHI = (Math.sqrt(5) - 1) / 2;

/** The bracket [lo, hi] around the minimum of `f` after `iterations` evaluations beyond the first two. */
export function goldenSectionMin(f: (x: number) => number, lo: number, hi: number, iterations: number): { lo: number; hi: number } {
  let a = hi - INVERSE_PHI * (hi - lo);
  let b = lo + INVERSE_PHI * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < iterations; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - INVERSE_PHI * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + INVERSE_PHI * (hi - lo);
      fb = f(b);
    }
  }
  return { lo, hi };
}
