/**
 * A real TCP migration stream for tests: the hello a sender would send for a small guest, and the frames
 * the real PageSender writes for it (every page, a few XBZRLE deltas, the device state, END), captured
 * from its ring (big enough that no WRAP frame appears).
 */
import { PageCache } from '../../src/codec/page-cache.ts';
import { GuestMemory, guestLayout } from '../../src/memory/guest-memory.ts';
import { maxRunPages } from '../../src/transport/frame.ts';
import { encodeHello } from '../../src/transport/tcp-wire.ts';
import { Rng } from '../../src/workload/rng.ts';
import { framesIn, ringSender } from './ring-sender.ts';

export interface TcpStream {
  hello: Uint8Array;
  frames: Uint8Array[];
  source: GuestMemory;
  device: Uint8Array;
}

export const TEST_HASH = 'ab'.repeat(32);

export async function buildTcpStream(options: { pageSizeBytes: number; pages: number; deviceBytes: number; token: Uint8Array; nonce: Uint8Array; seed?: number }): Promise<TcpStream> {
  const ps = options.pageSizeBytes;
  const source = new GuestMemory(guestLayout(options.pages * ps, ps));
  const rng = new Rng(options.seed ?? 7);
  for (let p = 0; p < options.pages; p++) {
    const k = rng.nextInt(3);
    if (k === 0) source.page(p).fill(0);
    else rng.fill(source.page(p));
  }
  const device = new Uint8Array(options.deviceBytes);
  rng.fill(device);
  const { sender, views } = ringSender(source, 1 << 23);
  const run = maxRunPages(ps);
  for (let p = 0; p < options.pages; p += run) await sender.sendRun(p, Math.min(run, options.pages - p));
  const cache = new PageCache(64 * ps, ps, { inPlace: false });
  for (const p of [1, Math.min(3, options.pages - 1)]) {
    await sender.sendPageXbzrle(p, cache, false);
    source.page(p)[5] ^= 0x5a;
    await sender.sendPageXbzrle(p, cache, false);
  }
  await sender.sendDeviceState(device);
  await sender.sendEnd();
  const frames = framesIn(views);
  const hello = encodeHello({ pageSizeBytes: ps, memoryBytes: options.pages * ps, deviceStateBytes: options.deviceBytes, zstd: false, scenarioHash: TEST_HASH }, options.token, options.nonce);
  return { hello, frames, source, device };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
