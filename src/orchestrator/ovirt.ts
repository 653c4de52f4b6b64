/**
 * oVirt's migration policies, as pure decisions. Sources:
 * - oVirt/vdsm lib/vdsm/virt/migration.py: `MonitorThread.monitor_migration` (the init actions at the
 *   start, then a poll every migration_monitor_interval seconds; a new dirty-sync iteration,
 *   libvirt memIteration, counted from the first one the monitor saw, calls `_next_action`),
 *   `_next_action` (the head stalling step runs, and is dropped, when its limit is below that count: one
 *   step per new iteration), `_execute_action_with_params` (setDowntime, postcopy, abort),
 *   `SourceThread._calculate_migration_flags` (VIR_MIGRATE_POSTCOPY when a stalling step is post-copy;
 *   auto-converge and compression from the engine); lib/vdsm/config.py.in: migration_monitor_interval 10.
 * - oVirt/ovirt-engine: the MigrationPolicies config value (packaging/dbscripts, version 4.7) holds the
 *   three named policies; bll/migration/ConvergenceSchedule.java turns a policy into vdsm's schedule:
 *   initialItems → init, convergenceItems → stalling steps with their stallingLimit, lastItems →
 *   stalling steps with limit −1.
 *
 * Despite vdsm's word "stalling", the count a limit is compared with is the number of iterations since
 * the monitor's first look, whether or not the remaining bytes fell (vdsm only logs the low mark).
 * Once post-copy has been requested no further step runs (vdsm: "post-copy mode is a final state").
 */
import type { MigrationView, Orchestrator, OrchestratorAction, StartOverrides } from '../precopy/orchestrator-port.ts';
import type { OvirtAction, OvirtPolicyName, OvirtSettings } from '../scenario/orchestrator-settings.ts';
import { OVIRT_POLICIES, VDSM_MIGRATION_MONITOR_INTERVAL_S } from '../scenario/ovirt-policies.ts';

export { OVIRT_POLICIES, VDSM_MIGRATION_MONITOR_INTERVAL_S, type OvirtPolicy } from '../scenario/ovirt-policies.ts';

/** QEMU's default xbzrle-cache-size, which VIR_MIGRATE_COMPRESSED uses when no cache size is given. */
export const QEMU_DEFAULT_XBZRLE_CACHE_BYTES = 64 * 2 ** 20;

/** The settings of a named policy (vdsm's monitor interval at its default). */
export function ovirtPolicySettings(policy: Exclude<OvirtPolicyName, 'custom'>): OvirtSettings {
  const p = OVIRT_POLICIES[policy];
  return { kind: 'ovirt', policy, convergenceSchedule: p.convergenceSchedule, autoConvergence: p.autoConvergence, migrationCompression: p.migrationCompression, migrationMonitorInterval: VDSM_MIGRATION_MONITOR_INTERVAL_S };
}

/**
 * What vdsm sets up before the migration: the init setDowntime actions (run by the monitor as the
 * migration starts; the last one is the limit in force), VIR_MIGRATE_POSTCOPY when a stalling step is
 * post-copy, auto-converge, and XBZRLE with QEMU's default cache when compression is on.
 */
export function ovirtStartOverrides(settings: OvirtSettings): StartOverrides {
  let downtimeLimitMs: number | undefined;
  for (const a of settings.convergenceSchedule.init) if (a.action === 'setDowntime') downtimeLimitMs = a.downtimeMs;
  return {
    ...(downtimeLimitMs === undefined ? {} : { downtimeLimitMs }),
    postcopy: settings.convergenceSchedule.stalling.some((s) => s.action.action === 'postcopy'),
    autoConverge: settings.autoConvergence,
    ...(settings.migrationCompression ? { xbzrleCacheBytes: QEMU_DEFAULT_XBZRLE_CACHE_BYTES } : {}),
  };
}

/** vdsm's MonitorThread for one migration. */
export function createOvirtOrchestrator(settings: OvirtSettings): Orchestrator {
  const stalling = [...settings.convergenceSchedule.stalling];
  // init actions other than setDowntime (which ovirtStartOverrides applies) run at the first poll
  let initPending = settings.convergenceSchedule.init.filter((a) => a.action !== 'setDowntime');
  let initialIteration: number | null = null;
  let lastIteration = 0;
  let postcopyRequested = false;
  let aborted = false;

  const execute = (a: OvirtAction, view: MigrationView, why: string): OrchestratorAction[] => {
    switch (a.action) {
      case 'setDowntime':
        return [{ kind: 'set-downtime', downtimeLimitMs: a.downtimeMs }];
      case 'postcopy':
        // vdsm: "Failed to switch to post-copy migration": nothing now, the next step comes at a later iteration
        if (!view.postcopyCapable) return [];
        postcopyRequested = true;
        return [{ kind: 'postcopy', reason: `ovirt: ${why}` }];
      case 'abort':
        aborted = true;
        return [{ kind: 'abort', reason: `ovirt: ${why}` }];
    }
  };

  return {
    kind: 'ovirt',
    nextPollInMs: () => settings.migrationMonitorInterval * 1000,
    poll(view: MigrationView): readonly OrchestratorAction[] {
      if (aborted || postcopyRequested || view.phase === 'postcopy') return [];
      const actions: OrchestratorAction[] = [];
      for (const a of initPending) actions.push(...execute(a, view, 'init action of the convergence schedule'));
      initPending = [];
      if (aborted || postcopyRequested) return actions;
      if (initialIteration === null) initialIteration = lastIteration = view.iterations;
      if (view.iterations > lastIteration) {
        lastIteration = view.iterations;
        const current = lastIteration - initialIteration;
        // _next_action: an empty schedule makes vdsm's monitor fail on stalling[0]; no action follows
        const head = stalling[0];
        if (head !== undefined && head.limit < current) {
          stalling.shift();
          actions.push(...execute(head.action, view, `iteration ${current} since the monitor's first look is past the step's limit ${head.limit}`));
        }
      }
      return actions;
    },
  };
}
