/** zstd (precopy.compression "zstd"): round trips, and a decoder that trusts no frame header. */
import { describe, expect, it } from 'vitest';
import { zstdCompress, zstdDecompressExact, zstdFrameContentSize, zstdReady } from '../src/codec/zstd.ts';
import { textCorpus } from '../src/workload/fill.ts';
import { Rng } from '../src/workload/rng.ts';

await zstdReady(); // the case tables below compress at collection time

describe('zstd round trips', () => {
  it.each([1, 3, 19])('level %i: text and random pages come back byte for byte; text shrinks', (level) => {
    const text = textCorpus(3).subarray(0, 64 * 1024);
    const random = new Uint8Array(64 * 1024);
    new Rng(level).fill(random);
    for (const input of [text, random, new Uint8Array(4096)]) {
      const z = zstdCompress(input, level);
      expect(zstdFrameContentSize(z)).toBe(input.length);
      const out = zstdDecompressExact(z, input.length);
      expect(out).not.toBeNull();
      expect(Buffer.from(out!).equals(Buffer.from(input))).toBe(true);
    }
    expect(zstdCompress(text, level).length).toBeLessThan(text.length / 2);
  });
});

describe('zstd frame header', () => {
  it.each<[string, number[], number]>([
    ['single segment, 1-byte size', [0x28, 0xb5, 0x2f, 0xfd, 0x20, 200], 200],
    ['single segment, 2-byte size (+256)', [0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x10, 0x26], 10000],
    ['window descriptor, 4-byte size', [0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x50, 0x00, 0x00, 0x08, 0x00], 524288],
    ['dictionary id, 2-byte size', [0x28, 0xb5, 0x2f, 0xfd, 0x61, 0x07, 0x00, 0x01], 0x100 + 256],
    ['no declared size', [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50], -1],
    ['reserved bit set', [0x28, 0xb5, 0x2f, 0xfd, 0x28, 200], -1],
    ['truncated size', [0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x50, 0x00], -1],
    ['wrong magic', [0x28, 0xb5, 0x2f, 0xfe, 0x20, 200], -1],
    ['too short', [0x28, 0xb5], -1],
  ])('%s', (_what, bytes, size) => {
    expect(zstdFrameContentSize(new Uint8Array(bytes))).toBe(size);
  });
});

describe('zstdDecompressExact refuses what does not decode to the expected size', () => {
  const page = textCorpus(5).subarray(0, 8192);
  const good = zstdCompress(page, 1);
  const cases: [string, () => Uint8Array, number][] = [
    ['a frame declaring more than expected (a bomb)', () => zstdCompress(new Uint8Array(1 << 20), 1), 8192],
    ['a frame declaring less than expected', () => good, 16384],
    ['garbage', () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 8192],
    ['a truncated frame', () => good.subarray(0, good.length - 3), 8192],
    ['a frame with trailing bytes', () => Uint8Array.from([...good, 1, 2, 3]), 8192],
    ['two frames', () => Uint8Array.from([...good, ...good]), 8192],
    ['a flipped byte in the body', () => {
      const bad = good.slice();
      bad[bad.length >>> 1] ^= 0xff;
      return bad;
    }, 8192],
  ];
  it.each(cases)('%s', (_what, make, expected) => {
    const out = zstdDecompressExact(make(), expected);
    // a flipped body byte may still decode (zstd frames here carry no checksum): then never to other than the size
    if (out !== null) expect(out.length).toBe(expected);
    if (!_what.startsWith('a flipped')) expect(out).toBeNull();
  });
});
