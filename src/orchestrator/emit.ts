/**
 * `tune --emit kubevirt|nova|proxmox FILE`: a resolved scenario's orchestrator settings written in that
 * system's own configuration format (pure writers; the CLI writes the file). Each writer refuses,
 * with one line, a value its system would refuse.
 * - kubevirt: a MigrationPolicy manifest (migrations.kubevirt.io/v1alpha1, staging/src/kubevirt.io/api/
 *   migrations/v1alpha1/types.go) and, as a second YAML document, the KubeVirt CR fields a
 *   MigrationPolicy cannot hold (spec.configuration.migrations: progressTimeout, the parallel caps).
 *   From `kubevirt-stall`: also maxDowntimeMs, spec.experimental.stallDetector and the
 *   MigrationStallDetection feature gate (VEP 248, alpha).
 * - nova: a nova.conf [libvirt] section (nova/conf/libvirt.py option names, IntOpt minimums).
 * - proxmox: a datacenter.cfg fragment (its `migration:` line, and `bwlimit: migration=` when the scenario
 *   limits the rate); migrate_downtime is a per-VM option (qm.conf), not a datacenter.cfg one, so it
 *   is given as the `qm set` command and the qm.conf line, in comments.
 */
import { stringify } from 'yaml';
import { MigbenchError } from '../errors.ts';
import type { KubevirtSettings, KubevirtStallSettings, NovaSettings, OrchestratorSettings, ProxmoxSettings } from '../scenario/orchestrator-settings.ts';

export const EMIT_SYSTEMS = ['kubevirt', 'nova', 'proxmox'] as const;
export type EmitSystem = (typeof EMIT_SYSTEMS)[number];

/** What a writer needs besides the orchestrator settings. */
export interface EmitContext {
  /** the scenario's name (metadata.name is made from it) */
  readonly name: string;
  /** the scenario's precopy.maxBandwidth, bytes/s (Infinity: unlimited) */
  readonly maxBandwidthBytesPerSec: number;
}

const KIB = 1024;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** A Kubernetes object name (RFC 1123 subdomain, ≤ 63 characters here) made from the scenario's name. */
export function kubernetesName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `migbench-${cleaned || 'policy'}`.slice(0, 63).replace(/[^a-z0-9]+$/, '');
}

/** bytes/s as a Kubernetes quantity: "0Mi" for unlimited (KubeVirt's default), else exact Gi, Mi, Ki or bytes. */
export function kubernetesQuantity(bytesPerSec: number): string {
  if (bytesPerSec === Infinity) return '0Mi';
  const n = Math.round(bytesPerSec);
  if (n % GIB === 0) return `${n / GIB}Gi`;
  if (n % MIB === 0) return `${n / MIB}Mi`;
  if (n % KIB === 0) return `${n / KIB}Ki`;
  return String(n);
}

function wholeNumber(system: EmitSystem, key: string, value: number, min: number, why: string): number {
  if (!Number.isInteger(value) || value < min) {
    throw new MigbenchError('E_USAGE', `--emit ${system}: orchestrator.${key} must be a whole number >= ${min} (${why}), got ${value}`);
  }
  return value;
}

/** The KubeVirt manifests: a MigrationPolicy, then the KubeVirt CR fields it cannot hold. */
export function emitKubevirt(s: KubevirtSettings | KubevirtStallSettings, ctx: EmitContext): string {
  const name = kubernetesName(ctx.name);
  const stall = s.kind === 'kubevirt-stall';
  const spec: Record<string, unknown> = {
    selectors: { virtualMachineInstanceSelector: { 'migbench.io/migration-policy': name } },
    allowAutoConverge: s.allowAutoConverge,
    bandwidthPerMigration: kubernetesQuantity(s.bandwidthPerMigration),
    completionTimeoutPerGiB: wholeNumber('kubevirt', 'completionTimeoutPerGiB', s.completionTimeoutPerGiB, 0, 'MigrationPolicy holds an int64'),
    allowPostCopy: s.allowPostCopy,
    allowWorkloadDisruption: s.allowWorkloadDisruption,
  };
  if (stall) {
    spec.maxDowntimeMs = wholeNumber('kubevirt', 'maxDowntimeMs', s.maxDowntimeMs, 1, 'MigrationPolicy: 1 … 2000000');
    spec.experimental = {
      stallDetector: {
        stallProgressTimeout: s.stallProgressTimeout,
        switchoverTimeout: s.switchoverTimeout,
        stallMargin: wholeNumber('kubevirt', 'stallMargin', s.stallMargin, 0, 'an integer percentage'),
        ewmaAlpha: s.ewmaAlpha,
        precopyPossibleFactor: s.precopyPossibleFactor,
        patienceWindowDecayFactor: s.patienceWindowDecayFactor,
        searchLocalMinima: s.searchLocalMinima,
        completionTimeoutFactor: s.completionTimeoutFactor,
      },
    };
  }
  const policy = { apiVersion: 'migrations.kubevirt.io/v1alpha1', kind: 'MigrationPolicy', metadata: { name }, spec };
  const configuration: Record<string, unknown> =
    s.kind === 'kubevirt'
      ? {
          migrations: {
            progressTimeout: wholeNumber('kubevirt', 'progressTimeout', s.progressTimeout, 0, 'an int64 of seconds'),
            parallelMigrationsPerCluster: wholeNumber('kubevirt', 'parallelMigrationsPerCluster', s.parallelMigrationsPerCluster, 1, 'a count'),
            parallelOutboundMigrationsPerNode: wholeNumber('kubevirt', 'parallelOutboundMigrationsPerNode', s.parallelOutboundMigrationsPerNode, 1, 'a count'),
          },
        }
      : { developerConfiguration: { featureGates: ['MigrationStallDetection'] } };
  const cr = { apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration } };
  return [
    '# Written by migbench tune --emit kubevirt: the recommended settings.',
    `# The policy applies to the VMIs labelled migbench.io/migration-policy=${name}; change the selectors to suit.`,
    ...(stall ? ['# MigrationStallDetection is alpha in KubeVirt; spec.experimental is not a stable API.'] : []),
    stringify(policy).trimEnd(),
    '---',
    s.kind === 'kubevirt'
      ? '# Cluster-wide settings a MigrationPolicy cannot hold: merge into your KubeVirt CR (kubectl patch kubevirt kubevirt -n kubevirt --type merge).'
      : '# The feature gate the stall detector needs: add it to the gates your KubeVirt CR already lists.',
    stringify(cr).trimEnd(),
    '',
  ].join('\n');
}

/** nova.conf's [libvirt] section (IntOpt minimums of nova/conf/libvirt.py checked). */
export function emitNovaConf(s: NovaSettings): string {
  const lines = [
    '# Written by migbench tune --emit nova: the recommended live-migration settings for nova.conf.',
    '[libvirt]',
    `live_migration_downtime = ${wholeNumber('nova', 'liveMigrationDowntime', s.liveMigrationDowntime, 100, 'IntOpt min=100')}`,
    `live_migration_downtime_steps = ${wholeNumber('nova', 'liveMigrationDowntimeSteps', s.liveMigrationDowntimeSteps, 3, 'IntOpt min=3')}`,
    `live_migration_downtime_delay = ${wholeNumber('nova', 'liveMigrationDowntimeDelay', s.liveMigrationDowntimeDelay, 3, 'IntOpt min=3')}`,
    `live_migration_completion_timeout = ${wholeNumber('nova', 'liveMigrationCompletionTimeout', s.liveMigrationCompletionTimeout, 0, 'IntOpt min=0')}`,
    `live_migration_timeout_action = ${s.liveMigrationTimeoutAction}`,
    `live_migration_permit_post_copy = ${s.liveMigrationPermitPostCopy}`,
    `live_migration_permit_auto_converge = ${s.liveMigrationPermitAutoConverge}`,
    '',
  ];
  return lines.join('\n');
}

/** A number as Proxmox's config files write it (no exponent). */
function plainNumber(n: number): string {
  const text = String(n);
  if (!/e/i.test(text)) return text;
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** A datacenter.cfg fragment, and the per-VM migrate_downtime in comments. */
export function emitProxmox(s: ProxmoxSettings, ctx: EmitContext): string {
  if (!(s.migrateDowntime >= 0) || !Number.isFinite(s.migrateDowntime)) {
    throw new MigbenchError('E_USAGE', `--emit proxmox: orchestrator.migrateDowntime must be a number of seconds >= 0, got ${s.migrateDowntime}`);
  }
  const downtime = plainNumber(s.migrateDowntime);
  const lines = [
    '# Written by migbench tune --emit proxmox: the recommended migration settings.',
    '# datacenter.cfg (/etc/pve/datacenter.cfg):',
    'migration: type=secure',
  ];
  if (Number.isFinite(ctx.maxBandwidthBytesPerSec)) {
    // datacenter.cfg bwlimit is in KiB/s
    lines.push(`bwlimit: migration=${Math.max(1, Math.floor(ctx.maxBandwidthBytesPerSec / KIB))}`);
  }
  lines.push(
    '# migrate_downtime is a per-VM option (not a datacenter.cfg one): set it on each VM with',
    `#   qm set <vmid> --migrate_downtime ${downtime}`,
    '# or this line in /etc/pve/qemu-server/<vmid>.conf:',
    `#   migrate_downtime: ${downtime}`,
    '',
  );
  return lines.join('\n');
}

/** The resolved scenario's orchestrator settings ({ kind: 'none' } when the scenario has none). */
export function orchestratorSettingsOf(scenario: object): OrchestratorSettings {
  const o = (scenario as { orchestrator?: OrchestratorSettings }).orchestrator;
  return o ?? { kind: 'none' };
}

/** The kinds whose settings each system's writer takes. */
const KINDS_FOR: Record<EmitSystem, readonly string[]> = { kubevirt: ['kubevirt', 'kubevirt-stall'], nova: ['nova'], proxmox: ['proxmox'] };

/** Write `settings` for `system`; a scenario whose orchestrator is of another kind is refused (E_USAGE). */
export function emitFor(system: EmitSystem, settings: OrchestratorSettings, ctx: EmitContext): string {
  if (!KINDS_FOR[system].includes(settings.kind)) {
    throw new MigbenchError(
      'E_USAGE',
      `--emit ${system}: the scenario's orchestrator.kind is ${JSON.stringify(settings.kind)}; ${system} settings come from orchestrator.kind ${KINDS_FOR[system].map((k) => JSON.stringify(k)).join(' or ')} (e.g. --set orchestrator.kind=${system})`,
    );
  }
  switch (settings.kind) {
    case 'kubevirt':
    case 'kubevirt-stall':
      return emitKubevirt(settings, ctx);
    case 'nova':
      return emitNovaConf(settings);
    case 'proxmox':
      return emitProxmox(settings, ctx);
    default:
      throw new Error(`unreachable: ${settings.kind}`);
  }
}
