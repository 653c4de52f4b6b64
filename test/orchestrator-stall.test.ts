/**
 * KubeVirt's stall detector (VEP 248, alpha) against the VEP's text: the stall definition, the local
 * minimum, the relaxation, the switchover table, the completion-timeout table and the switchover
 * deadline, fed sequences of views (a pass every 2 s, polls every 400 ms, a steady 1 Gbit/s).
 */
import { QEMU_MAX_DOWNTIME_MS } from '../src/precopy/orchestrator-port.ts';
import { describe, expect, it } from 'vitest';
import { ORCHESTRATOR_POLICY_KEY_DECLS, ORCHESTRATOR_POLICY_SETTING_NAMES } from '../src/scenario/orchestrator-policy-keys.ts';
import type { MigrationView, OrchestratorAction } from '../src/precopy/orchestrator-port.ts';
import type { KubevirtStallSettings } from '../src/scenario/orchestrator-settings.ts';
import {
  createKubevirtStallOrchestrator,
  decideCompletionTimeout,
  decideStallAction,
  isStalled,
  KUBEVIRT_STALL_DEFAULTS as D,
  kubevirtDataSizeGB,
  kubevirtStallMaxCompletionMs,
  kubevirtStallStartOverrides,
  nearLocalMinimum,
} from '../src/orchestrator/kubevirt-stall.ts';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
/** bytes per ms: 1 Gbit/s */
const BW = 125_000;
const ITERATION_MS = 2000;

interface Run {
  readonly memoryBytes?: number;
  readonly untilMs: number;
  readonly postcopyCapable?: boolean;
}

/** Poll as virt-launcher does; pass k (1, 2, …) starts at (k − 1) × 2 s and its remaining bytes are rem(k). */
function run(settings: KubevirtStallSettings, rem: (k: number) => number, r: Run): { atMs: number; action: OrchestratorAction }[] {
  const memoryBytes = r.memoryBytes ?? 4 * GIB;
  const o = createKubevirtStallOrchestrator(settings, memoryBytes);
  const out: { atMs: number; action: OrchestratorAction }[] = [];
  const at = (t: number): MigrationView => {
    const k = Math.floor(t / ITERATION_MS) + 1;
    return {
      elapsedMs: t, memoryBytes, remainingBytes: rem(k), transferredBytes: BW * t, iterations: k, dirtyPagesPerSec: 50_000,
      expectedDowntimeMs: rem(k) / BW, downtimeLimitMs: 300, phase: 'precopy', postcopyCapable: r.postcopyCapable ?? false,
    };
  };
  for (let t = o.nextPollInMs(at(0)); t <= r.untilMs; t += o.nextPollInMs(at(t))) for (const action of o.poll(at(t))) out.push({ atMs: t, action });
  return out;
}

const brief = (a: OrchestratorAction): string => (a.kind === 'set-downtime' ? `downtime ${a.downtimeLimitMs}` : a.kind);
/** 4 GiB first, then a plateau that swings between 120 and 140 MiB pass by pass (a hot set that cannot converge). */
const plateau = (low: number, high: number) => (k: number) => (k === 1 ? 4 * GIB : k % 2 === 0 ? low : high);

describe('kubevirt-stall: the rules', () => {
  it('defines a stall against the smallest remaining bytes outside the window, with a 4 % margin', () => {
    expect(isStalled(100, null, 4)).toBe(false);
    expect(isStalled(96, 100, 4)).toBe(true);
    expect(isStalled(95.9, 100, 4)).toBe(false);
    expect(isStalled(300, 100, 4)).toBe(true);
  });

  it('a local minimum is within the margin above the best', () => {
    expect(nearLocalMinimum(104, 100, 4)).toBe(true);
    expect(nearLocalMinimum(104.1, 100, 4)).toBe(false);
    expect(nearLocalMinimum(50, 100, 4)).toBe(true);
  });

  it.each([
    // [allowPostCopy, allowWorkloadDisruption, postcopyCapable, implied ms, expected]
    [true, true, true, 5000, 'postcopy'],
    [true, false, true, 800, 'downtime 900'], // post-copy needs both flags on the stall path
    [false, true, false, 5000, `downtime ${QEMU_MAX_DOWNTIME_MS}`],
    [true, true, false, 5000, `downtime ${QEMU_MAX_DOWNTIME_MS}`], // not capable: disruption path
    [false, false, false, 900, 'downtime 900'],
    [false, false, false, 1350, 'downtime 900'], // ≤ maxDowntimeMs × precopyPossibleFactor
    [false, false, false, 1351, 'abort'],
  ] as const)('switchover table: post-copy %s, disruption %s, capable %s, implied %i ms → %s', (pc, wd, cap, implied, expected) => {
    const d = decideStallAction({ ...D, allowPostCopy: pc, allowWorkloadDisruption: wd }, implied, 10_000, 600_000, cap);
    expect(d.kind === 'set-downtime' ? `downtime ${d.downtimeLimitMs}` : d.kind).toBe(expected);
  });

  it('waits when the implied downtime does not fit maxCompletionTime × completionTimeoutFactor − elapsed', () => {
    expect(decideStallAction({ ...D, allowPostCopy: true, allowWorkloadDisruption: true }, 10_001, 1_190_000, 600_000, true).kind).toBe('wait');
    expect(decideStallAction({ ...D, allowPostCopy: true, allowWorkloadDisruption: true }, 10_000, 1_190_000, 600_000, true).kind).toBe('postcopy');
  });

  it.each([
    [true, false, true, 1000, 'postcopy'],
    [false, true, false, 1000, `downtime ${QEMU_MAX_DOWNTIME_MS}`],
    [true, true, false, 1000, `downtime ${QEMU_MAX_DOWNTIME_MS}`],
    [false, false, false, 1000, 'abort'],
    [true, true, true, 700_000, 'abort'], // does not fit 2 × 600 s − 601 s
  ] as const)('completion-timeout table: post-copy %s, disruption %s, capable %s, implied %i ms → %s', (pc, wd, cap, implied, expected) => {
    const d = decideCompletionTimeout({ ...D, allowPostCopy: pc, allowWorkloadDisruption: wd }, implied, 601_000, 600_000, cap);
    expect(d.kind === 'set-downtime' ? `downtime ${d.downtimeLimitMs}` : d.kind).toBe(expected);
  });

  it('starts QEMU at min(maxDowntimeMs, 300 ms) with the policy flags and bandwidth', () => {
    expect(kubevirtStallStartOverrides(D)).toEqual({ downtimeLimitMs: 300, maxBandwidthBytesPerSec: Infinity, autoConverge: false, postcopy: false });
    expect(kubevirtStallStartOverrides({ ...D, maxDowntimeMs: 200, allowPostCopy: true, bandwidthPerMigration: 64 * MIB }).downtimeLimitMs).toBe(200);
  });
});

describe('kubevirt-stall: sequences of views', () => {
  it('polls every 400 ms', () => {
    expect(createKubevirtStallOrchestrator(D, GIB).nextPollInMs({} as MigrationView)).toBe(400);
  });

  it('defaults, a plateau of 120/140 MiB: waits out the 40 s window, switches at a low pass to maxDowntimeMs, aborts 60 s later without a switchover', () => {
    const acts = run(D, plateau(120 * MIB, 140 * MIB), { untilMs: 200_000 });
    expect(acts.map((a) => brief(a.action))).toEqual(['downtime 900', 'abort']);
    const [soft, abort] = acts;
    expect(soft!.atMs).toBeGreaterThan(40_000);
    expect(soft!.atMs).toBeLessThan(50_000);
    // the switch happens at a low pass (120 MiB): pass k is even
    expect((Math.floor(soft!.atMs / ITERATION_MS) + 1) % 2).toBe(0);
    expect(abort!.atMs - soft!.atMs).toBeGreaterThan(60_000);
    expect(abort!.atMs - soft!.atMs).toBeLessThanOrEqual(60_400);
    expect(abort!.action).toMatchObject({ reason: 'switchover-timeout', detail: expect.stringContaining('switchoverTimeout 60 s') });
  });

  it('defaults, a plateau near 1 GiB: the implied downtime (≈ 8.6 s) is hopeless, it aborts at the stall', () => {
    const acts = run(D, plateau(GIB, 1.1 * GIB), { untilMs: 200_000 });
    expect(acts.map((a) => brief(a.action))).toEqual(['abort']);
    expect(acts[0]!.atMs).toBeLessThan(50_000);
    expect(acts[0]!.action).toMatchObject({ reason: 'stalled', detail: expect.stringContaining('precopyPossibleFactor') });
  });

  it('allowPostCopy and allowWorkloadDisruption: post-copy at the stall', () => {
    const acts = run({ ...D, allowPostCopy: true, allowWorkloadDisruption: true }, plateau(GIB, 1.1 * GIB), { untilMs: 200_000, postcopyCapable: true });
    expect(acts.map((a) => brief(a.action))).toEqual(['postcopy']);
  });

  it('allowWorkloadDisruption alone: QEMU maximum downtime at the stall', () => {
    const acts = run({ ...D, allowWorkloadDisruption: true }, plateau(GIB, 1.1 * GIB), { untilMs: 100_000 });
    expect(acts.map((a) => brief(a.action))).toEqual([`downtime ${QEMU_MAX_DOWNTIME_MS}`]);
  });

  it('searchLocalMinima false switches as soon as the stall is seen, even at a high pass', () => {
    // the stall is first seen at a high pass here; with searchLocalMinima it waits for the next low one
    // pass 2 (120 MiB) leaves the window at 42 s, the start of pass 22: a high one (140 MiB)
    const rem = (k: number) => (k === 1 ? 4 * GIB : k === 2 ? 120 * MIB : k % 2 === 1 ? 121 * MIB : 140 * MIB);
    const eager = run({ ...D, searchLocalMinima: false }, rem, { untilMs: 60_000 });
    const patient = run(D, rem, { untilMs: 60_000 });
    expect(eager.map((a) => [a.atMs, brief(a.action)])[0]).toEqual([42_000, 'downtime 900']);
    expect(patient.map((a) => [a.atMs, brief(a.action)])[0]).toEqual([44_000, 'downtime 900']);
  });

  it('relaxes the target when the best level never comes back: the next-lowest level after the 40 s patience', () => {
    // 100 MiB once (pass 2), then 150/160 MiB for ever: the stall is seen when pass 2 leaves the window
    const rem = (k: number) => (k === 1 ? 4 * GIB : k === 2 ? 100 * MIB : k % 2 === 0 ? 150 * MIB : 160 * MIB);
    const acts = run(D, rem, { untilMs: 150_000 });
    expect(acts.map((a) => brief(a.action))[0]).toBe('downtime 900');
    // stall seen at ≈ 42 s (pass 2 at 2 s + 40 s); the switch waits a further 40 s of patience
    expect(acts[0]!.atMs).toBeGreaterThanOrEqual(82_000);
    expect(acts[0]!.atMs).toBeLessThan(90_000);
  });

  it('counts the guest in whole 10^9 bytes rounded up, as KubeVirt does (1 GiB is 2, 4 GiB is 5)', () => {
    expect(kubevirtDataSizeGB(GIB)).toBe(2);
    expect(kubevirtDataSizeGB(4 * GIB)).toBe(5);
    expect(kubevirtDataSizeGB(1e9)).toBe(1);
    expect(kubevirtStallMaxCompletionMs(D, 4 * GIB)).toBe(750_000);
  });

  it('defaults, never stalling, 1 GiB guest: aborts when maxCompletionTime (150 s × 2 GB = 300 s) passes', () => {
    const falling = (k: number) => GIB * 0.97 ** k;
    const acts = run(D, falling, { memoryBytes: GIB, untilMs: 700_000 });
    expect(acts.map((a) => brief(a.action))).toEqual(['abort']);
    expect(acts[0]!.atMs).toBe(300_400);
    expect(acts[0]!.action).toMatchObject({ reason: 'completion-timeout', detail: expect.stringContaining('maxCompletionTime 300 s') });
  });

  it('never stalling, allowPostCopy: post-copy when maxCompletionTime passes', () => {
    const acts = run({ ...D, allowPostCopy: true }, (k) => GIB * 0.97 ** k, { memoryBytes: GIB, untilMs: 700_000, postcopyCapable: true });
    expect(acts.map((a) => [a.atMs, brief(a.action)])).toEqual([[300_400, 'postcopy']]);
  });

  it('never stalling, allowWorkloadDisruption: QEMU maximum at 300 s, then the switchover deadline (60 s) aborts', () => {
    const acts = run({ ...D, allowWorkloadDisruption: true }, (k) => GIB * 0.97 ** k, { memoryBytes: GIB, untilMs: 700_000 });
    expect(acts.map((a) => [a.atMs, brief(a.action)])).toEqual([[300_400, `downtime ${QEMU_MAX_DOWNTIME_MS}`], [360_800, 'abort']]);
  });

  it('acts no more in post-copy', () => {
    const o = createKubevirtStallOrchestrator(D, GIB);
    expect(o.poll({ elapsedMs: 1e9, memoryBytes: GIB, remainingBytes: GIB, transferredBytes: 0, iterations: 9, dirtyPagesPerSec: 0, expectedDowntimeMs: 0, downtimeLimitMs: 300, phase: 'postcopy', postcopyCapable: true })).toEqual([]);
  });
});

describe('kubevirt-stall: scenario keys (orchestrator-policy-keys.ts)', () => {
  type Decl = { key: string; default?: unknown; rules?: readonly { check: (n: number, ctx: never, raw: unknown) => string | null }[] };
  const decl = (name: string) => (ORCHESTRATOR_POLICY_KEY_DECLS as readonly Decl[]).find((d) => d.key === `orchestrator.${name}`);
  const refusedBy = (name: string, n: number): string | null => {
    for (const r of decl(name)!.rules ?? []) {
      const why = r.check(n, undefined as never, n);
      if (why !== null) return why;
    }
    return null;
  };

  it('takes every KubevirtStallSettings field by name; its own keys default to the VEP\'s values', () => {
    const fields = Object.keys(D).filter((k) => k !== 'kind').sort();
    expect([...ORCHESTRATOR_POLICY_SETTING_NAMES['kubevirt-stall']].sort()).toEqual(fields);
    const shared = ['bandwidthPerMigration', 'completionTimeoutPerGiB', 'allowAutoConverge', 'allowPostCopy', 'allowWorkloadDisruption'];
    for (const name of fields.filter((f) => !shared.includes(f))) {
      expect(decl(name), name).toBeDefined();
      expect(decl(name)!.default, name).toBe(D[name as keyof typeof D]);
    }
  });

  it.each([
    ['maxDowntimeMs', 900, null], ['maxDowntimeMs', 0, 'expected an integer from 1 to 2000000'], ['maxDowntimeMs', 2_000_001, 'expected an integer from 1 to 2000000'],
    ['stallProgressTimeout', 0, 'must be greater than 0'], ['switchoverTimeout', 0.5, null],
    ['stallMargin', 4.5, 'expected an integer from 0 to 99'], ['stallMargin', 0, null],
    ['ewmaAlpha', 0, 'must be greater than 0 and at most 1'], ['ewmaAlpha', 1, null], ['ewmaAlpha', 1.1, 'must be greater than 0 and at most 1'],
    ['precopyPossibleFactor', 0.9, 'must be at least 1'], ['patienceWindowDecayFactor', 0.5, null], ['completionTimeoutFactor', 1, null],
  ] as const)('%s = %s: %s', (name, n, expected) => {
    expect(refusedBy(name, n)).toBe(expected);
  });
});
