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
    rateError: fit.dirtyRatePagesPerSec / scenario.workload.dirtyRate - 1,
    workingSetError: (fit.workingSetPages ?? 0) / pages - 1,
  };
}

const TOLERANCE = 0.1;

describe('fit recovers the dirty rate and working set of the scenario that wrote the log', () => {
  it.each<Case>([
    { pattern: 'hotset', dirtyRate: 4000, maxBandwidth: '32MiB/s', converges: true, seed: 1 },
    { pattern: 'hotset', dirtyRate: 4000, maxBandwidth: '32MiB/s', converges: true, seed: 2 },
    { pattern: 'hotset', dirtyRate: 16_000, maxBandwidth: '32MiB/s', converges: false, seed: 1 },
    { pattern: 'uniform', dirtyRate: 25_000, maxBandwidth: '64MiB/s', converges: false, seed: 1 },
  ])('$pattern at $dirtyRate/s over $maxBandwidth (converges: $converges, seed $seed): within 10 %', async (c) => {
    const r = await roundTrip(c);
    expect(r.outcome).toBe(c.converges ? 'converged' : 'cancelled');
    expect(Math.abs(r.rateError)).toBeLessThan(TOLERANCE);
    expect(Math.abs(r.workingSetError)).toBeLessThan(TOLERANCE);
  });

  // Not met. The fit's model is uniform writes over a set of N pages, N(1 − e^(−w·t/N)) distinct
  // pages after t seconds. A zipf guest writes every page with a skewed probability: its distinct
  // pages grow with no saturation level, so the fit finds a smaller N and a lower w that match the
  // few syncs it sees (zipf 8,000/s: w −42 %, N −83 % of the guest; at 120,000/s the polls catch one
  // sync whole, which pins neither: w runs to the search bound). A sequential guest dirties w·t
  // pages without overlap until it wraps: the overlap model reads the straight line as the start of a
  // curve and overestimates w (10,000/s: +13 %; 25,000/s: +130 %, where each round spans a wrap).
  // A converging hotset over a fast link (20,000/s at 128 MiB/s) has four syncs of which three come
  // within 0.2 s: the pending figures between polls are too coarse there (w −13 %, N +31 %).
  // A converging uniform guest (11,500/s at 64 MiB/s) met 10 % under the old sync cadence; with QEMU's
  // (one sync per migration iteration, issue 15) its 13–14 syncs give the rate within 2 % but the
  // working set 12–15 % low over seeds 1–3 (the whole guest never saturates before it converges).
  it.fails.each<Case>([
    { pattern: 'zipf', dirtyRate: 8000, maxBandwidth: '64MiB/s', converges: true, seed: 1 },
    { pattern: 'zipf', dirtyRate: 120_000, maxBandwidth: '64MiB/s', converges: false, seed: 1, timeoutMs: 12_000 },
    { pattern: 'sequential', dirtyRate: 10_000, maxBandwidth: '64MiB/s', converges: true, seed: 1 },
    { pattern: 'sequential', dirtyRate: 25_000, maxBandwidth: '64MiB/s', converges: false, seed: 1 },
    { pattern: 'hotset', dirtyRate: 20_000, maxBandwidth: '128MiB/s', converges: true, seed: 1 },
    { pattern: 'uniform', dirtyRate: 11_500, maxBandwidth: '64MiB/s', converges: true, seed: 1 },
  ])('not yet: $pattern at $dirtyRate/s over $maxBandwidth (converges: $converges)', async (c) => {
    const r = await roundTrip(c);
    expect(r.outcome).toBe(c.converges ? 'converged' : 'cancelled');
    expect(Math.abs(r.rateError)).toBeLessThan(TOLERANCE);
    expect(Math.abs(r.workingSetError)).toBeLessThan(TOLERANCE);
  });
});
