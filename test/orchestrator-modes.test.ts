/**
 * Orchestrators on the one loop in both modes (issue 19 items 2, 3, "done when" #1 and #2):
 * - simulate mode, a 4 GiB guest whose hot set cannot converge (a 128 MiB hot set written 5,000 times
 *   a second over 100 Mbit/s: every round re-dirties far more than 300 ms of the link): kubevirt with
 *   its defaults aborts, and the result says why and when (completion-timeout: the remaining bytes fall
 *   within every round, so KubeVirt's progress check, below the previous poll, never trips); with
 *   allowWorkloadDisruption it pauses the guest to finish instead;
 * - emulate mode, the same workload on an 8 MiB guest with the budget scaled down through the settings
 *   (completionTimeoutPerGiB 1: a 1 s budget), gives the same sequence of actions; with allowPostCopy it
 *   completes through emulate mode's post-copy, verified;
 * - the start settings reach the migration, the document keeps the user's scenario, and what a mode
 *   cannot run is refused in one line.
 * Hang guards: every emulated run has precopy.timeoutMs 20 s and the test a 60 s timeout; runScenario
 * disposes of the guest (its vCPUs and the destination) whatever happens.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { simulatePrecopy, simulateScenario } from '../src/sim/run-simulated.ts';
import { checkOrchestratorMode, orchestratorRefusal } from '../src/orchestrator/support.ts';
import { applyStartOverrides, withOrchestratorStart } from '../src/orchestrator/start.ts';
import { createOrchestrator } from '../src/orchestrator/index.ts';
import { ORCHESTRATOR_KINDS } from '../src/scenario/orchestrator-settings.ts';
import { MigbenchError } from '../src/errors.ts';
import type { PrecopyResult } from '../src/results/document.ts';

const MIB = 2 ** 20;

/** The hot set cannot converge: 5,000 writes/s into 128 MiB against 100 Mbit/s (300 ms of it is 915 pages). */
const big: ScenarioInput = {
  guest: { memory: '4GiB' },
  link: { bandwidth: '100Mbit/s' },
  workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '128MiB' },
  precopy: { timeoutMs: '1h' },
};

/** The same workload, small: an 8 MiB guest, a 4 MiB hot set written 5,000 times a second, a 4 MiB/s link (50 ms of it: 51 pages). */
const small: ScenarioInput = {
  guest: { memory: '8MiB', vcpus: 1 },
  link: { bandwidth: '4MiB/s' },
  workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB', hotFraction: 1 },
  precopy: { downtimeLimitMs: 50, timeoutMs: 20_000 },
};

/** The 4 GiB run under kubevirt's defaults, simulated once for the tests that read it. */
let bigDefaultsRun: PrecopyResult | null = null;
const bigDefaults = (): PrecopyResult => (bigDefaultsRun ??= simulatePrecopy(resolveScenario({ ...big, orchestrator: { kind: 'kubevirt' } })));

const sequence = (p: PrecopyResult): [string, string | null][] => (p.orchestrator?.actions ?? []).map((a) => [a.action, a.reason]);

describe('kubevirt in simulate mode: a 4 GiB guest whose hot set cannot converge ("done when" #1)', () => {
  it('defaults: aborted by the completion timeout, after the 750 s budget (150 s × 5 GB), the guest on the source', () => {
    const p = bigDefaults();
    expect([p.outcome, p.reason]).toEqual(['aborted', 'completion-timeout']);
    expect(p.stats.status).toBe('cancelled');
    expect(p.stats.downtime).toBeNull();
    expect(p.orchestrator!.kind).toBe('kubevirt');
    expect(sequence(p)).toEqual([['abort', 'completion-timeout']]);
    const at = p.orchestrator!.actions[0].atMs;
    expect(at).toBeGreaterThanOrEqual(751_000); // elapsed / 1 s > 750
    expect(at).toBeLessThan(751_000 + 400 + 5); // at the first 400 ms poll after it (a poll lands at most one 5 ms batch late)
    expect(p.rounds.length).toBeGreaterThan(10);
    for (const r of p.rounds) expect(r.downtimeLimitMs).toBe(300);
  });

  it('allowWorkloadDisruption: the guest is paused to finish (outcome paused), its downtime the whole remainder', () => {
    const p = simulatePrecopy(resolveScenario({ ...big, guest: { memory: '1GiB' }, orchestrator: { kind: 'kubevirt', allowWorkloadDisruption: true, completionTimeoutPerGiB: 20 } }));
    expect([p.outcome, p.reason]).toEqual(['paused', 'completion-timeout']);
    expect(p.stats.status).toBe('completed');
    expect(sequence(p)).toEqual([['pause', 'completion-timeout']]);
    const sc = p.rounds.at(-1)!;
    expect(sc.stage).toBe('stop-and-copy');
    // far above what the 300 ms limit lets through: everything pending at the pause went while paused
    expect(sc.pendingPages).toBeGreaterThan(915);
    expect(p.stats.downtime!).toBeGreaterThan(300);
  });

  it('allowPostCopy: completes as postcopy, switched when the budget runs out', () => {
    const p = simulatePrecopy(resolveScenario({ ...big, orchestrator: { kind: 'kubevirt', allowPostCopy: true } }));
    expect(p.outcome).toBe('postcopy');
    expect(p.stats.status).toBe('completed');
    expect(sequence(p)).toEqual([['postcopy', 'completion-timeout']]);
    const at = p.orchestrator!.actions[0].atMs;
    expect(at).toBeGreaterThanOrEqual(751_000);
    expect(at).toBeLessThan(751_000 + 400 + 5);
    // the switch pauses for the device state and the missing-page list, not for the hot set
    expect(p.stats.downtime!).toBeLessThan(300);
    expect(p.stats.ram['postcopy-requests']!).toBeGreaterThan(0);
    expect(p.stats['total-time']).toBeGreaterThan(at);
  });
});

describe('the same workload in emulate mode on a small guest gives the same sequence of actions ("done when" #2)', () => {
  it('kubevirt with a 1 s budget: abort (completion-timeout), as in simulate mode', { timeout: 60_000 }, async () => {
    const orchestrator = { kind: 'kubevirt', completionTimeoutPerGiB: 1 };
    const emulated = (await runScenario(resolveScenario({ ...small, orchestrator }), { methods: ['precopy'] })).precopy!;
    const simulated = simulatePrecopy(resolveScenario({ ...small, orchestrator }));
    const big4 = bigDefaults();
    expect(sequence(emulated)).toEqual([['abort', 'completion-timeout']]);
    expect(sequence(simulated)).toEqual(sequence(emulated));
    expect(sequence(big4)).toEqual(sequence(emulated));
    expect([emulated.outcome, emulated.stats.status, emulated.verified]).toEqual(['aborted', 'cancelled', null]);
    expect(emulated.orchestrator!.actions[0].atMs).toBeGreaterThanOrEqual(2000); // elapsed / 1 s > 1
  });

  it('kubevirt with allowWorkloadDisruption: pause, and the destination is verified', { timeout: 60_000 }, async () => {
    const orchestrator = { kind: 'kubevirt', completionTimeoutPerGiB: 1, allowWorkloadDisruption: true };
    const emulated = (await runScenario(resolveScenario({ ...small, orchestrator }), { methods: ['precopy'] })).precopy!;
    const simulated = simulatePrecopy(resolveScenario({ ...small, orchestrator }));
    expect(sequence(emulated)).toEqual([['pause', 'completion-timeout']]);
    expect(sequence(simulated)).toEqual(sequence(emulated));
    expect([emulated.outcome, emulated.stats.status, emulated.verified]).toEqual(['paused', 'completed', true]);
  });

  it('kubevirt with allowPostCopy: post-copy through emulate mode\'s port (postcopy-ram on from the start, no switch of its own), verified', { timeout: 60_000 }, async () => {
    const s = resolveScenario({ ...small, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1, allowPostCopy: true } });
    expect(orchestratorRefusal(s, 'emulate')).toBeNull();
    const doc = await runScenario(s, { methods: ['precopy'], postcopyAfterWindowMs: 50 });
    const p = doc.precopy!;
    expect(sequence(p)).toEqual([['postcopy', 'completion-timeout']]);
    expect([p.outcome, p.verified]).toEqual(['postcopy', true]);
    expect(p.postcopy!.startMs).toBeGreaterThanOrEqual(2000);
    expect(p.orchestrator!.start).toEqual({ postcopy: true });
    // the document keeps the user's scenario: post-copy is the orchestrator's, not postcopy.enabled
    expect((doc.scenario as { postcopy: { enabled: boolean } }).postcopy.enabled).toBe(false);
  });
});

describe('virsh --timeout in both modes', () => {
  it('--timeout 1 (suspend): paused at the first 500 ms poll after 1 s, in emulate and simulate mode alike', { timeout: 60_000 }, async () => {
    const orchestrator = { kind: 'virsh', timeout: 1 };
    const emulated = (await runScenario(resolveScenario({ ...small, orchestrator }), { methods: ['precopy'] })).precopy!;
    const simulated = simulatePrecopy(resolveScenario({ ...small, orchestrator }));
    expect(sequence(emulated)).toEqual([['pause', 'timeout']]);
    expect(sequence(simulated)).toEqual(sequence(emulated));
    expect(simulated.orchestrator!.actions[0].atMs).toBeGreaterThan(1000);
    expect(simulated.orchestrator!.actions[0].atMs).toBeLessThanOrEqual(1500 + 5);
    expect([emulated.outcome, emulated.verified]).toEqual(['paused', true]);
  });
});

describe('start settings, documents and refusals', () => {
  it('the start settings become the migration\'s: max-bandwidth, auto-converge, postcopy-ram (no switch of its own), XBZRLE, the downtime limit', () => {
    const s = resolveScenario({ orchestrator: { kind: 'kubevirt', bandwidthPerMigration: '64Mi', allowAutoConverge: true, allowPostCopy: true } });
    const w = withOrchestratorStart(s);
    expect(w.precopy.maxBandwidth).toBe(64 * MIB);
    expect(w.precopy.autoConverge).toEqual({ initial: 20, increment: 10, max: 99, triggerThreshold: 50 });
    expect(w.postcopy).toMatchObject({ enabled: true, startAfterRounds: Infinity });
    expect(withOrchestratorStart(w)).toEqual(w); // idempotent
    expect(withOrchestratorStart(resolveScenario({}))).toEqual(resolveScenario({}));
    const o = applyStartOverrides(resolveScenario({}), { downtimeLimitMs: 100, xbzrleCacheBytes: 8 * MIB, autoConverge: false });
    expect([o.precopy.downtimeLimitMs, o.precopy.xbzrle, o.precopy.autoConverge]).toEqual([100, { enabled: true, cacheSize: 8 * MIB }, null]);
    // a scenario that enables post-copy itself keeps its own switch
    expect(withOrchestratorStart(resolveScenario({ postcopy: { enabled: true, startAfterRounds: 3 }, orchestrator: { kind: 'kubevirt', allowPostCopy: true } })).postcopy.startAfterRounds).toBe(3);
  });

  it('simulate mode runs with the start settings and records them; the document keeps the user\'s scenario', async () => {
    const s = resolveScenario({ ...small, guest: { memory: '64MiB' }, workload: { pattern: 'idle' }, link: { bandwidth: '1Gbit/s' }, orchestrator: { kind: 'kubevirt', bandwidthPerMigration: '16Mi' } });
    const doc = await simulateScenario(s, { methods: ['precopy'] });
    const p = doc.precopy!;
    expect(p.outcome).toBe('converged');
    expect(p.orchestrator).toEqual({ kind: 'kubevirt', start: { maxBandwidthBytesPerSec: 16 * MIB }, actions: [] });
    expect(p.engine.liveRateLimitBytesPerSec).toBe(16 * MIB);
    expect(p.stats['total-time']).toBeGreaterThan(4000); // 64 MiB at 16 MiB/s
    expect((doc.scenario as { precopy: { maxBandwidth: unknown } }).precopy.maxBandwidth).toBe(125_000_000);
    // without an orchestrator the block is absent
    expect(simulatePrecopy(resolveScenario({ guest: { memory: '8MiB' } })).orchestrator).toBeUndefined();
  });

  it.each<[string, ScenarioInput, 'emulate' | 'simulate' | 'predict', string | null]>([
    ['none runs everywhere', {}, 'predict', null],
    ['kubevirt in simulate mode', { orchestrator: { kind: 'kubevirt' } }, 'simulate', null],
    ['predict does not model orchestrators', { orchestrator: { kind: 'kubevirt' } }, 'predict', 'orchestrator.kind: not modelled by predict yet (run it with --mode simulate or emulate), got "kubevirt"'],
    ['a fleet runs under an orchestrator (orchestrator-fleet.test.ts)', { orchestrator: { kind: 'virsh', timeout: 5 }, fleet: { count: 2 } }, 'simulate', null],
    ['a fleet may switch to post-copy in simulate mode (orchestrator-fleet.test.ts)', { orchestrator: { kind: 'kubevirt', allowPostCopy: true }, fleet: { count: 2 } }, 'simulate', null],
    [
      'a fleet on parallel channels cannot switch to post-copy in simulate mode', { orchestrator: { kind: 'kubevirt', allowPostCopy: true }, fleet: { count: 2 }, precopy: { channels: 2 } }, 'simulate',
      'orchestrator.allowPostCopy: the orchestrator may switch to post-copy, which cannot run here (precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2)',
    ],
    [
      'post-copy where the mode cannot run it', { orchestrator: { kind: 'kubevirt', allowPostCopy: true }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }, 'emulate',
      'orchestrator.allowPostCopy: the orchestrator may switch to post-copy, which cannot run here (link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp")',
    ],
    [
      'virsh --timeout-postcopy likewise', { orchestrator: { kind: 'virsh', timeout: 5, timeoutAction: 'postcopy' }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }, 'emulate',
      'orchestrator.timeoutAction: the orchestrator may switch to post-copy, which cannot run here (link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp")',
    ],
    ['virsh --timeout-postcopy without a timeout never switches', { orchestrator: { kind: 'virsh', timeoutAction: 'postcopy' }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }, 'emulate', null],
  ])('%s', (_name, input, mode, refusal) => {
    const s = resolveScenario(input);
    expect(orchestratorRefusal(s, mode)).toBe(refusal);
    if (refusal) expect(() => checkOrchestratorMode(s, mode, 'bench x')).toThrow(new MigbenchError('E_SCENARIO', `bench x: ${refusal}`));
  });

  it('the library refuses too, before anything runs: post-copy where simulate mode cannot run it (2 channels), a fleet on 2 channels', async () => {
    const refused = (input: ScenarioInput): unknown => {
      try {
        simulatePrecopy(resolveScenario(input));
      } catch (error) {
        return error instanceof MigbenchError ? [error.code, error.message] : error;
      }
      return 'ran';
    };
    expect(refused({ ...small, precopy: { ...small.precopy, channels: 2 }, orchestrator: { kind: 'kubevirt', allowPostCopy: true } })).toEqual(['E_SCENARIO', expect.stringMatching(/^orchestrator\.allowPostCopy: the orchestrator may switch to post-copy, which cannot run here/)]);
    await expect(simulateScenario(resolveScenario({ ...small, precopy: { ...small.precopy, channels: 2 }, orchestrator: { kind: 'kubevirt', allowPostCopy: true }, fleet: { count: 2 } }), { methods: ['precopy'] })).rejects.toThrow(/^orchestrator\.allowPostCopy: .*precopy\.channels: post-copy runs on the single lane/);
    await expect(runScenario(resolveScenario({ ...small, orchestrator: { kind: 'kubevirt', allowPostCopy: true }, link: { transport: 'tcp', target: '127.0.0.1:9' } }), { methods: ['precopy'] })).rejects.toThrow(/^orchestrator\.allowPostCopy: /);
  });

  it('every kind has its orchestrator; "none" has none', () => {
    for (const kind of ORCHESTRATOR_KINDS.filter((k) => k !== 'none')) expect(createOrchestrator(resolveScenario({ orchestrator: { kind } }).orchestrator, 2 ** 30)?.kind).toBe(kind);
    expect(createOrchestrator(resolveScenario({}).orchestrator, 1)).toBeNull();
  });
});
