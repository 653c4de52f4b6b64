/** `migbench run --qmp-log FILE` as a user runs it, in both modes, and `migbench fit` reading the file back. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readQmpLog } from '../src/fit/qmp-log.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-cli-qmp-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function migbench(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const guest = (memory: string, workingSet: string, dirtyRate: string): string => {
  const path = join(dir, `guest-${memory}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name: 'qmp-log',
      seed: 4,
      guest: { memory, vcpus: 1, fill: { zero: 0.25, random: 0.75, text: 0 } },
      workload: { pattern: 'hotset', dirtyRate, workingSet, hotFraction: 1 },
      link: { bandwidth: '1Gbit/s' },
      precopy: { maxBandwidth: '8MiB/s', downtimeLimitMs: 300 },
    }),
  );
  return path;
};
// emulate mode runs on the wall clock: a small guest (2 s at 8 MiB/s); simulate mode: one large enough for several syncs
const small = guest('16MiB', '2MiB', '2000/s');
const scenarioFile = small;
const large = guest('64MiB', '8MiB', '1000/s');

describe('migbench run --qmp-log', () => {
  it.each([
    ['simulate', large],
    ['emulate', small],
  ])('%s mode: writes the query-migrate replies that the log reader reads back (and, simulated, fit fits)', (mode, file) => {
    const log = join(dir, `${mode}.jsonl`);
    const r = migbench(['run', file, '--mode', mode, '--only', 'precopy', '-q', '--qmp-log', log, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const parsed = readQmpLog(readFileSync(log, 'utf8'));
    expect(parsed.parameters).toMatchObject({ 'downtime-limit': 300, 'max-bandwidth': 8 * 2 ** 20 });
    expect(parsed.polls.at(-1)).toMatchObject({ status: 'completed', totalTimeMs: doc.precopy.stats['total-time'] });
    expect(parsed.polls.filter((p) => p.status === 'active').length).toBeGreaterThan(5);
    // an emulate run's figures depend on this machine's load (a busy machine may leave one usable
    // sync, which pins no rate): the fit and its replay are checked on the simulate log only
    if (mode === 'emulate') return;
    const fit = migbench(['fit', log, '--json']);
    expect(fit.code).toBe(0);
    const fitted = JSON.parse(fit.stdout);
    expect(fitted.scenario.guest.memory).toBe(64 * 2 ** 20);
    expect(fitted.scenario.precopy.downtimeLimitMs).toBe(300);
  });

  it('refuses --only quick (no pre-copy to log) with one line, exit 2, and writes nothing', () => {
    const log = join(dir, 'never.jsonl');
    const r = migbench(['run', scenarioFile, '--mode', 'simulate', '--only', 'quick', '--qmp-log', log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --qmp-log: the log is of the pre-copy migration, which --only quick leaves out\n');
    expect(existsSync(log)).toBe(false);
  });

  it('refuses a --qmp-log that names a folder, before the run', () => {
    const r = migbench(['run', scenarioFile, '--mode', 'simulate', '--qmp-log', dir + '/']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^error: --qmp-log ".*": names a folder; give a file name$/)]);
  });
});
