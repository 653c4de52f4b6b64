/**
 * zstd for `precopy.compression: "zstd"` (QEMU's multifd-compression=zstd, level multifd-zstd-level).
 *
 * Why zstd, and why @bokuweb/zstd-wasm (chosen on npm view figures, see the issue #4 note):
 * - zstd is the fast codec QEMU itself offers for multifd (none | zlib | zstd), so a migbench run with
 *   it means what a QEMU run with it means; lz4 is not a QEMU migration codec. Node 20's zlib has no zstd.
 * - the package is libzstd compiled to WebAssembly, with no dependencies and no install script: the same
 *   bytes install with `npm ci` on every platform, nothing is compiled or downloaded at install time.
 *   The native bindings (@mongodb-js/zstd, zstd-napi) fetch prebuilt binaries from GitHub in an install
 *   script (prebuild-install) or fall back to node-gyp; neither works where only the npm registry is
 *   reachable. lz4-napi ships prebuilt binaries as npm packages (fine), but is lz4.
 * - maintained: MIT, one maintainer, regular releases (0.0.20 … 0.0.27 through 2024–2026), ~50k
 *   downloads a month; small surface (compress, decompress, init), easy to replace.
 * - measured here on 512 KiB of text pages: compress at level 1 ≈ 0.7 GB/s (zlib level 1: ≈ 0.2),
 *   decompress ≈ 1.4 GB/s; on random pages it gives up fast (≈ 0.8 GB/s, zlib: ≈ 0.07).
 *
 * The WebAssembly module is per thread: call `zstdReady()` (once, async) in each thread before the
 * synchronous calls. Decompression never trusts the frame: the frame header's content size must be
 * present and equal the size the caller expects before libzstd allocates or writes anything, and
 * libzstd then decodes into a buffer of exactly that size (a larger output is an error there).
 *
 * Pure: imports nothing from the rest of migbench.
 */
import { compress, decompress, init } from '@bokuweb/zstd-wasm';

/** QEMU's multifd-zstd-level range (libzstd reads 0 as its default level, 3). */
export const ZSTD_MIN_LEVEL = 0;
export const ZSTD_MAX_LEVEL = 20;

let ready: Promise<void> | null = null;
let loaded = false;

/** Load the WebAssembly module in this thread (idempotent). */
export function zstdReady(): Promise<void> {
  ready ??= init().then(() => {
    loaded = true;
  });
  return ready;
}

function assertLoaded(): void {
  if (!loaded) throw new Error('zstd: await zstdReady() in this thread first');
}

/** One zstd frame of `src` at `level` (the frame header records the content size). */
export function zstdCompress(src: Uint8Array, level: number): Uint8Array {
  assertLoaded();
  return compress(src, level);
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The content size a zstd frame header declares (RFC 8878 §3.1.1.1), or -1 when the input is not a
 * zstd frame, is truncated, has reserved bits set, or does not declare its size.
 */
export function zstdFrameContentSize(src: Uint8Array): number {
  if (src.length < 5) return -1;
  const magic = (src[0] | (src[1] << 8) | (src[2] << 16) | (src[3] << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) return -1;
  const fhd = src[4];
  if ((fhd & 0x08) !== 0) return -1; // reserved bit
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const dictFlag = fhd & 0x03;
  let at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag];
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0 || at + fcsBytes > src.length) return -1;
  if (fcsBytes === 1) return src[at];
  if (fcsBytes === 2) return (src[at] | (src[at + 1] << 8)) + 256;
  let size = 0;
  for (let k = fcsBytes - 1; k >= 0; k--) size = size * 256 + src[at + k];
  at += fcsBytes;
  return Number.isSafeInteger(size) ? size : -1;
}

/**
 * Decompress one zstd frame that must hold exactly `expectedBytes`; null when it does not (a corrupt
 * or oversized frame, a frame without a declared size, trailing frames, a libzstd error).
 */
export function zstdDecompressExact(src: Uint8Array, expectedBytes: number): Uint8Array | null {
  assertLoaded();
  if (zstdFrameContentSize(src) !== expectedBytes) return null;
  let out: Uint8Array;
  try {
    out = decompress(src);
  } catch {
    return null;
  }
  return out.length === expectedBytes ? out : null;
}
