/**
 * The receiver in this process (tcp-receiver.ts): one migration at a time (a second connection meanwhile
 * is refused, the first goes on), a connection that never says hello is dropped, and a migration that
 * ends lets the next one in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Receiver, type ReceivedMigration } from '../src/transport/tcp-receiver.ts';
import { encodeChannelHello, encodeHello } from '../src/transport/tcp-wire.ts';
import { RawClient } from './helpers/receive-child.ts';
import { until } from './helpers/until.ts';
import { buildTcpStream, concat } from './helpers/tcp-stream.ts';

let receiver: Receiver | null = null;
afterEach(async () => {
  await receiver?.close();
  receiver = null;
});

async function start(helloTimeoutMs = 30_000, idleTimeoutMs?: number): Promise<{ port: number; lines: string[]; ended: ReceivedMigration[] }> {
  const lines: string[] = [];
  const ended: ReceivedMigration[] = [];
  receiver = await Receiver.listen({ host: '127.0.0.1', port: 0, token: new Uint8Array(0), log: (l) => lines.push(l), room: () => ({ bytes: 1 << 30, why: 'test' }), helloTimeoutMs, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) });
  receiver.onMigration((m) => ended.push(m));
  return { port: receiver.address.port, lines, ended };
}

const hello = (nonce: Uint8Array, channels = 1): Uint8Array =>
  encodeHello({ pageSizeBytes: 4096, memoryBytes: 1 << 20, deviceStateBytes: 0, zstd: false, scenarioHash: '11'.repeat(32), channels }, new Uint8Array(0), nonce);
const channelHello = (nonce: Uint8Array, channel: number, channels: number, migrationId: string): Uint8Array =>
  encodeChannelHello({ channel, channels, migrationId }, new Uint8Array(0), nonce);

/** Connect, say `bytes(nonce)`, and wait for the receiver's first answer to it. */
async function answer(port: number, bytes: (nonce: Buffer) => Uint8Array): Promise<{ client: RawClient; reply: { type: string; [k: string]: unknown } }> {
  const client = await RawClient.connect(port);
  client.write(bytes(await client.challenge()));
  await client.until(() => client.messages.length > 1);
  return { client, reply: client.messages[1] };
}

describe('receive: one migration at a time', () => {
  it('refuses a second connection while one migrates; the first is not disturbed; then the next gets in', async () => {
    const r = await start();
    const first = await RawClient.connect(r.port);
    first.write(hello(await first.challenge()));
    await first.until(() => first.messages.some((m) => m.type === 'accept'));
    const second = await RawClient.connect(r.port);
    await second.until(() => second.messages.length > 0);
    expect(second.messages[0]).toMatchObject({ type: 'refused', code: 'E_IO' });
    expect(String(second.messages[0].message)).toContain('busy with another migration');
    await second.until(() => false, 30_000); // returns when the receiver closes it (30 s: a hang guard)
    expect(second.closed).toBe(true);
    expect(first.closed).toBe(false);
    first.destroy();
    await until('the receiver ends the first migration', () => r.ended.length > 0, 30_000);
    expect(r.ended[0]).toMatchObject({ ok: false, code: 'E_IO' });
    const third = await RawClient.connect(r.port);
    expect((await third.challenge()).length).toBe(32);
    third.destroy();
  });

  it('drops a connection that sends no hello in time', async () => {
    const r = await start(300);
    const client = await RawClient.connect(r.port);
    await client.challenge();
    await client.until(() => client.messages.some((m) => m.type === 'refused'), 10_000);
    expect(client.messages.at(-1)).toMatchObject({ type: 'refused', code: 'E_IO', message: 'no hello in time' });
    await until('the receiver reports the dropped connection', () => r.ended.length > 0, 30_000);
    expect(r.ended[0]?.summary).toMatch(/^refused 127\.0\.0\.1:\d+: no hello in time$/);
    client.destroy();
  });
});

describe('receive: channel connections (precopy.channels > 1)', () => {
  it('refuses a channel of a migration it does not know, a taken number, a number ≥ the count; the migration goes on', async () => {
    const r = await start();
    const { client: main, reply: accept } = await answer(r.port, (n) => hello(n, 2));
    expect(accept).toMatchObject({ type: 'accept' });
    const id = accept.migration as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const stranger = await answer(r.port, (n) => channelHello(n, 0, 2, 'ee'.repeat(16)));
    expect(stranger.reply).toMatchObject({ type: 'refused', code: 'E_AUTH', message: 'tcp stream refused: a channel of a migration this receiver does not know' });
    const first = await answer(r.port, (n) => channelHello(n, 0, 2, id));
    expect(first.reply).toEqual({ type: 'accept', channel: 0 });
    const again = await answer(r.port, (n) => channelHello(n, 0, 2, id));
    expect(again.reply).toMatchObject({ type: 'refused', code: 'E_STREAM_CORRUPT', message: 'tcp stream refused: channel 0 is already connected' });
    const beyond = await answer(r.port, (n) => channelHello(n, 2, 2, id));
    expect(beyond.reply).toMatchObject({ type: 'refused', code: 'E_STREAM_CORRUPT', message: 'tcp stream refused: channel 2 of 2' });
    const miscounted = await answer(r.port, (n) => channelHello(n, 1, 3, id));
    expect(miscounted.reply).toMatchObject({ type: 'refused', code: 'E_STREAM_CORRUPT', message: 'tcp stream refused: a channel hello of 3 channels, the migration has 2' });
    // a second migration's hello on a connection meant for a channel is the busy refusal
    const intruder = await answer(r.port, (n) => hello(n, 1));
    expect(intruder.reply).toMatchObject({ type: 'refused', code: 'E_IO', message: 'busy with another migration (receive takes one at a time)' });
    expect(r.ended).toEqual([]); // none of them touched the migration
    expect(main.closed).toBe(false);
    expect(first.client.closed).toBe(false);
    const last = await answer(r.port, (n) => channelHello(n, 1, 2, id));
    expect(last.reply).toEqual({ type: 'accept', channel: 1 });
    // every channel is in: a further connection is refused at once
    const late = await RawClient.connect(r.port);
    await late.until(() => late.messages.length > 0);
    expect(late.messages[0]).toMatchObject({ type: 'refused', code: 'E_IO' });
    // a channel that joined and breaks ends the migration: its pages are lost
    first.client.destroy();
    await until('the receiver ends the migration', () => r.ended.length > 0, 30_000);
    expect(r.ended[0]).toMatchObject({ ok: false, code: 'E_IO' });
    expect(r.ended[0].summary).toMatch(/^127\.0\.0\.1:\d+ went away mid-migration \(channel 0 closed, 0 pages applied\); the guest was dropped$/);
    await main.until(() => false, 30_000); // returns when the receiver closes it (a hang guard)
    expect(main.closed).toBe(true);
    for (const c of [main, stranger.client, again.client, beyond.client, miscounted.client, intruder.client, last.client, late]) c.destroy();
  });

  it('refuses a channel before its migration\'s hello', async () => {
    const r = await start();
    const { client, reply } = await answer(r.port, (n) => channelHello(n, 0, 2, 'ab'.repeat(16)));
    expect(reply).toMatchObject({ type: 'refused', code: 'E_STREAM_CORRUPT' });
    expect(String(reply.message)).toContain('a channel hello before its migration\'s hello');
    client.destroy();
    await until('the receiver reports it', () => r.ended.length > 0, 30_000);
  });
});

describe('receive: its wait for the sender\'s verdict is bounded', () => {
  it('a sender silent after the hashes is dropped after the grace plus its own hashing (not the 600 s of a silent migration)', async () => {
    const r = await start(300, 600_000);
    const client = await RawClient.connect(r.port);
    const stream = await buildTcpStream({ pageSizeBytes: 4096, pages: 64, deviceBytes: 100, token: new Uint8Array(0), nonce: await client.challenge() });
    client.write(concat([stream.hello, ...stream.frames]));
    await client.until(() => client.messages.some((m) => m.type === 'hashes'));
    // then nothing: no request, no verdict
    await client.until(() => client.messages.some((m) => m.type === 'refused'), 30_000);
    expect(client.messages.at(-1)).toMatchObject({ type: 'refused', code: 'E_IO', message: expect.stringMatching(/^the sender sent nothing for \d+\.\d s after the hashes \(waiting for its verdict\)$/) });
    await until('the receiver ends the migration', () => r.ended.length > 0, 30_000);
    expect(r.ended[0]).toMatchObject({ ok: false, verified: null, code: 'E_IO' });
    client.destroy();
  });
});
