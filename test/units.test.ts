import { Rng } from '../src/workload/rng.ts';
import { describe, expect, it } from 'vitest';
import {
  formatBitRate,
  formatByteRate,
  formatBytes,
  formatCount,
  formatDurationMs,
  parseDurationMs,
  parsePerSecond,
  parseRateBytesPerSec,
  parseSizeBytes,
  decimalSize,
  rateUnitHint,
  sizeUnitHint,
} from '../src/units.ts';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

describe('parseSizeBytes', () => {
  it.each<[unknown, number]>([
    // numbers
    [0, 0],
    [-0, 0],
    [4096, 4096],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    // bare numbers and B
    ['0', 0],
    ['0B', 0],
    ['4096', 4096],
    ['512B', 512],
    ['512 B', 512],
    ['  512B  ', 512],
    // binary
    ['64MiB', 64 * MiB],
    ['1 GiB', GiB],
    ['8GiB', 8589934592],
    ['1TiB', TiB],
    ['1.5KiB', 1536],
    ['0.5KiB', 512],
    ['.5KiB', 512],
    ['1.50 KiB', 1536],
    ['64.0 MiB', 64 * MiB],
    ['1.00 GiB', GiB],
    ['1000 KiB', 1000 * KiB],
    ['4KiB', 4 * KiB],
    ['4KIB', 4 * KiB],
    ['4kiB', 4 * KiB],
    ['1PiB', 1024 * TiB],
    // bare K M G T are binary (QEMU convention)
    ['64M', 64 * MiB],
    ['2G', 2 * GiB],
    ['4k', 4 * KiB],
    ['4K', 4 * KiB],
    ['1T', TiB],
    ['1.5g', 1.5 * GiB],
    // decimal
    ['10KB', 10_000],
    ['10kB', 10_000],
    ['10MB', 10_000_000],
    ['2GB', 2e9],
    ['1TB', 1e12],
    ['1.1KB', 1100],
    ['0.001MB', 1000],
  ])('%j → %d', (input, expected) => {
    expect(parseSizeBytes(input)).toBe(expected);
  });

  it.each<[unknown]>([
    // bad numbers
    [-1],
    [1.5],
    [NaN],
    [Infinity],
    [-Infinity],
    [Number.MAX_SAFE_INTEGER + 1],
    // bad strings
    [''],
    ['   '],
    ['B'],
    ['MiB'],
    ['-1'],
    ['-1KiB'],
    ['+1KiB'],
    ['1.5B'],
    ['1.5'],
    ['0.1KiB'], // 102.4 bytes
    ['1.'],
    ['1..5KiB'],
    ['1e3'],
    ['1,024'],
    ['64 potatoes'],
    ['64MiB extra'],
    ['64 MiB 2'],
    ['64Mb'], // lowercase b = bits
    ['64 Kb'],
    ['1gib'],
    ['1b'],
    ['1Ki'],
    ['1 KiBs'],
    ['1 KiB/s'],
    ['1 iB'],
    ['NaN'],
    ['Infinity'],
    ['unlimited'],
    ['16384PiB'], // beyond Number.MAX_SAFE_INTEGER
    // wrong types
    [null],
    [undefined],
    [true],
    [{}],
    [[64]],
  ])('%j → null', (input) => {
    expect(parseSizeBytes(input)).toBeNull();
  });

  it('rejects a bigint', () => {
    expect(parseSizeBytes(64n)).toBeNull();
  });
});

describe('parseRateBytesPerSec', () => {
  it.each<[unknown, number]>([
    // numbers are bytes/s
    [1, 1],
    [0.5, 0.5],
    [125e6, 125e6],
    // unlimited
    ['unlimited', Infinity],
    ['Unlimited', Infinity],
    [' UNLIMITED ', Infinity],
    // bits, "/s"
    ['1bit/s', 0.125],
    ['8bit/s', 1],
    ['1kbit/s', 125],
    ['1Kbit/s', 125],
    ['1Mbit/s', 125_000],
    ['1Gbit/s', 125_000_000],
    ['1 Gbit/s', 125_000_000],
    ['10Gbit/s', 1_250_000_000],
    ['2.5Gbit/s', 312_500_000],
    ['0.1Gbit/s', 12_500_000],
    ['1Tbit/s', 125e9],
    ['1Mb/s', 125_000],
    // bits, "ps"
    ['8bps', 1],
    ['1kbps', 125],
    ['1Mbps', 125_000],
    ['1Gbps', 125_000_000],
    ['100 Mbps', 12_500_000],
    ['1Tbps', 125e9],
    // bytes, decimal
    ['1B/s', 1],
    ['10KB/s', 10_000],
    ['10kB/s', 10_000],
    ['10MB/s', 1e7],
    ['1GB/s', 1e9],
    ['1TB/s', 1e12],
    ['10MBps', 1e7],
    ['1 GBps', 1e9],
    ['100Bps', 100],
    // bytes, binary
    ['1KiB/s', 1024],
    ['128MiB/s', 134217728],
    ['128 MiB/s', 134217728],
    ['1GiB/s', GiB],
    ['1TiB/s', TiB],
    ['1.5MiBps', 1.5 * MiB],
  ])('%j → %d', (input, expected) => {
    expect(parseRateBytesPerSec(input)).toBe(expected);
  });

  it.each<[unknown]>([
    [0],
    [-1],
    [NaN],
    [Infinity], // only the string "unlimited" means unlimited
    [''],
    ['0bit/s'],
    ['0MB/s'],
    ['0Gbps'],
    ['-1Gbit/s'],
    ['1000'], // bare number string: bits or bytes? ambiguous
    ['1G'],
    ['1Gbit'],
    ['1GB'],
    ['1GiB'],
    ['1 Gbit / s'],
    ['1Gbit/sec'],
    ['1Gbit/h'],
    ['1Mibit/s'], // binary prefixes only for bytes
    ['1Mibps'],
    ['1Xbit/s'],
    ['64 potatoes'],
    ['fast'],
    ['infinity'],
    ['unlimitedd'],
    [null],
    [undefined],
    [{}],
  ])('%j → null', (input) => {
    expect(parseRateBytesPerSec(input)).toBeNull();
  });
});

describe('parsePerSecond', () => {
  it.each<[unknown, number]>([
    [0, 0],
    [20000, 20000],
    [0.5, 0.5],
    ['0/s', 0],
    ['0', 0],
    ['20000/s', 20000],
    ['20000', 20000],
    ['20000 /s', 20000],
    [' 20000/s ', 20000],
    ['20k/s', 20000],
    ['20K/s', 20000],
    ['20 k/s', 20000],
    ['20k', 20000],
    ['2.5K/s', 2500],
    ['1.5M/s', 1_500_000],
    ['1M', 1_000_000],
    ['2G/s', 2e9],
    ['0.5/s', 0.5],
    ['1.1k/s', 1100],
    // unit names are case-insensitive (there is no b to keep apart): m is mega, as in "64m" and "1mbit/s"
    ['20m/s', 20_000_000],
    ['20g/s', 2e10],
    ['20000/S', 20000],
  ])('%j → %d', (input, expected) => {
    expect(parsePerSecond(input)).toBe(expected);
  });

  it.each<[unknown]>([
    [-1],
    [NaN],
    [Infinity],
    [''],
    ['/s'],
    ['k/s'],
    ['-5/s'],
    ['20000/h'],
    ['20000/sec'],
    ['20000s'],
    ['20T/s'],
    ['20kk/s'],
    ['20k /s'],
    ['64 potatoes'],
    ['1e4/s'],
    [null],
    [undefined],
    [[1]],
  ])('%j → null', (input) => {
    expect(parsePerSecond(input)).toBeNull();
  });
});

describe('parseDurationMs', () => {
  it.each<[unknown, number]>([
    [0, 0],
    [300, 300],
    [0.25, 0.25],
    ['0', 0],
    ['0ms', 0],
    ['300', 300],
    ['300ms', 300],
    ['300 ms', 300],
    ['300MS', 300],
    ['2s', 2000],
    ['1.5 s', 1500],
    ['1.1s', 1100],
    ['0.001s', 1],
    ['500us', 0.5],
    ['500µs', 0.5], // micro sign
    ['500μs', 0.5], // Greek mu
    ['1us', 0.001],
    ['1m', 60_000],
    ['1min', 60_000],
    ['1.5min', 90_000],
    ['1h', 3_600_000],
    ['0.5h', 1_800_000],
    [' 2s ', 2000],
  ])('%j → %d', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each<[unknown]>([
    [-1],
    [NaN],
    [Infinity],
    [''],
    ['s'],
    ['ms'],
    ['-1s'],
    ['2 seconds'],
    ['2sec'],
    ['1d'],
    ['1ns'],
    ['1mins'],
    ['1h30m'],
    ['1:30'],
    ['64 potatoes'],
    ['2s extra'],
    [null],
    [undefined],
    [{}],
  ])('%j → null', (input) => {
    expect(parseDurationMs(input)).toBeNull();
  });
});

describe('formatBytes', () => {
  it.each<[number, string]>([
    [0, '0 B'],
    [-0, '0 B'],
    [1, '1 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * KiB, '10.0 KiB'],
    [1000 * KiB, '1000 KiB'], // rolls to the next unit only at 1024
    [1023 * KiB, '1023 KiB'],
    [MiB - 1, '1.00 MiB'], // would round to "1024 KiB": rolls over
    [MiB, '1.00 MiB'],
    [64 * MiB, '64.0 MiB'],
    [128 * MiB, '128 MiB'],
    [1.23 * MiB, '1.23 MiB'],
    [GiB, '1.00 GiB'],
    [8 * GiB, '8.00 GiB'],
    [1.5 * TiB, '1.50 TiB'],
    [1024 * TiB, '1.00 PiB'],
    [-1536, '-1.50 KiB'],
    [-512, '-512 B'],
    [0.5, '0.5 B'],
    [NaN, 'NaN B'],
    [Infinity, 'Infinity B'],
  ])('%d → %j', (input, expected) => {
    expect(formatBytes(input)).toBe(expected);
  });
});

describe('formatBitRate', () => {
  it.each<[number, string]>([
    [Infinity, 'unlimited'],
    [0, '0 bit/s'],
    [1, '8 bit/s'],
    [0.125, '1 bit/s'],
    [125, '1.00 kbit/s'],
    [124_999, '1.00 Mbit/s'], // 999.992 kbit/s rounds up and rolls over
    [1_250_000, '10.0 Mbit/s'],
    [12_500_000, '100 Mbit/s'],
    [125_000_000, '1.00 Gbit/s'],
    [312_500_000, '2.50 Gbit/s'],
    [1_250_000_000, '10.0 Gbit/s'],
    [125e9, '1.00 Tbit/s'],
    [-125_000_000, '-1.00 Gbit/s'],
  ])('%d B/s → %j', (input, expected) => {
    expect(formatBitRate(input)).toBe(expected);
  });
});

describe('formatByteRate', () => {
  it.each<[number, string]>([
    [Infinity, 'unlimited'],
    [0, '0 B/s'],
    [512, '512 B/s'],
    [1536, '1.50 KiB/s'],
    [134217728, '128 MiB/s'],
    [GiB, '1.00 GiB/s'],
  ])('%d → %j', (input, expected) => {
    expect(formatByteRate(input)).toBe(expected);
  });
});

describe('formatDurationMs', () => {
  it.each<[number, string]>([
    [0, '0 ms'],
    [0.25, '0.25 ms'],
    [0.5, '0.5 ms'],
    [0.001, '0.001 ms'],
    [0.0123, '0.0123 ms'],
    [0.999, '0.999 ms'],
    [0.9996, '1.00 ms'],
    [1e-7, '1.00e-7 ms'],
    [1, '1.00 ms'],
    [12.345, '12.3 ms'],
    [300, '300 ms'],
    [999.4, '999 ms'],
    [999.6, '1.00 s'], // rounds to 1000 ms: rolls over
    [1000, '1.00 s'],
    [1250, '1.25 s'],
    [65000, '65.0 s'],
    [99_940, '99.9 s'],
    [100_000, '1.67 min'],
    [600_000, '10.0 min'],
    [5_940_000, '99.0 min'],
    [6_000_000, '1.67 h'],
    [36_000_000, '10.0 h'],
    [-1250, '-1.25 s'],
  ])('%d → %j', (input, expected) => {
    expect(formatDurationMs(input)).toBe(expected);
  });
});

describe('formatCount', () => {
  it.each<[number, string]>([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [262144, '262,144'],
    [1_000_000, '1,000,000'],
    [1234567.4, '1,234,567'],
    [1234567.5, '1,234,568'],
    [0.4, '0'],
    [-0.4, '0'],
    [-1234, '-1,234'],
    [Number.MAX_SAFE_INTEGER, '9,007,199,254,740,991'],
  ])('%d → %j', (input, expected) => {
    expect(formatCount(input)).toBe(expected);
  });
});

describe('round trips', () => {
  /** Deterministic PRNG (mulberry32) so failures are reproducible. */
  function rng(seed: number): () => number {
    const r = new Rng(seed);
    return () => r.nextFloat();
  }

  const UNIT_BYTES: Record<string, bigint> = {
    B: 1n,
    KiB: 1024n,
    MiB: 1024n ** 2n,
    GiB: 1024n ** 3n,
    TiB: 1024n ** 4n,
    PiB: 1024n ** 5n,
  };

  /** The exact byte count a formatted size denotes, or null when it is not whole. */
  function exactBytes(text: string): number | null {
    const m = /^(\d+)(?:\.(\d+))? (\w+)$/.exec(text);
    if (m === null) throw new Error(`unexpected format: ${text}`);
    const frac = m[2] ?? '';
    const numer = BigInt(m[1]! + frac) * UNIT_BYTES[m[3]!]!;
    const denom = 10n ** BigInt(frac.length);
    return numer % denom === 0n ? Number(numer / denom) : null;
  }

  // Log-uniform sizes from 1 B to ~1 PiB.
  const next = rng(0x5eed);
  const randomSizes = Array.from({ length: 500 }, () => Math.floor(2 ** (next() * 50)));

  it('formatBytes → parseSizeBytes is within 0.5% (or null exactly when not a whole byte count)', () => {
    let parsedCount = 0;
    for (const size of randomSizes) {
      const text = formatBytes(size);
      const parsed = parseSizeBytes(text);
      expect(parsed, text).toBe(exactBytes(text));
      if (parsed !== null) {
        parsedCount++;
        expect(Math.abs(parsed - size), `${size} → ${text} → ${parsed}`).toBeLessThanOrEqual(size * 0.005);
      }
    }
    expect(parsedCount).toBeGreaterThan(50); // plenty of sub-KiB values parse back
  });

  // Sizes whose formatted form is exact: k units (k = 1..1023) and quarter units (1.00..9.75).
  const next2 = rng(42);
  const exactSizes = Array.from({ length: 300 }, (_, i) => {
    const unit = 1024 ** Math.floor(next2() * 5);
    return i % 2 === 0
      ? (1 + Math.floor(next2() * 1023)) * unit
      : ((4 + Math.floor(next2() * 36)) / 4) * Math.max(unit, 1024);
  });

  it('formatBytes → parseSizeBytes is exact for exactly formattable sizes', () => {
    for (const size of exactSizes) {
      expect(parseSizeBytes(formatBytes(size)), `${size} → ${formatBytes(size)}`).toBe(size);
    }
  });

  it('formatByteRate → parseRateBytesPerSec is within 0.5%', () => {
    for (const size of randomSizes) {
      const rate = size + 1; // rates must be > 0
      const parsed = parseRateBytesPerSec(formatByteRate(rate));
      expect(parsed).not.toBeNull();
      expect(Math.abs(parsed! - rate)).toBeLessThanOrEqual(rate * 0.005);
    }
  });

  it('formatDurationMs → parseDurationMs is within 0.5%', () => {
    for (const size of randomSizes) {
      const ms = size / 1000;
      const text = formatDurationMs(ms);
      const parsed = parseDurationMs(text);
      expect(parsed, text).not.toBeNull();
      expect(Math.abs(parsed! - ms), text).toBeLessThanOrEqual(ms * 0.005);
    }
  });
});

describe('one rule for case: unit names are case-insensitive except b (bits) and B (bytes)', () => {
  it.each<[string, 'size' | 'rate', number | null]>([
    // sizes: any case of the prefix and the "i"; a lowercase b (bits) is never a size
    ['1GiB', 'size', GiB],
    ['1giB', 'size', GiB],
    ['1GIB', 'size', GiB],
    ['1gib', 'size', null], // gibibits
    ['1Gib', 'size', null],
    ['64MB', 'size', 64e6],
    ['64mB', 'size', 64e6],
    ['64Mb', 'size', null], // megabits
    ['64mb', 'size', null],
    ['8Mbit', 'size', null],
    // rates: the same letters mean the same; b and bit are bits, B is bytes
    ['10gbit/s', 'rate', 1.25e9],
    ['10GBIT/S', 'rate', 1.25e9],
    ['10Gb/s', 'rate', 1.25e9],
    ['10gb/s', 'rate', 1.25e9],
    ['10GB/s', 'rate', 1e10],
    ['10gB/s', 'rate', 1e10],
    ['1GiB/s', 'rate', GiB],
    ['1giB/s', 'rate', GiB],
    ['1gib/s', 'rate', null], // gibibits: binary prefixes are for bytes only
  ])('%j as a %s → %j', (input, kind, expected) => {
    expect(kind === 'size' ? parseSizeBytes(input) : parseRateBytesPerSec(input)).toBe(expected);
  });
});

describe('hints for near misses', () => {
  it.each<[string, string | null]>([
    ['1gib', 'a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "1GiB"?'],
    ['64Mb', 'a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "64MiB" (binary) or "64MB" (decimal)?'],
    ['4 kb', 'a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "4KiB" (binary) or "4kB" (decimal)?'],
    ['512b', 'a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "512B"?'],
    ['1Gbit', 'a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "1GiB" (binary) or "1GB" (decimal)?'],
    ['128MiB/s', 'a size has no "/s": did you mean "128MiB"?'],
    ['64MiB', null], // a size
    ['64 potatoes', null],
  ])('sizeUnitHint(%j)', (input, hint) => {
    expect(sizeUnitHint(input)).toBe(hint);
  });

  it.each<[string, string | null]>([
    ['1000', 'a rate needs a unit, bits or bytes: did you mean "1000Mbit/s" or "1000MB/s"?'],
    ['1G', 'a rate needs bits or bytes per second: did you mean "1Gbit/s" or "1GB/s"?'],
    ['1Gbit', 'a rate is per second: did you mean "1Gbit/s"?'],
    ['1GiB', 'a rate is per second: did you mean "1GiB/s"?'],
    ['1Mib/s', 'binary prefixes are for bytes ("b" is bits): did you mean "1MiB/s" or "1Mbit/s"?'],
    ['1kibps', 'binary prefixes are for bytes ("b" is bits): did you mean "1KiB/s" or "1kbit/s"?'],
    ['1Gbit/s', null], // a rate
    ['fast', null],
  ])('rateUnitHint(%j)', (input, hint) => {
    expect(rateUnitHint(input)).toBe(hint);
  });

  it.each<[unknown, { bytes: number; binary: string | null } | null]>([
    ['1GB', { bytes: 1e9, binary: '1GiB' }],
    ['64 mB', { bytes: 64e6, binary: '64MiB' }],
    ['1.5kB', { bytes: 1500, binary: '1.5KiB' }],
    ['8.192MB', { bytes: 8_192_000, binary: null }], // 8.192 MiB is not a whole number of bytes
    ['1GiB', null],
    ['1G', null],
    ['1gb', null], // not a size at all (bits)
    [1_000_000_000, null],
  ])('decimalSize(%j)', (input, expected) => {
    expect(decimalSize(input)).toEqual(expected);
  });
});
