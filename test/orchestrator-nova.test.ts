/**
 * Nova's decisions against nova/virt/libvirt/migration.py and driver.py `_live_migration_monitor`:
 * the downtime ramp exactly as `downtime_steps` computes it (expected values computed with the Python
 * formula), the step in force at each 0.5 s pass, the completion timeout and its two actions.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationView, OrchestratorAction } from '../src/precopy/orchestrator-port.ts';
import type { NovaSettings } from '../src/scenario/orchestrator-settings.ts';
import {
  createNovaOrchestrator,
  novaCompletionTimeoutS,
  novaDataGiB,
  novaDowntimeSteps,
  novaStartOverrides,
  novaStepInForce,
  NOVA_POLL_INTERVAL_MS,
} from '../src/orchestrator/nova.ts';

const GIB = 2 ** 30;
const DEFAULTS: NovaSettings = {
  kind: 'nova',
  liveMigrationDowntime: 500,
  liveMigrationDowntimeSteps: 10,
  liveMigrationDowntimeDelay: 75,
  liveMigrationCompletionTimeout: 800,
  liveMigrationTimeoutAction: 'abort',
  liveMigrationPermitPostCopy: false,
  liveMigrationPermitAutoConverge: false,
};

function view(elapsedMs: number, over: Partial<MigrationView> = {}): MigrationView {
  return {
    elapsedMs, memoryBytes: 4 * GIB, remainingBytes: GIB, transferredBytes: 8 * GIB, iterations: 5, dirtyPagesPerSec: 50_000,
    expectedDowntimeMs: 8000, downtimeLimitMs: 300, phase: 'precopy', postcopyCapable: false, ...over,
  };
}

/** Poll every 0.5 s (Nova's sleep) up to `untilMs`, collecting what it does and when. */
function run(settings: NovaSettings, memoryBytes: number, untilMs: number, over: Partial<MigrationView> = {}): { atMs: number; action: OrchestratorAction }[] {
  const o = createNovaOrchestrator(settings, memoryBytes);
  const out: { atMs: number; action: OrchestratorAction }[] = [];
  for (let t = o.nextPollInMs(view(0)); t <= untilMs; t += o.nextPollInMs(view(t))) {
    for (const action of o.poll(view(t, { memoryBytes, ...over }))) out.push({ atMs: t, action });
  }
  return out;
}

describe('nova: downtime_steps', () => {
  it('gives 50, 95, 140, … 500 ms every 300 s for a 4 GiB guest with the defaults (the issue is right)', () => {
    expect(novaDowntimeSteps(DEFAULTS, novaDataGiB(4 * GIB)).map((s) => [s.afterS, s.downtimeLimitMs])).toEqual([
      [0, 50], [300, 95], [600, 140], [900, 185], [1200, 230], [1500, 275], [1800, 320], [2100, 365], [2400, 410], [2700, 455], [3000, 500],
    ]);
  });

  it("reproduces the docstring's example (10 steps, 30 s delay, 3 GiB, 400 ms) and Python's truncations", () => {
    const s = (downtime: number, steps: number, delay: number) => ({ ...DEFAULTS, liveMigrationDowntime: downtime, liveMigrationDowntimeSteps: steps, liveMigrationDowntimeDelay: delay });
    expect(novaDowntimeSteps(s(400, 10, 30), 3).map((x) => [x.afterS, x.downtimeLimitMs])).toEqual([
      [0, 40], [90, 76], [180, 112], [270, 148], [360, 184], [450, 220], [540, 256], [630, 292], [720, 328], [810, 364], [900, 400],
    ]);
    // 500/3 does not divide: int() truncates each value as Python does
    expect(novaDowntimeSteps(s(500, 3, 75), 2).map((x) => [x.afterS, x.downtimeLimitMs])).toEqual([[0, 166], [150, 277], [300, 388], [450, 500]]);
    // int(75 × 2.5) = 187: the delay is truncated before it is multiplied
    expect(novaDowntimeSteps(s(700, 7, 75), 2.5).map((x) => [x.afterS, x.downtimeLimitMs])).toEqual([
      [0, 100], [187, 185], [374, 271], [561, 357], [748, 442], [935, 528], [1122, 614], [1309, 700],
    ]);
  });

  it('counts a guest as at least 2 GiB (_live_migration_data_gb)', () => {
    expect(novaDataGiB(GIB / 2)).toBe(2);
    expect(novaDataGiB(3 * GIB)).toBe(3);
    expect(novaDowntimeSteps(DEFAULTS, novaDataGiB(GIB))[1]!.afterS).toBe(150);
    expect(novaCompletionTimeoutS(DEFAULTS, novaDataGiB(GIB))).toBe(1600);
  });

  it('puts a step in force only once the elapsed time is strictly past its marker (update_downtime)', () => {
    const steps = novaDowntimeSteps(DEFAULTS, 4);
    expect(novaStepInForce(steps, 0)).toBeNull();
    expect(novaStepInForce(steps, 1)?.downtimeLimitMs).toBe(50);
    expect(novaStepInForce(steps, 300_000)?.downtimeLimitMs).toBe(50);
    expect(novaStepInForce(steps, 300_001)?.downtimeLimitMs).toBe(95);
    expect(novaStepInForce(steps, 10_000_000)?.downtimeLimitMs).toBe(500);
  });
});

describe('nova: the monitor, pass by pass', () => {
  it('polls every 0.5 s', () => {
    expect(NOVA_POLL_INTERVAL_MS).toBe(500);
    expect(createNovaOrchestrator(DEFAULTS, 4 * GIB).nextPollInMs(view(0))).toBe(500);
  });

  it('raises the limit at the first pass past each marker, then aborts past 800 s/GiB × 4 GiB = 3,200 s', () => {
    const acts = run(DEFAULTS, 4 * GIB, 4000_000);
    const downs = acts.filter((a) => a.action.kind === 'set-downtime');
    expect(downs.map((a) => [a.atMs, (a.action as { downtimeLimitMs: number }).downtimeLimitMs])).toEqual([
      [500, 50], [300_500, 95], [600_500, 140], [900_500, 185], [1200_500, 230], [1500_500, 275], [1800_500, 320], [2100_500, 365], [2400_500, 410], [2700_500, 455], [3000_500, 500],
    ]);
    const last = acts.at(-1)!;
    expect(last.atMs).toBe(3200_500);
    expect(last.action.kind).toBe('abort');
    expect((last.action as { reason: string }).reason).toContain('3200 s');
  });

  it('force_complete with post-copy permitted switches to post-copy one pass after the timeout (the task queue)', () => {
    const settings: NovaSettings = { ...DEFAULTS, liveMigrationTimeoutAction: 'force_complete', liveMigrationPermitPostCopy: true };
    const acts = run(settings, 4 * GIB, 4000_000, { postcopyCapable: true });
    const last = acts.at(-1)!;
    expect(last).toMatchObject({ atMs: 3201_000, action: { kind: 'postcopy' } });
    expect(acts.filter((a) => a.action.kind === 'abort' || a.action.kind === 'pause')).toEqual([]);
  });

  it('force_complete without post-copy pauses the guest, once', () => {
    const settings: NovaSettings = { ...DEFAULTS, liveMigrationTimeoutAction: 'force_complete' };
    const pauses = run(settings, 4 * GIB, 4000_000).filter((a) => a.action.kind === 'pause');
    expect(pauses.map((a) => a.atMs)).toEqual([3201_000]);
  });

  it('force_complete with post-copy permitted but not available pauses instead', () => {
    const settings: NovaSettings = { ...DEFAULTS, liveMigrationTimeoutAction: 'force_complete', liveMigrationPermitPostCopy: true };
    const kinds = run(settings, 4 * GIB, 4000_000, { postcopyCapable: false }).map((a) => a.action.kind);
    expect(kinds).toContain('pause');
    expect(kinds).not.toContain('postcopy');
  });

  it('a completion timeout of 0 never acts', () => {
    const acts = run({ ...DEFAULTS, liveMigrationCompletionTimeout: 0 }, 4 * GIB, 5000_000);
    expect(acts.every((a) => a.action.kind === 'set-downtime')).toBe(true);
  });

  it('does nothing once the migration runs in post-copy', () => {
    const o = createNovaOrchestrator(DEFAULTS, 4 * GIB);
    expect(o.poll(view(5000_000, { phase: 'postcopy' }))).toEqual([]);
  });
});

describe('nova: what it sets before migrating', () => {
  it.each([
    [false, false, { postcopy: false, autoConverge: false }],
    [false, true, { postcopy: false, autoConverge: true }],
    [true, false, { postcopy: true, autoConverge: false }],
    // auto-converge only when post-copy is not permitted
    [true, true, { postcopy: true, autoConverge: false }],
  ])('permit post-copy %s, permit auto-converge %s', (pc, ac, expected) => {
    expect(novaStartOverrides({ ...DEFAULTS, liveMigrationPermitPostCopy: pc, liveMigrationPermitAutoConverge: ac }, 4 * GIB)).toEqual(expected);
  });
});
