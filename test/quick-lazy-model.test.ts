/**
 * Lazy restore in the quick model (predict and simulate mode): the downtime without the restore, the
 * restore after the resume (total time), and its cost as expected stalls. Pure: no threads, no clock.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { lazyFaults, predictQuick } from '../src/sim/predict/quick-model.ts';
import { simulateQuick } from '../src/sim/run-simulated.ts';
import pc from 'picocolors';
import { lazyRestoreLines } from '../src/cli/lazy-restore-lines.ts';

const scenario = (restore: 'eager' | 'lazy', over: ScenarioInput = {}) =>
  resolveScenario({ ...over, guest: { memory: '1GiB', ...over.guest }, quick: { storageBandwidth: '200MiB/s', restore, ...over.quick } });

describe('the quick model with quick.restore "lazy"', () => {
  it.each(['stream', 'mapped'] as const)('%s: downtime = eager downtime − the restore (+ the index); the restore moves after the resume', (format) => {
    const eager = predictQuick(scenario('eager', { quick: { format } }));
    const lazy = predictQuick(scenario('lazy', { quick: { format } }));
    expect(eager.lazy).toBeNull();
    const l = lazy.lazy!;
    expect(lazy.phases.saveMs).toBe(eager.phases.saveMs);
    // before the resume only the header and the index (or the device-state record): well under 1 % of a 1 GiB image
    expect(l.bytesBeforeResume).toBeLessThan(eager.restoredBytes * 0.01);
    expect(lazy.stats.downtime).toBeLessThan(eager.stats.downtime - eager.phases.restoreMs * 0.99);
    expect(lazy.stats['total-time']).toBeCloseTo(lazy.stats.downtime + l.fillMs, 6);
    // the whole image is still read (the same bytes but the index's share, at the same rate)
    expect(Math.abs(lazy.stats['total-time'] - eager.stats['total-time'])).toBeLessThan(eager.phases.restoreMs * 0.01);
    expect(l.expectedStallTotalMs).toBeCloseTo(l.expectedFaults * l.expectedStallMs, 6);
    expect(lazy.why).toMatch(/lazy restore/);
  });

  it('expected faults: none for an idle guest; nearly every page for a guest touching far faster than the fill; the hot set first', () => {
    expect(lazyFaults(scenario('lazy', { workload: { pattern: 'idle' } }), 5000)).toBe(0);
    const N = (1 << 30) / 4096;
    const fast = lazyFaults(scenario('lazy', { workload: { pattern: 'uniform', dirtyRate: '100000000/s' } }), 5000);
    expect(fast).toBeGreaterThan(N * 0.99);
    expect(fast).toBeLessThanOrEqual(N);
    // hotset: the hot set (the first pages) is read first, so it faults less than the same rate spread evenly
    const hot = lazyFaults(scenario('lazy', { workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '64MiB', hotFraction: 0.9 } }), 5000);
    const uniform = lazyFaults(scenario('lazy', { workload: { pattern: 'uniform', dirtyRate: '20000/s' } }), 5000);
    expect(hot).toBeGreaterThan(0);
    expect(hot).toBeLessThan(uniform);
  });

  it('expected faults of a uniform guest equal the sum over pages of P(touched before the background reads it)', () => {
    const s = scenario('lazy', { guest: { memory: '16MiB' }, workload: { pattern: 'uniform', dirtyRate: '30000/s' } });
    const N = 4096;
    const T = 0.8;
    let sum = 0;
    for (let p = 0; p < N; p++) sum += 1 - Math.exp(-(30000 / N) * ((T * (p + 0.5)) / N));
    expect(lazyFaults(s, T * 1000)).toBeCloseTo(sum, 0);
  });

  it('simulate mode: the quick result carries the modelled lazy figures', () => {
    const s = scenario('lazy', { workload: { pattern: 'uniform', dirtyRate: '50000/s' } });
    const q = simulateQuick(s);
    const l = q.lazy!;
    expect(l.resumedMs).toBe(q.stats.downtime);
    expect(l.completedMs).toBe(q.stats['total-time']);
    expect(l.faults).toBeGreaterThan(0);
    expect(l.faultPages + l.zeroFaultPages + l.backgroundPages).toBe(q.pages.total);
    expect(q.stats['postcopy-vcpu-blocktime']).toHaveLength(s.guest.vcpus);
    expect(q.restoredBytes).toBe(l.bytesBeforeResume + l.faultBytes + l.backgroundBytes);
    expect(simulateQuick(scenario('eager')).lazy).toBeUndefined();
  });
});

describe('the terminal lines of a lazy restore', () => {
  const c = pc.createColors(false);
  it('only the latency histogram the summary table has no room for, in emulate mode; none when simulated or eager', () => {
    const q = simulateQuick(scenario('lazy', { workload: { pattern: 'uniform', dirtyRate: '50000/s' } }));
    expect(lazyRestoreLines(q, true, c)).toEqual([]); // no histogram is modelled
    expect(lazyRestoreLines(simulateQuick(scenario('eager')), false, c)).toEqual([]);
    const dist = Array.from({ length: 24 }, (_, i) => (i === 5 ? 1234 : i === 9 ? 7 : 0));
    const measured = { ...q, stats: { ...q.stats, 'postcopy-latency-dist': dist } };
    expect(lazyRestoreLines(measured, false, c)).toEqual(['lazy restore  stall latency 32µs–64µs 1,234 · 512µs–1.02 ms 7']);
  });
});
