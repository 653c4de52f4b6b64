/**
 * Issue 17, done when 2: on logs migbench writes from known scenarios (each pattern, converging and
 * not), `fit` recovers the scenario's dirty rate and working set within 10 %. Simulate mode (seeded,
 * deterministic, fast): run → `--qmp-log` lines (src/fit/qmp-export.ts) → read → fit.
 *
 * The working set a scenario has: the hot set for `hotset` (hotFraction 1); the whole guest for
 * `uniform`, `zipf` and `sequential`, whose writes reach every page.
 */
import { describe, expect, it } from 'vitest';
import { fitLog } from '../src/fit/fit.ts';
import { qmpLogLines } from '../src/fit/qmp-export.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { resolveScenario } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';

interface Case {
  pattern: 'hotset' | 'uniform' | 'zipf' | 'sequential';
  dirtyRate: number;
  maxBandwidth: string;
  converges: boolean;
  seed: number;
  /** default 30 s */
  timeoutMs?: number;
}

async function roundTrip(c: Case) {
  const scenario = resolveScenario({
    name: `${c.pattern}-${c.dirtyRate}`,
    seed: c.seed,
    guest: { memory: '512MiB', vcpus: 1, fill: { zero: 0.5, random: 0.5, text: 0 } },
    workload: { pattern: c.pattern, dirtyRate: c.dirtyRate, workingSet: '128MiB', hotFraction: 1 },
    link: { bandwidth: '10Gbit/s' },
    precopy: { maxBandwidth: c.maxBandwidth, downtimeLimitMs: 300, timeoutMs: c.timeoutMs ?? 30_000 },
  });
  const doc = await simulateScenario(scenario, { methods: ['precopy'] });
  const fit = fitLog(readQmpLog(qmpLogLines(scenario, doc.precopy!).join('')), scenario.name);
  const pages = (c.pattern === 'hotset' ? scenario.workload.workingSet : scenario.guest.memory) / scenario.guest.pageSize;
  return {
    outcome: doc.precopy!.outcome,
    pattern: fit.scenario.workload?.pattern,
    rateError: fit.dirtyRatePagesPerSec / scenario.workload.dirtyRate - 1,
    workingSetError: (fit.workingSetPages ?? 0) / pages - 1,
  };
}

const TOLERANCE = 0.1;

describe('fit recovers the dirty rate and working set of the scenario that wrote the log', () => {
  // the pattern the fit chooses: the overlap model is migbench's hotset (a uniform guest is a hot set as
  // large as the guest); sequential and zipf are their own models
  const fitted = (c: Case): string => (c.pattern === 'uniform' ? 'hotset' : c.pattern);

  it.each<Case>([
    { pattern: 'hotset', dirtyRate: 4000, maxBandwidth: '32MiB/s', converges: true, seed: 1 },
    { pattern: 'hotset', dirtyRate: 4000, maxBandwidth: '32MiB/s', converges: true, seed: 2 },
    { pattern: 'hotset', dirtyRate: 16_000, maxBandwidth: '32MiB/s', converges: false, seed: 1 },
    { pattern: 'uniform', dirtyRate: 25_000, maxBandwidth: '64MiB/s', converges: false, seed: 1 },
    // three syncs within 0.7 s: met since the pages each sync added are read exactly off QEMU's
    // counters (pages sent + the change of remaining), not from the bytes after an estimated sync time
    { pattern: 'hotset', dirtyRate: 20_000, maxBandwidth: '128MiB/s', converges: true, seed: 1 },
    // working set 12–15 % low before the exact counts; now within 2 % over seeds 1–3
    { pattern: 'uniform', dirtyRate: 11_500, maxBandwidth: '64MiB/s', converges: true, seed: 1 },
    // the sequential model (w·Δt until the sweep has covered memory) fits these exactly (< 0.1 %)
    { pattern: 'sequential', dirtyRate: 10_000, maxBandwidth: '64MiB/s', converges: true, seed: 1 },
    { pattern: 'sequential', dirtyRate: 25_000, maxBandwidth: '64MiB/s', converges: false, seed: 1 },
    // two syncs only: too few to test a two-parameter model; zipf at migbench's default exponent fits
    // them within 0.03 % (rate within 0.3 % over seeds 1–3)
    { pattern: 'zipf', dirtyRate: 120_000, maxBandwidth: '64MiB/s', converges: false, seed: 1, timeoutMs: 12_000 },
  ])('$pattern at $dirtyRate/s over $maxBandwidth (converges: $converges, seed $seed): within 10 %', async (c) => {
    const r = await roundTrip(c);
    expect(r.outcome).toBe(c.converges ? 'converged' : 'cancelled');
    expect(r.pattern).toBe(fitted(c));
    expect(Math.abs(r.rateError)).toBeLessThan(TOLERANCE);
    expect(Math.abs(r.workingSetError)).toBeLessThan(TOLERANCE);
  });

  // Not met: a zipf guest at 8,000/s that converges shows three syncs, and the overlap model fits them
  // better (rms log error 0.0025) than zipf does (0.009; 0.013 at the true rate and exponent): the
  // short syncs' counts are too coarse to tell the curves apart, so the fit keeps the overlap model and
  // finds w −39 % and N −84 % of the guest (seed 2: −43 %, −83 %; seed 3 chooses zipf, within 2 %).
  it.fails.each<Case>([{ pattern: 'zipf', dirtyRate: 8000, maxBandwidth: '64MiB/s', converges: true, seed: 1 }])(
    'not yet: $pattern at $dirtyRate/s over $maxBandwidth (converges: $converges)',
    async (c) => {
      const r = await roundTrip(c);
      expect(r.outcome).toBe(c.converges ? 'converged' : 'cancelled');
      expect(Math.abs(r.rateError)).toBeLessThan(TOLERANCE);
      expect(Math.abs(r.workingSetError)).toBeLessThan(TOLERANCE);
    },
  );
});
