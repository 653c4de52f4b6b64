import { describe, expect, it } from 'vitest';
import { isZeroPage, isZeroRange, isZeroReference } from '../src/codec/zero-page.ts';
import { Rng } from '../src/workload/rng.ts';

const SIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
type Backing = 'ArrayBuffer' | 'SharedArrayBuffer';
const BACKINGS: readonly Backing[] = ['ArrayBuffer', 'SharedArrayBuffer'];

function bytesOf(backing: Backing, length: number): Uint8Array {
  return new Uint8Array(backing === 'ArrayBuffer' ? new ArrayBuffer(length) : new SharedArrayBuffer(length));
}

function nonZero(rng: Rng): number {
  return 1 + rng.nextInt(255);
}

describe('isZeroRange / isZeroPage: known cases', () => {
  it.each(BACKINGS)('%s: all zero, then one byte at first / middle / last / elsewhere', (backing) => {
    for (const size of SIZES) {
      const page = bytesOf(backing, size);
      expect(isZeroPage(page)).toBe(true);
      expect(isZeroRange(page, 0, size)).toBe(true);
      for (const at of [0, size >>> 1, size - 1, 1, (size >>> 1) - 1, (size >>> 1) + 1, size - 2, 7, size - 9]) {
        page[at] = 0x80;
        expect(isZeroPage(page), `${size} @${at}`).toBe(false);
        expect(isZeroRange(page, 0, size), `${size} @${at}`).toBe(false);
        page[at] = 0;
      }
      expect(isZeroPage(page)).toBe(true);
    }
  });

  it('empty range and empty page are zero', () => {
    const page = new Uint8Array([1, 2, 3]);
    expect(isZeroRange(page, 1, 0)).toBe(true);
    expect(isZeroRange(page, 3, 0)).toBe(true);
    expect(isZeroPage(new Uint8Array(0))).toBe(true);
    expect(isZeroReference(new Uint8Array(0))).toBe(true);
  });

  it('honours offset and length: non-zero bytes just outside the range do not count', () => {
    for (const size of SIZES) {
      const buffer = new Uint8Array(new SharedArrayBuffer(size * 3));
      buffer[size - 1] = 1; // just before
      buffer[2 * size] = 1; // just after
      expect(isZeroRange(buffer, size, size)).toBe(true);
      buffer[size] = 1; // first byte inside
      expect(isZeroRange(buffer, size, size)).toBe(false);
      buffer[size] = 0;
      buffer[2 * size - 1] = 1; // last byte inside
      expect(isZeroRange(buffer, size, size)).toBe(false);
    }
  });

  it('works on a subarray view with a byteOffset (offset is relative to the view)', () => {
    const big = new Uint8Array(new SharedArrayBuffer(3 * 4096));
    big[4096 - 1] = 9;
    big[2 * 4096] = 9;
    const view = big.subarray(4096, 2 * 4096);
    expect(isZeroPage(view)).toBe(true);
    expect(isZeroRange(view, 0, 4096)).toBe(true);
    view[4095] = 1;
    expect(isZeroPage(view)).toBe(false);
    expect(isZeroRange(view, 0, 4095)).toBe(true);
  });

  it('is not fooled by an earlier call with a larger length (the shared zero buffer stays zero)', () => {
    const big = new Uint8Array(100_000);
    expect(isZeroPage(big)).toBe(true);
    const small = new Uint8Array(512);
    small[300] = 1;
    expect(isZeroPage(small)).toBe(false);
    expect(isZeroPage(big)).toBe(true);
  });
});

describe('isZeroRange / isZeroPage against isZeroReference on seeded random pages', () => {
  it.each(BACKINGS)('%s backing', (backing) => {
    const rng = new Rng(backing === 'ArrayBuffer' ? 101 : 202);
    let zeros = 0;
    let nonZeros = 0;
    for (let trial = 0; trial < 1500; trial++) {
      const size = rng.nextInt(3) === 0 ? SIZES[rng.nextInt(SIZES.length)] : 512 + rng.nextInt(65536 - 512 + 1);
      // the page sits inside a larger buffer with random margins that are sometimes dirty
      const before = rng.nextInt(3) === 0 ? 0 : 1 + rng.nextInt(64);
      const after = rng.nextInt(3) === 0 ? 0 : 1 + rng.nextInt(64);
      const buffer = bytesOf(backing, before + size + after);
      if (rng.nextInt(2) === 0) {
        if (before > 0) buffer[before - 1] = nonZero(rng); // just outside, before
        if (after > 0) buffer[before + size] = nonZero(rng); // just outside, after
        for (let i = 0; i < before - 1; i++) if (rng.nextInt(4) === 0) buffer[i] = nonZero(rng);
      }
      const kind = rng.nextInt(4); // 0: zero; 1: one byte; 2: a few bytes; 3: one byte at first / middle / last
      const positions: number[] = [];
      if (kind === 1) positions.push(rng.nextInt(size));
      else if (kind === 2) for (let k = 2 + rng.nextInt(6); k > 0; k--) positions.push(rng.nextInt(size));
      else if (kind === 3) positions.push([0, size >>> 1, size - 1, (size >>> 1) - 1, (size >>> 1) + 1][rng.nextInt(5)]);
      for (const p of positions) buffer[before + p] = nonZero(rng);

      const want = isZeroReference(buffer, before, size);
      expect(want).toBe(positions.length === 0);
      expect(isZeroRange(buffer, before, size), `trial ${trial} size ${size} at ${positions}`).toBe(want);
      const page = buffer.subarray(before, before + size);
      expect(isZeroPage(page)).toBe(want);
      expect(isZeroReference(page)).toBe(want);
      if (want) zeros++;
      else nonZeros++;
    }
    expect(zeros).toBeGreaterThan(200);
    expect(nonZeros).toBeGreaterThan(200);
  });

  it('random content pages and pages with a single low bit set are not zero', () => {
    const rng = new Rng(303);
    for (const size of SIZES) {
      const page = new Uint8Array(new SharedArrayBuffer(size));
      rng.fill(page);
      expect(isZeroPage(page)).toBe(isZeroReference(page));
      page.fill(0);
      page[1 + rng.nextInt(size - 2)] = 1;
      expect(isZeroPage(page)).toBe(false);
    }
  });

  it('several pages checked in place inside one ring-like buffer (as the page sender does)', () => {
    const rng = new Rng(404);
    const ps = 4096;
    const ring = new Uint8Array(new SharedArrayBuffer(48 + 64 * ps));
    const expected: boolean[] = [];
    for (let k = 0; k < 64; k++) {
      const zero = rng.nextInt(2) === 0;
      expected.push(zero);
      if (!zero) ring[48 + k * ps + rng.nextInt(ps)] = nonZero(rng);
    }
    ring.fill(0xff, 0, 48); // a header before the payload
    for (let k = 0; k < 64; k++) expect(isZeroRange(ring, 48 + k * ps, ps), `page ${k}`).toBe(expected[k]);
  });
});
