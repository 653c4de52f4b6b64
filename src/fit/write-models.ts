/**
 * The write models `fit` chooses among (issue 17), each as the pages a dirty sync adds, and fitted to the
 * syncs a log shows by weighted least squares of the log counts (the weights of fit.ts's `syncWeight`):
 *  - overlap (fit.ts): `w` uniform writes/s over a working set of `N` pages (migbench's hotset with
 *    hotFraction 1; uniform when N is the guest): N(1 − e^(−w·Δt/N)) distinct pages, less those pending;
 *  - sequential: one sweep over the whole guest at `w` pages/s (migbench's sequential pattern, one vCPU):
 *    w·Δt pages without overlap, at most the pages not pending (it has written all memory then);
 *  - zipf: `w` writes/s over the whole guest, rank k drawn with P(k) ∝ k^(−s) (migbench's zipf): the
 *    distinct pages Σ_k 1 − e^(−p_k·w·Δt), over rank buckets (ranks 1…16 one by one, then ×1.25),
 *    less those pending, which are the pages most likely written (in proportion to how likely each
 *    bucket was written in the interval before); at the bulk round's sync the pending pages are the
 *    unsent end of memory, which holds every bucket pro rata (the ranks are spread over memory).
 * Pure.
 */
import type { SyncEvent } from './sync-event.ts';
import { goldenSectionMin } from './golden-section.ts';
import { zipfBuckets } from '../sim/predict/write-model.ts';

/** The rate search's range, writes/s (as fit.ts's). */
const RATE_MAX = 1e9;

export interface ModelFit {
  readonly w: number;
  /** weighted squared log error */
  readonly error: number;
  /** zipf: the exponent */
  readonly s?: number;
}

/** Weighted squared log error of `model` (pages + 1 so an empty refill counts). */
export function modelError(events: readonly SyncEvent[], weight: (e: SyncEvent) => number, model: (e: SyncEvent) => number): number {
  let e = 0;
  for (const ev of events) {
    const d = Math.log((model(ev) + 1) / (ev.newPages + 1));
    e += weight(ev) * d * d;
  }
  return e;
}

/** Points of the coarse scan that brackets the minimum before the golden section. */
const RATE_SCAN_STEPS = 48;

/**
 * The best w for `errorOf(w)` over [1, RATE_MAX]: a coarse scan on log w brackets the minimum (a
 * saturating model is flat above some rate, where a golden section alone can lose it), then a
 * golden-section search within the bracket.
 */
export function bestRate(errorOf: (w: number) => number): { w: number; error: number } {
  const top = Math.log(RATE_MAX);
  let bestI = 0;
  let bestE = Infinity;
  for (let i = 0; i <= RATE_SCAN_STEPS; i++) {
    const e = errorOf(Math.exp((top * i) / RATE_SCAN_STEPS));
    if (e < bestE) {
      bestE = e;
      bestI = i;
    }
  }
  const { lo, hi } = goldenSectionMin(
    (x) => errorOf(Math.exp(x)),
    (top * Math.max(0, bestI - 1)) / RATE_SCAN_STEPS,
    (top * Math.min(RATE_SCAN_STEPS, bestI + 1)) / RATE_SCAN_STEPS,
    40,
  );
  const w = Math.exp((lo + hi) / 2);
  return { w, error: errorOf(w) };
}

/** Pages a sync adds under one sweep over all `totalPages` at `w` pages/s. */
export function sequentialNewPages(ev: SyncEvent, w: number, totalPages: number): number {
  return Math.min(w * ev.intervalS, Math.max(0, totalPages - ev.leftoverPages));
}

export function fitSequential(events: readonly SyncEvent[], totalPages: number, weight: (e: SyncEvent) => number): ModelFit {
  return bestRate((w) => modelError(events, weight, (e) => sequentialNewPages(e, w, totalPages)));
}

/** Pages a sync adds under a zipf of exponent s over the guest's pages (the buckets for that s). */
export function zipfNewPages(ev: SyncEvent, w: number, buckets: { readonly pages: readonly number[]; readonly weight: readonly number[] }, totalPages: number): number {
  const { pages, weight } = buckets;
  // how likely each bucket's page is pending: the unsent end of memory at the bulk round's sync (every
  // bucket pro rata); else the pages written in the interval before, scaled to the pages pending
  let scale = 0;
  const before = ev.previousIntervalS ?? ev.intervalS;
  if (!ev.bulk) {
    let written = 0;
    for (let c = 0; c < pages.length; c++) written += pages[c] * -Math.expm1((-w * weight[c] * before) / pages[c]);
    scale = written > 0 ? ev.leftoverPages / written : 0;
  }
  let added = 0;
  for (let c = 0; c < pages.length; c++) {
    const rate = (w * weight[c]) / pages[c];
    const pending = ev.bulk ? ev.leftoverPages / totalPages : Math.min(1, scale * -Math.expm1(-rate * before));
    added += pages[c] * -Math.expm1(-rate * ev.intervalS) * (1 - pending);
  }
  return added;
}

/** The exponents tried, log-spaced over [0.05, 4], then refined around the best. */
const EXPONENT_MIN = 0.05;
const EXPONENT_MAX = 4;
const EXPONENT_STEPS = 16;
const EXPONENT_REFINE_STEPS = 20;

/** Fit w and s; or w alone at `fixedExponent`. */
export function fitZipf(events: readonly SyncEvent[], totalPages: number, weight: (e: SyncEvent) => number, fixedExponent?: number): ModelFit & { s: number } {
  let best: ModelFit & { s: number } = { w: 0, error: Infinity, s: 1 };
  const tryS = (s: number): number => {
    const buckets = zipfBuckets(totalPages, s);
    const r = bestRate((w) => modelError(events, weight, (e) => zipfNewPages(e, w, buckets, totalPages)));
    if (r.error < best.error) best = { ...r, s };
    return r.error;
  };
  if (fixedExponent !== undefined) {
    tryS(fixedExponent);
    return best;
  }
  const ratio = EXPONENT_MAX / EXPONENT_MIN;
  for (let i = 0; i <= EXPONENT_STEPS; i++) tryS(EXPONENT_MIN * ratio ** (i / EXPONENT_STEPS));
  // refine: a golden section on log s between the best grid point's neighbours (w follows s closely)
  const step = Math.log(ratio) / EXPONENT_STEPS;
  // tryS keeps the best exponent it is shown: the search only has to show it the right ones
  goldenSectionMin((x) => tryS(Math.exp(x)), Math.max(Math.log(EXPONENT_MIN), Math.log(best.s) - step), Math.min(Math.log(EXPONENT_MAX), Math.log(best.s) + step), EXPONENT_REFINE_STEPS);
  return best;
}

/** One candidate for `chooseModel`: its name, free parameters and rms log error over the syncs. */
export interface Candidate {
  readonly name: string;
  readonly freeParameters: number;
  readonly rms: number;
}

/** rms log error by which another model must beat the overlap model (and by half of its error). */
export const MODEL_MARGIN = 0.005;
/** rms log error within which a model fits the syncs as well as their counts are known (about 0.5 %). */
export const FITS_WITHIN_NOISE = 0.005;

/**
 * Which model the syncs support; candidates[0] is the overlap model, the default. A model with as many
 * free parameters as there are syncs fits them whatever they are, so its error says nothing:
 *  - with more syncs than the overlap model's parameters, another model replaces it only when it fits
 *    clearly better: its rms log error at most half the overlap model's and MODEL_MARGIN below it;
 *  - with too few syncs for the overlap model to be tested, a model with fewer parameters replaces it
 *    when it fits within FITS_WITHIN_NOISE (the lowest such error wins).
 */
export function chooseModel(candidates: readonly Candidate[], syncs: number): { index: number; reason: string } {
  const overlap = candidates[0];
  const tested = (c: Candidate): boolean => syncs > c.freeParameters;
  let index = 0;
  let reason = '';
  if (tested(overlap)) {
    candidates.forEach((c, i) => {
      if (i === 0 || !tested(c)) return;
      const best = candidates[index];
      if (c.rms <= overlap.rms / 2 && c.rms <= overlap.rms - MODEL_MARGIN && c.rms < best.rms) index = i;
    });
    reason = index === 0 ? `no other model fits clearly better (by half its rms log error and ${MODEL_MARGIN} at least)` : `it fits clearly better than the overlap model (rms log error ${candidates[index].rms.toFixed(4)} against ${overlap.rms.toFixed(4)})`;
  } else {
    candidates.forEach((c, i) => {
      if (i === 0 || !tested(c) || c.rms > FITS_WITHIN_NOISE) return;
      if (index === 0 || c.rms < candidates[index].rms) index = i;
    });
    reason =
      index === 0
        ? `${syncs} sync${syncs === 1 ? '' : 's'} cannot test a two-parameter model, and no model with fewer parameters fits within ${FITS_WITHIN_NOISE} rms log error: the overlap model, by default`
        : `${syncs} sync${syncs === 1 ? '' : 's'} cannot test a two-parameter model; this one, with ${candidates[index].freeParameters}, fits them within ${FITS_WITHIN_NOISE} rms log error (${candidates[index].rms.toFixed(4)})`;
  }
  return { index, reason };
}
