/**
 * Verification: the destination must equal the source byte for byte. One native compare per RAM
 * block (a memcmp); on a difference, the first differing page is located for the message.
 */
import { Buffer } from 'node:buffer';
import type { GuestMemory } from './guest-memory.ts';

export interface VerifyReport {
  readonly equal: boolean;
  /** the first page that differs (global index), or null */
  readonly firstBadPage: number | null;
  readonly badPages: number;
  readonly deviceStateEqual: boolean;
}

function buf(b: SharedArrayBuffer | Uint8Array): Buffer {
  return b instanceof Uint8Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b);
}

export function verifyGuest(source: GuestMemory, dest: GuestMemory, sourceDevice: Uint8Array, destDevice: Uint8Array): VerifyReport {
  let firstBadPage: number | null = null;
  let badPages = 0;
  const ps = source.layout.pageSizeBytes;
  source.blocks.forEach((block, b) => {
    const a = buf(block);
    const d = buf(dest.blocks[b]);
    if (a.equals(d)) return;
    const pages = block.byteLength / ps;
    for (let p = 0; p < pages; p++) {
      const off = p * ps;
      if (a.compare(d, off, off + ps, off, off + ps) !== 0) {
        badPages++;
        if (firstBadPage === null) firstBadPage = b * source.layout.pagesPerBlock + p;
      }
    }
  });
  const deviceStateEqual = buf(sourceDevice).equals(buf(destDevice));
  return { equal: badPages === 0 && deviceStateEqual, firstBadPage, badPages, deviceStateEqual };
}
