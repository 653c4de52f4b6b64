/**
 * The pre-copy loop's settings from a resolved scenario: one place, shared by emulate mode (run.ts) and
 * simulate mode (sim/), so both run the same policy with the same parameters.
 */
import type { Scenario } from '../options.ts';
import type { PrecopySettings } from './loop.ts';
import { DEFAULT_POLICY_PARAMS } from '../precopy-params.ts';

export function precopySettingsFor(scenario: Scenario): PrecopySettings {
  const link = scenario.link.bandwidth;
  return {
    downtimeLimitMs: scenario.precopy.downtimeLimitMs,
    maxRounds: scenario.precopy.maxRounds,
    timeoutMs: scenario.precopy.timeoutMs,
    onTimeout: scenario.precopy.onTimeout,
    liveRateBytesPerSec: Math.min(scenario.precopy.maxBandwidth, link),
    linkRateBytesPerSec: link,
    policy: scenario.precopy.policy,
    params: { ...DEFAULT_POLICY_PARAMS, ...scenario.precopy.policyParams },
    autoConverge: scenario.precopy.autoConverge,
    dirtyLimitPagesPerSec: scenario.precopy.dirtyLimit === null ? null : Math.max(1, scenario.precopy.dirtyLimit / scenario.guest.pageSize),
    targetDirtyRatePagesPerSec: scenario.workload.pattern === 'idle' ? 0 : scenario.workload.dirtyRate,
  };
}
