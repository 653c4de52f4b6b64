/**
 * Simulate mode against emulate mode on the same small scenarios (issue #6's agreement bounds): live
 * rounds within one, bytes and total time within 10 %, the same outcome. Emulate mode runs real
 * threads here; its setup time (starting the destination worker) is left out of its total time, as
 * simulate mode has none. bench/sim-fidelity.ts prints the full table.
 */
import { describe, expect, it } from 'vitest';
import { FIDELITY_SCENARIOS } from '../bench/fidelity-scenarios.ts';
import { resolveScenario } from '../src/options.ts';
import type { PrecopyResult } from '../src/results/document.ts';
import { runScenario } from '../src/run.ts';
import { simulatePrecopy } from '../src/sim/run-simulated.ts';

const live = (p: PrecopyResult) => p.rounds.filter((r) => r.stage !== 'stop-and-copy').length;
const transferMs = (p: PrecopyResult) => p.stats['total-time'] - p.stats['setup-time'];
const rel = (a: number, b: number) => Math.abs(a - b) / b;

describe('simulate agrees with emulate', () => {
  it.each(['uniform', 'uniform-xen', 'hotset-hyperv', 'hotset-never', 'xbzrle'])('%s', async (name) => {
    const s = resolveScenario(FIDELITY_SCENARIOS.find((x) => x.name === name)!);
    const emu = (await runScenario(s, { methods: ['precopy'] })).precopy!;
    const sim = simulatePrecopy(s);
    expect(emu.verified).toBe(true);
    expect(sim.outcome).toBe(emu.outcome);
    expect(Math.abs(live(sim) - live(emu))).toBeLessThanOrEqual(1);
    expect(rel(sim.stats.ram.transferred, emu.stats.ram.transferred)).toBeLessThan(0.1);
    expect(rel(transferMs(sim), transferMs(emu))).toBeLessThan(0.1);
  }, 60_000);
});
