/**
 * Post-copy in `predict`: a fluid model of the phase after the switch (the engine: postcopy/emulate.ts),
 * from the pending set the pre-copy model (fluid-loop.ts) holds at the switch. Pure; expected values.
 *
 * 1. The switch (the downtime): pause, send the missing-pages bitmap (one bit per page, in control frames
 *    of DEVICE_CHUNK_BYTES), the device state and the RUN command at the link's rate (max-bandwidth is
 *    lifted, as for a stop-and-copy; the link's burst as there), then one link latency for RUN to land.
 * 2. The push: every missing page crosses once, requested or pushed, at the post-copy rate
 *    (min(postcopy.maxBandwidth, link)). The background push starts at page 0 and walks the address
 *    space, so it reaches segment i of the pending set during [A_i, B_i] (its bytes' share of the push),
 *    and a page is at the destination one latency after it left. Frames: with `preempt` every page is its
 *    own frame (the engine pushes a page at a time so a request never waits behind a run); without it,
 *    runs of up to 64 pending neighbours (the pending set's run model). Zero pages go as header bits.
 * 3. Faults: the guest touches pages at its write rate plus workload.readRate (reads follow the same
 *    pattern), each class c of the write model at a_c touches/s per page. A missing page of class c
 *    faults if it is touched before it arrives: all pages still missing at τ have seen the same touches
 *    since the resume, so they are still untouched with probability e^{−a_c Θ(τ)}, Θ the guest's
 *    progress. Where the vCPUs keep up (Θ(τ) = τ), a page arriving uniformly within [x0, x1] faults with
 *    probability 1 − (e^{−a x0} − e^{−a x1}) / (a (x1 − x0)): the closed form, summed over segments and
 *    classes (hotset: the hot set is the first region, pushed first; zipf: the rank buckets).
 *    That closed form holds while the vCPUs keep up and the requests take little of the link (under
 *    LIGHT_SHARE at the start). Otherwise the phase is integrated in steps (`integrate`):
 *    - a fault stalls its vCPU for a round trip (2 × link.latencyMs), the page at the post-copy rate, and
 *      the source's service time: the emulated sender sleeps on timers while it is ahead of its link
 *      budget, and Node's timers wait at least 1 ms (SERVICE_MS: the mean fault latency measured in
 *      emulate mode at latency 0 is 1.1–1.6 ms); without preempt, also half a background run. A blocked
 *      vCPU touches nothing, so V vCPUs fault at most V / stall times a second: while the uncapped rate
 *      Σ_c a_c U_c is above that, the guest is stall-bound (every vCPU blocked, all at once: they wait on
 *      the same sender) and its progress Θ grows at (V / stall) / Σ_c a_c U_c;
 *    - requests go first on the link (a backlog of them is served at its full rate), so the background
 *      frontier slows to (1 − served requests × page time) / (share of the pages there not yet requested).
 *    A page-by-page simulation of the same process agrees within 5 % (test/predict-postcopy.test.ts).
 * Requests = faults (QEMU counts every request; the engine sends one per fault).
 * Left out: the cursor's jump to the faulted address (the push restarts there; for the hot set it keeps the
 * push in the hot region, as this model's address order does), two vCPUs faulting on one page, the
 * engine's own pause and resume costs, the write-rate pacing beyond the stall cap.
 */
import { DEVICE_CHUNK_BYTES, HEADER_BYTES } from '../../transport/frame.ts';
import { align8 } from '../../transport/ring.ts';
import type { PendingSet } from './pending-set.ts';
import type { WriteModel } from './write-model.ts';

/** ms a request waits for the emulated sender to wake (Node timers: at least 1 ms); see the header. */
export const SERVICE_MS = 1;
/** Steps of the integration over the push. */
const STEPS = 256;
/** Below this share of the link taken by requests at the start (and under the stall cap), the closed form. */
const LIGHT_SHARE = 0.02;

export interface PostcopyModelInput {
  /** the pending set at the switch (read, not changed) */
  set: PendingSet;
  model: WriteModel;
  /** page touches per page write: (writes + reads) / writes, reads following the same pattern */
  touchScale: number;
  pageSizeBytes: number;
  totalPages: number;
  maxRun: number;
  linkRateBytesPerSec: number;
  /** min(postcopy.maxBandwidth, link) */
  postcopyRateBytesPerSec: number;
  latencyMs: number;
  burstMs: number;
  deviceStateWireBytes: number;
  vcpus: number;
  preempt: boolean;
}

export interface PostcopyModel {
  missingPages: number;
  missingZeroPages: number;
  /** bytes paused: the missing-pages list, the device state, RUN */
  downtimeBytes: number;
  downtimeMs: number;
  /** resume → the destination holds every page */
  durationMs: number;
  /** bytes sent after the resume (QEMU postcopy-bytes): every missing page once, headers, the end frame */
  bytes: number;
  /** expected faults (= page requests) */
  faults: number;
  /** ms one fault stalls its vCPU */
  stallMs: number;
  /** ms after the resume during which the vCPUs are stall-bound (faulting as fast as the stall allows) */
  stallBoundMs: number;
  /** ms each vCPU is blocked (QEMU postcopy-vcpu-blocktime, per vCPU) */
  vcpuBlocktimeMs: number;
  /** ms every vCPU is blocked at once (QEMU postcopy-blocktime) */
  blocktimeMs: number;
}

interface Piece {
  /** where it lies on the push (ms of link time from the first pushed byte) */
  x0: number;
  x1: number;
  /** missing pages per class arriving within it */
  p: Float64Array;
}

/** 1 − (e^{−a x0} − e^{−a x1}) / (a (x1 − x0)), with a in 1/ms: P(touched before arriving uniformly in [x0, x1]). */
function faultShare(a: number, x0: number, x1: number): number {
  const d = x1 - x0;
  if (a <= 0) return 0;
  const e0 = Math.exp(-a * x0);
  if (a * d < 1e-9) return 1 - e0;
  return 1 - (e0 * -Math.expm1(-a * d)) / (a * d);
}

function missingListWireBytes(totalPages: number): number {
  const bytes = Math.ceil(totalPages / 32) * 4;
  let wire = 0;
  for (let off = 0; off < bytes; off += DEVICE_CHUNK_BYTES) wire += align8(HEADER_BYTES + Math.min(DEVICE_CHUNK_BYTES, bytes - off));
  return wire;
}

export function postcopyModel(i: PostcopyModelInput): PostcopyModel {
  const ps = i.pageSizeBytes;
  const k = i.model.classPages.length;
  const rate = i.postcopyRateBytesPerSec;
  const L = i.latencyMs;
  // 1. the switch
  const downtimeBytes = missingListWireBytes(i.totalPages) + i.deviceStateWireBytes + HEADER_BYTES;
  const downtimeMs = (i.linkRateBytesPerSec === Infinity ? 0 : Math.max(0, (downtimeBytes * 1000) / i.linkRateBytesPerSec - i.burstMs)) + L;

  // 2. the push, in address order from page 0: each segment's bytes and its receipt interval
  let missing = 0;
  let zero = 0;
  let pushBytes = 0;
  /** Σ pages × their run length: a request waits behind the run being pushed when it comes, and runs are pushed page by page */
  let runWeighted = 0;
  const segBytes: number[] = [];
  for (const s of i.set.segs) {
    if (s.P <= 1e-9) continue;
    let z = 0;
    for (let c = 0; c < s.z.length; c++) z += s.z[c];
    z = Math.min(z, s.P);
    const rho = Math.min(1, s.P / s.len);
    const runs = i.preempt ? s.P : rho >= 1 - 1e-12 ? Math.ceil(s.len / i.maxRun - 1e-9) : (s.P * (1 - rho)) / (1 - rho ** i.maxRun);
    const b = (s.P - z) * ps + runs * HEADER_BYTES;
    segBytes.push(b);
    pushBytes += b;
    runWeighted += runs > 0 ? (s.P * s.P) / runs : 0;
    missing += s.P;
    zero += z;
  }
  const msPerByte = rate === Infinity ? 0 : 1000 / rate;
  // the pieces in push order, on the push's own time axis (ms of link time from the first pushed byte)
  const pieces: Piece[] = [];
  let at = 0;
  let j = 0;
  for (const s of i.set.segs) {
    if (s.P <= 1e-9) continue;
    const len = segBytes[j++] * msPerByte;
    pieces.push({ x0: at, x1: at + len, p: s.p });
    at += len;
  }
  const pushMs = at;

  // 3. faults: the touch rate per page of each class, per ms
  const a = new Float64Array(k);
  for (let c = 0; c < k; c++) a[c] = (i.model.ratePerPage[c] * i.touchScale) / 1000;
  const pageMs = rate === Infinity ? 0 : ((ps + HEADER_BYTES) * 1000) / rate;
  // without preempt a request waits, on average, behind half of the run being sent (runs weighted by their pages: by push time)
  const meanRunPages = missing > 0 ? Math.min(i.maxRun, Math.max(1, runWeighted / missing)) : 1;
  const queueMs = i.preempt ? 0 : ((meanRunPages - 1) / 2) * pageMs;
  const stallMs = 2 * L + pageMs + queueMs + SERVICE_MS;
  const capPerMs = i.vcpus / stallMs;

  let faults = 0;
  let blockAll = 0;
  let stallBoundMs = 0;
  let initialRate = 0;
  for (const pc of pieces) for (let c = 0; c < k; c++) initialRate += a[c] * pc.p[c];
  if (pushMs > 0 && initialRate > 0) {
    if (initialRate <= capPerMs && initialRate * pageMs <= LIGHT_SHARE) {
      // light faulting: the vCPUs keep up (Θ = τ) and the requests barely slow the push: the closed form
      let busyMs = 0;
      for (const pc of pieces) {
        for (let c = 0; c < k; c++) if (pc.p[c] > 0 && a[c] > 0) faults += pc.p[c] * faultShare(a[c], pc.x0 + L, pc.x1 + L);
      }
      busyMs = (faults * stallMs) / i.vcpus;
      // each vCPU blocked a share β of the time, independently: all of them at once β^V (β at its mean)
      const span = pushMs + L;
      blockAll = span * Math.min(1, busyMs / span) ** i.vcpus;
    } else {
      const r = reduceClasses(pieces, a, pushMs + L);
      ({ faults, blockAll, stallBoundMs } = integrate(r.pieces, r.a, L, pushMs, pageMs, capPerMs, stallMs, i.vcpus));
    }
  }
  const vcpuBlocktimeMs = (faults * stallMs) / i.vcpus;
  // the faulted pages go as frames of their own (with preempt every page does already)
  const extraHeaders = i.preempt ? 0 : faults * HEADER_BYTES;
  const bytes = pushBytes + extraHeaders + HEADER_BYTES; // + the end frame
  const durationMs = (rate === Infinity ? 0 : Math.max(0, (bytes * 1000) / rate - i.burstMs)) + L;
  return {
    missingPages: missing,
    missingZeroPages: zero,
    downtimeBytes,
    downtimeMs,
    durationMs,
    bytes,
    faults,
    stallMs,
    stallBoundMs,
    vcpuBlocktimeMs,
    blocktimeMs: Math.min(blockAll, vcpuBlocktimeMs),
  };
}

/** A class touched less than this often per page over the whole phase is "cold": merged with the others. */
const COLD_TOUCHES = 0.02;

/**
 * Fewer classes for the integration (zipf has a hundred rank buckets): the classes whose pages are
 * touched under COLD_TOUCHES times each over the phase fault in proportion to their touch rate
 * (e^{−aΘ} ≈ 1 − aΘ, within 1 %), so they merge into one class at their pages' mean rate with no
 * loss to first order. The others stay as they are.
 */
function reduceClasses(pieces: Piece[], a: Float64Array, spanMs: number): { pieces: Piece[]; a: Float64Array } {
  const keep: number[] = [];
  const cold: number[] = [];
  for (let c = 0; c < a.length; c++) (a[c] * spanMs < COLD_TOUCHES ? cold : keep).push(c);
  if (cold.length < 2) return { pieces, a };
  let pages = 0;
  let touches = 0;
  for (const pc of pieces) for (const c of cold) {
    pages += pc.p[c];
    touches += pc.p[c] * a[c];
  }
  const a2 = Float64Array.from([...keep.map((c) => a[c]), pages > 0 ? touches / pages : 0]);
  const pieces2 = pieces.map((pc) => {
    const p = new Float64Array(keep.length + 1);
    keep.forEach((c, n) => (p[n] = pc.p[c]));
    for (const c of cold) p[keep.length] += pc.p[c];
    return { x0: pc.x0, x1: pc.x1, p };
  });
  return { pieces: pieces2, a: a2 };
}

/**
 * The phase step by step (midpoint rule), where the closed form's two assumptions fail: the vCPUs are
 * stall-bound (faults at V / stall a second, the guest's progress Θ slowed to match), or the requests take
 * a real share of the link, so the background frontier slows (it moves through pages still missing at
 * (1 − requests × page time) / (share of the pages there not yet requested)). Time t from the resume; the
 * frontier y on the push's axis; nothing pushed arrives before one latency.
 */
function integrate(pieces: Piece[], a: Float64Array, L: number, pushMs: number, pageMs: number, capPerMs: number, stallMs: number, vcpus: number): { faults: number; blockAll: number; stallBoundMs: number } {
  const k = a.length;
  // suffix[n][c]: class-c pages in pieces n, n+1, …
  const suffix: Float64Array[] = new Array(pieces.length + 1);
  suffix[pieces.length] = new Float64Array(k);
  for (let n = pieces.length - 1; n >= 0; n--) {
    const row = suffix[n + 1].slice();
    for (let c = 0; c < k; c++) row[c] += pieces[n].p[c];
    suffix[n] = row;
  }
  const S = new Float64Array(k);
  const out = { rate: 0, faultRate: 0, dy: 0, dtheta: 0, dbacklog: 0 };
  const mu = pageMs > 0 ? 1 / pageMs : Infinity;
  let piece = 0;
  const derive = (t: number, y: number, theta: number, backlog: number): void => {
    while (piece < pieces.length - 1 && y >= pieces[piece].x1) piece++;
    while (piece > 0 && y < pieces[piece].x0) piece--;
    const pc = pieces[piece];
    const f = pc.x1 > pc.x0 ? Math.max(0, Math.min(1, (pc.x1 - y) / (pc.x1 - pc.x0))) : 0;
    const next = suffix[piece + 1];
    let G = 0;
    let here = 0;
    let hereLeft = 0;
    for (let c = 0; c < k; c++) {
      S[c] = a[c] > 0 ? Math.exp(-a[c] * theta) : 1;
      G += a[c] * (next[c] + pc.p[c] * f) * S[c];
      here += pc.p[c];
      hereLeft += pc.p[c] * S[c];
    }
    // a touched missing page is requested at once (it leaves the untouched set); the link serves the
    // requests first, so the frontier stops while they take all of it
    const F = Math.min(G, capPerMs);
    out.rate = G;
    out.faultRate = F;
    out.dtheta = G > 0 ? F / G : 1;
    // requests waiting for the link (a backlog) are served first, at the link's rate
    const serve = backlog > 1e-9 ? mu : Math.min(F, mu);
    out.dbacklog = F - serve;
    const survive = here > 0 ? hereLeft / here : 1;
    out.dy = t < L ? 0 : Math.max(0, 1 - serve * pageMs) / Math.max(survive, 1e-9);
  };
  const endMs = pushMs + L;
  const dt = endMs / STEPS;
  let t = 0;
  let y = 0;
  let theta = 0;
  let faults = 0;
  let blockAll = 0;
  let bound = 0;
  let backlog = 0;
  for (let n = 0; n < 4 * STEPS && y < pushMs; n++) {
    derive(t, y, theta, backlog);
    const y1 = y + out.dy * (dt / 2);
    const th1 = theta + out.dtheta * (dt / 2);
    const b1 = Math.max(0, backlog + out.dbacklog * (dt / 2));
    derive(t + dt / 2, Math.min(y1, pushMs), th1, b1);
    backlog = Math.max(0, backlog + out.dbacklog * dt);
    const F = out.faultRate;
    faults += F * dt;
    blockAll += Math.min(1, (F * stallMs) / vcpus) ** vcpus * dt;
    if (out.rate >= capPerMs) bound += dt;
    y += out.dy * dt;
    theta += out.dtheta * dt;
    t += dt;
  }
  return { faults, blockAll, stallBoundMs: bound };
}
