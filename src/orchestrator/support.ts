/**
 * What each mode can run under an orchestrator, today: emulate and simulate mode run the kinds that
 * are built (index.ts); `predict` does not model orchestrators yet; a fleet (simulate mode) runs under
 * any kind, each migration with its own orchestrator, at most fleet-cap.ts's migrations at once (under
 * kubevirt its caps; other kinds: `fleet.concurrency`); an orchestrator that may ask for post-copy
 * needs a mode that runs post-copy (postcopy/support.ts). Refused before anything runs (E_SCENARIO,
 * exit 2), never run as if there were no orchestrator.
 */
import { MigbenchError } from '../errors.ts';
import type { Scenario } from '../options.ts';
import { postcopyRefusal, type PostcopyMode } from '../postcopy/support.ts';
import { orchestratorPostcopyKey } from './index.ts';
import { withOrchestratorStart } from './start.ts';

/** The refusal for `s` in `mode` (one line: key, rule, value), or null when it can run. Pure. */
export function orchestratorRefusal(s: Scenario, mode: PostcopyMode): string | null {
  const kind = s.orchestrator.kind;
  if (kind === 'none') return null;
  if (mode === 'predict') return `orchestrator.kind: not modelled by predict yet (run it with --mode simulate or emulate), got "${kind}"`;
  const key = orchestratorPostcopyKey(s.orchestrator, s.guest.memory);
  if (key !== null && !s.postcopy.enabled) {
    const why = postcopyRefusal(withOrchestratorStart(s), mode);
    if (why !== null) return `${key}: the orchestrator may switch to post-copy, which cannot run here (${why})`;
  }
  return null;
}

/** Throw the refusal, when there is one (E_SCENARIO); `label` names the benchmark or grid point. */
export function checkOrchestratorMode(s: Scenario, mode: PostcopyMode, label?: string): void {
  const why = orchestratorRefusal(s, mode);
  if (why !== null) throw new MigbenchError('E_SCENARIO', label ? `${label}: ${why}` : why);
}
