import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { adviseAfterTimeout } from '../src/sim/predict/explain.ts';
import { predict } from '../src/sim/predict/predict.ts';

// Issue 18 item 3: the hint after a timeout used to say "raise it, e.g. precopy.timeoutMs=2h" even when the
// command already set 2h, and for guests that can never converge. It now says what the model knows.
const advise = (input: ScenarioInput) => {
  const s = resolveScenario(input);
  return adviseAfterTimeout(s, predict(s).precopy);
};

describe('advice after a pre-copy timeout', () => {
  it('a migration that converges later: suggests a timeout above the modelled time, not the one already set', () => {
    const line = advise({ guest: { memory: '1TiB' }, precopy: { timeoutMs: '2h' } });
    expect(line).toMatch(/converge after 2\.\d+ h/);
    const suggested = /precopy\.timeoutMs=(\d+)h/.exec(line);
    expect(suggested).not.toBeNull();
    expect(Number(suggested![1])).toBeGreaterThan(2);
  });

  it('λ ≥ 1: says a longer timeout will not help, and why', () => {
    const line = advise({
      guest: { memory: '64MiB' },
      workload: { pattern: 'uniform', dirtyRate: '100000/s' },
      link: { bandwidth: '100Mbit/s' },
      precopy: { timeoutMs: '10s' },
    });
    expect(line).toContain('will not help');
    expect(line).toMatch(/λ = \d+\.\d\d/);
    expect(line).not.toContain('e.g. --set precopy.timeoutMs');
  });

  it('a hot set above the switchover threshold: names the working set', () => {
    const line = advise({
      guest: { memory: '1GiB' },
      workload: { pattern: 'hotset', workingSet: '512MiB', dirtyRate: '200000/s', hotFraction: 1 },
      precopy: { timeoutMs: '30s', downtimeLimitMs: 30 },
    });
    expect(line).toContain('will not help');
    expect(line).toContain('working set');
  });

  it('under a bound on the timeout (simulate mode models bounded work): a timeout that fits, or predict when none does', () => {
    const s = resolveScenario({ guest: { memory: '1TiB' }, precopy: { timeoutMs: '2h' } });
    const p = predict(s).precopy;
    const needMs = p.timeToConvergeMs!;
    const roomy = adviseAfterTimeout(s, p, needMs * 1.1);
    const minutes = Number(/precopy\.timeoutMs=(\d+)min/.exec(roomy)![1]);
    expect(minutes * 60_000).toBeGreaterThanOrEqual(needMs);
    expect(minutes * 60_000).toBeLessThanOrEqual(needMs * 1.1);
    const none = adviseAfterTimeout(s, p, needMs * 0.9);
    expect(none).toContain('migbench predict');
    expect(none).not.toContain('e.g. --set precopy.timeoutMs');
  });

  it('one line', () => {
    expect(advise({ guest: { memory: '1TiB' }, precopy: { timeoutMs: '2h' } })).not.toContain('\n');
  });
});
