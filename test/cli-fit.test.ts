/** `migbench fit LOG` as a user runs it: a child process, exit codes, JSON on stdout, the human report on stderr. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveScenario } from '../src/options.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const LOG = (name: string): string => fileURLToPath(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-cli-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function migbench(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('migbench fit', () => {
  it('prints every parameter with its evidence and the replay beside the log on stderr; writes the scenario with --out', () => {
    const out = join(dir, 'med.json');
    const r = migbench(['fit', LOG('med_bw32_dt300'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^workload\.dirtyRate = 4,202\/s$/m);
    expect(r.stderr).toMatch(/^workload\.workingSet = 120 MiB$/m);
    expect(r.stderr).toMatch(/│ total time +│ +9\.22 s │ +9\.18 s │ +-0\.4 % │/);
    expect(r.stderr).toMatch(/^ {2}log {4}│.{60}│$/m);
    expect(r.stderr).toMatch(/^ {2}replay │.{60}│$/m);
    const scenario = resolveScenario(JSON.parse(readFileSync(out, 'utf8')));
    expect(scenario.workload.dirtyRate).toBe(4202);
    expect(scenario.name).toBe('med_bw32_dt300');
  });

  it('--json: the scenario, parameters with evidence, syncs and the replay rows on stdout', () => {
    const r = migbench(['fit', LOG('high_bw128_dt300_xbzrle256'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.tool).toBe('migbench fit');
    expect(resolveScenario(doc.scenario).precopy.xbzrle).toEqual({ enabled: true, cacheSize: 256 * 2 ** 20 });
    expect(doc.parameters.map((p: { key: string }) => p.key)).toContain('workload.workingSet');
    expect(doc.replay.rows.map((row: { metric: string }) => row.metric)).toEqual(['total time', 'bytes', 'syncs', 'downtime', 'outcome']);
    expect(doc.replay.remaining.log.length).toBeGreaterThan(20);
  });

  it.each([
    ['a log that goes backwards', (t: string) => { const l = t.trim().split('\n'); return [...l.slice(0, 10), l[5], ...l.slice(11)].join('\n'); }, /^error: QMP log line 11: time goes backwards: 300 ms after 700 ms at line 10\n$/],
    ['a log that is not QMP', () => '{"execute": "query-migrate-parameters", "return": {"downtime-limit": 300}}\nhello\n', /^error: QMP log line 2: not JSON: "hello"\n$/],
    ['a log without a query-migrate reply', (t: string) => t.split('\n').slice(0, 2).join('\n'), /^error: QMP log: no query-migrate reply/],
  ])('refuses %s: one line naming the line, exit 2, no scenario written', (_name, edit, message) => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, edit(readFileSync(LOG('med_bw32_dt300'), 'utf8')));
    const out = join(dir, 'never.json');
    const r = migbench(['fit', path, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(() => readFileSync(out)).toThrow();
  });

  it('--html writes the page (the fit, the replay, the remaining curves) through the output writer; a folder is refused first', () => {
    const html = join(dir, 'fit.html');
    const r = migbench(['fit', LOG('idle_bw128_dt300'), '--html', html]);
    expect(r.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<title>migbench fit: ');
    expect(page).toContain('aria-label="Remaining over time: the log and the replay"');
    const folder = migbench(['fit', LOG('idle_bw128_dt300'), '--html', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/^error: --html ".*": is a directory; give a file name\n$/);
  });

  it('refuses a missing log and an --out that names a folder, exit 2, before any work', () => {
    const missing = migbench(['fit', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: QMP log ".*nope\.jsonl": cannot read it \(file not found\)\n$/);
    mkdirSync(join(dir, 'folder'), { recursive: true });
    const folder = migbench(['fit', LOG('idle_bw128_dt300'), '--out', join(dir, 'folder')]);
    expect(folder.code).toBe(2);
    expect(folder.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(folder.stderr).toMatch(/--out/);
  });
});
