/**
 * The frame format between the page sender and the destination (version 1).
 *
 * Every frame starts with a 48-byte header, little-endian (host order, both ends are this process):
 *   i32[0] type          PAGES | PAGES_ZLIB | PAGES_ZSTD | XBZRLE | DEVICE_STATE | END | WRAP |
 *                        POSTCOPY_MISSING | POSTCOPY_RUN | POSTCOPY_RESUME
 *   i32[1] frameBytes    header + payload, rounded up to 8
 *   i32[2] seq           frame sequence number (detects a lost or repeated frame)
 *   i32[3] block         PAGES: RAM block index
 *   i32[4] first         PAGES: first page within the block; DEVICE_STATE: byte offset;
 *                        POSTCOPY_MISSING: first word of the missing-pages bitmap
 *   i32[5] count         PAGES: pages in the run (1..MAX_RUN_PAGES)
 *   i32[6] presentLo     PAGES: bit k set = page k of the run has a payload (a normal page);
 *   i32[7] presentHi            clear = a zero page (header only, QEMU's `duplicate`)
 *   i32[8] payloadBytes  bytes of payload after the header
 *   i32[9] version       FRAME_VERSION
 *   f64[5] sentAtMs      absolute send time (the destination honours the link latency from it)
 * Payload: the normal pages of the run in order (zero pages take no bytes), device-state bytes, or
 * for XBZRLE (count 1) the page's delta in QEMU's format against what the destination holds.
 */
export const FRAME_VERSION = 1;
export const HEADER_BYTES = 48;
export const MAX_RUN_PAGES = 64;
/** A run is capped to about this many payload bytes (QEMU multifd packets are 512 KiB). */
export const MAX_RUN_BYTES = 256 * 1024;

export const FRAME_PAGES = 1;
export const FRAME_DEVICE_STATE = 2;
export const FRAME_END = 3;
export const FRAME_WRAP = 4;
export const FRAME_XBZRLE = 5;
/** PAGES whose payload (the normal pages) is raw-deflated; the inflated size is the present count × page size */
export const FRAME_PAGES_ZLIB = 6;
/** PAGES whose payload (the normal pages) is one zstd frame declaring its content size (present count × page size) */
export const FRAME_PAGES_ZSTD = 7;
/** post-copy: Int32 words of the bitmap of pages still missing at the switch (QEMU's discard list) */
export const FRAME_POSTCOPY_MISSING = 8;
/** post-copy: the guest resumes on the destination now, before its missing pages (QEMU MIG_CMD_POSTCOPY_RUN) */
export const FRAME_POSTCOPY_RUN = 9;
/**
 * post-copy recovery: the link is back and the stream goes on from here; the destination answers with
 * its received bitmap (QEMU MIG_CMD_RECV_BITMAP / MIG_RP_MSG_RECV_BITMAP, then MIG_CMD_POSTCOPY_RESUME /
 * MIG_RP_MSG_RESUME_ACK, in one frame and one answer)
 */
export const FRAME_POSTCOPY_RESUME = 10;

// i32 slots
export const H_TYPE = 0;
export const H_FRAME_BYTES = 1;
export const H_SEQ = 2;
export const H_BLOCK = 3;
export const H_FIRST = 4;
export const H_COUNT = 5;
export const H_PRESENT_LO = 6;
export const H_PRESENT_HI = 7;
export const H_PAYLOAD_BYTES = 8;
export const H_VERSION = 9;
// f64 slot (byte 40)
export const H_SENT_AT_F64 = 5;

/** Pages per run for a page size: at most MAX_RUN_PAGES, at least 1. */
export function maxRunPages(pageSizeBytes: number): number {
  return Math.max(1, Math.min(MAX_RUN_PAGES, Math.floor(MAX_RUN_BYTES / pageSizeBytes)));
}

/** Bytes of a device-state chunk per frame. */
export const DEVICE_CHUNK_BYTES = 256 * 1024;
