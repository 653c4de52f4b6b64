/**
 * TLS over tcp (link.tls; `receive --tls-cert/--tls-key/--tls-ca`), with certificates this test makes
 * with `openssl` (skipped, saying so, where openssl is missing): a guest migrates over TLS on two
 * channels, verified; a plaintext client on a TLS receiver is refused at its first byte (a migbench
 * sender without link.tls at once, E_AUTH), a TLS sender at a plaintext receiver too; a sender
 * whose certificate another CA signed is refused; the PEM paths are untrusted input (a directory, a
 * file too large, a file that is not PEM: one line each). Every receiver is killed after its test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { resolveScenario } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { liveWorkers } from '../src/threads.ts';
import { MAX_PEM_BYTES, readPem } from '../src/transport/tcp-tls.ts';
import { encodeHello } from '../src/transport/tcp-wire.ts';
import { RawClient, killReceivers, startReceiver } from './helpers/receive-child.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-tls-'));
const f = (name: string): string => join(dir, name);
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const haveOpenssl = openssl.status === 0;

function run(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, and certificates it signs (EC P-256, one day; the receiver's names 127.0.0.1). */
function makeCertificates(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) run(['req', '-x509', ...ec, '-keyout', `${ca}-key.pem`, '-out', `${ca}-cert.pem`, '-days', '1', '-subj', `/CN=migbench test ${ca}`]);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ca, ext] of [['server', 'ca', 'server.ext'], ['client', 'ca', 'client.ext'], ['stranger', 'other-ca', 'client.ext']]) {
    run(['req', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=migbench test ${name}`]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}-cert.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-out', `${name}-cert.pem`, '-days', '1', '-extfile', ext]);
  }
}

if (haveOpenssl) makeCertificates();
afterEach(() => killReceivers());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const receiverTls = ['--tls-cert', f('server-cert.pem'), '--tls-key', f('server-key.pem'), '--tls-ca', f('ca-cert.pem')];

function scenario(port: number, tls: { cert: string; key: string; ca: string } | null, channels = 1): ReturnType<typeof resolveScenario> {
  return resolveScenario({
    name: 'tcp-tls',
    guest: { memory: '4MiB', vcpus: 1, deviceState: '64KiB' },
    workload: { pattern: 'uniform', dirtyRate: '200/s', workingSet: '1MiB' },
    link: { bandwidth: '400Mbit/s', transport: 'tcp', target: `127.0.0.1:${port}`, tls },
    precopy: { timeoutMs: 60_000, channels },
  });
}

describe.skipIf(!haveOpenssl)('tcp over TLS (certificates made with openssl)', () => {
  it('migrates a guest over TLS on two channels, verified; the receiver checks the client certificates', async () => {
    const rx = await startReceiver(['--once', ...receiverTls]);
    expect(rx.stderr()).toContain('(TLS, client certificates checked)');
    const doc = await runScenario(scenario(rx.port, { cert: f('client-cert.pem'), key: f('client-key.pem'), ca: f('ca-cert.pem') }, 2), { methods: ['precopy'] });
    const p = doc.precopy!;
    expect([p.outcome, p.error]).toEqual(['converged', null]);
    expect(p.verified).toBe(true);
    expect(await rx.exited).toBe(0);
    expect(rx.stderr()).toContain('channel 1 of 2 from 127.0.0.1:');
    expect(rx.stderr()).toMatch(/verified: 4\.00 MiB equal to the source/);
    expect(liveWorkers().count).toBe(0);
  });

  it('refuses a plaintext client at its first byte, in plaintext (E_AUTH), nothing else read; it still listens', async () => {
    const rx = await startReceiver(['--once', ...receiverTls]);
    const client = await RawClient.connect(rx.port); // the preface, as a sender without link.tls opens
    client.write(encodeHello({ pageSizeBytes: 4096, memoryBytes: 1 << 20, deviceStateBytes: 0, zstd: false, scenarioHash: '00'.repeat(32) }, new Uint8Array(0), new Uint8Array(32)));
    await client.until(() => false, 30_000); // returns when the receiver closes it (a hang guard)
    expect(client.closed).toBe(true);
    expect(client.messages).toEqual([{ type: 'refused', code: 'E_AUTH', message: expect.stringMatching(/^this receiver takes TLS connections only: set link\.tls/) }]);
    expect(rx.stderr()).toMatch(/refused 127\.0\.0\.1:\d+: a plaintext client, and this receiver takes TLS connections only/);
    expect(rx.stderr()).not.toMatch(/migration from/);
    expect(rx.child.exitCode).toBeNull(); // not a migration: it still listens
    client.destroy();
  });

  it('a sender without link.tls at a TLS receiver is refused at once: E_AUTH naming link.tls (not a 30 s wait for a TLS handshake)', async () => {
    const rx = await startReceiver(['--once', ...receiverTls]);
    const error = await runScenario(scenario(rx.port, null), { methods: ['precopy'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_AUTH');
    expect((error as MigbenchError).message).toMatch(/^link\.target 127\.0\.0\.1:\d+: the receiver refused: this receiver takes TLS connections only: set link\.tls/);
    expect(rx.stderr()).toMatch(/a plaintext client, and this receiver takes TLS connections only/);
  });

  it('`migbench run` without link.tls at a TLS receiver: one E_AUTH line, exit 2', async () => {
    const rx = await startReceiver(['--once', ...receiverTls]);
    const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
    const r = spawnSync(process.execPath, [BIN, 'run', '--only', 'precopy', '--set', 'guest.memory=1MiB', '--set', 'guest.vcpus=1', '--set', 'link.transport=tcp', '--set', `link.target=127.0.0.1:${rx.port}`],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^error: link\.target 127\.0\.0\.1:\d+: the receiver refused: this receiver takes TLS connections only: set link\.tls/);
  });

  it('a sender with link.tls at a plaintext receiver: the receiver names the TLS client, the sender fails its handshake (E_IO, TLS)', async () => {
    const rx = await startReceiver(['--once']);
    const error = await runScenario(scenario(rx.port, { cert: f('client-cert.pem'), key: f('client-key.pem'), ca: f('ca-cert.pem') }), { methods: ['precopy'] }).catch((e: unknown) => e);
    expect((error as MigbenchError).code).toBe('E_IO');
    expect((error as MigbenchError).message).toMatch(/^link\.target 127\.0\.0\.1:\d+: TLS: /);
    expect(await rx.exited).toBe(3);
    expect(rx.stderr()).toMatch(/refused 127\.0\.0\.1:\d+: tcp stream refused: a TLS client \(the sender has link\.tls\), and this receiver is plaintext/);
  });

  it('refuses a sender whose certificate another CA signed (E_IO on the sender, nothing allocated)', async () => {
    const rx = await startReceiver(['--once', ...receiverTls]);
    const error = await runScenario(scenario(rx.port, { cert: f('stranger-cert.pem'), key: f('stranger-key.pem'), ca: f('ca-cert.pem') }), { methods: ['precopy'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_IO');
    expect((error as MigbenchError).message).toMatch(/^link\.target 127\.0\.0\.1:\d+: /);
    expect(rx.stderr()).toMatch(/the TLS handshake failed/);
    expect(rx.stderr()).not.toMatch(/migration from/);
  });

  it('a sender checks the receiver against its CA: another CA is refused (TLS, E_IO)', async () => {
    const rx = await startReceiver(['--once', ...receiverTls]);
    const error = await runScenario(scenario(rx.port, { cert: f('client-cert.pem'), key: f('client-key.pem'), ca: f('other-ca-cert.pem') }), { methods: ['precopy'] }).catch((e: unknown) => e);
    expect((error as MigbenchError).code).toBe('E_IO');
    expect((error as MigbenchError).message).toMatch(/^link\.target 127\.0\.0\.1:\d+: TLS: .*certificate/);
  });
});

describe('TLS files are untrusted input', () => {
  it('refuses a directory, a file too large, a file that is not PEM, a missing file: one line naming the key', () => {
    writeFileSync(f('big.pem'), Buffer.alloc(MAX_PEM_BYTES + 1, 0x41));
    writeFileSync(f('not.pem'), 'just some text\n');
    const cases: [string, RegExp][] = [
      [dir, /^link\.tls\.cert: cannot use ".*" \(it is a directory\)$/],
      [f('big.pem'), new RegExp(`^link\\.tls\\.cert: cannot use ".*" \\(${MAX_PEM_BYTES + 1} bytes, a PEM file here is at most ${MAX_PEM_BYTES}\\)$`)],
      [f('not.pem'), /^link\.tls\.cert: cannot use ".*" \(not a PEM file: no "-----BEGIN" line\)$/],
      [f('missing.pem'), /^link\.tls\.cert: cannot use ".*" \(file not found\)$/],
    ];
    for (const [path, message] of cases) {
      let e: unknown = null;
      try {
        readPem(path, 'link.tls.cert', 'E_SCENARIO');
      } catch (error) {
        e = error;
      }
      expect((e as MigbenchError).code).toBe('E_SCENARIO');
      expect((e as MigbenchError).message).toMatch(message);
    }
  });

  it('the command lines refuse them in one line, exit 2, before anything is allocated or listened on', () => {
    const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    const runTls = cli(['run', '--only', 'precopy', '--set', 'guest.memory=1MiB', '--set', 'link.transport=tcp', '--set', 'link.target=127.0.0.1:1',
      '--set', `link.tls.cert=${dir}`, '--set', `link.tls.key=${dir}`, '--set', `link.tls.ca=${dir}`]);
    expect(runTls.status).toBe(2);
    expect(runTls.stderr.trim().split('\n').at(-1)).toMatch(/^error: link\.tls\.cert: cannot use ".*" \(it is a directory\)$/);
    const half = cli(['receive', '--listen', '127.0.0.1:0', '--tls-cert', f('not.pem')]);
    expect(half.status).toBe(2);
    expect(half.stderr.trim().split('\n').at(-1)).toBe('error: --tls-key: TLS needs --tls-cert, --tls-key and --tls-ca together, got --tls-key and --tls-ca missing');
  });
});
