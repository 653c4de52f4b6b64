/**
 * What the migration thread and a channel worker share (`precopy.channels` > 1): a packet queue and the
 * channel's counters, each in its own SharedArrayBuffer. Both sides import this layout; nothing here
 * starts a thread.
 *
 * Packet queue (Int32Array, Atomics only for the control words):
 *   Q_HEAD   written by the migration thread only: packets published (a counter)
 *   Q_TAIL   written by the channel only: packets finished, i.e. every frame of them committed to the
 *            channel's ring (a counter)
 *   Q_STATE  written by the channel only: STARTING | READY | FAILED | STOPPED
 *   Q_STOP   written by the migration thread only: 1 = leave once the queue is empty
 * then QUEUE_DEPTH slots of SLOT_HEADER_INTS + 2 × packetPages ints each, written by the migration
 * thread before it advances Q_HEAD, read by the channel before it advances Q_TAIL:
 *   [generation (dirty-sync count), flags, runs, pages, (first page, count) × runs]
 * A packet holds the pending pages of one aligned stretch of `packetPages` pages (512 KiB of 4 KiB pages:
 * QEMU's multifd packet of 128 pages) inside one RAM block, as runs of consecutive pages.
 *
 * Channel counters (Float64Array, written by the channel only, after each packet and before Q_TAIL
 * moves; the migration thread reads them after reading Q_TAIL): cumulative totals, indexes C_*.
 */
import type { FaultData } from '../faults.ts';
import type { GuestMemoryShared } from '../memory/guest-memory.ts';
import type { SharedLinkBudget } from '../transport/link.ts';
import type { RingShared } from '../transport/ring.ts';
import type { FrameCompression } from './page-sender.ts';

/** QEMU's multifd packet: 512 KiB of pages (128 pages of 4 KiB). */
export const PACKET_BYTES = 512 * 1024;
export const MAX_PACKET_PAGES = 128;
export const QUEUE_DEPTH = 4;

export const Q_HEAD = 0;
export const Q_TAIL = 1;
export const Q_STATE = 2;
export const Q_STOP = 3;
export const Q_CONTROL_INTS = 16; // keeps the control words on their own cache line

export const CHANNEL_STARTING = 0;
export const CHANNEL_READY = 1;
export const CHANNEL_FAILED = 2;
export const CHANNEL_STOPPED = 3;

// slot layout
export const P_GENERATION = 0;
export const P_FLAGS = 1;
export const P_RUNS = 2;
export const P_PAGES = 3;
export const SLOT_HEADER_INTS = 4;
/** flags: encode through the channel's XBZRLE cache (after the bulk round) */
export const PACKET_XBZRLE = 1;
/** flags: QEMU's last stage (stop-and-copy): XBZRLE cache hits only, no inserts */
export const PACKET_LAST_STAGE = 2;

// channel counters (Float64 indexes)
export const C_PACKETS = 0;
export const C_BYTES = 1;
export const C_PAGES = 2;
export const C_ZERO_PAGES = 3;
export const C_NORMAL_PAGES = 4;
export const C_FRAMES = 5;
export const C_LINK_WAIT_MS = 6;
export const C_RING_WAIT_MS = 7;
export const C_XBZRLE_PAGES = 8;
export const C_XBZRLE_BYTES = 9;
export const C_XBZRLE_SKIPPED = 10;
export const C_COMPRESSED_FRAMES = 11;
export const C_COMPRESSED_IN = 12;
export const C_COMPRESSED_OUT = 13;
export const C_CACHE_PAGES = 14;
export const C_CACHE_BYTES = 15;
export const C_CACHE_MISS = 16;
export const C_CACHE_OVERFLOW = 17;
export const COUNTER_SLOTS = 18;

/** Pages in a packet for a page size: 512 KiB worth, 1 … 128 (a power of two, so packets never straddle RAM blocks). */
export function packetPages(pageSizeBytes: number): number {
  return Math.max(1, Math.min(MAX_PACKET_PAGES, Math.floor(PACKET_BYTES / pageSizeBytes)));
}

export function slotInts(pagesPerPacket: number): number {
  return SLOT_HEADER_INTS + 2 * pagesPerPacket;
}

export function createQueue(pagesPerPacket: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * (Q_CONTROL_INTS + QUEUE_DEPTH * slotInts(pagesPerPacket)));
}

/** Int32 index of the slot that packet number `n` (a Q_HEAD / Q_TAIL count) uses. */
export function slotIndex(n: number, pagesPerPacket: number): number {
  return Q_CONTROL_INTS + (n % QUEUE_DEPTH) * slotInts(pagesPerPacket);
}


export interface ChannelWorkerData {
  /** 0-based channel number */
  channel: number;
  /** how many channels there are (with XBZRLE, channel c owns the packet stretches s with s mod channels = c) */
  channels: number;
  queue: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  ring: RingShared;
  memory: GuestMemoryShared;
  link: SharedLinkBudget;
  compression: FrameCompression | null;
  /** bytes of this channel's XBZRLE cache (it owns its pages' entries), or null without XBZRLE */
  xbzrleCacheBytes: number | null;
  /** tests only (src/faults.ts): die when about to take packet number `at` (0-based), or the first packet of the stop-and-copy */
  fault?: FaultData;
}
