/**
 * Reading an image back into the destination's memory (the restore half of quick migration), or only
 * checking it (`dest` null: `migbench image inspect`).
 *
 * Trusts nothing: the prefix, the header and its CRC, every record or index and its CRC, every page
 * index and length are checked; a bad image is an E_IMAGE_CORRUPT error naming what and where. Bytes
 * are only ever written inside the destination's RAM blocks, at pages the checks allowed.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { Buffer } from 'node:buffer';
import { crc32 } from '../codec/crc32.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import {
  CHUNK_PAGES, MAPPED_HEADER_RESERVED, MAX_CONTROL_BYTES, PREFIX_BYTES, RECORD_PREFIX_BYTES, checkControl, corrupt,
  countPresent, decodeHeader, decodePrefix, forgetLastUnpacked, unpackControl, type ImageHeader,
} from './image-format.ts';
import { openImageForReading } from './image-file.ts';
import { readFully, type StoragePacer } from './storage.ts';

export interface RestoreReport {
  header: ImageHeader;
  fileBytes: number;
  /** bytes read from the file */
  readBytes: number;
  pages: number;
  zeroPages: number;
  normalPages: number;
}

export interface RestoreTarget {
  memory: GuestMemory;
  deviceState: Uint8Array;
}

const READ_BUFFER_BYTES = 8 * 1024 * 1024;

export async function restoreImage(path: string, target: RestoreTarget | null, pacer: StoragePacer): Promise<RestoreReport> {
  // without blocking, a regular file only (a FIFO, a device or a directory is refused here)
  const { fh, st } = await openImageForReading(path);
  try {
    const { size } = st;
    const { header, headerBytes } = await readHeader(fh, st, target, pacer, path);
    const report = header.format === 'stream'
      ? await readStream(fh, header, PREFIX_BYTES + headerBytes, size, target, pacer, path)
      : await readMapped(fh, header, st, target, pacer, path);
    return { ...report, readBytes: pacer.bytes };
  } finally {
    forgetLastUnpacked();
    await fh.close().catch(() => undefined);
  }
}

/**
 * Read and check the prefix and the header (and, for a mapped image, the file's size against its
 * layout); with a target, check the image fits it. Shared with the lazy restore (lazy-index.ts).
 */
export async function readHeader(fh: FileHandle, st: Stats, target: RestoreTarget | null, pacer: StoragePacer, path: string): Promise<{ header: ImageHeader; headerBytes: number }> {
  const first = Buffer.alloc(Math.min(st.size, MAPPED_HEADER_RESERVED));
  await pacer.take(first.length);
  const got = await readFully(fh, first, 0, first.length, 0, path);
  const { headerBytes, headerCrc } = decodePrefix(first.subarray(0, got), path);
  if (PREFIX_BYTES + headerBytes > got) corrupt(path, `header (offset ${PREFIX_BYTES})`, `truncated: ${headerBytes} header bytes announced, ${got - PREFIX_BYTES} present`);
  const header = decodeHeader(first.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes), headerCrc, path);
  if (target) checkFits(header, target, path);
  if (header.format === 'mapped') checkMappedSize(header, st, path);
  return { header, headerBytes };
}

function checkFits(h: ImageHeader, t: RestoreTarget, path: string): void {
  const l = t.memory.layout;
  const blocks = l.blockBytes.map((b) => b / l.pageSizeBytes);
  if (h.pageSize !== l.pageSizeBytes || h.pageCount !== l.totalPages || h.blocks.join() !== blocks.join() || h.deviceStateBytes !== t.deviceState.length) {
    corrupt(path, 'header', `the image holds ${h.pageCount} pages of ${h.pageSize} B in ${h.blocks.length} blocks and ${h.deviceStateBytes} B of device state; the destination has ${l.totalPages} pages of ${l.pageSizeBytes} B in ${blocks.length} blocks and ${t.deviceState.length} B`);
  }
}

/**
 * A mapped image is sparse (zero pages are holes), so its length proves nothing: a file truncated to
 * 4 TiB costs no disk and would make a reader walk (and allocate the index of) a 4 TiB guest. Before
 * anything is read or allocated: the length must be the layout's, and the index, which the writer
 * writes in full, must be backed by blocks on disk. Up to MAX_SPARSE_FACTOR× more than the blocks
 * allocated is let through for file systems that compress.
 */
export const MAX_SPARSE_FACTOR = 16;
const SPARSE_ALLOWANCE_BYTES = 1 << 20;

function checkMappedSize(header: ImageHeader, st: Stats, path: string): void {
  const m = header.mapped!;
  if (st.size !== m.imageBytes) corrupt(path, 'file', `${st.size < m.imageBytes ? 'truncated' : 'too long'}: ${st.size} bytes, a mapped image of this guest is ${m.imageBytes}`);
  checkBacked(m.deviceOffset + header.deviceStateBytes - m.bitmapOffset, 'its index', header, st, path);
}

/** Refuse a mapped image that claims more data than the file holds on disk (see checkMappedSize). */
function checkBacked(claimedBytes: number, what: string, header: ImageHeader, st: Stats, path: string): void {
  const onDiskBytes = st.blocks * 512;
  if (claimedBytes > onDiskBytes * MAX_SPARSE_FACTOR + SPARSE_ALLOWANCE_BYTES) {
    corrupt(path, 'file', `claims a guest of ${header.pageCount} pages of ${header.pageSize} B, ${claimedBytes} bytes of data (${what}), but only ${onDiskBytes} bytes of the file are on disk (a sparse file claiming more than it holds)`);
  }
}

type Counts = Omit<RestoreReport, 'readBytes' | 'header'> & { header: ImageHeader };

async function readStream(
  fh: FileHandle, header: ImageHeader, start: number, size: number, target: RestoreTarget | null, pacer: StoragePacer, path: string,
): Promise<Counts> {
  const ps = header.pageSize;
  // Room for the largest record (twice, to slide), but never more than the rest of the file: no record
  // is larger than that, and the header's sizes (pages up to 2 MiB, device state up to 1 GiB) are only
  // claims until the records are read. Found by fuzzing: a 46 KB image whose header claimed 1 GiB of
  // device state made `image inspect` allocate 2 GiB.
  const largest = Math.max(READ_BUFFER_BYTES, 2 * (RECORD_PREFIX_BYTES + MAX_CONTROL_BYTES + CHUNK_PAGES * ps), 2 * header.deviceStateBytes + 4096);
  const buf = Buffer.allocUnsafe(Math.min(largest, Math.max(0, size - start)));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let bufStart = 0; // buffer offset of the next unread byte
  let bufEnd = 0;
  let filePos = start; // file offset of buf[bufEnd]
  /** Make `n` bytes available at buf[bufStart…]; `where` names the record for a truncation message. */
  const need = async (n: number, where: string): Promise<void> => {
    if (bufEnd - bufStart >= n) return;
    buf.copyWithin(0, bufStart, bufEnd);
    bufEnd -= bufStart;
    bufStart = 0;
    while (bufEnd < n) {
      const want = Math.min(buf.length - bufEnd, size - filePos);
      if (want <= 0) corrupt(path, where, `truncated: the file ends at ${size} bytes, ${n - bufEnd} more were needed`);
      await pacer.take(want);
      const got = await readFully(fh, buf, bufEnd, want, filePos, path);
      if (got === 0) corrupt(path, where, `truncated at offset ${filePos}`);
      bufEnd += got;
      filePos += got;
    }
  };
  const offsetOf = (bufOffset: number): number => filePos - (bufEnd - bufOffset);
  let nextBlock = 0;
  let nextPage = 0;
  let records = 0;
  let pages = 0;
  let zeroPages = 0;
  let sawDevice = false;
  for (;;) {
    const at = offsetOf(bufStart);
    const where = `record ${records} (offset ${at})`;
    await need(RECORD_PREFIX_BYTES, where);
    const controlBytes = dv.getUint32(bufStart, true);
    const crc = dv.getUint32(bufStart + 4, true);
    if (controlBytes === 0 || controlBytes > MAX_CONTROL_BYTES) corrupt(path, where, `control length ${controlBytes} out of range`);
    await need(RECORD_PREFIX_BYTES + controlBytes, where);
    const cStart = bufStart + RECORD_PREFIX_BYTES;
    const control = checkControl(unpackControl(buf.subarray(cStart, cStart + controlBytes), path, where), header, path, where);
    const payloadBytes = control.t === 'e' ? 0 : control.len;
    await need(RECORD_PREFIX_BYTES + controlBytes + payloadBytes, where); // may move the bytes: offsets after it
    const pStart = bufStart + RECORD_PREFIX_BYTES + controlBytes;
    if (crc32(buf.subarray(pStart - controlBytes, pStart + payloadBytes)) !== crc) corrupt(path, where, 'CRC mismatch');
    records++;
    if (control.t === 'p') {
      if (control.b !== nextBlock || control.f !== nextPage) {
        corrupt(path, where, `pages out of order: block ${control.b} page ${control.f}, expected block ${nextBlock} page ${nextPage}`);
      }
      if (target) {
        const view = target.memory.views[control.b];
        for (let k = 0, src = pStart; k < control.n; k++) {
          const off = (control.f + k) * ps;
          if (((k < 32 ? control.lo >>> k : control.hi >>> (k - 32)) & 1) !== 0) {
            view.set(buf.subarray(src, src + ps), off);
            src += ps;
          } else {
            view.fill(0, off, off + ps);
          }
        }
      }
      const present = countPresent(control.lo, control.hi, control.n);
      pages += control.n;
      zeroPages += control.n - present;
      nextPage += control.n;
      if (nextPage === header.blocks[nextBlock]) {
        nextBlock++;
        nextPage = 0;
      }
    } else if (control.t === 'd') {
      if (sawDevice) corrupt(path, where, 'a second device-state record (an image holds one)');
      if (nextBlock !== header.blocks.length) corrupt(path, where, `device state before all pages (${pages} of ${header.pageCount})`);
      if (target) target.deviceState.set(buf.subarray(pStart, pStart + payloadBytes));
      sawDevice = true;
    } else {
      if (!sawDevice) corrupt(path, where, 'end of image before the device state');
      if (control.pages !== header.pageCount || pages !== header.pageCount) corrupt(path, where, `end record counts ${control.pages} pages, image has ${pages}, header says ${header.pageCount}`);
      if (control.records !== records) corrupt(path, where, `end record counts ${control.records} records, image has ${records}`);
      const end = offsetOf(pStart);
      if (end !== size) corrupt(path, `offset ${end}`, `${size - end} bytes of trailing data after the end record`);
      return { header, fileBytes: size, pages, zeroPages, normalPages: pages - zeroPages };
    }
    bufStart = pStart + payloadBytes;
  }
}

async function readMapped(
  fh: FileHandle, header: ImageHeader, st: Stats, target: RestoreTarget | null, pacer: StoragePacer, path: string,
): Promise<Counts> {
  const m = header.mapped!;
  const ps = header.pageSize;
  const size = st.size; // checked against the layout, and the index against the disk, by checkMappedSize
  const { index, bitmap, crcs } = await readMappedIndex(fh, header, st, pacer, path);
  const scratch = target ? null : Buffer.allocUnsafe(CHUNK_PAGES * ps);
  let pages = 0;
  let zeroPages = 0;
  let chunk = 0;
  let globalFirst = 0;
  for (let b = 0; b < header.blocks.length; b++) {
    const inBlock = header.blocks[b];
    const view = target?.memory.views[b];
    for (let first = 0; first < inBlock; first += CHUNK_PAGES, chunk++) {
      const n = Math.min(CHUNK_PAGES, inBlock - first);
      let crc = 0;
      for (let k = 0; k < n; ) {
        const page = globalFirst + first + k;
        if (((bitmap[page >>> 5] >>> (page & 31)) & 1) === 0) {
          view?.fill(0, (first + k) * ps, (first + k + 1) * ps);
          zeroPages++;
          k++;
          continue;
        }
        let end = k + 1;
        while (end < n && ((bitmap[(globalFirst + first + end) >>> 5] >>> ((globalFirst + first + end) & 31)) & 1) !== 0) end++;
        const bytes = (end - k) * ps;
        const into = view ? view.subarray((first + k) * ps, (first + end) * ps) : scratch!.subarray(0, bytes);
        await pacer.take(bytes);
        const got = await readFully(fh, into, 0, bytes, m.dataOffset + page * ps, path);
        if (got !== bytes) corrupt(path, `page ${page} (offset ${m.dataOffset + page * ps})`, 'truncated');
        crc = crc32(into, crc);
        k = end;
      }
      if (crc !== crcs[chunk]) corrupt(path, `chunk ${chunk} (pages ${globalFirst + first}..${globalFirst + first + n - 1})`, 'CRC mismatch');
      pages += n;
    }
    globalFirst += inBlock;
  }
  if (target) target.deviceState.set(index.subarray(m.deviceOffset - m.bitmapOffset));
  return { header, fileBytes: size, pages, zeroPages, normalPages: pages - zeroPages };
}

/** A mapped image's index (written-pages bitmap, chunk CRCs, device state), read and checked. Shared with the lazy restore. */
export async function readMappedIndex(
  fh: FileHandle, header: ImageHeader, st: Stats, pacer: StoragePacer, path: string,
): Promise<{ index: Uint8Array; bitmap: Uint32Array; crcs: Uint32Array; deviceState: Uint8Array }> {
  const m = header.mapped!;
  const index = new Uint8Array(m.deviceOffset + header.deviceStateBytes - m.bitmapOffset);
  await pacer.take(index.length);
  await readFully(fh, index, 0, index.length, m.bitmapOffset, path);
  if (crc32(index) !== m.indexCrc) corrupt(path, `index (offset ${m.bitmapOffset})`, 'CRC mismatch');
  const bitmap = new Uint32Array(index.buffer, 0, m.bitmapBytes / 4);
  const crcs = new Uint32Array(index.buffer, m.crcOffset - m.bitmapOffset, m.crcCount);
  const lastBits = header.pageCount & 31;
  if (lastBits !== 0 && bitmap[bitmap.length - 1] >>> lastBits !== 0) corrupt(path, 'index', 'bitmap marks pages beyond the page count');
  // the pages the bitmap says were written must be on disk too (else reading holes would cost as much)
  let written = 0;
  for (const word of bitmap) written += popcount(word);
  checkBacked(index.length + written * header.pageSize, `its index and ${written} written pages`, header, st, path);
  return { index, bitmap, crcs, deviceState: index.subarray(m.deviceOffset - m.bitmapOffset) };
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
