import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { closedFormPrecopy } from '../src/sim/predict/closed-form.ts';
import { simulatePrecopy, simulateQuick, simulateScenario } from '../src/sim/run-simulated.ts';
import { PrecopySimulation } from '../src/sim/simulate-precopy.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { renderRunReport } from '../src/report/html.ts';
import { renderSummary } from '../src/report/summary.ts';
import { colorsFor } from '../src/report/style.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const live = (r: { rounds: { stage: string }[] }) => r.rounds.filter((x) => x.stage !== 'stop-and-copy').length;

describe('simulate mode against DESIGN §6 where the model is exact', () => {
  // A sequential sweep by one vCPU dirties every page at most once per round (no overlap); a
  // round-based policy whose rule is "pending fits the downtime limit at the round's rate"
  // (cloud-hypervisor's) ends exactly where the closed form's n does. M = 10^6 pages makes every
  // V_i = M·λ^i (i <= 6) a whole number of pages, so nothing is lost to rounding.
  const PAGES = 1_000_000;
  const ps = 4096;
  const M = PAGES * ps;
  const cases: [number, number, number][] = [];
  for (const lambda of [0.2, 0.5, 0.9]) for (const limitMs of [30, 300]) cases.push([lambda, limitMs, limitMs === 30 ? 2 : 4]);
  it.each(cases)('λ = %s, downtime limit %s ms: rounds equal, bytes and times within 1e-6', (lambda, limitMs, n) => {
    // V_thd = 1.05 · M · λ^n: between V_n and V_{n-1}, so the closed form needs exactly n rounds
    const thd = 1.05 * M * lambda ** n;
    const R = thd / (limitMs / 1000);
    const deviceState = 64 * 1024;
    const s = resolveScenario({
      guest: { memory: M, pageSize: ps, vcpus: 1, fill: 'random', deviceState },
      workload: { pattern: 'sequential', dirtyRate: (lambda * R) / ps },
      link: { bandwidth: R },
      precopy: { policy: 'cloud-hypervisor', downtimeLimitMs: limitMs, maxBandwidth: 'unlimited', timeoutMs: 1e12 },
    });
    const cf = closedFormPrecopy({ memoryBytes: M, dirtyRateBytesPerSec: lambda * R, liveRateBytesPerSec: R, linkRateBytesPerSec: R, downtimeLimitMs: limitMs, maxRounds: null, deviceStateBytes: deviceState });
    expect(cf.n).toBe(n);
    const sim = simulatePrecopy(s, { frameOverhead: false });
    expect(sim.outcome).toBe('converged');
    expect(live(sim)).toBe(cf.n);
    for (let i = 0; i <= n; i++) expect(rel(sim.rounds[i].sentPages * ps, cf.roundBytes[i])).toBeLessThan(1e-6);
    expect(rel(sim.stats.ram.transferred, cf.totalBytes + deviceState)).toBeLessThan(1e-6);
    expect(rel(sim.stats['total-time'], cf.totalTimeMs)).toBeLessThan(1e-6);
    expect(rel(sim.stats.downtime!, cf.downtimeMs)).toBeLessThan(1e-6);
  });

  it('an idle guest on an idle link: one round, total time = memory ÷ bandwidth exactly', async () => {
    const R = 100e6; // the threshold (R × 300 ms) is not a whole number of frames: the bulk round's leftover is below it
    const s = resolveScenario({ guest: { memory: 256 * MiB, deviceState: 0 }, workload: { pattern: 'idle' }, link: { bandwidth: R }, precopy: { maxBandwidth: 'unlimited' } });
    const sim = simulatePrecopy(s, { frameOverhead: false });
    expect(sim.outcome).toBe('converged');
    expect(live(sim)).toBe(1);
    expect(sim.stats['total-time']).toBeCloseTo(((256 * MiB) / R) * 1000, 9);
    expect(sim.stats.downtime!).toBeLessThan(300); // QEMU's rule leaves up to a threshold's worth for the stop-and-copy
    expect(sim.stats.ram.transferred).toBe(256 * MiB);
  });
});

const base: ScenarioInput = {
  guest: { memory: '64MiB', vcpus: 2 },
  workload: { pattern: 'hotset', dirtyRate: '4000/s', workingSet: '4MiB' },
  link: { bandwidth: '200Mbit/s' },
  precopy: { downtimeLimitMs: 100 },
};
/** the document without what moves with the wall clock (each method's wall time and speedup too) */
const strip = (d: ResultDocument) => {
  const per = d.simulation?.perMethod;
  const wallFree = (m: 'precopy' | 'quick') => (per?.[m] ? { ...per[m], wallTimeMs: 0, speedup: 0 } : null);
  return JSON.stringify({ ...d, startedAt: 0, finishedAt: 0, git: 0, env: 0, simulation: { ...d.simulation, wallTimeMs: 0, speedup: 0, perMethod: { precopy: wallFree('precopy'), quick: wallFree('quick') } } });
};

describe('simulate mode', () => {
  it('is deterministic: the same scenario and seed give the same document', async () => {
    for (const pattern of ['uniform', 'hotset', 'zipf', 'sequential'] as const) {
      const s = resolveScenario({ ...base, workload: { ...base.workload, pattern }, precopy: { xbzrle: { enabled: true } } });
      expect(strip(await simulateScenario(s))).toBe(strip(await simulateScenario(s)));
    }
    const other = await simulateScenario(resolveScenario({ ...base, seed: 2 }));
    expect(strip(other)).not.toBe(strip(await simulateScenario(resolveScenario(base))));
  });

  it('produces the emulate document shape with mode, speedup and QEMU stats', async () => {
    const d = await simulateScenario(resolveScenario(base));
    expect(d.mode).toBe('simulate');
    expect(d.simulation!.speedup).toBeGreaterThan(0);
    expect(d.simulation!.modelledTimeMs).toBeCloseTo(d.precopy!.stats['total-time'] + d.quick!.stats['total-time'], 6);
    // issue 21 item 3: each method's own speedup, not one figure over both modelled times
    const per = d.simulation!.perMethod!;
    for (const m of ['precopy', 'quick'] as const) {
      const x = per[m]!;
      expect(x.modelledTimeMs).toBe(d[m]!.stats['total-time']);
      expect(x.speedup).toBeCloseTo(x.modelledTimeMs / x.wallTimeMs, 6);
    }
    expect(per.precopy!.wallTimeMs + per.quick!.wallTimeMs).toBeLessThanOrEqual(d.simulation!.wallTimeMs + 1e-6);
    const only = await simulateScenario(resolveScenario(base), { methods: ['precopy'] });
    expect(only.simulation!.perMethod!.quick).toBeNull();
    expect(only.simulation!.perMethod!.precopy!.modelledTimeMs).toBe(only.simulation!.modelledTimeMs);
    const p = d.precopy!;
    expect(p.outcome).toBe('converged');
    expect(p.stats.status).toBe('completed');
    expect(p.verified).toBeNull();
    expect(p.stats.ram['dirty-sync-count']).toBe(p.rounds.length + 1); // one sync per round, and QEMU's at the start of dirty logging
    expect(p.stats.ram.transferred).toBe(p.rounds.reduce((a, r) => a + r.bytes, 0));
    expect(p.stats.ram['precopy-bytes'] + p.stats.ram['downtime-bytes']).toBe(p.stats.ram.transferred);
    expect(p.stats.ram.normal + p.stats.ram.duplicate).toBe(p.rounds.reduce((a, r) => a + r.sentPages, 0));
    // pending < threshold at the switchover; then frame headers and 256 KiB of device state at 25 MB/s
    expect(p.stats.downtime!).toBeLessThan(100 + 10.5 + 2);
    expect(p.series.length).toBeGreaterThan(3);
    expect(d.comparison!.downtimeRatio).toBeGreaterThan(1);
  });

  it('a working set above the threshold does not converge; maxRounds forces the stop', async () => {
    const s = resolveScenario({ ...base, workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '32MiB', hotFraction: 1 }, precopy: { downtimeLimitMs: 30, maxRounds: 8 } });
    const p = simulatePrecopy(s);
    expect(p.outcome).toBe('forced-stop');
    expect(p.reason).toBe('max-rounds');
    expect(live(p)).toBe(8);
    expect(p.stats.downtime!).toBeGreaterThan(30);
  });

  it('a timeout cancels: the guest stays on the source', async () => {
    const s = resolveScenario({ ...base, workload: { pattern: 'uniform', dirtyRate: '100000/s' }, precopy: { timeoutMs: 2000 } });
    const p = simulatePrecopy(s);
    expect(p.outcome).toBe('cancelled');
    expect(p.reason).toBe('timeout');
    expect(p.stats.downtime).toBeNull();
    expect(p.stats['total-time']).toBeGreaterThanOrEqual(2000);
    expect(p.stats['total-time']).toBeLessThan(2010);
  });

  it('XBZRLE turns a non-converging small-write scenario into a converging one, with QEMU xbzrle-cache stats', async () => {
    const input: ScenarioInput = {
      guest: { memory: '16MiB' },
      workload: { pattern: 'uniform', dirtyRate: '12000/s', writeBytes: 8 },
      link: { bandwidth: '32MiB/s' },
      precopy: { downtimeLimitMs: 100, maxRounds: 30 },
    };
    const plain = simulatePrecopy(resolveScenario(input));
    expect(plain.outcome).toBe('forced-stop');
    const x = simulatePrecopy(resolveScenario({ ...input, precopy: { ...input.precopy, xbzrle: { enabled: true, cacheSize: '32MiB' } } }));
    expect(x.outcome).toBe('converged');
    const c = x.stats['xbzrle-cache']!;
    expect(c.pages).toBeGreaterThan(0);
    expect(c['cache-size']).toBe(32 * MiB);
    expect(x.xbzrle!.pages).toBeGreaterThan(0);
    expect(x.stats.ram.transferred).toBeLessThan(plain.stats.ram.transferred);
  });

  it('zero pages cost a header, and written zero pages stop being zero', async () => {
    const s = resolveScenario({ ...base, guest: { memory: '64MiB', fill: { zero: 1, random: 1 } }, workload: { pattern: 'uniform', dirtyRate: '2000/s' }, precopy: { policy: 'hyperv' } });
    const p = simulatePrecopy(s);
    const bulk = p.rounds[0];
    expect(bulk.zeroPages / bulk.sentPages).toBeGreaterThan(0.45);
    expect(bulk.zeroPages / bulk.sentPages).toBeLessThan(0.55);
    // a round-based policy sends all it found: later rounds send only written pages, none of them zero
    for (const r of p.rounds.slice(1, -1)) expect(r.zeroPages).toBe(0);
  });

  it('compression: text compresses by the ratio zlib measures on sample pages, random does not', async () => {
    const text = simulatePrecopy(resolveScenario({ ...base, guest: { memory: '64MiB', fill: 'text' }, precopy: { compression: 'zlib' } }));
    expect(text.compression!.ratio!).toBeGreaterThan(2);
    const random = simulatePrecopy(resolveScenario({ ...base, precopy: { compression: 'zlib' } }));
    expect(random.compression!.frames).toBe(0);
    const zstd = (await simulateScenario(resolveScenario({ ...base, guest: { memory: '64MiB', fill: 'text' }, precopy: { compression: 'zstd' } }), { methods: ['precopy'] })).precopy!;
    expect(zstd.compression!.codec).toBe('zstd');
    expect(zstd.stats.ram.transferred).toBeLessThan(text.stats.ram.transferred);
  });

  it('auto-converge throttles the modelled guest: the achieved rate drops and the run converges', async () => {
    const input: ScenarioInput = { ...base, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link: { bandwidth: '400Mbit/s' }, precopy: { downtimeLimitMs: 50, maxRounds: 60 } };
    expect(simulatePrecopy(resolveScenario(input)).outcome).toBe('forced-stop');
    const p = simulatePrecopy(resolveScenario({ ...input, precopy: { ...input.precopy, autoConverge: true } }));
    expect(p.outcome).toBe('converged');
    const throttled = p.rounds.filter((r) => r.throttlePercent > 0);
    expect(throttled.length).toBeGreaterThan(0);
    for (const r of throttled) if (r.guestSlowdown !== null && r.durationMs > 50) expect(r.guestSlowdown).toBeLessThan(1 - r.throttlePercent / 100 + 0.02);
  });

  it('quick migration: save + hand-over + restore at the storage rate, zero pages skipped', async () => {
    const s = resolveScenario({ ...base, guest: { memory: '64MiB', fill: { zero: 1, random: 3 } }, quick: { storageBandwidth: '100MiB/s', handoverMs: 250 } });
    const q = simulateQuick(s);
    expect(q.phases.saveMs).toBeCloseTo((q.savedBytes / (100 * MiB)) * 1000, 9);
    expect(q.stats.downtime).toBeCloseTo(q.phases.saveMs + 250 + q.phases.restoreMs, 9);
    expect(q.pages.zero / q.pages.total).toBeGreaterThan(0.2);
    expect(q.pages.zero / q.pages.total).toBeLessThan(0.3);
    expect(q.savedBytes).toBeLessThan(64 * MiB * 0.8);
  });

  it('scales with the pages touched: a 1 TiB guest with an 8 GiB hot set runs (page sets, not pages)', async () => {
    const s = resolveScenario({
      guest: { memory: '1TiB' },
      workload: { pattern: 'hotset', workingSet: '8GiB', dirtyRate: '20000/s' },
      link: { bandwidth: '10Gbit/s' },
      precopy: { timeoutMs: '2h' },
    });
    const d = await simulateScenario(s, { methods: ['precopy'] });
    expect(d.precopy!.outcome).toBe('converged');
    expect(d.precopy!.stats.ram.total).toBe(2 ** 40);
    expect(d.precopy!.stats['total-time']).toBeGreaterThan(800_000); // the bulk round alone: 1 TiB at 10 Gbit/s
  });
});

describe('fleet: a host evacuation over one link', () => {
  const fleetBase: ScenarioInput = { ...base, guest: { memory: '32MiB' }, workload: { pattern: 'idle' }, link: { bandwidth: '256Mbit/s' }, precopy: { maxBandwidth: 'unlimited' } };
  it('one at a time: guests back to back; all at once: they share the link and end together', async () => {
    const one = (await simulateScenario(resolveScenario({ ...fleetBase, fleet: { count: 4, concurrency: 1 } }), { methods: ['precopy'] })).fleet!.precopy!;
    const single = simulatePrecopy(resolveScenario(fleetBase));
    expect(one.completed).toBe(4);
    expect(one.evacuationTimeMs).toBeCloseTo(4 * single.stats['total-time'], 3);
    expect(one.guests.map((g) => g.startMs)).toEqual([0, 1, 2, 3].map((i) => expect.closeTo(i * single.stats['total-time'], 3)));
    const all = (await simulateScenario(resolveScenario({ ...fleetBase, fleet: { count: 4, concurrency: 4 } }), { methods: ['precopy'] })).fleet!.precopy!;
    expect(all.evacuationTimeMs).toBeCloseTo(one.evacuationTimeMs, -1); // same bytes over the same link
    for (const g of all.guests) expect(rel(g.totalTimeMs, 4 * single.stats['total-time'])).toBeLessThan(0.03);
    expect(all.downtime!.median).toBeGreaterThan(single.stats.downtime!);
  });

  it('guest 0 of a fleet is the scenario itself; the quick evacuation goes in waves', async () => {
    const s = resolveScenario({ ...fleetBase, fleet: { count: 5, concurrency: 2 } });
    const d = await simulateScenario(s);
    expect(d.precopy!.stats['total-time']).toBeGreaterThan(0);
    const q = d.fleet!.quick!;
    expect(q.guests.map((g) => g.startMs > 0)).toEqual([false, false, true, true, true]);
    const solo = simulateQuick(resolveScenario(fleetBase));
    // two waves of two at half the storage each, then one alone
    expect(q.evacuationTimeMs).toBeCloseTo(2 * (2 * solo.stats['total-time']) + solo.stats['total-time'], 0);
  });
});

describe('reports of a simulated run', () => {
  it('the summary and the HTML report say it was simulated and show the evacuation', async () => {
    const d = await simulateScenario(resolveScenario({ ...base, workload: { pattern: 'idle' }, fleet: { count: 3, concurrency: 2 } }));
    const text = renderSummary(d, colorsFor({ isTTY: false } as NodeJS.WriteStream, {}));
    expect(text).toMatch(/host evacuation: 3 guests, 2 at a time/);
    expect(text).toMatch(/simulate mode: pre-copy modelled .* \(speedup [\d,]+×\), quick migration modelled .* \(speedup [\d,]+×\)/);
    // a document written before per-method figures still reads with the combined one
    const old = { ...d, simulation: { ...d.simulation!, perMethod: undefined } };
    expect(renderSummary(old, colorsFor({ isTTY: false } as NodeJS.WriteStream, {}))).toMatch(/simulate mode: modelled .* \(speedup [\d,]+×\)/);
    expect(text).toMatch(/simulated: no bytes to compare/);
    const html = renderRunReport(d);
    expect(html).toMatch(/Simulate mode:/);
    expect(html).toMatch(/Host evacuation: 3 guests, 2 at a time/);
  });
});

describe('the simulation steps', () => {
  it('reports a result only once finished', async () => {
    const sim = new PrecopySimulation(resolveScenario(base));
    expect(() => sim.result()).toThrow(/not finished/);
    sim.run();
    expect(sim.result().outcome).toBe('converged');
  });

  it('1 GiB of frames counts headers: bytes exceed pages × page size by the frame overhead', async () => {
    const s = resolveScenario({ guest: { memory: '1GiB' }, workload: { pattern: 'idle' }, link: { bandwidth: '10Gbit/s' } });
    const p = simulatePrecopy(s);
    const frames = GiB / 4096 / 64;
    expect(p.stats.ram.transferred).toBe(GiB + frames * 48 + 256 * 1024 + 48 + 48);
  });
});
