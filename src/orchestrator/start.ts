/**
 * The orchestrator's settings at the start (StartOverrides: QEMU capabilities and parameters set before
 * `migrate`) applied to the scenario a mode runs: the downtime limit, max-bandwidth, auto-converge,
 * XBZRLE's cache, and the postcopy-ram capability. The capability alone does not switch: it is
 * `postcopy.enabled` with `startAfterRounds` Infinity, so the switch is the orchestrator's action
 * (a scenario that enables post-copy itself keeps its own switch too). The result document keeps
 * the user's scenario; the overrides are recorded in `precopy.orchestrator.start`. Pure, idempotent.
 */
import type { Scenario } from '../options.ts';
import type { AutoConverge } from '../scenario/types.ts';
import type { StartOverrides } from '../precopy/orchestrator-port.ts';
import { orchestratorStartOverrides } from './index.ts';

/** QEMU's auto-converge defaults (cpu-throttle-initial 20, -increment 10, max-cpu-throttle 99, throttle-trigger-threshold 50), as `precopy.autoConverge: true` resolves. */
const QEMU_AUTO_CONVERGE: AutoConverge = { initial: 20, increment: 10, max: 99, triggerThreshold: 50 };

/** The scenario with `o` applied (the same scenario when `o` is empty). */
export function applyStartOverrides(s: Scenario, o: StartOverrides): Scenario {
  if (Object.keys(o).length === 0) return s;
  return {
    ...s,
    precopy: {
      ...s.precopy,
      ...(o.downtimeLimitMs !== undefined ? { downtimeLimitMs: o.downtimeLimitMs } : {}),
      ...(o.maxBandwidthBytesPerSec !== undefined ? { maxBandwidth: o.maxBandwidthBytesPerSec } : {}),
      ...(o.autoConverge !== undefined ? { autoConverge: o.autoConverge ? (s.precopy.autoConverge ?? QEMU_AUTO_CONVERGE) : null } : {}),
      ...(o.xbzrleCacheBytes !== undefined ? { xbzrle: { enabled: true, cacheSize: o.xbzrleCacheBytes } } : {}),
    },
    postcopy: o.postcopy && !s.postcopy.enabled ? { ...s.postcopy, enabled: true, startAfterRounds: Infinity } : s.postcopy,
  };
}

/** The scenario a mode runs: the user's with its orchestrator's start settings applied. */
export function withOrchestratorStart(s: Scenario): Scenario {
  return applyStartOverrides(s, orchestratorStartOverrides(s.orchestrator, s.guest.memory));
}
