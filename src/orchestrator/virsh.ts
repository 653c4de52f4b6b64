/**
 * `virsh migrate --timeout N [--timeout-suspend | --timeout-postcopy]` (kind "virsh"), from
 * tools/virsh-domain.c (libvirt/libvirt): `virshWatchJob` polls every 500 ms (`poll(…, 500)`), and once
 * the time since it started is more than the timeout (`> timeout_ms`, ms) it calls the timeout function
 * once and clears the timeout (`timeout_ms = 0`); `virshMigrateTimeout` then suspends the domain
 * (`virDomainSuspend`, the default) or switches to post-copy (`virDomainMigrateStartPostCopy`, with
 * --timeout-postcopy, which needs --postcopy: the postcopy-ram capability is on from the start).
 * Pure: its state changes only with the views it is shown.
 */
import type { MigrationView, Orchestrator, OrchestratorAction, StartOverrides } from '../precopy/orchestrator-port.ts';
import type { VirshSettings } from '../scenario/orchestrator-settings.ts';

/** `virshWatchJob`'s poll timeout, ms */
export const VIRSH_POLL_MS = 500;

/** --timeout-postcopy goes with --postcopy: QEMU's postcopy-ram capability on before `migrate`. */
export function virshStartOverrides(s: VirshSettings, _memoryBytes: number): StartOverrides {
  return s.timeout !== null && s.timeoutAction === 'postcopy' ? { postcopy: true } : {};
}

export function createVirshOrchestrator(s: VirshSettings, _memoryBytes: number): Orchestrator {
  let timeoutMs = s.timeout === null ? 0 : s.timeout * 1000;
  return {
    kind: 'virsh',
    nextPollInMs: () => VIRSH_POLL_MS,
    poll(view: MigrationView): readonly OrchestratorAction[] {
      if (timeoutMs === 0 || view.phase === 'postcopy' || !(view.elapsedMs > timeoutMs)) return [];
      timeoutMs = 0; // the timeout function runs once
      return [s.timeoutAction === 'postcopy' ? { kind: 'postcopy', reason: 'timeout' } : { kind: 'pause', reason: 'timeout' }];
    },
  };
}
