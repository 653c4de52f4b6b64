/** Image formats: round trips, and every kind of corruption refused with its own message. */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync, writeSync, truncateSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, realClock } from '../src/clock.ts';
import { crc32 } from '../src/codec/crc32.ts';
import { MigbenchError } from '../src/errors.ts';
import { GuestMemory, guestLayout, type GuestLayout } from '../src/memory/guest-memory.ts';
import { verifyGuest } from '../src/memory/verify.ts';
import {
  CHUNK_PAGES, PREFIX_BYTES, RECORD_PREFIX_BYTES, encodeHeader, mappedLayout, packControl, type ImageHeader,
} from '../src/quick/image-format.ts';
import type { ImageFormat } from '../src/results/quick-result.ts';
import { restoreImage } from '../src/quick/restore.ts';
import { StoragePacer } from '../src/quick/storage.ts';
import { saveImage } from '../src/quick/suspend.ts';
import { fillGuest, type FillWeights } from '../src/workload/fill.ts';
import { Rng } from '../src/workload/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-image-'));
let n = 0;
const fresh = (): string => join(dir, `img-${n++}.img`);
const pacer = (): StoragePacer => new StoragePacer(Infinity, realClock);

function guest(memory: number, pageSize: number, fill: FillWeights, seed: number) {
  const m = new GuestMemory(guestLayout(memory, pageSize));
  fillGuest(m, fill, seed);
  const device = new Uint8Array(3000);
  new Rng(seed).fill(device);
  return { m, device };
}

async function save(m: GuestMemory, device: Uint8Array, format: ImageFormat, path = fresh()): Promise<string> {
  await saveImage({ memory: m, deviceState: device, path, format, pacer: pacer(), tool: 'test', now: () => performance.now() });
  return path;
}

async function restoreInto(path: string, layoutOf: GuestMemory, deviceBytes: number) {
  const dest = new GuestMemory(layoutOf.layout);
  const device = new Uint8Array(deviceBytes);
  const report = await restoreImage(path, { memory: dest, deviceState: device }, pacer());
  return { dest, device, report };
}

async function refusal(path: string, layoutOf: GuestMemory, deviceBytes: number): Promise<string> {
  try {
    await restoreInto(path, layoutOf, deviceBytes);
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_IMAGE_CORRUPT');
    return (error as Error).message;
  }
  throw new Error('expected the image to be refused');
}

describe('round trips', () => {
  const fills: [string, FillWeights][] = [
    ['zero', { zero: 1, random: 0, text: 0 }],
    ['random', { zero: 0, random: 1, text: 0 }],
    ['text', { zero: 0, random: 0, text: 1 }],
    ['mix', { zero: 0.3, random: 0.5, text: 0.2 }],
  ];
  for (const format of ['stream', 'mapped'] as const) {
    it.each(fills)(`${format}: %s fill, several page sizes, restores byte for byte`, async (_name, fill) => {
      for (const [memory, ps, seed] of [[2 * 2 ** 20, 4096, 1], [1 * 2 ** 20 + 512 * 3, 512, 2], [4 * 2 ** 20, 65536, 3]] as const) {
        const { m, device } = guest(memory, ps, fill, seed);
        const path = await save(m, device, format);
        const { dest, device: d, report } = await restoreInto(path, m, device.length);
        expect(verifyGuest(m, dest, device, d).equal).toBe(true);
        expect(report.pages).toBe(m.totalPages);
        expect(report.zeroPages + report.normalPages).toBe(m.totalPages);
        if (fill.zero === 1) expect(report.normalPages).toBe(0);
        if (fill.random === 1) expect(report.zeroPages).toBe(0);
      }
    });
  }

  it('a mapped image is sparse: zero pages are not written', async () => {
    const { m, device } = guest(4 * 2 ** 20, 4096, { zero: 0.75, random: 0.25, text: 0 }, 9);
    const path = fresh();
    const r = await saveImage({ memory: m, deviceState: device, path, format: 'mapped', pacer: pacer(), tool: 't', now: () => 0 });
    expect(r.imageBytes).toBe(mappedLayout(4096, m.totalPages, device.length).imageBytes);
    expect(r.savedBytes).toBeLessThan(0.5 * m.layout.memoryBytes);
    expect(r.savedBytes).toBeGreaterThan(r.normalPages * 4096 - 1);
  });

  it('the storage rate is enforced on save and on restore (virtual clock)', async () => {
    const { m, device } = guest(2 * 2 ** 20, 4096, { zero: 0, random: 1, text: 0 }, 4);
    const clock = new ManualClock(0);
    const path = fresh();
    const p = new StoragePacer(1024 * 1024, clock); // 1 MiB/s
    await saveImage({ memory: m, deviceState: device, path, format: 'stream', pacer: p, tool: 't', now: () => clock.nowMs() });
    // about 2 MiB at 1 MiB/s: 2 s of virtual time (less the 10 ms burst)
    expect(clock.nowMs()).toBeGreaterThan(1900);
    expect(clock.nowMs()).toBeLessThan(2200);
    const before = clock.nowMs();
    await restoreImage(path, { memory: new GuestMemory(m.layout), deviceState: new Uint8Array(device.length) }, new StoragePacer(1024 * 1024, clock));
    expect(clock.nowMs() - before).toBeGreaterThan(1900);
  });
});

// --- hand-made stream images, for the cases a correct writer never produces ---

type Rec = { control: Record<string, unknown>; payload?: Uint8Array; badCrc?: boolean; rawControl?: Uint8Array };

function header(over: Partial<ImageHeader> = {}): ImageHeader {
  return { format: 'stream', pageSize: 4096, pageCount: 64, blocks: [64], deviceStateBytes: 16, chunkPages: CHUNK_PAGES, tool: 't', createdAt: 'now', ...over };
}

function streamImage(h: ImageHeader, records: Rec[]): Uint8Array {
  const parts: Uint8Array[] = [encodeHeader(h)];
  for (const r of records) {
    const c = r.rawControl ?? packControl(r.control);
    const payload = r.payload ?? new Uint8Array(0);
    const head = new Uint8Array(RECORD_PREFIX_BYTES);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, c.length, true);
    const body = new Uint8Array(c.length + payload.length);
    body.set(c, 0);
    body.set(payload, c.length);
    dv.setUint32(4, r.badCrc ? (crc32(body) ^ 1) >>> 0 : crc32(body), true);
    parts.push(head, body);
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const page = (v: number): Uint8Array => new Uint8Array(4096).fill(v);
const pages = (k: number): Uint8Array => {
  const out = new Uint8Array(k * 4096);
  for (let i = 0; i < k; i++) out.fill(i + 1, i * 4096, (i + 1) * 4096);
  return out;
};
const FULL = 0xffffffff;
const good = (): Rec[] => [
  { control: { t: 'p', b: 0, f: 0, n: 32, lo: FULL, hi: 0, len: 32 * 4096 }, payload: pages(32) },
  { control: { t: 'p', b: 0, f: 32, n: 32, lo: 0, hi: 0, len: 0 } },
  { control: { t: 'd', len: 16 }, payload: new Uint8Array(16).fill(7) },
  { control: { t: 'e', pages: 64, records: 4 } },
];
const target = new GuestMemory(guestLayout(64 * 4096, 4096));

function write(bytes: Uint8Array): string {
  const p = fresh();
  writeFileSync(p, bytes);
  return p;
}

describe('a hand-made stream image', () => {
  it('the well-formed one restores', async () => {
    const { dest, device } = await restoreInto(write(streamImage(header(), good())), target, 16);
    expect(dest.views[0][0]).toBe(1);
    expect(dest.views[0][31 * 4096]).toBe(32);
    expect(dest.views[0][40 * 4096]).toBe(0);
    expect(device[0]).toBe(7);
  });

  const replace = (i: number, r: Rec): Rec[] => good().map((g, k) => (k === i ? r : g));
  it.each<[string, () => Uint8Array, RegExp]>([
    ['wrong magic', () => { const b = streamImage(header(), good()); b[0] = 0x58; return b; }, /offset 0: wrong magic/],
    ['unknown version', () => { const b = streamImage(header(), good()); b[8] = 9; return b; }, /offset 8: unknown format version 9/],
    ['header CRC', () => { const b = streamImage(header(), good()); b[PREFIX_BYTES + 5] ^= 0x20; return b; }, /header \(offset 20\): CRC mismatch/],
    ['header length out of range', () => { const b = streamImage(header(), good()); new DataView(b.buffer).setUint32(12, 0x7fffffff, true); return b; }, /offset 12: header length \d+ out of range/],
    ['too short for a header', () => streamImage(header(), good()).subarray(0, 10), /truncated: 10 bytes/],
    ['header cut off', () => streamImage(header(), good()).subarray(0, 60), /header \(offset 20\): truncated/],
    ['block table does not add up', () => streamImage(header({ blocks: [60] }), good()), /RAM block table adds up to 60 pages, pageCount is 64/],
    ['page size not a power of two', () => streamImage(header({ pageSize: 3000 }), good()), /pageSize 3000 out of range/],
    ['image of another guest', () => streamImage(header({ pageCount: 128, blocks: [128] }), good()), /the image holds 128 pages of 4096 B .* the destination has 64 pages/],
    ['record CRC', () => streamImage(header(), replace(0, { ...good()[0], badCrc: true })), /record 0 \(offset \d+\): CRC mismatch/],
    ['block out of range', () => streamImage(header(), replace(0, { control: { ...good()[0].control, b: 3 }, payload: pages(32) })), /record 0 .*RAM block 3 out of range \(1 blocks\)/],
    ['pages beyond the block', () => streamImage(header(), replace(1, { control: { t: 'p', b: 0, f: 40, n: 32, lo: 0, hi: 0, len: 0 } })), /record 1 .*pages \[40, 72\) outside block 0 of 64 pages/],
    ['count 0', () => streamImage(header(), replace(1, { control: { t: 'p', b: 0, f: 32, n: 0, lo: 0, hi: 0, len: 0 } })), /page count 0 out of range 1\.\.64/],
    ['count above 64', () => streamImage(header(), replace(1, { control: { t: 'p', b: 0, f: 0, n: 65, lo: 0, hi: 0, len: 0 } })), /page count 65 out of range/],
    ['payload length mismatch', () => streamImage(header(), replace(0, { control: { ...good()[0].control, len: 4096 }, payload: page(1) })), /payload length 4096, 32 pages need 131072/],
    ['mask beyond the run', () => streamImage(header(), replace(1, { control: { t: 'p', b: 0, f: 32, n: 32, lo: 0, hi: 1, len: 0 } })), /present mask marks pages beyond the run of 32/],
    ['pages out of order', () => streamImage(header(), [good()[1], good()[0], ...good().slice(2)]), /pages out of order: block 0 page 32, expected block 0 page 0/],
    ['unknown record type', () => streamImage(header(), replace(1, { control: { t: 'z' } })), /unknown record type "z"/],
    ['unreadable control', () => streamImage(header(), replace(1, { control: {}, rawControl: new Uint8Array([0xc1, 0xc1]) })), /unreadable record/],
    ['device state before the pages', () => streamImage(header(), [good()[0], good()[2], good()[1], good()[3]]), /device state before all pages \(32 of 64\)/],
    ['device state of the wrong size', () => streamImage(header(), replace(2, { control: { t: 'd', len: 8 }, payload: new Uint8Array(8) })), /device state of 8 bytes, header says 16/],
    ['end before the device state', () => streamImage(header(), [good()[0], good()[1], good()[3]]), /end of image before the device state/],
    ['end record miscounts', () => streamImage(header(), replace(3, { control: { t: 'e', pages: 64, records: 9 } })), /end record counts 9 records, image has 4/],
    ['no end record (truncated)', () => streamImage(header(), good().slice(0, 3)), /truncated/],
    ['cut in the middle of a payload', () => streamImage(header(), good()).subarray(0, 300 + 32 * 4096 / 2), /record 0 .*truncated/],
    ['trailing data', () => { const b = streamImage(header(), good()); const c = new Uint8Array(b.length + 5); c.set(b); return c; }, /5 bytes of trailing data after the end record/],
  ])('%s', async (_what, make, message) => {
    const before = Buffer.from(target.blocks[0]);
    expect(await refusal(write(make()), target, 16)).toMatch(message);
    void before; // bytes may land inside the destination before a CRC check fails, never outside it
  });

  it.each<[string, Partial<ImageHeader>]>([
    ['1 GiB of device state', { deviceStateBytes: 2 ** 30 }],
    ['2 MiB pages', { pageSize: 2 ** 21 }],
  ])('inspect sizes its read buffer by the file, not by a header claiming %s (found by fuzzing)', async (_what, over) => {
    const path = write(streamImage(header(over), good()));
    const before = process.memoryUsage().arrayBuffers;
    let error: unknown;
    try {
      await restoreImage(path, null, pacer());
    } catch (e) {
      error = e;
    }
    const allocated = process.memoryUsage().arrayBuffers - before;
    expect((error as MigbenchError).code).toBe('E_IMAGE_CORRUPT');
    expect(allocated).toBeLessThan(16 * 2 ** 20); // it was 2 GiB and 256 MiB
  });
});

describe('RAM blocks that end in a short chunk (found by fuzzing)', () => {
  // guestLayout never makes them (its blocks but the last hold a multiple of 64 pages), but a
  // GuestMemory may have any layout: a mapped image needs one chunk CRC per chunk of each block
  const layout: GuestLayout = Object.freeze({ memoryBytes: 64 * 512, pageSizeBytes: 512, totalPages: 64, pagesPerBlock: 40, blockBytes: Object.freeze([40 * 512, 24 * 512]) });
  it.each(['stream', 'mapped'] as const)('%s: two blocks of 40 and 24 pages restore byte for byte', async (format) => {
    const m = new GuestMemory(layout);
    new Rng(4).fill(m.views[0]);
    new Rng(5).fill(m.views[1]);
    const device = new Uint8Array(300).fill(7);
    const path = await save(m, device, format);
    const { dest, device: d } = await restoreInto(path, m, device.length);
    expect(verifyGuest(m, dest, device, d).equal).toBe(true);
    expect(mappedLayout(512, 64, 300, [40, 24]).crcCount).toBe(2);
    expect(mappedLayout(512, 64, 300).crcCount).toBe(1);
  });
});

describe('a corrupted mapped image', () => {
  async function mapped() {
    const { m, device } = guest(1 * 2 ** 20, 4096, { zero: 0.4, random: 0.6, text: 0 }, 5);
    return { m, device, path: await save(m, device, 'mapped') };
  }
  it.each<[string, (path: string) => void, RegExp]>([
    [
      'a flipped byte in a written page',
      (p) => {
        const b = readFileSync(p);
        const layout = mappedLayout(4096, 256, 3000);
        let first = 0; // the first page the bitmap says was written (holes are never read)
        while (((b[layout.bitmapOffset + (first >>> 3)] >>> (first & 7)) & 1) === 0) first++;
        b[layout.dataOffset + first * 4096 + 100] ^= 1;
        writeFileSync(p, b);
      },
      /chunk 0 \(pages 0\.\.63\): CRC mismatch/,
    ],
    ['a flipped index byte', (p) => { const b = readFileSync(p); b[65536 + 3] ^= 0x80; writeFileSync(p, b); }, /index \(offset 65536\): CRC mismatch/],
    ['truncated', (p) => truncateSync(p, 200_000), /file: truncated: 200000 bytes, a mapped image of this guest is \d+/],
    ['no header (interrupted before it was written)', (p) => { const b = readFileSync(p); b.fill(0, 0, 100); writeFileSync(p, b); }, /offset 0: wrong magic/],
  ])('%s', async (_what, damage, message) => {
    const { m, path } = await mapped();
    damage(path);
    expect(await refusal(path, m, 3000)).toMatch(message);
  });

  it('a header whose layout does not match the guest', async () => {
    const { m, path } = await mapped();
    const b = readFileSync(path);
    const h: ImageHeader = { format: 'mapped', pageSize: 4096, pageCount: 256, blocks: [256], deviceStateBytes: 3000, chunkPages: CHUNK_PAGES, tool: 't', createdAt: 'x', mapped: { ...mappedLayout(4096, 256, 3000), dataOffset: 4096 } };
    const enc = encodeHeader(h);
    b.set(enc, 0);
    writeFileSync(path, b);
    expect(await refusal(path, m, 3000)).toMatch(/mapped\.dataOffset 4096, expected \d+/);
  });
});

describe('image inspect on hostile images (issue 20, attack 7)', () => {
  const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
  const inspect = (path: string, json = false) =>
    spawnSync(process.execPath, [BIN, 'image', 'inspect', path, ...(json ? ['--json'] : [])], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  /** a hang guard: fails (does not hang) when `p` never settles */
  const settled = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within 20 s (a hang guard)`)), 20_000).unref())]);
  async function refusedWith(p: Promise<unknown>): Promise<MigbenchError> {
    try {
      await p;
    } catch (error) {
      expect(error).toBeInstanceOf(MigbenchError);
      return error as MigbenchError;
    }
    throw new Error('expected the image to be refused');
  }

  it('escape sequences in the header\'s tool and createdAt never reach the terminal raw', () => {
    const evil = '\u001b]0;pwned\u0007\u001b[31mred\u009b2J\u007f tool';
    const path = write(streamImage(header({ tool: evil, createdAt: `2026\u001b[2J-12-06` }), good()));
    const r = inspect(path);
    expect(r.status).toBe(0);
    // the summary is for a person: stderr (the JSON, with --json, is data: stdout)
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/written by +\]0;pwned\[31mred2J tool at 2026\[2J-12-06/);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const j = inspect(path, true);
    expect(j.status).toBe(0);
    expect(j.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/); // JSON escapes them
    expect(JSON.parse(j.stdout).header.tool).toBe(evil); // … losslessly
  });

  it.each<[string, Partial<ImageHeader>, RegExp]>([
    ['createdAt an object', { createdAt: { toString: 1 } as unknown as string }, /header: createdAt: expected a date string of at most 200 characters, got an object/],
    ['createdAt a number', { createdAt: 5 as unknown as string }, /header: createdAt: expected a date string .*, got number 5/],
    ['tool an array', { tool: ['a'] as unknown as string }, /header: tool: expected a string of at most 200 characters, got an array/],
    ['tool missing', { tool: undefined as unknown as string }, /header: tool: expected a string .*, got undefined/],
    ['tool too long', { tool: 'x'.repeat(5000) }, /header: tool: expected a string of at most 200 characters, got a string of 5000 characters/],
  ])('a header whose %s is refused (E_IMAGE_CORRUPT naming the field)', async (_what, over, message) => {
    const e = await refusedWith(restoreImage(write(streamImage(header(over), good())), null, pacer()));
    expect(e.code).toBe('E_IMAGE_CORRUPT');
    expect(e.message).toMatch(message);
  });

  it('a second device-state record is refused', async () => {
    const [p0, p1, d, e] = good();
    const twice = streamImage(header(), [p0, p1, d, { control: { t: 'd', len: 16 }, payload: new Uint8Array(16).fill(9) }, { ...e, control: { t: 'e', pages: 64, records: 5 } }]);
    expect(await refusal(write(twice), target, 16)).toMatch(/record 3 \(offset \d+\): a second device-state record/);
    expect((await refusedWith(restoreImage(write(twice), null, pacer()))).message).toMatch(/a second device-state record/);
  });

  it('a FIFO is refused at once (opened without blocking), by the reader and by the CLI: exit 2, one line', async () => {
    const fifo = join(dir, `fifo-${n++}`);
    execFileSync('mkfifo', [fifo]);
    const e = await refusedWith(settled(restoreImage(fifo, null, pacer()), 'restoreImage on a FIFO'));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/^image .*fifo-\d+: a FIFO, not an image file/);
    const r = inspect(fifo);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: image inspect: expected an image file, got ".*fifo-\d+" \(a FIFO, not a regular file\)$/m);
    // a directory too
    expect((await refusedWith(restoreImage(dir, null, pacer()))).message).toMatch(/a directory, not an image file/);
  });

  /** A mapped image's header (written at offset 0) and its length, the rest a hole. */
  function sparseMapped(pageCount: number, pagesPerBlock: number, index?: (m: ReturnType<typeof mappedLayout>) => Uint8Array): string {
    const blocks = Array.from({ length: Math.ceil(pageCount / pagesPerBlock) }, (_, i) => Math.min(pagesPerBlock, pageCount - i * pagesPerBlock));
    const m = mappedLayout(4096, pageCount, 16, blocks);
    const bytes = index?.(m);
    const h: ImageHeader = { ...header({ format: 'mapped', pageCount, blocks }), mapped: { ...m, indexCrc: bytes ? crc32(bytes) : 0 } };
    const path = fresh();
    const fd = openSync(path, 'w');
    writeSync(fd, encodeHeader(h), 0, undefined, 0);
    if (bytes) writeSync(fd, bytes, 0, bytes.length, m.bitmapOffset);
    ftruncateSync(fd, m.imageBytes);
    closeSync(fd);
    return path;
  }

  it('a sparse file claiming a 4 TiB guest is refused before anything is read or allocated', async () => {
    const path = sparseMapped(2 ** 30, 2 ** 18); // 4 TiB of 4 KiB pages in 1 GiB blocks
    expect(statSync(path).size).toBeGreaterThan(4 * 2 ** 40);
    const before = process.memoryUsage().arrayBuffers;
    const e = await refusedWith(settled(restoreImage(path, null, pacer()), 'restoreImage on a 4 TiB sparse file'));
    const allocated = process.memoryUsage().arrayBuffers - before;
    expect(e.code).toBe('E_IMAGE_CORRUPT');
    expect(e.message).toMatch(/file: claims a guest of 1073741824 pages of 4096 B, \d+ bytes of data \(its index\), but only \d+ bytes of the file are on disk \(a sparse file claiming more than it holds\)/);
    expect(allocated).toBeLessThan(16 * 2 ** 20); // the index alone is 192 MiB
    const r = inspect(path);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a sparse file whose real index marks every page of a 16 GiB guest as written is refused before the holes are read', async () => {
    const path = sparseMapped(2 ** 22, 2 ** 18, (m) => {
      const index = new Uint8Array(m.deviceOffset + 16 - m.bitmapOffset);
      index.fill(0xff, 0, m.bitmapBytes);
      // chunk CRCs that a reader of the holes would find right: every chunk reads as 64 zero pages
      const zeroChunk = crc32(new Uint8Array(CHUNK_PAGES * 4096));
      new Uint32Array(index.buffer, m.crcOffset - m.bitmapOffset, m.crcCount).fill(zeroChunk);
      return index;
    });
    const e = await refusedWith(settled(restoreImage(path, null, pacer()), 'restoreImage on a 16 GiB sparse file'));
    expect(e.message).toMatch(/ \d+ bytes of data \(its index and 4194304 written pages\), but only \d+ bytes of the file are on disk/);
  });
});
