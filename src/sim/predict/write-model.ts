/**
 * The write model: page classes, the rate at which writes land on each, and how many distinct pages they
 * leave dirty after t seconds (expected values).
 *  - overlap (uniform, hotset, zipf): writes are independent draws; a page of class c written at
 *    r_c writes/s is dirty after t seconds with probability 1 − e^{−r_c t}, so N uniform pages under
 *    w writes/s leave N(1 − e^{−w t / N}) distinct dirty pages. Pages already pending (the leftover)
 *    absorb writes without growing the pending set (pending-set.ts).
 *  - working set (hotset): two classes, hot pages [0, W) at hotFraction·w/W + (1−hotFraction)·w/N
 *    writes/s each and cold pages at (1−hotFraction)·w/N; a round's dirty set is at most the hot set
 *    plus the cold writes. If the hot set's steady dirty set is above V_thd, plain pre-copy never
 *    converges.
 *  - zipf: the exact distinct-page expectation Σ_k 1 − (1 − p_k)^{w t} ≈ Σ_k 1 − e^{−p_k w t} with
 *    p_k = k^{−s}/H_{N,s}, over rank buckets: ranks 1…16 one by one, then geometric buckets (×1.25),
 *    each bucket at its mean probability (its Σ k^{−s} by the midpoint integral). Ranks are spread
 *    over memory by the engine's stride permutation, so every segment holds every bucket pro rata.
 *  - sequential: each vCPU sweeps its slice in order at w/vCPUs pages/s, so the distinct set after t is
 *    min(slice, w·t/vCPUs) per vCPU (min(N, w·t) in all), written as exact intervals: no overlap until
 *    a sweep wraps. The no-overlap regime of DESIGN §6.
 *  - idle dirties nothing.
 * Pure.
 */
import type { Scenario } from '../../options.ts';
import { sequentialSlice } from '../../workload/patterns.ts';

/** A region of memory with one class mix (hotset: hot [0, W) and cold [W, N); others: one region). */
export interface Region {
  start: number;
  end: number;
  /** share of the region's pages in each class */
  mix: Float64Array;
}

export interface WriteModel {
  kind: 'none' | 'random' | 'sequential';
  /** random: writes/s that land on each page of a class */
  ratePerPage: Float64Array;
  /** pages of each class in the guest */
  classPages: Float64Array;
  regions: Region[];
  /** sequential: vCPU slices and their pages/s */
  slices: { start: number; end: number }[];
  sliceRate: number;
}

const FIRST_SINGLE_RANKS = 16;
const RANK_BUCKET_RATIO = 1.25;

/** Σ_{k=a}^{b-1} k^{-s}: exact for small ranks, the midpoint integral ∫_{a-½}^{b-½} x^{-s} dx beyond. */
function powerSum(a: number, b: number, s: number): number {
  if (b - a <= 4 && b <= 64) {
    let sum = 0;
    for (let k = a; k < b; k++) sum += k ** -s;
    return sum;
  }
  const lo = a - 0.5;
  const hi = b - 0.5;
  return Math.abs(s - 1) < 1e-12 ? Math.log(hi / lo) : (hi ** (1 - s) - lo ** (1 - s)) / (1 - s);
}

/** The last few guests' buckets: a prediction asks twice (the write model, the half-writes working set), a sweep many times. */
const bucketMemo = new Map<string, { pages: number[]; weight: number[] }>();
const BUCKET_MEMO_SIZE = 8;

/** Rank buckets of a zipf of exponent `s` over `N` pages: pages per bucket and each bucket's share of the writes (`fit` uses them too). */
export function zipfBuckets(N: number, s: number): { pages: number[]; weight: number[] } {
  const key = `${N}:${s}`;
  const hit = bucketMemo.get(key);
  if (hit) return hit;
  const made = makeZipfBuckets(N, s);
  if (bucketMemo.size >= BUCKET_MEMO_SIZE) bucketMemo.delete(bucketMemo.keys().next().value!);
  bucketMemo.set(key, made);
  return made;
}

function makeZipfBuckets(N: number, s: number): { pages: number[]; weight: number[] } {
  const pages: number[] = [];
  const weight: number[] = [];
  let a = 1;
  while (a <= N) {
    const b = a <= FIRST_SINGLE_RANKS ? a + 1 : Math.min(N + 1, Math.max(a + 1, Math.floor(a * RANK_BUCKET_RATIO)));
    pages.push(b - a);
    weight.push(powerSum(a, b, s));
    a = b;
  }
  const total = weight.reduce((x, y) => x + y, 0);
  return { pages, weight: weight.map((w) => w / total) };
}

export function writeModel(s: Scenario, N: number): WriteModel {
  const w = s.workload.dirtyRate;
  const one = (pages: number, rate: number): WriteModel => ({
    kind: rate > 0 ? 'random' : 'none',
    ratePerPage: Float64Array.of(rate / pages),
    classPages: Float64Array.of(pages),
    regions: [{ start: 0, end: N, mix: Float64Array.of(1) }],
    slices: [],
    sliceRate: 0,
  });
  if (w <= 0 || s.workload.pattern === 'idle') return { ...one(N, 0), kind: 'none' };
  switch (s.workload.pattern) {
    case 'uniform':
      return one(N, w);
    case 'hotset': {
      const W = Math.min(N, Math.max(1, Math.ceil(s.workload.workingSet / s.guest.pageSize)));
      const hf = s.workload.hotFraction;
      if (W >= N) return one(N, w);
      return {
        kind: 'random',
        ratePerPage: Float64Array.of((hf * w) / W + ((1 - hf) * w) / N, ((1 - hf) * w) / N),
        classPages: Float64Array.of(W, N - W),
        regions: [
          { start: 0, end: W, mix: Float64Array.of(1, 0) },
          { start: W, end: N, mix: Float64Array.of(0, 1) },
        ],
        slices: [],
        sliceRate: 0,
      };
    }
    case 'zipf': {
      const b = zipfBuckets(N, s.workload.zipfExponent);
      const k = b.pages.length;
      const ratePerPage = new Float64Array(k);
      const classPages = new Float64Array(k);
      const mix = new Float64Array(k);
      for (let c = 0; c < k; c++) {
        classPages[c] = b.pages[c];
        ratePerPage[c] = (w * b.weight[c]) / b.pages[c];
        mix[c] = b.pages[c] / N;
      }
      return { kind: 'random', ratePerPage, classPages, regions: [{ start: 0, end: N, mix }], slices: [], sliceRate: 0 };
    }
    case 'sequential': {
      const v = s.guest.vcpus;
      const slices: { start: number; end: number }[] = [];
      for (let i = 0; i < v; i++) {
        const sl = sequentialSlice(N, i, v);
        slices.push(sl.start < sl.end ? sl : { start: 0, end: N });
      }
      return { ...one(N, 0), kind: 'sequential', slices, sliceRate: w / v };
    }
  }
  return one(N, 0);
}

/** Expected distinct pages written in `sec` seconds, per class (no regard to what is pending). */
function distinctWritten(m: WriteModel, sec: number, out: Float64Array): number {
  out.fill(0);
  if (m.kind === 'none' || !(sec > 0)) return 0;
  if (m.kind === 'sequential') {
    let d = 0;
    for (const sl of m.slices) d += Math.min(sl.end - sl.start, m.sliceRate * sec);
    out[0] = d;
    return d;
  }
  let d = 0;
  for (let c = 0; c < m.classPages.length; c++) {
    out[c] = m.classPages[c] * -Math.expm1(-m.ratePerPage[c] * sec);
    d += out[c];
  }
  return d;
}

// ---------------------------------------------------------------------------------------------------
// Steady dirty set (DESIGN §6 with overlap): the largest fixed point of V = g(V / R)
// ---------------------------------------------------------------------------------------------------

/** What the steady dirty set depends on (the fluid loop's context has it all). */
export interface SteadyDirtyInput {
  N: number;
  ps: number;
  liveRate: number;
  model: WriteModel;
  dirtyRatePagesPerSec: number;
}
export function steadyDirty(ctx: SteadyDirtyInput): { pages: number; perClass: Float64Array } {
  const per = new Float64Array(ctx.model.classPages.length);
  const lambda = ctx.liveRate === Infinity ? 0 : (ctx.dirtyRatePagesPerSec * ctx.ps) / ctx.liveRate;
  if (!(lambda >= 1)) return { pages: 0, perClass: per };
  let v = ctx.N;
  for (let k = 0; k < 10_000; k++) {
    const next = distinctWritten(ctx.model, (v * ctx.ps) / ctx.liveRate, per);
    const done = Math.abs(next - v) <= 1e-9 * ctx.N;
    v = next;
    if (done) break;
  }
  distinctWritten(ctx.model, (v * ctx.ps) / ctx.liveRate, per);
  return { pages: v, perClass: per };
}

export function halfWritesWorkingSet(s: Scenario, N: number): number {
  if (s.workload.pattern === 'hotset') return Math.min(N, Math.max(1, Math.ceil(s.workload.workingSet / s.guest.pageSize)));
  if (s.workload.pattern !== 'zipf') return N;
  const b = zipfBuckets(N, s.workload.zipfExponent);
  let acc = 0;
  let pages = 0;
  for (let c = 0; c < b.pages.length; c++) {
    const need = 0.5 - acc;
    if (b.weight[c] >= need) return pages + Math.ceil((b.pages[c] * need) / b.weight[c]);
    acc += b.weight[c];
    pages += b.pages[c];
  }
  return N;
}
