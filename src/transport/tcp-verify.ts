/**
 * Verification across processes (link.transport "tcp"): the receiver hashes its memory per RAM block
 * (SHA-256, node:crypto), the sender hashes its own and compares; on a mismatch it narrows down by
 * asking for the hashes of each bad block's 2 MiB ranges, then of each bad range's pages, so the result
 * names the first bad page and counts the bad pages exactly as the in-process byte compare does.
 */
import { createHash } from 'node:crypto';
import { MigbenchError } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import type { VerifyReport } from '../memory/verify.ts';
import { VERIFY_RANGE_BYTES, type WireMessage } from './tcp-wire.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Hash of each RAM block and of the device state. */
export function blockHashes(memory: GuestMemory, deviceState: Uint8Array): { blocks: string[]; device: string } {
  return { blocks: memory.views.map((v) => sha256Hex(v)), device: sha256Hex(deviceState) };
}

/** Hashes of a block's consecutive `pieceBytes` pieces, over [fromByte, toByte). */
export function pieceHashes(view: Uint8Array, pieceBytes: number, fromByte = 0, toByte = view.length): string[] {
  const out: string[] = [];
  for (let off = fromByte; off < toByte; off += pieceBytes) out.push(sha256Hex(view.subarray(off, Math.min(off + pieceBytes, toByte))));
  return out;
}

/** What the receiver answers to a verification request, or null for a message that is not one. */
export function answerVerifyRequest(memory: GuestMemory, message: WireMessage): WireMessage | null {
  const blocks = memory.views.length;
  const block = message.block;
  if (message.type !== 'ranges' && message.type !== 'pages') return null;
  if (typeof block !== 'number' || !Number.isInteger(block) || block < 0 || block >= blocks) {
    throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: a ${message.type} request for block ${String(block)} of ${blocks}`);
  }
  const view = memory.views[block];
  if (message.type === 'ranges') return { type: 'ranges', block, hashes: pieceHashes(view, VERIFY_RANGE_BYTES) };
  const range = message.range;
  const ranges = Math.ceil(view.length / VERIFY_RANGE_BYTES);
  if (typeof range !== 'number' || !Number.isInteger(range) || range < 0 || range >= ranges) {
    throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: a pages request for range ${String(range)} of ${ranges}`);
  }
  const from = range * VERIFY_RANGE_BYTES;
  return { type: 'pages', block, range, hashes: pieceHashes(view, memory.layout.pageSizeBytes, from, Math.min(from + VERIFY_RANGE_BYTES, view.length)) };
}

function hashList(message: WireMessage, key: string, length: number): string[] {
  const list = message[key];
  if (!Array.isArray(list) || list.length !== length || !list.every((h) => typeof h === 'string')) {
    throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: a ${message.type} answer without ${length} hashes`);
  }
  return list as string[];
}

/**
 * The sender's side: compare the receiver's hashes with the source's; `ask` sends a request and
 * resolves with the receiver's answer.
 */
export async function compareRemote(
  source: GuestMemory,
  deviceState: Uint8Array,
  remote: WireMessage,
  ask: (request: WireMessage) => Promise<WireMessage>,
): Promise<VerifyReport> {
  const local = blockHashes(source, deviceState);
  const theirs = hashList(remote, 'blocks', local.blocks.length);
  const ps = source.layout.pageSizeBytes;
  const pagesPerRange = VERIFY_RANGE_BYTES / ps >= 1 ? VERIFY_RANGE_BYTES / ps : 1;
  let badPages = 0;
  let firstBadPage: number | null = null;
  for (let b = 0; b < local.blocks.length; b++) {
    if (local.blocks[b] === theirs[b]) continue;
    const view = source.views[b];
    const mine = pieceHashes(view, VERIFY_RANGE_BYTES);
    const ranges = hashList(await ask({ type: 'ranges', block: b }), 'hashes', mine.length);
    for (let r = 0; r < mine.length; r++) {
      if (mine[r] === ranges[r]) continue;
      const from = r * VERIFY_RANGE_BYTES;
      const myPages = pieceHashes(view, ps, from, Math.min(from + VERIFY_RANGE_BYTES, view.length));
      const pages = hashList(await ask({ type: 'pages', block: b, range: r }), 'hashes', myPages.length);
      for (let p = 0; p < myPages.length; p++) {
        if (myPages[p] === pages[p]) continue;
        badPages++;
        firstBadPage ??= b * source.layout.pagesPerBlock + r * pagesPerRange + p;
      }
    }
  }
  const deviceStateEqual = remote.device === local.device;
  return { equal: badPages === 0 && deviceStateEqual, firstBadPage, badPages, deviceStateEqual };
}
