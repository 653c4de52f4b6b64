/**
 * The guest's initial content (`guest.fill`), generated from the seed: each page is zero, random or
 * text, drawn with the configured weights. Zero pages are what QEMU sends as `duplicate`; text pages
 * compress; random pages do not.
 */
import { PROGRESS_BYTES, type GuestMemory } from '../memory/guest-memory.ts';
import { Rng, deriveSeed } from './rng.ts';

export interface FillWeights {
  readonly zero: number;
  readonly random: number;
  readonly text: number;
}

export const FILL_KINDS = ['zero', 'random', 'text'] as const;

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an ' +
  'they you were her all she there would their we him been has when who will more no if out so said what ' +
  'page memory guest host migration dirty round copy stop bandwidth downtime kernel buffer cache network ' +
  'request response session user table index value record thread process socket file block'
).split(' ');

/** A deterministic pseudo-English corpus (64 KiB) that text pages are cut from. */
export function textCorpus(seed: number, bytes = 64 * 1024): Uint8Array {
  const rng = new Rng(deriveSeed(seed, 7));
  const out = new Uint8Array(bytes);
  let i = 0;
  let sentence = 0;
  while (i < bytes) {
    let word = WORDS[rng.nextInt(WORDS.length)];
    if (sentence === 0) word = word[0].toUpperCase() + word.slice(1);
    for (let k = 0; k < word.length && i < bytes; k++) out[i++] = word.charCodeAt(k);
    sentence++;
    if (i < bytes) out[i++] = sentence > 6 + rng.nextInt(10) ? ((sentence = 0), 0x2e) : 0x20; // '.' or ' '
    if (sentence === 0 && i < bytes) out[i++] = rng.nextInt(8) === 0 ? 0x0a : 0x20;
  }
  return out;
}

/** A text page: `pageSize` bytes of the corpus from `at`, wrapping, written to `dst` at `offset`. */
export function textPageInto(corpus: Uint8Array, at: number, dst: Uint8Array, offset: number, pageSize: number): void {
  for (let k = 0; k < pageSize; ) {
    const n = Math.min(pageSize - k, corpus.length - at);
    dst.set(corpus.subarray(at, at + n), offset + k);
    k += n;
    at = 0;
  }
}

/** The hot set's own fill (hotset with `workload.workingSetZero`): pages [0, pages), `zero` of them zero. */
export interface HotSetFill {
  readonly pages: number;
  readonly zero: number;
}

/** The hot set's own fill a scenario asks for, or undefined (the hot set filled like the rest). */
export function hotSetFill(s: { guest: { memory: number; pageSize: number }; workload: { pattern: string; workingSet: number; workingSetZero: number | null } }): HotSetFill | undefined {
  if (s.workload.pattern !== 'hotset' || s.workload.workingSetZero === null) return undefined;
  return { pages: Math.min(s.guest.memory / s.guest.pageSize, Math.ceil(s.workload.workingSet / s.guest.pageSize)), zero: s.workload.workingSetZero };
}

/**
 * Fill fresh (all-zero) guest memory (with `hotSet`, its first pages draw from their own weights). Deterministic for (weights, seed, layout). `onProgress` hears the
 * bytes filled so far about every PROGRESS_BYTES (for a progress bar: filling a large guest takes seconds).
 */
export function fillGuest(memory: GuestMemory, weights: FillWeights, seed: number, onProgress?: (doneBytes: number) => void, hotSet?: HotSetFill): void {
  const total = weights.zero + weights.random + weights.text;
  if (!(total > 0)) throw new RangeError('fill weights must add up to more than 0');
  const pZero = weights.zero / total;
  const pRandom = pZero + weights.random / total;
  // the hot set's own weights (workload.workingSetZero): that share zero, the rest as random:text here
  const hotPages = hotSet?.pages ?? 0;
  const hotZero = hotSet?.zero ?? 0;
  const hotRandom = hotZero + (1 - hotZero) * (weights.random + weights.text > 0 ? weights.random / (weights.random + weights.text) : 1);
  const pick = new Rng(deriveSeed(seed, 1));
  const bytes = new Rng(deriveSeed(seed, 2));
  const corpus = weights.text > 0 ? textCorpus(seed) : new Uint8Array(0);
  const ps = memory.layout.pageSizeBytes;
  const onlyRandom = weights.random === total && (hotPages === 0 || hotZero === 0);
  const pagesPerReport = Math.max(1, Math.floor(PROGRESS_BYTES / ps));
  let done = 0;
  let firstPage = 0;
  memory.blocks.forEach((block, b) => {
    const words = new Uint32Array(block, 0, block.byteLength >>> 2);
    const view = memory.views[b];
    const pages = block.byteLength / ps;
    const wordsPerPage = ps >>> 2;
    for (let p = 0; p < pages; p++) {
      if (onProgress && p % pagesPerReport === 0 && p > 0) onProgress(done + p * ps);
      const u = onlyRandom ? 0.5 : pick.nextFloat();
      const hot = firstPage + p < hotPages;
      if (!onlyRandom && u < (hot ? hotZero : pZero)) continue; // fresh memory is zero already
      const off = p * ps;
      if (onlyRandom || u < (hot ? hotRandom : pRandom)) {
        for (let w = p * wordsPerPage, end = w + wordsPerPage; w < end; w++) words[w] = bytes.nextU32();
      } else {
        // text: a slice of the corpus at a seeded offset, wrapping
        textPageInto(corpus, bytes.nextInt(corpus.length), view, off, ps);
      }
    }
    done += pages * ps;
    firstPage += pages;
    onProgress?.(done);
  });
}
