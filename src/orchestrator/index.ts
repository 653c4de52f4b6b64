/**
 * The orchestrators by kind (scenario `orchestrator.kind`, issue 19): each one's decisions live in a
 * file of its own, citing its source; this table dispatches to them. A kind whose decisions are not
 * here yet is refused in one line (E_SCENARIO), never run as "none".
 */
import { MigbenchError } from '../errors.ts';
import type { Orchestrator, StartOverrides } from '../precopy/orchestrator-port.ts';
import type { OrchestratorKind, OrchestratorSettings } from '../scenario/orchestrator-settings.ts';
import { createKubevirtOrchestrator, kubevirtStartOverrides } from './kubevirt.ts';
import { createVirshOrchestrator, virshStartOverrides } from './virsh.ts';

/** One kind's decisions: the orchestrator, what it sets before `migrate`, and the key that lets it ask for post-copy. */
export interface OrchestratorFactory<S extends OrchestratorSettings = OrchestratorSettings> {
  create(settings: S, memoryBytes: number): Orchestrator;
  startOverrides(settings: S, memoryBytes: number): StartOverrides;
  /** the setting that turns post-copy on (named when post-copy cannot run in a mode) */
  readonly postcopyKey: string;
}

type Factories = { [K in Exclude<OrchestratorKind, 'none'>]?: OrchestratorFactory<Extract<OrchestratorSettings, { kind: K }>> };

/** nova, proxmox, ovirt and kubevirt-stall: their decisions arrive in their own files (issue 19, orchpol) and are added here. */
const FACTORIES: Factories = {
  kubevirt: { create: createKubevirtOrchestrator, startOverrides: kubevirtStartOverrides, postcopyKey: 'orchestrator.allowPostCopy' },
  virsh: { create: createVirshOrchestrator, startOverrides: virshStartOverrides, postcopyKey: 'orchestrator.timeoutAction' },
};

function factoryOf(settings: OrchestratorSettings): OrchestratorFactory | null {
  if (settings.kind === 'none') return null;
  const f = FACTORIES[settings.kind] as OrchestratorFactory | undefined;
  if (!f) throw new MigbenchError('E_SCENARIO', orchestratorNotBuilt(settings.kind));
  return f;
}

/** The refusal of a kind whose decisions are not built yet, or null. */
export function orchestratorNotBuiltRefusal(kind: OrchestratorKind): string | null {
  return kind === 'none' || FACTORIES[kind] ? null : orchestratorNotBuilt(kind);
}

const orchestratorNotBuilt = (kind: string): string => `orchestrator.kind: not built yet (its decisions come with issue 19's other part), got "${kind}"`;

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
