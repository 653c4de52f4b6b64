/**
 * `predict`'s post-copy model against emulate mode, in what holds at any machine speed (the full table
 * with its tolerances is a bench: `npx tsx bench/predict-postcopy-fidelity.ts --check`).
 *
 * The 64 MiB hot-set guest of test/postcopy-emulate.test.ts over a link with 5 ms of latency: every
 * fault costs a 10 ms round trip, far above this engine's own service time (~1 ms), so the vCPUs are
 * stall-bound by the latency: the request rate is at most the latency's, the pages missing at
 * the switch are the hot set the bulk round leaves dirty (more cold pages if a loaded machine makes that
 * round longer), and post-copy's bytes follow from them. The emulated phases can be slower than the
 * model's link, never faster.
 * Hang guard: the test's timeout; runScenario stops every vCPU and the destination at its end.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { DEFAULT_BURST_MS } from '../src/transport/link.ts';

const input: ScenarioInput = {
  seed: 3,
  guest: { memory: '64MiB', vcpus: 2, fill: 'random', deviceState: '64KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '16MiB', hotFraction: 0.95, writeBytes: 8 },
  link: { bandwidth: '64MiB/s', latencyMs: 5 },
  precopy: { downtimeLimitMs: 20, maxRounds: 2, timeoutMs: 30_000 },
  postcopy: { enabled: true },
};

describe('predict agrees with emulate on post-copy (at any speed)', () => {
  it('a hot set over a 5 ms link: the same outcome, missing pages and post-copy bytes as the bulk round leaves them, a request rate no higher than the model (its stall is the least a fault costs)', async () => {
    const s = resolveScenario(input);
    const model = predict(s).precopy;
    const emu = (await runScenario(s, { methods: ['precopy'], postcopyAfterWindowMs: 0 })).precopy!;
    expect(emu.outcome).toBe('postcopy');
    expect(emu.verified).toBe(true);
    expect(model.outcome).toBe('postcopy');
    const m = model.postcopy!;
    const e = emu.postcopy!;
    expect(emu.rounds.map((r) => r.stage)).toEqual(model.rounds.map((r) => r.stage));
    // missing at the switch: the hot set (saturated), the leftover and the cold pages written during the
    // bulk round. A loaded machine makes that round longer than the link does (k = its length ÷ the
    // model's, when above 1), and the missing set grows less than in proportion (concave in time):
    // between 0.9 × and 1.1 × k × the model's, at any speed (1.0–1.06 × measured here)
    const k = Math.max(1, e.startMs / m.startMs);
    expect(e.missingPages).toBeGreaterThanOrEqual(0.9 * m.missingPages);
    expect(e.missingPages).toBeLessThanOrEqual(1.1 * k * m.missingPages);
    expect(emu.stats.ram['postcopy-bytes']!).toBeGreaterThanOrEqual(0.9 * model.stats.ram['postcopy-bytes']!);
    expect(emu.stats.ram['postcopy-bytes']!).toBeLessThanOrEqual(1.1 * k * model.stats.ram['postcopy-bytes']!);
    expect(emu.stats.ram['downtime-bytes']).toBe(model.stats.ram['downtime-bytes']);
    // the link bounds both: emulate's push is no faster than the model's (one burst per rate change)
    expect(e.durationMs).toBeGreaterThanOrEqual(m.durationMs - DEFAULT_BURST_MS);
    // a fault waits a round trip at least: each vCPU faults at most once per 10 ms, in both
    const perVcpuBound = (ms: number) => 2 * (ms / (2 * s.link.latencyMs) + 1);
    expect(emu.stats.ram['postcopy-requests']!).toBeLessThanOrEqual(perVcpuBound(e.durationMs));
    expect(m.faults).toBeLessThanOrEqual(perVcpuBound(m.durationMs));
    // the request rate over the phase: the model's stall is the least a fault can cost (a round trip, the
    // page, the sender's 1 ms wake-up), so emulate faults no faster (1.03–1.07 × measured on a quiet
    // machine); a loaded one only stretches its stalls (0.5 × at a load average of 20: the two-sided
    // agreement is the bench's, bench/predict-postcopy-fidelity.ts)
    const rate = (requests: number, ms: number) => requests / ms;
    expect(rate(emu.stats.ram['postcopy-requests']!, e.durationMs)).toBeLessThanOrEqual(1.35 * rate(m.faults, m.durationMs));
  }, 120_000);
});
