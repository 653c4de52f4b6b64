/**
 * What simulate mode knows of page contents without holding them (the model the README states):
 *
 * - **Fill**: each page's initial kind (zero, random, text) is drawn from the scenario's weights by a
 *   hash of (seed, page), so a page keeps its identity across rounds at no memory cost. (Emulate mode
 *   draws the same weights from a sequential stream: the same mix, not the same pages.)
 *   With `workload.workingSetZero` (hotset), the hot set's pages draw from their own weights: that share
 *   zero, the rest as guest.fill's random:text; guest.fill then holds for the pages outside it.
 * - **Zero pages**: a page is zero while its kind is zero and it has not been written since the start;
 *   a written page is never zero (every write changes `writeBytes` bytes to new values).
 * - **Compression** (`precopy.compression`): each kind's compressed size per page is measured once, by
 *   compressing 64 sample pages of that kind with the real codec (zlib or zstd) and level (text cut from the same
 *   corpus emulate mode fills with; random bytes; a zero page with one write). A frame's payload is the
 *   sum over its normal pages, and, as in the engine, a frame that does not shrink goes uncompressed.
 * - **XBZRLE**: a page that hits the cache and was written k times since it was last sent encodes to the
 *   expected size of k writes of w bytes at uniform offsets: changed bytes c = P·(1 − (1 − w/P)^k) in
 *   s = k·(1 − w/P)^(k−1) stretches (writes that do not touch an earlier one), each stretch costing its
 *   bytes plus a ULEB128 length and a ULEB128 gap (QEMU's zrun/nzrun pairs). k = 0 is an unchanged
 *   page (nothing sent); a size above the page is an overflow (sent normally).
 */
import { deflateRawSync } from 'node:zlib';
import { zstdCompress } from '../codec/zstd.ts';
import type { Scenario } from '../options.ts';
import { Rng, deriveSeed, mix32 } from '../workload/rng.ts';
import { textCorpus, textPageInto } from '../workload/fill.ts';

export const KIND_ZERO = 0;
export const KIND_RANDOM = 1;
export const KIND_TEXT = 2;

/** A well-mixed 32-bit hash of (key, page): splitmix32's finaliser over both words. */
const pageHash = (key: number, page: number): number => mix32(Math.imul(page ^ (page / 4294967296), 0x9e3779b1) ^ key);

export class ContentModel {
  readonly pageSizeBytes: number;
  /** null when every page has the same kind (`uniformKind`) */
  private readonly cut: { zero: number; random: number } | null;
  readonly uniformKind: number;
  private readonly key: number;
  /** does any page start as zero? (then writes must be tracked to know which stopped being zero) */
  readonly hasZeroPages: boolean;
  /** compressed bytes per normal page of each kind (random, text, written zero), when compression is on */
  private compressedPerPageMemo: Float64Array | null = null;
  private readonly scenario: Scenario;
  private readonly writeBytes: number;

  /** hotset with `workload.workingSetZero`: the hot set [0, pages) and its own cuts; else null */
  private readonly hot: { pages: number; zero: number; random: number } | null;

  constructor(s: Scenario) {
    const ps = s.guest.pageSize;
    this.pageSizeBytes = ps;
    this.writeBytes = Math.min(s.workload.writeBytes, ps);
    const { zero, random, text } = s.guest.fill;
    const total = zero + random + text;
    const wsZero = s.workload.pattern === 'hotset' ? s.workload.workingSetZero : null;
    const kinds = [zero, random, text].filter((w) => w > 0).length;
    // the hot set's own zero share: its other pages split as guest.fill's random:text (random if neither)
    const randomShare = random + text > 0 ? random / (random + text) : 1;
    this.hot =
      wsZero === null
        ? null
        : { pages: Math.min(s.guest.memory / ps, Math.ceil(s.workload.workingSet / ps)), zero: wsZero * 4294967296, random: (wsZero + (1 - wsZero) * randomShare) * 4294967296 };
    this.uniformKind = kinds === 1 && this.hot === null ? (zero > 0 ? KIND_ZERO : random > 0 ? KIND_RANDOM : KIND_TEXT) : -1;
    this.cut = this.uniformKind >= 0 ? null : { zero: (zero / total) * 4294967296, random: ((zero + random) / total) * 4294967296 };
    this.hasZeroPages = zero > 0 || (wsZero ?? 0) > 0;
    this.key = deriveSeed(s.seed, 11);
    this.scenario = s;
  }

  /** The page's kind at the start. */
  kindOf(page: number): number {
    const cut = page < (this.hot?.pages ?? 0) ? this.hot! : this.cut;
    if (cut === null) return this.uniformKind;
    const h = pageHash(this.key, page);
    return h < cut.zero ? KIND_ZERO : h < cut.random ? KIND_RANDOM : KIND_TEXT;
  }

  /** Zero pages among the initial kinds of pages [from, to) (not counting writes). */
  zeroKindPages(from: number, to: number): number {
    if (this.cut === null) return this.uniformKind === KIND_ZERO ? to - from : 0;
    let n = 0;
    for (let p = from; p < to; p++) if (this.kindOf(p) === KIND_ZERO) n++;
    return n;
  }

  /** Compressed payload of a normal page (the caller knows whether it was written). */
  compressedBytes(page: number, written: boolean): number {
    const c = this.compressedPerPage()!;
    const kind = this.kindOf(page);
    return kind === KIND_ZERO ? (written ? c[2] : 0) : kind === KIND_RANDOM ? c[0] : c[1];
  }

  get compresses(): boolean {
    return this.scenario.precopy.compression !== 'none';
  }

  /** Measured on first use (quick migration never asks). */
  private compressedPerPage(): Float64Array | null {
    if (!this.compresses) return null;
    this.compressedPerPageMemo ??= measureCompression(this.scenario);
    return this.compressedPerPageMemo;
  }

  /** Expected XBZRLE delta length of a page written `writes` times since it was last sent (0: unchanged). */
  xbzrleDeltaBytes(writes: number): number {
    if (writes <= 0) return 0;
    const P = this.pageSizeBytes;
    const q = 1 - this.writeBytes / P;
    const changed = P * (1 - q ** writes);
    const stretches = Math.max(1, writes * q ** (writes - 1));
    const run = changed / stretches;
    const gap = (P - changed) / stretches;
    return Math.ceil(changed + stretches * (ulebBytes(run) + ulebBytes(gap)));
  }

  /** The measured compression ratios (raw ÷ compressed) per kind, for the result's model block. */
  compressionRatios(): { random: number; text: number; writtenZero: number } | null {
    const c = this.compressedPerPage();
    if (!c) return null;
    const P = this.pageSizeBytes;
    return { random: P / c[0], text: P / c[1], writtenZero: P / c[2] };
  }
}

function ulebBytes(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

const SAMPLE_PAGES = 64;

/** Compressed bytes per page for random, text and written-zero pages, with the scenario's codec. */
function measureCompression(s: Scenario): Float64Array {
  const ps = s.guest.pageSize;
  const level = s.precopy.compressionLevel;
  const rng = new Rng(deriveSeed(s.seed, 12));
  const sample = new Uint8Array(SAMPLE_PAGES * ps);
  const out = new Float64Array(3);
  // a sample of 64 pages: one frame's worth, as the engine compresses a frame's normal pages together
  const codec = s.precopy.compression === 'zstd' ? (b: Uint8Array) => zstdCompress(b, level).length : (b: Uint8Array) => deflateRawSync(b, { level }).length;
  const compressed = (): number => Math.min(sample.length, codec(sample)) / SAMPLE_PAGES;
  rng.fill(sample);
  out[0] = compressed();
  const corpus = textCorpus(s.seed);
  for (let p = 0; p < SAMPLE_PAGES; p++) textPageInto(corpus, rng.nextInt(corpus.length), sample, p * ps, ps);
  out[1] = compressed();
  sample.fill(0);
  const w = Math.min(s.workload.writeBytes, ps);
  for (let p = 0; p < SAMPLE_PAGES; p++) {
    const at = p * ps + rng.nextInt(ps - w + 1);
    for (let k = 0; k < w; k++) sample[at + k] = 1 + rng.nextInt(255);
  }
  out[2] = compressed();
  return out;
}
