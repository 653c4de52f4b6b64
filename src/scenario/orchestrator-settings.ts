/**
 * The `orchestrator` block's resolved settings, one shape per kind (types only). Each kind keeps its
 * own system's setting names, as users know them from its configuration; the unit is in each comment.
 * The decisions are in src/orchestrator/, one file per kind, each citing its source.
 */

export const ORCHESTRATOR_KINDS = ['none', 'kubevirt', 'kubevirt-stall', 'nova', 'proxmox', 'ovirt', 'virsh'] as const;
export type OrchestratorKind = (typeof ORCHESTRATOR_KINDS)[number];

/** KubeVirt's MigrationConfiguration (pkg/virt-launcher/virtwrap/live-migration-source.go, pkg/virt-config). */
export interface KubevirtSettings {
  readonly kind: 'kubevirt';
  /** bytes/s per migration; Infinity for "0Mi" (unlimited) */
  readonly bandwidthPerMigration: number;
  /** s per GiB of guest memory (150): the migration's whole budget is this × the guest's GiB */
  readonly completionTimeoutPerGiB: number;
  /** s (150): abort when the remaining bytes have not fallen below their previous minimum for this long */
  readonly progressTimeout: number;
  readonly allowAutoConverge: boolean;
  readonly allowPostCopy: boolean;
  /** defaults to allowPostCopy: when the budget runs out, pause the guest to finish */
  readonly allowWorkloadDisruption: boolean;
  /** fleets: migrations at once in the cluster (5) and out of one node (2) */
  readonly parallelMigrationsPerCluster: number;
  readonly parallelOutboundMigrationsPerNode: number;
}

/** OpenStack Nova's [libvirt] live_migration_* options (nova/conf/libvirt.py, nova/virt/libvirt/migration.py). */
export interface NovaSettings {
  readonly kind: 'nova';
  /** ms (500): the downtime limit the steps end at */
  readonly liveMigrationDowntime: number;
  /** steps of the downtime ramp (10) */
  readonly liveMigrationDowntimeSteps: number;
  /** s per GiB of guest memory (75; the guest counts as at least 2 GiB): the time between steps */
  readonly liveMigrationDowntimeDelay: number;
  /** s per GiB of guest memory (800; 0 = none): then the timeout action */
  readonly liveMigrationCompletionTimeout: number;
  readonly liveMigrationTimeoutAction: 'abort' | 'force_complete';
  readonly liveMigrationPermitPostCopy: boolean;
  /** used only when post-copy is not permitted, as Nova does */
  readonly liveMigrationPermitAutoConverge: boolean;
}

/** Proxmox VE's migration (PVE/QemuMigrate.pm). */
export interface ProxmoxSettings {
  readonly kind: 'proxmox';
  /** s (0.1): the first downtime limit (migrate_downtime); doubled when the migration stalls, up to 2,000 s */
  readonly migrateDowntime: number;
}

/** virsh migrate --timeout N (--timeout-suspend | --timeout-postcopy) (tools/virsh-domain.c). */
export interface VirshSettings {
  readonly kind: 'virsh';
  /** s after which the timeout action is taken; null: no timeout */
  readonly timeout: number | null;
  /** --timeout-suspend (the default) or --timeout-postcopy */
  readonly timeoutAction: 'suspend' | 'postcopy';
}

/** One action of an oVirt convergence schedule (vdsm/virt/migration.py: setDowntime, postcopy, abort). */
export type OvirtAction =
  /** libvirt virDomainMigrateSetMaxDowntime, ms */
  | { readonly action: 'setDowntime'; readonly downtimeMs: number }
  /** switch to post-copy (vdsm asks for it; when it cannot, the next action comes at a later iteration) */
  | { readonly action: 'postcopy' }
  /** abort the migration (the guest stays on the source) */
  | { readonly action: 'abort' };

/**
 * vdsm's convergenceSchedule as ovirt-engine sends it (ConvergenceSchedule.java): `init` actions at
 * the start, then `stalling` steps taken one per new dirty-sync iteration, in order, each once the
 * iteration count since the monitor first saw the migration exceeds its `limit` (-1: at the next one).
 */
export interface OvirtConvergenceSchedule {
  readonly init: readonly OvirtAction[];
  readonly stalling: readonly { readonly limit: number; readonly action: OvirtAction }[];
}

/** ovirt-engine's named migration policies (MigrationPolicies in packaging/dbscripts), or a schedule of the user's own. */
export const OVIRT_POLICY_NAMES = ['minimal-downtime', 'suspend-workload-if-needed', 'post-copy', 'custom'] as const;
export type OvirtPolicyName = (typeof OVIRT_POLICY_NAMES)[number];

/** oVirt (ovirt-engine's migration policy, carried out by vdsm's migration monitor thread). */
export interface OvirtSettings {
  readonly kind: 'ovirt';
  /** the engine policy the schedule and the flags come from ("custom": convergenceSchedule as given) */
  readonly policy: OvirtPolicyName;
  /** the policy's schedule, or the user's own */
  readonly convergenceSchedule: OvirtConvergenceSchedule;
  /** the policy's autoConvergence unless set (libvirt VIR_MIGRATE_AUTO_CONVERGE) */
  readonly autoConvergence: boolean;
  /** the policy's migrationCompression unless set (libvirt VIR_MIGRATE_COMPRESSED: XBZRLE, QEMU's 64 MiB cache) */
  readonly migrationCompression: boolean;
  /** s (10): vdsm's migration_monitor_interval, how often the monitor thread polls the job */
  readonly migrationMonitorInterval: number;
}

/**
 * KubeVirt's MigrationStallDetection (VEP 248, alpha: feature gate MigrationStallDetection): the
 * stall detector and its switchover rule. The experimental knobs keep the names of
 * MigrationPolicy.spec.experimental.stallDetector; the rest are MigrationConfiguration's.
 */
export interface KubevirtStallSettings {
  readonly kind: 'kubevirt-stall';
  /** bytes/s per migration; Infinity for "0Mi" (unlimited) */
  readonly bandwidthPerMigration: number;
  /** s per GB of guest memory (150): the budget maxCompletionTime is this × the guest's size in 10^9 bytes, rounded up (as KubeVirt counts it) */
  readonly completionTimeoutPerGiB: number;
  readonly allowAutoConverge: boolean;
  readonly allowPostCopy: boolean;
  /** defaults to allowPostCopy */
  readonly allowWorkloadDisruption: boolean;
  /** ms (900): the longest pause acceptable on the pre-copy-only, no-disruption path (QEMU's target starts at min(this, 300)) */
  readonly maxDowntimeMs: number;
  /** s (40): the sliding window of stall detection and the first relaxation patience */
  readonly stallProgressTimeout: number;
  /** s (60): after a triggered switchover, abort if the migration has not switched over by then */
  readonly switchoverTimeout: number;
  /** integer percent (4): the band around the best remaining bytes */
  readonly stallMargin: number;
  /** (0.4): the EWMA weight of each new bandwidth sample */
  readonly ewmaAlpha: number;
  /** (1.5): pre-copy only, no disruption: abort when the implied downtime exceeds maxDowntimeMs × this */
  readonly precopyPossibleFactor: number;
  /** (0.5): the relaxation patience is multiplied by this after each missed window */
  readonly patienceWindowDecayFactor: number;
  /** (true): wait for a local minimum of the remaining bytes before switching over */
  readonly searchLocalMinima: boolean;
  /** (2): the hard budget is maxCompletionTime × this */
  readonly completionTimeoutFactor: number;
}

export type OrchestratorSettings =
  | { readonly kind: 'none' }
  | KubevirtSettings
  | KubevirtStallSettings
  | NovaSettings
  | ProxmoxSettings
  | OvirtSettings
  | VirshSettings;
