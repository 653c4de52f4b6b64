/**
 * The quick-migration image: what a suspended guest's memory looks like on storage. Pure: layout,
 * encoding and validation, no I/O (suspend.ts writes, restore.ts reads).
 *
 * Both formats start with the same prefix at offset 0 (little-endian):
 *   0   8 bytes  magic "MGBIMAGE"
 *   8   u32      format version (IMAGE_VERSION)
 *   12  u32      header length H
 *   16  u32      CRC-32 of the H header bytes
 *   20  H bytes  the header: a msgpack map (ImageHeader)
 *
 * `stream` (like QEMU's `file:` migration): after the header, records in page order. Each record is
 *   u32 control length C, u32 CRC-32 of (control bytes + payload), C bytes of msgpack control, payload.
 *   Controls: pages {t:"p", b: block, f: first page in block, n: count, lo, hi: present mask, len}
 *   (a zero page is a page without payload), device state {t:"d", len}, end {t:"e", pages, records}.
 *
 * `mapped` (like QEMU's mapped-ram): every page has a fixed offset, `dataOffset + page × pageSize`;
 *   zero pages are never written, so the file is sparse and a restore reads only what is there. An index
 *   after the header holds a bitmap of written pages, one CRC-32 per chunk of CHUNK_PAGES pages (over
 *   the written pages of the chunk, in order) and the device state; its CRC is in the header. The
 *   header is written last, so an interrupted save leaves no valid magic.
 */
import { Packr } from 'msgpackr';
import { crc32 } from '../codec/crc32.ts';
import { MigbenchError } from '../errors.ts';
import type { ImageFormat } from '../results/quick-result.ts';

export const IMAGE_MAGIC = 'MGBIMAGE';
export const IMAGE_VERSION = 1;
export const PREFIX_BYTES = 20;
/** Space reserved for prefix + header in a mapped image (it is written last, in place). */
export const MAPPED_HEADER_RESERVED = 64 * 1024;
export const CHUNK_PAGES = 64;
/** Largest control record a reader accepts. */
export const MAX_CONTROL_BYTES = 1024;
/** Largest header a reader accepts (a 4 TiB guest in 1 GiB blocks is far below). */
export const MAX_HEADER_BYTES = MAPPED_HEADER_RESERVED - PREFIX_BYTES;
export const IMAGE_FORMATS: readonly ImageFormat[] = ['stream', 'mapped'];

export interface MappedIndexLayout {
  bitmapOffset: number;
  bitmapBytes: number;
  crcOffset: number;
  crcCount: number;
  deviceOffset: number;
  dataOffset: number;
  /** CRC-32 of the index region [bitmapOffset, deviceOffset + deviceStateBytes) */
  indexCrc: number;
  imageBytes: number;
}

export interface ImageHeader {
  format: ImageFormat;
  pageSize: number;
  pageCount: number;
  /** the RAM block table: pages in each block */
  blocks: number[];
  deviceStateBytes: number;
  chunkPages: number;
  tool: string;
  createdAt: string;
  mapped?: MappedIndexLayout;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** msgpack bytes of a value, copied out of msgpackr's reusable arena. */
export function packControl(value: unknown): Uint8Array {
  return Uint8Array.from(packr.pack(value));
}

export function corrupt(path: string, where: string, what: string): never {
  // the message quotes bytes of the file: no control character reaches the terminal
  throw new MigbenchError('E_IMAGE_CORRUPT', stripControls(`image ${path}: ${where}: ${what}`));
}

/** C0 controls (ESC included), DEL and C1 controls: what a terminal may act on instead of printing. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` without control characters, for printing a string read from an image (header fields, paths). */
export function stripControls(text: string): string {
  return text.replace(CONTROLS, '');
}

/** The prefix + header bytes. */
export function encodeHeader(header: ImageHeader): Uint8Array {
  const body = packControl(header);
  const out = new Uint8Array(PREFIX_BYTES + body.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = IMAGE_MAGIC.charCodeAt(i);
  dv.setUint32(8, IMAGE_VERSION, true);
  dv.setUint32(12, body.length, true);
  dv.setUint32(16, crc32(body), true);
  out.set(body, PREFIX_BYTES);
  return out;
}

/** Check the 20-byte prefix; returns the header length and CRC. */
export function decodePrefix(bytes: Uint8Array, path: string): { headerBytes: number; headerCrc: number } {
  if (bytes.length < PREFIX_BYTES) corrupt(path, 'offset 0', `truncated: ${bytes.length} bytes, a header needs at least ${PREFIX_BYTES}`);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== IMAGE_MAGIC.charCodeAt(i)) corrupt(path, 'offset 0', `wrong magic (not a migbench image)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== IMAGE_VERSION) corrupt(path, 'offset 8', `unknown format version ${version} (this migbench reads version ${IMAGE_VERSION})`);
  const headerBytes = dv.getUint32(12, true);
  if (headerBytes === 0 || headerBytes > MAX_HEADER_BYTES) corrupt(path, 'offset 12', `header length ${headerBytes} out of range`);
  return { headerBytes, headerCrc: dv.getUint32(16, true) };
}

/** Longest `tool` or `createdAt` a reader accepts (the writer's are under 40). */
export const MAX_TEXT_CHARS = 200;

/** A short description of a header value of the wrong type, for a message. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'binary data';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  return `${typeof v} ${String(v)}`;
}

const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** Decode and validate the header bytes (after the prefix). */
export function decodeHeader(body: Uint8Array, expectedCrc: number, path: string): ImageHeader {
  if (crc32(body) !== expectedCrc) corrupt(path, `header (offset ${PREFIX_BYTES})`, 'CRC mismatch');
  let h: Record<string, unknown>;
  try {
    h = packr.unpack(body) as Record<string, unknown>;
  } catch (error) {
    corrupt(path, 'header', `not a valid record (${(error as Error).message})`);
  }
  const bad = (field: string, value: unknown): never => corrupt(path, 'header', `${field} ${JSON.stringify(value)} out of range`);
  if (typeof h !== 'object' || h === null) corrupt(path, 'header', 'not a record');
  if (!IMAGE_FORMATS.includes(h.format as ImageFormat)) bad('format', h.format);
  if (!isUint(h.pageSize) || h.pageSize < 512 || h.pageSize > 2 ** 21 || (h.pageSize & (h.pageSize - 1)) !== 0) bad('pageSize', h.pageSize);
  if (!isUint(h.pageCount, 2 ** 40) || h.pageCount === 0) bad('pageCount', h.pageCount);
  if (!Array.isArray(h.blocks) || h.blocks.length === 0 || !h.blocks.every((b) => isUint(b) && b > 0)) bad('blocks', h.blocks);
  const blocks = h.blocks as number[];
  if (blocks.reduce((a, b) => a + b, 0) !== h.pageCount) corrupt(path, 'header', `RAM block table adds up to ${blocks.reduce((a, b) => a + b, 0)} pages, pageCount is ${h.pageCount}`);
  if (!isUint(h.deviceStateBytes, 2 ** 30)) bad('deviceStateBytes', h.deviceStateBytes);
  if (h.chunkPages !== CHUNK_PAGES) bad('chunkPages', h.chunkPages);
  // the writer's strings (shown by `image inspect`): a string, of a header-sized length
  if (typeof h.tool !== 'string' || h.tool.length > MAX_TEXT_CHARS) corrupt(path, 'header', `tool: expected a string of at most ${MAX_TEXT_CHARS} characters, got ${describe(h.tool)}`);
  if (typeof h.createdAt !== 'string' || h.createdAt.length > MAX_TEXT_CHARS) corrupt(path, 'header', `createdAt: expected a date string of at most ${MAX_TEXT_CHARS} characters, got ${describe(h.createdAt)}`);
  const header = h as unknown as ImageHeader;
  if (header.format === 'mapped') {
    const m = h.mapped as Record<string, unknown> | undefined;
    if (typeof m !== 'object' || m === null) corrupt(path, 'header', 'mapped image without its index layout');
    const expected = mappedLayout(header.pageSize, header.pageCount, header.deviceStateBytes, header.blocks);
    for (const k of ['bitmapOffset', 'bitmapBytes', 'crcOffset', 'crcCount', 'deviceOffset', 'dataOffset', 'imageBytes'] as const) {
      if (m[k] !== expected[k]) corrupt(path, 'header', `mapped.${k} ${JSON.stringify(m[k])}, expected ${expected[k]}`);
    }
    if (!isUint(m.indexCrc, 0xffffffff)) bad('mapped.indexCrc', m.indexCrc);
  } else if (h.mapped !== undefined) {
    corrupt(path, 'header', 'stream image with a mapped index');
  }
  return header;
}

/**
 * Where everything lives in a mapped image (indexCrc left 0: it is known only after writing).
 * Chunks of CHUNK_PAGES pages are counted per RAM block (`blocks`, pages in each; the last chunk of a
 * block may be short), as the writer and the reader walk them. Without `blocks` the guest is taken as
 * blocks that all hold a multiple of CHUNK_PAGES pages but the last (every layout guestLayout makes),
 * where both counts agree.
 */
export function mappedLayout(pageSize: number, pageCount: number, deviceStateBytes: number, blocks?: readonly number[]): MappedIndexLayout {
  const bitmapOffset = MAPPED_HEADER_RESERVED;
  const bitmapBytes = Math.ceil(pageCount / 32) * 4;
  const crcOffset = bitmapOffset + bitmapBytes;
  // Found by fuzzing: counting chunks over the whole guest undercounts them when a block other than
  // the last ends in a short chunk, and the writer's CRC of the extra chunk fell off the end of the
  // table (the image could not be read back).
  const crcCount = blocks ? blocks.reduce((n, b) => n + Math.ceil(b / CHUNK_PAGES), 0) : Math.ceil(pageCount / CHUNK_PAGES);
  const deviceOffset = crcOffset + crcCount * 4;
  const align = Math.max(pageSize, 4096);
  const dataOffset = Math.ceil((deviceOffset + deviceStateBytes) / align) * align;
  return { bitmapOffset, bitmapBytes, crcOffset, crcCount, deviceOffset, dataOffset, indexCrc: 0, imageBytes: dataOffset + pageCount * pageSize };
}

// --- stream records ---

export type StreamControl =
  | { t: 'p'; b: number; f: number; n: number; lo: number; hi: number; len: number }
  | { t: 'd'; len: number }
  | { t: 'e'; pages: number; records: number };

/** Bytes before a record's control: u32 control length, u32 CRC-32 of (control + payload). */
export const RECORD_PREFIX_BYTES = 8;

/** Validate a decoded stream control record. */
export function checkControl(raw: unknown, header: ImageHeader, path: string, where: string): StreamControl {
  if (typeof raw !== 'object' || raw === null) corrupt(path, where, 'record is not a map');
  const r = raw as Record<string, unknown>;
  const ps = header.pageSize;
  switch (r.t) {
    case 'p': {
      if (!isUint(r.b) || r.b >= header.blocks.length) corrupt(path, where, `RAM block ${JSON.stringify(r.b)} out of range (${header.blocks.length} blocks)`);
      const inBlock = header.blocks[r.b];
      if (!isUint(r.n) || r.n < 1 || r.n > CHUNK_PAGES) corrupt(path, where, `page count ${JSON.stringify(r.n)} out of range 1..${CHUNK_PAGES}`);
      if (!isUint(r.f) || r.f + r.n > inBlock) corrupt(path, where, `pages [${String(r.f)}, ${Number(r.f) + Number(r.n)}) outside block ${r.b} of ${inBlock} pages`);
      if (!isUint(r.lo, 0xffffffff) || !isUint(r.hi, 0xffffffff)) corrupt(path, where, 'bad present mask');
      const present = countPresent(r.lo, r.hi, r.n);
      if (present < 0) corrupt(path, where, `present mask marks pages beyond the run of ${r.n}`);
      if (r.len !== present * ps) corrupt(path, where, `payload length ${JSON.stringify(r.len)}, ${present} pages need ${present * ps}`);
      return r as unknown as StreamControl;
    }
    case 'd':
      if (r.len !== header.deviceStateBytes) corrupt(path, where, `device state of ${JSON.stringify(r.len)} bytes, header says ${header.deviceStateBytes}`);
      return r as unknown as StreamControl;
    case 'e':
      if (!isUint(r.pages) || !isUint(r.records)) corrupt(path, where, 'bad end record');
      return r as unknown as StreamControl;
    default:
      corrupt(path, where, `unknown record type ${JSON.stringify(r.t)}`);
  }
}

/** Pages marked present in the first `n` bits of (lo, hi), or -1 when a bit beyond `n` is set. */
export function countPresent(lo: number, hi: number, n: number): number {
  const beyondLo = n >= 32 ? 0 : lo >>> n;
  const beyondHi = n >= 64 ? 0 : n <= 32 ? hi : hi >>> (n - 32);
  if (beyondLo !== 0 || beyondHi !== 0) return -1;
  let c = 0;
  for (let k = 0; k < n; k++) if (((k < 32 ? lo >>> k : hi >>> (k - 32)) & 1) !== 0) c++;
  return c;
}

const EMPTY_MAP = Uint8Array.of(0x80);

/**
 * msgpackr keeps a DataView of the last buffer it read in a module variable: after reading an image
 * that is the reader's 8 MiB buffer, alive until the next unpack. Reading a one-byte map lets it go.
 */
export function forgetLastUnpacked(): void {
  packr.unpack(EMPTY_MAP);
}

export function unpackControl(bytes: Uint8Array, path: string, where: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    corrupt(path, where, `unreadable record (${(error as Error).message})`);
  }
}
