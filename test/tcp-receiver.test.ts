/**
 * The receiver in this process (tcp-receiver.ts): one migration at a time (a second connection meanwhile
 * is refused, the first goes on), a connection that never says hello is dropped, and a migration that
 * ends lets the next one in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Receiver, type ReceivedMigration } from '../src/transport/tcp-receiver.ts';
import { encodeHello } from '../src/transport/tcp-wire.ts';
import { RawClient } from './helpers/receive-child.ts';
import { until } from './helpers/until.ts';

let receiver: Receiver | null = null;
afterEach(async () => {
  await receiver?.close();
  receiver = null;
});

async function start(helloTimeoutMs = 30_000): Promise<{ port: number; lines: string[]; ended: ReceivedMigration[] }> {
  const lines: string[] = [];
  const ended: ReceivedMigration[] = [];
  receiver = await Receiver.listen({ host: '127.0.0.1', port: 0, token: new Uint8Array(0), log: (l) => lines.push(l), room: () => ({ bytes: 1 << 30, why: 'test' }), helloTimeoutMs });
  receiver.onMigration((m) => ended.push(m));
  return { port: receiver.address.port, lines, ended };
}

const hello = (nonce: Uint8Array): Uint8Array =>
  encodeHello({ pageSizeBytes: 4096, memoryBytes: 1 << 20, deviceStateBytes: 0, zstd: false, scenarioHash: '11'.repeat(32) }, new Uint8Array(0), nonce);

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
