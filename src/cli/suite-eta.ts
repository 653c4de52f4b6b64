/**
 * The time a suite has left, from what its completed runs took. Pure: the suite command feeds it the
 * measured durations and the clock's reading.
 *
 * Each benchmark's remaining runs are costed at the mean duration of its own completed runs (warm-up
 * runs included: they take as long as a measured one, and the first pass is all there is to go on);
 * a benchmark that has not finished a run yet is costed at the mean over every completed run. The run in
 * progress counts what it has left of its estimate (never less than nothing). Nothing measured: null.
 *
 * (cli-progress's own ETA divides the runs left by the rate of the last few runs: with a 16 MiB and a
 * 1 GiB benchmark interleaved, that rate swings with whichever ran last.)
 */

export interface SuiteEtaInput {
  /** per benchmark: the durations (ms) of its completed runs, warm-up included */
  durationsMs: readonly (readonly number[])[];
  /** per benchmark: runs not completed yet, the one in progress included */
  remainingRuns: readonly number[];
  /** the benchmark whose run is in progress (null between runs, or when runs overlap) */
  current: number | null;
  /** how long the run in progress has been going */
  currentElapsedMs: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Milliseconds left, or null when no run has completed yet. */
export function suiteEtaMs(input: SuiteEtaInput): number | null {
  const all = input.durationsMs.flat();
  if (all.length === 0) return null;
  const overall = mean(all);
  let left = 0;
  input.remainingRuns.forEach((runs, b) => {
    if (runs <= 0) return;
    const each = input.durationsMs[b]?.length ? mean(input.durationsMs[b]) : overall;
    left += runs * each;
    if (b === input.current) left -= Math.min(each, Math.max(0, input.currentElapsedMs));
  });
  return Math.max(0, left);
}

/**
 * The benchmark that runs after `done` runs of a suite whose runs go pass by pass (every benchmark once,
 * then again: src/suite/run-suite.ts), or null when all `total` are done.
 */
export function nextBenchmark(done: number, benchmarks: number, total: number): number | null {
  return done >= total || benchmarks === 0 ? null : done % benchmarks;
}
