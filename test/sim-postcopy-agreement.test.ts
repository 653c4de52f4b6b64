/**
 * Post-copy in simulate mode against emulate mode (issue 14 "done when": requests and total time
 * within 10 %), on two of bench/fidelity-scenarios.ts's post-copy scenarios: 8 and 16 MiB guests whose
 * writes cannot converge over a 4–8 MiB/s link, switched to post-copy after the bulk round, one with the
 * urgent lane (preempt) and writes only, one without it and with reads too.
 *
 * What is held holds at any speed: the same outcome, verified; the pages missing at the switch within
 * 10 % (the bulk round dirties the whole hot set in both modes); the emulated transfer no faster than
 * the simulated link allows (less the token bucket's bursts). The 10 % on postcopy-requests and total
 * time against the median of emulated runs depends on this machine's thread wake-ups, so it is held by
 * the bench, not here: `npx tsx bench/sim-fidelity.ts --only postcopy-uniform,postcopy-hotset-reads,postcopy-zipf
 * --runs 3 --check` (measured at a load average of 16 on 2 cores: requests within 1.2–6.9 %, total time
 * within 0.6–4.6 %).
 * Hang guard: each test's timeout; runScenario stops its workers and disposes the guest itself.
 */
import { describe, expect, it } from 'vitest';
import { POSTCOPY_FIDELITY_SCENARIOS } from '../bench/fidelity-scenarios.ts';
import { resolveScenario } from '../src/options.ts';
import type { PrecopyResult } from '../src/results/document.ts';
import { runScenario } from '../src/run.ts';
import { simulatePrecopy } from '../src/sim/run-simulated.ts';
import { DEFAULT_BURST_MS } from '../src/transport/link.ts';

const transferMs = (p: PrecopyResult) => p.stats['total-time'] - p.stats['setup-time'];
const rel = (a: number, b: number) => Math.abs(a - b) / b;

describe('post-copy: simulate agrees with emulate', () => {
  it.each(['postcopy-uniform', 'postcopy-hotset-reads'])('%s: the same outcome, verified, the same missing pages, and no faster than the modelled link', async (name) => {
    const s = resolveScenario(POSTCOPY_FIDELITY_SCENARIOS.find((x) => x.name === name)!);
    const sim = simulatePrecopy(s);
    expect(sim.outcome).toBe('postcopy');
    const e = (await runScenario(s, { methods: ['precopy'], postcopyAfterWindowMs: 0 })).precopy!;
    expect(e.outcome).toBe('postcopy');
    expect(e.verified).toBe(true);
    expect(rel(e.postcopy!.missingPages, sim.postcopy!.missingPages)).toBeLessThan(0.1);
    // the emulated link is no faster than the simulated one, but for the token bucket's bursts (one per rate change: live, stop-and-copy, post-copy)
    expect(transferMs(e)).toBeGreaterThan(transferMs(sim) - 3 * DEFAULT_BURST_MS);
  }, 60_000);
});
