/**
 * The `orchestrator` block's keys (issue 19): `kind`, and each system's settings under its own name and
 * in its own units (KubeVirt: Kubernetes quantities and seconds; Nova: ms and seconds per GiB; Proxmox
 * and virsh: seconds). Declared like every other key (keys.ts spreads them into the table), and read by
 * `resolveOrchestrator`: only the chosen kind's settings end up in the resolved scenario, and a setting
 * of another kind is refused in one line ("orchestrator.allowPostCopy: a kubevirt setting, but
 * orchestrator.kind is "nova""). The kinds' shapes: orchestrator-settings.ts.
 */
import { between, integerAtLeast, integerFrom, type KeyContext, type KeyDecl } from './kinds.ts';
import { ORCHESTRATOR_KINDS, type OrchestratorKind, type OrchestratorSettings } from './orchestrator-settings.ts';
import { fail, isPlainObject } from './refuse.ts';
import { ORCHESTRATOR_POLICY_SETTING_NAMES } from './orchestrator-policy-keys.ts';

const MIB = 2 ** 20;

/** Kubernetes quantity suffixes (k8s.io/apimachinery resource.Quantity): binary and decimal. */
const QUANTITY_SUFFIX: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
const QUANTITY = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?\s*$/;
export const QUANTITY_PATTERN = String.raw`^\s*(\d+(\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?\s*$|^\s*unlimited\s*$`;

/**
 * KubeVirt `bandwidthPerMigration`, bytes/s: a Kubernetes quantity ("64Mi") or a number of bytes/s;
 * libvirt takes whole MiB/s and 0 means no limit (live-migration-source.go `generateMigrationParams`:
 * `Bandwidth` in MiB/s, `BandwidthSet: bandwidth > 0`), so "0Mi" (the default) and anything under
 * 1 MiB/s is Infinity (unlimited; written back as "unlimited").
 */
export function resolveQuantityRate(v: unknown): number {
  const key = 'orchestrator.bandwidthPerMigration';
  let bytes: number | null = null;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) bytes = v;
  else if (typeof v === 'string' && v.trim() === 'unlimited') return Infinity;
  else if (typeof v === 'string') {
    const m = QUANTITY.exec(v);
    if (m) bytes = Number(m[1]) * QUANTITY_SUFFIX[m[2] ?? ''];
  }
  if (bytes === null || !Number.isFinite(bytes)) fail(key, 'expected a Kubernetes quantity of bytes per second like "64Mi" ("0Mi": unlimited)', v);
  const mib = Math.floor(bytes / MIB);
  return mib > 0 ? mib * MIB : Infinity;
}

/** Every setting of every kind, as the table declares them (keys.ts spreads this list after `orchestrator`). */
export const ORCHESTRATOR_KEY_DECLS = [
  {
    key: 'orchestrator', kind: 'special', default: {}, defaultDoc: '{ "kind": "none" }', row: false, unit: 'object',
    meaning: 'the layer above the hypervisor that watches the migration and acts on it (KubeVirt, Nova, Proxmox, virsh): `kind` and that system\'s own settings, under their own names',
    resolve: (v: unknown, ctx: KeyContext) => resolveOrchestrator(v, ctx),
    // an object, as every block (null is refused: resolveOrchestrator)
    schema: ({ children }: { children: Record<string, unknown> }) => children,
  },
  {
    key: 'orchestrator.kind', kind: 'enum', values: ORCHESTRATOR_KINDS, default: 'none', unit: ORCHESTRATOR_KINDS.map((k) => `"${k}"`).join(' | '),
    meaning: 'which orchestrator watches the pre-copy migration: it polls at its own interval, sees what its system sees (remaining bytes, iterations, elapsed time) and sets the downtime limit, switches to post-copy, pauses the guest or aborts, as its source does; "none": QEMU alone',
  },
  // --- kubevirt (pkg/virt-launcher/virtwrap/live-migration-source.go, pkg/virt-config) ---
  {
    key: 'orchestrator.bandwidthPerMigration', kind: 'special', default: '0Mi', unit: 'Kubernetes quantity per second ("64Mi"; "0Mi" = unlimited)',
    meaning: 'kubevirt: the migration\'s bandwidth limit (libvirt whole MiB/s; QEMU max-bandwidth of the live rounds)',
    resolve: (v: unknown) => resolveQuantityRate(v),
    schema: () => ({ anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: QUANTITY_PATTERN }] }),
  },
  {
    key: 'orchestrator.completionTimeoutPerGiB', kind: 'number', default: 150, unit: 's per GB of guest memory (rounded up), integer >= 0',
    meaning: 'kubevirt: the whole migration\'s budget is this × the guest\'s memory in GB (Kubernetes rounds up to whole 10^9 bytes); then post-copy if allowed, else a pause if disruption is allowed, else abort; 0 = none',
    rules: [integerAtLeast(0)],
  },
  {
    key: 'orchestrator.progressTimeout', kind: 'number', default: 150, unit: 's, integer >= 0',
    meaning: 'kubevirt: abort when the remaining bytes have not fallen between two polls for this long; 0 = never', rules: [integerAtLeast(0)],
  },
  { key: 'orchestrator.allowAutoConverge', kind: 'boolean', default: false, unit: 'true | false', meaning: 'kubevirt: turn on QEMU auto-converge' },
  { key: 'orchestrator.allowPostCopy', kind: 'boolean', default: false, unit: 'true | false', meaning: 'kubevirt: turn on QEMU postcopy-ram, and switch to post-copy when the budget runs out' },
  {
    key: 'orchestrator.allowWorkloadDisruption', kind: 'boolean', defaultDoc: 'orchestrator.allowPostCopy', unit: 'true | false',
    meaning: 'kubevirt: when the budget runs out, switch to post-copy (if allowed) or pause the guest to finish, instead of aborting',
    derivedDefault: (ctx: KeyContext) => ctx.get('orchestrator.allowPostCopy'),
  },
  {
    key: 'orchestrator.parallelMigrationsPerCluster', kind: 'number', default: 5, unit: 'count, 1 … 10000',
    meaning: 'kubevirt: migrations at once in the cluster; a fleet (one node evacuated) runs at most the lowest of this, parallelOutboundMigrationsPerNode and fleet.concurrency at once', rules: [integerFrom(1, 10_000)],
  },
  {
    key: 'orchestrator.parallelOutboundMigrationsPerNode', kind: 'number', default: 2, unit: 'count, 1 … 10000',
    meaning: 'kubevirt: migrations at once out of one node; a fleet (one node evacuated) runs at most the lowest of this, parallelMigrationsPerCluster and fleet.concurrency at once', rules: [integerFrom(1, 10_000)],
  },
  // --- nova (nova/conf/libvirt.py; decisions in nova/virt/libvirt/migration.py) ---
  {
    key: 'orchestrator.liveMigrationDowntime', kind: 'number', default: 500, unit: 'ms, integer >= 100',
    meaning: 'nova: live_migration_downtime, the downtime limit the steps end at', rules: [integerAtLeast(100, 'expected an integer >= 100 (ms, as Nova)')],
  },
  {
    key: 'orchestrator.liveMigrationDowntimeSteps', kind: 'number', default: 10, unit: 'count, integer >= 3',
    meaning: 'nova: live_migration_downtime_steps, steps of the downtime ramp', rules: [integerAtLeast(3)],
  },
  {
    key: 'orchestrator.liveMigrationDowntimeDelay', kind: 'number', default: 75, unit: 's per GiB of guest memory (at least 2 GiB counted), integer >= 3',
    meaning: 'nova: live_migration_downtime_delay, the wait between steps', rules: [integerAtLeast(3)],
  },
  {
    key: 'orchestrator.liveMigrationCompletionTimeout', kind: 'number', default: 800, unit: 's per GiB of guest memory, integer >= 0',
    meaning: 'nova: live_migration_completion_timeout, then liveMigrationTimeoutAction; 0 = none', rules: [integerAtLeast(0)],
  },
  {
    key: 'orchestrator.liveMigrationTimeoutAction', kind: 'enum', values: ['abort', 'force_complete'], default: 'abort', unit: '"abort" | "force_complete"',
    meaning: 'nova: live_migration_timeout_action; force_complete switches to post-copy if permitted, else pauses the guest',
  },
  { key: 'orchestrator.liveMigrationPermitPostCopy', kind: 'boolean', default: false, unit: 'true | false', meaning: 'nova: live_migration_permit_post_copy' },
  {
    key: 'orchestrator.liveMigrationPermitAutoConverge', kind: 'boolean', default: false, unit: 'true | false',
    meaning: 'nova: live_migration_permit_auto_converge (used only when post-copy is not permitted, as Nova does)',
  },
  // --- proxmox (PVE/QemuMigrate.pm) ---
  {
    key: 'orchestrator.migrateDowntime', kind: 'number', default: 0.1, unit: 's, 0.001 … 2000',
    meaning: 'proxmox: migrate_downtime, the first downtime limit; doubled while the migration stalls, up to 2,000 s', rules: [between(0.001, 2000, 'must be from 0.001 to 2000 (s)')],
  },
  // --- virsh (tools/virsh-domain.c) ---
  {
    key: 'orchestrator.timeout', kind: 'number', nullable: true, defaultDoc: 'null (no timeout)', unit: 's, integer >= 1, or null',
    meaning: 'virsh: migrate --timeout N, after which timeoutAction is taken once', rules: [integerAtLeast(1)],
  },
  {
    key: 'orchestrator.timeoutAction', kind: 'enum', values: ['suspend', 'postcopy'], default: 'suspend', unit: '"suspend" | "postcopy"',
    meaning: 'virsh: --timeout-suspend (pause the guest to finish) or --timeout-postcopy (switch to post-copy; turns on postcopy-ram as --postcopy does)',
  },
] as const satisfies readonly KeyDecl[];

/** The settings each kind takes, by name (the rest are another kind's); ovirt's and kubevirt-stall's in orchestrator-policy-keys.ts. */
export const ORCHESTRATOR_SETTING_NAMES: Record<OrchestratorKind, readonly string[]> = {
  none: [],
  kubevirt: ['bandwidthPerMigration', 'completionTimeoutPerGiB', 'progressTimeout', 'allowAutoConverge', 'allowPostCopy', 'allowWorkloadDisruption', 'parallelMigrationsPerCluster', 'parallelOutboundMigrationsPerNode'],
  // kubevirt-stall takes five of kubevirt's settings besides its own (orchestrator-policy-keys.ts)
  'kubevirt-stall': ORCHESTRATOR_POLICY_SETTING_NAMES['kubevirt-stall'],
  nova: ['liveMigrationDowntime', 'liveMigrationDowntimeSteps', 'liveMigrationDowntimeDelay', 'liveMigrationCompletionTimeout', 'liveMigrationTimeoutAction', 'liveMigrationPermitPostCopy', 'liveMigrationPermitAutoConverge'],
  proxmox: ['migrateDowntime'],
  ovirt: ORCHESTRATOR_POLICY_SETTING_NAMES.ovirt,
  virsh: ['timeout', 'timeoutAction'],
};

/** The first kind a setting belongs to (a setting may belong to more than one), or null when no kind has it. */
function ownerOf(name: string): OrchestratorKind | null {
  return ORCHESTRATOR_KINDS.find((k) => ORCHESTRATOR_SETTING_NAMES[k].includes(name)) ?? null;
}

/**
 * `orchestrator`: the chosen kind and its own settings only (each resolved, defaults filled in). A
 * setting of another kind is refused, naming its kind; an unknown key as elsewhere.
 */
export function resolveOrchestrator(v: unknown, ctx: KeyContext): OrchestratorSettings {
  if (v === undefined) v = {};
  if (!isPlainObject(v)) fail('orchestrator', 'expected an object like { "kind": "kubevirt" }', v);
  const kind = ctx.get('orchestrator.kind') as OrchestratorKind;
  for (const name of Object.keys(v)) {
    const owner = ownerOf(name);
    if (owner !== null && !ORCHESTRATOR_SETTING_NAMES[kind].includes(name)) fail(`orchestrator.${name}`, `a ${owner} setting, but orchestrator.kind is "${kind}"`, v[name]);
  }
  const all = ctx.block('orchestrator', v);
  const out: Record<string, unknown> = { kind };
  for (const name of ORCHESTRATOR_SETTING_NAMES[kind]) out[name] = all[name];
  return out as unknown as OrchestratorSettings;
}
