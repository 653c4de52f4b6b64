/**
 * Simulate mode's work bound (src/sim/work-bound.ts): the attack scenarios of issue 20 are refused
 * up front with the keys to change, every bench suite and the README's commands are not, and the
 * estimate really bounds what a simulation models (seeded random small scenarios, run to the end).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { applyOverrides, resolveScenario } from '../src/options.ts';
import { checkSimulatable, simulateScenario } from '../src/sim/run-simulated.ts';
import { PrecopySimulation } from '../src/sim/simulate-precopy.ts';
import { MAX_SIM_WRITES, simulationWork, simulationWorkProblem, writeWeight } from '../src/sim/work-bound.ts';
import { expandSuite } from '../src/suite/suite-file.ts';
import { METHODS } from '../src/results/document.ts';
import { Rng } from '../src/workload/rng.ts';

const scenario = (...sets: string[]) => resolveScenario(applyOverrides({}, sets));

function refusal(sets: string[]): MigbenchError {
  try {
    checkSimulatable(scenario(...sets), METHODS);
  } catch (error) {
    if (error instanceof MigbenchError) return error;
    throw error;
  }
  throw new Error(`not refused: ${sets.join(' ')}`);
}

describe('simulate mode refuses unbounded work before simulating (issue 20, attack 4)', () => {
  it.each([
    [['guest.memory=64MiB', 'workload.dirtyRate=10M/s'], 'workload.dirtyRate', /lower workload\.dirtyRate or precopy\.timeoutMs/],
    [['guest.memory=64MiB', 'workload.dirtyRate=100M/s'], 'workload.dirtyRate', /lower workload\.dirtyRate or precopy\.timeoutMs/],
    [['guest.memory=64MiB', 'workload.dirtyRate=1G/s'], 'workload.dirtyRate', /lower workload\.dirtyRate or precopy\.timeoutMs/],
    [['guest.memory=64MiB', 'workload.dirtyRate=10G/s'], 'link.bandwidth', /in one step .*raise link\.bandwidth or lower workload\.dirtyRate/],
    [['guest.memory=64MiB', 'link.bandwidth=1bit/s'], 'link.bandwidth', /raise link\.bandwidth or lower workload\.dirtyRate/],
    [['guest.memory=64MiB', 'link.bandwidth=2Mbit/s', 'precopy.maxBandwidth=1bit/s'], 'precopy.maxBandwidth', /raise precopy\.maxBandwidth/],
    [['guest.memory=1GiB', 'workload.dirtyRate=1000000/s', 'precopy.xbzrle={"enabled":true}'], 'workload.dirtyRate', /each counts 8 with precopy\.xbzrle/],
    [['guest.memory=1GiB', 'workload.dirtyRate=500000/s', 'workload.pattern=zipf'], 'workload.dirtyRate', /each counts 4 with workload\.pattern zipf\)/],
    [['guest.memory=1TiB', 'fleet={"count":10000,"concurrency":1}'], 'fleet.count', /lower fleet\.count or guest\.memory/],
  ])('%j: E_SCENARIO naming %s', (sets, key, fix) => {
    const e = refusal(sets);
    expect(e.code).toBe('E_SCENARIO');
    expect(e.message.startsWith(`${key}: simulate mode models at most`)).toBe(true);
    expect(e.message).toMatch(fix);
    expect(e.message).not.toContain('\n');
  });

  it('a timeout long enough tips an otherwise fine scenario over, and the message says how long the live phase may last', () => {
    expect(simulationWorkProblem(scenario('workload.dirtyRate=1000000/s', 'precopy.timeoutMs=60s'), METHODS)).toBeNull();
    expect(refusal(['workload.dirtyRate=1000000/s', 'precopy.timeoutMs=10min']).message).toMatch(/up to precopy\.timeoutMs \(10\.0 min\)/);
  });

  it('only pre-copy writes: a quick-only run, or an idle guest, models no writes', () => {
    expect(simulationWork(scenario('workload.dirtyRate=1G/s'), ['quick']).writes).toBe(0);
    expect(simulationWork(scenario('workload.dirtyRate=1G/s', 'workload.pattern=idle'), METHODS).writes).toBe(0);
  });

  it('accepts every bench suite benchmark and the README commands', () => {
    for (const file of ['smoke', 'standard']) {
      const suite = expandSuite(JSON.parse(readFileSync(new URL(`../bench/suites/${file}.json`, import.meta.url), 'utf8')));
      for (const b of suite.benchmarks) expect(simulationWorkProblem(b.scenario, METHODS), `${file}/${b.name}`).toBeNull();
    }
    for (const sets of [
      ['guest.memory=1TiB', 'workload.workingSet=8GiB', 'link.bandwidth=10Gbit/s', 'precopy.timeoutMs=2h'],
      ['guest.memory=1TiB', 'precopy.timeoutMs=2h'],
      ['guest.memory=1TiB', 'link.bandwidth=10Gbit/s', 'precopy.timeoutMs=2h'],
      ['guest.memory=4GiB', 'workload.pattern=hotset', 'workload.workingSet=256MiB', 'workload.dirtyRate=100000/s', 'link.bandwidth=10Gbit/s'],
      ['guest.memory=16GiB', 'link.bandwidth=10Gbit/s', 'fleet={"count":8,"concurrency":2}'],
      ['guest.memory=256GiB', 'workload.dirtyRate=200000/s', 'workload.pattern=zipf'],
      ['guest.memory=256GiB', 'precopy.downtimeLimitMs=30', 'link.bandwidth=10Gbit/s'],
    ]) {
      expect(simulationWorkProblem(scenario(...sets), METHODS), sets.join(' ')).toBeNull();
    }
  });

  it('simulateScenario refuses it too (the library entry, not only the CLI)', async () => {
    await expect(simulateScenario(scenario('guest.memory=64MiB', 'workload.dirtyRate=1G/s'))).rejects.toThrow(/simulate mode models at most/);
  });

  it('is a true bound: on seeded random small scenarios, the live phase and the writes stay below the estimate', () => {
    const rng = new Rng(20);
    const pick = <T,>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)];
    for (let i = 0; i < 40; i++) {
      const sets = [
        `guest.memory=${pick(['1MiB', '2MiB', '4MiB'])}`,
        `guest.pageSize=${pick([512, 4096, 65536])}`,
        `workload.pattern=${pick(['uniform', 'hotset', 'zipf', 'sequential'])}`,
        `workload.dirtyRate=${pick([1000, 20000, 200000])}`,
        `workload.workingSet=${pick(['256KiB', '1MiB'])}`,
        `link.bandwidth=${pick(['200kbit/s', '2Mbit/s', '100Mbit/s'])}`,
        `precopy.timeoutMs=${pick([50, 500, 3000])}`,
        `precopy.onTimeout=${pick(['cancel', 'force'])}`,
        `precopy.xbzrle={"enabled":${pick(['true', 'false'])},"cacheSize":"256KiB"}`,
        `guest.vcpus=${pick([1, 3])}`,
      ];
      const s = scenario(...sets);
      const w = simulationWork(s, ['precopy']);
      const sim = new PrecopySimulation(s);
      const r = sim.run();
      const writes = r.workload.achievedPagesPerSec * (r.engine.liveDurationMs / 1000);
      expect(r.engine.liveDurationMs, sets.join(' ')).toBeLessThan(w.liveBoundMs);
      expect(writes, sets.join(' ')).toBeLessThanOrEqual(w.writes / writeWeight(s) + s.guest.vcpus);
      // every step's virtual time stays below the step bound
      const steps = new PrecopySimulation(s);
      let before = 0;
      while (!steps.done) {
        steps.step();
        if (steps.phase === 'live') expect(steps.nowMs - before).toBeLessThan(w.stepBoundMs);
        before = steps.nowMs;
      }
    }
    expect(MAX_SIM_WRITES).toBeGreaterThanOrEqual(1.44e8); // the README's 1 TiB example: 20,000/s for 2 h
  });
});
