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
    ['recovery in simulate mode', on({ recovery: true }), 'simulate', null],
    ['recovery from a link failure in simulate mode', resolveScenario({ postcopy: { enabled: true, recovery: true }, faults: { linkDownAtMs: 500, linkDownForMs: 200 } }), 'simulate', null],
    ['a fleet in simulate mode (each guest\'s post-copy on the shared link: orchestrator-fleet.test.ts)', resolveScenario({ postcopy: { enabled: true }, fleet: { count: 3 } }), 'simulate', null],
    ['a fleet with parallel channels in simulate mode', resolveScenario({ postcopy: { enabled: true }, fleet: { count: 3 }, precopy: { channels: 2 } }), 'simulate', 'precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2'],
    ['parallel channels in simulate mode', resolveScenario({ postcopy: { enabled: true }, precopy: { channels: 2 } }), 'simulate', 'precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2'],
    ['predict models it (sim/predict/postcopy-model.ts)', on(), 'predict', null],
    ['predict has no transport: tcp is no reason to refuse', resolveScenario({ postcopy: { enabled: true }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }), 'predict', null],
    ['predict: sequential sweeps', resolveScenario({ postcopy: { enabled: true }, workload: { pattern: 'sequential' } }), 'predict', 'workload.pattern: predict models post-copy faults for uniform, hotset and zipf writes, not sequential sweeps yet (run it in emulate mode), got "sequential"'],
    ['predict: parallel channels, as emulate', resolveScenario({ postcopy: { enabled: true }, precopy: { channels: 2 } }), 'predict', 'precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2'],
    ['recovery in predict', on({ recovery: true }), 'predict', 'postcopy.recovery: not modelled by predict yet (run it with --mode simulate or emulate), got true'],
    ['recovery in emulate mode', on({ recovery: true }), 'emulate', null],
    ['recovery from a link failure in emulate mode', resolveScenario({ postcopy: { enabled: true, recovery: true }, faults: { linkDownAtMs: 500, linkDownForMs: 200 } }), 'emulate', null],
    ['parallel channels', resolveScenario({ postcopy: { enabled: true }, precopy: { channels: 2 } }), 'emulate', 'precopy.channels: post-copy runs on the single lane (1 channel) for now, got 2'],
    ['a link failure in simulate mode', resolveScenario({ faults: { linkDownAtMs: 500 } }), 'simulate', null],
    ['a link failure in a simulated fleet', resolveScenario({ faults: { linkDownAtMs: 500 }, fleet: { count: 4 } }), 'simulate', 'fleet: a link failure is simulated for one guest (no fleet) for now, got a fleet of 4'],
    ['a link failure with channels in simulate mode', resolveScenario({ faults: { linkDownAtMs: 500 }, precopy: { channels: 2 } }), 'simulate', 'precopy.channels: a link failure is simulated on the single lane (1 channel) for now, got 2'],
    ['a link failure in predict (sim/predict/link-down.ts)', resolveScenario({ faults: { linkDownAtMs: 500 } }), 'predict', null],
    ['a link failure with channels', resolveScenario({ faults: { linkDownAtMs: 500 }, precopy: { channels: 4 } }), 'emulate', 'precopy.channels: a link failure is emulated on the single lane (1 channel) for now, got 4'],
    ['a link failure in emulate mode', resolveScenario({ faults: { linkDownAtMs: 500 } }), 'emulate', null],
    ['post-copy over tcp', resolveScenario({ postcopy: { enabled: true }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }), 'emulate', 'link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp"'],
    ['a link failure over tcp', resolveScenario({ faults: { linkDownAtMs: 500 }, link: { transport: 'tcp', target: '127.0.0.1:4444' } }), 'emulate', 'faults.linkDownAtMs: a link failure is emulated on the memory transport only for now (over tcp, pull the cable), got 500'],
  ])('%s', (_what, s, mode, why) => {
    expect(postcopyRefusal(s, mode)).toBe(why);
  });
  it('throws E_SCENARIO with the label', () => {
    expect(() => checkPostcopyMode(on({ recovery: true }), 'predict', 'bench a')).toThrow(MigbenchError);
    expect(() => checkPostcopyMode(on({ recovery: true }), 'predict', 'bench a')).toThrow(/^bench a: postcopy\.recovery: not modelled by predict yet/);
  });
});

describe('the command line refuses it with one line and exit 2', () => {
  const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
  const migbench = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  it.each<[string, string[], string]>([
    ['predict with recovery', ['predict', '--set', 'postcopy.enabled=true', '--set', 'postcopy.recovery=true'], 'error: postcopy.recovery: not modelled by predict yet (run it with --mode simulate or emulate), got true'],
    ['predict, sequential', ['predict', '--set', 'postcopy.enabled=true', '--set', 'workload.pattern=sequential'], 'error: workload.pattern: predict models post-copy faults for uniform, hotset and zipf writes, not sequential sweeps yet (run it in emulate mode), got "sequential"'],
  ])('%s', (_what, args, line) => {
    const r = migbench(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
    expect(r.stdout).toBe('');
  });
  it('predict --set postcopy.enabled=true: the prediction, exit 0', () => {
    const r = migbench(['predict', '--json', '--set', 'guest.memory=64MiB', '--set', 'postcopy.enabled=true']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { precopy: { outcome: string; postcopy: { faults: number }; stats: { ram: Record<string, number> } } };
    expect(doc.precopy.outcome).toBe('postcopy');
    expect(doc.precopy.stats.ram['postcopy-requests']).toBe(doc.precopy.postcopy.faults);
  });
});
