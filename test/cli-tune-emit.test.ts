/**
 * `migbench tune --emit kubevirt|nova|proxmox FILE` (issue 19 item 4): the flag is read strictly (one
 * line, exit 2), a scenario whose orchestrator is of another kind is refused before anything runs and
 * nothing is written, the file goes through the safe output-file rules; with the orchestrator block in
 * the scenario, the written file parses back with the recommendation's settings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseEmit } from '../src/cli/emit-flag.ts';
import { MigbenchError } from '../src/errors.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-tune-emit-'));
const migbench = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
/** A small tune that answers at once in simulate mode. */
const TUNE = ['tune', '--set', 'guest.memory=16MiB', '--set', 'workload.workingSet=4MiB', '--set', 'link.bandwidth=64MiB/s', '--max-downtime', '100ms', '--param', 'precopy.downtimeLimitMs=20,60', '--mode', 'simulate', '--jobs', '1', '--json'];
/** The end-to-end tests need the kind's decisions registered (src/orchestrator/index.ts FACTORIES). */

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (error instanceof MigbenchError && error.code === 'E_USAGE') return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('--emit: reading the flag', () => {
  it('takes a system and a file', () => {
    expect(parseEmit(undefined)).toBeNull();
    expect(parseEmit(['kubevirt', 'policy.yaml'])).toEqual({ system: 'kubevirt', path: 'policy.yaml' });
    expect(parseEmit(['nova', 'nova.conf'])).toEqual({ system: 'nova', path: 'nova.conf' });
  });

  it.each([
    [['nova'], '--emit: expected a system and a file, e.g. --emit kubevirt policy.yaml (give the scenario file before --emit), got "nova"'],
    [['nova', 'a.conf', 'scenario.json'], '--emit: expected a system and a file, e.g. --emit kubevirt policy.yaml (give the scenario file before --emit), got "nova a.conf scenario.json"'],
    [['vmware', 'x.cfg'], '--emit: the system must be one of kubevirt, nova, proxmox, got "vmware"'],
  ])('refuses %j with one line', (values, message) => {
    expect(messageOf(() => parseEmit(values))).toBe(message);
  });
});

describe('tune --emit, the command', () => {
  it('refuses a malformed flag: exit 2, one line, no stack', () => {
    const r = migbench(['tune', '--max-downtime', '100ms', '--emit', 'openshift', join(dir, 'x.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --emit: the system must be one of kubevirt, nova, proxmox, got "openshift"\n');
  });

  it('refuses, before anything runs, a scenario whose orchestrator is of another kind, and writes nothing', () => {
    const out = join(dir, 'refused.conf');
    const r = migbench([...TUNE, '--emit', 'nova', out]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: --emit nova: the scenario's orchestrator\.kind is "[a-z-]+"; nova settings come from orchestrator\.kind "nova" \(e\.g\. --set orchestrator\.kind=nova\)\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('will not write through a symbolic link (the output-file rules)', () => {
    const target = join(dir, 'victim.conf');
    writeFileSync(target, 'keep me\n');
    const link = join(dir, 'link.conf');
    symlinkSync(target, link);
    const r = migbench([...TUNE, '--set', 'orchestrator.kind=nova', '--emit', 'nova', link]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--emit ".*link\.conf": is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
  });

  it('writes nova.conf for the recommendation', () => {
    const out = join(dir, 'nova.conf');
    const r = migbench([...TUNE, '--set', 'orchestrator.kind=nova', '--emit', 'nova', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).recommendation).not.toBeNull();
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^\[libvirt\]$/m);
    expect(text).toMatch(/^live_migration_downtime = 500$/m);
    expect(r.stderr).toContain(`nova settings of the recommendation written to ${out}`);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('writes a MigrationPolicy manifest yaml parses', () => {
    const out = join(dir, 'policy.yaml');
    const r = migbench([...TUNE, '--set', 'orchestrator.kind=kubevirt', '--emit', 'kubevirt', out]);
    expect(r.status, r.stderr).toBe(0);
    const [policy] = parseAllDocuments(readFileSync(out, 'utf8')).map((d) => d.toJS());
    expect(policy.kind).toBe('MigrationPolicy');
    expect(policy.spec.completionTimeoutPerGiB).toBe(150);
  });
});
