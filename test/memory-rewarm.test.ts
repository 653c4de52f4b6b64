import { describe, expect, it } from 'vitest';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { Rng } from '../src/workload/rng.ts';

describe('GuestMemory.rewarm (faulting memory in again right before a clock)', () => {
  it.each([true, false])('write %s: every byte of every block is kept (touch would zero one byte per 4 KiB)', (write) => {
    const memory = new GuestMemory(guestLayout(3 * 64 * 1024, 4096));
    const rng = new Rng(21);
    for (const v of memory.views) rng.fill(v);
    const before = memory.views.map((v) => Uint8Array.from(v));
    const sink = memory.rewarm(write);
    expect(Number.isInteger(sink)).toBe(true);
    memory.views.forEach((v, b) => expect(Buffer.compare(v, before[b])).toBe(0));
  });

  it('the reads cover the first byte of every 4 KiB of every block (their XOR)', () => {
    const memory = new GuestMemory(guestLayout(8 * 4096, 4096));
    let expected = 0;
    for (let p = 0; p < 8; p++) {
      memory.views[0][p * 4096] = 1 << (p % 8);
      memory.views[0][p * 4096 + 1] = 0xff; // not read
      expected ^= 1 << (p % 8);
    }
    expect(memory.rewarm(false)).toBe(expected);
  });
});
