/** The CLI as a user runs it: a child process, exit codes, stdout JSON, one-line errors on stderr. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'migbench-cli-'));

function migbench(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// A dirtying guest's rounds are bounded by maxRounds: it converges or is stopped, at any machine speed
const SMALL = ['--set', 'guest.memory=8MiB', '--set', 'link.bandwidth=1GiB/s', '--set', 'workload.dirtyRate=2000/s', '--set', 'precopy.maxRounds=15'];

describe('migbench run', () => {
  it('--json prints the result document on stdout, with the documented fields', () => {
    const out = join(dir, 'result.json');
    const r = migbench(['run', ...SMALL, '--json', '--out', out]);
    expect(r.stderr).toMatch(/round +0 bulk/);
    expect(r.stderr).toMatch(/verified +│ yes/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.tool.name).toBe('migbench');
    expect(typeof doc.startedAt).toBe('string');
    expect(doc.git).toHaveProperty('commit');
    expect(doc.git).toHaveProperty('dirty');
    for (const k of ['node', 'platform', 'arch', 'cpuModel', 'cpuCount', 'totalMemBytes']) expect(doc.env).toHaveProperty(k);
    expect(doc.mode).toBe('emulate');
    expect(doc.scenario.guest.memory).toBe(8 * 2 ** 20);
    const p = doc.precopy;
    if (p.outcome !== 'converged') expect({ outcome: p.outcome, reason: p.reason }).toEqual({ outcome: 'forced-stop', reason: 'max-rounds' });
    expect(p.verified).toBe(true);
    for (const k of ['total-time', 'downtime', 'setup-time', 'expected-downtime']) expect(typeof p.stats[k]).toBe('number');
    for (const k of ['transferred', 'remaining', 'total', 'duplicate', 'normal', 'normal-bytes', 'dirty-sync-count', 'dirty-pages-rate', 'mbps', 'pages-per-second', 'precopy-bytes', 'downtime-bytes']) {
      expect(typeof p.stats.ram[k]).toBe('number');
    }
    for (const k of ['round', 'stage', 'startMs', 'durationMs', 'dirtyPages', 'sentPages', 'zeroPages', 'bytes', 'bandwidthBytesPerSec', 'dirtyRatePagesPerSec', 'expectedDowntimeMs']) {
      expect(p.rounds[0]).toHaveProperty(k);
    }
    expect(typeof p.engineBound).toBe('boolean');
    // --out wrote the same document
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(doc);
  });

  it('runs a scenario file', () => {
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify({ name: 'tiny', guest: { memory: '4MiB', fill: 'zero' }, workload: { pattern: 'idle' }, link: { bandwidth: 'unlimited' } }));
    const r = migbench(['run', file, '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(doc.scenario.name).toBe('tiny');
    expect(doc.scenario.link.bandwidth).toBe('unlimited');
    expect(doc.precopy.stats.ram.duplicate).toBe(1024);
    expect(doc.precopy.stats.ram.normal).toBe(0);
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown key', ['--set', 'guest.memroy=1GiB'], /guest\.memroy: unknown key/],
    ['a bad size', ['--set', 'guest.memory=64 potatoes'], /guest\.memory: expected a size like "64MiB", got "64 potatoes"/],
    ['a page size that is not a power of two', ['--set', 'guest.pageSize=3000'], /guest\.pageSize: must be a power of two, got 3000/],
    ['too many vCPUs', ['--set', 'guest.vcpus=100'], /guest\.vcpus: expected an integer from 1 to 64, got 100/],
    ['a working set larger than memory', ['--set', 'guest.memory=8MiB', '--set', 'workload.workingSet=1GiB'], /workload\.workingSet: must not exceed guest\.memory/],
    ['a guest larger than the machine', ['--set', 'guest.memory=1TiB'], /guest\.memory: 1\.00 TiB needs 2\.00 TiB \(source \+ destination, logs, caches and rings\), this machine has/],
    ['a missing scenario file', [join(dir, 'nope.json')], /scenario ".*nope\.json": cannot read it \(file not found\)/],
    ['a bad --set', ['--set', 'novalue'], /--set: expected key\.path=value/],
    ['an unknown option', ['--frobnicate'], /unknown option/],
  ])('%s: exit 2, one line naming the key, no stack trace', (_what, args, message) => {
    const r = migbench(['run', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('a scenario file that is not JSON: exit 2', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "guest": ');
    const r = migbench(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scenario ".*bad\.json": not valid JSON/);
  });

  it('--help exits 0', () => {
    const r = migbench(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--set/);
  });

  it('Ctrl-C cancels cleanly: exit 130, no result written, workers gone', async () => {
    const out = join(dir, 'interrupted.json');
    const child = spawn(process.execPath, [BIN, 'run', '--set', 'guest.memory=64MiB', '--set', 'link.bandwidth=16MiB/s', '--json', '--out', out], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      // interrupt once the migration is under way
      if (!sent && /migrating with pre-copy/.test(stderr)) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: the guest stays on the source; no result written/);
    expect(stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});

describe('input guidance on the command line (issue 18 item 8)', () => {
  it.each<[string, string[], string]>([
    ['a mistyped --set path', ['--set', 'workload.dirtyRte=50000/s'], 'error: workload.dirtyRte: unknown key (did you mean workload.dirtyRate?); known: '],
    ['a top-level key that belongs in a block', ['--set', 'downtimeLimitMs=30'], 'error: downtimeLimitMs: unknown key (did you mean precopy.downtimeLimitMs?); known: '],
    ['1GB of memory', ['--set', 'guest.memory=1GB'], 'error: guest.memory: "1GB" is decimal, 1,000,000,000 bytes, not a multiple of guest.pageSize (4096 B); write "1GiB" for 1,073,741,824 bytes, got "1GB"'],
    ['1gib of memory', ['--set', 'guest.memory=1gib'], 'error: guest.memory: expected a size like "64MiB" (a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "1GiB"?), got "1gib"'],
  ])('%s: exit 2, one line with the suggestion', (_what, args, line) => {
    const r = migbench(['predict', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.startsWith(line), r.stderr).toBe(true);
  });

  it('a decimal memory size is accepted with one warning line on stderr naming both readings', () => {
    const r = migbench(['predict', '--json', '--set', 'guest.memory=64MB', '--set', 'workload.workingSet=8MiB']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).scenario.guest.memory).toBe(64_000_000);
    expect(r.stderr).toBe('warning: guest.memory: "64MB" is decimal, 64,000,000 bytes (61.0 MiB); write "64MiB" for 64.0 MiB, or 64000000 to keep this size without this warning\n');
  });

  it('a bare number for a byte rate in --set is accepted with a warning naming bytes/s; with a unit, or for page writes, none', () => {
    const bare = migbench(['run', '--mode', 'simulate', '--set', 'guest.memory=8MiB', '--set', 'link.bandwidth=100000000', '--set', 'workload.dirtyRate=2000', '--json']);
    expect(bare.code).toBe(0);
    expect(JSON.parse(bare.stdout).scenario.link.bandwidth).toBe(100_000_000);
    expect(bare.stderr).toContain('warning: --set link.bandwidth=100000000: a bare number is read as bytes/s, 95.4 MiB/s (800 Mbit/s); give the unit you mean, e.g. "100000000MiB/s" or "100000000Mbit/s"');
    expect(bare.stderr.match(/warning:/g)).toHaveLength(1);
    const unit = migbench(['run', '--mode', 'simulate', '--set', 'guest.memory=8MiB', '--set', 'link.bandwidth=800Mbit/s', '--set', 'workload.dirtyRate=2000', '--json', '--quiet']);
    expect(unit.code).toBe(0);
    expect(unit.stderr).not.toContain('warning');
    const quiet = migbench(['predict', '--set', 'guest.memory=8MiB', '--set', 'link.bandwidth=100000000', '--json']);
    expect(quiet.stderr).toMatch(/^warning: --set link\.bandwidth=100000000: a bare number is read as bytes\/s/);
  });

  it('a bare number for a byte rate in a sweep --param: the same warning, once per value', () => {
    const r = migbench(['sweep', '--mode', 'simulate', '--param', 'link.bandwidth=12500000,100Mbit/s', '--set', 'guest.memory=8MiB', '--set', 'workload.dirtyRate=100', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/warning: .*/g)).toEqual([
      'warning: --param link.bandwidth=12500000: a bare number is read as bytes/s, 11.9 MiB/s (100 Mbit/s); give the unit you mean, e.g. "12500000MiB/s" or "12500000Mbit/s" ("12500000B/s" keeps this reading without this warning)',
    ]);
  });

  it.each<[string, string, string]>([
    ['a trailing comma', '{\n  "guest": { "memory": "64MiB" },\n}\n', 'line 3, column 1: expected double-quoted property name'],
    ['a unit without quotes', '{\n  "guest": {\n    "memory": 64MiB\n  }\n}\n', "line 3, column 17: expected ',' or '}' after property value"],
    ['an unexpected token (V8 gives no position)', '{\n  "guest": { "memory": x }\n}\n', 'line 2, column 24: unexpected character "x"'],
    ['a truncated file', '{ "guest": ', 'line 1, column 12: unexpected end of the file'],
  ])('a scenario file with %s: exit 2, one line with line and column', (_what, text, where) => {
    const file = join(dir, 'syntax.json');
    writeFileSync(file, text);
    const r = migbench(['predict', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: scenario ${JSON.stringify(file)}: not valid JSON at ${where}\n`);
  });

  it('a suite file with bad JSON: line and column; a mistyped suite key: did you mean', () => {
    const file = join(dir, 'suite-syntax.json');
    writeFileSync(file, '{\n  "name": "s",\n  "scenarios": [\n    { "name": "a" }\n    { "name": "b" }\n  ]\n}\n');
    const r = migbench(['suite', file, '--mode', 'simulate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: scenario ${JSON.stringify(file)}: not valid JSON at line 5, column 5: expected ',' or ']' after array element\n`);
    writeFileSync(file, JSON.stringify({ name: 's', scenarois: [{ name: 'a' }] }));
    const typo = migbench(['suite', file, '--mode', 'simulate']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^error: suite\.scenarois: unknown key \(did you mean scenarios\?\); known: name, /);
  });

  it('a suite with a decimal memory size warns once, naming the benchmarks', () => {
    const file = join(dir, 'suite-decimal.json');
    writeFileSync(file, JSON.stringify({ name: 's', scenarios: [{ name: 'a', guest: { memory: '64MB' }, workload: { workingSet: '1MiB' } }, { name: 'b', guest: { memory: '8MiB' } }] }));
    const r = migbench(['suite', file, '--mode', 'simulate', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/warning: .*/g)).toEqual(['warning: guest.memory: "64MB" is decimal, 64,000,000 bytes (61.0 MiB); write "64MiB" for 64.0 MiB, or 64000000 to keep this size without this warning ("a")']);
  });
});
