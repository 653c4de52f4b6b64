/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial 0xEDB88320, reflected), for image headers and chunk
 * checksums. Fast path: Node's native `zlib.crc32` (Node >= 20.15); the table-driven
 * `crc32Reference` is the plain reference it is tested against, and the fallback on older Node 20.
 *
 * Pure: imports nothing from the rest of migbench.
 */
import zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `data`, continuing from `previous` (the CRC of what came before; 0 to start). */
export function crc32Reference(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

type NativeCrc = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: NativeCrc }).crc32;

/** CRC-32 of `data`, continuing from `previous`. Accepts views of SharedArrayBuffers. */
export function crc32(data: Uint8Array, previous = 0): number {
  if (native === undefined) return crc32Reference(data, previous);
  // zlib.crc32 wants a Buffer/TypedArray; a view of a SharedArrayBuffer is fine as a Uint8Array.
  return native(data, previous) >>> 0;
}
