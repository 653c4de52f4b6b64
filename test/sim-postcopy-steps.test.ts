/**
 * Simulate mode's post-copy push, a step at a time (simulate-postcopy.ts completeStep, the loop's
 * stepped complete): a fleet re-divides the link between steps, so a post-copy phase must take many
 * short steps, each at the link share of its moment; cut into steps or not, one guest's result is the
 * same. Virtual-clock arithmetic only: holds at any machine speed.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { PrecopySimulation } from '../src/sim/simulate-precopy.ts';
import { STEP_LINK_MS } from '../src/sim/simulate-postcopy.ts';

/** 4 MiB, a 2 MiB hot set over 4 MiB/s that never converges; post-copy after the bulk round. */
const hot: ScenarioInput = {
  guest: { memory: '4MiB', vcpus: 1 },
  link: { bandwidth: '4MiB/s' },
  workload: { pattern: 'hotset', dirtyRate: '1000/s', workingSet: '2MiB', hotFraction: 1 },
  precopy: { downtimeLimitMs: 50, timeoutMs: 20_000 },
  postcopy: { enabled: true, startAfterRounds: 1 },
};
const PAGE_FRAME_MS_AT_4MIB = ((48 + 4096) * 1000) / 2 ** 22;

/** Step a simulation to its end; `share(stepsAfterSwitch)` sets its link share before each post-copy step. */
function drive(share: (stepsAfterSwitch: number) => number) {
  let switched = false;
  const sim = new PrecopySimulation(resolveScenario(hot), {
    onRound: (r) => {
      if (r.stage === 'stop-and-copy') switched = true; // the switch's record: the push follows
    },
  });
  const advances: number[] = [];
  while (!sim.done) {
    if (switched) sim.linkShare = share(advances.length);
    const before = sim.nowMs;
    sim.step();
    if (switched && !sim.done) advances.push(sim.nowMs - before);
  }
  return { result: sim.result(), advances };
}

describe('the post-copy push in steps (simulate mode)', () => {
  it('takes many steps, each about STEP_LINK_MS of link time (plus the requests served at its last look)', () => {
    const { result, advances } = drive(() => 1);
    expect(result.outcome).toBe('postcopy');
    const pushMs = result.postcopy!.durationMs;
    expect(advances.length).toBeGreaterThan(pushMs / (STEP_LINK_MS + PAGE_FRAME_MS_AT_4MIB) - 2); // not one step for the whole phase
    const rest = advances.slice(1); // (the first also covers the switch)
    expect(rest.reduce((a, b) => a + b, 0) / rest.length).toBeLessThanOrEqual(STEP_LINK_MS + PAGE_FRAME_MS_AT_4MIB);
    expect(Math.max(...rest)).toBeLessThan(4 * STEP_LINK_MS);
  });

  it('each step runs at the link share of its moment: half the link for the first half of the steps, then all of it', () => {
    const full = drive(() => 1).result;
    const steps = drive(() => 1).advances.length;
    const half = drive(() => 0.5).result;
    const mixed = drive((k) => (k < steps / 2 ? 0.5 : 1)).result;
    const d = (r: typeof full) => r.postcopy!.durationMs;
    expect(d(half)).toBeGreaterThan(1.9 * d(full)); // the same bytes at half the rate
    expect(d(mixed)).toBeGreaterThan(1.2 * d(full)); // the share changed within the phase (a one-step push would keep the first)
    expect(d(mixed)).toBeLessThan(0.9 * d(half));
  });
});
