/**
 * The time a suite has left, from what its completed runs took. Pure: the suite command feeds it the
 * measured durations and the clock's reading.
 *
 * Each benchmark's remaining runs are costed at the mean duration of its own completed runs: its
 * measured runs once it has one, else its warm-up runs (the first pass is all there is to go on, and a
 * warm-up run pays for the start-up that later runs do not: 2.4 s against 1.0–1.5 s for the smoke
 * suite's 16 MiB guests here). A benchmark that has not finished a run yet is costed at the mean over
 * every completed run. The run in progress counts what it has left of its estimate (never less than
 * nothing). Nothing measured: null.
 *
 * (cli-progress's own ETA divides the runs left by the rate of the last few runs: with a 16 MiB and a
 * 1 GiB benchmark interleaved, that rate swings with whichever ran last.)
 */

export interface SuiteEtaInput {
  /** per benchmark: the durations (ms) of its completed runs, in order, its warm-up runs first */
  durationsMs: readonly (readonly number[])[];
  /** warm-up runs per benchmark (the first this many of each benchmark's durations) */
  warmup: number;
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
    const own = input.durationsMs[b] ?? [];
    const measured = own.slice(input.warmup);
    const each = measured.length > 0 ? mean(measured) : own.length > 0 ? mean(own) : overall;
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

/** An ETA for a person: whole seconds, then minutes and seconds, then hours and minutes. */
export function formatEta(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
