import { describe, expect, it } from 'vitest';
import {
  ULEB128_MAX_VALUE, createUleb128Cursor, decodeUleb128, encodeUleb128, uleb128Length,
} from '../src/codec/uleb128.ts';
import { Rng } from '../src/workload/rng.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytesOf = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

/** Known encodings (LEB128 by hand: 7 bits a byte, low group first, 0x80 on every byte but the last). */
const KNOWN: readonly [number, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '80 01'],
  [1001, 'e9 07'], // the zrun of QEMU's docs/xbzrle.txt example
  [4095, 'ff 1f'],
  [4096, '80 20'],
  [16383, 'ff 7f'], // QEMU's largest (14 bits)
  [16384, '80 80 01'],
  [2 ** 21 - 1, 'ff ff 7f'],
  [2 ** 21, '80 80 80 01'], // a run of a whole 2 MiB page
  [2 ** 28 - 1, 'ff ff ff 7f'],
  [2 ** 28, '80 80 80 80 01'],
  [ULEB128_MAX_VALUE, 'ff ff ff ff 0f'],
];

describe('encodeUleb128 / decodeUleb128: known encodings', () => {
  it.each(KNOWN)('%d ↔ %s', (value, encoding) => {
    const expected = bytesOf(encoding);
    const dst = new Uint8Array(8).fill(0xee);
    expect(encodeUleb128(value, dst, 2)).toBe(expected.length);
    expect(hex(dst.subarray(2, 2 + expected.length))).toBe(hex(expected));
    expect(dst[2 + expected.length]).toBe(0xee); // nothing written past the encoding
    expect(uleb128Length(value)).toBe(expected.length);
    const cursor = createUleb128Cursor();
    expect(decodeUleb128(dst, 2, dst.length, cursor)).toBe(value);
    expect(cursor.next).toBe(2 + expected.length);
  });
});

describe('round trips', () => {
  it('every value up to 0x3fff (QEMU test_uleb), 1 or 2 bytes', () => {
    const buf = new Uint8Array(2);
    const cursor = createUleb128Cursor();
    for (let v = 0; v <= 0x3fff; v++) {
      const written = encodeUleb128(v, buf, 0);
      expect(written).toBe(v < 128 ? 1 : 2);
      expect(decodeUleb128(buf, 0, written, cursor, 2)).toBe(v);
      expect(cursor.next).toBe(written);
    }
  });

  it('seeded random 32-bit values, at random offsets, back to back', () => {
    const rng = new Rng(41);
    const buf = new Uint8Array(5 * 1000);
    const values: number[] = [];
    let offset = 0;
    for (let k = 0; k < 1000; k++) {
      const v = rng.nextU32() >>> rng.nextInt(32);
      values.push(v);
      offset += encodeUleb128(v, buf, offset);
    }
    const cursor = createUleb128Cursor();
    let at = 0;
    for (const v of values) {
      expect(decodeUleb128(buf, at, offset, cursor)).toBe(v);
      expect(cursor.next - at).toBe(uleb128Length(v));
      at = cursor.next;
    }
    expect(at).toBe(offset);
  });
});

describe('encodeUleb128: limits', () => {
  it('returns -1 and writes nothing when the encoding does not fit', () => {
    const dst = new Uint8Array(3).fill(0xee);
    expect(encodeUleb128(16384, dst, 1)).toBe(-1); // needs 3 bytes, 2 left
    expect(hex(dst)).toBe('eeeeee');
    expect(encodeUleb128(5, dst, 3)).toBe(-1); // at the end
    expect(encodeUleb128(128, dst, 1)).toBe(2);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 32, Number.POSITIVE_INFINITY])('throws on value %s', (value) => {
    expect(() => encodeUleb128(value, new Uint8Array(8), 0)).toThrow(RangeError);
  });

  it('throws on an offset outside the array', () => {
    expect(() => encodeUleb128(1, new Uint8Array(2), 3)).toThrow(RangeError);
    expect(() => encodeUleb128(1, new Uint8Array(2), -1)).toThrow(RangeError);
  });
});

describe('decodeUleb128: malformed input is refused', () => {
  const cases: readonly { name: string; bytes: string; offset?: number; end?: number; maxBytes?: number; expected: number }[] = [
    { name: 'nothing to read', bytes: '', expected: -1 },
    { name: 'offset at the end', bytes: '05', offset: 1, expected: -1 },
    { name: 'truncated after one byte', bytes: '80', expected: -1 },
    { name: 'truncated after four bytes', bytes: 'ff ff ff ff', expected: -1 },
    { name: 'truncated by `end` (the next byte exists but is not ours)', bytes: '80 01', end: 1, expected: -1 },
    { name: "QEMU's invalid case, 80 80, with its 2-byte limit", bytes: '80 80', maxBytes: 2, expected: -1 },
    { name: '3 bytes where 2 are allowed (overlong for the page)', bytes: '80 80 01', maxBytes: 2, expected: -1 },
    { name: 'the same 3 bytes where 3 are allowed', bytes: '80 80 01', maxBytes: 3, expected: 16384 },
    { name: 'a 2-byte value with a 1-byte limit', bytes: '80 01', maxBytes: 1, expected: -1 },
    { name: 'six bytes (beyond 32 bits)', bytes: '80 80 80 80 80 01', expected: -1 },
    { name: 'fifth byte above 0x0f (beyond 32 bits)', bytes: 'ff ff ff ff 10', expected: -1 },
    { name: 'non-minimal 0 within the limit (QEMU accepts it too)', bytes: '80 00', maxBytes: 2, expected: 0 },
    { name: 'non-minimal 5 within the limit', bytes: '85 00', expected: 5 },
  ];
  it.each(cases)('$name', ({ bytes, offset = 0, end, maxBytes, expected }) => {
    const src = bytesOf(bytes);
    const cursor = { next: 12345 };
    const got = decodeUleb128(src, offset, end ?? src.length, cursor, maxBytes);
    expect(got).toBe(expected);
    if (expected < 0) expect(cursor.next).toBe(12345); // untouched on failure
  });

  it('never reads past the end of a subarray', () => {
    const backing = bytesOf('80 80 01');
    const src = backing.subarray(0, 2); // the terminating 01 is outside
    expect(decodeUleb128(src, 0, 10, createUleb128Cursor())).toBe(-1);
  });
});
