/**
 * A set of page numbers for simulate mode: one bit per page (as the engine's dirty bitmap) plus a
 * summary bit per 32-bit word that says "this word may be non-zero". Scans skip empty stretches 1024
 * pages at a time, and merging or clearing visits only the summary's set bits, so the cost of a round
 * grows with the pages it touches, not with the guest: a 1 TiB guest of 4 KiB pages is a 32 MiB bitmap
 * that is allocated once (the kernel hands out zero pages lazily) and never walked in full.
 *
 * A summary bit may be stale (set over a word that became zero); scans clear it when they pass.
 * `plainPageSet` in the tests is the reference this is checked against on seeded random operations.
 */

const ctz32 = (x: number): number => 31 - Math.clz32(x & -x);

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits [lo, hi) of a word, 0 <= lo < hi <= 32. */
const maskOf = (lo: number, hi: number): number => (hi - lo === 32 ? -1 : ((1 << (hi - lo)) - 1) << lo) | 0;

/**
 * Bitmaps given back by finished sets, by word count, all zero: the next simulation in this thread
 * reuses them instead of faulting in fresh memory (a 1 TiB guest's bitmap is 32 MiB; two threads
 * faulting in fresh bitmaps take turns in the kernel).
 */
const spare = new Map<number, { words: Int32Array; summary: Int32Array }[]>();
const SPARE_PER_SIZE = 4;

export class PageSet {
  readonly pages: number;
  /** pages in the set */
  count = 0;
  private words: Int32Array;
  private summary: Int32Array;

  constructor(pages: number) {
    if (!Number.isSafeInteger(pages) || pages < 1 || pages > 2 ** 32) throw new RangeError(`PageSet: pages must be an integer in [1, 2^32], got ${pages}`);
    this.pages = pages;
    const wordCount = Math.ceil(pages / 32);
    const reused = spare.get(wordCount)?.pop();
    this.words = reused?.words ?? new Int32Array(wordCount);
    this.summary = reused?.summary ?? new Int32Array(Math.ceil(wordCount / 32));
  }

  /** Give the bitmap back for reuse (emptied first); the set must not be used afterwards. */
  release(): void {
    if (this.words.length === 0) return;
    this.clear();
    const list = spare.get(this.words.length) ?? [];
    if (list.length < SPARE_PER_SIZE) list.push({ words: this.words, summary: this.summary });
    spare.set(this.words.length, list);
    this.words = this.summary = new Int32Array(0);
  }

  has(page: number): boolean {
    return (this.words[page >>> 5] & (1 << (page & 31))) !== 0;
  }

  /** Add one page; true when it was not in the set. */
  add(page: number): boolean {
    const w = page >>> 5;
    const bit = 1 << (page & 31);
    const old = this.words[w];
    if ((old & bit) !== 0) return false;
    this.words[w] = old | bit;
    this.summary[w >>> 5] |= 1 << (w & 31);
    this.count++;
    return true;
  }

  /** Add pages [from, to); returns how many were new. */
  addRange(from: number, to: number): number {
    let added = 0;
    while (from < to) {
      const w = from >>> 5;
      const lo = from & 31;
      const hi = Math.min(32, lo + (to - from));
      const m = maskOf(lo, hi);
      const old = this.words[w];
      const fresh = m & ~old;
      if (fresh !== 0) {
        this.words[w] = old | m;
        this.summary[w >>> 5] |= 1 << (w & 31);
        added += popcount32(fresh);
      }
      from += hi - lo;
    }
    this.count += added;
    return added;
  }

  /** Every page of the guest (the bulk round's pending set). */
  fill(): void {
    this.clear();
    this.addRange(0, this.pages);
  }

  /** Remove pages [from, from + n) (all must be in the set: the caller took them as a run). */
  takeRun(from: number, n: number): void {
    const to = from + n;
    let removed = 0;
    while (from < to) {
      const w = from >>> 5;
      const lo = from & 31;
      const hi = Math.min(32, lo + (to - from));
      const m = maskOf(lo, hi);
      removed += popcount32(this.words[w] & m);
      this.words[w] &= ~m;
      from += hi - lo;
    }
    this.count -= removed;
  }

  /** The first page >= `from` in the set, or -1. */
  nextFrom(from: number): number {
    if (from >= this.pages) return -1;
    let w = from >>> 5;
    const first = this.words[w] & ~((1 << (from & 31)) - 1);
    if (first !== 0) return w * 32 + ctz32(first);
    w++;
    const words = this.words;
    const summary = this.summary;
    let s = w >>> 5;
    if (s >= summary.length) return -1;
    let bits = summary[s] & (w & 31 ? ~((1 << (w & 31)) - 1) : -1);
    for (;;) {
      while (bits !== 0) {
        const b = ctz32(bits);
        const word = s * 32 + b;
        const v = words[word];
        if (v !== 0) return word * 32 + ctz32(v);
        summary[s] &= ~(1 << b); // stale: the word emptied since
        bits &= bits - 1;
      }
      if (++s >= summary.length) return -1;
      bits = summary[s];
    }
  }

  /** Length of the run of set pages starting at `page` (in the set), at most `max`, not past `end`. */
  runLength(page: number, max: number, end: number): number {
    const limit = Math.min(end, page + max);
    let p = page;
    while (p < limit) {
      const w = p >>> 5;
      const lo = p & 31;
      const inv = ~this.words[w] & ~((1 << lo) - 1); // clear bits at or above lo
      const stop = inv === 0 ? 32 : ctz32(inv);
      p = w * 32 + stop;
      if (stop < 32) break;
    }
    return Math.min(p, limit) - page;
  }

  /** Pages in the set within [from, to). */
  countRange(from: number, to: number): number {
    let n = 0;
    while (from < to) {
      const w = from >>> 5;
      const lo = from & 31;
      const hi = Math.min(32, lo + (to - from));
      n += popcount32(this.words[w] & maskOf(lo, hi));
      from += hi - lo;
    }
    return n;
  }

  /** Move every page of `other` into this set (QEMU's dirty sync: log → migration bitmap); `other` ends empty. Returns the pages that were new here. */
  absorb(other: PageSet): number {
    if (other.pages !== this.pages) throw new RangeError('PageSet.absorb: sets of different sizes');
    let added = 0;
    const os = other.summary;
    for (let s = 0; s < os.length; s++) {
      let bits = os[s];
      if (bits === 0) continue;
      os[s] = 0;
      while (bits !== 0) {
        const b = ctz32(bits);
        bits &= bits - 1;
        const w = s * 32 + b;
        const v = other.words[w];
        if (v === 0) continue;
        other.words[w] = 0;
        const old = this.words[w];
        const fresh = v & ~old;
        if (fresh !== 0) {
          this.words[w] = old | v;
          this.summary[w >>> 5] |= 1 << (w & 31);
          added += popcount32(fresh);
        }
      }
    }
    other.count = 0;
    this.count += added;
    return added;
  }

  /** Empty the set, visiting only words that may hold pages. */
  clear(): void {
    const summary = this.summary;
    for (let s = 0; s < summary.length; s++) {
      let bits = summary[s];
      if (bits === 0) continue;
      summary[s] = 0;
      while (bits !== 0) {
        this.words[s * 32 + ctz32(bits)] = 0;
        bits &= bits - 1;
      }
    }
    this.count = 0;
  }
}
