/**
 * The fluid loop's early steady state (src/sim/predict/steady-state.ts): a geometric approach of the
 * excess over V_thd to a limit clearly above 0 ends the loop early (a migration that never converges);
 * anything else (a fall to 0, a drifting ratio, an oscillation) is left to the loop. And on whole
 * predictions: verdicts the 64-round rule gave stay as they were (a first version with a looser test
 * called a Zipf guest that converges after 51 rounds, and a sweep that converges after 29, stuck).
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario } from '../src/options.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { geometricLimit, geometricTailSum, settledAbove } from '../src/sim/predict/steady-state.ts';

const seq = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('settledAbove', () => {
  it('a geometric approach to a limit above 0 (falling or rising): its ratio', () => {
    expect(settledAbove(seq(12, (i) => 1000 + 5000 * 0.5 ** i))).toBeCloseTo(0.5, 9);
    expect(settledAbove(seq(9, (i) => 80_000 - 30_000 * 0.3 ** i))).toBeCloseTo(0.3, 9);
  });

  it('a fixed point: 0', () => {
    expect(settledAbove(seq(12, () => 119_523.2))).toBe(0);
  });

  it('a geometric fall to 0 (a migration that converges) is not settled, even with the ratios a little off', () => {
    expect(settledAbove(seq(20, (i) => 1e6 * 0.655 ** i))).toBeNull();
    // the last ratio a little low makes Aitken's limit come out positive (+4,100 here): still not settled
    const e = [131_518.467, 85_258.872, 55_809.432];
    const before = seq(8, (i) => e[0] / 0.655 ** (8 - i));
    expect(settledAbove([...before, ...e])).toBeNull();
  });

  it('a drifting ratio (a Zipf tail: 0.42, 0.47, 0.52 … per round) is not settled', () => {
    let x = 1e6;
    let d = -4e5;
    const e = [x];
    for (let i = 0; i < 14; i++) {
      x += d;
      e.push(x);
      d *= 0.42 + 0.05 * i;
    }
    expect(settledAbove(e)).toBeNull();
  });

  it('an oscillation, too few rounds, or an excess at 0: not settled', () => {
    expect(settledAbove(seq(16, (i) => 60_000 + (i % 2 ? 5000 : -5000)))).toBeNull();
    expect(settledAbove(seq(6, (i) => 1000 + 5000 * 0.5 ** i))).toBeNull();
    expect(settledAbove(seq(12, () => 0))).toBeNull();
  });
});

describe('the geometric tail', () => {
  it('sums the next m values as the loop would', () => {
    const rho = 0.4;
    const x = (i: number): number => 50 + 30 * rho ** i;
    const want = seq(25, (j) => x(j + 11)).reduce((a, b) => a + b, 0);
    expect(geometricTailSum(x(9), x(10), rho, 25)).toBeCloseTo(want, 9);
    expect(geometricLimit(x(9), x(10), rho)).toBeCloseTo(50, 9);
    expect(geometricTailSum(7, 7, 0, 100)).toBe(700);
  });
});

describe('verdicts kept', () => {
  const grid = (pattern: string, dirtyRate: string, over: object = {}) =>
    predict(resolveScenario({ guest: { memory: '1TiB', vcpus: 4 }, workload: { pattern, dirtyRate } as never, link: { bandwidth: '1Gbit/s' }, precopy: {}, ...over })).precopy;

  it('a Zipf guest with a capped working set converges after 51 live rounds; a 20,000/s sweep after 29', () => {
    const zipf = grid('zipf', '20000/s', { workload: { pattern: 'zipf', dirtyRate: '20000/s', workingSet: '8GiB', hotFraction: 1 }, precopy: { maxBandwidth: '500Mbit/s' } });
    expect(zipf.converges).toBe(true);
    expect(zipf.roundsToConverge).toBe(51);
    const sweep = grid('sequential', '20000/s');
    expect(sweep.converges).toBe(true);
    expect(sweep.roundsToConverge).toBe(29);
  });

  it('a hot set written at 200,000/s never converges: the working set stays above the threshold', () => {
    const hot = grid('hotset', '200000/s');
    expect(hot.converges).toBe(false);
    expect(hot.nonConvergence).toBe('working-set-above-threshold');
  });
});
