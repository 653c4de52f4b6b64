/**
 * Scenario keys of the `orchestrator` block for kinds `ovirt` and `kubevirt-stall` (issue 19), declared
 * like every other key, each setting under its own system's name.
 *
 * They join the table after the block's own declarations (keys.ts), their names join the per-kind
 * lists (orchestrator-keys.ts: a name may belong to more than one kind: kubevirt-stall takes five of
 * kubevirt's settings), and the names equal the fields of OvirtSettings and KubevirtStallSettings, so
 * copying the resolved keys by name gives complete settings.
 */
import { greaterThanZero, integerFrom, rule, type KeyContext, type KeyDecl } from './kinds.ts';
import { fail, isPlainObject } from './refuse.ts';
import { OVIRT_POLICY_NAMES, type OvirtAction, type OvirtConvergenceSchedule, type OvirtPolicyName } from './orchestrator-settings.ts';
import { OVIRT_POLICIES, VDSM_MIGRATION_MONITOR_INTERVAL_S } from './ovirt-policies.ts';

const SCHEDULE_KEY = 'orchestrator.convergenceSchedule';
/** QEMU refuses a downtime-limit above 2,000 s. */
const MAX_DOWNTIME_MS = 2_000_000;
const ACTION = /^setDowntime\((\d+)\)$/;

/** One action as a scenario writes it: "setDowntime(150)", "postcopy" or "abort" (vdsm's action names). */
export function readOvirtAction(v: unknown, at: string): OvirtAction {
  if (v === 'postcopy' || v === 'abort') return { action: v };
  const m = typeof v === 'string' ? ACTION.exec(v) : null;
  if (m) {
    const ms = Number(m[1]);
    if (ms >= 1 && ms <= MAX_DOWNTIME_MS) return { action: 'setDowntime', downtimeMs: ms };
    fail(at, `setDowntime takes whole ms from 1 to ${MAX_DOWNTIME_MS}`, v);
  }
  return fail(at, 'expected "setDowntime(ms)", "postcopy" or "abort"', v);
}

/**
 * `orchestrator.convergenceSchedule`: the named policy's schedule when absent (required with policy
 * "custom", refused with a named one), else `{ "init": [action…], "stalling": [{ "limit": n, "action": a }…] }`.
 */
export function resolveConvergenceSchedule(v: unknown, ctx: KeyContext): OvirtConvergenceSchedule {
  const policy = ctx.get('orchestrator.policy') as OvirtPolicyName;
  if (v === undefined || v === null) {
    if (policy === 'custom') fail(SCHEDULE_KEY, 'is required with orchestrator.policy "custom"', v);
    return OVIRT_POLICIES[policy as Exclude<OvirtPolicyName, 'custom'>].convergenceSchedule;
  }
  if (policy !== 'custom') fail(SCHEDULE_KEY, `is a schedule of your own: it needs orchestrator.policy "custom" (the policy "${policy}" has its own)`, v);
  if (!isPlainObject(v)) fail(SCHEDULE_KEY, 'expected an object like { "init": ["setDowntime(100)"], "stalling": [{ "limit": 1, "action": "abort" }] }', v);
  for (const k of Object.keys(v)) if (k !== 'init' && k !== 'stalling') fail(`${SCHEDULE_KEY}.${k}`, 'is not a key of a convergence schedule (known: init, stalling)', v[k]);
  const init = v.init ?? [];
  const stalling = v.stalling ?? [];
  if (!Array.isArray(init)) fail(`${SCHEDULE_KEY}.init`, 'expected a list of actions', init);
  if (!Array.isArray(stalling)) fail(`${SCHEDULE_KEY}.stalling`, 'expected a list of { "limit": n, "action": a }', stalling);
  return {
    init: init.map((a, i) => readOvirtAction(a, `${SCHEDULE_KEY}.init[${i}]`)),
    stalling: stalling.map((st, i) => {
      const at = `${SCHEDULE_KEY}.stalling[${i}]`;
      if (!isPlainObject(st)) fail(at, 'expected { "limit": n, "action": a }', st);
      for (const k of Object.keys(st)) if (k !== 'limit' && k !== 'action') fail(`${at}.${k}`, 'is not a key of a stalling step (known: limit, action)', st[k]);
      const limit = st.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < -1) fail(`${at}.limit`, 'expected an integer >= -1 (iterations; -1: at the next one)', limit);
      return { limit, action: readOvirtAction(st.action, `${at}.action`) };
    }),
  };
}

const ACTION_SCHEMA = { type: 'string', pattern: String.raw`^(setDowntime\(\d+\)|postcopy|abort)$` };
/** The named policy's flag, or false for a custom schedule. */
const policyFlag = (flag: 'autoConvergence' | 'migrationCompression') => (ctx: KeyContext): boolean => {
  const policy = ctx.get('orchestrator.policy') as OvirtPolicyName;
  return policy === 'custom' ? false : OVIRT_POLICIES[policy][flag];
};
const fraction = (words: string) => rule((n) => (n > 0 && n <= 1 ? null : words), { exclusiveMinimum: 0, maximum: 1 });
const atLeastOne = rule((n) => (n >= 1 ? null : 'must be at least 1'), { minimum: 1 });

/** The keys of kinds ovirt and kubevirt-stall (see the merge note above). */
export const ORCHESTRATOR_POLICY_KEY_DECLS = [
  // --- ovirt (ovirt-engine MigrationPolicies, vdsm lib/vdsm/virt/migration.py) ---
  {
    key: 'orchestrator.policy', kind: 'enum', values: OVIRT_POLICY_NAMES, default: 'minimal-downtime', unit: OVIRT_POLICY_NAMES.map((n) => `"${n}"`).join(' | '),
    meaning: 'ovirt: ovirt-engine\'s migration policy ("Minimal downtime", "Suspend workload if needed", "Post-copy migration"), or "custom" for a convergenceSchedule of your own',
  },
  {
    key: SCHEDULE_KEY, kind: 'special', nullable: true, default: null, defaultDoc: "the policy's", unit: '{ init: [action…], stalling: [{ limit, action }…] }; action "setDowntime(ms)" | "postcopy" | "abort"',
    meaning: 'ovirt: vdsm\'s convergence schedule: init actions at the start, then one stalling step per new iteration, each once the iterations since the monitor\'s first look exceed its limit (-1: at the next); with policy "custom" only',
    resolve: (v: unknown, ctx: KeyContext) => resolveConvergenceSchedule(v, ctx),
    schema: () => ({
      anyOf: [
        { type: 'null' },
        {
          type: 'object', additionalProperties: false,
          properties: {
            init: { type: 'array', items: ACTION_SCHEMA },
            stalling: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['limit', 'action'], properties: { limit: { type: 'integer', minimum: -1 }, action: ACTION_SCHEMA } } },
          },
        },
      ],
    }),
  },
  {
    key: 'orchestrator.autoConvergence', kind: 'boolean', defaultDoc: "the policy's (true for the three named ones; false for custom)", unit: 'true | false',
    meaning: 'ovirt: auto-converge (libvirt VIR_MIGRATE_AUTO_CONVERGE)', derivedDefault: policyFlag('autoConvergence'),
  },
  {
    key: 'orchestrator.migrationCompression', kind: 'boolean', defaultDoc: "the policy's (true for suspend-workload-if-needed; false otherwise)", unit: 'true | false',
    meaning: 'ovirt: compression (libvirt VIR_MIGRATE_COMPRESSED: XBZRLE with QEMU\'s 64 MiB cache)', derivedDefault: policyFlag('migrationCompression'),
  },
  {
    key: 'orchestrator.migrationMonitorInterval', kind: 'number', default: VDSM_MIGRATION_MONITOR_INTERVAL_S, unit: 's, integer 1 … 3600',
    meaning: 'ovirt: vdsm\'s migration_monitor_interval, how often the monitor thread looks at the migration', rules: [integerFrom(1, 3600)],
  },
  // --- kubevirt-stall (VEP 248, alpha; its kubevirt settings are kubevirt's keys) ---
  {
    key: 'orchestrator.maxDowntimeMs', kind: 'number', default: 900, unit: `ms, integer 1 … ${MAX_DOWNTIME_MS}`,
    meaning: 'kubevirt-stall: the longest pause acceptable on the pre-copy-only, no-disruption path; QEMU starts at min(this, 300 ms)', rules: [integerFrom(1, MAX_DOWNTIME_MS)],
  },
  {
    key: 'orchestrator.stallProgressTimeout', kind: 'number', default: 40, unit: 's, > 0',
    meaning: 'kubevirt-stall: the window of stall detection (and the first relaxation patience)', rules: [greaterThanZero],
  },
  {
    key: 'orchestrator.switchoverTimeout', kind: 'number', default: 60, unit: 's, > 0',
    meaning: 'kubevirt-stall: after a triggered switchover, abort if the migration has not switched over by then', rules: [greaterThanZero],
  },
  {
    key: 'orchestrator.stallMargin', kind: 'number', default: 4, unit: 'percent, integer 0 … 99',
    meaning: 'kubevirt-stall: the band around the best remaining bytes, for the stall and the local minimum', rules: [integerFrom(0, 99)],
  },
  {
    key: 'orchestrator.ewmaAlpha', kind: 'number', default: 0.4, unit: '0 < α ≤ 1',
    meaning: 'kubevirt-stall: the weight of each new bandwidth sample in its moving average', rules: [fraction('must be greater than 0 and at most 1')],
  },
  {
    key: 'orchestrator.precopyPossibleFactor', kind: 'number', default: 1.5, unit: '>= 1',
    meaning: 'kubevirt-stall: pre-copy only, no disruption: abort when the implied downtime exceeds maxDowntimeMs × this', rules: [atLeastOne],
  },
  {
    key: 'orchestrator.patienceWindowDecayFactor', kind: 'number', default: 0.5, unit: '0 < f ≤ 1',
    meaning: 'kubevirt-stall: the relaxation patience is multiplied by this after each missed window', rules: [fraction('must be greater than 0 and at most 1')],
  },
  { key: 'orchestrator.searchLocalMinima', kind: 'boolean', default: true, unit: 'true | false', meaning: 'kubevirt-stall: wait for a local minimum of the remaining bytes before switching over (false: at once)' },
  {
    key: 'orchestrator.completionTimeoutFactor', kind: 'number', default: 2, unit: '>= 1',
    meaning: 'kubevirt-stall: the hard budget is maxCompletionTime × this', rules: [atLeastOne],
  },
] as const satisfies readonly KeyDecl[];

/** The settings each of the two kinds takes, by name (= the fields of OvirtSettings / KubevirtStallSettings). */
export const ORCHESTRATOR_POLICY_SETTING_NAMES = {
  ovirt: ['policy', 'convergenceSchedule', 'autoConvergence', 'migrationCompression', 'migrationMonitorInterval'],
  'kubevirt-stall': [
    // kubevirt's own keys, shared
    'bandwidthPerMigration', 'completionTimeoutPerGiB', 'allowAutoConverge', 'allowPostCopy', 'allowWorkloadDisruption',
    'maxDowntimeMs', 'stallProgressTimeout', 'switchoverTimeout', 'stallMargin', 'ewmaAlpha', 'precopyPossibleFactor', 'patienceWindowDecayFactor', 'searchLocalMinima', 'completionTimeoutFactor',
  ],
} as const;
