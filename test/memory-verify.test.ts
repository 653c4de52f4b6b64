import { describe, expect, it } from 'vitest';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { verifyGuest } from '../src/memory/verify.ts';
import { fillGuest } from '../src/workload/fill.ts';

function pair(seed: number) {
  const layout = guestLayout(2 * 2 ** 20, 4096);
  const a = new GuestMemory(layout);
  const b = new GuestMemory(layout);
  fillGuest(a, { zero: 0.3, random: 0.4, text: 0.3 }, seed);
  fillGuest(b, { zero: 0.3, random: 0.4, text: 0.3 }, seed);
  return { a, b, dev: new Uint8Array(64).fill(7) };
}

describe('verifyGuest', () => {
  it('equal memories verify', () => {
    const { a, b, dev } = pair(1);
    expect(verifyGuest(a, b, dev, dev.slice())).toEqual({ equal: true, firstBadPage: null, badPages: 0, deviceStateEqual: true });
  });
  it.each([0, 1, 4095, 4096, 300_000, 2 * 2 ** 20 - 1])('a single changed byte at %i is found, with its page', (at) => {
    const { a, b, dev } = pair(2);
    b.views[0][at] ^= 0x40;
    const r = verifyGuest(a, b, dev, dev.slice());
    expect(r.equal).toBe(false);
    expect(r.badPages).toBe(1);
    expect(r.firstBadPage).toBe(Math.floor(at / 4096));
  });
  it('a different device state fails verification', () => {
    const { a, b, dev } = pair(3);
    const other = dev.slice();
    other[10] = 0;
    const r = verifyGuest(a, b, dev, other);
    expect(r.equal).toBe(false);
    expect(r.deviceStateEqual).toBe(false);
    expect(r.badPages).toBe(0);
  });
});

describe('fillGuest', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const { a, b } = pair(4);
    expect(Buffer.from(a.blocks[0]).equals(Buffer.from(b.blocks[0]))).toBe(true);
    const { a: c } = pair(5);
    expect(Buffer.from(a.blocks[0]).equals(Buffer.from(c.blocks[0]))).toBe(false);
  });
  it('draws page kinds by the weights', () => {
    const layout = guestLayout(8 * 2 ** 20, 4096);
    const m = new GuestMemory(layout);
    fillGuest(m, { zero: 0.5, random: 0.25, text: 0.25 }, 9);
    let zero = 0;
    let text = 0;
    for (let p = 0; p < layout.totalPages; p++) {
      const page = m.page(p);
      if (page.every((x) => x === 0)) zero++;
      else if (page.every((x) => x === 0x20 || x === 0x2e || x === 0x0a || (x >= 0x41 && x <= 0x7a))) text++;
    }
    expect(zero / layout.totalPages).toBeGreaterThan(0.45);
    expect(zero / layout.totalPages).toBeLessThan(0.55);
    expect(text / layout.totalPages).toBeGreaterThan(0.2);
    expect(text / layout.totalPages).toBeLessThan(0.3);
  });
});
