/**
 * KubeVirt's migration monitor (kind "kubevirt"), from pkg/virt-launcher/virtwrap/live-migration-source.go
 * (kubevirt/kubevirt, read at commit 007bfea9): `migrationMonitor.startMonitor` polls libvirt's job
 * stats every `monitorSleepPeriodMS` (400 ms) and hands them to `processInflightMigration`, which
 * (without the alpha MigrationStallDetection gate: that is kind "kubevirt-stall") decides, in this order:
 *
 * 1. progress bookkeeping: when the remaining bytes are below the previous poll's (`progressWatermark`,
 *    which is set to every poll's value), or at the first poll, `lastProgressUpdate` is now;
 * 2. in post-copy: nothing more to do;
 * 3. `shouldAssistMigrationToComplete` (allowWorkloadDisruption and the budget ran out) and not paused:
 *    `MigrateStartPostCopy` when allowPostCopy, else `Suspend` (pause the guest to finish) and double
 *    the budget so the paused migration is not cancelled at once;
 * 4. `!isMigrationProgressing()`: no progress for more than `progressTimeout` s: `AbortJob`
 *    ("Live migration stuck for N seconds");
 * 5. `shouldTriggerTimeout`: more than the budget: `AbortJob` ("not completed after N seconds").
 *
 * The budget (`acceptableCompletionTime`) is completionTimeoutPerGiB × `getVMIMigrationDataSize`, the
 * guest's memory as `resource.Quantity.ScaledValue(resource.Giga)`: whole 10^9 bytes, rounded up (so a
 * 4 GiB guest counts as 5 and gets 750 s with the default 150, not 600). Times are whole seconds, the
 * comparisons strict, as in Go's integer division: `elapsed/time.Second > acceptableCompletionTime`.
 * At the start (generateMigrationFlags, generateMigrationParams): MIGRATE_AUTO_CONVERGE when
 * allowAutoConverge, MIGRATE_POSTCOPY when allowPostCopy, and the bandwidth in whole MiB/s when set.
 * Pure: its state changes only with the views it is shown.
 */
import type { MigrationView, Orchestrator, OrchestratorAction, StartOverrides } from '../precopy/orchestrator-port.ts';
import type { KubevirtSettings } from '../scenario/orchestrator-settings.ts';

/** `monitorSleepPeriodMS`: the monitor's poll interval */
export const KUBEVIRT_POLL_MS = 400;

/** `acceptableCompletionTime`, s: completionTimeoutPerGiB × the guest's memory in whole GB, rounded up (0: no budget). */
export function kubevirtBudgetS(s: Pick<KubevirtSettings, 'completionTimeoutPerGiB'>, memoryBytes: number): number {
  return s.completionTimeoutPerGiB * Math.ceil(memoryBytes / 1e9);
}

/** QEMU capabilities and parameters KubeVirt sets before `migrate`. */
export function kubevirtStartOverrides(s: KubevirtSettings, _memoryBytes: number): StartOverrides {
  return {
    ...(Number.isFinite(s.bandwidthPerMigration) ? { maxBandwidthBytesPerSec: s.bandwidthPerMigration } : {}),
    ...(s.allowAutoConverge ? { autoConverge: true } : {}),
    ...(s.allowPostCopy ? { postcopy: true } : {}),
  };
}

export function createKubevirtOrchestrator(s: KubevirtSettings, memoryBytes: number): Orchestrator {
  let acceptableCompletionS = kubevirtBudgetS(s, memoryBytes);
  let progressWatermark = 0;
  let lastProgressUpdateMs = 0; // startMonitor: lastProgressUpdate = start
  // 'ended': it aborted, and the monitor returned (startMonitor ends on an abort)
  let mode: 'precopy' | 'postcopy' | 'paused' | 'ended' = 'precopy';
  const abort = (reason: string): readonly OrchestratorAction[] => {
    mode = 'ended';
    return [{ kind: 'abort', reason }];
  };
  const shouldTriggerTimeout = (elapsedMs: number): boolean => acceptableCompletionS !== 0 && Math.floor(elapsedMs / 1000) > acceptableCompletionS;
  return {
    kind: 'kubevirt',
    nextPollInMs: () => KUBEVIRT_POLL_MS,
    poll(view: MigrationView): readonly OrchestratorAction[] {
      const now = view.elapsedMs;
      if (progressWatermark === 0 || view.remainingBytes < progressWatermark) lastProgressUpdateMs = now;
      progressWatermark = view.remainingBytes;
      if (mode === 'ended' || mode === 'postcopy' || view.phase === 'postcopy') return [];
      if (s.allowWorkloadDisruption && shouldTriggerTimeout(now) && mode !== 'paused') {
        if (s.allowPostCopy) {
          mode = 'postcopy';
          return [{ kind: 'postcopy', reason: 'completion-timeout' }];
        }
        mode = 'paused';
        acceptableCompletionS *= 2; // "update acceptableCompletionTime to prevent premature migration cancellation"
        return [{ kind: 'pause', reason: 'completion-timeout' }];
      }
      const progressDelayS = Math.floor((now - lastProgressUpdateMs) / 1000);
      if (s.progressTimeout !== 0 && progressDelayS > s.progressTimeout) return abort('progress-timeout');
      if (shouldTriggerTimeout(now)) return abort('completion-timeout');
      return [];
    },
  };
}
