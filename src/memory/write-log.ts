/**
 * The vCPUs' log of post-copy writes, for verification: after the switch the guest writes the
 * destination while the source stays frozen, so the destination must equal the frozen source with
 * every logged write replayed (an XOR of the same bytes at the same place; XOR commutes, so the
 * vCPUs' logs replay in any order).
 *
 * One log per vCPU, a SharedArrayBuffer written by that vCPU alone and read by the main thread once the
 * vCPUs are paused:
 *   Int32 [0] LOG_ENTRIES  entries written (Atomics.store after the entry's bytes)
 *   Int32 [1] LOG_DROPPED  entries that did not fit (the log is then incomplete: verification cannot be done)
 *   from byte 8, entries of `entryBytes(writeBytes)` bytes: Uint32 page, Uint32 byte offset in the page,
 *   then the `writeBytes` XOR values (padded to 4)
 */
import type { GuestMemory } from './guest-memory.ts';

export const LOG_ENTRIES = 0;
export const LOG_DROPPED = 1;
const LOG_HEADER_BYTES = 8;

export function entryBytes(writeBytes: number): number {
  return 8 + ((writeBytes + 3) & ~3);
}

/** The bytes of a log of `entries` entries. */
export function writeLogBytes(entries: number, writeBytes: number): number {
  return LOG_HEADER_BYTES + entries * entryBytes(writeBytes);
}

export function createWriteLog(entries: number, writeBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(writeLogBytes(entries, writeBytes));
}

/** The vCPU's end: append entries without allocating. */
export class WriteLogWriter {
  private readonly head: Int32Array;
  private readonly u32: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly stride: number;
  private readonly capacity: number;
  private entries = 0;
  private dropped = 0;
  private at = 0;

  constructor(buffer: SharedArrayBuffer, writeBytes: number) {
    this.head = new Int32Array(buffer, 0, 2);
    this.stride = entryBytes(writeBytes);
    this.capacity = Math.floor((buffer.byteLength - LOG_HEADER_BYTES) / this.stride);
    this.u32 = new Uint32Array(buffer, LOG_HEADER_BYTES, (this.capacity * this.stride) / 4);
    this.bytes = new Uint8Array(buffer, LOG_HEADER_BYTES, this.capacity * this.stride);
  }

  /** Start an entry for `page` at byte `offset`; false when the log is full (the write is counted as dropped). */
  begin(page: number, offset: number): boolean {
    if (this.entries >= this.capacity) {
      Atomics.store(this.head, LOG_DROPPED, ++this.dropped);
      return false;
    }
    this.at = this.entries * this.stride;
    this.u32[this.at >>> 2] = page;
    this.u32[(this.at >>> 2) + 1] = offset;
    return true;
  }

  /** The k-th XOR value of the entry begun. */
  value(k: number, v: number): void {
    this.bytes[this.at + 8 + k] = v;
  }

  /** The entry is complete (published to the reader). */
  end(): void {
    Atomics.store(this.head, LOG_ENTRIES, ++this.entries);
  }
}

export interface LogCounts {
  readonly entries: number;
  readonly dropped: number;
}

export function logCounts(buffer: SharedArrayBuffer): LogCounts {
  const head = new Int32Array(buffer, 0, 2);
  return { entries: Atomics.load(head, LOG_ENTRIES), dropped: Atomics.load(head, LOG_DROPPED) };
}

/**
 * Replay a log onto `memory` (a copy of the frozen source): XOR each entry's values in place. Every
 * page and offset is checked against the layout (a log is shared memory: trust nothing).
 */
export function replayWriteLog(buffer: SharedArrayBuffer, writeBytes: number, memory: GuestMemory): number {
  const { entries } = logCounts(buffer);
  const stride = entryBytes(writeBytes);
  const u32 = new Uint32Array(buffer, LOG_HEADER_BYTES, (entries * stride) / 4);
  const bytes = new Uint8Array(buffer, LOG_HEADER_BYTES, entries * stride);
  const { totalPages, pageSizeBytes } = memory.layout;
  for (let e = 0; e < entries; e++) {
    const at = e * stride;
    const page = u32[at >>> 2];
    const offset = u32[(at >>> 2) + 1];
    if (page >= totalPages || offset + writeBytes > pageSizeBytes) throw new RangeError(`write log entry ${e}: page ${page} offset ${offset} outside the guest`);
    const view = memory.views[memory.blockOf(page)];
    const base = memory.offsetOf(page) + offset;
    for (let k = 0; k < writeBytes; k++) view[base + k] ^= bytes[at + 8 + k];
  }
  return entries;
}
