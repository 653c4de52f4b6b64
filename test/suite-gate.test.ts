/**
 * Issue 18 item 6: the shipped smoke suite is a CI gate, so its figures must follow the link and not
 * only migbench's start-up. Run it twice through the real CLI, once with the link halved, and `compare`
 * must flag the slower migration. Half the link doubles the link-bound part of each migration (about
 * 100 ms for idle-16m, 160 ms for hotset-16m: 16 MiB at 1 Gbit/s against 500 Mbit/s), far above the
 * run-to-run spread, so the property holds at any machine speed where the engine outruns 1 Gbit/s by
 * far (it moves GB/s).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const SMOKE = fileURLToPath(new URL('../bench/suites/smoke.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function migbench(args: string[]) {
  // the timeout is a hang guard: two suites of 14 pre-copy migrations each (quick migration is not what this gate checks)
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 2 ** 20, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the smoke suite as a CI gate', () => {
  it('halving the link is flagged as a pre-copy total-time regression (exit 1)', () => {
    const base = join(dir, 'base.json');
    const head = join(dir, 'head.json');
    expect(migbench(['suite', SMOKE, '--only', 'precopy', '--runs', '6', '--warmup', '1', '--quiet', '--out', base]).code).toBe(0);
    expect(migbench(['suite', SMOKE, '--only', 'precopy', '--runs', '6', '--warmup', '1', '--quiet', '--set', 'link.bandwidth=500Mbit/s', '--out', head]).code).toBe(0);
    const r = migbench(['compare', base, head, '--format', 'json']);
    expect(r.code).toBe(1);
    const rows = (JSON.parse(r.stdout) as { rows: { benchmark: string; metric: string; verdict: string }[] }).rows;
    const totalTime = rows.filter((row) => row.metric === 'precopy.total-time');
    expect(totalTime.map((row) => row.benchmark).sort()).toEqual(['hotset-16m', 'idle-16m']);
    expect(totalTime.find((row) => row.benchmark === 'hotset-16m')!.verdict).toBe('regression');
    // the warning names the key that differs between the two sides
    expect(JSON.stringify(JSON.parse(r.stdout).scenarioDiffs)).toContain('link.bandwidth');
  }, 300_000);
});
