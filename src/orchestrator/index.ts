/**
 * The orchestrators by kind (scenario `orchestrator.kind`, issue 19): each one's decisions live in a
 * file of its own, citing its source; this table dispatches to them.
 */
import type { Orchestrator, StartOverrides } from '../precopy/orchestrator-port.ts';
import type { OrchestratorKind, OrchestratorSettings } from '../scenario/orchestrator-settings.ts';
import { createKubevirtOrchestrator, kubevirtStartOverrides } from './kubevirt.ts';
import { createVirshOrchestrator, virshStartOverrides } from './virsh.ts';
import { createNovaOrchestrator, novaStartOverrides } from './nova.ts';
import { createProxmoxOrchestrator, proxmoxStartOverrides } from './proxmox.ts';
import { createOvirtOrchestrator, ovirtStartOverrides } from './ovirt.ts';
import { createKubevirtStallOrchestrator, kubevirtStallStartOverrides } from './kubevirt-stall.ts';

/** One kind's decisions: the orchestrator, what it sets before `migrate`, and the key that lets it ask for post-copy. */
export interface OrchestratorFactory<S extends OrchestratorSettings = OrchestratorSettings> {
  create(settings: S, memoryBytes: number): Orchestrator;
  startOverrides(settings: S, memoryBytes: number): StartOverrides;
  /** the setting that turns post-copy on (named when post-copy cannot run in a mode) */
  readonly postcopyKey: string;
}

type Factories = { [K in Exclude<OrchestratorKind, 'none'>]: OrchestratorFactory<Extract<OrchestratorSettings, { kind: K }>> };

const FACTORIES: Factories = {
  kubevirt: { create: createKubevirtOrchestrator, startOverrides: kubevirtStartOverrides, postcopyKey: 'orchestrator.allowPostCopy' },
  'kubevirt-stall': { create: createKubevirtStallOrchestrator, startOverrides: (s) => kubevirtStallStartOverrides(s), postcopyKey: 'orchestrator.allowPostCopy' },
  nova: { create: createNovaOrchestrator, startOverrides: novaStartOverrides, postcopyKey: 'orchestrator.liveMigrationPermitPostCopy' },
  proxmox: { create: (s) => createProxmoxOrchestrator(s), startOverrides: proxmoxStartOverrides, postcopyKey: 'orchestrator.kind' },
  ovirt: { create: (s) => createOvirtOrchestrator(s), startOverrides: (s) => ovirtStartOverrides(s), postcopyKey: 'orchestrator.policy' },
  virsh: { create: createVirshOrchestrator, startOverrides: virshStartOverrides, postcopyKey: 'orchestrator.timeoutAction' },
};

function factoryOf(settings: OrchestratorSettings): OrchestratorFactory | null {
  return settings.kind === 'none' ? null : (FACTORIES[settings.kind] as OrchestratorFactory);
}

/** The orchestrator of the scenario's `orchestrator` block watching a guest of `memoryBytes`; null for "none". */
export function createOrchestrator(settings: OrchestratorSettings, memoryBytes: number): Orchestrator | null {
  return factoryOf(settings)?.create(settings, memoryBytes) ?? null;
}

/** What the orchestrator sets before `migrate` ({} for "none"). */
export function orchestratorStartOverrides(settings: OrchestratorSettings, memoryBytes: number): StartOverrides {
  return factoryOf(settings)?.startOverrides(settings, memoryBytes) ?? {};
}

/** The setting through which this orchestrator may ask for post-copy, or null when it never will. */
export function orchestratorPostcopyKey(settings: OrchestratorSettings, memoryBytes: number): string | null {
  const f = factoryOf(settings);
  return f && f.startOverrides(settings, memoryBytes).postcopy === true ? f.postcopyKey : null;
}
