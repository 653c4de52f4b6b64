/**
 * Post-copy recovery in simulate mode (issue 14 item 5): with postcopy.recovery a link that goes down
 * during post-copy pauses both sides (postcopy-paused), the frames that would arrive after it went down
 * are lost, the vCPUs that fault stay blocked, the link comes back after faults.linkDownForMs
 * (postcopy-recover, then postcopy-active one round trip later), the lost pages are sent again and the
 * run completes as `postcopy` (src/sim/simulate-postcopy.ts). The model's own arithmetic on the virtual
 * clock, so every figure holds exactly at any machine speed; the last case runs the same scenario once
 * in emulate mode (real workers) and asserts only what holds at any speed (hang guard: its timeout;
 * afterEach disposes the guest, a blocked vCPU too).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { createGuest, migratePrecopy, type Guest } from '../src/run.ts';
import { simulatePrecopy } from '../src/sim/run-simulated.ts';
import { HEADER_BYTES } from '../src/transport/frame.ts';

const PS = 4096;
const MiB = 2 ** 20;
const align8 = (n: number) => Math.ceil(n / 8) * 8;

// As test/postcopy-recovery.test.ts: the bulk round of 8 MiB at 64 MiB/s takes 125 ms and the switch
// follows it; post-copy then pushes the hot set dirtied meanwhile (~4 MiB) at 2 MiB/s, for about 2 s:
// the link going down at 800 ms finds post-copy running.
const base: ScenarioInput = {
  seed: 4,
  guest: { memory: '8MiB', vcpus: 2, deviceState: '16KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '4MiB', hotFraction: 0.95 },
  precopy: { downtimeLimitMs: 10, maxRounds: 3, timeoutMs: 30_000 },
  link: { bandwidth: '64MiB/s', latencyMs: 50 },
  postcopy: { enabled: true, maxBandwidth: '2MiB/s', recovery: true },
};
const LATENCY_MS = 50;
const DOWN_AT_MS = 800;
const DOWN_FOR_MS = 300;
const withFaults = (faults: ScenarioInput['faults'], extra: ScenarioInput = {}) => resolveScenario({ ...base, ...extra, faults });
const simulate = (faults: ScenarioInput['faults'], extra: ScenarioInput = {}) => simulatePrecopy(withFaults(faults, extra));
const ORDER = ['postcopy-active', 'postcopy-paused', 'postcopy-recover', 'postcopy-active', 'completed'];

describe('post-copy recovery in simulate mode (postcopy.recovery)', () => {
  it('pauses for the outage, re-sends what was lost and completes as postcopy', () => {
    const r = simulate({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: DOWN_FOR_MS });
    expect(r.outcome).toBe('postcopy');
    expect(r.stats.status).toBe('completed');
    const pc = r.postcopy!;
    expect(pc.statuses.map((s) => s.status)).toEqual(ORDER);
    for (let i = 1; i < pc.statuses.length; i++) expect(pc.statuses[i].tMs).toBeGreaterThanOrEqual(pc.statuses[i - 1].tMs);
    const o = pc.recovery!;
    expect(o).not.toBeNull();
    // the outage, in order: down, both sides paused, up, recovered
    expect(o.linkDownMs).toBe(DOWN_AT_MS);
    expect(o.linkUpMs).toBe(DOWN_AT_MS + DOWN_FOR_MS);
    expect(o.destinationPausedMs).toBe(DOWN_AT_MS); // the guest runs there: it notices when the link goes down
    expect(o.sourcePausedMs).toBeGreaterThanOrEqual(o.linkDownMs); // its first frame the link refused
    expect(o.sourcePausedMs).toBeLessThan(o.linkUpMs);
    // the handshake: the resume frame (a header) at the post-copy rate, a latency there, the bitmap a latency back
    expect(o.recoveredMs).toBeCloseTo(o.linkUpMs + (align8(HEADER_BYTES) * 1000) / (2 * MiB) + 2 * LATENCY_MS, 9);
    expect(o.outageMs).toBeCloseTo(o.recoveredMs - o.linkDownMs, 9);
    expect(pc.statuses[1].tMs).toBe(o.sourcePausedMs);
    expect(pc.statuses[2].tMs).toBe(o.linkUpMs);
    expect(pc.statuses[3].tMs).toBe(o.recoveredMs);
    expect(pc.statuses[4].tMs).toBe(pc.completedMs);
    expect(o.bitmapBytes).toBe((8 * MiB) / PS / 8);
    // frames were in flight (a latency's worth of the 2 MiB/s push, one page a frame with preempt): lost and sent again
    expect(o.lostPages).toBeGreaterThan(0);
    expect(o.lostFrames).toBe(o.lostPages);
    expect(o.resentPages).toBeGreaterThanOrEqual(o.lostPages);
    expect(o.resentPages).toBe(o.lostPages); // the model's source never books a frame it then takes back
    expect(o.rerequestedPages).toBeLessThanOrEqual(o.resentPages);
    expect(pc.urgentPages + pc.backgroundPages).toBe(pc.missingPages + o.resentPages);
    // the extra stall: the hot set is missing, the vCPUs fault and stay blocked until pages flow again
    expect(o.faults).toBeGreaterThan(0);
    expect(o.longestStallMs).toBeGreaterThanOrEqual(DOWN_FOR_MS);
    expect(o.vcpuStallMs).toHaveLength(2);
    for (const ms of o.vcpuStallMs) expect(ms).toBeLessThanOrEqual(o.outageMs + 1e-9);
    expect(o.allBlockedMs).toBeLessThanOrEqual(Math.min(...o.vcpuStallMs) + 1e-9);
    expect(o.stallMs).toBeCloseTo(o.vcpuStallMs[0] + o.vcpuStallMs[1], 9);
    expect(r.stats['postcopy-vcpu-blocktime']!.every((ms, i) => ms >= o.vcpuStallMs[i] - 1e-9)).toBe(true);
    // the outage costs time: the same run without it completes sooner, with the same pages missing at the switch
    const clean = simulate({}).postcopy!;
    expect(clean.missingPages).toBe(pc.missingPages);
    expect(clean.recovery).toBeNull();
    expect(clean.statuses.map((s) => s.status)).toEqual(['postcopy-active', 'completed']);
    expect(pc.completedMs).toBeGreaterThan(clean.completedMs + DOWN_FOR_MS);
  });

  it('a link back before the source noticed: the end of the stream is lost too, the source pauses there and recovers', () => {
    // down for 1 ms: the source's frames book after the link is back and go on, but everything that
    // would arrive after it went down is lost (as emulate mode's destination loses it) until the end
    const r = simulate({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: 1 });
    expect(r.outcome).toBe('postcopy');
    const pc = r.postcopy!;
    expect(pc.statuses.map((s) => s.status)).toEqual(ORDER);
    const o = pc.recovery!;
    expect(o.lostFrames).toBe(o.lostPages + 1); // one page a frame, and the end
    expect(o.sourcePausedMs).toBeGreaterThan(o.linkUpMs);
    expect(pc.statuses[2].tMs).toBe(o.sourcePausedMs); // up already: recovering at once
    expect(o.resentPages).toBe(o.lostPages);
    expect(pc.urgentPages + pc.backgroundPages).toBe(pc.missingPages + o.resentPages);
    expect(o.longestStallMs).toBeGreaterThanOrEqual(o.recoveredMs - o.sourcePausedMs);
  });

  it('without preempt the lost frames are runs of the push: fewer frames than pages', () => {
    const r = simulate({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: DOWN_FOR_MS }, { postcopy: { ...base.postcopy, preempt: false } });
    expect(r.outcome).toBe('postcopy');
    const o = r.postcopy!.recovery!;
    expect(o.lostPages).toBeGreaterThan(o.lostFrames);
    expect(o.resentPages).toBe(o.lostPages);
  });

  it('a link that never comes back (linkDownForMs 0): failed, the guest is lost', () => {
    const r = simulate({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: 0 });
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(true);
    expect(r.stats.status).toBe('failed');
    expect(r.stats['total-time']).toBeGreaterThanOrEqual(DOWN_AT_MS);
  });

  it('an outage in pre-copy is not recovered from: failed, the guest goes on on the source', () => {
    const r = simulate({ linkDownAtMs: 50, linkDownForMs: DOWN_FOR_MS }); // during the 125 ms bulk round
    expect(r.outcome).toBe('failed');
    expect(r.guestLost).toBe(false);
  });

  it('is deterministic: the same scenario gives the same document', () => {
    const a = simulate({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: DOWN_FOR_MS });
    const b = simulate({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: DOWN_FOR_MS });
    expect(b).toEqual(a);
  });
});

let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

describe('the same outage in emulate mode and simulate mode', () => {
  it('goes through the same statuses, and both recover after the link is back (one emulate run)', async () => {
    const scenario = withFaults({ linkDownAtMs: DOWN_AT_MS, linkDownForMs: DOWN_FOR_MS });
    const sim = simulatePrecopy(scenario);
    guest = await createGuest(scenario);
    const emu = await migratePrecopy(guest);
    expect(emu.error ?? null).toBeNull();
    expect(emu.outcome).toBe('postcopy');
    expect(sim.outcome).toBe(emu.outcome);
    expect(sim.postcopy!.statuses.map((s) => s.status)).toEqual(emu.postcopy!.statuses.map((s) => s.status));
    for (const r of [sim, emu]) {
      const o = r.postcopy!.recovery!;
      expect(o.linkDownMs).toBeCloseTo(DOWN_AT_MS, 6);
      expect(o.linkUpMs).toBeCloseTo(DOWN_AT_MS + DOWN_FOR_MS, 6);
      expect(o.recoveredMs).toBeGreaterThanOrEqual(o.linkUpMs + 2 * LATENCY_MS);
      expect(o.resentPages).toBeGreaterThanOrEqual(o.lostPages);
      expect(o.bitmapBytes).toBe((8 * MiB) / PS / 8);
      expect(r.postcopy!.urgentPages + r.postcopy!.backgroundPages).toBe(r.postcopy!.missingPages + o.resentPages);
    }
  }, 60_000);
});
