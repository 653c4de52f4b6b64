/**
 * The `orchestrator` block's keys (issue 19 item 1): `kind` (default "none"), each system's settings
 * under its own name with the defaults, a setting of another kind refused in one line, and a
 * resolved block that resolves again to itself.
 */
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { resolveScenario, scenarioToJson } from '../src/options.ts';

function refusal(input: unknown): string {
  try {
    resolveScenario(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

const MIB = 2 ** 20;

describe('orchestrator keys', () => {
  it('default to kind "none" with no settings', () => {
    expect(resolveScenario({}).orchestrator).toEqual({ kind: 'none' });
  });

  it("resolve each kind's own settings with the defaults of its source", () => {
    expect(resolveScenario({ orchestrator: { kind: 'kubevirt' } }).orchestrator).toEqual({
      kind: 'kubevirt', bandwidthPerMigration: Infinity, completionTimeoutPerGiB: 150, progressTimeout: 150, allowAutoConverge: false,
      allowPostCopy: false, allowWorkloadDisruption: false, parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2,
    });
    expect(resolveScenario({ orchestrator: { kind: 'nova' } }).orchestrator).toEqual({
      kind: 'nova', liveMigrationDowntime: 500, liveMigrationDowntimeSteps: 10, liveMigrationDowntimeDelay: 75, liveMigrationCompletionTimeout: 800,
      liveMigrationTimeoutAction: 'abort', liveMigrationPermitPostCopy: false, liveMigrationPermitAutoConverge: false,
    });
    expect(resolveScenario({ orchestrator: { kind: 'proxmox' } }).orchestrator).toEqual({ kind: 'proxmox', migrateDowntime: 0.1 });
    expect(resolveScenario({ orchestrator: { kind: 'virsh' } }).orchestrator).toEqual({ kind: 'virsh', timeout: null, timeoutAction: 'suspend' });
  });

  it('allowWorkloadDisruption defaults to allowPostCopy, and can be set apart', () => {
    expect(resolveScenario({ orchestrator: { kind: 'kubevirt', allowPostCopy: true } }).orchestrator).toMatchObject({ allowPostCopy: true, allowWorkloadDisruption: true });
    expect(resolveScenario({ orchestrator: { kind: 'kubevirt', allowPostCopy: true, allowWorkloadDisruption: false } }).orchestrator).toMatchObject({ allowWorkloadDisruption: false });
  });

  it('read KubeVirt bandwidth as a Kubernetes quantity in whole MiB/s, "0Mi" unlimited', () => {
    const bw = (v: unknown): unknown => (resolveScenario({ orchestrator: { kind: 'kubevirt', bandwidthPerMigration: v } }).orchestrator as { bandwidthPerMigration: number }).bandwidthPerMigration;
    expect(bw('64Mi')).toBe(64 * MIB);
    expect(bw('1Gi')).toBe(1024 * MIB);
    expect(bw('100M')).toBe(95 * MIB); // 100,000,000 B/s: 95 whole MiB/s
    expect(bw('0Mi')).toBe(Infinity);
    expect(bw('512Ki')).toBe(Infinity); // under 1 MiB/s: libvirt's 0, no limit
    expect(bw(64 * MIB)).toBe(64 * MIB);
    expect(refusal({ orchestrator: { kind: 'kubevirt', bandwidthPerMigration: '64 MiB/s' } })).toBe(
      'orchestrator.bandwidthPerMigration: expected a Kubernetes quantity of bytes per second like "64Mi" ("0Mi": unlimited), got "64 MiB/s"',
    );
  });

  it.each<[unknown, string]>([
    [{ kind: 'nova', allowPostCopy: true }, 'orchestrator.allowPostCopy: a kubevirt setting, but orchestrator.kind is "nova", got true'],
    [{ allowPostCopy: true }, 'orchestrator.allowPostCopy: a kubevirt setting, but orchestrator.kind is "none", got true'],
    [{ kind: 'kubevirt', timeout: 30 }, 'orchestrator.timeout: a virsh setting, but orchestrator.kind is "kubevirt", got 30'],
    [{ kind: 'virsh', migrateDowntime: 1 }, 'orchestrator.migrateDowntime: a proxmox setting, but orchestrator.kind is "virsh", got 1'],
    [{ kind: 'virsh', timeout: 0 }, 'orchestrator.timeout: expected an integer >= 1, got 0'],
    [{ kind: 'kubevirt', progressTimeout: -1 }, 'orchestrator.progressTimeout: expected an integer >= 0, got -1'],
    [{ kind: 'nova', liveMigrationDowntime: 50 }, 'orchestrator.liveMigrationDowntime: expected an integer >= 100 (ms, as Nova), got 50'],
    [{ kind: 'k8s' }, 'orchestrator.kind: expected one of "none", "kubevirt", "kubevirt-stall", "nova", "proxmox", "ovirt", "virsh", got "k8s"'],
  ])('refuse %j in one line', (orchestrator, message) => {
    expect(refusal({ orchestrator })).toBe(message);
  });

  it('refuse an unknown setting with a suggestion, and a block that is not an object', () => {
    expect(refusal({ orchestrator: { kind: 'virsh', timout: 3 } })).toMatch(/^orchestrator\.timout: unknown key \(did you mean orchestrator\.timeout\?\); known: kind, /);
    expect(refusal({ orchestrator: 'kubevirt' })).toBe('orchestrator: expected an object like { "kind": "kubevirt" }, got "kubevirt"');
  });

  it('write a resolved block back as a scenario that resolves to the same block', () => {
    for (const orchestrator of [{}, { kind: 'kubevirt', bandwidthPerMigration: '64Mi', allowPostCopy: true }, { kind: 'kubevirt' }, { kind: 'virsh', timeout: 5, timeoutAction: 'postcopy' }, { kind: 'nova' }, { kind: 'proxmox', migrateDowntime: 0.5 }]) {
      const s = resolveScenario({ orchestrator });
      expect(resolveScenario(scenarioToJson(s)).orchestrator).toEqual(s.orchestrator);
    }
  });
});
