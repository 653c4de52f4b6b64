/**
 * Zero-page detection (QEMU's `buffer_is_zero`): a page of all zero bytes is sent as a header only.
 *
 * Fast path: look at a few words first (random and text pages fail there at once), then let one native
 * `Buffer#compare` against a zero buffer do the full check (a memcmp). The plain byte loop
 * `isZeroReference` is the oracle it is tested against.
 *
 * Pure: imports nothing from the rest of migbench.
 */
import { Buffer } from 'node:buffer';

let zeros = Buffer.alloc(0);

function zeroBuffer(length: number): Buffer {
  if (zeros.length < length) zeros = Buffer.alloc(Math.max(length, 4096));
  return zeros;
}

/** True when bytes [offset, offset + length) of `bytes` are all zero. */
export function isZeroRange(bytes: Uint8Array, offset: number, length: number): boolean {
  if (length === 0) return true;
  // Cheap probes: first, middle and last byte.
  if (bytes[offset] !== 0 || bytes[offset + length - 1] !== 0 || bytes[offset + (length >>> 1)] !== 0) return false;
  // zeros[0, length) against bytes[offset, offset + length), without creating a view per page
  return zeroBuffer(length).compare(bytes, offset, offset + length, 0, length) === 0;
}

export function isZeroPage(page: Uint8Array): boolean {
  return isZeroRange(page, 0, page.length);
}

/** The plain reference: a byte at a time. */
export function isZeroReference(bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
  for (let i = offset; i < offset + length; i++) if (bytes[i] !== 0) return false;
  return true;
}
