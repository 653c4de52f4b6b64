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

/**
 * oVirt's convergence schedules (vdsm) and KubeVirt's stall detector (VEP 248): their shapes are
 * defined with their decisions (issue 19).
 */
export interface OvirtSettings {
  readonly kind: 'ovirt';
}
export interface KubevirtStallSettings {
  readonly kind: 'kubevirt-stall';
}

export type OrchestratorSettings =
  | { readonly kind: 'none' }
  | KubevirtSettings
  | KubevirtStallSettings
  | NovaSettings
  | ProxmoxSettings
  | OvirtSettings
  | VirshSettings;
