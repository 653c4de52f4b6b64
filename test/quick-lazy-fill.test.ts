/**
 * The lazy fill on its own (no threads): an image saved from a filled guest, requests posted on the ring
 * as a vCPU would, the fill run to the end. Deterministic: a ManualClock and an unlimited storage rate.
 * What it pins down: faulted pages are served first and never read again by the background; the
 * destination ends equal to the source; and a damaged page is refused even when the fault handler read
 * it (the chunk's CRC then counts it through crc32Combine), so a corrupt page the guest already has can
 * never pass.
 */
import { mkdtempSync, openSync, readSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { createReceivedBitmap } from '../src/memory/received-bitmap.ts';
import { RequestRing, createRequestRing } from '../src/memory/request-ring.ts';
import { verifyGuest } from '../src/memory/verify.ts';
import { CHUNK_PAGES } from '../src/quick/image-format.ts';
import { chunkOf, isPresent, openLazyImage, pageOffset, type OpenLazyImage } from '../src/quick/lazy-index.ts';
import { fillLazily } from '../src/quick/lazy-restore.ts';
import { StoragePacer } from '../src/quick/storage.ts';
import { saveImage, type SaveReport } from '../src/quick/suspend.ts';
import { fillGuest } from '../src/workload/fill.ts';

const dir = mkdtempSync(join(tmpdir(), 'migbench-lazy-fill-'));
let opened: OpenLazyImage | null = null;
afterEach(async () => {
  await opened?.fh.close();
  opened = null;
});

const PAGES = 1024; // 4 MiB of 4 KiB pages: 16 chunks
const layout = guestLayout(PAGES * 4096, 4096);

async function saved(format: 'stream' | 'mapped', name: string): Promise<{ source: GuestMemory; deviceState: Uint8Array; path: string; save: SaveReport }> {
  const source = new GuestMemory(layout);
  fillGuest(source, { zero: 0.3, random: 0.5, text: 0.2 }, 7);
  const deviceState = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
  const path = join(dir, `${name}.img`);
  const clock = new ManualClock();
  const save = await saveImage({ memory: source, deviceState, path, format, pacer: new StoragePacer(Infinity, clock), tool: 'test', now: () => clock.nowMs() });
  return { source, deviceState, path, save };
}

async function fill(format: 'stream' | 'mapped', path: string, save: SaveReport, requests: number[]) {
  const dest = new GuestMemory(layout);
  const deviceState = new Uint8Array(5000);
  const clock = new ManualClock();
  const pacer = new StoragePacer(Infinity, clock);
  opened = await openLazyImage(path, { memory: dest, deviceState }, format === 'stream' ? save.streamIndex : null, pacer);
  const bytesBeforeResume = pacer.bytes;
  const ring = createRequestRing(64);
  const producer = new RequestRing(ring);
  for (const page of requests) expect(producer.tryPush(page, 0)).toBe(true);
  const received = new Int32Array(createReceivedBitmap(PAGES));
  const run = fillLazily({ path, fh: opened.fh, index: opened.index, dest, received, requests: new RequestRing(ring), pacer, clock, check: () => undefined });
  return { dest, deviceState, run, pacer, bytesBeforeResume, index: opened.index };
}

describe('the lazy fill', () => {
  it.each(['stream', 'mapped'] as const)('%s: requested pages first, each read once; the destination equals the source', async (format) => {
    const { source, deviceState, path, save } = await saved(format, `whole-${format}`);
    // pages near the end (the background reaches them last), one asked twice, a zero page among them
    const asked = [1000, 1001, 1000, 700, 513];
    const f = await fill(format, path, save, asked);
    const facts = await f.run;
    expect(facts.requests).toBe(asked.length);
    const distinct = [...new Set(asked)];
    const zeroAsked = distinct.filter((p) => !isPresent(f.index, chunkOf(f.index, p), p - f.index.chunkFirstPage[chunkOf(f.index, p)])).length;
    expect(facts.faultPages + facts.zeroFaultPages).toBe(distinct.length); // all served on demand (the first chunk was not even read yet)
    expect(facts.zeroFaultPages).toBe(zeroAsked);
    expect(facts.faultPages + facts.zeroFaultPages + facts.backgroundPages).toBe(PAGES);
    // every page's bytes read once: the pages the image holds, nothing twice
    const pageBytes = save.normalPages * 4096;
    const recordHeads = format === 'stream' ? facts.backgroundBytes + facts.faultBytes - pageBytes : 0;
    expect(facts.faultBytes + facts.backgroundBytes - recordHeads).toBe(pageBytes);
    if (format === 'mapped') expect(recordHeads).toBe(0);
    else expect(recordHeads).toBeLessThan((PAGES / CHUNK_PAGES) * 64); // only each record's prefix and control
    expect(f.pacer.bytes).toBe(f.bytesBeforeResume + facts.faultBytes + facts.backgroundBytes);
    const report = verifyGuest(source, f.dest, deviceState, f.deviceState);
    expect(report.equal).toBe(true);
  });

  it.each(['stream', 'mapped'] as const)('%s: a damaged page the fault handler already served is still refused by the chunk CRC', async (format) => {
    const { path, save } = await saved(format, `damaged-${format}`);
    const clock = new ManualClock();
    // a present page in the last chunk: the guest asks for it before the background gets there
    const probe = await openLazyImage(path, { memory: new GuestMemory(layout), deviceState: new Uint8Array(5000) }, format === 'stream' ? save.streamIndex : null, new StoragePacer(Infinity, clock));
    await probe.fh.close();
    let page = PAGES - 1;
    while (!isPresent(probe.index, chunkOf(probe.index, page), page - probe.index.chunkFirstPage[chunkOf(probe.index, page)])) page--;
    const c = chunkOf(probe.index, page);
    const at = pageOffset(probe.index, c, page - probe.index.chunkFirstPage[c]) + 123;
    expect(at).toBeLessThan(statSync(path).size);
    const fd = openSync(path, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] ^= 0x01;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const f = await fill(format, path, save, [page]);
    await expect(f.run).rejects.toMatchObject({ code: 'E_IMAGE_CORRUPT', message: expect.stringMatching(new RegExp(`chunk ${c} .*CRC mismatch; the guest has run on 1 page`)) });
  });
});
