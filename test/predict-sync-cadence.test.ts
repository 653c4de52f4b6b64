/**
 * Issue 15's cadence in `predict`: the fluid model syncs where the engine's loop does (convergence.ts
 * `iterationEnded`: at the end of one of QEMU's iterations, a rate-limit window's budget of bytes or
 * nothing left, once what is left is at or below the threshold) and counts the sync that starts dirty
 * logging. Held against simulate mode (the engine's own loop, deterministic) on the shared QEMU logs'
 * fitted scenarios and a few synthetic ones: dirty-sync-count within ±2. Before, predict re-synced as
 * soon as the remainder fell under the threshold: 16 syncs where simulate mode (and QEMU) made 8 on the
 * medium-dirtying guest at 32 MiB/s, 27 against 11 on a uniform guest.
 * The XBZRLE log too, now that predict models XBZRLE (test/predict-xbzrle.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';
import { predict } from '../src/sim/predict/predict.ts';

const fitted = (name: string): ScenarioInput => fitLog(readQmpLog(readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8')), name).scenario;

const CASES: [string, ScenarioInput][] = [
  ['QEMU log idle_bw128_dt300 (QEMU: 3 syncs)', fitted('idle_bw128_dt300')],
  ['QEMU log med_bw32_dt300 (QEMU: 8 syncs)', fitted('med_bw32_dt300')],
  ['QEMU log high_bw128_dt300_xbzrle256 (QEMU: 6 syncs)', fitted('high_bw128_dt300_xbzrle256')],
  ['sequential 64 MiB, 30 ms', { guest: { memory: '64MiB', vcpus: 1, deviceState: 0 }, workload: { pattern: 'sequential', dirtyRate: 5000 }, link: { bandwidth: '1Gbit/s' }, precopy: { downtimeLimitMs: 30 } }],
  ['uniform 256 MiB, 30 ms', { guest: { memory: '256MiB', vcpus: 2 }, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link: { bandwidth: '1Gbit/s' }, precopy: { downtimeLimitMs: 30 } }],
  ['hotset 256 MiB, 300 ms', { guest: { memory: '256MiB', vcpus: 2 }, workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '32MiB' }, link: { bandwidth: '1Gbit/s' }, precopy: { downtimeLimitMs: 300 } }],
  ['zipf 256 MiB, 100 ms', { guest: { memory: '256MiB', vcpus: 2 }, workload: { pattern: 'zipf', dirtyRate: '20000/s' }, link: { bandwidth: '1Gbit/s' }, precopy: { downtimeLimitMs: 100 } }],
  ['uniform 512 MiB at 32 MiB/s', { guest: { memory: '512MiB', vcpus: 1 }, workload: { pattern: 'uniform', dirtyRate: '3000/s', workingSet: '128MiB' }, link: { bandwidth: '1Gbit/s' }, precopy: { maxBandwidth: '32MiB/s', downtimeLimitMs: 300 } }],
];

describe('predict syncs as often as simulate mode (QEMU cadence)', () => {
  it.each(CASES)('%s: dirty-sync-count within ±2, the same outcome', async (_name, input) => {
    const s = resolveScenario(input);
    const p = predict(s).precopy;
    const sim = (await simulateScenario(s, { methods: ['precopy'] })).precopy!;
    expect(p.outcome).toBe(sim.outcome);
    expect(Math.abs(p.stats.ram['dirty-sync-count'] - sim.stats.ram['dirty-sync-count'])).toBeLessThanOrEqual(2);
    // the setup sync, one per live round, the final one
    expect(p.stats.ram['dirty-sync-count']).toBe(p.rounds.length + 1);
  });
});
