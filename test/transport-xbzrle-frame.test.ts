/** The destination's XBZRLE frames: a delta applies onto what it holds; a malformed one is refused. */
import { describe, expect, it } from 'vitest';
import { encodeXbzrle } from '../src/codec/xbzrle-encode.ts';
import { MigbenchError } from '../src/errors.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { FrameApplier } from '../src/transport/destination.ts';
import {
  FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD, FRAME_VERSION, FRAME_XBZRLE, HEADER_BYTES, H_BLOCK, H_COUNT, H_FIRST, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_PRESENT_HI,
  H_PRESENT_LO, H_SEQ, H_TYPE, H_VERSION,
} from '../src/transport/frame.ts';
import { deflateRawSync } from 'node:zlib';
import { zstdCompress, zstdReady } from '../src/codec/zstd.ts';
import { RingViews, align8, createRing } from '../src/transport/ring.ts';
import { Rng } from '../src/workload/rng.ts';

function frame(views: RingViews, payload: Uint8Array, over: { first?: number; count?: number } = {}): void {
  const h = 0;
  views.i32[h + H_TYPE] = FRAME_XBZRLE;
  views.i32[h + H_FRAME_BYTES] = align8(HEADER_BYTES + payload.length);
  views.i32[h + H_SEQ] = 0;
  views.i32[h + H_BLOCK] = 0;
  views.i32[h + H_FIRST] = over.first ?? 3;
  views.i32[h + H_COUNT] = over.count ?? 1;
  views.i32[h + H_PAYLOAD_BYTES] = payload.length;
  views.i32[h + H_VERSION] = FRAME_VERSION;
  views.bytes.set(payload, HEADER_BYTES);
}

describe('XBZRLE frames at the destination', () => {
  const setup = () => {
    const views = new RingViews(createRing(65536));
    const dest = new GuestMemory(guestLayout(16 * 4096, 4096));
    new Rng(1).fill(dest.views[0]);
    return { views, dest, applier: new FrameApplier(views, dest, new Uint8Array(0)) };
  };

  it('applies a delta onto the page it holds', () => {
    const { views, dest, applier } = setup();
    const old = dest.page(3).slice();
    const cur = old.slice();
    for (const at of [5, 900, 4000]) cur[at] ^= 0x5a;
    const delta = new Uint8Array(4096);
    const n = encodeXbzrle(old, cur, delta);
    expect(n).toBeGreaterThan(0);
    frame(views, delta.subarray(0, n));
    applier.apply(0);
    expect(Buffer.from(dest.page(3)).equals(Buffer.from(cur))).toBe(true);
    expect(applier.xbzrlePagesApplied).toBe(1);
  });

  it.each<[string, Uint8Array, { first?: number; count?: number }, RegExp]>([
    ['an empty non-zero run', new Uint8Array([0, 0]), {}, /malformed XBZRLE delta/],
    ['a run past the page end', new Uint8Array([0xff, 0x3f, 1, 1]), {}, /malformed XBZRLE delta/],
    ['a truncated ULEB128', new Uint8Array([0x80]), {}, /malformed XBZRLE delta/],
    ['two pages in one frame', new Uint8Array([1, 1, 7]), { count: 2 }, /an XBZRLE frame carries one page, not 2/],
    ['a page outside the block', new Uint8Array([1, 1, 7]), { first: 16 }, /page 16 outside block 0/],
  ])('refuses %s, writing nothing outside the page', (_what, payload, over, message) => {
    const { views, dest, applier } = setup();
    const before = Buffer.from(dest.blocks[0]);
    frame(views, payload, over);
    expect(() => applier.apply(0)).toThrow(MigbenchError);
    frame(views, payload, over);
    const fresh = new FrameApplier(views, dest, new Uint8Array(0));
    expect(() => fresh.apply(0)).toThrow(message);
    const after = Buffer.from(dest.blocks[0]);
    // other pages are untouched (a malformed delta may have half-written its own page, never another)
    expect(after.subarray(0, 3 * 4096).equals(before.subarray(0, 3 * 4096))).toBe(true);
    expect(after.subarray(4 * 4096).equals(before.subarray(4 * 4096))).toBe(true);
  });
});

await zstdReady(); // the zstd table below compresses at collection time

function compressedFrame(views: RingViews, type: number, payload: Uint8Array): void {
  const h = 0;
  views.i32[h + H_TYPE] = type;
  views.i32[h + H_FRAME_BYTES] = align8(HEADER_BYTES + payload.length);
  views.i32[h + H_SEQ] = 0;
  views.i32[h + H_BLOCK] = 0;
  views.i32[h + H_FIRST] = 2;
  views.i32[h + H_COUNT] = 1;
  views.i32[h + H_PRESENT_LO] = 1;
  views.i32[h + H_PRESENT_HI] = 0;
  views.i32[h + H_PAYLOAD_BYTES] = payload.length;
  views.i32[h + H_VERSION] = FRAME_VERSION;
  views.bytes.set(payload, HEADER_BYTES);
}

describe('compressed page frames at the destination', () => {
  const zstdBody = zstdCompress(new Uint8Array(4096).fill(9), 1);
  it.each<[string, number, Uint8Array, RegExp]>([
    ['zlib garbage', FRAME_PAGES_ZLIB, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /compressed payload does not inflate to 4096 bytes/],
    ['a zlib bomb: more than the pages need', FRAME_PAGES_ZLIB, deflateRawSync(Buffer.alloc(8192, 7)), /compressed payload does not inflate to 4096 bytes/],
    ['too little zlib', FRAME_PAGES_ZLIB, deflateRawSync(Buffer.alloc(100, 7)), /compressed payload inflates to 100 bytes, 1 normal pages need 4096/],
    ['zstd garbage', FRAME_PAGES_ZSTD, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /compressed payload does not decompress \(zstd\) to 4096 bytes/],
    ['a zstd bomb: a frame of 64 MiB', FRAME_PAGES_ZSTD, zstdCompress(new Uint8Array(64 << 20), 1), /does not decompress \(zstd\) to 4096 bytes/],
    ['too little zstd', FRAME_PAGES_ZSTD, zstdCompress(new Uint8Array(100).fill(7), 1), /does not decompress \(zstd\) to 4096 bytes/],
    ['a truncated zstd frame', FRAME_PAGES_ZSTD, zstdBody.subarray(0, zstdBody.length - 2), /does not decompress \(zstd\) to 4096 bytes/],
    ['a zstd frame with a size header lying about its body', FRAME_PAGES_ZSTD, (() => {
      const lie = zstdCompress(new Uint8Array(2048).fill(9), 1);
      return Uint8Array.from([...lie.subarray(0, 5), 0x00, 0x0f, ...lie.subarray(7)]); // 2-byte size field: 0x0f00 + 256 = 4096
    })(), /does not decompress \(zstd\) to 4096 bytes/],
  ])('refuses %s, writing nothing', (_what, type, payload, message) => {
    const views = new RingViews(createRing(65536));
    const dest = new GuestMemory(guestLayout(16 * 4096, 4096));
    compressedFrame(views, type, payload);
    const before = Buffer.from(dest.blocks[0]);
    expect(() => new FrameApplier(views, dest, new Uint8Array(0)).apply(0)).toThrow(message);
    expect(Buffer.from(dest.blocks[0]).equals(before)).toBe(true);
  });

  it('applies a good zstd frame', () => {
    const views = new RingViews(createRing(65536));
    const dest = new GuestMemory(guestLayout(16 * 4096, 4096));
    compressedFrame(views, FRAME_PAGES_ZSTD, zstdBody);
    new FrameApplier(views, dest, new Uint8Array(0)).apply(0);
    expect(dest.page(2).every((b) => b === 9)).toBe(true);
  });
});
