/**
 * `tune --emit kubevirt|nova|proxmox FILE`: reading the flag, and the text written for a resolved
 * scenario (the writers themselves are pure, in orchestrator/emit.ts).
 */
import { MigbenchError } from '../errors.ts';
import { EMIT_SYSTEMS, emitFor, orchestratorSettingsOf, type EmitSystem } from '../orchestrator/emit.ts';
import type { Scenario } from '../scenario/types.ts';

export interface EmitRequest {
  readonly system: EmitSystem;
  readonly path: string;
}

/** The flag's two values (commander gathers them), or null without the flag; one line (E_USAGE) when malformed. */
export function parseEmit(values: readonly string[] | undefined): EmitRequest | null {
  if (values === undefined) return null;
  if (values.length !== 2) {
    throw new MigbenchError('E_USAGE', `--emit: expected a system and a file, e.g. --emit kubevirt policy.yaml (give the scenario file before --emit), got ${JSON.stringify(values.join(' '))}`);
  }
  const [system, path] = values as [string, string];
  if (!(EMIT_SYSTEMS as readonly string[]).includes(system)) {
    throw new MigbenchError('E_USAGE', `--emit: the system must be one of ${EMIT_SYSTEMS.join(', ')}, got ${JSON.stringify(system)}`);
  }
  return { system: system as EmitSystem, path };
}

/** What `--emit` writes for this resolved scenario (refused, E_USAGE, when its orchestrator is of another kind). */
export function emitText(system: EmitSystem, scenario: Scenario): string {
  return emitFor(system, orchestratorSettingsOf(scenario), { name: scenario.name, maxBandwidthBytesPerSec: scenario.precopy.maxBandwidth });
}
