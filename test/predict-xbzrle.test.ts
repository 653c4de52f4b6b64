/**
 * Issue 15: `predict` models XBZRLE (xbzrle-model.ts, the cache in pending-set.ts). After the bulk
 * round a re-sent page that hits the cache goes as a delta sized by workload.writeBytes, a miss in full;
 * the switchover still counts dirty pages. Held against simulate mode (the engine's loop with the real
 * cache book and the content model's deltas). Before, predict sent every page in full: on the shared
 * XBZRLE log it said "cancelled at the timeout, 592 syncs" where simulate mode (and QEMU) converge in 6.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';
import { predict } from '../src/sim/predict/predict.ts';

const fitted = (name: string): ScenarioInput => fitLog(readQmpLog(readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8')), name).scenario;

async function both(input: ScenarioInput) {
  const s = resolveScenario(input);
  return { p: predict(s).precopy, sim: (await simulateScenario(s, { methods: ['precopy'] })).precopy! };
}

describe('predict models XBZRLE', () => {
  it('the shared XBZRLE log (QEMU: 6 syncs): converges, syncs within ±2, time and bytes within 25 % of simulate mode', async () => {
    const { p, sim } = await both(fitted('high_bw128_dt300_xbzrle256'));
    expect(sim.outcome).toBe('converged');
    expect(p.outcome).toBe('converged');
    expect(Math.abs(p.stats.ram['dirty-sync-count'] - sim.stats.ram['dirty-sync-count'])).toBeLessThanOrEqual(2);
    expect(Math.abs(p.stats['total-time'] / sim.stats['total-time'] - 1)).toBeLessThan(0.25);
    expect(Math.abs(p.stats.ram.transferred / sim.stats.ram.transferred - 1)).toBeLessThan(0.25);
    // hits are neither zero nor normal pages, as simulate mode counts them
    expect(p.stats.ram.normal + p.stats.ram.duplicate).toBeLessThan(p.rounds.reduce((n, r) => n + r.sentPages, 0));
  });

  // a 256 MiB guest writing a 64 or 128 MiB hot set flat out, 1 Gbit/s, 300 ms: without XBZRLE none converges
  const hot = (workingSet: string, cacheSize: string, dirtyRate: string): ScenarioInput => ({
    guest: { memory: '256MiB', vcpus: 2 },
    workload: { pattern: 'hotset', dirtyRate, workingSet, hotFraction: 1 },
    link: { bandwidth: '1Gbit/s' },
    precopy: { downtimeLimitMs: 300, timeoutMs: 10_000, xbzrle: { enabled: true, cacheSize } },
  });
  it.each([
    ['hot set below the cache', 'converged', hot('64MiB', '128MiB', '60000/s')],
    ['hot set at the cache', 'converged', hot('128MiB', '128MiB', '60000/s')],
    ['hot set twice the cache', 'converged', hot('64MiB', '32MiB', '60000/s')],
    ['hot set four times the cache', 'cancelled', hot('128MiB', '32MiB', '60000/s')],
  ] as const)('%s: the same outcome as simulate mode (%s)', async (_name, outcome, input) => {
    const { p, sim } = await both(input);
    expect(sim.outcome).toBe(outcome);
    expect(p.outcome).toBe(outcome);
    if (outcome === 'converged') expect(Math.abs(p.stats.ram['dirty-sync-count'] - sim.stats.ram['dirty-sync-count'])).toBeLessThanOrEqual(3);
    // and without XBZRLE it would not converge at all
    const plain = predict(resolveScenario({ ...input, precopy: { ...input.precopy, xbzrle: { enabled: false } } })).precopy;
    expect(plain.outcome).not.toBe('converged');
  });
});
