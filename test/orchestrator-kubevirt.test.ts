/**
 * KubeVirt's migration monitor as a decision table (src/orchestrator/kubevirt.ts, from
 * pkg/virt-launcher/virtwrap/live-migration-source.go `processInflightMigration`): pure, fed a made-up
 * sequence of libvirt job stats at its 400 ms poll, no clock. Budget = completionTimeoutPerGiB × the
 * guest's memory in whole 10^9 bytes rounded up; whole seconds, strict comparisons.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationView, OrchestratorAction } from '../src/precopy/orchestrator-port.ts';
import { createKubevirtOrchestrator, kubevirtBudgetS, kubevirtStartOverrides, KUBEVIRT_POLL_MS } from '../src/orchestrator/kubevirt.ts';
import { resolveScenario } from '../src/options.ts';
import type { KubevirtSettings } from '../src/scenario/orchestrator-settings.ts';

const GIB = 2 ** 30;
const MIB = 2 ** 20;

function settings(over: Record<string, unknown> = {}): KubevirtSettings {
  return resolveScenario({ orchestrator: { kind: 'kubevirt', ...over } }).orchestrator as KubevirtSettings;
}

function view(elapsedMs: number, remainingBytes: number, memoryBytes: number, phase: MigrationView['phase'] = 'precopy'): MigrationView {
  return { elapsedMs, memoryBytes, remainingBytes, transferredBytes: 0, iterations: 1, dirtyPagesPerSec: 0, expectedDowntimeMs: 0, downtimeLimitMs: 300, phase, postcopyCapable: true };
}

/** Poll every 400 ms from 0 to `untilMs`, the remaining bytes given by `remaining(t)`; the first action (and when), or null. */
function firstAction(s: KubevirtSettings, memoryBytes: number, untilMs: number, remaining: (t: number, i: number) => number): { atMs: number; actions: readonly OrchestratorAction[] } | null {
  const o = createKubevirtOrchestrator(s, memoryBytes);
  for (let i = 0, t = 0; t <= untilMs; i++, t += o.nextPollInMs(view(t, 0, memoryBytes))) {
    const actions = o.poll(view(t, remaining(t, i), memoryBytes));
    if (actions.length > 0) return { atMs: t, actions };
  }
  return null;
}

/** Pre-copy rounds: the remaining bytes fall within a round and jump back up at each sync (progress at almost every poll). */
const sawtooth = (t: number): number => 512 * MIB - ((t % 4000) / 4000) * 400 * MIB;

describe('kubevirt: the budget and the start', () => {
  it('counts the guest in whole 10^9 bytes, rounded up (resource.Quantity.ScaledValue(Giga))', () => {
    expect(kubevirtBudgetS({ completionTimeoutPerGiB: 150 }, 4 * GIB)).toBe(750); // 4.29e9 → 5
    expect(kubevirtBudgetS({ completionTimeoutPerGiB: 150 }, 1e9)).toBe(150);
    expect(kubevirtBudgetS({ completionTimeoutPerGiB: 150 }, 1e9 + 1)).toBe(300);
    expect(kubevirtBudgetS({ completionTimeoutPerGiB: 800 }, 8 * MIB)).toBe(800);
    expect(kubevirtBudgetS({ completionTimeoutPerGiB: 0 }, 4 * GIB)).toBe(0);
  });

  it('sets the migration flags and the bandwidth before migrate', () => {
    expect(kubevirtStartOverrides(settings(), GIB)).toEqual({});
    expect(kubevirtStartOverrides(settings({ bandwidthPerMigration: '64Mi', allowAutoConverge: true, allowPostCopy: true }), GIB)).toEqual({
      maxBandwidthBytesPerSec: 64 * MIB, autoConverge: true, postcopy: true,
    });
  });

  it('polls every 400 ms (monitorSleepPeriodMS)', () => {
    expect(KUBEVIRT_POLL_MS).toBe(400);
    expect(createKubevirtOrchestrator(settings(), GIB).nextPollInMs(view(0, 0, GIB))).toBe(400);
  });
});

describe('kubevirt: the decision table', () => {
  const m = 4 * GIB;
  it.each<[string, Record<string, unknown>, (t: number, i: number) => number, number | null, OrchestratorAction[]]>([
    ['progress at every poll, defaults: abort once more than the 750 s budget has passed', {}, sawtooth, 751_200, [{ kind: 'abort', reason: 'completion-timeout' }]],
    ['no progress at all: abort after more than progressTimeout (150 s) without a new low', {}, () => 100 * MIB, 151_200, [{ kind: 'abort', reason: 'progress-timeout' }]],
    ['progressTimeout 0: the stuck migration runs to the budget', { progressTimeout: 0 }, () => 100 * MIB, 751_200, [{ kind: 'abort', reason: 'completion-timeout' }]],
    ['progress = below the previous poll, not the minimum: up-and-down never times out on progress', {}, (_t, i) => (i % 2 === 0 ? 300 : 200) * MIB, 751_200, [{ kind: 'abort', reason: 'completion-timeout' }]],
    ['allowPostCopy (disruption follows it): post-copy when the budget runs out', { allowPostCopy: true }, sawtooth, 751_200, [{ kind: 'postcopy', reason: 'completion-timeout' }]],
    ['allowWorkloadDisruption without post-copy: pause the guest when the budget runs out', { allowWorkloadDisruption: true }, sawtooth, 751_200, [{ kind: 'pause', reason: 'completion-timeout' }]],
    ['allowPostCopy without disruption: abort at the budget', { allowPostCopy: true, allowWorkloadDisruption: false }, sawtooth, 751_200, [{ kind: 'abort', reason: 'completion-timeout' }]],
    ['disruption allowed but stuck: the progress timeout comes first', { allowWorkloadDisruption: true }, () => 100 * MIB, 151_200, [{ kind: 'abort', reason: 'progress-timeout' }]],
    ['completionTimeoutPerGiB 50: a 250 s budget', { completionTimeoutPerGiB: 50 }, sawtooth, 251_200, [{ kind: 'abort', reason: 'completion-timeout' }]],
    ['no budget and no progress timeout: never acts', { completionTimeoutPerGiB: 0, progressTimeout: 0 }, () => 100 * MIB, null, []],
  ])('%s', (_name, over, remaining, atMs, actions) => {
    const got = firstAction(settings(over), m, 2_000_000, remaining);
    expect(got?.atMs ?? null).toBe(atMs);
    expect(got?.actions ?? []).toEqual(actions);
  });

  it('after a pause the budget doubles: a migration still running aborts at twice the budget, never pauses twice', () => {
    const o = createKubevirtOrchestrator(settings({ allowWorkloadDisruption: true }), m);
    const acted: [number, string][] = [];
    for (let t = 0; t <= 2_000_000; t += 400) for (const a of o.poll(view(t, sawtooth(t), m))) acted.push([t, a.kind]);
    expect(acted).toEqual([[751_200, 'pause'], [1_501_200, 'abort']]);
  });

  it('in post-copy it does nothing more', () => {
    const o = createKubevirtOrchestrator(settings({ allowPostCopy: true }), m);
    const acted: string[] = [];
    for (let t = 0; t <= 2_000_000; t += 400) for (const a of o.poll(view(t, sawtooth(t), m, t > 751_200 ? 'postcopy' : 'precopy'))) acted.push(a.kind);
    expect(acted).toEqual(['postcopy']);
  });
});
