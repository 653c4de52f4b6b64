/**
 * "Did you mean …?": the known names closest to a mistyped one. Pure; imports nothing.
 *
 * Distance is the optimal string alignment distance (Levenshtein with adjacent transpositions, as
 * commander's own suggestions for flags), on names folded for comparison: lowercase, without "_",
 * "-" and spaces, so `downtime_limit_ms` and QEMU's `max-bandwidth` find `downtimeLimitMs` and
 * `maxBandwidth`.
 */

/** Lowercase, without "_", "-" and whitespace. */
export function foldName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

/** Optimal string alignment distance between a and b. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/** The most edits a name of this (folded) length may be away from a suggestion: 1 up to 5 letters, then a third, at most 3. */
export function maxEdits(length: number): number {
  return Math.min(3, Math.max(1, Math.floor(length / 3)));
}

/**
 * The candidates nearest to `word` (folded), all at the smallest distance, when that distance is
 * within `maxEdits`; [] when none is close. A candidate equal to `word` once folded is at distance 0.
 */
export function nearest(word: string, candidates: readonly string[]): string[] {
  const w = foldName(word);
  if (w.length === 0) return [];
  const limit = maxEdits(w.length);
  let best = limit + 1;
  let out: string[] = [];
  for (const c of new Set(candidates)) {
    const f = foldName(c);
    // too short to guess, or too far apart in length to be near (and a long key costs nothing)
    if (f.length <= 1 || Math.abs(f.length - w.length) > limit) continue;
    const d = editDistance(w, f);
    if (d < best) {
      best = d;
      out = [c];
    } else if (d === best) out.push(c);
  }
  return out;
}

/** "a", "a or b", "a, b or c". */
export function orList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
