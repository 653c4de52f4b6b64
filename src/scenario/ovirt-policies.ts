/**
 * ovirt-engine's three named migration policies, as data: the MigrationPolicies config value
 * (oVirt/ovirt-engine packaging/dbscripts, version 4.7) turned into vdsm's convergence schedule the way
 * bll/migration/ConvergenceSchedule.java does it (initialItems → init, convergenceItems → stalling steps
 * with their stallingLimit, lastItems → stalling steps with limit −1), and vdsm's monitor interval.
 * Read by the scenario keys (defaults) and by the decisions (src/orchestrator/ovirt.ts).
 */
import type { OvirtAction, OvirtConvergenceSchedule, OvirtPolicyName } from './orchestrator-settings.ts';

/** lib/vdsm/config.py.in: migration_monitor_interval, seconds. */
export const VDSM_MIGRATION_MONITOR_INTERVAL_S = 10;

const setDowntime = (downtimeMs: number): OvirtAction => ({ action: 'setDowntime', downtimeMs });
const step = (limit: number, action: OvirtAction) => ({ limit, action });
/** The ramp all three policies share (convergenceItems: stallingLimit → setDowntime). */
const RAMP = [step(1, setDowntime(150)), step(2, setDowntime(200)), step(3, setDowntime(300)), step(4, setDowntime(400)), step(6, setDowntime(500))];

/** One named policy of ovirt-engine: its schedule (as ConvergenceSchedule.java builds it) and its flags. */
export interface OvirtPolicy {
  /** the name ovirt-engine shows */
  readonly title: string;
  readonly convergenceSchedule: OvirtConvergenceSchedule;
  readonly autoConvergence: boolean;
  readonly migrationCompression: boolean;
  /** maxMigrations: outgoing migrations at once from one host */
  readonly maxMigrations: number;
}

/** ovirt-engine's MigrationPolicies (4.7): "Minimal downtime", "Suspend workload if needed", "Post-copy migration". */
export const OVIRT_POLICIES: Readonly<Record<Exclude<OvirtPolicyName, 'custom'>, OvirtPolicy>> = {
  'minimal-downtime': {
    title: 'Minimal downtime',
    convergenceSchedule: { init: [setDowntime(100)], stalling: [...RAMP, step(-1, { action: 'abort' })] },
    autoConvergence: true,
    migrationCompression: false,
    maxMigrations: 2,
  },
  'suspend-workload-if-needed': {
    title: 'Suspend workload if needed',
    convergenceSchedule: { init: [setDowntime(100)], stalling: [...RAMP, step(-1, setDowntime(5000)), step(-1, { action: 'abort' })] },
    autoConvergence: true,
    migrationCompression: true,
    maxMigrations: 1,
  },
  'post-copy': {
    title: 'Post-copy migration',
    convergenceSchedule: { init: [setDowntime(100)], stalling: [RAMP[0]!, RAMP[1]!, step(-1, { action: 'postcopy' }), step(-1, { action: 'abort' })] },
    autoConvergence: true,
    migrationCompression: false,
    maxMigrations: 2,
  },
};
