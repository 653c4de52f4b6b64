/**
 * Fuzz properties of the quick-migration image reader: the prefix and header alone (decodePrefix,
 * decodeHeader), and whole stream and mapped images through `restoreImage`, into a destination and
 * in inspect mode. Valid images come from the real writer (`saveImage`); they are mutated as bytes
 * (bit flips, overwritten fields, truncation, …, which the CRCs mostly catch) and structurally: a
 * header field, a record's control field, records dropped, repeated or swapped, payload or index bytes
 * changed, all re-encoded with the real encoders and correct CRCs, so the checks behind the CRCs
 * are reached too.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { realClock } from '../../src/clock.ts';
import { crc32 } from '../../src/codec/crc32.ts';
import { GuestMemory, guestLayout, type GuestLayout } from '../../src/memory/guest-memory.ts';
import {
  PREFIX_BYTES, RECORD_PREFIX_BYTES, decodeHeader, decodePrefix, encodeHeader, mappedLayout, packControl, type ImageHeader,
} from '../../src/quick/image-format.ts';
import type { ImageFormat } from '../../src/results/quick-result.ts';
import { restoreImage, type RestoreReport } from '../../src/quick/restore.ts';
import { StoragePacer } from '../../src/quick/storage.ts';
import { saveImage } from '../../src/quick/suspend.ts';
import { fillGuest } from '../../src/workload/fill.ts';
import { Rng } from '../../src/workload/rng.ts';
import { allocatedDuring, check, outcome, outcomeAsync, sameBytes } from './check.ts';
import { byteMutations, mutateBytes, type ByteMutation } from './mutate.ts';
import type { FuzzProperty } from './properties.ts';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
type Json = Record<string, unknown>;

interface Guest {
  name: string;
  layout: GuestLayout;
  source: GuestMemory;
  device: Uint8Array;
}

function guests(): Guest[] {
  const make = (name: string, layout: GuestLayout, deviceBytes: number, seed: number): Guest => {
    const source = new GuestMemory(layout);
    fillGuest(source, { zero: 0.4, random: 0.4, text: 0.2 }, seed);
    const device = new Uint8Array(deviceBytes);
    new Rng(seed).fill(device);
    return { name, layout, source, device };
  };
  // two RAM blocks (40 and 24 pages of 512 B), and one block of 4 KiB pages
  const twoBlocks: GuestLayout = Object.freeze({ memoryBytes: 64 * 512, pageSizeBytes: 512, totalPages: 64, pagesPerBlock: 40, blockBytes: Object.freeze([40 * 512, 24 * 512]) });
  return [make('two-blocks', twoBlocks, 300, 1), make('4k', guestLayout(20 * 4096, 4096), 5000, 2)];
}

// --- a test-side model of an image, re-encoded with the real encoders (encodeHeader, packControl) ---

interface StreamRecord {
  control: Json;
  payload: Uint8Array;
}

interface ImageModel {
  format: ImageFormat;
  header: Json;
  /** stream: the records after the header */
  records: StreamRecord[];
  /** mapped: the whole file (the header at its start is replaced when encoding) */
  file: Uint8Array;
}

function parseImage(bytes: Uint8Array, format: ImageFormat): ImageModel {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = dv.getUint32(12, true);
  const header = packr.unpack(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as Json;
  const records: StreamRecord[] = [];
  if (format === 'stream') {
    for (let pos = PREFIX_BYTES + headerBytes; pos < bytes.length; ) {
      const c = dv.getUint32(pos, true);
      const control = packr.unpack(bytes.subarray(pos + RECORD_PREFIX_BYTES, pos + RECORD_PREFIX_BYTES + c)) as Json;
      const len = control.t === 'e' ? 0 : (control.len as number);
      const at = pos + RECORD_PREFIX_BYTES + c;
      records.push({ control, payload: bytes.slice(at, at + len) });
      pos = at + len;
    }
  }
  return { format, header, records, file: bytes };
}

function encodeImage(m: ImageModel): Uint8Array {
  const header = encodeHeader(m.header as unknown as ImageHeader);
  if (m.format === 'mapped') {
    const out = m.file.slice();
    out.set(header.subarray(0, Math.min(header.length, out.length)), 0);
    return out;
  }
  const parts: Uint8Array[] = [header];
  for (const r of m.records) {
    const c = packControl(r.control);
    const prefix = new Uint8Array(RECORD_PREFIX_BYTES);
    const dv = new DataView(prefix.buffer);
    dv.setUint32(0, c.length, true);
    const both = new Uint8Array(c.length + r.payload.length);
    both.set(c);
    both.set(r.payload, c.length);
    dv.setUint32(4, crc32(both), true);
    parts.push(prefix, both);
  }
  return Buffer.concat(parts);
}

// --- structural edits ---

/** Values a header or record field may be given. */
const oddField: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom<unknown>(
      0, -1, 1, 0.5, 63, 64, 65, 511, 512, 4096, 2 ** 21, 2 ** 22, 2 ** 30, 2 ** 30 + 1, 2 ** 32, 2 ** 40, 2 ** 40 + 1, 2 ** 53, 2 ** 53 + 2,
      Number.NaN, Infinity, -Infinity, 0xffffffff, 0x7fffffff, '', 'p', 'd', 'e', 'x', 'stream', 'mapped', null, true, [], {}, [1], [0], [2 ** 40], ['1'],
    ),
  },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.nat({ max: 100 }) },
  { weight: 1, arbitrary: fc.array(fc.nat({ max: 100 }), { maxLength: 4 }) },
);

const HEADER_KEYS = ['format', 'pageSize', 'pageCount', 'blocks', 'deviceStateBytes', 'chunkPages', 'tool', 'createdAt', 'mapped', 'extra'];
const MAPPED_KEYS = ['bitmapOffset', 'bitmapBytes', 'crcOffset', 'crcCount', 'deviceOffset', 'dataOffset', 'indexCrc', 'imageBytes'];
const CONTROL_KEYS = ['t', 'b', 'f', 'n', 'lo', 'hi', 'len', 'pages', 'records', 'x'];

type ImageEdit =
  | { op: 'header-set'; key: number; value: unknown }
  | { op: 'header-delete'; key: number }
  | { op: 'header-size'; key: 'pageSize' | 'deviceStateBytes' | 'pageCount'; value: number }
  | { op: 'mapped-set'; key: number; value: unknown; fixLayout: boolean }
  | { op: 'control-set'; record: number; key: number; value: unknown }
  | { op: 'control-delete'; record: number; key: number }
  | { op: 'record-drop' | 'record-duplicate'; record: number }
  | { op: 'record-swap'; a: number; b: number }
  | { op: 'payload'; record: number; mutations: ByteMutation[] }
  | { op: 'index'; mutations: ByteMutation[] }
  | { op: 'data'; mutations: ByteMutation[] };

const imageEdit: fc.Arbitrary<ImageEdit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('header-set' as const), key: fc.nat(), value: oddField }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('header-delete' as const), key: fc.nat() }) },
  {
    // sizes the header checks allow but the file cannot hold: the reader must not size buffers by them
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('header-size' as const),
      key: fc.constantFrom('pageSize' as const, 'deviceStateBytes' as const, 'pageCount' as const),
      value: fc.constantFrom(2 ** 21, 2 ** 20, 2 ** 30, 2 ** 30 - 8, 2 ** 40, 2 ** 40 - 64, 65536),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mapped-set' as const), key: fc.nat(), value: oddField, fixLayout: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('control-set' as const), record: fc.nat(), key: fc.nat(), value: oddField }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('control-delete' as const), record: fc.nat(), key: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('record-drop' as const, 'record-duplicate' as const), record: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('record-swap' as const), a: fc.nat(), b: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('payload' as const), record: fc.nat(), mutations: byteMutations(2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('index' as const), mutations: byteMutations(2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('data' as const), mutations: byteMutations(2) }) },
);

function applyEdits(original: ImageModel, edits: readonly ImageEdit[]): ImageModel {
  const m: ImageModel = {
    format: original.format,
    header: structuredClone(original.header),
    records: original.records.map((r) => ({ control: { ...r.control }, payload: r.payload })),
    file: original.file,
  };
  for (const e of edits) {
    switch (e.op) {
      case 'header-set':
        // a copy: fast-check hands the same constant objects to many cases, and edits change them
        m.header[HEADER_KEYS[e.key % HEADER_KEYS.length]] = structuredClone(e.value);
        break;
      case 'header-delete':
        delete m.header[HEADER_KEYS[e.key % HEADER_KEYS.length]];
        break;
      case 'header-size':
        m.header[e.key] = e.value;
        if (e.key === 'pageCount') m.header.blocks = [e.value]; // keep the block table adding up
        break;
      case 'mapped-set': {
        if (typeof m.header.mapped !== 'object' || m.header.mapped === null) m.header.mapped = {};
        const mapped = m.header.mapped as Json;
        mapped[MAPPED_KEYS[e.key % MAPPED_KEYS.length]] = structuredClone(e.value);
        if (e.fixLayout && typeof m.header.pageSize === 'number' && typeof m.header.pageCount === 'number' && typeof m.header.deviceStateBytes === 'number') {
          // a layout consistent with (changed) sizes: the reader's later checks are reached
          const blocks = Array.isArray(m.header.blocks) && m.header.blocks.every((b) => typeof b === 'number') ? (m.header.blocks as number[]) : undefined;
          const l = mappedLayout(m.header.pageSize, m.header.pageCount, m.header.deviceStateBytes, blocks);
          Object.assign(mapped, { ...l, indexCrc: mapped.indexCrc });
        }
        break;
      }
      case 'control-set':
        if (m.records.length > 0) m.records[e.record % m.records.length].control[CONTROL_KEYS[e.key % CONTROL_KEYS.length]] = structuredClone(e.value);
        break;
      case 'control-delete':
        if (m.records.length > 0) delete m.records[e.record % m.records.length].control[CONTROL_KEYS[e.key % CONTROL_KEYS.length]];
        break;
      case 'record-drop':
        if (m.records.length > 0) m.records.splice(e.record % m.records.length, 1);
        break;
      case 'record-duplicate':
        if (m.records.length > 0) m.records.splice(e.record % m.records.length, 0, m.records[e.record % m.records.length]);
        break;
      case 'record-swap':
        if (m.records.length > 1) {
          const a = e.a % m.records.length;
          const b = e.b % m.records.length;
          [m.records[a], m.records[b]] = [m.records[b], m.records[a]];
        }
        break;
      case 'payload':
        if (m.records.length > 0) {
          const r = m.records[e.record % m.records.length];
          r.payload = mutateBytes(r.payload, e.mutations); // its CRC is recomputed when encoding
        }
        break;
      case 'index':
      case 'data': {
        const l = original.header.mapped as Json | undefined;
        if (m.format !== 'mapped' || !l) break;
        const start = e.op === 'index' ? (l.bitmapOffset as number) : (l.dataOffset as number);
        const end = e.op === 'index' ? (l.deviceOffset as number) + (original.header.deviceStateBytes as number) : m.file.length;
        const changed = mutateBytes(m.file.subarray(start, end), e.mutations).subarray(0, end - start);
        const file = m.file.slice();
        file.set(changed, start);
        m.file = file;
        if (e.op === 'index' && typeof m.header.mapped === 'object' && m.header.mapped !== null) {
          (m.header.mapped as Json).indexCrc = crc32(file.subarray(start, end)); // a valid CRC over the changed index
        }
        break;
      }
    }
  }
  return m;
}

// --- the corpus: real images of both formats ---

interface ImageCase {
  guest: Guest;
  format: ImageFormat;
  bytes: Uint8Array;
  model: ImageModel;
}

const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
let workDir: string | null = null;
const scratchDir = (): string => (workDir ??= mkdtempSync(join(dir, 'migbench-fuzz-')));

/** Remove the scratch files (the runner and the test call it at the end). */
export function removeImageScratch(): void {
  if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
  workDir = null;
}

let imageCorpus: Promise<ImageCase[]> | null = null;

function buildImageCorpus(): Promise<ImageCase[]> {
  imageCorpus ??= (async () => {
    const out: ImageCase[] = [];
    for (const guest of guests()) {
      for (const format of ['stream', 'mapped'] as const) {
        const path = join(scratchDir(), `${guest.name}.${format}.img`);
        await saveImage({ memory: guest.source, deviceState: guest.device, path, format, pacer: new StoragePacer(Infinity, realClock), tool: 'fuzz', now: () => performance.now() });
        const bytes = new Uint8Array(readFileSync(path));
        const model = parseImage(bytes, format);
        // the test-side model re-encodes the writer's bytes exactly
        if (!sameBytes(encodeImage(model), bytes)) throw new Error(`the fuzz image model does not re-encode the ${format} image of ${guest.name}`);
        out.push({ guest, format, bytes, model });
      }
    }
    return out;
  })();
  return imageCorpus;
}

// --- properties ---

const GUARD = 32;
/** What a restore of these small images may allocate: its read buffer (8 MiB), a page chunk, the file. */
const ALLOCATION_LIMIT = 16 * 1024 * 1024;

export function imageHeaderProperty(): FuzzProperty {
  return {
    name: 'image-header',
    weight: 10,
    async make() {
      const corpus = await buildImageCorpus();
      const arb = fc.record({
        entry: fc.nat({ max: corpus.length - 1 }),
        edits: fc.array(fc.oneof(imageEdit.filter((e) => e.op.startsWith('header') || e.op.startsWith('mapped'))), { maxLength: 3 }),
        raw: fc.oneof({ weight: 3, arbitrary: fc.constant<ByteMutation[]>([]) }, { weight: 2, arbitrary: byteMutations(3) }),
      });
      return fc.property(arb, ({ entry, edits, raw }) => {
        const c = corpus[entry];
        const m = applyEdits(c.model, edits);
        const encoded = outcome([], () => encodeHeader(m.header as unknown as ImageHeader), 'encodeHeader');
        if (!encoded.ok) return true;
        const bytes = mutateBytes(encoded.value, raw, { start: 0, length: PREFIX_BYTES });
        const got = outcome(['E_IMAGE_CORRUPT'], () => {
          const { headerBytes, headerCrc } = decodePrefix(bytes, 'fuzz.img');
          return decodeHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes), headerCrc, 'fuzz.img');
        }, 'decodeHeader');
        if (got.ok) {
          const h = got.value;
          check(h.format === 'stream' || h.format === 'mapped', 'accepted header of an unknown format');
          check(Number.isInteger(h.pageSize) && h.pageSize >= 512 && (h.pageSize & (h.pageSize - 1)) === 0, 'accepted header with a bad page size');
          check(Array.isArray(h.blocks) && h.blocks.reduce((a, b) => a + b, 0) === h.pageCount, 'accepted header whose blocks do not add up');
          if (h.format === 'mapped') {
            const l = mappedLayout(h.pageSize, h.pageCount, h.deviceStateBytes, h.blocks);
            check(h.mapped !== undefined && h.mapped.dataOffset === l.dataOffset && h.mapped.imageBytes === l.imageBytes, 'accepted a mapped layout that is not the expected one');
          }
        }
        if (edits.length === 0 && raw.length === 0) check(got.ok, 'the writer\'s header was refused');
        return true;
      });
    },
  };
}

export function imageRestoreProperty(format: ImageFormat, weight: number): FuzzProperty {
  return {
    name: `image-restore-${format}`,
    weight,
    async make() {
      const corpus = (await buildImageCorpus()).filter((c) => c.format === format);
      const path = join(scratchDir(), `case.${format}.img`);
      // per guest: a destination, and a device state region with guard bytes on both sides
      const rigs = corpus.map((c) => {
        const region = new Uint8Array(c.guest.device.length + 2 * GUARD).fill(0x5a);
        return { dest: new GuestMemory(c.guest.layout), region, device: region.subarray(GUARD, GUARD + c.guest.device.length) };
      });
      const arb = fc.record({
        entry: fc.nat({ max: corpus.length - 1 }),
        edits: fc.oneof({ weight: 1, arbitrary: fc.constant<ImageEdit[]>([]) }, { weight: 6, arbitrary: fc.array(imageEdit, { minLength: 1, maxLength: 3 }) }),
        raw: fc.oneof({ weight: 4, arbitrary: fc.constant<ByteMutation[]>([]) }, { weight: 3, arbitrary: byteMutations(3) }),
        inspect: fc.boolean(),
      });
      return fc.asyncProperty(arb, async ({ entry, edits, raw, inspect }) => {
        const c = corpus[entry];
        const r = rigs[entry];
        const m = applyEdits(c.model, edits);
        const encoded = outcome([], () => encodeImage(m), 'encoding the image');
        if (!encoded.ok) return true;
        const bytes = mutateBytes(encoded.value, raw);
        writeFileSync(path, bytes);
        r.region.fill(0x5a);
        const target = inspect ? null : { memory: r.dest, deviceState: r.device };
        const { value: got, bytes: allocated } = await allocatedDuring(() =>
          outcomeAsync<RestoreReport>(['E_IMAGE_CORRUPT'], () => restoreImage(path, target, new StoragePacer(Infinity, realClock)), 'restoreImage'),
        );
        check(allocated <= ALLOCATION_LIMIT + 2 * bytes.length, () => `restoreImage allocated ${allocated} bytes for a file of ${bytes.length}`);
        for (let i = 0; i < GUARD; i++) check(r.region[i] === 0x5a && r.region[GUARD + c.guest.device.length + i] === 0x5a, 'a write outside the device state');
        if (got.ok) {
          const rep = got.value;
          check(rep.fileBytes === bytes.length, `report of ${rep.fileBytes} file bytes, the file has ${bytes.length}`);
          check(rep.pages === rep.header.pageCount && rep.zeroPages + rep.normalPages === rep.pages, 'an accepted image with inconsistent page counts');
          if (!inspect) check(rep.pages === c.guest.layout.totalPages, 'an accepted image restored a different number of pages than the destination has');
        }
        if (edits.length === 0 && raw.length === 0) {
          check(got.ok, () => `the writer's ${format} image was refused: ${got.ok ? '' : got.error.message}`);
          if (!inspect) {
            for (let b = 0; b < r.dest.views.length; b++) check(sameBytes(r.dest.views[b], c.guest.source.views[b]), `block ${b} differs from the source`);
            check(sameBytes(r.device, c.guest.device), 'the device state differs from the source');
          }
        }
        return true;
      });
    },
  };
}
