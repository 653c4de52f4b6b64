/**
 * Lazy restore after the guest resumed on the destination (QEMU's fast snapshot load: a fault thread
 * and an eager thread; Firecracker's userfaultfd page server). One loop on the main thread plays both,
 * on one storage (one StoragePacer: a fault and the background share its rate):
 *   - the fault handler: each page a vCPU asked for on the request ring (the vCPU blocks on the received
 *     bitmap, as in post-copy) is read from its place in the image (one page, paced like any read), or
 *     zero-filled when the image has it as a zero page (UFFDIO_ZEROPAGE), then marked received;
 *   - the background reader: between requests, the next chunk in file order: its pages not yet
 *     received are read, the chunk's CRC is checked over all its pages (a page faulted in earlier counts
 *     through the CRC taken when it was read: crc32Combine), then the pages are placed and marked.
 * A vCPU's request waits behind at most the chunk being read (CHUNK_PAGES pages).
 *
 * Ownership (src/memory/received-bitmap.ts): this loop is the only writer of the received bitmap and of
 * every destination page whose bit is clear; it writes a page's bytes, then marks it. A vCPU touches a
 * destination page only once it is marked. The loop never awaits between reading a chunk and placing
 * it with a request served in between, so no page is placed twice.
 *
 * A corrupt image (a chunk's CRC, a record's control, a short read) throws E_IMAGE_CORRUPT: by then
 * the guest has run on the destination, possibly on a page of that chunk: the caller reports it lost.
 */
import type { FileHandle } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import type { Clock } from '../clock.ts';
import { crc32 } from '../codec/crc32.ts';
import { crc32Combine } from '../codec/crc32-combine.ts';
import { MigbenchError } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { isReceived, markReceived } from '../memory/received-bitmap.ts';
import type { RequestRing } from '../memory/request-ring.ts';
import { CHUNK_PAGES, MAX_CONTROL_BYTES, RECORD_PREFIX_BYTES, checkControl, corrupt, unpackControl } from './image-format.ts';
import { chunkOf, isPresent, pageOffset, type LazyIndex } from './lazy-index.ts';
import { readFully, type StoragePacer } from './storage.ts';

export interface LazyFillInput {
  readonly path: string;
  readonly fh: FileHandle;
  readonly index: LazyIndex;
  readonly dest: GuestMemory;
  /** the received bitmap (all clear at the resume) */
  readonly received: Int32Array;
  readonly requests: RequestRing;
  readonly pacer: StoragePacer;
  readonly clock: Clock;
  /** throws when the guest's vCPUs have failed (the pool's error) */
  readonly check: () => void;
}

/** What the fill did (times on the caller's clock). */
export interface LazyFillFacts {
  /** requests taken from the ring (a page asked for twice, or already placed, counts too) */
  requests: number;
  /** pages read on demand, and zero pages filled on demand */
  faultPages: number;
  zeroFaultPages: number;
  /** pages the background reader placed (zero pages included) */
  backgroundPages: number;
  faultBytes: number;
  backgroundBytes: number;
  /** when every page was in place */
  completedAtMs: number;
}

export function newFillFacts(): LazyFillFacts {
  return { requests: 0, faultPages: 0, zeroFaultPages: 0, backgroundPages: 0, faultBytes: 0, backgroundBytes: 0, completedAtMs: 0 };
}

/** Fill the destination; `f` is counted into as it goes (what a failed fill did stays in it). */
export async function fillLazily(i: LazyFillInput, f: LazyFillFacts = newFillFacts()): Promise<LazyFillFacts> {
  const { index, dest, received, requests, pacer, path, fh } = i;
  const ps = index.header.pageSize;
  const total = index.header.pageCount;
  /** CRC-32 of each page the fault handler read, taken before the guest could touch it */
  const faultCrc = new Uint32Array(total);
  const scratch = Buffer.allocUnsafe(CHUNK_PAGES * ps);
  const recordHead = Buffer.allocUnsafe(RECORD_PREFIX_BYTES + MAX_CONTROL_BYTES);
  const read = new Uint8Array(CHUNK_PAGES);
  const request = { page: 0, atMs: 0 };

  const faultIn = async (page: number): Promise<void> => {
    const c = chunkOf(index, page);
    const k = page - index.chunkFirstPage[c];
    const view = dest.views[dest.blockOf(page)];
    const at = dest.offsetOf(page);
    if (!isPresent(index, c, k)) {
      view.fill(0, at, at + ps); // a zero page: no storage read (UFFDIO_ZEROPAGE)
      f.zeroFaultPages++;
    } else {
      const into = view.subarray(at, at + ps);
      await pacer.take(ps);
      const offset = pageOffset(index, c, k);
      if ((await readFully(fh, into, 0, ps, offset, path)) !== ps) corrupt(path, `page ${page} (offset ${offset})`, 'truncated');
      faultCrc[page] = crc32(into);
      f.faultPages++;
      f.faultBytes += ps;
    }
    markReceived(received, page); // after the bytes: the vCPU waiting on it runs on
  };

  const serveRequests = async (): Promise<void> => {
    while (requests.tryTake(request)) {
      f.requests++;
      if (request.page >= total) throw new MigbenchError('E_WORKER', `lazy restore: a vCPU asked for page ${request.page}, the guest has ${total}`);
      if (!isReceived(received, request.page)) await faultIn(request.page);
    }
  };

  /** Stream image: read the chunk's record head, check it against the index; its CRC so far and the one expected. */
  const streamHead = async (c: number, block: number, firstInBlock: number, n: number): Promise<{ crc: number; expected: number }> => {
    const s = index.stream!;
    const where = `record of chunk ${c} (offset ${s.recordOffsets[c]})`;
    const controlBytes = s.payloadOffsets[c] - s.recordOffsets[c] - RECORD_PREFIX_BYTES;
    if (controlBytes <= 0 || controlBytes > MAX_CONTROL_BYTES) corrupt(path, where, `control length ${controlBytes} out of range`);
    const head = recordHead.subarray(0, RECORD_PREFIX_BYTES + controlBytes);
    await pacer.take(head.length);
    if ((await readFully(fh, head, 0, head.length, s.recordOffsets[c], path)) !== head.length) corrupt(path, where, 'truncated');
    f.backgroundBytes += head.length;
    if (head.readUInt32LE(0) !== controlBytes) corrupt(path, where, `control length ${head.readUInt32LE(0)}, the index says ${controlBytes}`);
    const control = checkControl(unpackControl(head.subarray(RECORD_PREFIX_BYTES), path, where), index.header, path, where);
    if (control.t !== 'p' || control.b !== block || control.f !== firstInBlock || control.n !== n || control.lo !== index.lo[c] || control.hi !== index.hi[c]) {
      corrupt(path, where, 'the record is not the chunk the index says is there');
    }
    return { crc: crc32(head.subarray(RECORD_PREFIX_BYTES)), expected: head.readUInt32LE(4) };
  };

  const background = async (c: number): Promise<void> => {
    const first = index.chunkFirstPage[c];
    const n = index.chunkPages[c];
    const block = dest.blockOf(first);
    let { crc, expected } = index.stream
      ? await streamHead(c, block, first - block * index.pagesPerBlock, n)
      : { crc: 0, expected: index.mapped!.crcs[c] };
    // read the runs of present pages not yet received (contiguous in the file in both formats)
    read.fill(0);
    for (let k = 0; k < n; ) {
      if (!isPresent(index, c, k) || isReceived(received, first + k)) {
        k++;
        continue;
      }
      let end = k + 1;
      while (end < n && isPresent(index, c, end) && !isReceived(received, first + end)) end++;
      const bytes = (end - k) * ps;
      const offset = pageOffset(index, c, k);
      await pacer.take(bytes);
      if ((await readFully(fh, scratch, k * ps, bytes, offset, path)) !== bytes) corrupt(path, `chunk ${c} (offset ${offset})`, 'truncated');
      f.backgroundBytes += bytes;
      read.fill(1, k, end);
      k = end;
    }
    // the chunk's CRC over every present page in order: read now, or faulted in before
    let faulted = 0;
    for (let k = 0; k < n; k++) {
      if (!isPresent(index, c, k)) continue;
      if (read[k] === 1) crc = crc32(scratch.subarray(k * ps, (k + 1) * ps), crc);
      else {
        crc = crc32Combine(crc, faultCrc[first + k], ps);
        faulted++;
      }
    }
    if (crc !== expected) {
      const ran = faulted > 0 ? `; the guest has run on ${faulted} page(s) of it` : '';
      corrupt(path, `chunk ${c} (pages ${first}..${first + n - 1})`, `CRC mismatch${ran}`);
    }
    // place what is still missing (nothing was served since the reads: no page is placed twice)
    const view = dest.views[block];
    for (let k = 0; k < n; k++) {
      const page = first + k;
      if (isReceived(received, page)) continue;
      const at = dest.offsetOf(page);
      if (read[k] === 1) view.set(scratch.subarray(k * ps, (k + 1) * ps), at);
      else view.fill(0, at, at + ps);
      markReceived(received, page);
      f.backgroundPages++;
    }
  };

  for (let c = 0; c < index.chunkCount; c++) {
    i.check();
    await serveRequests();
    await background(c);
  }
  f.completedAtMs = i.clock.nowMs();
  // requests still on the ring were for pages placed since: count them (as post-copy does)
  while (requests.tryTake(request)) f.requests++;
  return f;
}
