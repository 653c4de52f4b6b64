/**
 * `precopy.policyParams`: each convergence policy's own parameters, declared once (kind, rule,
 * meaning) like the scenario keys, and read for the chosen policy only: a parameter of another
 * policy is refused with the policy that takes it, a near spelling with "did you mean".
 */
import { DEFAULT_POLICY_PARAMS, POLICY_NAMES, type PolicyName, type PolicyParams } from '../precopy-params.ts';
import { nearest, orList } from '../suggest.ts';
import { greaterThanZero, integerAtLeast, notNegative, readValue, type KeyContext, type KeyDecl } from './kinds.ts';
import { fail, isPlainObject } from './refuse.ts';

/** Every policy parameter: `key` is its name inside policyParams; defaults are DEFAULT_POLICY_PARAMS. */
type ParamDecl = KeyDecl & { readonly key: keyof PolicyParams };

export const POLICY_PARAM_DECLS: readonly ParamDecl[] = ([
  { key: 'availSwitchoverBandwidth', kind: 'rate', nullable: true, unit: 'rate or null', meaning: 'qemu: bytes/s used instead of the measured bandwidth for the switchover decision (QEMU avail-switchover-bandwidth); null = measured' },
  { key: 'xenVariant', kind: 'enum', values: ['simple', 'legacy'], unit: '"simple" | "legacy"', meaning: 'xen: "simple" = libxenguest\'s simple_precopy_policy; "legacy" = xc_domain_save (≤ 4.5)' },
  { key: 'xenMaxIterations', kind: 'number', rules: [integerAtLeast(1)], unit: 'count', meaning: 'xen: last iteration at this count (simple 5, legacy 30)' },
  { key: 'xenTargetDirtyPages', kind: 'number', rules: [integerAtLeast(0)], unit: 'pages', meaning: 'xen: stop when fewer pages than this were dirty (SPP_TARGET_DIRTY_COUNT, 50)' },
  { key: 'xenMaxFactor', kind: 'number', rules: [greaterThanZero], unit: '× memory', meaning: 'xen legacy: never send more than this × memory (DEF_MAX_FACTOR, 3)' },
  { key: 'hypervMaxPasses', kind: 'number', rules: [integerAtLeast(1)], unit: 'count', meaning: 'hyperv: copy passes at most (5 since 2012 R2; 10 in 2008 R2)' },
  { key: 'phaulMaxIterations', kind: 'number', rules: [integerAtLeast(1)], unit: 'count', meaning: 'phaul: pre-dump iterations at most (phaul_iter_max, 8)' },
  { key: 'phaulMinPages', kind: 'number', rules: [integerAtLeast(0)], unit: 'pages', meaning: 'phaul: stop once an iteration wrote this few pages (phaul_iter_min_size, 64)' },
  { key: 'phaulMaxGrowth', kind: 'number', rules: [notNegative], unit: 'fraction', meaning: 'phaul: stop when an iteration wrote more than this fraction more pages than the one before (0.1)' },
  { key: 'vmotionSwitchoverGoalMs', kind: 'duration', rules: [greaterThanZero], unit: 'ms', meaning: 'vmotion: the switchover time goal (500 ms)' },
] satisfies ParamDecl[]).map((d) => ({ ...d, default: DEFAULT_POLICY_PARAMS[d.key] }));

/** Which parameter keys each policy takes (the rest are refused, so a typo is caught). */
export const POLICY_PARAM_KEYS: Record<PolicyName, readonly (keyof PolicyParams)[]> = {
  qemu: ['availSwitchoverBandwidth'],
  xen: ['xenVariant', 'xenMaxIterations', 'xenTargetDirtyPages', 'xenMaxFactor'],
  hyperv: ['hypervMaxPasses'],
  phaul: ['phaulMaxIterations', 'phaulMinPages', 'phaulMaxGrowth'],
  'cloud-hypervisor': [],
  vmotion: ['vmotionSwitchoverGoalMs'],
};

/** "; did you mean …" for a parameter the policy does not take: a near name of its own, or the policy that takes it. */
function policyParamHint(policy: PolicyName, k: string): string {
  const own = nearest(k, POLICY_PARAM_KEYS[policy]);
  if (own.length > 0) return `; did you mean ${orList(own)}?`;
  const names = Object.values(POLICY_PARAM_KEYS).flat();
  const near = nearest(k, names);
  if (near.length === 0) return '';
  const owner = (POLICY_NAMES as readonly PolicyName[]).find((pn) => POLICY_PARAM_KEYS[pn].includes(near[0] as never));
  return near[0] === k ? `; ${k} is a parameter of policy "${owner}"` : `; did you mean ${near[0]} (policy "${owner}")?`;
}

/** The chosen policy's parameters, each resolved (defaults from DEFAULT_POLICY_PARAMS); only its own keys. */
export function resolvePolicyParams(policy: PolicyName, v: unknown, ctx: KeyContext): Partial<PolicyParams> {
  if (v !== undefined && !isPlainObject(v)) fail('precopy.policyParams', 'expected an object', v);
  const given = v ?? {};
  const allowed = POLICY_PARAM_KEYS[policy];
  for (const k of Object.keys(given)) {
    if (!(allowed as readonly string[]).includes(k)) {
      fail(`precopy.policyParams.${k}`, `not a parameter of policy "${policy}" (it takes: ${allowed.length ? allowed.join(', ') : 'none'})${policyParamHint(policy, k)}`, given[k]);
    }
  }
  const out: Record<string, unknown> = {};
  for (const decl of POLICY_PARAM_DECLS) {
    if (!allowed.includes(decl.key)) continue;
    out[decl.key] = readValue(decl, `precopy.policyParams.${decl.key}`, given[decl.key], ctx);
  }
  // xc_domain_save (legacy) iterates up to 30 times where the simple policy stops at 5
  if (out.xenVariant === 'legacy' && given.xenMaxIterations === undefined) out.xenMaxIterations = 30;
  return out as Partial<PolicyParams>;
}
