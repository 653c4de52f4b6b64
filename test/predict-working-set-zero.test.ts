/**
 * Issue 21 item 4 in `predict`: `workload.workingSetZero` (the share of the hot set's pages that start as
 * zero; guest.fill for the rest) moves predict's zero pages as it moves simulate mode's. Before, predict
 * read guest.fill alone: its bulk round cost the same bytes whatever the hot set's share was, where
 * simulate mode's fell by ~40 % from 0 to 1 on this guest.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';
import { predict } from '../src/sim/predict/predict.ts';

const guest = (workingSetZero: number | null): ScenarioInput => ({
  guest: { memory: '256MiB', vcpus: 2, fill: { zero: 0.5, random: 0.5 } },
  workload: { pattern: 'hotset', dirtyRate: '1000/s', workingSet: '64MiB', workingSetZero },
  link: { bandwidth: '1Gbit/s' },
});

async function bulk(workingSetZero: number | null): Promise<{ predicted: number; simulated: number; predictedTotal: number; simulatedTotal: number }> {
  const s = resolveScenario(guest(workingSetZero));
  const p = predict(s).precopy;
  const sim = (await simulateScenario(s, { methods: ['precopy'] })).precopy!;
  return { predicted: p.rounds[0].bytes, simulated: sim.rounds[0].bytes, predictedTotal: p.stats.ram.transferred, simulatedTotal: sim.stats.ram.transferred };
}

describe('predict honours workload.workingSetZero', () => {
  it('bulk-round and total bytes follow simulate mode for a hot set that starts all, half or not zero', async () => {
    const runs = await Promise.all([0, 0.5, 1].map((z) => bulk(z)));
    for (const r of runs) {
      expect(Math.abs(r.predicted / r.simulated - 1)).toBeLessThan(0.05);
      expect(Math.abs(r.predictedTotal / r.simulatedTotal - 1)).toBeLessThan(0.05);
    }
    // the move from a non-zero hot set to an all-zero one, predicted against simulated
    const predictedMove = runs[0].predicted - runs[2].predicted;
    const simulatedMove = runs[0].simulated - runs[2].simulated;
    expect(simulatedMove).toBeGreaterThan(0.3 * runs[0].simulated);
    expect(Math.abs(predictedMove / simulatedMove - 1)).toBeLessThan(0.1);
  });

  it('null leaves guest.fill everywhere (the prediction of a scenario without the key)', () => {
    const a = predict(resolveScenario(guest(null)));
    const b = predict(resolveScenario({ ...guest(null), workload: { pattern: 'hotset', dirtyRate: '1000/s', workingSet: '64MiB' } }));
    expect(a.precopy.stats).toEqual(b.precopy.stats);
  });

  it("quick migration's zero pages: the hot set's share in it, guest.fill's outside", () => {
    const q = predict(resolveScenario(guest(1))).quick;
    // 16,384 hot pages all zero + half of the other 49,152
    expect(q.pages.zero).toBe(16384 + 24576);
    expect(predict(resolveScenario(guest(0))).quick.pages.zero).toBe(24576);
  });
});
