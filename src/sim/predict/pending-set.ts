/**
 * The pending set of the fluid loop: memory as a short list of address segments; each segment holds,
 * per page class (write-model.ts), its page count, its expected pending pages and its expected pending
 * *zero* pages, spread evenly over the segment. A round sends from a wrapping cursor and clears what it
 * sent; writes add to what is pending.
 *  - runs: a frame carries a run of up to 64 contiguous pending pages (48-byte header; zero pages
 *    ride in it as header bits only, QEMU `duplicate`). A segment with pending density ρ has on
 *    average ρ-runs of length ℓ = (1 − ρ^64)/(1 − ρ) (Bernoulli adjacency, split at 64); a fully
 *    pending segment has runs of exactly 64 from its start.
 *  - zero pages (guest.fill's share, or workload.workingSetZero's in the hot set: a share per region,
 *    zero-share.ts) stay zero until written.
 *  - XBZRLE (when the set is made with a cache size in pages): each segment also holds, per class, its
 *    expected cached pages and its expected pending pages that are cached (a send of one of those is a
 *    cache hit, a delta). A page sent from the set (`send` with `insert`) goes into the cache while it
 *    has room (zero pages too, as QEMU's xbzrle_cache_zero_page); a write to a cached page makes it a
 *    pending cached page. The cache is held as a capacity (the direct-mapped slots' conflicts are left
 *    out: a hot set up to the cache's size fits); QEMU's ageing rule lets a miss take the slot of a page
 *    not used for two syncs, which `evictStale` does at each sync for the misses the full cache refused.
 * Pure.
 */
import type { Region, WriteModel } from './write-model.ts';

/** What a round sent: pages, zero pages among them (in all and per class), frames. */
export interface Sent {
  pages: number;
  zero: number;
  runs: number;
  zeroByClass: Float64Array;
  /** XBZRLE: pages that hit the cache (in all and per class); 0 and null without XBZRLE */
  hits: number;
  hitsByClass: Float64Array | null;
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
  /** sum(p), kept in step with p (the same additions in the same order as summing p anew) */
  P: number;
  /** XBZRLE: expected cached pages per class, and pending pages among them (`none` without XBZRLE) */
  k: Float64Array;
  c: Float64Array;
}

export const EPS = 1e-9;
const MAX_SEGMENTS = 48;

const sum = (a: Float64Array): number => {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t;
};

/** a × f, element by element, into a new array */
function scaled(a: Float64Array, f: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * f;
  return out;
}

function scaleInPlace(a: Float64Array, f: number): void {
  for (let i = 0; i < a.length; i++) a[i] *= f;
}

function segment(start: number, len: number, region: number, n: Float64Array, p: Float64Array, z: Float64Array, k: Float64Array, c: Float64Array): Segment {
  return { start, len, region, n, p, z, P: sum(p), k, c };
}

const density = (s: Segment): number => s.P / s.len;

export class PendingSet {
  segs: Segment[] = [];
  cursor = 0;
  /** per class: the share of a class's clean pages a write pass dirties (scratch of `write`) */
  private readonly q: Float64Array;
  /** the guest has zero pages; without them every segment's z is `none` (all 0, never written) */
  private readonly zeros: boolean;
  private readonly none: Float64Array;
  /** XBZRLE's cache in pages (Infinity: no cache; `xbzrle` false) */
  private readonly xbzrle: boolean;
  readonly cachePages: number;
  /** expected pages in the cache */
  cached = 0;
  /** misses since the last `evictStale` that found the cache full */
  refused = 0;

  constructor(
    readonly N: number,
    readonly classes: number,
    regions: Region[],
    /** the share of pages that start as zero: one for all, or one per region */
    zeroShare: number | readonly number[],
    /** XBZRLE's cache size in pages, or null without XBZRLE */
    cachePages: number | null = null,
  ) {
    this.xbzrle = cachePages !== null;
    this.cachePages = cachePages ?? 0;
    this.q = new Float64Array(classes);
    const shareOf = (i: number): number => (typeof zeroShare === 'number' ? zeroShare : (zeroShare[i] ?? 0));
    this.zeros = regions.some((_, i) => shareOf(i) > 0);
    this.none = new Float64Array(classes);
    regions.forEach((r, i) => {
      if (r.end <= r.start) return;
      const len = r.end - r.start;
      const n = scaled(r.mix, len);
      const x = this.xbzrle;
      this.segs.push(segment(r.start, len, i, n, n.slice(), this.zeros ? scaled(n, shareOf(i)) : this.none, x ? new Float64Array(classes) : this.none, x ? new Float64Array(classes) : this.none));
    });
  }

  clone(): PendingSet {
    const c = Object.create(PendingSet.prototype) as PendingSet;
    Object.assign(c, { N: this.N, classes: this.classes, cursor: this.cursor, q: new Float64Array(this.classes), zeros: this.zeros, none: this.none, xbzrle: this.xbzrle, cachePages: this.cachePages, cached: this.cached });
    const x = this.xbzrle;
    c.segs = this.segs.map((s) => ({ ...s, n: s.n.slice(), p: s.p.slice(), z: this.zeros ? s.z.slice() : this.none, k: x ? s.k.slice() : this.none, c: x ? s.c.slice() : this.none }));
    return c;
  }

  pending(): number {
    let t = 0;
    for (let i = 0; i < this.segs.length; i++) t += this.segs[i].P;
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
        const g = 1 - f;
        // the right part gets new arrays; the left part is s, its arrays scaled in place
        const x = this.xbzrle;
        const right = segment(at, s.start + s.len - at, s.region, scaled(s.n, g), scaled(s.p, g), this.zeros ? scaled(s.z, g) : this.none, x ? scaled(s.k, g) : this.none, x ? scaled(s.c, g) : this.none);
        scaleInPlace(s.n, f);
        scaleInPlace(s.p, f);
        if (this.zeros) scaleInPlace(s.z, f);
        if (x) {
          scaleInPlace(s.k, f);
          scaleInPlace(s.c, f);
        }
        s.len = at - s.start;
        s.P = sum(s.p);
        this.segs.splice(i + 1, 0, right);
        return i + 1;
      }
    }
    return this.segs.length;
  }

  /** Clear what segment `s` holds pending (it was sent). */
  private clear(s: Segment): void {
    s.p.fill(0);
    if (this.zeros) s.z.fill(0);
    if (this.xbzrle) s.c.fill(0);
    s.P = 0;
  }

  /**
   * XBZRLE, before `s`'s pending pages (a share f of them) go: count its cache hits into `out`, and put
   * the others (misses and zero pages) into the cache while it has room (`insert`: not in the last stage).
   */
  private throughCache(s: Segment, f: number, out: Sent, insert: boolean): void {
    const hitsByClass = out.hitsByClass!;
    let want = 0;
    for (let c = 0; c < s.c.length; c++) {
      const h = s.c[c] * f;
      hitsByClass[c] += h;
      out.hits += h;
      want += (s.p[c] - s.c[c]) * f;
    }
    if (!insert || !(want > 0)) return;
    const admit = Math.min(1, Math.max(0, this.cachePages - this.cached) / want);
    this.refused += want * (1 - admit);
    if (!(admit > 0)) return;
    for (let c = 0; c < s.c.length; c++) s.k[c] = Math.min(s.n[c], s.k[c] + (s.p[c] - s.c[c]) * f * admit);
    this.cached += want * admit;
  }

  /**
   * Send runs of pending pages from the cursor (wrapping) until `target` pages have gone, rounded up
   * to whole runs in the segment where the target is reached (the engine stops after the run that
   * crosses the threshold). Clears what was sent; moves the cursor. `target` <= 0 sends nothing.
   */
  send(target: number, maxRun: number, xbzrle: { insert: boolean } | null = null): Sent {
    // (without zero pages zeroByClass is the shared all-0 array: nobody writes to a Sent's zeroByClass)
    const cache = this.xbzrle && xbzrle !== null;
    const out: Sent = { pages: 0, zero: 0, runs: 0, zeroByClass: this.zeros ? new Float64Array(this.classes) : this.none, hits: 0, hitsByClass: cache ? new Float64Array(this.classes) : null };
    const insert = xbzrle?.insert ?? false;
    if (target <= EPS) return out;
    let i = this.boundaryAt(this.cursor) % Math.max(1, this.segs.length);
    for (let steps = 0; steps <= this.segs.length + 1; steps++) {
      if (i >= this.segs.length) i = 0;
      const s = this.segs[i];
      const P = s.P;
      if (P > EPS) {
        const rho = Math.min(1, P / s.len);
        const need = target - out.pages;
        const dense = rho >= 1 - 1e-12;
        const rhoRun = rho ** maxRun;
        const ell = dense ? maxRun : (1 - rhoRun) / (1 - rho);
        const runs = Math.ceil(need / ell - 1e-9);
        const take = Math.min(P, runs * ell);
        if (take >= P - EPS) {
          out.runs += dense ? Math.ceil(s.len / maxRun - 1e-9) : (P * (1 - rho)) / (1 - rhoRun);
          out.pages += P;
          if (cache) this.throughCache(s, 1, out, insert);
          if (this.zeros) {
            out.zero += sum(s.z);
            for (let c = 0; c < s.z.length; c++) out.zeroByClass[c] += s.z[c];
          }
          this.clear(s);
          this.cursor = (s.start + s.len) % this.N;
          if (out.pages >= target - EPS) return out;
        } else {
          const at = s.start + (s.len * take) / P;
          out.runs += runs;
          const f = take / P;
          out.pages += take;
          if (cache) this.throughCache(s, f, out, insert);
          if (this.zeros) {
            out.zero += sum(s.z) * f;
            for (let c = 0; c < s.z.length; c++) out.zeroByClass[c] += s.z[c] * f;
          }
          this.boundaryAt(at);
          this.clear(this.segs[i]);
          this.cursor = at % this.N;
          return out;
        }
      }
      i++;
    }
    return out;
  }

  /**
   * XBZRLE, at a sync: make room for the misses the full cache refused since the last one, out of the
   * stale entries (cached, not pending, and not written the round before either: `q`, the share of a
   * class the last write pass dirtied, stands in for that round's), each class pro rata.
   */
  evictStale(): void {
    if (!this.xbzrle || !(this.refused > 0)) return;
    let stale = 0;
    for (const s of this.segs) for (let c = 0; c < s.k.length; c++) stale += (s.k[c] - s.c[c]) * (1 - this.q[c]);
    const evict = Math.min(this.refused, stale);
    this.refused = 0;
    if (!(evict > 0)) return;
    const f = evict / stale;
    for (const s of this.segs) for (let c = 0; c < s.k.length; c++) s.k[c] -= (s.k[c] - s.c[c]) * (1 - this.q[c]) * f;
    this.cached = Math.max(0, this.cached - evict);
  }

  /** Apply `sec` seconds of writes; returns the distinct pages written (what the dirty log holds). */
  write(m: WriteModel, sec: number, seqPos: number[]): number {
    if (m.kind === 'none' || !(sec > 0)) return 0;
    if (m.kind === 'random') {
      let d = 0;
      const q = this.q;
      const k = m.ratePerPage.length;
      for (let c = 0; c < k; c++) q[c] = -Math.expm1(-m.ratePerPage[c] * sec);
      for (let i = 0; i < this.segs.length; i++) {
        const s = this.segs[i];
        const n = s.n;
        const p = s.p;
        const z = s.z;
        for (let c = 0; c < k; c++) {
          if (n[c] === 0) continue;
          d += n[c] * q[c];
          p[c] += (n[c] - p[c]) * q[c];
          if (this.zeros) z[c] *= 1 - q[c];
          // a written cached page is pending and cached
          if (this.xbzrle) s.c[c] += (s.k[c] - s.c[c]) * q[c];
        }
        s.P = sum(p);
      }
      return d;
    }
    // sequential: each vCPU's writer covers an interval of its slice (wrapping)
    let d = 0;
    for (let k = 0; k < m.slices.length; k++) {
      const sl = m.slices[k];
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
    }
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
      if (this.zeros) s.z.fill(0);
      if (this.xbzrle) s.c.set(s.k);
      s.P = sum(s.p);
    }
  }

  private mergeable(a: Segment, b: Segment): boolean {
    return a.region === b.region && Math.abs(a.start + a.len - b.start) < EPS;
  }

  /** Merge segment k+1 into segment k. */
  private merge(k: number): void {
    const a = this.segs[k];
    const b = this.segs[k + 1];
    for (let c = 0; c < a.n.length; c++) {
      a.n[c] += b.n[c];
      a.p[c] += b.p[c];
      if (this.zeros) a.z[c] += b.z[c];
      if (this.xbzrle) {
        a.k[c] += b.k[c];
        a.c[c] += b.c[c];
      }
    }
    a.len += b.len;
    a.P = sum(a.p);
    this.segs.splice(k + 1, 1);
  }

  /** Merge neighbours of one region and equal density; then cap the count by merging the closest pairs. */
  normalize(): void {
    for (let k = 0; k < this.segs.length - 1; ) {
      const a = this.segs[k];
      const b = this.segs[k + 1];
      if (this.mergeable(a, b) && Math.abs(density(a) - density(b)) < 1e-12) this.merge(k);
      else k++;
    }
    while (this.segs.length > MAX_SEGMENTS) {
      let best = -1;
      let cost = Infinity;
      for (let k = 0; k < this.segs.length - 1; k++) {
        const a = this.segs[k];
        const b = this.segs[k + 1];
        if (!this.mergeable(a, b)) continue;
        const c = Math.abs(density(a) - density(b)) * Math.min(a.len, b.len);
        if (c < cost) {
          cost = c;
          best = k;
        }
      }
      if (best < 0) break;
      this.merge(best);
    }
  }
}
