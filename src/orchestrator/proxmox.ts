/**
 * Proxmox VE's online migration, as pure decisions. Source: proxmox/qemu-server PVE/QemuMigrate.pm,
 * `phase2` (the settings it sends before `migrate` and the `query-migrate` loop after it), its helper
 * `round_powerof2`, and PVE/QemuServer.pm `set_migration_caps` (auto-converge and xbzrle on).
 *
 * The rule, read from the loop: each pass sleeps `$usleep` (1 s; 100 ms for good once the remaining
 * bytes are below the average bytes transferred per pass), queries, and, when `ram.transferred` moved
 * since the last pass, counts a rise (`$downtimecounter++`) whenever the remaining bytes are above the
 * previous pass's (or are 0). The counter is never reset by a fall: when it passes 5 (the 6th rise),
 * it is reset and the downtime limit doubles (`migrate-set-parameters downtime-limit`).
 *
 * The loop itself has no ceiling: `$migrate_downtime *= 2` goes on, but QEMU refuses a downtime-limit
 * above 2,000 s (MAX_MIGRATE_DOWNTIME; Proxmox logs the error and carries on), so the limit in force
 * stops at the last doubling at or below 2,000,000 ms (1,638,400 ms from the default 100 ms).
 */
import { QEMU_MAX_DOWNTIME_MS, type MigrationView, type Orchestrator, type OrchestratorAction, type StartOverrides } from '../precopy/orchestrator-port.ts';
import type { ProxmoxSettings } from '../scenario/orchestrator-settings.ts';

/** phase2: `my $usleep = 1000000;` */
export const PROXMOX_POLL_INTERVAL_MS = 1000;
/** phase2: `$usleep = 100_000 if $avglstat && $rem < $avglstat;` */
export const PROXMOX_FAST_POLL_INTERVAL_MS = 100;
/** phase2: `if ($downtimecounter > 5)` */
export const PROXMOX_RISES_BEFORE_DOUBLING = 5;

/** QemuMigrate.pm `round_powerof2`: 1 below 2, else 2 << int(log(x − 1) / log(2)) (the power of two at or above x). */
export function roundPowerOf2(x: number): number {
  if (x < 2) return 1;
  return 2 * 2 ** Math.trunc(Math.log(x - 1) / Math.log(2));
}

/** phase2: the XBZRLE cache is 10 % of the guest's memory (`int($memory * 1048576 / 10)`), rounded up to a power of two. */
export function proxmoxXbzrleCacheBytes(memoryBytes: number): number {
  return roundPowerOf2(Math.trunc(memoryBytes / 10));
}

/**
 * What phase2 sets before `migrate`: capabilities auto-converge and xbzrle (set_migration_caps),
 * downtime-limit = migrate_downtime × 1000 ms, xbzrle-cache-size as above. (max-bandwidth comes from
 * bwlimit / migrate_speed, else 16 GiB/s: the scenario's precopy.maxBandwidth stands for it.)
 */
export function proxmoxStartOverrides(settings: ProxmoxSettings, memoryBytes: number): StartOverrides {
  return {
    downtimeLimitMs: Math.trunc(settings.migrateDowntime * 1000),
    autoConverge: true,
    xbzrleCacheBytes: proxmoxXbzrleCacheBytes(memoryBytes),
  };
}

/** The `query-migrate` loop of phase2 for one migration. */
export function createProxmoxOrchestrator(settings: ProxmoxSettings): Orchestrator {
  // phase2's variables, same names
  let migrateDowntimeMs = settings.migrateDowntime * 1000;
  let usleepMs = PROXMOX_POLL_INTERVAL_MS;
  let i = 0;
  let lastMemTransferred = 0;
  let lastRem: number | undefined;
  let downtimeCounter = 0;
  return {
    kind: 'proxmox',
    nextPollInMs: () => usleepMs,
    poll(view: MigrationView): readonly OrchestratorAction[] {
      // Proxmox does not use post-copy; once the source is past the live rounds there is nothing to set
      if (view.phase === 'postcopy') return [];
      i++;
      // `my $avglstat = $last_mem_transferred ? $last_mem_transferred / $i : 0;` (computed before the sleep)
      const avgLstat = lastMemTransferred ? lastMemTransferred / i : 0;
      const actions: OrchestratorAction[] = [];
      if (view.transferredBytes !== lastMemTransferred) {
        const rem = view.remainingBytes;
        if (avgLstat && rem < avgLstat) usleepMs = PROXMOX_FAST_POLL_INTERVAL_MS;
        if ((lastRem && rem > lastRem) || rem === 0) downtimeCounter++;
        lastRem = rem;
        if (downtimeCounter > PROXMOX_RISES_BEFORE_DOUBLING) {
          downtimeCounter = 0;
          migrateDowntimeMs *= 2;
          const limitMs = Math.trunc(migrateDowntimeMs);
          // QEMU refuses what is above its maximum; the limit in force stays where it was
          if (limitMs <= QEMU_MAX_DOWNTIME_MS) actions.push({ kind: 'set-downtime', downtimeLimitMs: limitMs });
        }
      }
      lastMemTransferred = view.transferredBytes;
      return actions;
    },
  };
}
