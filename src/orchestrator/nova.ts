/**
 * OpenStack Nova's libvirt driver watching a live migration, as pure decisions. Sources (openstack/nova):
 * - nova/virt/libvirt/migration.py: `downtime_steps` (the downtime ramp), `update_downtime` (which step is
 *   in force), `should_trigger_timeout_action` (the completion timeout), `run_tasks` (force-complete:
 *   post-copy when it is enabled, else pause the guest);
 * - nova/virt/libvirt/driver.py: `_live_migration_monitor` (the loop: run the queued tasks, check the
 *   completion timeout, update the downtime, sleep 0.5 s), `_live_migration_data_gb` (the guest's RAM in
 *   GiB, at least 2), `live_migration_force_complete` (queues a 'force-complete' task, run at the next
 *   pass of the loop), `_handle_live_migration_auto_converge` (auto-converge only without post-copy);
 * - nova/conf/libvirt.py: the [libvirt] live_migration_* options and their defaults.
 *
 * Older Nova releases also had `should_abort` / `should_switch_to_postcopy` driven by
 * live_migration_progress_timeout; that option was removed, and the monitor above no longer calls them:
 * the completion timeout and its action are what decide now.
 *
 * migbench migrates memory only, so `data_gb` is the guest's RAM (no block-migrated disks).
 */
import type { MigrationView, Orchestrator, OrchestratorAction, StartOverrides } from '../precopy/orchestrator-port.ts';
import type { NovaSettings } from '../scenario/orchestrator-settings.ts';

const GIB = 2 ** 30;

/** driver.py `_live_migration_monitor`: `time.sleep(0.5)` between passes. */
export const NOVA_POLL_INTERVAL_MS = 500;

/** driver.py `_live_migration_data_gb` without disks: the guest's RAM in GiB, counted as at least 2. */
export function novaDataGiB(memoryBytes: number): number {
  const ramGiB = memoryBytes / GIB;
  return ramGiB < 2 ? 2 : ramGiB;
}

/** One step of the ramp: once more than `afterS` seconds have elapsed, the downtime limit is `downtimeLimitMs`. */
export interface NovaDowntimeStep {
  readonly afterS: number;
  readonly downtimeLimitMs: number;
}

/**
 * migration.py `downtime_steps(data_gb)`, exactly: delay = int(live_migration_downtime_delay × data_gb),
 * base = downtime / steps, offset = (downtime − base) / steps, and steps + 1 pairs
 * (int(delay × i), int(base + offset × i)). With the defaults (500 ms, 10 steps, 75 s) and a 4 GiB guest:
 * every 300 s, 50, 95, 140, … 500 ms.
 */
export function novaDowntimeSteps(settings: NovaSettings, dataGiB: number): NovaDowntimeStep[] {
  const downtime = settings.liveMigrationDowntime;
  const steps = settings.liveMigrationDowntimeSteps;
  const delay = Math.trunc(settings.liveMigrationDowntimeDelay * dataGiB);
  const base = downtime / steps;
  const offset = (downtime - base) / steps;
  const out: NovaDowntimeStep[] = [];
  for (let i = 0; i < steps + 1; i++) out.push({ afterS: Math.trunc(delay * i), downtimeLimitMs: Math.trunc(base + offset * i) });
  return out;
}

/**
 * migration.py `update_downtime`: the last step whose time marker the elapsed time is strictly past, or
 * null when none is (then the limit is left alone).
 */
export function novaStepInForce(steps: readonly NovaDowntimeStep[], elapsedMs: number): NovaDowntimeStep | null {
  let step: NovaDowntimeStep | null = null;
  for (const s of steps) if (elapsedMs / 1000 > s.afterS) step = s;
  return step;
}

/** driver.py: completion_timeout = int(live_migration_completion_timeout × data_gb), seconds; 0 = none. */
export function novaCompletionTimeoutS(settings: NovaSettings, dataGiB: number): number {
  return Math.trunc(settings.liveMigrationCompletionTimeout * dataGiB);
}

/** migration.py `should_trigger_timeout_action` (the caller passes `inPostcopy` for status 'running (post-copy)'). */
export function novaShouldTriggerTimeoutAction(elapsedMs: number, completionTimeoutS: number, inPostcopy: boolean): boolean {
  if (!completionTimeoutS) return false;
  if (inPostcopy) return false;
  return elapsedMs / 1000 > completionTimeoutS;
}

/**
 * What Nova sets before `migrateToURI3`: the VIR_MIGRATE_POSTCOPY flag when post-copy is permitted, and
 * VIR_MIGRATE_AUTO_CONVERGE only when auto-converge is permitted and post-copy is not
 * (driver.py `_handle_live_migration_post_copy`, `_handle_live_migration_auto_converge`). Nova leaves the
 * downtime limit alone until its first pass sets the first step.
 */
export function novaStartOverrides(settings: NovaSettings, _memoryBytes: number): StartOverrides {
  return {
    postcopy: settings.liveMigrationPermitPostCopy,
    autoConverge: settings.liveMigrationPermitAutoConverge && !settings.liveMigrationPermitPostCopy,
  };
}

/**
 * Nova's monitor for one migration. Each poll is one pass of `_live_migration_monitor`'s loop, in its
 * order: the queued force-complete task (post-copy if enabled, else pause), the completion timeout
 * (abort at once, or queue force-complete for the next pass), then the downtime step in force.
 */
export function createNovaOrchestrator(settings: NovaSettings, memoryBytes: number): Orchestrator {
  const dataGiB = novaDataGiB(memoryBytes);
  const steps = novaDowntimeSteps(settings, dataGiB);
  const completionTimeoutS = novaCompletionTimeoutS(settings, dataGiB);
  let curDowntimeMs: number | null = null;
  let forceCompleteQueued = false;
  let paused = false;
  let done = false;
  return {
    kind: 'nova',
    nextPollInMs: () => NOVA_POLL_INTERVAL_MS,
    poll(view: MigrationView): readonly OrchestratorAction[] {
      // post-copy running: nothing is left for Nova to decide (should_trigger_timeout_action skips it,
      // and a downtime limit means nothing there); after an abort the job is over
      if (done || view.phase === 'postcopy') return [];
      const actions: OrchestratorAction[] = [];
      // run_tasks: the force-complete queued by the previous pass
      if (forceCompleteQueued) {
        forceCompleteQueued = false;
        if (settings.liveMigrationPermitPostCopy && view.postcopyCapable) {
          done = true;
          return [{ kind: 'postcopy', reason: `nova: live_migration_completion_timeout (${completionTimeoutS} s) passed; live_migration_timeout_action force_complete with post-copy permitted` }];
        }
        if (!paused) {
          paused = true;
          actions.push({ kind: 'pause', reason: `nova: live_migration_completion_timeout (${completionTimeoutS} s) passed; live_migration_timeout_action force_complete without post-copy pauses the guest` });
        }
      }
      if (novaShouldTriggerTimeoutAction(view.elapsedMs, completionTimeoutS, false)) {
        if (settings.liveMigrationTimeoutAction === 'abort') {
          done = true;
          actions.push({ kind: 'abort', reason: `nova: not completed after live_migration_completion_timeout ${completionTimeoutS} s (${settings.liveMigrationCompletionTimeout} s/GiB × ${dataGiB} GiB); live_migration_timeout_action abort` });
          return actions;
        }
        if (!paused) forceCompleteQueued = true;
      }
      // update_downtime
      const step = novaStepInForce(steps, view.elapsedMs);
      if (step !== null && step.downtimeLimitMs !== curDowntimeMs) {
        curDowntimeMs = step.downtimeLimitMs;
        actions.push({ kind: 'set-downtime', downtimeLimitMs: step.downtimeLimitMs });
      }
      return actions;
    },
  };
}
