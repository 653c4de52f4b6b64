import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveScenario } from '../src/options.ts';
import { checkPostcopyMode, postcopyRefusal } from '../src/postcopy/support.ts';
import { MigbenchError } from '../src/errors.ts';

describe('post-copy is refused where it cannot run yet (issue 14 item 1)', () => {
  const on = (extra: Record<string, unknown> = {}) => resolveScenario({ postcopy: { enabled: true, ...extra } });
  it.each<[string, ReturnType<typeof resolveScenario>, 'emulate' | 'simulate' | 'predict', string | null]>([
    ['off anywhere', resolveScenario({ postcopy: { recovery: true } }), 'simulate', null],
    ['emulate runs it', on(), 'emulate', null],
    ['simulate mode models it', on(), 'simulate', null],
    ['recovery in simulate mode', on({ recovery: true }), 'simulate', 'postcopy.recovery: not modelled in simulate mode yet (run it in emulate mode), got true'],
    ['a fleet in simulate mode', resolveScenario({ postcopy: { enabled: true }, fleet: { count: 3 } }), 'simulate', 'fleet: post-copy is simulated for one guest (no fleet) for now, got a fleet of 3'],
    ['parallel channels in simulate mode', resolveScenario({ postcopy: { enabled: true }, precopy: { channels: 2 } }), 'simulate', 'precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2'],
    ['predict', on(), 'predict', 'postcopy.enabled: not modelled by predict yet (run it in emulate mode), got true'],
    ['recovery (no link faults yet)', on({ recovery: true }), 'emulate', 'postcopy.recovery: link failures are not emulated yet, so there is nothing to recover from, got true'],
    ['parallel channels', resolveScenario({ postcopy: { enabled: true }, precopy: { channels: 2 } }), 'emulate', 'precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2'],
    ['a link failure in simulate mode', resolveScenario({ faults: { linkDownAtMs: 500 } }), 'simulate', null],
    ['a link failure in a simulated fleet', resolveScenario({ faults: { linkDownAtMs: 500 }, fleet: { count: 4 } }), 'simulate', 'fleet: a link failure is simulated for one guest (no fleet) for now, got a fleet of 4'],
    ['a link failure with channels in simulate mode', resolveScenario({ faults: { linkDownAtMs: 500 }, precopy: { channels: 2 } }), 'simulate', 'precopy.channels: a link failure is simulated on the single lane (1 channel) for now, got 2'],
    ['a link failure in predict', resolveScenario({ faults: { linkDownAtMs: 500 } }), 'predict', 'faults.linkDownAtMs: not modelled by predict yet (run it in emulate mode), got 500'],
    ['a link failure with channels', resolveScenario({ faults: { linkDownAtMs: 500 }, precopy: { channels: 4 } }), 'emulate', 'precopy.channels: a link failure is emulated on the single lane (1 channel) for now, got 4'],
    ['a link failure in emulate mode', resolveScenario({ faults: { linkDownAtMs: 500 } }), 'emulate', null],
    ['post-copy over tcp', resolveScenario({ postcopy: { enabled: true }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }), 'emulate', 'link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp"'],
    ['a link failure over tcp', resolveScenario({ faults: { linkDownAtMs: 500 }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }), 'emulate', 'faults.linkDownAtMs: a link failure is emulated on the memory transport only for now (over tcp, pull the cable), got 500'],
  ])('%s', (_what, s, mode, why) => {
    expect(postcopyRefusal(s, mode)).toBe(why);
  });
  it('throws E_SCENARIO with the label', () => {
    expect(() => checkPostcopyMode(on(), 'predict', 'bench a')).toThrow(MigbenchError);
    expect(() => checkPostcopyMode(on(), 'predict', 'bench a')).toThrow(/^bench a: postcopy\.enabled: not modelled by predict yet/);
  });
});

describe('the command line refuses it with one line and exit 2', () => {
  const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
  const migbench = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  it.each<[string, string[], string]>([
    ['run --mode simulate with recovery', ['run', '--mode', 'simulate', '--set', 'postcopy.enabled=true', '--set', 'postcopy.recovery=true'], 'error: postcopy.recovery: not modelled in simulate mode yet (run it in emulate mode), got true'],
    ['predict', ['predict', '--set', 'postcopy.enabled=true'], 'error: postcopy.enabled: not modelled by predict yet (run it in emulate mode), got true'],
  ])('%s', (_what, args, line) => {
    const r = migbench(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
    expect(r.stdout).toBe('');
  });
});
