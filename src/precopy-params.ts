/**
 * The pre-copy parameters a scenario names and the engine obeys: the convergence policies' names,
 * their parameters with the real systems' defaults, and the most parallel channels. A leaf: the
 * scenario schema (options.ts) checks against these and precopy/ runs them, so neither imports the
 * other for them.
 */

/** The most parallel channels (`precopy.channels`) a migration may use. */
export const MAX_CHANNELS = 16;

export type PolicyName = 'qemu' | 'xen' | 'hyperv' | 'phaul' | 'cloud-hypervisor' | 'vmotion';
export const POLICY_NAMES: readonly PolicyName[] = ['qemu', 'xen', 'hyperv', 'phaul', 'cloud-hypervisor', 'vmotion'];

/** Per-policy parameters, all resolved (defaults from the real systems). */
export interface PolicyParams {
  /** qemu: bytes/s used instead of the measured bandwidth for the switchover decision (QEMU avail-switchover-bandwidth); null = measured */
  availSwitchoverBandwidth: number | null;
  /** xen: "simple" = libxenguest's simple_precopy_policy; "legacy" = xc_domain_save (≤ 4.5) */
  xenVariant: 'simple' | 'legacy';
  /** xen: last iteration at this count (simple 5, legacy 30) */
  xenMaxIterations: number;
  /** xen: stop when fewer pages than this were dirty (SPP_TARGET_DIRTY_COUNT, 50) */
  xenTargetDirtyPages: number;
  /** xen legacy: never send more than this × memory (DEF_MAX_FACTOR, 3) */
  xenMaxFactor: number;
  /** hyperv: copy passes at most (5 since 2012 R2; 10 in 2008 R2) */
  hypervMaxPasses: number;
  /** phaul: pre-dump iterations at most (phaul_iter_max, 8) */
  phaulMaxIterations: number;
  /** phaul: stop once an iteration wrote this few pages (phaul_iter_min_size, 64) */
  phaulMinPages: number;
  /** phaul: stop when an iteration wrote more than this fraction more pages than the one before (0.1) */
  phaulMaxGrowth: number;
  /** vmotion: the switchover time goal (500 ms) */
  vmotionSwitchoverGoalMs: number;
}

export const DEFAULT_POLICY_PARAMS: PolicyParams = Object.freeze({
  availSwitchoverBandwidth: null,
  xenVariant: 'simple',
  xenMaxIterations: 5,
  xenTargetDirtyPages: 50,
  xenMaxFactor: 3,
  hypervMaxPasses: 5,
  phaulMaxIterations: 8,
  phaulMinPages: 64,
  phaulMaxGrowth: 0.1,
  vmotionSwitchoverGoalMs: 500,
});
