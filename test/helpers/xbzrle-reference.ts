/**
 * The plain byte-at-a-time XBZRLE codec (src/codec/xbzrle.ts has the format): the oracle the fast
 * encoders and the decoder are tested against (test/codec-xbzrle.test.ts, test/fuzz/codec-properties.ts)
 * and the baseline of bench/codec.bench.ts. Slow and obvious on purpose.
 *
 * The reference encoder runs the engine's own byte-at-a-time path (`encodeBytewise`, which the JavaScript
 * encoder also takes for unaligned pages); the reference decoder is written here alone.
 */
import { encodeBytewise, throwLengthMismatch } from '../../src/codec/xbzrle-encode.ts';
import { maxLengthBytes } from '../../src/codec/xbzrle.ts';

/**
 * The plain reference encoder: a byte at a time, QEMU's checks, output identical to `encodeXbzrle`.
 */
export function encodeXbzrleReference(old: Uint8Array, cur: Uint8Array, dst: Uint8Array): number {
  if (old.length !== cur.length) throwLengthMismatch(old.length, cur.length);
  return encodeBytewise(old, cur, dst, dst.length);
}


/**
 * The plain reference decoder: a byte at a time, the same rules and result as `decodeXbzrle` (checks the
 * whole delta first, leaves `dst` untouched when malformed).
 */
export function decodeXbzrleReference(src: Uint8Array, dst: Uint8Array): number {
  const slen = src.length;
  const dlen = dst.length;
  const maxBytes = maxLengthBytes(dlen);
  // Pass 1: parse every run, byte by byte.
  let i = 0;
  let d = 0;
  while (i < slen) {
    const zrun = readLengthBytewise(src, i, maxBytes);
    if (zrun < 0 || (zrun === 0 && i !== 0)) return -1;
    i = referenceNext;
    d += zrun;
    if (d > dlen) return -1;
    const nzrun = readLengthBytewise(src, i, maxBytes);
    if (nzrun <= 0) return -1;
    i = referenceNext;
    if (d + nzrun > dlen || i + nzrun > slen) return -1;
    d += nzrun;
    i += nzrun;
  }
  const end = d;
  // Pass 2: apply.
  i = 0;
  d = 0;
  while (i < slen) {
    d += readLengthBytewise(src, i, maxBytes);
    i = referenceNext;
    const nzrun = readLengthBytewise(src, i, maxBytes);
    i = referenceNext;
    for (let k = 0; k < nzrun; k++) dst[d++] = src[i++];
  }
  return end;
}

/** Where the last `readLengthBytewise` ended. */
let referenceNext = 0;

/** ULEB128 the plain way, for the reference decoder: value, or -1 when truncated, overlong or > 32 bits. */
function readLengthBytewise(src: Uint8Array, at: number, maxBytes: number): number {
  let value = 0;
  let scale = 1;
  for (let k = 0; k < maxBytes && k < 5; k++) {
    if (at + k >= src.length) return -1; // truncated
    const byte = src[at + k];
    if (k === 4 && byte > 0x0f) return -1; // beyond 32 bits
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      referenceNext = at + k + 1;
      return value;
    }
    scale *= 128;
  }
  return -1; // overlong
}
