/**
 * Migration over a real socket (issue 16 items 1, 3, 4, 5, 6): `migbench receive` runs as a child
 * process on a free loopback port; the sender is this process's engine (link.transport "tcp"). A small
 * guest migrates and is verified by hashes on both sides, on one connection or one per channel; garbage
 * bytes, a wrong token, another wire version and a lying frame length are each refused; a receiver
 * killed mid-migration leaves the sender `failed` (link-down) with its guest running on the source; a
 * sender killed mid-migration leaves the receiver dropping the guest and taking the next migration. No
 * receiver or sender outlives its test (afterEach kills what is left; every wait has a time limit).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { createSourceGuest, migratePrecopy, runScenario } from '../src/run.ts';
import { until } from './helpers/until.ts';
import { liveWorkers } from '../src/threads.ts';
import { openReservations, reservedBytes } from '../src/memory/ledger.ts';
import { checkResources, destinationMemoryBytes, runMemoryBytes } from '../src/resources.ts';
import { TCP_RING_BYTES } from '../src/transport/tcp-destination.ts';
import { HEADER_BYTES, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_TYPE, H_VERSION, FRAME_PAGES, FRAME_VERSION } from '../src/transport/frame.ts';
import { encodeHello } from '../src/transport/tcp-wire.ts';
import { RawClient, killReceivers, startReceiver } from './helpers/receive-child.ts';
import { buildTcpStream, concat } from './helpers/tcp-stream.ts';
import { encodeMessage } from '../src/transport/tcp-wire.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-tcp-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'correct horse battery staple\n');
const wrongTokenFile = join(dir, 'wrong');
writeFileSync(wrongTokenFile, 'another secret\n');

afterEach(() => killReceivers());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(port: number, extra: ScenarioInput['link'] = {}, guest: ScenarioInput['guest'] = {}, precopy: ScenarioInput['precopy'] = {}): ReturnType<typeof resolveScenario> {
  return resolveScenario({
    name: 'tcp-small',
    guest: { memory: '4MiB', vcpus: 1, deviceState: '64KiB', ...guest },
    workload: { pattern: 'uniform', dirtyRate: '200/s', workingSet: '1MiB' },
    link: { bandwidth: '400Mbit/s', transport: 'tcp', target: `127.0.0.1:${port}`, ...extra },
    precopy: { timeoutMs: 60_000, ...precopy },
  });
}

const EMPTY = new Uint8Array(0);
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const HASH = '00'.repeat(32);

describe('tcp loopback: migrate to `migbench receive`', () => {
  it('migrates a small guest, verified on both sides; the receiver exits 0 with --once', async () => {
    const rx = await startReceiver(['--once', '--token-file', tokenFile]);
    const doc = await runScenario(scenario(rx.port, { tokenFile }), { methods: ['precopy'] });
    const p = doc.precopy!;
    expect(p.outcome).toBe('converged');
    expect(p.verified).toBe(true);
    expect(p.verification).toEqual({ badPages: 0, firstBadPage: null, deviceStateEqual: true });
    expect(p.stats.ram.transferred).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(await rx.exited).toBe(0);
    expect(rx.stderr()).toMatch(/verified: 4\.00 MiB equal to the source/);
    expect(liveWorkers().count).toBe(0);
  });

  it.each([
    [2, '8MiB', {}],
    [4, '16MiB', {}],
    [4, '8MiB', { xbzrle: { enabled: true, cacheSize: '2MiB' } }],
  ] as const)('precopy.channels %i over tcp: one connection per channel, a %s guest migrates verified (%j)', async (channels, memory, more) => {
    const rx = await startReceiver(['--once', '--token-file', tokenFile]);
    // a hot writer keeps rounds going, so pages cross the channels after several syncs
    const s = resolveScenario({
      name: 'tcp-channels',
      guest: { memory, vcpus: 1, deviceState: '64KiB' },
      workload: { pattern: 'hotset', dirtyRate: '3000/s', workingSet: '1MiB', hotFraction: 0.9 },
      link: { bandwidth: '400Mbit/s', transport: 'tcp', target: `127.0.0.1:${rx.port}`, tokenFile },
      precopy: { timeoutMs: 60_000, channels, ...more },
    });
    const doc = await runScenario(s, { methods: ['precopy'] });
    const p = doc.precopy!;
    expect([p.outcome, p.error]).toEqual(['converged', null]);
    expect(p.verified).toBe(true);
    expect(p.verification).toEqual({ badPages: 0, firstBadPage: null, deviceStateEqual: true });
    const lanes = p.channels!;
    expect(lanes.count).toBe(channels);
    expect(lanes.lanes).toHaveLength(channels);
    // every lane carried pages, and every dirty sync was preceded by a flush across the sockets
    for (const lane of lanes.lanes) expect(lane.pages).toBeGreaterThan(0);
    expect(lanes.flushes).toBeGreaterThanOrEqual(p.stats.ram['dirty-sync-count']);
    expect(await rx.exited).toBe(0);
    const err = rx.stderr();
    for (let c = 0; c < channels; c++) expect(err).toContain(`channel ${c} of ${channels} from 127.0.0.1:`);
    expect(err).toMatch(new RegExp(`on ${channels} channels\\); hashing the guest`));
    expect(err).toMatch(/verified: .* equal to the source/);
    expect(liveWorkers().count).toBe(0);
  });

  it('allocates no destination memory on the sender: the ledger holds the source side only', async () => {
    const rx = await startReceiver(['--once']);
    const s = scenario(rx.port, {}, { memory: '16MiB' }, { channels: 2 });
    const seen: { what: string; bytes: number }[][] = [];
    const phases: string[] = [];
    const doc = await runScenario(s, {
      methods: ['precopy'],
      onPhase: (m) => phases.push(m),
      onLive: () => {
        if (seen.length < 3) seen.push(openReservations().map((r) => ({ what: r.what, bytes: r.bytes })));
      },
    });
    expect(doc.precopy!.verified).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    for (const held of seen) {
      // one reservation, the source's: guest, device state, logs and 3 rings of TCP_RING_BYTES; no destination
      expect(held).toEqual([{ what: 'guest tcp-small: source', bytes: runMemoryBytes(s, 'precopy') }]);
      expect(destinationMemoryBytes(s, 'precopy')).toBe(0);
      expect(held[0].bytes).toBe(16 * MiB + 64 * 1024 + 2 * (16 * MiB / 4096 / 8) + 3 * TCP_RING_BYTES);
    }
    expect(phases[0]).toBe(`allocating and filling 16.0 MiB of guest memory (the source; the destination is at 127.0.0.1:${rx.port})`);
    expect(reservedBytes()).toBe(0);
    expect(await rx.exited).toBe(0);
  });

  it('a guest that fits once but not twice passes the resource check over tcp (pre-copy only), not with quick migration too', () => {
    const s = scenario(1, {}, { memory: '1GiB' });
    const machine = { totalMemBytes: 4 * GiB, freeMemBytes: 2 * GiB, heldBytes: 0 };
    expect(() => checkResources(s, machine, ['precopy'])).not.toThrow();
    expect(() => checkResources(s, machine)).toThrow(/^guest\.memory: 1\.00 GiB needs 2\.\d+ GiB \(source \+ destination, logs/);
    const small = { ...machine, freeMemBytes: GiB };
    expect(() => checkResources(s, small, ['precopy'])).toThrow(/needs 1\.\d+ GiB \(the source \(the destination is `migbench receive`\), logs/);
  });

  it('a wrong token is refused (E_AUTH) before anything is allocated; the receiver exits 3', async () => {
    const rx = await startReceiver(['--once', '--token-file', tokenFile]);
    const error = await runScenario(scenario(rx.port, { tokenFile: wrongTokenFile }), { methods: ['precopy'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_AUTH');
    expect((error as MigbenchError).message).toMatch(/^link\.target 127\.0\.0\.1:\d+: the receiver refused: .*token/);
    expect(await rx.exited).toBe(3);
    expect(rx.stderr()).not.toMatch(/migration from .*guest/); // refused before the guest was allocated
    expect(liveWorkers().count).toBe(0);
  });

  it('no receiver at link.target: the sender says so (E_IO)', async () => {
    const rx = await startReceiver(['--once']);
    rx.kill();
    await rx.exited;
    const error = await runScenario(scenario(rx.port), { methods: ['precopy'] }).catch((e: unknown) => e);
    expect((error as MigbenchError).code).toBe('E_IO');
    expect((error as MigbenchError).message).toContain('connection refused (is `migbench receive` listening there?)');
  });

  it.each([1, 2])('the receiver killed mid-migration (%i channel(s)): the sender ends `failed` (link-down), the guest runs on on the source', async (channels) => {
    const rx = await startReceiver([]);
    // 16 MiB at 40 Mbit/s: the bulk round alone takes over 3 s; the receiver dies once pages flow
    let killed = false;
    const onLive = (p: { totalPagesSent: number }): void => {
      if (!killed && p.totalPagesSent > 0) {
        killed = true;
        rx.kill('SIGKILL');
      }
    };
    const guest = await createSourceGuest(scenario(rx.port, { bandwidth: '40Mbit/s' }, { memory: '16MiB' }, { channels }));
    try {
      const p = await migratePrecopy(guest, { onLive });
      expect(killed).toBe(true);
      expect(p.outcome).toBe('failed');
      expect(p.reason).toBe('link-down');
      expect(p.guestLost).toBe(false);
      expect(p.stats.status).toBe('failed');
      expect(p.verified).toBeNull();
      // which socket noticed first, and how (closed, reset, a write after the end), is the kernel's choice
      expect(p.error).toMatch(/^(channel \d+ )?link\.target 127\.0\.0\.1:\d+: ./);
      expect(p.stats.ram.transferred).toBeGreaterThan(0); // what crossed before the loss is counted
      // the guest was not handed over: its vCPUs run and write on the source
      expect(guest.vcpus.isAnyPaused()).toBe(false);
      const writes = guest.vcpus.totalWrites();
      await until('the guest writes on the source', () => guest.vcpus.totalWrites() > writes, 30_000);
    } finally {
      await guest.dispose();
    }
    expect(await rx.exited).toBe(137);
    expect(liveWorkers().count).toBe(0);
  });

  it('the sender killed mid-migration: the receiver drops the guest and takes the next migration (no --once)', async () => {
    const rx = await startReceiver([]);
    // a whole `migbench run` process, 2 channels, killed once its frames flow
    const sender = spawn(process.execPath, [BIN, 'run', '--only', 'precopy', '--set', 'link.transport=tcp', '--set', `link.target=127.0.0.1:${rx.port}`,
      '--set', 'guest.memory=16MiB', '--set', 'link.bandwidth=40Mbit/s', '--set', 'precopy.channels=2', '--set', 'guest.vcpus=1'], { stdio: 'ignore' });
    const senderExited = new Promise<number | null>((resolve) => sender.once('exit', (code, signal) => resolve(signal === 'SIGKILL' ? 137 : code)));
    try {
      await until('the sender\'s channels are connected', () => /channel 1 of 2 from/.test(rx.stderr()), 30_000);
      await new Promise((r) => setTimeout(r, 300));
      sender.kill('SIGKILL');
      expect(await senderExited).toBe(137);
      await until('the receiver drops the guest', () => /the guest was dropped/.test(rx.stderr()), 30_000);
      // whichever of its three connections the receiver finds closed first ends the migration, once
      expect(rx.stderr()).toMatch(/went away mid-migration \((channel \d closed, )?\d+ pages applied\); the guest was dropped/);
      expect(rx.stderr().match(/the guest was dropped/g)).toHaveLength(1); // one migration ended, once
      // the receiver is still there and takes the next migration
      const doc = await runScenario(scenario(rx.port), { methods: ['precopy'] });
      expect(doc.precopy!.outcome).toBe('converged');
      expect(doc.precopy!.verified).toBe(true);
      await until('the receiver reports it', () => /verified: 4\.00 MiB equal to the source/.test(rx.stderr()), 30_000);
      expect(rx.child.exitCode).toBeNull();
    } finally {
      sender.kill('SIGKILL');
    }
  });
});

describe('tcp loopback: `migbench receive` refuses what it must not trust', () => {
  async function refusal(bytes: (nonce: Buffer) => Uint8Array, args: string[] = []): Promise<{ message: { type: string; [k: string]: unknown }; stderr: string; code: number }> {
    const rx = await startReceiver(['--once', ...args]);
    const client = await RawClient.connect(rx.port);
    const nonce = await client.challenge();
    client.write(bytes(nonce));
    await client.until(() => client.messages.some((m) => m.type === 'refused'));
    const message = client.messages.find((m) => m.type === 'refused')!;
    await client.until(() => false, 30_000); // returns when the receiver closes the connection (30 s: a hang guard)
    expect(client.closed).toBe(true);
    client.destroy();
    return { message, stderr: rx.stderr(), code: await rx.exited };
  }

  const hello = (nonce: Uint8Array, token = EMPTY): Uint8Array =>
    encodeHello({ pageSizeBytes: 4096, memoryBytes: 1 << 20, deviceStateBytes: 4096, zstd: false, scenarioHash: HASH }, token, nonce);

  it('garbage bytes', async () => {
    const r = await refusal(() => new TextEncoder().encode('SSH-2.0-OpenSSH_9.6\r\n and some more bytes'));
    expect(r.message).toMatchObject({ code: 'E_STREAM_CORRUPT' });
    expect(String(r.message.message)).toContain('no MIGBTCP magic');
    expect(r.code).toBe(3);
  });

  it('a wrong token (the hello signed with another secret)', async () => {
    const r = await refusal((nonce) => hello(nonce, new TextEncoder().encode('guess')), ['--token-file', tokenFile]);
    expect(r.message).toMatchObject({ code: 'E_AUTH' });
    expect(r.stderr).not.toMatch(/migration from .*guest/);
  });

  it('another wire version', async () => {
    const r = await refusal((nonce) => {
      const h = hello(nonce);
      new DataView(h.buffer).setUint32(8, 1, true); // the wire before channel connections
      return h;
    });
    expect(r.message).toMatchObject({ code: 'E_STREAM_CORRUPT' });
    expect(String(r.message.message)).toContain('wire version 1, this migbench speaks 3');
  });

  it('a frame whose length lies (larger than any frame this guest can have)', async () => {
    const r = await refusal((nonce) => {
      const frame = new Uint8Array(HEADER_BYTES);
      const v = new DataView(frame.buffer);
      v.setInt32(4 * H_TYPE, FRAME_PAGES, true);
      v.setInt32(4 * H_VERSION, FRAME_VERSION, true);
      v.setInt32(4 * H_FRAME_BYTES, 1 << 30, true);
      v.setInt32(4 * H_PAYLOAD_BYTES, (1 << 30) - HEADER_BYTES, true);
      const out = new Uint8Array(hello(nonce).length + frame.length);
      out.set(hello(nonce));
      out.set(frame, out.length - frame.length);
      return out;
    });
    expect(r.message).toMatchObject({ code: 'E_STREAM_CORRUPT' });
    expect(String(r.message.message)).toContain('frame length 1073741824');
    expect(r.stderr).toMatch(/migration from .*guest 1\.00 MiB/); // it had accepted the hello
  });

  it('a guest larger than the machine can give is refused (E_RESOURCES) without allocating it', async () => {
    const r = await refusal((nonce) => encodeHello({ pageSizeBytes: 4096, memoryBytes: 2 ** 40, deviceStateBytes: 0, zstd: false, scenarioHash: HASH }, EMPTY, nonce));
    expect(r.message).toMatchObject({ code: 'E_RESOURCES' });
    expect(String(r.message.message)).toMatch(/^a guest of 1\.00 TiB needs/);
  });

  it('after END it answers hashes and range requests; a verdict of a mismatch makes it exit 3', async () => {
    const rx = await startReceiver(['--once']);
    const client = await RawClient.connect(rx.port);
    const stream = await buildTcpStream({ pageSizeBytes: 4096, pages: 300, deviceBytes: 2000, token: EMPTY, nonce: await client.challenge() });
    client.write(concat([stream.hello, ...stream.frames]));
    await client.until(() => client.messages.some((m) => m.type === 'hashes'));
    expect(client.messages.map((m) => m.type)).toEqual(['challenge', 'accept', 'resumed', 'hashes']);
    client.write(encodeMessage({ type: 'ranges', block: 0 }));
    await client.until(() => client.messages.some((m) => m.type === 'ranges'));
    expect((client.messages.at(-1)!.hashes as string[]).length).toBe(1);
    client.write(encodeMessage({ type: 'verdict', equal: false, badPages: 1, firstBadPage: 7, deviceStateEqual: true }));
    expect(await rx.exited).toBe(3);
    expect(rx.stderr()).toMatch(/FAILED verification: 1 bad pages, the first is page 7/);
    client.destroy();
  });

  it('a sender that vanishes mid-migration: the receiver drops the guest and exits 3', async () => {
    const rx = await startReceiver(['--once']);
    const client = await RawClient.connect(rx.port);
    client.write(hello(await client.challenge()));
    await client.until(() => client.messages.some((m) => m.type === 'accept'));
    client.destroy();
    expect(await rx.exited).toBe(3);
    expect(rx.stderr()).toMatch(/went away mid-migration \(0 pages applied\); the guest was dropped/);
  });
});

describe('tcp command lines', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });

  it.each([
    [['run', '--set', 'link.transport=tcp'], /^error: link\.target: is required with link\.transport "tcp"/],
    [['run', '--set', 'link.transport=tcp', '--set', 'link.target=127.0.0.1:1', '--set', 'link.tokenFile=/nonexistent/token', '--only', 'precopy', '--set', 'guest.memory=1MiB'], /^error: link\.tokenFile: cannot read the token file "\/nonexistent\/token" \(file not found\)$/],
    [['receive', '--listen', 'localhost'], /^error: --listen: expected HOST:PORT/],
    [['receive', '--token-file', '/nonexistent/token'], /^error: --token-file: cannot read the token file/],
  ])('%j is refused in one line, exit 2', (args, line) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(line);
  });
});
