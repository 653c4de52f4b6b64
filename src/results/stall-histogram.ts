/**
 * Reading a stall-latency histogram in QEMU 10.1's form (`postcopy-latency-dist`, and a lazy quick
 * restore's stalls): bucket N counts stalls of [2^N µs, 2^(N+1) µs), the last bucket is open-ended
 * (everything from its lower bound up). Pure: labels and quantiles for the terminal, the markdown and
 * the HTML chart, from the document's numbers alone.
 */
import { formatDurationMs } from '../units.ts';

/** A bucket's lower bound as a person reads it: "256µs" below a millisecond, else "1.02 ms", "8.39 s". */
function boundText(us: number): string {
  return us >= 1000 ? formatDurationMs(us / 1000) : `${us}µs`;
}

/** Bucket `n`'s range of a histogram of `buckets` buckets: "256µs–512µs", "1.02 ms–2.05 ms", the last "≥8.39 s". */
export function latencyBucketLabel(n: number, buckets: number): string {
  return n >= buckets - 1 ? `≥${boundText(2 ** n)}` : `${boundText(2 ** n)}–${boundText(2 ** (n + 1))}`;
}

/** Bucket `n`'s upper bound in ms (null for the open-ended last bucket). */
export function latencyBucketUpperMs(n: number, buckets: number): number | null {
  return n >= buckets - 1 ? null : 2 ** (n + 1) / 1000;
}

/** The counts of a histogram read from a document: finite counts ≥ 0, anything else as 0. */
export function histogramCounts(dist: unknown): number[] {
  return Array.isArray(dist) ? dist.map((v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0)) : [];
}

/**
 * The bucket that holds the `q`-quantile stall (0 < q ≤ 1): the first bucket at which the running count
 * reaches q × all stalls. null when the histogram counts nothing.
 */
export function quantileBucket(dist: readonly number[], q: number): number | null {
  const total = dist.reduce((s, v) => s + v, 0);
  if (!(total > 0)) return null;
  const want = q * total;
  let seen = 0;
  for (let i = 0; i < dist.length; i++) {
    seen += dist[i];
    if (seen >= want && dist[i] > 0) return i;
  }
  return dist.length - 1;
}

/**
 * "p99 < 16.4 ms": the q-quantile stall as the upper bound of its bucket (a histogram knows no more),
 * "p99 ≥ 8.39 s" in the open-ended last bucket; null when there was no stall.
 */
export function quantileText(dist: readonly number[], q: number): string | null {
  const n = quantileBucket(dist, q);
  if (n === null) return null;
  const name = `p${Number((q * 100).toFixed(1))}`;
  const upper = latencyBucketUpperMs(n, dist.length);
  return upper === null ? `${name} ≥ ${boundText(2 ** n)}` : `${name} < ${boundText(2 ** (n + 1))}`;
}
