/**
 * What a lazy restore reads before the guest resumes (QEMU's fast snapshot load, Firecracker's
 * userfaultfd restore): the header, where every page is in the image, and the device state; no page.
 *
 * - `mapped` (fixed offsets, QEMU mapped-ram): page p is at `dataOffset + p × pageSize`; the image's
 *   own index (bitmap of written pages, chunk CRCs, device state) is read and checked here.
 * - `stream`: a page's place depends on every record before it, so the saver builds the page index
 *   while it writes (suspend.ts `StreamPageIndex`) and hands it over with the storage; here the header
 *   and the device-state record are read and checked against the file, and each chunk's record (its
 *   control and its CRC) is checked by the background reader (lazy-restore.ts) when it gets there.
 *
 * Every chunk is CHUNK_PAGES pages of one RAM block (the last of a block may be short), numbered in
 * file order, as both formats lay them out.
 */
import type { FileHandle } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { crc32 } from '../codec/crc32.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { CHUNK_PAGES, RECORD_PREFIX_BYTES, checkControl, corrupt, unpackControl, type ImageHeader } from './image-format.ts';
import { openImageForReading } from './image-file.ts';
import { readHeader, readMappedIndex } from './restore.ts';
import { readFully, type StoragePacer } from './storage.ts';
import type { StreamPageIndex } from './suspend.ts';

export interface LazyIndex {
  readonly header: ImageHeader;
  readonly chunkCount: number;
  /** global page number of each chunk's first page */
  readonly chunkFirstPage: Float64Array;
  /** pages in each chunk (1 … CHUNK_PAGES) */
  readonly chunkPages: Uint8Array;
  /** the chunk number of each RAM block's first chunk */
  readonly firstChunkOfBlock: readonly number[];
  readonly pagesPerBlock: number;
  /** present masks per chunk: bit k set when page k of the chunk is in the image (not a zero page) */
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  /** mapped: where the data starts and each chunk's CRC (over its written pages, in order) */
  readonly mapped: { readonly dataOffset: number; readonly crcs: Uint32Array } | null;
  /** stream: the saver's record offsets */
  readonly stream: StreamPageIndex | null;
}

export interface OpenLazyImage {
  fh: FileHandle;
  index: LazyIndex;
}

/** Bit k of a chunk's present mask. */
export function isPresent(index: LazyIndex, chunk: number, k: number): boolean {
  return ((k < 32 ? index.lo[chunk] >>> k : index.hi[chunk] >>> (k - 32)) & 1) !== 0;
}

/** Present pages before page k of the chunk (its rank in a stream record's payload). */
function rankOf(index: LazyIndex, chunk: number, k: number): number {
  let r = 0;
  for (let j = 0; j < k; j++) if (isPresent(index, chunk, j)) r++;
  return r;
}

/** The chunk holding global page `page`. */
export function chunkOf(index: LazyIndex, page: number): number {
  const block = Math.floor(page / index.pagesPerBlock);
  return index.firstChunkOfBlock[block] + Math.floor((page - block * index.pagesPerBlock) / CHUNK_PAGES);
}

/** File offset of page k of a chunk (which must be present). */
export function pageOffset(index: LazyIndex, chunk: number, k: number): number {
  const ps = index.header.pageSize;
  if (index.mapped) return index.mapped.dataOffset + (index.chunkFirstPage[chunk] + k) * ps;
  return index.stream!.payloadOffsets[chunk] + rankOf(index, chunk, k) * ps;
}

/** The chunk layout of a guest: first page and size of each chunk, per RAM block. */
function chunkLayout(blocks: readonly number[]): { firstPage: Float64Array; pages: Uint8Array; firstOfBlock: number[] } {
  const count = blocks.reduce((n, b) => n + Math.ceil(b / CHUNK_PAGES), 0);
  const firstPage = new Float64Array(count);
  const pages = new Uint8Array(count);
  const firstOfBlock: number[] = [];
  let c = 0;
  let global = 0;
  for (const inBlock of blocks) {
    firstOfBlock.push(c);
    for (let f = 0; f < inBlock; f += CHUNK_PAGES, c++) {
      firstPage[c] = global + f;
      pages[c] = Math.min(CHUNK_PAGES, inBlock - f);
    }
    global += inBlock;
  }
  return { firstPage, pages, firstOfBlock };
}

/**
 * Open the image, read and check what the guest needs to resume (header, index, device state: into
 * `deviceState`), every byte paced by `pacer`. `streamIndex` is the saver's (required for a stream
 * image). The caller closes `fh`.
 */
export async function openLazyImage(
  path: string, target: { memory: GuestMemory; deviceState: Uint8Array }, streamIndex: StreamPageIndex | null, pacer: StoragePacer,
): Promise<OpenLazyImage> {
  const { fh, st } = await openImageForReading(path);
  try {
    const { header } = await readHeader(fh, st, target, pacer, path);
    const layout = chunkLayout(header.blocks);
    const count = layout.pages.length;
    const base = {
      header, chunkCount: count, chunkFirstPage: layout.firstPage, chunkPages: layout.pages, firstChunkOfBlock: layout.firstOfBlock,
      pagesPerBlock: target.memory.layout.pagesPerBlock,
    };
    if (header.format === 'mapped') {
      const { bitmap, crcs, deviceState } = await readMappedIndex(fh, header, st, pacer, path);
      const lo = new Uint32Array(count);
      const hi = new Uint32Array(count);
      for (let c = 0; c < count; c++) {
        for (let k = 0; k < layout.pages[c]; k++) {
          const p = layout.firstPage[c] + k;
          if (((bitmap[p >>> 5] >>> (p & 31)) & 1) === 0) continue;
          if (k < 32) lo[c] |= 1 << k;
          else hi[c] |= 1 << (k - 32);
        }
      }
      target.deviceState.set(deviceState);
      return { fh, index: { ...base, lo, hi, mapped: { dataOffset: header.mapped!.dataOffset, crcs }, stream: null } };
    }
    if (streamIndex === null || streamIndex.recordOffsets.length !== count) {
      corrupt(path, 'page index', `a lazy restore of a stream image needs the saver's page index of ${count} chunks, got ${streamIndex === null ? 'none' : streamIndex.recordOffsets.length}`);
    }
    await readDeviceRecord(fh, header, streamIndex, st.size, target.deviceState, pacer, path);
    return { fh, index: { ...base, lo: streamIndex.lo, hi: streamIndex.hi, mapped: null, stream: streamIndex } };
  } catch (error) {
    await fh.close().catch(() => undefined);
    throw error;
  }
}

/** Read the stream image's device-state record where the index says it is, check it, copy the state out. */
async function readDeviceRecord(
  fh: FileHandle, header: ImageHeader, s: StreamPageIndex, size: number, deviceState: Uint8Array, pacer: StoragePacer, path: string,
): Promise<void> {
  const where = `device-state record (offset ${s.deviceRecordOffset})`;
  const controlBytes = s.devicePayloadOffset - s.deviceRecordOffset - RECORD_PREFIX_BYTES;
  const length = RECORD_PREFIX_BYTES + controlBytes + header.deviceStateBytes;
  if (controlBytes <= 0 || s.deviceRecordOffset + length > size) corrupt(path, where, `outside the file of ${size} bytes`);
  const bytes = Buffer.alloc(length);
  await pacer.take(length);
  if ((await readFully(fh, bytes, 0, length, s.deviceRecordOffset, path)) !== length) corrupt(path, where, 'truncated');
  if (bytes.readUInt32LE(0) !== controlBytes) corrupt(path, where, `control length ${bytes.readUInt32LE(0)}, the index says ${controlBytes}`);
  if (crc32(bytes.subarray(RECORD_PREFIX_BYTES)) !== bytes.readUInt32LE(4)) corrupt(path, where, 'CRC mismatch');
  const control = checkControl(unpackControl(bytes.subarray(RECORD_PREFIX_BYTES, RECORD_PREFIX_BYTES + controlBytes), path, where), header, path, where);
  if (control.t !== 'd') corrupt(path, where, `a record of type ${JSON.stringify(control.t)} where the index puts the device state`);
  deviceState.set(bytes.subarray(RECORD_PREFIX_BYTES + controlBytes));
}
