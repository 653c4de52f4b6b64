/**
 * Saving a paused guest's memory to an image file (the suspend half of quick migration).
 *
 * The vCPUs are paused (acknowledged) before this runs, so guest memory cannot change under it: pages
 * are zero-checked and written straight from guest memory (`mapped`) or copied once into the write
 * buffer (`stream`). Every byte is paced by the storage rate; `fsync` is a phase of its own.
 */
import type { FileHandle } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { crc32 } from '../codec/crc32.ts';
import { isZeroRange } from '../codec/zero-page.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import {
  CHUNK_PAGES, MAX_CONTROL_BYTES, RECORD_PREFIX_BYTES, encodeHeader, mappedLayout, packControl,
  type ImageHeader, type StreamControl,
} from './image-format.ts';
import type { ImageFormat } from '../results/quick-result.ts';
import { createImageFile, removeCreatedImage } from './image-file.ts';
import { io, writeFully, type StoragePacer } from './storage.ts';

export interface SaveReport {
  /** bytes written to the file (sparse holes not counted) */
  savedBytes: number;
  /** the file's length (a sparse mapped image is longer than what was written) */
  imageBytes: number;
  pages: number;
  zeroPages: number;
  normalPages: number;
  saveMs: number;
  fsyncMs: number;
  /**
   * The three readings of `now` the phases are cut at: before the open, before the fsync, after the
   * close. `saveMs` = syncStartMs − startMs and `fsyncMs` = endMs − syncStartMs (the close counts with
   * the fsync), so the two phases add up to endMs − startMs exactly: no gap is left unaccounted.
   */
  startMs: number;
  syncStartMs: number;
  endMs: number;
  /** this call created the file (exclusive create); false when `force` reused a regular file that was there */
  created: boolean;
  /**
   * A stream image's page index, built while saving (null for a mapped image, whose pages sit at fixed
   * offsets): where each chunk's record is, so a lazy restore can read one page without reading the
   * records before it (quick/lazy-index.ts). It is handed over with the storage; a lazy restore checks
   * what it points at against the file (each record's control and CRC) and trusts nothing else.
   */
  streamIndex: StreamPageIndex | null;
}

/** Where a stream image's records are: one entry per chunk, in file order (chunks counted per RAM block). */
export interface StreamPageIndex {
  /** file offset of the chunk's record (its 8-byte prefix) */
  readonly recordOffsets: Float64Array;
  /** file offset of the chunk's payload: its present pages, in order */
  readonly payloadOffsets: Float64Array;
  /** the present mask (bit k: page k of the chunk is in the payload) */
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  /** file offset of the device-state record, and of its payload */
  readonly deviceRecordOffset: number;
  readonly devicePayloadOffset: number;
}

const WRITE_BUFFER_BYTES = 8 * 1024 * 1024;

function baseHeader(memory: GuestMemory, deviceStateBytes: number, format: ImageFormat, tool: string): ImageHeader {
  const ps = memory.layout.pageSizeBytes;
  return {
    format,
    pageSize: ps,
    pageCount: memory.totalPages,
    blocks: memory.layout.blockBytes.map((b) => b / ps),
    deviceStateBytes,
    chunkPages: CHUNK_PAGES,
    tool,
    createdAt: new Date().toISOString(),
  };
}

/** Present mask of a chunk: bit k set when page k is not all zero. */
function presentMask(view: Uint8Array, offset: number, count: number, ps: number): { lo: number; hi: number; present: number } {
  let lo = 0;
  let hi = 0;
  let present = 0;
  for (let k = 0; k < count; k++) {
    if (isZeroRange(view, offset + k * ps, ps)) continue;
    if (k < 32) lo |= 1 << k;
    else hi |= 1 << (k - 32);
    present++;
  }
  return { lo: lo >>> 0, hi: hi >>> 0, present };
}

const isSet = (lo: number, hi: number, k: number): boolean => ((k < 32 ? lo >>> k : hi >>> (k - 32)) & 1) !== 0;

/**
 * Write the image to a new file (exclusive create, never through a symbolic link: image-file.ts);
 * `force` (the command line's `--force` only) lets it replace a regular file that is there. `now` gives
 * ms timestamps for the phase split. On any failure the partial file is removed if this call created
 * it (a file it replaced under `force` stays, truncated).
 */
export async function saveImage(options: {
  memory: GuestMemory;
  deviceState: Uint8Array;
  path: string;
  format: ImageFormat;
  pacer: StoragePacer;
  tool: string;
  now: () => number;
  force?: boolean;
}): Promise<SaveReport> {
  const { path } = options;
  const t0 = options.now();
  const { fh, created } = await createImageFile(path, options.force ?? false);
  try {
    const counts =
      options.format === 'stream' ? await writeStream(fh, options) : await writeMapped(fh, options);
    const t1 = options.now();
    await io('fsync', path, () => fh.sync());
    await io('close', path, () => fh.close());
    // Read once after the close: the close belongs to the fsync phase, so saveMs + fsyncMs is the
    // whole call (a reading between fsync and close would leave the close outside every phase).
    const t2 = options.now();
    return { ...counts, streamIndex: counts.streamIndex ?? null, saveMs: t1 - t0, fsyncMs: t2 - t1, startMs: t0, syncStartMs: t1, endMs: t2, created };
  } catch (error) {
    await fh.close().catch(() => undefined);
    if (created) await removeCreatedImage(path);
    throw error;
  }
}

type Counts = Omit<SaveReport, 'saveMs' | 'fsyncMs' | 'startMs' | 'syncStartMs' | 'endMs' | 'created' | 'streamIndex'> & { streamIndex?: StreamPageIndex };

async function writeStream(
  fh: FileHandle,
  o: { memory: GuestMemory; deviceState: Uint8Array; path: string; pacer: StoragePacer; tool: string },
): Promise<Counts> {
  const { memory, path, pacer } = o;
  const ps = memory.layout.pageSizeBytes;
  const buf = Buffer.allocUnsafe(Math.max(WRITE_BUFFER_BYTES, 2 * (RECORD_PREFIX_BYTES + MAX_CONTROL_BYTES + CHUNK_PAGES * ps), o.deviceState.length + 4096));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let used = 0;
  let position = 0;
  const flush = async (): Promise<void> => {
    if (used === 0) return;
    await pacer.take(used);
    await writeFully(fh, buf.subarray(0, used), position, path);
    position += used;
    used = 0;
  };
  const header = encodeHeader(baseHeader(memory, o.deviceState.length, 'stream', o.tool));
  buf.set(header, 0);
  used = header.length;
  let records = 0;
  let zeroPages = 0;
  let normalPages = 0;
  const chunks = memory.layout.blockBytes.reduce((n, b) => n + Math.ceil(b / ps / CHUNK_PAGES), 0);
  const index = { recordOffsets: new Float64Array(chunks), payloadOffsets: new Float64Array(chunks), lo: new Uint32Array(chunks), hi: new Uint32Array(chunks) };
  /** file offsets of the last record appended: its prefix, its payload */
  let recordAt = 0;
  let payloadFileAt = 0;
  /** Append one record: control, then payload produced by `fill` at the given offset. */
  const append = async (control: StreamControl, payloadBytes: number, fill: (at: number) => void): Promise<void> => {
    const c = packControl(control);
    if (used + RECORD_PREFIX_BYTES + c.length + payloadBytes > buf.length) await flush();
    const start = used;
    recordAt = position + start; // buf[0] is at file offset `position`
    payloadFileAt = recordAt + RECORD_PREFIX_BYTES + c.length;
    buf.set(c, start + RECORD_PREFIX_BYTES);
    const payloadAt = start + RECORD_PREFIX_BYTES + c.length;
    fill(payloadAt);
    dv.setUint32(start, c.length, true);
    dv.setUint32(start + 4, crc32(buf.subarray(start + RECORD_PREFIX_BYTES, payloadAt + payloadBytes)), true);
    used = payloadAt + payloadBytes;
    records++;
  };
  let chunk = 0;
  for (let b = 0; b < memory.blocks.length; b++) {
    const view = memory.views[b];
    const pages = memory.layout.blockBytes[b] / ps;
    for (let first = 0; first < pages; first += CHUNK_PAGES, chunk++) {
      const n = Math.min(CHUNK_PAGES, pages - first);
      const base = first * ps;
      const { lo, hi, present } = presentMask(view, base, n, ps);
      await append({ t: 'p', b, f: first, n, lo, hi, len: present * ps }, present * ps, (at) => {
        // the one copy of these pages: guest memory → write buffer
        for (let k = 0, w = at; k < n; k++) {
          if (!isSet(lo, hi, k)) continue;
          buf.set(view.subarray(base + k * ps, base + (k + 1) * ps), w);
          w += ps;
        }
      });
      index.recordOffsets[chunk] = recordAt;
      index.payloadOffsets[chunk] = payloadFileAt;
      index.lo[chunk] = lo;
      index.hi[chunk] = hi;
      normalPages += present;
      zeroPages += n - present;
    }
  }
  await append({ t: 'd', len: o.deviceState.length }, o.deviceState.length, (at) => buf.set(o.deviceState, at));
  const streamIndex: StreamPageIndex = { ...index, deviceRecordOffset: recordAt, devicePayloadOffset: payloadFileAt };
  await append({ t: 'e', pages: memory.totalPages, records: records + 1 }, 0, () => undefined);
  await flush();
  return { savedBytes: position, imageBytes: position, pages: memory.totalPages, zeroPages, normalPages, streamIndex };
}

async function writeMapped(
  fh: FileHandle,
  o: { memory: GuestMemory; deviceState: Uint8Array; path: string; pacer: StoragePacer; tool: string },
): Promise<Counts> {
  const { memory, path, pacer } = o;
  const ps = memory.layout.pageSizeBytes;
  const layout = mappedLayout(ps, memory.totalPages, o.deviceState.length, memory.layout.blockBytes.map((b) => b / ps));
  // A sparse file of the full size: pages never written read back as zeros and take no space.
  await io('truncate', path, () => fh.truncate(layout.imageBytes));
  const bitmap = new Uint32Array(layout.bitmapBytes / 4);
  const crcs = new Uint32Array(layout.crcCount);
  let saved = 0;
  let zeroPages = 0;
  let normalPages = 0;
  let chunk = 0;
  let globalFirst = 0;
  for (let b = 0; b < memory.blocks.length; b++) {
    const view = memory.views[b];
    const pages = memory.layout.blockBytes[b] / ps;
    for (let first = 0; first < pages; first += CHUNK_PAGES, chunk++) {
      const n = Math.min(CHUNK_PAGES, pages - first);
      const base = first * ps;
      const { lo, hi, present } = presentMask(view, base, n, ps);
      let crc = 0;
      // write each run of present pages straight from guest memory to its fixed offset
      for (let k = 0; k < n; ) {
        if (!isSet(lo, hi, k)) {
          k++;
          continue;
        }
        let end = k + 1;
        while (end < n && isSet(lo, hi, end)) end++;
        const run = view.subarray(base + k * ps, base + end * ps);
        const page = globalFirst + first + k;
        for (let j = k; j < end; j++) bitmap[(page + j - k) >>> 5] |= 1 << ((page + j - k) & 31);
        crc = crc32(run, crc);
        await pacer.take(run.length);
        await writeFully(fh, run, layout.dataOffset + page * ps, path);
        saved += run.length;
        k = end;
      }
      crcs[chunk] = crc;
      normalPages += present;
      zeroPages += n - present;
    }
    globalFirst += pages;
  }
  // the index: bitmap, chunk CRCs, device state — then the header, last, in place
  const index = new Uint8Array(layout.deviceOffset + o.deviceState.length - layout.bitmapOffset);
  index.set(new Uint8Array(bitmap.buffer), 0);
  index.set(new Uint8Array(crcs.buffer), layout.crcOffset - layout.bitmapOffset);
  index.set(o.deviceState, layout.deviceOffset - layout.bitmapOffset);
  await pacer.take(index.length);
  await writeFully(fh, index, layout.bitmapOffset, path);
  const header = encodeHeader({ ...baseHeader(memory, o.deviceState.length, 'mapped', o.tool), mapped: { ...layout, indexCrc: crc32(index) } });
  await pacer.take(header.length);
  await writeFully(fh, header, 0, path);
  saved += index.length + header.length;
  return { savedBytes: saved, imageBytes: layout.imageBytes, pages: memory.totalPages, zeroPages, normalPages };
}
