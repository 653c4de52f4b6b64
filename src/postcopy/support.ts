/**
 * What post-copy can run where, today: emulate mode runs it (src/postcopy/), with link recovery
 * (postcopy.recovery); simulate mode models it on one lane, in a fleet too (each guest's post-copy
 * phase on the fleet's shared link), and link failures and the recovery for one guest
 * (src/sim/simulate-postcopy.ts); `predict` models it and a link failure
 * (sim/predict/postcopy-model.ts, link-down.ts; it has no transport, so tcp is no reason to refuse
 * there), without recovery and for sequential sweeps. A
 * scenario asking for what its mode cannot do is refused (E_SCENARIO, exit 2), never silently run
 * as plain pre-copy.
 */
import { MigbenchError } from '../errors.ts';
import type { Scenario } from '../options.ts';

export type PostcopyMode = 'emulate' | 'simulate' | 'predict';

/** The refusal for `scenario` in `mode` (one line: key, rule, value), or null when it can run. Pure. */
export function postcopyRefusal(s: Scenario, mode: PostcopyMode): string | null {
  const down = s.faults.linkDownAtMs;
  if (down !== null) {
    if (mode === 'simulate' && s.fleet !== null) return `fleet: a link failure is simulated for one guest (no fleet) for now, got a fleet of ${s.fleet.count}`;
    if (mode !== 'predict' && s.precopy.channels > 1) return `precopy.channels: a link failure is ${mode === 'simulate' ? 'simulated' : 'emulated'} on the single lane (1 channel) for now, got ${s.precopy.channels}`;
    if (mode === 'emulate' && s.link.transport === 'tcp') return 'faults.linkDownAtMs: a link failure is emulated on the memory transport only for now (over tcp, pull the cable), got ' + down;
  }
  const p = s.postcopy;
  if (!p.enabled) return null;
  if (mode === 'predict' && p.recovery) return 'postcopy.recovery: not modelled by predict yet (run it with --mode simulate or emulate), got true';
  if (mode === 'predict' && s.workload.pattern === 'sequential') {
    return 'workload.pattern: predict models post-copy faults for uniform, hotset and zipf writes, not sequential sweeps yet (run it in emulate mode), got "sequential"';
  }
  // QEMU before 10.0 refused multifd with postcopy-ram too ("Postcopy is not yet compatible with multifd")
  if (s.precopy.channels > 1) return `precopy.channels: post-copy runs on the single lane (1 channel) for now, got ${s.precopy.channels}`;
  if (mode === 'emulate' && s.link.transport === 'tcp') return 'link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp"';
  return null;
}

/** Throw the refusal, when there is one (E_SCENARIO); `label` names the benchmark or grid point. */
export function checkPostcopyMode(s: Scenario, mode: PostcopyMode, label?: string): void {
  const why = postcopyRefusal(s, mode);
  if (why !== null) throw new MigbenchError('E_SCENARIO', label ? `${label}: ${why}` : why);
}
