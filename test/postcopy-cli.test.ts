/** `migbench run` with post-copy: exit 0, the result document's post-copy figures, the terminal lines. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bucketLabel } from '../src/cli/postcopy-lines.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));

describe('migbench run with postcopy.enabled', () => {
  it('completes as postcopy, verified, and prints the post-copy lines (hang guard: 120 s)', () => {
    const sets = [
      'guest.memory=16MiB', 'guest.deviceState=16KiB', 'workload.pattern=hotset', 'workload.workingSet=8MiB', 'workload.dirtyRate=40000/s',
      'workload.hotFraction=0.95', 'workload.readRate=5000/s', 'link.bandwidth=32MiB/s', 'precopy.downtimeLimitMs=10', 'precopy.maxRounds=3', 'postcopy.enabled=true',
    ].flatMap((s) => ['--set', s]);
    const r = spawnSync(process.execPath, [BIN, 'run', '--only', 'precopy', '--json', ...sets], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.precopy.outcome).toBe('postcopy');
    expect(doc.precopy.verified).toBe(true);
    expect(doc.scenario.postcopy).toEqual({ enabled: true, startAfterRounds: 1, maxBandwidth: 'unlimited', preempt: true, recovery: false });
    expect(doc.precopy.stats['postcopy-latency-dist']).toHaveLength(24);
    // the summary table's post-copy rows, then only what the table has no room for: the latency histogram
    expect(r.stderr).toMatch(/│ stalls +│.*│ [\d,]+ faults, mean /);
    expect(r.stderr).toMatch(/│ blocktime +│.* all vCPUs at once; per vCPU /);
    expect(r.stderr).toMatch(/│ guest writes\/s +│.*│ [\d,]+ before · [\d,]+ during · /);
    expect(r.stderr).toMatch(/^post-copy {2}stall latency \S.*–.* [\d,]+$/m);
    expect(r.stderr).not.toMatch(/switched at/); // said once, in the table
    expect(r.stderr).toMatch(/rounds\W+\d+ \(\d+ live \+ switch to post-copy\)/);
    expect(r.stderr).not.toMatch(/stop-and-copy\)/);
  }, 130_000);

  it('with postcopy.recovery, a link outage during post-copy: the statuses as they happen, the outage lines, completed (hang guard: 120 s)', () => {
    // as test/postcopy-recovery.test.ts: post-copy runs from ~125 ms for at least 1.4 s of link time; the link is down 800–1100 ms
    const sets = [
      'guest.memory=8MiB', 'guest.deviceState=16KiB', 'workload.pattern=hotset', 'workload.workingSet=4MiB', 'workload.dirtyRate=40000/s',
      'workload.hotFraction=0.95', 'link.bandwidth=64MiB/s', 'link.latencyMs=50', 'precopy.downtimeLimitMs=10', 'precopy.maxRounds=3', 'postcopy.enabled=true',
      'postcopy.maxBandwidth=2MiB/s', 'postcopy.recovery=true', 'faults.linkDownAtMs=800', 'faults.linkDownForMs=300',
    ].flatMap((s) => ['--set', s]);
    const r = spawnSync(process.execPath, [BIN, 'run', '--only', 'precopy', '--json', ...sets], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.precopy.outcome).toBe('postcopy');
    expect(doc.precopy.verified).toBe(true);
    expect(doc.precopy.postcopy.recovery.linkUpMs).toBeCloseTo(1100, 6);
    const statuses = [...r.stderr.matchAll(/^status {2}(\S+)/gm)].map((m) => m[1]);
    expect(statuses).toEqual(['postcopy-active', 'postcopy-paused', 'postcopy-recover', 'postcopy-active', 'completed']);
    expect(r.stderr).toMatch(/^ {2}outage {5}the link went down at 800 ms and was back at 1\.10 s; postcopy-paused from /m);
    expect(r.stderr).toMatch(/^ {2}recovery {3}[\d,]+ pages lost in flight, [\d,]+ sent again from the destination's received bitmap \(256 B\); extra stall /m);
  }, 130_000);

  it.each<[number, string]>([[0, '1µs–2µs'], [8, '256µs–512µs'], [10, '1.02 ms–2.05 ms'], [23, '≥8.39 s']])('latency bucket %i reads %s', (n, label) => {
    expect(bucketLabel(n)).toBe(label);
  });
});
