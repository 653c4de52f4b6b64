/**
 * The orchestrator port: the layer above the hypervisor (KubeVirt, Nova, Proxmox, oVirt, virsh) as
 * the one loop (loop.ts) sees it. The loop polls it at the interval it asks for, on the loop's clock,
 * shows it what its real system sees (libvirt's job info, QEMU's query-migrate), and applies the actions
 * it returns through the loop's documented controls. The policies themselves live in src/orchestrator/
 * (pure decisions, one file per system, each citing its source).
 */

/** QEMU's largest downtime-limit (migrate-set-parameters refuses more than 2,000 s). */
export const QEMU_MAX_DOWNTIME_MS = 2_000_000;

/** What an orchestrator sees at a poll: what its system reports (libvirt virDomainGetJobInfo / QMP query-migrate). */
export interface MigrationView {
  /** ms since the migration was requested (libvirt timeElapsed) */
  readonly elapsedMs: number;
  /** guest RAM, bytes (libvirt memTotal / QEMU ram.total) */
  readonly memoryBytes: number;
  /** bytes still to send (libvirt dataRemaining / QEMU ram.remaining) */
  readonly remainingBytes: number;
  /** bytes sent so far (libvirt dataProcessed / QEMU ram.transferred) */
  readonly transferredBytes: number;
  /** dirty syncs so far, the one that started dirty logging included (QEMU dirty-sync-count, libvirt memIteration) */
  readonly iterations: number;
  /** QEMU dirty-pages-rate (pages/s, from the last sync) */
  readonly dirtyPagesPerSec: number;
  /** QEMU expected-downtime, ms */
  readonly expectedDowntimeMs: number;
  /** the downtime limit in force, ms (QEMU downtime-limit) */
  readonly downtimeLimitMs: number;
  /** live rounds, or already in post-copy (nothing left for a pre-copy supervisor to do) */
  readonly phase: 'precopy' | 'postcopy';
  /** QEMU's postcopy-ram capability is on (postcopy.enabled, or the orchestrator turned it on at the start) */
  readonly postcopyCapable: boolean;
}

/** What an orchestrator may do to a running migration. */
export type OrchestratorAction =
  /** QEMU migrate-set-parameters downtime-limit (libvirt virDomainMigrateSetMaxDowntime) */
  | { readonly kind: 'set-downtime'; readonly downtimeLimitMs: number }
  /** QEMU migrate-start-postcopy (only when postcopyCapable) */
  | { readonly kind: 'postcopy'; readonly reason: string; readonly detail?: string }
  /** pause the guest so the migration finishes as a stop-and-copy of everything left (libvirt virDomainSuspend) */
  | { readonly kind: 'pause'; readonly reason: string; readonly detail?: string }
  /** QEMU migrate_cancel (libvirt virDomainAbortJob): the guest stays on the source, running */
  | { readonly kind: 'abort'; readonly reason: string; readonly detail?: string };
/*
 * `reason`: a short token a result can be grouped by ("completion-timeout", "progress-timeout",
 * "timeout", "stalled", "switchover-timeout", "convergence-schedule"); `detail`: the orchestrator's own
 * account of it, in words.
 */

/**
 * The settings an orchestrator applies before `migrate` is issued (QEMU capabilities and parameters).
 * A field left out keeps the scenario's value.
 */
export interface StartOverrides {
  readonly downtimeLimitMs?: number;
  /** QEMU max-bandwidth for the live rounds, bytes/s; Infinity = unlimited */
  readonly maxBandwidthBytesPerSec?: number;
  /** turn QEMU's auto-converge capability on */
  readonly autoConverge?: boolean;
  /** turn QEMU's postcopy-ram capability on (the switch itself is an action) */
  readonly postcopy?: boolean;
  /** turn XBZRLE on with this cache, bytes */
  readonly xbzrleCacheBytes?: number;
}

/** One orchestrator watching one migration. It may keep state between polls; given the same views it acts the same. */
export interface Orchestrator {
  /** the scenario's orchestrator.kind */
  readonly kind: string;
  /** ms from this poll to the next (Proxmox polls faster near the end) */
  nextPollInMs(view: MigrationView): number;
  /** one poll: the actions to take now, in order (empty: let it run) */
  poll(view: MigrationView): readonly OrchestratorAction[];
}
