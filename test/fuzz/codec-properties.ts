/**
 * Fuzz properties of the codecs and of the frames the destination applies: the XBZRLE decoder, zstd
 * frames, and single frames and frame sequences through `FrameApplier` (PAGES, PAGES_ZLIB,
 * PAGES_ZSTD, XBZRLE, DEVICE_STATE, END, WRAP). Inputs are the real encoders' output (PageSender,
 * encodeXbzrle, zstdCompress, deflateRawSync), mutated.
 */
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { PageCache } from '../../src/codec/page-cache.ts';
import { decodeXbzrle } from '../../src/codec/xbzrle.ts';
import { encodeXbzrle } from '../../src/codec/xbzrle-encode.ts';
import { zstdCompress, zstdDecompressExact, zstdReady } from '../../src/codec/zstd.ts';
import { GuestMemory, type GuestLayout } from '../../src/memory/guest-memory.ts';
import { FrameApplier } from '../../src/transport/destination.ts';
import {
  FRAME_DEVICE_STATE, FRAME_END, FRAME_PAGES, FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD, FRAME_WRAP, FRAME_XBZRLE, HEADER_BYTES, H_BLOCK, H_COUNT,
  H_FIRST, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_PRESENT_HI, H_PRESENT_LO, H_SEQ, H_TYPE,
} from '../../src/transport/frame.ts';
import { RingViews, align8, createRing } from '../../src/transport/ring.ts';
import { textCorpus, textPageInto } from '../../src/workload/fill.ts';
import { Rng } from '../../src/workload/rng.ts';
import { decodeXbzrleReference } from '../helpers/xbzrle-reference.ts';
import { framesIn, ringSender } from '../helpers/ring-sender.ts';
import { allocatedDuringSync, check, outcome, sameBytes } from './check.ts';
import { byteMutations, mutateBytes, type ByteMutation } from './mutate.ts';
import type { FuzzProperty } from './properties.ts';

// ---------------------------------------------------------------------------
// XBZRLE decoder
// ---------------------------------------------------------------------------

interface DeltaCase {
  pageSize: number;
  old: Uint8Array;
  cur: Uint8Array;
  delta: Uint8Array;
}

/** Valid deltas from the real encoder: scattered changes, long runs, changes at the edges, many short runs. */
function xbzrleCorpus(): DeltaCase[] {
  const rng = new Rng(7);
  const out: DeltaCase[] = [];
  for (const pageSize of [512, 4096, 65536]) {
    const edits: ((cur: Uint8Array) => void)[] = [
      (c) => {
        for (let k = 0; k < 5; k++) c[rng.nextInt(c.length)] ^= 0x5a;
      },
      (c) => c.fill(7, c.length >>> 3, c.length >>> 1), // one long nzrun (a 2-, 3-byte ULEB128 length)
      (c) => {
        c[0] ^= 1;
        c[c.length - 1] ^= 1;
      },
      (c) => {
        for (let k = 0; k < c.length; k += 3) c[k] ^= 0xff; // alternating: many short runs, near overflow
      },
      (c) => {
        c[c.length >>> 1] ^= 0x80;
      },
      () => undefined, // unchanged: the empty delta
    ];
    for (const edit of edits) {
      const old = new Uint8Array(pageSize);
      rng.fill(old);
      const cur = old.slice();
      edit(cur);
      const dst = new Uint8Array(pageSize);
      const n = encodeXbzrle(old, cur, dst);
      if (n >= 0) out.push({ pageSize, old, cur, delta: dst.slice(0, n) });
    }
  }
  return out;
}

const GUARD = 64;

export function xbzrleProperty(): FuzzProperty {
  return {
    name: 'xbzrle-decode',
    weight: 16,
    async make() {
      const corpus = xbzrleCorpus();
      const arb = fc.oneof(
        { weight: 1, arbitrary: fc.record({ entry: fc.nat({ max: corpus.length - 1 }), mutations: fc.constant<ByteMutation[]>([]), random: fc.constant<Uint8Array | null>(null) }) },
        { weight: 12, arbitrary: fc.record({ entry: fc.nat({ max: corpus.length - 1 }), mutations: byteMutations(4), random: fc.constant<Uint8Array | null>(null) }) },
        { weight: 2, arbitrary: fc.record({ entry: fc.nat({ max: corpus.length - 1 }), mutations: fc.constant<ByteMutation[]>([]), random: fc.uint8Array({ maxLength: 80 }) }) },
      );
      // one region per page size: guard bytes on both sides of the page being decoded into
      const regions = new Map<number, Uint8Array>();
      const refPage = new Map<number, Uint8Array>();
      return fc.property(arb, ({ entry, mutations, random }) => {
        const c = corpus[entry];
        const ps = c.pageSize;
        const delta = random ?? mutateBytes(c.delta, mutations);
        let region = regions.get(ps);
        if (!region) regions.set(ps, (region = new Uint8Array(ps + 2 * GUARD)));
        let ref = refPage.get(ps);
        if (!ref) refPage.set(ps, (ref = new Uint8Array(ps)));
        region.fill(0xa5);
        const page = region.subarray(GUARD, GUARD + ps);
        page.set(c.old);
        // the decoder reports a malformed delta as -1 and throws nothing at all
        const got = outcome([], () => decodeXbzrle(delta, page), 'decodeXbzrle');
        const r = got.ok ? got.value : Number.NaN;
        ref.set(c.old);
        const expected = decodeXbzrleReference(delta, ref);
        check(r === expected, `decodeXbzrle returned ${r}, the reference decoder ${expected}`);
        for (let i = 0; i < GUARD; i++) {
          check(region[i] === 0xa5 && region[GUARD + ps + i] === 0xa5, 'a guard byte around the page changed: a write outside the page');
        }
        check(sameBytes(page, ref), 'the page differs from what the reference decoder made of the same delta');
        if (r < 0) check(sameBytes(page, c.old), 'a malformed delta changed the page');
        else {
          check(r <= ps, `result ${r} beyond the page of ${ps}`);
          check(sameBytes(page.subarray(r), c.old.subarray(r)), 'bytes past the returned end changed');
        }
        if (random === null && mutations.length === 0) check(r >= 0 && sameBytes(page, c.cur), 'a valid delta did not decode to the new page');
        return true;
      });
    },
  };
}

// ---------------------------------------------------------------------------
// zstd frames
// ---------------------------------------------------------------------------

function compressibleBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const corpus = textCorpus(seed, 16 * 1024);
  for (let at = 0; at < n; at += 512) textPageInto(corpus, (at * 7) % corpus.length, out, at, Math.min(512, n - at));
  return out;
}

export function zstdProperty(): FuzzProperty {
  return {
    name: 'zstd-frames',
    weight: 8,
    async make() {
      await zstdReady();
      const rng = new Rng(11);
      const random = new Uint8Array(3000);
      rng.fill(random);
      const inputs = [new Uint8Array(512), compressibleBytes(4096, 1), random, compressibleBytes(20_000, 2), new Uint8Array(4 << 20)];
      const corpus = inputs.flatMap((input) => [1, 3, 19].map((level) => ({ input, frame: zstdCompress(input, level) })));
      const health = compressibleBytes(700, 3);
      const healthFrame = zstdCompress(health, 3);
      const expectedArb = fc.oneof(
        { weight: 4, arbitrary: fc.constant(-1) }, // the original size
        { weight: 2, arbitrary: fc.constantFrom(0, 1, 512, 4096, 65536, 64 * 4096, 1 << 20) },
        { weight: 1, arbitrary: fc.nat({ max: 1 << 18 }) },
      );
      const arb = fc.oneof(
        { weight: 1, arbitrary: fc.record({ entry: fc.nat({ max: corpus.length - 1 }), mutations: fc.constant<ByteMutation[]>([]), expected: expectedArb, random: fc.constant<Uint8Array | null>(null) }) },
        { weight: 10, arbitrary: fc.record({ entry: fc.nat({ max: corpus.length - 1 }), mutations: byteMutations(3), expected: expectedArb, random: fc.constant<Uint8Array | null>(null) }) },
        { weight: 1, arbitrary: fc.record({ entry: fc.nat({ max: corpus.length - 1 }), mutations: fc.constant<ByteMutation[]>([]), expected: expectedArb, random: fc.uint8Array({ maxLength: 64 }) }) },
      );
      return fc.property(arb, ({ entry, mutations, expected, random }) => {
        const c = corpus[entry];
        // mutations aim at the frame header (the first 18 bytes: magic, descriptor, window, content size) every other time
        const src = random ?? mutateBytes(c.frame, mutations, { start: 0, length: 18 });
        const want = expected < 0 ? c.input.length : expected;
        const got = outcome([], () => zstdDecompressExact(src, want), 'zstdDecompressExact');
        const out = got.ok ? got.value : null;
        check(out === null || out.length === want, () => `decompressed ${out?.length} bytes, ${want} expected`);
        if (random === null && mutations.length === 0 && want === c.input.length) check(out !== null && sameBytes(out, c.input), 'a valid frame did not decompress to its input');
        // the module's heap is still sound after whatever this input did
        const again = zstdDecompressExact(healthFrame, health.length);
        check(again !== null && sameBytes(again, health), 'zstd no longer decompresses a valid frame after this input');
        return true;
      });
    },
  };
}

// ---------------------------------------------------------------------------
// Frames at the destination
// ---------------------------------------------------------------------------

/** A destination of two RAM blocks (40 and 24 pages of 512 B): frames can name either, or neither. */
const PS = 512;
const LAYOUT: GuestLayout = Object.freeze({ memoryBytes: 64 * PS, pageSizeBytes: PS, totalPages: 64, pagesPerBlock: 40, blockBytes: Object.freeze([40 * PS, 24 * PS]) });
const DEVICE_BYTES = 3000;
const RING_BYTES = 65536;

interface Frame {
  /** what made it */
  kind: string;
  bytes: Uint8Array;
}

interface FrameCorpus {
  /** single frames, each with seq 0 */
  frames: Frame[];
  /** the whole stream of the uncompressed sender, in order (seq 0, 1, …): the source it reproduces */
  stream: Uint8Array[];
  source: GuestMemory;
  device: Uint8Array;
}

function fillSource(m: GuestMemory, seed: number): void {
  const rng = new Rng(seed);
  const text = textCorpus(seed, 16 * 1024);
  for (let p = 0; p < m.totalPages; p++) {
    const page = m.page(p);
    const kind = rng.nextInt(4);
    if (kind === 0) page.fill(0);
    else if (kind === 1) rng.fill(page);
    else textPageInto(text, rng.nextInt(8) * PS, page, 0, PS);
  }
}

/** Capture the frames a sender published into its ring (no WRAP: the ring is big enough). */
async function sendAll(source: GuestMemory, device: Uint8Array, compression: 'zlib' | 'zstd' | null): Promise<Uint8Array[]> {
  const { sender, views } = ringSender(source, 1 << 22, compression);
  // runs of several lengths, in both blocks, as the loop sends them
  for (const [page, count] of [[0, 40], [40, 24], [3, 1], [5, 7], [41, 2], [63, 1], [0, 33]] as const) await sender.sendRun(page, count);
  if (compression === null) {
    // XBZRLE: a miss sends the page whole; after a small change, a delta
    const cache = new PageCache(64 * PS, PS, { inPlace: false });
    for (const p of [2, 45]) {
      await sender.sendPageXbzrle(p, cache, false);
      const page = source.page(p);
      page[17] ^= 0x33;
      page[300] ^= 0x44;
      await sender.sendPageXbzrle(p, cache, false);
    }
  }
  await sender.sendDeviceState(device);
  await sender.sendEnd();
  return framesIn(views);
}

function withSeq(frame: Uint8Array, seq: number): Uint8Array {
  const out = frame.slice();
  new DataView(out.buffer).setInt32(H_SEQ * 4, seq, true);
  return out;
}

/** A PAGES_ZLIB / PAGES_ZSTD frame of `pages` pages claiming a payload that inflates far beyond them. */
function bomb(template: Uint8Array, type: number, payload: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(align8(HEADER_BYTES + payload.length));
  out.set(template.subarray(0, HEADER_BYTES));
  const dv = new DataView(out.buffer);
  dv.setInt32(H_TYPE * 4, type, true);
  dv.setInt32(H_FRAME_BYTES * 4, out.length, true);
  dv.setInt32(H_SEQ * 4, 0, true);
  dv.setInt32(H_BLOCK * 4, 0, true);
  dv.setInt32(H_FIRST * 4, 0, true);
  dv.setInt32(H_COUNT * 4, count, true);
  dv.setInt32(H_PRESENT_LO * 4, count >= 32 ? -1 : (1 << count) - 1, true);
  dv.setInt32(H_PRESENT_HI * 4, count > 32 ? (1 << (count - 32)) - 1 : 0, true);
  dv.setInt32(H_PAYLOAD_BYTES * 4, payload.length, true);
  out.set(payload, HEADER_BYTES);
  return out;
}

let frameCorpus: Promise<FrameCorpus> | null = null;

function buildFrameCorpus(): Promise<FrameCorpus> {
  frameCorpus ??= (async () => {
    await zstdReady();
    const source = new GuestMemory(LAYOUT);
    fillSource(source, 5);
    const device = new Uint8Array(DEVICE_BYTES);
    new Rng(9).fill(device);
    const plainSource = new GuestMemory(LAYOUT);
    for (let b = 0; b < 2; b++) plainSource.views[b].set(source.views[b]);
    const stream = await sendAll(plainSource, device, null);
    const kindOf = (f: Uint8Array): string => ['?', 'pages', 'device', 'end', 'wrap', 'xbzrle', 'zlib', 'zstd'][new DataView(f.buffer).getInt32(0, true)] ?? '?';
    const frames: Frame[] = [];
    for (const c of [null, 'zlib', 'zstd'] as const) {
      for (const f of await sendAll(source, device, c)) frames.push({ kind: kindOf(f), bytes: withSeq(f, 0) });
    }
    const zlibTemplate = frames.find((f) => f.kind === 'zlib')!.bytes;
    const zeros = new Uint8Array(4 << 20);
    frames.push({ kind: 'zlib-bomb', bytes: bomb(zlibTemplate, FRAME_PAGES_ZLIB, deflateRawSync(zeros, { level: 9 }), 8) });
    frames.push({ kind: 'zstd-bomb', bytes: bomb(zlibTemplate, FRAME_PAGES_ZSTD, zstdCompress(zeros, 3), 8) });
    frames.push({ kind: 'zlib-short', bytes: bomb(zlibTemplate, FRAME_PAGES_ZLIB, deflateRawSync(zeros.subarray(0, 3 * PS)), 4) });
    const wrap = new Uint8Array(HEADER_BYTES);
    new DataView(wrap.buffer).setInt32(0, FRAME_WRAP, true);
    frames.push({ kind: 'wrap', bytes: wrap }); // its length is set where it is placed
    return { frames, stream, source: plainSource, device };
  })();
  return frameCorpus;
}

/** The destination's state before a case: memory and device state filled with a pattern unlike the source's. */
class DestinationRig {
  readonly views = new RingViews(createRing(RING_BYTES));
  readonly dest = new GuestMemory(LAYOUT);
  readonly baseline = new GuestMemory(LAYOUT);
  /** the device state region, with guard bytes on both sides */
  readonly deviceRegion = new Uint8Array(new SharedArrayBuffer(DEVICE_BYTES + 2 * GUARD));
  readonly device = this.deviceRegion.subarray(GUARD, GUARD + DEVICE_BYTES);
  readonly deviceBaseline: Uint8Array;
  readonly ringImage = new Uint8Array(RING_BYTES);

  constructor() {
    const rng = new Rng(3);
    for (const v of this.baseline.views) rng.fill(v);
    this.deviceBaseline = new Uint8Array(this.deviceRegion.length);
    rng.fill(this.deviceBaseline);
  }

  reset(): void {
    for (let b = 0; b < 2; b++) this.dest.views[b].set(this.baseline.views[b]);
    this.deviceRegion.set(this.deviceBaseline);
    this.views.bytes.fill(0xee);
  }

  /** Place `bytes` at ring offset `pos` (cut at the ring's end, as the ring would). */
  place(bytes: Uint8Array, pos: number): void {
    this.views.bytes.set(bytes.subarray(0, Math.min(bytes.length, RING_BYTES - pos)), pos);
  }

  snapshotRing(): void {
    this.ringImage.set(this.views.bytes);
  }

  ringUnchanged(): boolean {
    return sameBytes(this.ringImage, this.views.bytes);
  }

  /** Memory unchanged outside pages [first, end) of block `block` (none: block -1). */
  memoryUnchangedOutside(block: number, first: number, end: number): boolean {
    for (let b = 0; b < 2; b++) {
      const d = this.dest.views[b];
      const o = this.baseline.views[b];
      if (b !== block) {
        if (!sameBytes(d, o)) return false;
        continue;
      }
      if (!sameBytes(d.subarray(0, first * PS), o.subarray(0, first * PS)) || !sameBytes(d.subarray(end * PS), o.subarray(end * PS))) return false;
    }
    return true;
  }

  /** Device state unchanged outside [start, end) of it; guard bytes always. */
  deviceUnchangedOutside(start: number, end: number): boolean {
    return sameBytes(this.deviceRegion.subarray(0, GUARD + start), this.deviceBaseline.subarray(0, GUARD + start))
      && sameBytes(this.deviceRegion.subarray(GUARD + end), this.deviceBaseline.subarray(GUARD + end));
  }
}

const isSet = (lo: number, hi: number, k: number): boolean => ((k < 32 ? lo >>> k : hi >>> (k - 32)) & 1) !== 0;

/**
 * After an accepted frame: only the range the frame names changed, and it holds what the frame says
 * (zero pages zero, normal pages the payload's, an XBZRLE page what the reference decoder makes of it).
 */
function checkAccepted(rig: DestinationRig, pos: number, result: { type: number; frameBytes: number }): void {
  const h = new DataView(rig.views.bytes.buffer, rig.views.bytes.byteOffset + pos, RING_BYTES - pos);
  // a WRAP frame at the ring's end has only its first two slots inside the ring
  const field = (slot: number): number => (slot * 4 + 4 <= RING_BYTES - pos ? h.getInt32(slot * 4, true) : Number.NaN);
  const type = field(H_TYPE);
  check(result.type === type, `apply returned type ${result.type}, the header says ${type}`);
  check(result.frameBytes === field(H_FRAME_BYTES), `apply returned ${result.frameBytes} bytes, the header says ${field(H_FRAME_BYTES)}`);
  const block = field(H_BLOCK);
  const first = field(H_FIRST);
  const count = field(H_COUNT);
  switch (type) {
    case FRAME_PAGES:
    case FRAME_PAGES_ZLIB:
    case FRAME_PAGES_ZSTD: {
      check(rig.memoryUnchangedOutside(block, first, first + count), `a PAGES frame for block ${block} pages [${first}, ${first + count}) changed memory outside them`);
      check(rig.deviceUnchangedOutside(0, 0), 'a PAGES frame changed the device state');
      const lo = field(H_PRESENT_LO) >>> 0;
      const hi = field(H_PRESENT_HI) >>> 0;
      const view = rig.dest.views[block];
      let src = pos + HEADER_BYTES;
      for (let k = 0; k < count; k++) {
        const page = view.subarray((first + k) * PS, (first + k + 1) * PS);
        if (!isSet(lo, hi, k)) check(page.every((x) => x === 0), `zero page ${k} of the run is not zero`);
        else if (type === FRAME_PAGES) {
          check(sameBytes(page, rig.views.bytes.subarray(src, src + PS)), `normal page ${k} of the run differs from its payload`);
          src += PS;
        }
      }
      break;
    }
    case FRAME_XBZRLE: {
      check(count === 1 && rig.memoryUnchangedOutside(block, first, first + 1), 'an XBZRLE frame changed memory outside its page');
      check(rig.deviceUnchangedOutside(0, 0), 'an XBZRLE frame changed the device state');
      const ref = rig.baseline.views[block].slice(first * PS, (first + 1) * PS);
      const payloadBytes = field(H_PAYLOAD_BYTES);
      check(decodeXbzrleReference(rig.views.bytes.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + payloadBytes), ref) >= 0, 'an XBZRLE delta the reference decoder refuses was accepted');
      check(sameBytes(ref, rig.dest.views[block].subarray(first * PS, (first + 1) * PS)), 'the XBZRLE page differs from the reference decoder\'s');
      break;
    }
    case FRAME_DEVICE_STATE: {
      const payloadBytes = field(H_PAYLOAD_BYTES);
      check(rig.memoryUnchangedOutside(-1, 0, 0), 'a DEVICE_STATE frame changed guest memory');
      check(rig.deviceUnchangedOutside(first, first + payloadBytes), `a DEVICE_STATE frame for bytes [${first}, ${first + payloadBytes}) changed the device state outside them`);
      check(sameBytes(rig.device.subarray(first, first + payloadBytes), rig.views.bytes.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + payloadBytes)), 'the device state bytes differ from the payload');
      break;
    }
    case FRAME_END:
    case FRAME_WRAP:
      check(rig.memoryUnchangedOutside(-1, 0, 0) && rig.deviceUnchangedOutside(0, 0), 'an END or WRAP frame changed the destination');
      break;
    default:
      check(false, `apply accepted a frame of unknown type ${type}`);
  }
}

/** Positions to place a frame at: the ring's start, anywhere (8-aligned), its very end. */
const placement = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat({ max: RING_BYTES / 8 - 1 }).map((k) => k * 8) }, { weight: 1, arbitrary: fc.constant(-1) });

/** What applying one frame may allocate: an inflated or decompressed run (at most 64 pages of 512 B here), with room to spare. */
const FRAME_ALLOCATION_LIMIT = 4 * 1024 * 1024;

/**
 * Frames through `FrameApplier.apply`. `measure`: also bound what each case allocates (the compressed
 * frames: a decompression bomb must be cut off at the run's size, not inflated).
 */
export function frameProperty(name: string, weight: number, kinds: readonly string[] | null, measure = false): FuzzProperty {
  return {
    name,
    weight,
    async make() {
      const corpus = await buildFrameCorpus();
      const frames = kinds === null ? corpus.frames : corpus.frames.filter((f) => kinds.includes(f.kind));
      const rig = new DestinationRig();
      const arb = fc.oneof(
        { weight: 1, arbitrary: fc.record({ entry: fc.nat({ max: frames.length - 1 }), mutations: fc.constant<ByteMutation[]>([]), pos: placement, random: fc.constant<Uint8Array | null>(null) }) },
        { weight: 14, arbitrary: fc.record({ entry: fc.nat({ max: frames.length - 1 }), mutations: byteMutations(4), pos: placement, random: fc.constant<Uint8Array | null>(null) }) },
        { weight: 1, arbitrary: fc.record({ entry: fc.nat({ max: frames.length - 1 }), mutations: fc.constant<ByteMutation[]>([]), pos: placement, random: fc.uint8Array({ minLength: 8, maxLength: 200 }) }) },
      );
      return fc.property(arb, ({ entry, mutations, pos: at, random }) => {
        const f = frames[entry];
        let bytes = f.bytes;
        if (random !== null) bytes = random;
        // every other mutation lands in the 48-byte header, where the indices and lengths are
        else bytes = mutateBytes(bytes, mutations, { start: 0, length: HEADER_BYTES });
        const pos = at < 0 ? Math.max(0, RING_BYTES - align8(bytes.length)) : at;
        if (f.kind === 'wrap' && random === null && mutations.length === 0) {
          bytes = bytes.slice();
          new DataView(bytes.buffer).setInt32(H_FRAME_BYTES * 4, RING_BYTES - pos, true);
        }
        rig.reset();
        rig.place(bytes, pos);
        rig.snapshotRing();
        const applier = new FrameApplier(rig.views, rig.dest, rig.device);
        const apply = () => outcome(['E_STREAM_CORRUPT'], () => applier.apply(pos), 'FrameApplier.apply');
        let got: ReturnType<typeof apply>;
        if (measure) {
          const m = allocatedDuringSync(apply);
          check(m.bytes <= FRAME_ALLOCATION_LIMIT, () => `applying a ${bytes.length}-byte frame allocated ${m.bytes} bytes`);
          got = m.value;
        } else got = apply();
        check(rig.ringUnchanged(), 'the destination wrote into the ring');
        if (!got.ok) {
          check(rig.memoryUnchangedOutside(-1, 0, 0), 'a refused frame changed guest memory');
          check(rig.deviceUnchangedOutside(0, 0), 'a refused frame changed the device state');
        } else {
          checkAccepted(rig, pos, got.value);
          if (random === null && mutations.length === 0 && f.kind !== 'wrap') check(!f.kind.includes('bomb') && f.kind !== 'zlib-short', `the crafted ${f.kind} frame was accepted`);
        }
        const fits = pos + bytes.length <= RING_BYTES;
        if (random === null && mutations.length === 0 && fits && !f.kind.includes('bomb') && f.kind !== 'zlib-short' && !(f.kind === 'wrap' && pos === 0)) {
          check(got.ok, () => `a valid ${f.kind} frame was refused: ${got.ok ? '' : got.error.message}`);
        }
        return true;
      });
    },
  };
}

type StreamEdit = { op: 'mutate'; frame: number; mutations: ByteMutation[] } | { op: 'drop' | 'duplicate'; frame: number } | { op: 'swap'; a: number; b: number };

const streamEdit: fc.Arbitrary<StreamEdit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('mutate' as const), frame: fc.nat(), mutations: byteMutations(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('drop' as const, 'duplicate' as const), frame: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }) },
);

/**
 * A whole stream (the sender's frames, in order) with edits, applied frame after frame as the
 * destination does, until END or the first refusal.
 */
export function streamProperty(): FuzzProperty {
  return {
    name: 'frame-stream',
    weight: 5,
    async make() {
      const corpus = await buildFrameCorpus();
      const rig = new DestinationRig();
      // a bigger ring for the whole stream (about 120 KiB of frames)
      const views = new RingViews(createRing(1 << 18));
      const arb = fc.array(streamEdit, { minLength: 0, maxLength: 3 });
      return fc.property(arb, (edits) => {
        let frames = corpus.stream.slice();
        for (const e of edits) {
          if (e.op === 'mutate') {
            const i = e.frame % frames.length;
            frames[i] = mutateBytes(frames[i], e.mutations, { start: 0, length: HEADER_BYTES });
          } else if (e.op === 'swap') {
            const a = e.a % frames.length;
            const b = e.b % frames.length;
            [frames[a], frames[b]] = [frames[b], frames[a]];
          } else if (e.op === 'drop') frames.splice(e.frame % frames.length, 1);
          else frames.splice(e.frame % frames.length, 0, frames[e.frame % frames.length]);
          if (frames.length === 0) frames = [new Uint8Array(8)];
        }
        rig.reset();
        views.bytes.fill(0xee);
        let head = 0;
        for (const f of frames) {
          if (head + f.length > views.capacity) break;
          views.bytes.set(f, head);
          head += align8(f.length);
        }
        const image = views.bytes.slice();
        const applier = new FrameApplier(views, rig.dest, rig.device);
        let tail = 0;
        let ended = false;
        let refused = false;
        for (let steps = 0; tail < head && steps <= frames.length + 1; steps++) {
          const got = outcome(['E_STREAM_CORRUPT'], () => applier.apply(tail), 'FrameApplier.apply');
          if (!got.ok) {
            refused = true;
            break;
          }
          check(got.value.frameBytes > 0, 'an accepted frame of no bytes (the destination would loop)');
          tail += got.value.frameBytes;
          if (got.value.type === FRAME_END) {
            ended = true;
            break;
          }
        }
        check(sameBytes(image, views.bytes), 'the destination wrote into the ring');
        check(rig.deviceUnchangedOutside(0, DEVICE_BYTES), 'a write outside the device state');
        if (edits.length === 0) {
          check(ended && !refused, 'the valid stream did not reach END');
          for (let b = 0; b < 2; b++) check(sameBytes(rig.dest.views[b], corpus.source.views[b]), `block ${b} differs from the source after the valid stream`);
          check(sameBytes(rig.device, corpus.device), 'the device state differs from the source after the valid stream');
        }
        return true;
      });
    },
  };
}
