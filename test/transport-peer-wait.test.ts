/**
 * How long the sender waits on `migbench receive` (peer-wait.ts): the grace, plus the bytes in flight at
 * the link's rate, plus the receiver's work at floor rates. A table of pure decisions.
 */
import { describe, expect, it } from 'vitest';
import {
  RECEIVER_HASH_FLOOR_BYTES_PER_SEC, RECEIVER_TOUCH_FLOOR_BYTES_PER_SEC, SOCKET_BUFFERS_BYTES, formatWaitMs, inFlightBytes, peerWaitMs,
} from '../src/transport/peer-wait.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('peerWaitMs', () => {
  it.each([
    ['nothing in flight, no work: the grace', { graceMs: 30_000, unconfirmedBytes: 0, bufferedBytes: 0, linkBytesPerSec: 125e6 }, 30_000],
    ['8 MB unconfirmed at 1 Gbit/s: 64 ms more', { graceMs: 30_000, unconfirmedBytes: 8e6, bufferedBytes: 8e6, linkBytesPerSec: 125e6 }, 30_064],
    // a whole GiB sent unconfirmed, 2 MiB still here: at most the buffers are in flight
    ['1 GiB unconfirmed, 2 MiB buffered: the socket buffers bound it', { graceMs: 1000, unconfirmedBytes: GiB, bufferedBytes: 2 * MiB, linkBytesPerSec: 10 * MiB }, 1000 + ((2 * MiB + SOCKET_BUFFERS_BYTES) / (10 * MiB)) * 1000],
    ['an unknown or unlimited rate adds nothing', { graceMs: 500, unconfirmedBytes: GiB, bufferedBytes: 0, linkBytesPerSec: Infinity }, 500],
    ['allocating 1 GiB before the accept', { graceMs: 30_000, unconfirmedBytes: 0, bufferedBytes: 0, linkBytesPerSec: 0, touchBytes: GiB }, 30_000 + (GiB / RECEIVER_TOUCH_FLOOR_BYTES_PER_SEC) * 1000],
    ['hashing 1 TiB before the hashes', { graceMs: 30_000, unconfirmedBytes: 0, bufferedBytes: 0, linkBytesPerSec: 0, hashBytes: 1024 * GiB }, 30_000 + ((1024 * GiB) / RECEIVER_HASH_FLOOR_BYTES_PER_SEC) * 1000],
  ])('%s', (_, input, ms) => {
    expect(peerWaitMs(input)).toBe(Math.ceil(ms));
  });

  it('grows with the guest and the bytes in flight, shrinks with the rate', () => {
    const base = { graceMs: 1000, unconfirmedBytes: 64 * MiB, bufferedBytes: 0, linkBytesPerSec: 10 * MiB };
    expect(peerWaitMs({ ...base, linkBytesPerSec: 20 * MiB })).toBeLessThan(peerWaitMs(base));
    expect(peerWaitMs({ ...base, hashBytes: 2 * GiB })).toBeGreaterThan(peerWaitMs({ ...base, hashBytes: GiB }));
    expect(inFlightBytes(5, 0)).toBe(5);
    expect(inFlightBytes(10 * GiB, MiB)).toBe(MiB + SOCKET_BUFFERS_BYTES);
  });

  it('formats a wait', () => {
    expect(formatWaitMs(1234)).toBe('1.2 s');
    expect(formatWaitMs(30_064)).toBe('30 s');
  });
});
