/**
 * oVirt's decisions against vdsm's MonitorThread (`monitor_migration`, `_next_action`,
 * `_execute_action_with_params`) and ovirt-engine's three named policies as ConvergenceSchedule.java
 * builds them: one stalling step per new iteration, each once the iteration count since the monitor's
 * first look is above its limit (lastItems at −1).
 */
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { ORCHESTRATOR_POLICY_KEY_DECLS, ORCHESTRATOR_POLICY_SETTING_NAMES, resolveConvergenceSchedule } from '../src/scenario/orchestrator-policy-keys.ts';
import type { MigrationView, OrchestratorAction } from '../src/precopy/orchestrator-port.ts';
import type { OvirtSettings } from '../src/scenario/orchestrator-settings.ts';
import {
  createOvirtOrchestrator,
  OVIRT_POLICIES,
  ovirtPolicySettings,
  ovirtStartOverrides,
  QEMU_DEFAULT_XBZRLE_CACHE_BYTES,
} from '../src/orchestrator/ovirt.ts';

const GIB = 2 ** 30;

function view(iterations: number, over: Partial<MigrationView> = {}): MigrationView {
  return {
    elapsedMs: iterations * 10_000, memoryBytes: 4 * GIB, remainingBytes: GIB, transferredBytes: iterations * GIB, iterations, dirtyPagesPerSec: 50_000,
    expectedDowntimeMs: 8000, downtimeLimitMs: 100, phase: 'precopy', postcopyCapable: true, ...over,
  };
}

/** What each poll does when every poll sees `iterations[k]`. */
function run(settings: OvirtSettings, iterations: readonly number[], over: Partial<MigrationView> = {}): string[][] {
  const o = createOvirtOrchestrator(settings);
  return iterations.map((it) => o.poll(view(it, over)).map(describe1));
}

function describe1(a: OrchestratorAction): string {
  return a.kind === 'set-downtime' ? `downtime ${a.downtimeLimitMs}` : a.kind;
}

describe('ovirt: the named policies (ovirt-engine MigrationPolicies, as ConvergenceSchedule.java sends them)', () => {
  it('Minimal downtime: 100 ms, then 150, 200, 300, 400 (limits 1–4), 500 (limit 6), abort (−1)', () => {
    const p = OVIRT_POLICIES['minimal-downtime'];
    expect(p.title).toBe('Minimal downtime');
    expect(p.convergenceSchedule).toEqual({
      init: [{ action: 'setDowntime', downtimeMs: 100 }],
      stalling: [
        { limit: 1, action: { action: 'setDowntime', downtimeMs: 150 } },
        { limit: 2, action: { action: 'setDowntime', downtimeMs: 200 } },
        { limit: 3, action: { action: 'setDowntime', downtimeMs: 300 } },
        { limit: 4, action: { action: 'setDowntime', downtimeMs: 400 } },
        { limit: 6, action: { action: 'setDowntime', downtimeMs: 500 } },
        { limit: -1, action: { action: 'abort' } },
      ],
    });
  });

  it('Suspend workload if needed: the same ramp, then 5,000 ms, then abort; compression on', () => {
    const p = OVIRT_POLICIES['suspend-workload-if-needed'];
    expect(p.convergenceSchedule.stalling.slice(-2)).toEqual([{ limit: -1, action: { action: 'setDowntime', downtimeMs: 5000 } }, { limit: -1, action: { action: 'abort' } }]);
    expect(p.migrationCompression).toBe(true);
  });

  it('Post-copy migration: 150, 200, then post-copy, then abort', () => {
    expect(OVIRT_POLICIES['post-copy'].convergenceSchedule.stalling.map((s) => [s.limit, s.action.action])).toEqual([
      [1, 'setDowntime'], [2, 'setDowntime'], [-1, 'postcopy'], [-1, 'abort'],
    ]);
  });
});

describe('ovirt: the monitor thread, poll by poll', () => {
  it('polls every migration_monitor_interval (10 s)', () => {
    expect(createOvirtOrchestrator(ovirtPolicySettings('minimal-downtime')).nextPollInMs(view(1))).toBe(10_000);
  });

  it('Minimal downtime with one new iteration per poll: a step at counts 2, 3, 4, 5, 7, and the abort at 8', () => {
    // the first poll sees iteration 1: count 0; the second: count 1 (limit 1 is not below 1) …
    const acts = run(ovirtPolicySettings('minimal-downtime'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(acts).toEqual([[], [], ['downtime 150'], ['downtime 200'], ['downtime 300'], ['downtime 400'], [], ['downtime 500'], ['abort'], []]);
  });

  it('Suspend workload if needed: 5,000 ms at count 8, abort at count 9', () => {
    const acts = run(ovirtPolicySettings('suspend-workload-if-needed'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(acts.slice(8)).toEqual([['downtime 5000'], ['abort'], []]);
  });

  it('Post-copy migration: post-copy at count 4, and nothing after it', () => {
    const acts = run(ovirtPolicySettings('post-copy'), [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(acts).toEqual([[], [], ['downtime 150'], ['downtime 200'], ['postcopy'], [], [], []]);
  });

  it('Post-copy migration when post-copy cannot start: that step passes, the abort comes at the next iteration', () => {
    const acts = run(ovirtPolicySettings('post-copy'), [1, 2, 3, 4, 5, 6, 7], { postcopyCapable: false });
    expect(acts).toEqual([[], [], ['downtime 150'], ['downtime 200'], [], ['abort'], []]);
  });

  it('takes one step per poll even when several iterations passed between polls, and none when no new one did', () => {
    const acts = run(ovirtPolicySettings('minimal-downtime'), [3, 3, 9, 9, 20, 21]);
    // count 6 at the 3rd poll: only the head (limit 1) runs
    expect(acts).toEqual([[], [], ['downtime 150'], [], ['downtime 200'], ['downtime 300']]);
  });

  it('counts iterations from the first the monitor saw, not from 0 (libvirt memIteration may carry older ones)', () => {
    const acts = run(ovirtPolicySettings('minimal-downtime'), [40, 41, 42]);
    expect(acts).toEqual([[], [], ['downtime 150']]);
  });

  it('a custom schedule with an empty stalling list never acts after its init', () => {
    const settings: OvirtSettings = { ...ovirtPolicySettings('minimal-downtime'), policy: 'custom', convergenceSchedule: { init: [{ action: 'setDowntime', downtimeMs: 250 }], stalling: [] } };
    expect(run(settings, [1, 2, 3, 4, 5]).flat()).toEqual([]);
    expect(ovirtStartOverrides(settings).downtimeLimitMs).toBe(250);
  });

  it('an init abort acts at the first poll', () => {
    const settings: OvirtSettings = { ...ovirtPolicySettings('minimal-downtime'), policy: 'custom', convergenceSchedule: { init: [{ action: 'abort' }], stalling: [] } };
    expect(run(settings, [1, 2])).toEqual([['abort'], []]);
  });
});

describe('ovirt: what vdsm sets before migrating', () => {
  it.each([
    ['minimal-downtime', { downtimeLimitMs: 100, postcopy: false, autoConverge: true }],
    ['suspend-workload-if-needed', { downtimeLimitMs: 100, postcopy: false, autoConverge: true, xbzrleCacheBytes: QEMU_DEFAULT_XBZRLE_CACHE_BYTES }],
    // VIR_MIGRATE_POSTCOPY when a stalling step is post-copy
    ['post-copy', { downtimeLimitMs: 100, postcopy: true, autoConverge: true }],
  ] as const)('%s', (policy, expected) => {
    expect(ovirtStartOverrides(ovirtPolicySettings(policy))).toEqual(expected);
  });
});

describe('ovirt: scenario keys (orchestrator-policy-keys.ts)', () => {
  const ctx = (policy: string) => ({ get: (p: string) => (p === 'orchestrator.policy' ? policy : undefined), block: () => ({}) });
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (error) {
      if (error instanceof MigbenchError && error.code === 'E_SCENARIO') return error.message;
      throw error;
    }
    throw new Error('expected a refusal');
  };

  it("gives the named policy's schedule when none is written", () => {
    expect(resolveConvergenceSchedule(null, ctx('post-copy'))).toEqual(OVIRT_POLICIES['post-copy'].convergenceSchedule);
    expect(resolveConvergenceSchedule(undefined, ctx('minimal-downtime'))).toEqual(OVIRT_POLICIES['minimal-downtime'].convergenceSchedule);
  });

  it('reads a custom schedule in vdsm\'s action names', () => {
    const v = { init: ['setDowntime(250)'], stalling: [{ limit: 2, action: 'setDowntime(1000)' }, { limit: -1, action: 'postcopy' }, { limit: -1, action: 'abort' }] };
    expect(resolveConvergenceSchedule(v, ctx('custom'))).toEqual({
      init: [{ action: 'setDowntime', downtimeMs: 250 }],
      stalling: [{ limit: 2, action: { action: 'setDowntime', downtimeMs: 1000 } }, { limit: -1, action: { action: 'postcopy' } }, { limit: -1, action: { action: 'abort' } }],
    });
    expect(resolveConvergenceSchedule({}, ctx('custom'))).toEqual({ init: [], stalling: [] });
  });

  it.each([
    [null, 'custom', 'orchestrator.convergenceSchedule: is required with orchestrator.policy "custom", got null'],
    [{ init: [] }, 'minimal-downtime', 'orchestrator.convergenceSchedule: is a schedule of your own: it needs orchestrator.policy "custom" (the policy "minimal-downtime" has its own), got {"init":[]}'],
    [[], 'custom', 'orchestrator.convergenceSchedule: expected an object like { "init": ["setDowntime(100)"], "stalling": [{ "limit": 1, "action": "abort" }] }, got []'],
    [{ steps: [] }, 'custom', 'orchestrator.convergenceSchedule.steps: is not a key of a convergence schedule (known: init, stalling), got []'],
    [{ init: ['setDowntime(0)'] }, 'custom', 'orchestrator.convergenceSchedule.init[0]: setDowntime takes whole ms from 1 to 2000000, got "setDowntime(0)"'],
    [{ init: ['postCopy'] }, 'custom', 'orchestrator.convergenceSchedule.init[0]: expected "setDowntime(ms)", "postcopy" or "abort", got "postCopy"'],
    [{ stalling: [{ limit: -2, action: 'abort' }] }, 'custom', 'orchestrator.convergenceSchedule.stalling[0].limit: expected an integer >= -1 (iterations; -1: at the next one), got -2'],
    [{ stalling: [{ limit: 1, action: 'abort', after: 3 }] }, 'custom', 'orchestrator.convergenceSchedule.stalling[0].after: is not a key of a stalling step (known: limit, action), got 3'],
    [{ stalling: 'abort' }, 'custom', 'orchestrator.convergenceSchedule.stalling: expected a list of { "limit": n, "action": a }, got "abort"'],
  ])('refuses %j (policy %s) in one line', (v, policy, message) => {
    expect(refusal(() => resolveConvergenceSchedule(v, ctx(policy)))).toBe(message);
  });

  it('declares one key per OvirtSettings field, so the resolved keys copied by name are the settings', () => {
    const fields = Object.keys(ovirtPolicySettings('minimal-downtime')).filter((k) => k !== 'kind').sort();
    expect([...ORCHESTRATOR_POLICY_SETTING_NAMES.ovirt].sort()).toEqual(fields);
    const declared = ORCHESTRATOR_POLICY_KEY_DECLS.map((d) => d.key.replace(/^orchestrator\./, ''));
    for (const name of ORCHESTRATOR_POLICY_SETTING_NAMES.ovirt) expect(declared, name).toContain(name);
  });

  it("derives autoConvergence and migrationCompression from the policy (false for custom)", () => {
    const decl = (k: string) => ORCHESTRATOR_POLICY_KEY_DECLS.find((d) => d.key === k) as { derivedDefault: (c: unknown, d: unknown) => unknown };
    expect(decl('orchestrator.migrationCompression').derivedDefault(ctx('suspend-workload-if-needed'), undefined)).toBe(true);
    expect(decl('orchestrator.migrationCompression').derivedDefault(ctx('post-copy'), undefined)).toBe(false);
    expect(decl('orchestrator.autoConvergence').derivedDefault(ctx('minimal-downtime'), undefined)).toBe(true);
    expect(decl('orchestrator.autoConvergence').derivedDefault(ctx('custom'), undefined)).toBe(false);
  });
});
