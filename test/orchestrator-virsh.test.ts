/**
 * `virsh migrate --timeout` as a decision table (src/orchestrator/virsh.ts, from tools/virsh-domain.c
 * `virshWatchJob` and `virshMigrateTimeout`): pure, fed a made-up sequence of polls every 500 ms.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationView } from '../src/precopy/orchestrator-port.ts';
import { createVirshOrchestrator, virshStartOverrides, VIRSH_POLL_MS } from '../src/orchestrator/virsh.ts';
import { resolveScenario } from '../src/options.ts';
import type { VirshSettings } from '../src/scenario/orchestrator-settings.ts';

const settings = (over: Record<string, unknown> = {}): VirshSettings => resolveScenario({ orchestrator: { kind: 'virsh', ...over } }).orchestrator as VirshSettings;
const view = (elapsedMs: number, phase: MigrationView['phase'] = 'precopy'): MigrationView => ({
  elapsedMs, memoryBytes: 2 ** 30, remainingBytes: 1, transferredBytes: 0, iterations: 1, dirtyPagesPerSec: 0, expectedDowntimeMs: 0, downtimeLimitMs: 300, phase, postcopyCapable: true,
});

/** Every action over polls at `times`, with its time. */
function acted(s: VirshSettings, times: number[], phase: (t: number) => MigrationView['phase'] = () => 'precopy'): [number, string, string][] {
  const o = createVirshOrchestrator(s, 2 ** 30);
  return times.flatMap((t) => o.poll(view(t, phase(t))).map((a) => [t, a.kind, 'reason' in a ? a.reason : ''] as [number, string, string]));
}
const every500 = (untilMs: number): number[] => Array.from({ length: untilMs / 500 + 1 }, (_, i) => i * 500);

describe('virsh --timeout', () => {
  it.each<[string, Record<string, unknown>, [number, string, string][]]>([
    ['no --timeout: never acts', {}, []],
    ['--timeout 30 (--timeout-suspend by default): suspend at the first poll after more than 30 s, once', { timeout: 30 }, [[30_500, 'pause', 'timeout']]],
    ['--timeout 30 --timeout-postcopy: switch to post-copy then, once', { timeout: 30, timeoutAction: 'postcopy' }, [[30_500, 'postcopy', 'timeout']]],
    ['--timeout 1: more than 1000 ms, so 1500', { timeout: 1 }, [[1_500, 'pause', 'timeout']]],
  ])('%s', (_name, over, expected) => {
    expect(acted(settings(over), every500(120_000))).toEqual(expected);
  });

  it('a poll exactly at the timeout does not act (virshWatchJob: elapsed > timeout_ms)', () => {
    expect(acted(settings({ timeout: 30 }), [29_999, 30_000, 30_001])).toEqual([[30_001, 'pause', 'timeout']]);
  });

  it('polls every 500 ms; --timeout-postcopy turns on postcopy-ram at the start (it needs --postcopy)', () => {
    expect(VIRSH_POLL_MS).toBe(500);
    expect(createVirshOrchestrator(settings({ timeout: 5 }), 1).nextPollInMs(view(0))).toBe(500);
    expect(virshStartOverrides(settings({ timeout: 30, timeoutAction: 'postcopy' }), 1)).toEqual({ postcopy: true });
    expect(virshStartOverrides(settings({ timeout: 30 }), 1)).toEqual({});
    expect(virshStartOverrides(settings({ timeoutAction: 'postcopy' }), 1)).toEqual({});
  });

  it('already in post-copy: nothing to do', () => {
    expect(acted(settings({ timeout: 1 }), every500(5000), () => 'postcopy')).toEqual([]);
  });
});
