/**
 * The TCP wire between `migbench run` (link.transport "tcp") and `migbench receive`: pure encoders and
 * checks, no sockets. Everything a receiver reads is bounded and checked here before it is trusted.
 *
 * The conversation (integers little-endian):
 *   sender → receiver  PREFACE (PREFACE_BYTES, as soon as the connection is up; with TLS, inside it):
 *                      magic "MIGBSND\0", u32 wire version. A TLS receiver reads the first byte of a
 *                      connection before any TLS: a TLS handshake record (0x16) goes on to TLS, anything
 *                      else (a plaintext sender's preface) is refused at once, in plaintext (E_AUTH).
 *   receiver → sender  CHALLENGE message: { type: "challenge", version, nonce } (a fresh 32-byte nonce, hex)
 *   sender → receiver  HELLO (binary, below), its MAC = HMAC-SHA256(token, nonce ‖ hello with the MAC zeroed)
 *   receiver → sender  { type: "accept", migration } (a fresh 16-byte migration id, hex) or
 *                      { type: "refused", code, message } (then it closes)
 *   sender → receiver  frames: exactly the ring frames of frame.ts (48-byte header whose i32[1] is the
 *                      frame's length, then the payload), WRAP frames never; the last one is END
 * With `precopy.channels` N > 1 (QEMU multifd: one socket per channel), the hello says N and, once it is
 * accepted, the sender opens N more connections, one per channel. Each gets its own challenge and answers
 * with a CHANNEL HELLO (below) naming the migration id and its channel number, MACed like the hello; the
 * receiver refuses a channel of a migration it does not know, a number ≥ N and a number already taken.
 * A channel carries PAGES / XBZRLE / compressed PAGES frames only (no device state, no END) and, at every
 * dirty sync, a SYNC frame (TCP_FRAME_SYNC: a bare header, its i32[2] a sync number); the receiver answers
 * { type: "synced", sync } on that channel once every frame before it is applied. The sender syncs its
 * dirty log only after every channel has answered (QEMU's multifd sync packets): a copy sent after a sync
 * can never be overtaken by one sent before it on another socket. The main connection carries the device
 * state, END and the verification.
 *   receiver → sender  { type: "resumed" } once END is applied; then { type: "hashes", blocks, device }
 *                      (SHA-256 of every RAM block and of the device state, hex)
 *   sender → receiver  { type: "ranges", block } → receiver answers { type: "ranges", block, hashes } (per
 *                      2 MiB range); { type: "pages", block, range } → { type: "pages", block, range, hashes };
 *                      then { type: "verdict", equal, firstBadPage, badPages }; both sides close.
 * A message (either way, outside the frames) is a u32 byte length (at most MAX_MESSAGE_BYTES) and that many
 * bytes of UTF-8 JSON.
 *
 * HELLO (HELLO_FIXED_BYTES + 8 × blockCount bytes):
 *   0  u8[8]  magic "MIGBTCP\0"
 *   8  u32    wire version (TCP_WIRE_VERSION)
 *   12 u32    hello bytes (the whole hello, at most MAX_HELLO_BYTES)
 *   16 u32    frame version (FRAME_VERSION)
 *   20 u32    page size, bytes
 *   24 f64    guest memory, bytes
 *   32 u32    RAM blocks
 *   36 u32    device state, bytes
 *   40 u32    flags (HELLO_ZSTD: the stream may carry zstd frames)
 *   44 u32    channels (1 … MAX_WIRE_CHANNELS; above 1 the pages come on that many channel connections)
 *   48 u8[32] the scenario's hash (SHA-256 of the resolved scenario's JSON; shown, not trusted)
 *   80 u8[32] MAC
 *   112 f64 × blocks  bytes of each RAM block (must be the layout guestLayout gives)
 *
 * CHANNEL HELLO (CHANNEL_HELLO_BYTES):
 *   0  u8[8]  magic "MIGBCHN\0"
 *   8  u32    wire version (TCP_WIRE_VERSION)
 *   12 u32    CHANNEL_HELLO_BYTES
 *   16 u32    channel number (0-based)
 *   20 u32    channels (as in the hello)
 *   24 u8[16] the migration id the receiver gave in its accept
 *   40 u8[32] MAC (over this channel connection's own nonce)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MigbenchError } from '../errors.ts';
import { guestLayout, type GuestLayout } from '../memory/guest-memory.ts';
import {
  DEVICE_CHUNK_BYTES, FRAME_DEVICE_STATE, FRAME_END, FRAME_PAGES, FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD, FRAME_VERSION, FRAME_XBZRLE, HEADER_BYTES,
  H_FRAME_BYTES, H_PAYLOAD_BYTES, H_SEQ, H_TYPE, H_VERSION, maxRunPages,
} from './frame.ts';

export const TCP_MAGIC = Uint8Array.from([0x4d, 0x49, 0x47, 0x42, 0x54, 0x43, 0x50, 0x00]); // "MIGBTCP\0"
export const TCP_CHANNEL_MAGIC = Uint8Array.from([0x4d, 0x49, 0x47, 0x42, 0x43, 0x48, 0x4e, 0x00]); // "MIGBCHN\0"
/** 3: the sender's PREFACE opens every connection (2: channel connections and SYNC frames; 1 had one connection per migration) */
export const TCP_WIRE_VERSION = 3;
export const PREFACE_MAGIC = Uint8Array.from([0x4d, 0x49, 0x47, 0x42, 0x53, 0x4e, 0x44, 0x00]); // "MIGBSND\0"
export const PREFACE_BYTES = 12;
/** The first byte of a TLS handshake record (a ClientHello): what a TLS client sends first. */
export const TLS_HANDSHAKE_BYTE = 0x16;
/** the most channels a hello may announce (precopy.channels allows 16) */
export const MAX_WIRE_CHANNELS = 64;
export const CHANNEL_HELLO_BYTES = 72;
export const MIGRATION_ID_BYTES = 16;
/**
 * A TCP-only frame type (never in a ring, never given to FrameApplier): the sync point of a channel
 * connection, a bare header whose H_SEQ slot holds the sync number.
 */
export const TCP_FRAME_SYNC = 64;
/** bytes of the hello before its list of RAM blocks; also what a receiver reads before it knows the length */
export const HELLO_FIXED_BYTES = 112;
/** magic, version and length: enough to refuse garbage or another version before reading more */
export const HELLO_PREFIX_BYTES = 16;
/** 4096 RAM blocks of 1 GiB: a 4 TiB guest */
export const MAX_HELLO_BLOCKS = 4096;
export const MAX_HELLO_BYTES = HELLO_FIXED_BYTES + 8 * MAX_HELLO_BLOCKS;
export const MAX_MESSAGE_BYTES = 1 << 20;
export const HELLO_ZSTD = 1;
export const MIN_PAGE_BYTES = 512;
export const MAX_PAGE_BYTES = 2 * 1024 * 1024;
export const MAX_DEVICE_STATE_BYTES = 1 << 30;
/** the range the receiver hashes on a mismatch, to name the first bad pages */
export const VERIFY_RANGE_BYTES = 2 * 1024 * 1024;
export const NONCE_BYTES = 32;
const MAC_OFFSET = 80;
const HASH_OFFSET = 48;

export interface Hello {
  readonly pageSizeBytes: number;
  readonly memoryBytes: number;
  readonly deviceStateBytes: number;
  readonly zstd: boolean;
  /** hex */
  readonly scenarioHash: string;
  /** channel connections that carry the pages (1: the main connection carries them) */
  readonly channels: number;
  readonly layout: GuestLayout;
}

export interface ChannelHello {
  readonly channel: number;
  readonly channels: number;
  /** hex */
  readonly migrationId: string;
}

function corrupt(what: string): never {
  throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: ${what}`);
}

/** The sender's first bytes on every connection. */
export function encodePreface(): Uint8Array {
  const bytes = new Uint8Array(PREFACE_BYTES);
  bytes.set(PREFACE_MAGIC, 0);
  new DataView(bytes.buffer).setUint32(8, TCP_WIRE_VERSION, true);
  return bytes;
}

/**
 * Check the first bytes of a connection (as many as have come, up to PREFACE_BYTES): refuses a TLS client
 * (at a plaintext receiver), anything without the preface's magic, and another wire version, as soon as
 * the bytes that show it are there.
 */
export function checkPreface(bytes: Uint8Array): void {
  if (bytes.length > 0 && bytes[0] === TLS_HANDSHAKE_BYTE) {
    corrupt('a TLS client (the sender has link.tls), and this receiver is plaintext (start it with --tls-cert, --tls-key and --tls-ca)');
  }
  for (let i = 0; i < Math.min(bytes.length, PREFACE_MAGIC.length); i++) {
    if (bytes[i] !== PREFACE_MAGIC[i]) corrupt('not a migbench sender (no MIGBSND preface; a sender of wire version 2 or older?)');
  }
  if (bytes.length >= PREFACE_BYTES) {
    const version = new DataView(bytes.buffer, bytes.byteOffset, PREFACE_BYTES).getUint32(8, true);
    if (version !== TCP_WIRE_VERSION) corrupt(`wire version ${version}, this migbench speaks ${TCP_WIRE_VERSION}`);
  }
}

/** Takes the sender's PREFACE off the front of a connection, then hands on every byte after it. */
export class PrefaceReader {
  private readonly bytes = new Uint8Array(PREFACE_BYTES);
  private filled = 0;
  /** The bytes of `chunk` after the preface (none until it is whole). Throws the refusal (E_STREAM_CORRUPT). */
  take(chunk: Uint8Array): Uint8Array {
    if (this.filled === PREFACE_BYTES) return chunk;
    const n = Math.min(PREFACE_BYTES - this.filled, chunk.length);
    this.bytes.set(chunk.subarray(0, n), this.filled);
    this.filled += n;
    checkPreface(this.bytes.subarray(0, this.filled));
    return chunk.subarray(n);
  }
}

/** The MAC of a hello (its MAC field zeroed) under `token` and the receiver's `nonce`. */
export function helloMac(token: Uint8Array, nonce: Uint8Array, hello: Uint8Array): Buffer {
  const zeroed = Uint8Array.from(hello);
  zeroed.fill(0, MAC_OFFSET, MAC_OFFSET + 32);
  return createHmac('sha256', token).update(nonce).update(zeroed).digest();
}

export function encodeHello(hello: Omit<Hello, 'layout' | 'channels'> & { channels?: number }, token: Uint8Array, nonce: Uint8Array): Uint8Array {
  const layout = guestLayout(hello.memoryBytes, hello.pageSizeBytes);
  const bytes = new Uint8Array(HELLO_FIXED_BYTES + 8 * layout.blockBytes.length);
  const v = new DataView(bytes.buffer);
  bytes.set(TCP_MAGIC, 0);
  v.setUint32(8, TCP_WIRE_VERSION, true);
  v.setUint32(12, bytes.length, true);
  v.setUint32(16, FRAME_VERSION, true);
  v.setUint32(20, hello.pageSizeBytes, true);
  v.setFloat64(24, hello.memoryBytes, true);
  v.setUint32(32, layout.blockBytes.length, true);
  v.setUint32(36, hello.deviceStateBytes, true);
  v.setUint32(40, hello.zstd ? HELLO_ZSTD : 0, true);
  v.setUint32(44, hello.channels ?? 1, true);
  const hash = Buffer.from(hello.scenarioHash, 'hex');
  if (hash.length !== 32) throw new RangeError('scenarioHash: expected 64 hex digits');
  bytes.set(hash, HASH_OFFSET);
  layout.blockBytes.forEach((n, i) => v.setFloat64(HELLO_FIXED_BYTES + 8 * i, n, true));
  bytes.set(helloMac(token, nonce, bytes), MAC_OFFSET);
  return bytes;
}

const hasMagic = (bytes: Uint8Array, magic: Uint8Array): boolean => magic.every((b, i) => bytes[i] === b);

/** Whether the first HELLO_PREFIX_BYTES begin a channel hello (else they must begin a hello). */
export function isChannelHello(prefix: Uint8Array): boolean {
  return hasMagic(prefix, TCP_CHANNEL_MAGIC);
}

/**
 * From the first HELLO_PREFIX_BYTES: the whole hello's (or channel hello's) length. Refuses garbage (no
 * magic), another wire version and a length outside HELLO_FIXED_BYTES … MAX_HELLO_BYTES (a channel hello:
 * other than CHANNEL_HELLO_BYTES).
 */
export function helloLength(prefix: Uint8Array): number {
  if (prefix.length < HELLO_PREFIX_BYTES) throw new RangeError('helloLength: needs the first 16 bytes');
  const channel = isChannelHello(prefix);
  if (!channel && !hasMagic(prefix, TCP_MAGIC)) corrupt('not a migbench stream (no MIGBTCP magic)');
  const v = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const version = v.getUint32(8, true);
  if (version !== TCP_WIRE_VERSION) corrupt(`wire version ${version}, this migbench speaks ${TCP_WIRE_VERSION}`);
  const length = v.getUint32(12, true);
  if (channel) {
    if (length !== CHANNEL_HELLO_BYTES) corrupt(`channel hello of ${length} bytes`);
  } else if (length < HELLO_FIXED_BYTES || length > MAX_HELLO_BYTES || (length - HELLO_FIXED_BYTES) % 8 !== 0) corrupt(`hello of ${length} bytes`);
  return length;
}

const CHANNEL_MAC_OFFSET = 40;

function channelHelloMac(token: Uint8Array, nonce: Uint8Array, hello: Uint8Array): Buffer {
  const zeroed = Uint8Array.from(hello);
  zeroed.fill(0, CHANNEL_MAC_OFFSET, CHANNEL_MAC_OFFSET + 32);
  return createHmac('sha256', token).update(nonce).update(zeroed).digest();
}

export function encodeChannelHello(hello: ChannelHello, token: Uint8Array, nonce: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(CHANNEL_HELLO_BYTES);
  const v = new DataView(bytes.buffer);
  bytes.set(TCP_CHANNEL_MAGIC, 0);
  v.setUint32(8, TCP_WIRE_VERSION, true);
  v.setUint32(12, CHANNEL_HELLO_BYTES, true);
  v.setUint32(16, hello.channel, true);
  v.setUint32(20, hello.channels, true);
  const id = Buffer.from(hello.migrationId, 'hex');
  if (id.length !== MIGRATION_ID_BYTES) throw new RangeError(`migrationId: expected ${2 * MIGRATION_ID_BYTES} hex digits`);
  bytes.set(id, 24);
  bytes.set(channelHelloMac(token, nonce, bytes), CHANNEL_MAC_OFFSET);
  return bytes;
}

/**
 * Check a whole channel hello: its MAC first (E_AUTH), then its numbers (E_STREAM_CORRUPT). Whether its
 * migration is one the receiver knows, and its number free, is the receiver's to check.
 */
export function decodeChannelHello(bytes: Uint8Array, token: Uint8Array, nonce: Uint8Array): ChannelHello {
  const length = helloLength(bytes);
  if (!isChannelHello(bytes) || bytes.length !== length) corrupt(`channel hello of ${bytes.length} bytes`);
  if (!timingSafeEqual(channelHelloMac(token, nonce, bytes), bytes.subarray(CHANNEL_MAC_OFFSET, CHANNEL_MAC_OFFSET + 32))) {
    throw new MigbenchError('E_AUTH', 'tcp stream refused: the channel\'s sender does not hold this receiver\'s token (--token-file / link.tokenFile differ)');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const channel = v.getUint32(16, true);
  const channels = v.getUint32(20, true);
  if (channels < 2 || channels > MAX_WIRE_CHANNELS) corrupt(`a channel hello of ${channels} channels`);
  if (channel >= channels) corrupt(`channel ${channel} of ${channels}`);
  return { channel, channels, migrationId: Buffer.from(bytes.subarray(24, 24 + MIGRATION_ID_BYTES)).toString('hex') };
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Check a whole hello: its MAC first (E_AUTH), then every field (E_STREAM_CORRUPT). */
export function decodeHello(bytes: Uint8Array, token: Uint8Array, nonce: Uint8Array): Hello {
  const length = helloLength(bytes);
  if (bytes.length !== length) corrupt(`hello of ${bytes.length} bytes, it says ${length}`);
  const mac = helloMac(token, nonce, bytes);
  if (!timingSafeEqual(mac, bytes.subarray(MAC_OFFSET, MAC_OFFSET + 32))) {
    throw new MigbenchError('E_AUTH', 'tcp stream refused: the sender does not hold this receiver\'s token (--token-file / link.tokenFile differ)');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frameVersion = v.getUint32(16, true);
  if (frameVersion !== FRAME_VERSION) corrupt(`frame version ${frameVersion}, this migbench speaks ${FRAME_VERSION}`);
  const pageSizeBytes = v.getUint32(20, true);
  if (!isPowerOfTwo(pageSizeBytes) || pageSizeBytes < MIN_PAGE_BYTES || pageSizeBytes > MAX_PAGE_BYTES) corrupt(`page size ${pageSizeBytes}`);
  const memoryBytes = v.getFloat64(24, true);
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % pageSizeBytes !== 0) corrupt(`guest memory ${memoryBytes} bytes`);
  const blocks = v.getUint32(32, true);
  if (blocks !== (length - HELLO_FIXED_BYTES) / 8) corrupt(`${blocks} RAM blocks in a hello of ${length} bytes`);
  const deviceStateBytes = v.getUint32(36, true);
  if (deviceStateBytes > MAX_DEVICE_STATE_BYTES) corrupt(`device state of ${deviceStateBytes} bytes`);
  const flags = v.getUint32(40, true);
  if ((flags & ~HELLO_ZSTD) !== 0) corrupt(`unknown flags ${flags}`);
  const channels = v.getUint32(44, true);
  if (channels < 1 || channels > MAX_WIRE_CHANNELS) corrupt(`${channels} channels (1 … ${MAX_WIRE_CHANNELS})`);
  if (memoryBytes / pageSizeBytes > 2 ** 32) corrupt(`guest memory ${memoryBytes} bytes: more than 2^32 pages`);
  const layout = guestLayout(memoryBytes, pageSizeBytes);
  if (layout.blockBytes.length !== blocks) corrupt(`${blocks} RAM blocks, a guest of ${memoryBytes} bytes has ${layout.blockBytes.length}`);
  for (let i = 0; i < blocks; i++) {
    const n = v.getFloat64(HELLO_FIXED_BYTES + 8 * i, true);
    if (n !== layout.blockBytes[i]) corrupt(`RAM block ${i} of ${n} bytes, expected ${layout.blockBytes[i]}`);
  }
  const scenarioHash = Buffer.from(bytes.subarray(HASH_OFFSET, HASH_OFFSET + 32)).toString('hex');
  return { pageSizeBytes, memoryBytes, deviceStateBytes, zstd: (flags & HELLO_ZSTD) !== 0, scenarioHash, channels, layout };
}

/** The longest frame a sender of this page size may send: a full run of pages, or a device-state chunk. */
export function maxFrameBytes(pageSizeBytes: number): number {
  const payload = Math.max(maxRunPages(pageSizeBytes) * pageSizeBytes, DEVICE_CHUNK_BYTES);
  return (HEADER_BYTES + payload + 7) & ~7;
}

const KNOWN_TYPES = new Set([FRAME_PAGES, FRAME_DEVICE_STATE, FRAME_END, FRAME_XBZRLE, FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD]);
/** what a channel connection may carry: pages only, and its sync points */
const CHANNEL_TYPES = new Set([FRAME_PAGES, FRAME_XBZRLE, FRAME_PAGES_ZLIB, FRAME_PAGES_ZSTD, TCP_FRAME_SYNC]);

/**
 * Check a frame header (HEADER_BYTES) read off the socket before any more of it is read: a known type
 * (never WRAP; on a channel connection pages and SYNC only), this frame version, a length within
 * HEADER_BYTES … maxBytes, 8-aligned, that matches its payload (a SYNC frame: none). Returns the frame's
 * length. Where the pages go is checked by FrameApplier before any write.
 */
export function checkFrameHeader(header: Uint8Array, maxBytes: number, channel = false): number {
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  const type = v.getInt32(4 * H_TYPE, true);
  if (channel ? !CHANNEL_TYPES.has(type) : !KNOWN_TYPES.has(type)) corrupt(`${channel ? 'a channel connection carries pages only, not frame type' : 'unknown frame type'} ${type}`);
  const version = v.getInt32(4 * H_VERSION, true);
  if (version !== FRAME_VERSION) corrupt(`frame version ${version}, this migbench speaks ${FRAME_VERSION}`);
  const frameBytes = v.getInt32(4 * H_FRAME_BYTES, true);
  if (frameBytes < HEADER_BYTES || frameBytes > maxBytes || (frameBytes & 7) !== 0) corrupt(`frame length ${frameBytes} (at most ${maxBytes} for this guest)`);
  const payloadBytes = v.getInt32(4 * H_PAYLOAD_BYTES, true);
  if (payloadBytes < 0 || ((HEADER_BYTES + payloadBytes + 7) & ~7) !== frameBytes) corrupt(`payload of ${payloadBytes} bytes in a frame of ${frameBytes}`);
  if (type === TCP_FRAME_SYNC && frameBytes !== HEADER_BYTES) corrupt(`a sync frame of ${frameBytes} bytes`);
  return frameBytes;
}

/** A channel's SYNC frame: a bare header, its H_SEQ slot the sync number. */
export function encodeSyncFrame(sync: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const v = new DataView(header.buffer);
  v.setInt32(4 * H_TYPE, TCP_FRAME_SYNC, true);
  v.setInt32(4 * H_FRAME_BYTES, HEADER_BYTES, true);
  v.setInt32(4 * H_SEQ, sync, true);
  v.setInt32(4 * H_VERSION, FRAME_VERSION, true);
  return header;
}

/** A message: u32 length, then JSON. */
export function encodeMessage(message: { type: string; [key: string]: unknown }): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  if (json.length > MAX_MESSAGE_BYTES) throw new RangeError(`message of ${json.length} bytes`);
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  return out;
}

export function messageLength(prefix: Uint8Array): number {
  const n = new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0, true);
  if (n < 2 || n > MAX_MESSAGE_BYTES) corrupt(`message of ${n} bytes`);
  return n;
}

export interface WireMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

export function decodeMessage(body: Uint8Array): WireMessage {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    corrupt('a message that is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') corrupt('a message without a type');
  return value as WireMessage;
}

/**
 * Reassembles length-prefixed items from the chunks a socket delivers, without concatenating them:
 * `need(n)` asks for the next n bytes, `feed` copies what a chunk has of them into `buffer`.
 */
export class Reassembler {
  buffer: Uint8Array;
  filled = 0;
  wanted = 0;
  constructor(capacityBytes: number) {
    this.buffer = new Uint8Array(capacityBytes);
  }
  need(bytes: number): void {
    if (bytes > this.buffer.length) throw new RangeError(`Reassembler: ${bytes} bytes exceed ${this.buffer.length}`);
    this.wanted = bytes;
  }
  /** Reset to gather a new item of `bytes` bytes. */
  start(bytes: number): void {
    this.filled = 0;
    this.need(bytes);
  }
  /** Copy from chunk[offset…] what the item still needs; returns the new offset. */
  feed(chunk: Uint8Array, offset: number): number {
    const n = Math.min(this.wanted - this.filled, chunk.length - offset);
    if (n > 0) this.buffer.set(chunk.subarray(offset, offset + n), this.filled);
    this.filled += Math.max(0, n);
    return offset + Math.max(0, n);
  }
  get complete(): boolean {
    return this.filled === this.wanted;
  }
}

/** Parse "HOST:PORT" ("[::1]:PORT" for IPv6); null when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}
