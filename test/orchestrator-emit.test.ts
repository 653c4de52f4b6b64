/**
 * The `tune --emit` writers round-trip: what they write is parsed back (yaml for the KubeVirt manifests,
 * an INI reader for nova.conf, Proxmox's `key: value` lines for datacenter.cfg) and holds the settings;
 * values the target system would refuse are refused with one line.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MigbenchError } from '../src/errors.ts';
import type { KubevirtSettings, NovaSettings } from '../src/scenario/orchestrator-settings.ts';
import { emitFor, emitKubevirt, emitNovaConf, emitProxmox, kubernetesName, kubernetesQuantity, orchestratorSettingsOf } from '../src/orchestrator/emit.ts';
import { KUBEVIRT_STALL_DEFAULTS } from '../src/orchestrator/kubevirt-stall.ts';

const MIB = 2 ** 20;
const CTX = { name: 'Hot set 4G', maxBandwidthBytesPerSec: Infinity };
const KUBEVIRT: KubevirtSettings = {
  kind: 'kubevirt', bandwidthPerMigration: 64 * MIB, completionTimeoutPerGiB: 50, progressTimeout: 150, allowAutoConverge: true,
  allowPostCopy: true, allowWorkloadDisruption: true, parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2,
};
const NOVA: NovaSettings = {
  kind: 'nova', liveMigrationDowntime: 800, liveMigrationDowntimeSteps: 12, liveMigrationDowntimeDelay: 30, liveMigrationCompletionTimeout: 400,
  liveMigrationTimeoutAction: 'force_complete', liveMigrationPermitPostCopy: true, liveMigrationPermitAutoConverge: false,
};

/** A plain INI reader (sections, `key = value`, `#`/`;` comments), as oslo.config reads nova.conf. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = out[header[1]!] ??= {};
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv || section === null) throw new Error(`not INI: ${JSON.stringify(raw)}`);
    section[kv[1]!] = kv[2]!;
  }
  return out;
}

/** Proxmox's config files: `key: value` lines, `#` comments; a property string `a=b,c=d`. */
function parsePveConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const m = /^([a-z_]+):\s+(\S+)$/.exec(raw);
    if (!m) throw new Error(`not a PVE config line: ${JSON.stringify(raw)}`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function propertyString(value: string): Record<string, string> {
  return Object.fromEntries(value.split(',').map((kv) => {
    const [k, v] = kv.split('=');
    if (k === undefined || v === undefined) throw new Error(`not a property string: ${JSON.stringify(value)}`);
    return [k, v];
  }));
}

describe('emit: KubeVirt', () => {
  it('writes a MigrationPolicy with the settings and the KubeVirt CR fields a policy cannot hold', () => {
    const docs = parseAllDocuments(emitKubevirt(KUBEVIRT, CTX));
    expect(docs.map((d) => d.errors)).toEqual([[], []]);
    const [policy, cr] = docs.map((d) => d.toJS());
    expect(policy).toEqual({
      apiVersion: 'migrations.kubevirt.io/v1alpha1',
      kind: 'MigrationPolicy',
      metadata: { name: 'migbench-hot-set-4g' },
      spec: {
        selectors: { virtualMachineInstanceSelector: { 'migbench.io/migration-policy': 'migbench-hot-set-4g' } },
        allowAutoConverge: true,
        bandwidthPerMigration: '64Mi',
        completionTimeoutPerGiB: 50,
        allowPostCopy: true,
        allowWorkloadDisruption: true,
      },
    });
    expect(cr.kind).toBe('KubeVirt');
    expect(cr.spec.configuration.migrations).toEqual({ progressTimeout: 150, parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2 });
  });

  it('writes unlimited bandwidth as "0Mi" and other rates as exact quantities', () => {
    expect(kubernetesQuantity(Infinity)).toBe('0Mi');
    expect(kubernetesQuantity(2 * 2 ** 30)).toBe('2Gi');
    expect(kubernetesQuantity(1536 * 1024)).toBe('1536Ki');
    expect(kubernetesQuantity(125_000_000)).toBe('125000000');
  });

  it('makes a valid object name from any scenario name (the name is never written raw)', () => {
    expect(kubernetesName('Hot set 4G')).toBe('migbench-hot-set-4g');
    expect(kubernetesName('a\nkind: Secret')).toBe('migbench-a-kind-secret');
    expect(kubernetesName('---')).toBe('migbench-policy');
    expect(kubernetesName('x'.repeat(200))).toHaveLength(63);
    const text = emitKubevirt(KUBEVIRT, { ...CTX, name: 'evil\n---\nkind: Secret' });
    expect(parseAllDocuments(text)).toHaveLength(2);
  });

  it('from kubevirt-stall: maxDowntimeMs, spec.experimental.stallDetector and the feature gate', () => {
    const [policy, cr] = parseAllDocuments(emitKubevirt({ ...KUBEVIRT_STALL_DEFAULTS, stallMargin: 7 }, CTX)).map((d) => d.toJS());
    expect(policy.spec.maxDowntimeMs).toBe(900);
    expect(policy.spec.bandwidthPerMigration).toBe('0Mi');
    expect(policy.spec.experimental.stallDetector).toEqual({
      stallProgressTimeout: 40, switchoverTimeout: 60, stallMargin: 7, ewmaAlpha: 0.4, precopyPossibleFactor: 1.5,
      patienceWindowDecayFactor: 0.5, searchLocalMinima: true, completionTimeoutFactor: 2,
    });
    expect(cr.spec.configuration.developerConfiguration.featureGates).toEqual(['MigrationStallDetection']);
  });

  it('refuses what the CRD would refuse', () => {
    expect(() => emitKubevirt({ ...KUBEVIRT, completionTimeoutPerGiB: 12.5 }, CTX)).toThrow(/--emit kubevirt: orchestrator\.completionTimeoutPerGiB must be a whole number >= 0 .*got 12\.5/);
    expect(() => emitKubevirt({ ...KUBEVIRT_STALL_DEFAULTS, maxDowntimeMs: 0 }, CTX)).toThrow(/maxDowntimeMs/);
  });
});

describe('emit: nova.conf', () => {
  it('writes a [libvirt] section an INI reader gives back', () => {
    expect(parseIni(emitNovaConf(NOVA))).toEqual({
      libvirt: {
        live_migration_downtime: '800',
        live_migration_downtime_steps: '12',
        live_migration_downtime_delay: '30',
        live_migration_completion_timeout: '400',
        live_migration_timeout_action: 'force_complete',
        live_migration_permit_post_copy: 'true',
        live_migration_permit_auto_converge: 'false',
      },
    });
  });

  it.each([
    ['liveMigrationDowntime', 50, />= 100 \(IntOpt min=100\), got 50/],
    ['liveMigrationDowntimeSteps', 2, />= 3/],
    ['liveMigrationDowntimeDelay', 2.5, /got 2\.5/],
  ] as const)('refuses %s = %s, below what nova.conf accepts', (key, value, message) => {
    expect(() => emitNovaConf({ ...NOVA, [key]: value })).toThrow(message);
  });
});

describe('emit: Proxmox', () => {
  it('writes a datacenter.cfg migration line, and migrate_downtime for the VM config in comments', () => {
    const text = emitProxmox({ kind: 'proxmox', migrateDowntime: 0.4 }, CTX);
    const cfg = parsePveConfig(text);
    expect(Object.keys(cfg)).toEqual(['migration']);
    expect(propertyString(cfg.migration!)).toEqual({ type: 'secure' });
    expect(text).toContain('qm set <vmid> --migrate_downtime 0.4');
    // the qm.conf line, uncommented, is a valid PVE config line
    const vmLine = /^#\s+(migrate_downtime: .*)$/m.exec(text)![1]!;
    expect(parsePveConfig(vmLine)).toEqual({ migrate_downtime: '0.4' });
  });

  it('adds bwlimit: migration= in KiB/s when the scenario limits the rate', () => {
    const text = emitProxmox({ kind: 'proxmox', migrateDowntime: 0.1 }, { ...CTX, maxBandwidthBytesPerSec: 128 * MIB });
    expect(propertyString(parsePveConfig(text).bwlimit!)).toEqual({ migration: '131072' });
  });

  it('writes small and large downtimes without an exponent', () => {
    expect(emitProxmox({ kind: 'proxmox', migrateDowntime: 1e-7 }, CTX)).toContain('--migrate_downtime 0.0000001');
  });
});

describe('emit: choosing the writer', () => {
  it('refuses a scenario whose orchestrator is of another kind, naming both', () => {
    let error: unknown;
    try {
      emitFor('nova', { kind: 'none' }, CTX);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_USAGE');
    expect((error as MigbenchError).message).toBe('--emit nova: the scenario\'s orchestrator.kind is "none"; nova settings come from orchestrator.kind "nova" (e.g. --set orchestrator.kind=nova)');
    expect(() => emitFor('kubevirt', NOVA, CTX)).toThrow(/"kubevirt" or "kubevirt-stall"/);
  });

  it('takes each system its kinds', () => {
    expect(emitFor('nova', NOVA, CTX)).toContain('[libvirt]');
    expect(emitFor('kubevirt', KUBEVIRT_STALL_DEFAULTS, CTX)).toContain('MigrationPolicy');
    expect(emitFor('proxmox', { kind: 'proxmox', migrateDowntime: 0.1 }, CTX)).toContain('migration: type=secure');
  });

  it("reads a resolved scenario's orchestrator block, none when it has none", () => {
    expect(orchestratorSettingsOf({})).toEqual({ kind: 'none' });
    expect(orchestratorSettingsOf({ orchestrator: NOVA })).toBe(NOVA);
  });
});
