/**
 * Scenario grids for the predictor's benches (bench/predict-speed.ts) and its output record
 * (bench/predict-grid.ts). Plain scenario inputs; each has a unique name.
 */
import type { ScenarioInput } from '../src/options.ts';

export const SPEED_PATTERNS = ['idle', 'uniform', 'hotset', 'zipf', 'sequential'] as const;
export const SPEED_RATES = ['2000/s', '20000/s', '200000/s'] as const;
export const SPEED_MEMORIES = ['1GiB', '64GiB', '1TiB'] as const;

/** The speed grid: every pattern × write rate × guest size on the default link and limits (idle once per size). */
export function speedCases(): ScenarioInput[] {
  const out: ScenarioInput[] = [];
  for (const memory of SPEED_MEMORIES) {
    for (const pattern of SPEED_PATTERNS) {
      for (const dirtyRate of pattern === 'idle' ? [SPEED_RATES[0]] : SPEED_RATES) {
        out.push({ name: `${pattern}-${dirtyRate.replace('/s', '')}-${memory}`, guest: { memory }, workload: { pattern, dirtyRate } });
      }
    }
  }
  return out;
}

type Variant = { tag: string; apply: (s: ScenarioInput) => ScenarioInput };

const VARIANTS: Variant[] = [
  { tag: 'default', apply: (s) => s },
  { tag: 'zero30', apply: (s) => ({ ...s, guest: { ...s.guest, fill: { zero: 0.3, random: 0.7 } } }) },
  { tag: 'autoconv', apply: (s) => ({ ...s, precopy: { ...s.precopy, autoConverge: true } }) },
  { tag: 'dirtylimit', apply: (s) => ({ ...s, precopy: { ...s.precopy, dirtyLimit: '4MB/s' } }) },
  { tag: 'xen', apply: (s) => ({ ...s, precopy: { ...s.precopy, policy: 'xen' } }) },
  { tag: 'vmotion', apply: (s) => ({ ...s, precopy: { ...s.precopy, policy: 'vmotion' } }) },
  { tag: 'rounds5', apply: (s) => ({ ...s, precopy: { ...s.precopy, maxRounds: 5 } }) },
  { tag: 'force10s', apply: (s) => ({ ...s, precopy: { ...s.precopy, timeoutMs: 10_000, onTimeout: 'force' } }) },
  { tag: 'cap-ws8g', apply: (s) => ({ ...s, workload: { ...s.workload, workingSet: ({ '64MiB': '8MiB', '1GiB': '128MiB' } as Record<string, string>)[String(s.guest?.memory)] ?? '8GiB', hotFraction: 1 }, precopy: { ...s.precopy, maxBandwidth: '500Mbit/s' } }) },
];

/** The record grid: patterns × rates × sizes × links × variants (1,215 scenarios). */
export function gridCases(): ScenarioInput[] {
  const out: ScenarioInput[] = [];
  for (const memory of ['64MiB', '1GiB', '1TiB']) {
    for (const bandwidth of ['1Gbit/s', '10Gbit/s', 'unlimited']) {
      for (const pattern of SPEED_PATTERNS) {
        for (const dirtyRate of SPEED_RATES) {
          for (const v of VARIANTS) {
            const base: ScenarioInput = {
              name: `${pattern}-${dirtyRate.replace('/s', '')}-${memory}-${bandwidth.replace('/s', '')}-${v.tag}`,
              guest: { memory, vcpus: 4 },
              workload: { pattern, dirtyRate },
              link: { bandwidth },
              precopy: {},
            };
            out.push(v.apply(base));
          }
        }
      }
    }
  }
  return out;
}
