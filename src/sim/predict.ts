/**
 * The analytic predictor (`migbench predict`): what a scenario's pre-copy and quick migration will do,
 * computed at once from the resolved scenario. Pure: no threads, no clock, no I/O, no page contents.
 *
 * Two answers for pre-copy:
 *
 * 1. `closedForm` — DESIGN §6 as written (every write a new page, each round sends all it started with):
 *      V_0 = M, V_i = M·λ^i, λ = D/R, V_thd = R × downtimeLimit, n = ceil(log_λ(V_thd / M)) capped by
 *      precopy.maxRounds, bytes = M(1 − λ^{n+1})/(1 − λ), live time = (bytes − V_n)/R,
 *      downtime = (V_n + device state)/link rate. The reference and the textbook check.
 *
 * 2. The prediction proper (`rounds`, `stats`, `outcome`): an expected-value ("fluid") replay of the
 *    engine's own loop (precopy/loop.ts) round by round, with the overlap and working-set corrections.
 *    Memory is a short list of address segments; each segment holds, per page class, its page count, its
 *    expected pending pages and its expected pending *zero* pages, spread evenly over the segment.
 *      - the policy is the engine's own (`createPolicy` from precopy/policies.ts, `decideOnTime` from
        convergence.ts): no policy code is copied here. QEMU's rule as the engine runs it: a round sends
        runs of pending pages from a wrapping cursor until what is left is <= V_thd (so a round leaves
        ~V_thd unsent, the "leftover", and always sends at least one run); then the dirty log is synced
        into the pending set (leftover ∪ pages written during the round); the loop switches over when the
        pending bytes are 0 or < V_thd, forces a stop after maxRounds, and at the timeout (counted from the
        request, setup included) cancels or forces a stop. Because of the leftover, the excess over V_thd,
        not the pending total, shrinks by ~λ per round, and the switch comes when a round dirties fewer new
        pages than the run granularity left below V_thd: more rounds than n, and a downtime just under the
        limit. Round-based policies (xen, hyperv, …) sync when nothing is left: the model finds the sync
        point of any policy by bisection on `policy.shouldSync`.
      - convergence aids: auto-converge and dirty-limit through the engine's own trigger
        (`AutoConvergeTrigger`), scaling the write rate as the vCPU loop does.
      - runs: a frame carries a run of up to 64 contiguous pending pages (48-byte header; zero pages
 *        ride in it as header bits only, QEMU `duplicate`). A segment with pending density ρ has on
 *        average ρ-runs of length ℓ = (1 − ρ^64)/(1 − ρ) (Bernoulli adjacency, split at 64); a fully
 *        pending segment has runs of exactly 64 from its start.
 *      - time: the live rate is min(maxBandwidth, link); the emulated link is a token bucket that lets a burst of DEFAULT_BURST_MS through ahead of
 *        the rate; a phase starting on an idle link (the live phase, the stop-and-copy after the rate
 *        limit is lifted) ends that much earlier. The switchover threshold uses the configured live rate
 *        (the engine measures it). Before the first 100 ms bandwidth window closes the threshold is 0, so
 *        a bulk round shorter than that sends everything. Latency adds to the downtime once (the end frame).
 *      - overlap (uniform, hotset, zipf): writes are independent draws; a page of class c written at
 *        r_c writes/s is dirty after t seconds with probability 1 − e^{−r_c t}, so N uniform pages under
 *        w writes/s leave N(1 − e^{−w t / N}) distinct dirty pages. Pages already pending (the leftover)
 *        absorb writes without growing the pending set.
 *      - working set (hotset): two classes, hot pages [0, W) at hotFraction·w/W + (1−hotFraction)·w/N
 *        writes/s each and cold pages at (1−hotFraction)·w/N; a round's dirty set is at most the hot set
 *        plus the cold writes. If the hot set's steady dirty set is above V_thd, plain pre-copy never
 *        converges.
 *      - zipf: the exact distinct-page expectation Σ_k 1 − (1 − p_k)^{w t} ≈ Σ_k 1 − e^{−p_k w t} with
 *        p_k = k^{−s}/H_{N,s}, over rank buckets: ranks 1…16 one by one, then geometric buckets (×1.25),
 *        each bucket at its mean probability (its Σ k^{−s} by the midpoint integral). Ranks are spread
 *        over memory by the engine's stride permutation, so every segment holds every bucket pro rata.
 *      - sequential: each vCPU sweeps its slice in order at w/vCPUs pages/s, so the distinct set after t is
 *        min(slice, w·t/vCPUs) per vCPU (min(N, w·t) in all), written as exact intervals: no overlap until
 *        a sweep wraps. The no-overlap regime of DESIGN §6.
 *      - idle dirties nothing; zero pages (guest.fill.zero) stay zero until written: writes during the
        setup (PredictOptions.setupMs) and, within a round, before the cursor reaches a page (on average
        (1 − e^{−r t})/(r t) of a class's zero pages survive a round of t seconds) turn them normal.
 *    When the loop reaches a steady state that never converges (no 1e-6 improvement of the excess over
 *    V_thd in 64 rounds), the rounds up to the limit are extrapolated from the last 64 (`elidedRounds`).
 *
 * Quick migration: pause, save the non-zero pages (+ image records and device state) at the storage rate,
 * hand over, read them back at the same rate: downtime ≈ M'/B_write + handover + M'/B_read.
 *
 * Left out: the engine's per-round costs (dirty sync, event-loop turns, timer granularity),
 * measured-bandwidth noise (which moves V_thd, and so decides the last rounds), vCPU rate jitter, the
 * setup time itself (PredictOptions.setupMs, default 0; 100–500 ms here), the address order of the
 * leftover within a segment, the CPU cost of copying and zero-checking (an "unlimited" link takes no
 * time), fsync, and the randomness of the dirty counts: every count here is an expectation.
 */
import type { AutoConverge, Scenario } from '../options.ts';
import { AutoConvergeTrigger } from '../precopy/aids.ts';
import { decideOnTime, expectedDowntimeMs, switchoverThresholdBytes, type Decision, type Outcome, type StopReason } from '../precopy/convergence.ts';
import { DEFAULT_POLICY_PARAMS, createPolicy, type Policy, type PolicyName, type PolicySettings } from '../precopy/policies.ts';
import { throughput, type MigrationStats, type RoundRecord, type RoundStage } from '../precopy/stats.ts';
import { CHUNK_PAGES, MAPPED_HEADER_RESERVED, RECORD_PREFIX_BYTES, mappedLayout, packControl } from '../quick/image-format.ts';
import { DEVICE_CHUNK_BYTES, HEADER_BYTES, maxRunPages } from '../transport/frame.ts';
import { BandwidthMeter, DEFAULT_BURST_MS } from '../transport/link.ts';
import { align8 } from '../transport/ring.ts';
import { formatBitRate, formatBytes, formatByteRate, formatCount, formatDurationMs } from '../units.ts';
import { sequentialSlice } from '../workload/patterns.ts';

// ---------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------

/** Why plain pre-copy never converges (whatever the limits). */
export type NonConvergence = 'lambda-at-least-1' | 'working-set-above-threshold';

export interface PredictOptions {
  /** the link's burst allowance (ms): the emulated link's token bucket (DEFAULT_BURST_MS); 0 = an ideal link */
  linkBurstMs?: number;
  /** ms from the migration request to the live phase (destination start); not modelled, default 0 */
  setupMs?: number;
}

/** DESIGN §6, literally. */
export interface ClosedForm {
  lambda: number;
  thresholdBytes: number;
  /** live rounds (bulk included) before the stop-and-copy; Infinity when λ >= 1 and nothing caps it */
  n: number;
  /** V_n <= V_thd was reached (false: λ >= 1, or maxRounds capped n) */
  converges: boolean;
  /** V_0 … V_n (V_n goes in the stop-and-copy); empty when n is Infinity */
  roundBytes: number[];
  totalBytes: number;
  liveTimeMs: number;
  downtimeMs: number;
  totalTimeMs: number;
}

export interface PrecopyModelFacts {
  memoryBytes: number;
  pageSizeBytes: number;
  /** rate of the live rounds: min(precopy.maxBandwidth, link.bandwidth) */
  liveRateBytesPerSec: number;
  /** rate of the stop-and-copy (QEMU lifts max-bandwidth there) */
  linkRateBytesPerSec: number;
  /** workload.dirtyRate × pageSize (every write a new page) */
  dirtyRateBytesPerSec: number;
  /** D / R */
  lambda: number;
  /** V_thd = R × downtime limit */
  thresholdBytes: number;
  /** the largest V with V = (distinct pages written in V/R seconds) × pageSize: what a round dirties in the long run; 0 when λ < 1 */
  steadyDirtyBytes: number;
  /** hotset: the hot set's part of steadyDirtyBytes (null for other patterns) */
  steadyHotDirtyBytes: number | null;
  /** hotset: the hot set's size; zipf: ranks that take half the writes; others: the guest */
  workingSetBytes: number;
  zeroPageShare: number;
  linkBurstMs: number;
  /** the convergence policy replayed (precopy.policy) */
  policy: PolicyName;
}

export interface PrecopyPrediction {
  outcome: 'converged' | 'forced-stop' | 'cancelled';
  /** forced-stop: max-rounds | timeout; cancelled: timeout; null when converged */
  reason: StopReason | null;
  /** would the loop converge with no round limit and no timeout? */
  converges: boolean;
  /** why it never converges (null when it does) */
  nonConvergence: NonConvergence | null;
  /** live rounds (bulk included) the loop needs to converge with no limits; null when it never does */
  roundsToConverge: number | null;
  /** one sentence */
  why: string;
  model: PrecopyModelFacts;
  closedForm: ClosedForm;
  /** predicted rounds, as a run records them (expected values, so counts are fractional) */
  rounds: RoundRecord[];
  /** rounds of a non-converging steady state not listed (extrapolated into the totals); they come before the last listed live round */
  elidedRounds: number;
  /** QEMU `query-migrate` names, as a run's `precopy.stats` (setup-time: PredictOptions.setupMs, default 0) */
  stats: MigrationStats;
}

export interface QuickPrediction {
  outcome: 'completed';
  pages: { total: number; normal: number; zero: number };
  /** bytes written to storage and read back (non-zero pages, image records, device state) */
  savedBytes: number;
  restoredBytes: number;
  phases: { pauseMs: number; saveMs: number; fsyncMs: number; handoverMs: number; restoreMs: number; resumeMs: number };
  stats: { status: 'completed'; 'total-time': number; downtime: number };
  storageBandwidthBytesPerSec: number;
  why: string;
}

export interface Prediction {
  scenario: Scenario;
  precopy: PrecopyPrediction;
  quick: QuickPrediction;
}

// ---------------------------------------------------------------------------------------------------
// DESIGN §6 closed form
// ---------------------------------------------------------------------------------------------------

export interface ClosedFormInput {
  memoryBytes: number;
  liveRateBytesPerSec: number;
  linkRateBytesPerSec: number;
  dirtyRateBytesPerSec: number;
  downtimeLimitMs: number;
  maxRounds: number | null;
  deviceStateBytes: number;
}

const msFor = (bytes: number, rate: number): number => (bytes === 0 || rate === Infinity ? 0 : (bytes * 1000) / rate);

export function closedFormPrecopy(i: ClosedFormInput): ClosedForm {
  const M = i.memoryBytes;
  const R = i.liveRateBytesPerSec;
  const lambda = R === Infinity ? 0 : i.dirtyRateBytesPerSec / R;
  const thd = switchoverThresholdBytes(R, i.downtimeLimitMs);
  let n: number;
  let converges = true;
  if (M <= thd) n = 0;
  else if (lambda === 0) n = 1;
  else if (lambda < 1) n = Math.max(0, Math.ceil(Math.log(thd / M) / Math.log(lambda) - 1e-9));
  else {
    n = Infinity;
    converges = false;
  }
  if (i.maxRounds !== null && n > i.maxRounds) {
    n = i.maxRounds;
    converges = false;
  }
  if (n === Infinity) {
    return { lambda, thresholdBytes: thd, n, converges, roundBytes: [], totalBytes: Infinity, liveTimeMs: Infinity, downtimeMs: Infinity, totalTimeMs: Infinity };
  }
  const roundBytes: number[] = [];
  for (let k = 0; k <= n; k++) roundBytes.push(M * lambda ** k);
  const totalBytes = lambda === 1 ? M * (n + 1) : (M * (1 - lambda ** (n + 1))) / (1 - lambda);
  const vn = roundBytes[n];
  const liveTimeMs = msFor(totalBytes - vn, R);
  const downtimeMs = msFor(vn + i.deviceStateBytes, i.linkRateBytesPerSec);
  return { lambda, thresholdBytes: thd, n, converges, roundBytes, totalBytes, liveTimeMs, downtimeMs, totalTimeMs: liveTimeMs + downtimeMs };
}

// ---------------------------------------------------------------------------------------------------
// The write model: page classes and how writes land on them
// ---------------------------------------------------------------------------------------------------

/** A region of memory with one class mix (hotset: hot [0, W) and cold [W, N); others: one region). */
interface Region {
  start: number;
  end: number;
  /** share of the region's pages in each class */
  mix: Float64Array;
}

interface WriteModel {
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

function zipfBuckets(N: number, s: number): { pages: number[]; weight: number[] } {
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

function writeModel(s: Scenario, N: number): WriteModel {
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
// The pending set: address segments
// ---------------------------------------------------------------------------------------------------

/** What a round sent: pages, zero pages among them (in all and per class), frames. */
interface Sent {
  pages: number;
  zero: number;
  runs: number;
  zeroByClass: Float64Array;
}

interface Segment {
  start: number;
  len: number;
  region: number;
  /** pages per class */
  n: Float64Array;
  /** expected pending pages per class */
  p: Float64Array;
  /** expected pending zero pages per class */
  z: Float64Array;
}

const EPS = 1e-9;
const MAX_SEGMENTS = 48;

const sum = (a: Float64Array): number => {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t;
};

class PendingSet {
  segs: Segment[] = [];
  cursor = 0;

  constructor(
    readonly N: number,
    readonly classes: number,
    regions: Region[],
    zeroShare: number,
  ) {
    regions.forEach((r, i) => {
      if (r.end <= r.start) return;
      const len = r.end - r.start;
      const n = r.mix.map((x) => x * len);
      this.segs.push({ start: r.start, len, region: i, n, p: n.slice(), z: n.map((x) => x * zeroShare) });
    });
  }

  clone(): PendingSet {
    const c = Object.create(PendingSet.prototype) as PendingSet;
    Object.assign(c, { N: this.N, classes: this.classes, cursor: this.cursor });
    c.segs = this.segs.map((s) => ({ ...s, n: s.n.slice(), p: s.p.slice(), z: s.z.slice() }));
    return c;
  }

  pending(): number {
    let t = 0;
    for (const s of this.segs) t += sum(s.p);
    return t;
  }

  /** Index of the segment that starts at `at` (splitting one if needed); segs.length at the end. */
  boundaryAt(at: number): number {
    if (at <= 0 || at >= this.N) return at <= 0 ? 0 : this.segs.length;
    for (let i = 0; i < this.segs.length; i++) {
      const s = this.segs[i];
      if (Math.abs(s.start - at) < EPS) return i;
      if (at > s.start && at < s.start + s.len) {
        if (at - s.start < EPS) return i;
        if (s.start + s.len - at < EPS) return i + 1;
        const f = (at - s.start) / s.len;
        const left: Segment = { start: s.start, len: at - s.start, region: s.region, n: s.n.map((x) => x * f), p: s.p.map((x) => x * f), z: s.z.map((x) => x * f) };
        const right: Segment = { start: at, len: s.start + s.len - at, region: s.region, n: s.n.map((x) => x * (1 - f)), p: s.p.map((x) => x * (1 - f)), z: s.z.map((x) => x * (1 - f)) };
        this.segs.splice(i, 1, left, right);
        return i + 1;
      }
    }
    return this.segs.length;
  }

  /**
   * Send runs of pending pages from the cursor (wrapping) until `target` pages have gone, rounded up
   * to whole runs in the segment where the target is reached (the engine stops after the run that
   * crosses the threshold). Clears what was sent; moves the cursor. `target` <= 0 sends nothing.
   */
  send(target: number, maxRun: number): Sent {
    const out: Sent = { pages: 0, zero: 0, runs: 0, zeroByClass: new Float64Array(this.classes) };
    if (target <= EPS) return out;
    let i = this.boundaryAt(this.cursor) % Math.max(1, this.segs.length);
    for (let steps = 0; steps <= this.segs.length + 1; steps++) {
      if (i >= this.segs.length) i = 0;
      const s = this.segs[i];
      const P = sum(s.p);
      if (P > EPS) {
        const rho = Math.min(1, P / s.len);
        const need = target - out.pages;
        const dense = rho >= 1 - 1e-12;
        const ell = dense ? maxRun : (1 - rho ** maxRun) / (1 - rho);
        const runs = Math.ceil(need / ell - 1e-9);
        const take = Math.min(P, runs * ell);
        if (take >= P - EPS) {
          out.runs += dense ? Math.ceil(s.len / maxRun - 1e-9) : (P * (1 - rho)) / (1 - rho ** maxRun);
          out.pages += P;
          out.zero += sum(s.z);
          for (let c = 0; c < s.z.length; c++) out.zeroByClass[c] += s.z[c];
          s.p.fill(0);
          s.z.fill(0);
          this.cursor = (s.start + s.len) % this.N;
          if (out.pages >= target - EPS) return out;
        } else {
          const at = s.start + (s.len * take) / P;
          out.runs += runs;
          const f = take / P;
          out.pages += take;
          out.zero += sum(s.z) * f;
          for (let c = 0; c < s.z.length; c++) out.zeroByClass[c] += s.z[c] * f;
          this.boundaryAt(at);
          const left = this.segs[i];
          left.p.fill(0);
          left.z.fill(0);
          this.cursor = at % this.N;
          return out;
        }
      }
      i++;
    }
    return out;
  }

  /** Apply `sec` seconds of writes; returns the distinct pages written (what the dirty log holds). */
  write(m: WriteModel, sec: number, seqPos: number[]): number {
    if (m.kind === 'none' || !(sec > 0)) return 0;
    if (m.kind === 'random') {
      let d = 0;
      const q = m.ratePerPage.map((r) => -Math.expm1(-r * sec));
      for (const s of this.segs) {
        for (let c = 0; c < q.length; c++) {
          if (s.n[c] === 0) continue;
          d += s.n[c] * q[c];
          s.p[c] += (s.n[c] - s.p[c]) * q[c];
          s.z[c] *= 1 - q[c];
        }
      }
      return d;
    }
    // sequential: each vCPU's writer covers an interval of its slice (wrapping)
    let d = 0;
    m.slices.forEach((sl, k) => {
      const size = sl.end - sl.start;
      const len = Math.min(size, m.sliceRate * sec);
      d += len;
      const from = seqPos[k];
      const end = from + len;
      if (end <= sl.end) this.fill(from, end);
      else {
        this.fill(from, sl.end);
        this.fill(sl.start, Math.min(sl.start + (end - sl.end), from));
      }
      seqPos[k] = end <= sl.end ? end : sl.start + ((end - sl.start) % size);
      if (seqPos[k] >= sl.end) seqPos[k] = sl.start;
    });
    return d;
  }

  /** Mark [a, b) pending and non-zero (written). */
  private fill(a: number, b: number): void {
    if (b - a <= EPS) return;
    const i = this.boundaryAt(a);
    const j = this.boundaryAt(b);
    for (let k = i; k < j; k++) {
      const s = this.segs[k];
      s.p.set(s.n);
      s.z.fill(0);
    }
  }

  /** Merge neighbours of one region and equal density; then cap the count by merging the closest pairs. */
  normalize(): void {
    const density = (s: Segment): number => sum(s.p) / s.len;
    const mergeable = (a: Segment, b: Segment): boolean => a.region === b.region && Math.abs(a.start + a.len - b.start) < EPS;
    const merge = (k: number): void => {
      const a = this.segs[k];
      const b = this.segs[k + 1];
      for (let c = 0; c < a.n.length; c++) {
        a.n[c] += b.n[c];
        a.p[c] += b.p[c];
        a.z[c] += b.z[c];
      }
      a.len += b.len;
      this.segs.splice(k + 1, 1);
    };
    for (let k = 0; k < this.segs.length - 1; ) {
      const a = this.segs[k];
      const b = this.segs[k + 1];
      if (mergeable(a, b) && Math.abs(density(a) - density(b)) < 1e-12) merge(k);
      else k++;
    }
    while (this.segs.length > MAX_SEGMENTS) {
      let best = -1;
      let cost = Infinity;
      for (let k = 0; k < this.segs.length - 1; k++) {
        const a = this.segs[k];
        const b = this.segs[k + 1];
        if (!mergeable(a, b)) continue;
        const c = Math.abs(density(a) - density(b)) * Math.min(a.len, b.len);
        if (c < cost) {
          cost = c;
          best = k;
        }
      }
      if (best < 0) break;
      merge(best);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The loop, replayed in expectation
// ---------------------------------------------------------------------------------------------------

interface Ctx {
  N: number;
  ps: number;
  maxRun: number;
  liveRate: number;
  linkRate: number;
  burstMs: number;
  latencyMs: number;
  deviceStateBytes: number;
  zeroShare: number;
  model: WriteModel;
  /** page writes/s asked of all vCPUs (0 when idle) */
  dirtyRatePagesPerSec: number;
  vcpus: number;
  autoConverge: AutoConverge | null;
  /** page writes/s per vCPU once the dirty limit is armed, or null */
  dirtyLimitPagesPerSec: number | null;
  /** ms before the live phase starts (counted in total time and by the timeout) */
  setupMs: number;
}

interface Totals {
  pages: number;
  zero: number;
  normal: number;
  bytes: number;
}

interface SimResult {
  decision: Decision;
  rounds: RoundRecord[];
  elidedRounds: number;
  liveRounds: number;
  syncs: number;
  liveDirtyFound: number;
  lastSyncMs: number;
  precopyBytes: number;
  downtimeBytes: number;
  total: Totals;
  remainingPages: number;
  downtimeMs: number | null;
  totalTimeMs: number;
  expectedDowntimeMs: number;
  /** the loop settled in a steady state that never converges (only when detection is on) */
  stuck: boolean;
}

const STUCK_WINDOW = 64;
const MAX_ITERATIONS = 100_000;

/** The aids are off at the start: the guest writes at full rate. */
function slowdownAtStart(ctx: Ctx): number {
  return ctx.dirtyRatePagesPerSec > 0 ? 1 : 0;
}

/** ms at which the live phase has committed `bytes` (the token bucket lets `burstMs` through ahead). */
function commitMs(ctx: Ctx, bytes: number, notBefore: number): number {
  if (ctx.liveRate === Infinity) return notBefore;
  return Math.max(notBefore, ctx.setupMs + (bytes * 1000) / ctx.liveRate - ctx.burstMs);
}

function deviceStateWireBytes(bytes: number): number {
  let wire = 0;
  for (let off = 0; off < bytes; off += DEVICE_CHUNK_BYTES) wire += align8(HEADER_BYTES + Math.min(DEVICE_CHUNK_BYTES, bytes - off));
  return wire;
}

/**
 * The most pages that may still be pending when the policy syncs: the largest r in [0, P] with
 * `policy.shouldSync(r × pageSize, bandwidth)` (it is true at 0 and monotone). QEMU: the threshold;
 * round-based policies: 0.
 */
function syncPoint(policy: Policy, pending: number, ps: number, bandwidth: number): number {
  if (policy.shouldSync(pending * ps, bandwidth)) return pending;
  if (!policy.shouldSync(0, bandwidth)) return 0;
  let lo = 0;
  let hi = pending;
  for (let k = 0; k < 80 && hi - lo > 1e-9 * Math.max(1, pending); k++) {
    const mid = (lo + hi) / 2;
    if (policy.shouldSync(mid * ps, bandwidth)) lo = mid;
    else hi = mid;
  }
  return lo;
}


function simulate(ctx: Ctx, settings: PolicySettings, options: { record: boolean; detectStuck: boolean; jump: boolean }): SimResult {
  const { ps, maxRun, model } = ctx;
  const policy = createPolicy(settings);
  const set = new PendingSet(ctx.N, model.classPages.length, model.regions, ctx.zeroShare);
  const seqPos = model.slices.map((s) => s.start);
  const rounds: RoundRecord[] = [];
  const total: Totals = { pages: 0, zero: 0, normal: 0, bytes: 0 };
  const pageBytes = (s: Sent): number => (s.pages - s.zero) * ps + s.runs * HEADER_BYTES;
  const R = ctx.liveRate;
  const w = ctx.dirtyRatePagesPerSec;

  // Convergence aids: the engine's own trigger, fed with the model's syncs.
  const trigger = ctx.autoConverge || ctx.dirtyLimitPagesPerSec !== null ? new AutoConvergeTrigger(ctx.autoConverge, 0) : null;
  let throttle = 0;
  let limitArmed = false;
  /** achieved ÷ asked page writes under the aids */
  const slowdown = (): number => {
    if (w <= 0) return 0;
    const per = (w / ctx.vcpus) * (1 - throttle / 100);
    return (Math.min(per, limitArmed && ctx.dirtyLimitPagesPerSec !== null ? ctx.dirtyLimitPagesPerSec : Infinity) * ctx.vcpus) / w;
  };

  let t = ctx.setupMs; // ms since the start; the live phase starts after the setup
  // The vCPUs run during the setup too: their writes turn zero pages into normal ones before the bulk
  // round (the dirty log is cleared at the start of the live phase, so they are not dirty).
  if (ctx.setupMs > 0) set.write(model, (ctx.setupMs / 1000) * slowdownAtStart(ctx), seqPos);
  let liveBytes = 0;
  let liveRounds = 0;
  let syncs = 0;
  let liveDirtyFound = 0;
  let lastSyncMs = ctx.setupMs;
  let elided = 0;
  let lastExpected = 0;
  let prevSent: number | null = null;
  let decision: Decision = { action: 'continue' };
  let bestExcess = Infinity;
  let lastImprovement = 0;
  let jumped = false;
  const recent: { ms: number; bytes: number; pages: number; zero: number; dirty: number }[] = [];
  let stage: RoundStage = 'bulk';

  const thresholdAt = (roundBandwidth: number): number => policy.thresholdBytes({ bandwidthBytesPerSec: R, roundBandwidthBytesPerSec: roundBandwidth, pageSizeBytes: ps });
  const record = (startMs: number, endMs: number, send: Sent, bytes: number, dirty: number, pending: number, expected: number, threshold: number, factor: number): void => {
    if (!options.record) return;
    const dur = endMs - startMs;
    rounds.push({
      round: rounds.length + elided,
      stage,
      startMs,
      durationMs: dur,
      dirtyPages: dirty,
      pendingPages: pending,
      sentPages: send.pages,
      zeroPages: send.zero,
      normalPages: send.pages - send.zero,
      bytes,
      bandwidthBytesPerSec: dur > 0 ? (bytes * 1000) / dur : 0,
      dirtyRatePagesPerSec: w * factor,
      expectedDowntimeMs: expected,
      thresholdBytes: threshold,
      throttlePercent: throttle,
      guestSlowdown: w > 0 && dur > 0 ? factor : null,
    });
  };
  const account = (send: Sent, bytes: number): void => {
    total.pages += send.pages;
    total.zero += send.zero;
    total.bytes += bytes;
  };

  for (let iter = 0; ; iter++) {
    const P = set.pending();
    // How far this round sends: until the policy would sync. The bandwidth reads 0 until the first
    // 100 ms window closes, so a bulk round sends at least what goes out in that window.
    let target = P <= EPS ? 0 : Math.max(P - syncPoint(policy, P, ps, R), EPS);
    if (stage === 'bulk' && P > EPS) {
      const unmeasured = P - syncPoint(policy, P, ps, 0);
      const windowPages = R === Infinity ? Infinity : (((BandwidthMeter.WINDOW_MS + ctx.burstMs) / 1000) * R) / ((1 - ctx.zeroShare) * ps + HEADER_BYTES / maxRun);
      target = Math.max(target, Math.min(unmeasured, windowPages));
    }
    const factor = slowdown();
    // keep the state to redo the round if it may reach the timeout (the bound: every pending page in its own frame)
    const mayTimeOut = decideOnTime(settings, commitMs(ctx, liveBytes + P * (ps + HEADER_BYTES), t)).action !== 'continue';
    const before = mayTimeOut ? set.clone() : null;
    let send = set.send(target, maxRun);
    let bytes = pageBytes(send);
    let end = commitMs(ctx, liveBytes + bytes, t);
    if (model.kind === 'random' && send.zero > 0) {
      // A zero page written before the cursor reaches it goes as a normal page. Pages are sent evenly
      // over the round, so a page of class c is still zero when sent with probability
      // (1 − e^{−r t}) / (r t) on average. (Sequential sweeps trail the cursor while λ < 1: no loss.)
      for (let pass = 0; pass < 2; pass++) {
        const sec = ((end - t) / 1000) * factor;
        let zero = 0;
        for (let c = 0; c < send.zeroByClass.length; c++) {
          const x = model.ratePerPage[c] * sec;
          zero += send.zeroByClass[c] * (x > 1e-12 ? -Math.expm1(-x) / x : 1);
        }
        send = { ...send, zero };
        bytes = pageBytes(send);
        end = commitMs(ctx, liveBytes + bytes, t);
      }
    }

    // The engine checks the timeout before every batch and before the sync: a round that would end at
    // or after it is cut there.
    const onTime = decideOnTime(settings, end);
    if (onTime.action !== 'continue' && before) {
      const cutBytes = R === Infinity ? 0 : Math.max(0, ((settings.timeoutMs - ctx.setupMs + ctx.burstMs) / 1000) * R - liveBytes);
      set.segs = before.segs;
      set.cursor = before.cursor;
      send = set.send(bytes > 0 ? send.pages * Math.min(1, cutBytes / bytes) : 0, maxRun);
      bytes = pageBytes(send);
      end = Math.max(t, settings.timeoutMs);
      decision = onTime;
      liveBytes += bytes;
      account(send, bytes);
      const remaining = set.pending();
      lastExpected = expectedDowntimeMs(remaining * ps, R);
      // the engine closes the open round without a sync: nothing found, the migration bitmap pending
      record(t, end, send, bytes, 0, remaining, lastExpected, thresholdAt(R), factor);
      const dirty = set.write(model, ((end - t) / 1000) * factor, seqPos);
      t = end;
      if (decision.action === 'cancel') return finish(remaining, false);
      return stopAndCopy(dirty);
    }

    liveBytes += bytes;
    account(send, bytes);
    const dirty = set.write(model, ((end - t) / 1000) * factor, seqPos);
    set.normalize();
    syncs++;
    liveRounds++;
    liveDirtyFound += dirty;
    lastSyncMs = end;
    const pending = set.pending();
    const dur = end - t;
    const roundBandwidth = dur > 0 ? (bytes * 1000) / dur : bytes > 0 ? Infinity : 0;
    const threshold = thresholdAt(roundBandwidth);
    lastExpected = expectedDowntimeMs(pending * ps, R);
    record(t, end, send, bytes, dirty, pending, lastExpected, threshold, factor);
    recent.push({ ms: dur, bytes, pages: send.pages, zero: send.zero, dirty });
    if (recent.length > STUCK_WINDOW) recent.shift();
    t = end;
    if (trigger?.onSync(end, dirty * ps, total.bytes)) {
      if (ctx.dirtyLimitPagesPerSec !== null) limitArmed = true;
      else if (ctx.autoConverge) throttle = throttle === 0 ? ctx.autoConverge.initial : Math.min(ctx.autoConverge.max, throttle + ctx.autoConverge.increment);
    }
    decision = policy.decide({
      pendingBytes: pending <= EPS ? 0 : pending * ps,
      pendingPages: pending <= EPS ? 0 : pending,
      dirtyPagesAtSync: dirty,
      sentPagesThisRound: send.pages,
      sentPagesPrevRound: prevSent,
      liveRounds,
      elapsedMs: end,
      bandwidthBytesPerSec: R,
      roundBandwidthBytesPerSec: roundBandwidth,
      totalSentBytes: total.bytes,
      memoryBytes: ctx.N * ps,
      pageSizeBytes: ps,
    });
    prevSent = send.pages;
    if (decision.action === 'cancel') return finish(pending, false);
    if (decision.action === 'stop-and-copy') return stopAndCopy(0);
    stage = 'iterative';

    // A steady state that never converges: stop (the diagnosis) or extrapolate to the limit (the prediction).
    const excess = pending - threshold / ps;
    if (excess < bestExcess * (1 - 1e-6) - EPS) {
      bestExcess = excess;
      lastImprovement = liveRounds;
    }
    const isStuck = liveRounds - lastImprovement >= STUCK_WINDOW || iter >= MAX_ITERATIONS;
    if (iter >= 2 * MAX_ITERATIONS) {
      // neither a steady state nor a limit in sight: stop the way the engine's no-progress stop would
      decision = { action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason: 'no-progress' } };
      return stopAndCopy(0);
    }
    if (isStuck && options.detectStuck) return finish(pending, true);
    if (isStuck && options.jump && !jumped && recent.length > 0) {
      jumped = true;
      const k = recent.length;
      const avg = { ms: 0, bytes: 0, pages: 0, zero: 0, dirty: 0 };
      for (const r of recent) {
        avg.ms += r.ms / k;
        avg.bytes += r.bytes / k;
        avg.pages += r.pages / k;
        avg.zero += r.zero / k;
        avg.dirty += r.dirty / k;
      }
      const byRounds = settings.maxRounds === null ? Infinity : settings.maxRounds - liveRounds - 1;
      const byTime = avg.ms > 0 ? Math.floor((settings.timeoutMs - t) / avg.ms) - 2 : Infinity;
      const m = Math.max(0, Math.min(byRounds, byTime));
      if (m > 0 && Number.isFinite(m)) {
        elided += m;
        liveRounds += m;
        syncs += m;
        liveDirtyFound += m * avg.dirty;
        liveBytes += m * avg.bytes;
        account({ pages: m * avg.pages, zero: m * avg.zero, runs: 0, zeroByClass: new Float64Array(0) }, m * avg.bytes);
        t += m * avg.ms;
        lastSyncMs = t;
        model.slices.forEach((sl, j) => {
          const size = sl.end - sl.start;
          seqPos[j] = sl.start + ((seqPos[j] - sl.start + (m * avg.ms * model.sliceRate * factor) / 1000) % size);
        });
      }
    }
  }

  /** Pause, final sync, lift the live rate limit, send every pending page from page 0, the device state, the end frame. */
  function stopAndCopy(finalFound: number): SimResult {
    const pendingAtPause = set.pending();
    const factor = slowdown();
    stage = 'stop-and-copy';
    set.cursor = 0;
    const send = set.send(pendingAtPause, maxRun);
    const bytes = pageBytes(send) + deviceStateWireBytes(ctx.deviceStateBytes) + HEADER_BYTES;
    account(send, bytes);
    syncs++;
    const wire = ctx.linkRate === Infinity ? 0 : Math.max(0, (bytes * 1000) / ctx.linkRate - ctx.burstMs);
    const downtime = wire + ctx.latencyMs;
    record(t, t + downtime, send, bytes, finalFound, pendingAtPause, lastExpected, thresholdAt(ctx.linkRate), factor);
    const last = rounds.at(-1);
    if (last) {
      last.dirtyRatePagesPerSec = 0; // paused
      last.guestSlowdown = w > 0 && downtime > 0 ? 0 : null;
    }
    const r = finish(0, false);
    r.downtimeMs = downtime;
    r.downtimeBytes = bytes;
    r.totalTimeMs = t + downtime;
    return r;
  }

  function finish(remainingPages: number, stuck: boolean): SimResult {
    total.normal = total.pages - total.zero;
    return {
      decision,
      rounds,
      elidedRounds: elided,
      liveRounds,
      syncs,
      liveDirtyFound,
      lastSyncMs,
      precopyBytes: liveBytes,
      downtimeBytes: 0,
      total,
      remainingPages,
      downtimeMs: null,
      totalTimeMs: t,
      expectedDowntimeMs: lastExpected,
      stuck,
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Steady dirty set (DESIGN §6 with overlap): the largest fixed point of V = g(V / R)
// ---------------------------------------------------------------------------------------------------

function steadyDirty(ctx: Ctx): { pages: number; perClass: Float64Array } {
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

function halfWritesWorkingSet(s: Scenario, N: number): number {
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

// ---------------------------------------------------------------------------------------------------
// predict
// ---------------------------------------------------------------------------------------------------

export function predict(scenario: Scenario, options: PredictOptions = {}): Prediction {
  const setupMs = Math.max(0, options.setupMs ?? 0);
  const ps = scenario.guest.pageSize;
  const N = scenario.guest.memory / ps;
  const liveRate = Math.min(scenario.precopy.maxBandwidth, scenario.link.bandwidth);
  const linkRate = scenario.link.bandwidth;
  const model = writeModel(scenario, N);
  const dirtyRatePagesPerSec = model.kind === 'none' ? 0 : scenario.workload.dirtyRate;
  const pc = scenario.precopy;
  const ctx: Ctx = {
    N,
    ps,
    maxRun: maxRunPages(ps),
    liveRate,
    linkRate,
    burstMs: options.linkBurstMs ?? DEFAULT_BURST_MS,
    latencyMs: scenario.link.latencyMs,
    deviceStateBytes: scenario.guest.deviceState,
    zeroShare: scenario.guest.fill.zero,
    model,
    dirtyRatePagesPerSec,
    vcpus: scenario.guest.vcpus,
    autoConverge: pc.autoConverge,
    // as run.ts arms it: bytes/s per vCPU → page writes/s per vCPU
    dirtyLimitPagesPerSec: pc.dirtyLimit === null ? null : Math.max(1, pc.dirtyLimit / ps),
    setupMs,
  };
  const settings: PolicySettings = {
    downtimeLimitMs: pc.downtimeLimitMs,
    maxRounds: pc.maxRounds,
    timeoutMs: pc.timeoutMs,
    onTimeout: pc.onTimeout,
    policy: pc.policy,
    params: { ...DEFAULT_POLICY_PARAMS, ...pc.policyParams },
  };
  const thdBytes = switchoverThresholdBytes(liveRate, pc.downtimeLimitMs);
  const run = simulate(ctx, settings, { record: true, detectStuck: false, jump: true });
  // The same loop without the user's limits says whether it converges at all (and when).
  // (A run that converged within the limits is that run already.)
  const free =
    run.decision.action === 'stop-and-copy' && run.decision.outcome.outcome === 'converged'
      ? run
      : simulate(ctx, { ...settings, maxRounds: null, timeoutMs: Infinity }, { record: false, detectStuck: true, jump: false });
  const outcomeOf = (r: SimResult): Extract<Outcome, { outcome: 'converged' | 'forced-stop' | 'cancelled' }> =>
    r.decision.action === 'continue' ? { outcome: 'converged' } : r.decision.outcome;
  const o = outcomeOf(run);
  const freeOutcome = free.stuck ? null : outcomeOf(free);
  const lambda = liveRate === Infinity ? 0 : (dirtyRatePagesPerSec * ps) / liveRate;
  const converges = o.outcome === 'converged' || freeOutcome?.outcome === 'converged';
  const steady = steadyDirty(ctx);
  const hotSteady = scenario.workload.pattern === 'hotset' && model.classPages.length === 2 ? steady.perClass[0] * ps : null;
  let nonConvergence: NonConvergence | null = null;
  if (!converges && free.stuck) {
    const p = scenario.workload.pattern;
    if (p === 'hotset') nonConvergence = hotSteady !== null && hotSteady >= thdBytes ? 'working-set-above-threshold' : 'lambda-at-least-1';
    else if (p === 'zipf') nonConvergence = steady.pages * ps < 0.5 * scenario.guest.memory ? 'working-set-above-threshold' : 'lambda-at-least-1';
    else nonConvergence = 'lambda-at-least-1';
  }

  const completed = o.outcome !== 'cancelled';
  const totalTime = run.totalTimeMs;
  const tp = throughput(run.total.bytes, run.total.pages, totalTime, setupMs);
  const stats: MigrationStats = {
    status: completed ? 'completed' : 'cancelled',
    'total-time': totalTime,
    'setup-time': setupMs,
    downtime: completed ? run.downtimeMs : null,
    'expected-downtime': run.expectedDowntimeMs,
    ram: {
      transferred: run.total.bytes,
      remaining: completed ? 0 : run.remainingPages * ps,
      total: scenario.guest.memory,
      duplicate: run.total.zero,
      normal: run.total.normal,
      'normal-bytes': run.total.normal * ps,
      'dirty-sync-count': run.syncs,
      'dirty-pages-rate': run.lastSyncMs > setupMs ? (run.liveDirtyFound * 1000) / (run.lastSyncMs - setupMs) : 0,
      mbps: tp.mbps,
      'pages-per-second': tp.pagesPerSecond,
      'precopy-bytes': run.precopyBytes,
      'downtime-bytes': run.downtimeBytes,
      'page-size': ps,
    },
  };
  const facts: PrecopyModelFacts = {
    memoryBytes: scenario.guest.memory,
    pageSizeBytes: ps,
    liveRateBytesPerSec: liveRate,
    linkRateBytesPerSec: linkRate,
    dirtyRateBytesPerSec: dirtyRatePagesPerSec * ps,
    lambda,
    thresholdBytes: thdBytes,
    steadyDirtyBytes: steady.pages * ps,
    steadyHotDirtyBytes: hotSteady,
    workingSetBytes: halfWritesWorkingSet(scenario, N) * ps,
    zeroPageShare: ctx.zeroShare,
    linkBurstMs: ctx.burstMs,
    policy: pc.policy,
  };
  const closedForm = closedFormPrecopy({
    memoryBytes: scenario.guest.memory,
    liveRateBytesPerSec: liveRate,
    linkRateBytesPerSec: linkRate,
    dirtyRateBytesPerSec: dirtyRatePagesPerSec * ps,
    downtimeLimitMs: pc.downtimeLimitMs,
    maxRounds: pc.maxRounds,
    deviceStateBytes: scenario.guest.deviceState,
  });
  const precopy: PrecopyPrediction = {
    outcome: o.outcome,
    reason: o.outcome === 'converged' ? null : (o.reason as StopReason),
    converges,
    nonConvergence,
    roundsToConverge: freeOutcome?.outcome === 'converged' ? free.liveRounds : null,
    why: '',
    model: facts,
    closedForm,
    rounds: run.rounds,
    elidedRounds: run.elidedRounds,
    stats,
  };
  precopy.why = explainPrecopy(scenario, precopy, free.totalTimeMs, freeOutcome);
  return { scenario, precopy, quick: predictQuick(scenario) };
}

function explainPrecopy(
  s: Scenario,
  p: PrecopyPrediction,
  freeTimeMs: number,
  freeOutcome: Extract<Outcome, { outcome: 'converged' | 'forced-stop' | 'cancelled' }> | null,
): string {
  const f = p.model;
  const lam = `λ = ${f.lambda.toFixed(3)} (dirtying ${formatByteRate(f.dirtyRateBytesPerSec)} against ${formatByteRate(f.liveRateBytesPerSec)})`;
  const thd = `the switchover threshold ${formatBytes(f.thresholdBytes)} (${formatDurationMs(s.precopy.downtimeLimitMs)} × ${formatBitRate(f.liveRateBytesPerSec)})`;
  const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy').length + p.elidedRounds;
  const policy = f.policy === 'qemu' ? '' : ` (policy ${f.policy})`;
  const stop =
    p.reason === 'max-rounds'
      ? s.precopy.maxRounds !== null && live >= s.precopy.maxRounds
        ? `precopy.maxRounds (${s.precopy.maxRounds}) forces a stop-and-copy after ${live} live round${live === 1 ? '' : 's'}`
        : `the ${f.policy} policy's round limit forces a stop-and-copy after ${live} live round${live === 1 ? '' : 's'}`
      : p.reason === 'timeout'
        ? p.outcome === 'cancelled'
          ? `the timeout (${formatDurationMs(s.precopy.timeoutMs)}) cancels it after ${live} live round${live === 1 ? '' : 's'}: the guest stays on the source`
          : `the timeout (${formatDurationMs(s.precopy.timeoutMs)}) forces a stop-and-copy after ${live} live round${live === 1 ? '' : 's'}`
        : `the ${f.policy} policy forces a stop-and-copy (${p.reason}) after ${live} live round${live === 1 ? '' : 's'}`;
  if (f.liveRateBytesPerSec === Infinity) {
    return `the link is unlimited: the model moves memory in no time, so nothing is dirtied meanwhile and it converges after the bulk round (a real run is bound by the engine's own speed)`;
  }
  if (p.outcome === 'converged') {
    if (f.dirtyRateBytesPerSec === 0) {
      const left = p.rounds.find((r) => r.stage === 'stop-and-copy')?.pendingPages ?? 0;
      return `converges after the bulk round${policy}: nothing is written; what the bulk round leaves under ${thd} (${formatBytes(left * f.pageSizeBytes)}) goes in the stop-and-copy`;
    }
    const aid = s.precopy.autoConverge ? 'auto-converge' : s.precopy.dirtyLimit !== null ? 'the dirty limit' : null;
    const maxThrottle = p.rounds.reduce((m, r) => Math.max(m, r.throttlePercent), 0);
    const slowest = p.rounds.reduce((m, r) => (r.stage !== 'stop-and-copy' && r.guestSlowdown !== null ? Math.min(m, r.guestSlowdown) : m), 1);
    const aided = aid && slowest < 1 ? `; ${aid} slows the guest to ${(slowest * 100).toFixed(0)} % of its writes${maxThrottle > 0 ? ` (throttle ${maxThrottle} %)` : ''}` : '';
    const ofLambda =
      f.lambda < 1
        ? `${lam} < 1, so what is pending above the threshold shrinks every round`
        : f.steadyDirtyBytes < f.thresholdBytes
          ? `${lam} >= 1, but writes overlap: the steady dirty set (${formatBytes(f.steadyDirtyBytes)}) is below ${thd}`
          : `${lam} >= 1`;
    return `converges after ${live} live rounds${policy}: ${ofLambda}${aided}`;
  }
  if (p.converges) {
    return `would converge after ${p.roundsToConverge} live rounds (${formatDurationMs(freeTimeMs)})${policy}, but ${stop}`;
  }
  if (p.nonConvergence === 'working-set-above-threshold') {
    const ws = f.steadyHotDirtyBytes ?? f.steadyDirtyBytes;
    const what = s.workload.pattern === 'hotset' ? `the ${formatBytes(f.workingSetBytes)} hot set` : `the zipf working set (half the writes land on ${formatBytes(f.workingSetBytes)})`;
    return `never converges${policy}: ${what} stays dirty at ${formatBytes(ws)} per round, above ${thd}; ${lam}; ${stop}`;
  }
  if (p.nonConvergence === 'lambda-at-least-1') {
    return `never converges${policy}: ${lam} >= 1, the guest dirties memory at least as fast as pre-copy sends it (steady dirty set ${formatBytes(f.steadyDirtyBytes)}, above ${thd}); ${stop}`;
  }
  return `does not converge${policy}: ${stop}${freeOutcome?.outcome === 'forced-stop' ? ' (the policy stops it even without limits)' : ''}; ${lam}`;
}

// ---------------------------------------------------------------------------------------------------
// Quick migration
// ---------------------------------------------------------------------------------------------------

/** StoragePacer's burst (quick/storage.ts): a phase starting idle ends this much earlier. */
const STORAGE_BURST_MS = 10;
/** Encoded image header: a msgpack map of ~200 bytes (format, page size, block table, tool, time). */
const IMAGE_HEADER_BYTES = 20 + 200;

function predictQuick(s: Scenario): QuickPrediction {
  // The guest is paused at once (run.ts starts quick right after the vCPUs), so the fill decides zero pages.
  const total = s.guest.fill.zero + s.guest.fill.random + s.guest.fill.text;
  return quickModel(s, ((s.guest.memory / s.guest.pageSize) * s.guest.fill.zero) / total, STORAGE_BURST_MS);
}

/**
 * Quick migration phase by phase from the image it writes: `zeroPages` are skipped (the image holds the
 * others), and the storage moves the image at `quick.storageBandwidth`, each phase ending `burstMs`
 * early (the emulated pacer's burst; 0 for an exact model). Shared by `predict` and simulate mode.
 */
export function quickModel(s: Scenario, zeroPages: number, burstMs: number): QuickPrediction {
  const ps = s.guest.pageSize;
  const N = s.guest.memory / ps;
  const zero = zeroPages;
  const normal = N - zero;
  const ds = s.guest.deviceState;
  const chunks = Math.ceil(N / CHUNK_PAGES);
  let saved: number;
  let restored: number;
  if (s.quick.format === 'stream') {
    const control = packControl({ t: 'p', b: 0, f: 4096, n: CHUNK_PAGES, lo: 0xffffffff, hi: 0xffffffff, len: CHUNK_PAGES * ps }).length;
    const tail = RECORD_PREFIX_BYTES * 2 + packControl({ t: 'd', len: ds }).length + packControl({ t: 'e', pages: N, records: chunks + 1 }).length + ds;
    saved = IMAGE_HEADER_BYTES + chunks * (RECORD_PREFIX_BYTES + control) + normal * ps + tail;
    restored = saved;
  } else {
    const m = mappedLayout(ps, N, ds);
    const index = m.deviceOffset + ds - m.bitmapOffset;
    saved = normal * ps + index + IMAGE_HEADER_BYTES;
    restored = normal * ps + index + Math.min(IMAGE_HEADER_BYTES, MAPPED_HEADER_RESERVED);
  }
  const B = s.quick.storageBandwidth;
  const phaseMs = (bytes: number): number => (B === Infinity ? 0 : Math.max(0, (bytes * 1000) / B - burstMs));
  const phases = { pauseMs: 0, saveMs: phaseMs(saved), fsyncMs: 0, handoverMs: s.quick.handoverMs, restoreMs: phaseMs(restored), resumeMs: 0 };
  const downtime = phases.pauseMs + phases.saveMs + phases.fsyncMs + phases.handoverMs + phases.restoreMs + phases.resumeMs;
  const why =
    B === Infinity
      ? `storage is "unlimited" (this machine's disk): the model cannot time it; downtime here is the hand-over only`
      : `downtime = save ${formatBytes(saved)} at ${formatByteRate(B)} + hand-over ${formatDurationMs(s.quick.handoverMs)} + restore ${formatBytes(restored)}; ${formatCount(zero)} zero pages are skipped (headers only)`;
  return {
    outcome: 'completed',
    pages: { total: N, normal, zero },
    savedBytes: saved,
    restoredBytes: restored,
    phases,
    stats: { status: 'completed', 'total-time': downtime, downtime },
    storageBandwidthBytesPerSec: B,
    why,
  };
}

/** JSON of a prediction: the scenario in its JSON form, Infinity as null (as in result documents). */
export function predictionToJson(p: Prediction, scenarioJson: unknown): string {
  return JSON.stringify({ ...p, scenario: scenarioJson }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}
