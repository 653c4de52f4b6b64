/**
 * What post-copy can run where, today: emulate mode runs it (src/postcopy/), simulate mode models it
 * and link failures for one guest on one lane (src/sim/simulate-postcopy.ts), `predict` does not model
 * them yet (issue 14 item 7), and link recovery is not built yet (item 5). A
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
    if (mode === 'predict') return `faults.linkDownAtMs: not modelled by predict yet (run it in emulate mode), got ${down}`;
    if (mode === 'simulate' && s.fleet !== null) return `fleet: a link failure is simulated for one guest (no fleet) for now, got a fleet of ${s.fleet.count}`;
    if (s.precopy.channels > 1) return `precopy.channels: a link failure is ${mode === 'simulate' ? 'simulated' : 'emulated'} on the single lane (1 channel) for now, got ${s.precopy.channels}`;
    if (mode === 'emulate' && s.link.transport === 'tcp') return 'faults.linkDownAtMs: a link failure is emulated on the memory transport only for now (over tcp, pull the cable), got ' + down;
  }
  const p = s.postcopy;
  if (!p.enabled) return null;
  if (mode === 'simulate' && p.recovery) return 'postcopy.recovery: not modelled in simulate mode yet (run it in emulate mode), got true';
  if (mode === 'simulate' && s.fleet !== null) return `fleet: post-copy is simulated for one guest (no fleet) for now, got a fleet of ${s.fleet.count}`;
  if (mode === 'predict') return 'postcopy.enabled: not modelled by predict yet (run it in emulate mode), got true';
  if (p.recovery) return 'postcopy.recovery: link failures are not emulated yet, so there is nothing to recover from, got true';
  // QEMU before 10.0 refused multifd with postcopy-ram too ("Postcopy is not yet compatible with multifd")
  if (s.precopy.channels > 1) return `precopy.channels: post-copy runs on the single lane (1 channel) for now, got ${s.precopy.channels}`;
  if (mode === 'simulate') return null;
  if (s.link.transport === 'tcp') return 'link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp"';
  return null;
}

/** Throw the refusal, when there is one (E_SCENARIO); `label` names the benchmark or grid point. */
export function checkPostcopyMode(s: Scenario, mode: PostcopyMode, label?: string): void {
  const why = postcopyRefusal(s, mode);
  if (why !== null) throw new MigbenchError('E_SCENARIO', label ? `${label}: ${why}` : why);
}
