/** `migbench run --mode simulate` as a user runs it: a child process, exit codes, JSON on stdout. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));

function migbench(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('migbench run --mode simulate', () => {
  it('a 1 TiB guest with an 8 GiB hot set on 10 Gbit/s: a full result with its speedup, the same twice', () => {
    const args = ['run', '--mode', 'simulate', '--set', 'guest.memory=1TiB', '--set', 'workload.workingSet=8GiB', '--set', 'link.bandwidth=10Gbit/s', '--set', 'precopy.timeoutMs=2h', '--json'];
    const a = migbench(args);
    expect(a.stderr).toMatch(/round +0 bulk/);
    expect(a.stderr).toMatch(/pre-copy modelled .* \(speedup [\d,]+×\), quick migration modelled .* \(speedup [\d,]+×\)/);
    expect(a.code).toBe(0);
    const doc = JSON.parse(a.stdout);
    expect(doc.mode).toBe('simulate');
    expect(doc.precopy.outcome).toBe('converged');
    expect(doc.precopy.stats.ram.total).toBe(2 ** 40);
    expect(doc.quick.outcome).toBe('completed');
    expect(doc.simulation.speedup).toBeGreaterThan(0);
    expect(doc.simulation.perMethod.precopy.modelledTimeMs).toBe(doc.precopy.stats['total-time']);
    expect(doc.simulation.perMethod.quick.modelledTimeMs).toBe(doc.quick.stats['total-time']);
    expect(doc.simulation.modelledTimeMs).toBeGreaterThan(15 * 60_000);
    const b = JSON.parse(migbench(args).stdout);
    const wallFree = (x: { wallTimeMs: number; speedup: number }) => ({ ...x, wallTimeMs: 0, speedup: 0 });
    const strip = (d: Record<string, any>) => JSON.stringify({ ...d, startedAt: 0, finishedAt: 0, env: 0, git: 0, simulation: { ...d.simulation, wallTimeMs: 0, speedup: 0, perMethod: { precopy: wallFree(d.simulation.perMethod.precopy), quick: wallFree(d.simulation.perMethod.quick) } } });
    expect(strip(b)).toBe(strip(doc));
  }, 240_000); // a hang guard: two child processes each simulating a 1 TiB guest (34 s here on a loaded machine)

  it('a fleet evacuation prints the evacuation time and the per-guest spread', () => {
    const r = migbench(['run', '--mode', 'simulate', '--set', 'guest.memory=256MiB', '--set', 'workload.dirtyRate=2000/s', '--set', 'fleet={"count":6,"concurrency":3}', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/host evacuation: 6 guests, 3 at a time/);
    const doc = JSON.parse(r.stdout);
    expect(doc.fleet.precopy.guests).toHaveLength(6);
    expect(doc.fleet.precopy.completed).toBe(6);
    expect(doc.fleet.precopy.downtime.median).toBeGreaterThan(0);
    expect(doc.fleet.quick.evacuationTimeMs).toBeGreaterThan(0);
  });

  it('a migration that times out says which key to raise', () => {
    const r = migbench(['run', '--mode', 'simulate', '--only', 'precopy', '--set', 'guest.memory=64GiB']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cancelled \(timeout\)/);
    // the model's time to converge (9.86 min) with half as much again: 15 min
    expect(r.stderr).toMatch(/gave up at precopy\.timeoutMs \(2\.00 min\); the model expects it to converge after 9\.\d+ min: raise it, e\.g\. --set precopy\.timeoutMs=15min/);
  });

  it.each([
    [['--mode', 'fast'], /--mode: expected one of emulate, simulate, got "fast"/],
    [['--mode', 'simulate', '--set', 'link.bandwidth=unlimited'], /link\.bandwidth: simulate mode needs a finite rate/],
    [['--mode', 'simulate', '--only', 'quick', '--set', 'quick.storageBandwidth=unlimited'], /quick\.storageBandwidth: simulate mode needs a finite rate/],
    [['--set', 'fleet={"count":4,"concurrency":2}'], /fleet: a host evacuation runs in simulate mode only/],
    [['--mode', 'simulate', '--set', 'fleet={"count":2,"concurrency":3}'], /fleet\.concurrency: must not exceed fleet\.count \(2\), got 3/],
    [['--mode', 'simulate', '--set', 'fleet={"count":2,"size":3}'], /fleet\.size: unknown key/],
    [['--mode', 'simulate', '--set', 'guest.memory=64TiB'], /guest\.memory: simulate mode holds at most 2\^32 pages/],
  ])('refuses %j with exit 2 and one line', (extra, message) => {
    const r = migbench(['run', ...extra]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
