/**
 * One migration arriving over TCP, as a state machine fed with the socket's chunks (no sockets here, so
 * tests and the fuzzer drive it directly): the hello (checked: magic, version, MAC, geometry), then the
 * guest is allocated (by the caller's `allocate`, which checks free memory), then frames until END, then
 * messages. Each frame's header is checked (tcp-wire.ts) before the rest of it is read, and the whole
 * frame is applied by the same FrameApplier as the in-process destination, which checks every index
 * and length before a byte is written: a stream that lies is refused (E_STREAM_CORRUPT / E_AUTH) and
 * nothing outside the announced guest is ever written.
 *
 * A channel connection (precopy.channels > 1) is the same machine from a channel hello: `join` finds the
 * migration it belongs to (or refuses it), and its frames are pages and SYNC points only.
 */
import { MigbenchError } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { FrameApplier } from './destination.ts';
import { FRAME_END, HEADER_BYTES } from './frame.ts';
import { RingViews, createRing } from './ring.ts';
import {
  HELLO_PREFIX_BYTES, MAX_HELLO_BYTES, MAX_MESSAGE_BYTES, Reassembler, TCP_FRAME_SYNC, checkFrameHeader, decodeChannelHello, decodeHello, decodeMessage, helloLength,
  isChannelHello, maxFrameBytes, messageLength, type ChannelHello, type Hello, type WireMessage,
} from './tcp-wire.ts';
import { H_SEQ, H_TYPE } from './frame.ts';

/** Where an accepted migration lands. */
export interface ReceiveTarget {
  readonly memory: GuestMemory;
  readonly deviceState: Uint8Array;
}

export type SessionEvent =
  | { readonly type: 'hello'; readonly hello: Hello }
  | { readonly type: 'channel'; readonly hello: ChannelHello }
  /** a channel's sync point: every frame before it on this connection is applied */
  | { readonly type: 'sync'; readonly sync: number }
  | { readonly type: 'resumed'; readonly pagesApplied: number; readonly framesApplied: number }
  | { readonly type: 'message'; readonly message: WireMessage };

type Phase = 'hello-prefix' | 'hello' | 'frame-header' | 'frame' | 'message-length' | 'message' | 'refused';

export class ReceiveSession {
  private phase: Phase = 'hello-prefix';
  private readonly hello = new Reassembler(MAX_HELLO_BYTES);
  private readonly messages = new Reassembler(MAX_MESSAGE_BYTES);
  private frames: Reassembler | null = null;
  private applier: FrameApplier | null = null;
  private maxFrame = 0;
  /** a channel connection (after a channel hello) */
  channel: ChannelHello | null = null;
  target: ReceiveTarget | null = null;
  /** bytes of frames taken off the stream */
  frameBytes = 0;

  constructor(
    private readonly token: Uint8Array,
    private readonly nonce: Uint8Array,
    private readonly allocate: (hello: Hello) => ReceiveTarget,
    /** the migration a channel hello names (its guest, with no device state), or a refusal (throws); absent: channel hellos are refused */
    private readonly join: ((hello: ChannelHello) => ReceiveTarget) | null = null,
  ) {
    this.hello.start(HELLO_PREFIX_BYTES);
  }

  get pagesApplied(): number {
    return this.applier?.pagesApplied ?? 0;
  }

  get framesApplied(): number {
    return this.applier?.framesApplied ?? 0;
  }

  /** Take a chunk off the socket. Throws the refusal (a MigbenchError); the session is dead after one. */
  push(chunk: Uint8Array): SessionEvent[] {
    if (this.phase === 'refused') throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: bytes after a refusal');
    try {
      return this.consume(chunk);
    } catch (error) {
      this.phase = 'refused';
      throw error;
    }
  }

  private consume(chunk: Uint8Array): SessionEvent[] {
    const events: SessionEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      switch (this.phase) {
        case 'hello-prefix':
          at = this.hello.feed(chunk, at);
          if (this.hello.complete) {
            this.hello.need(helloLength(this.hello.buffer.subarray(0, HELLO_PREFIX_BYTES)));
            this.phase = 'hello';
          }
          break;
        case 'hello':
          at = this.hello.feed(chunk, at);
          if (this.hello.complete) {
            const bytes = this.hello.buffer.subarray(0, this.hello.filled);
            if (isChannelHello(bytes)) {
              const hello = decodeChannelHello(bytes, this.token, this.nonce);
              if (this.join === null) throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: a channel hello where a migration\'s hello was expected');
              const target = this.join(hello);
              this.channel = hello;
              this.start(target);
              events.push({ type: 'channel', hello });
            } else {
              const hello = decodeHello(bytes, this.token, this.nonce);
              this.accept(hello);
              events.push({ type: 'hello', hello });
            }
          }
          break;
        case 'frame-header': {
          const frames = this.frames!;
          at = frames.feed(chunk, at);
          if (frames.complete) {
            frames.need(checkFrameHeader(frames.buffer.subarray(0, HEADER_BYTES), this.maxFrame, this.channel !== null));
            this.phase = 'frame';
            if (frames.complete) at = this.applyFrame(events, at);
          }
          break;
        }
        case 'frame':
          at = this.frames!.feed(chunk, at);
          if (this.frames!.complete) at = this.applyFrame(events, at);
          break;
        case 'message-length':
          at = this.messages.feed(chunk, at);
          if (this.messages.complete) {
            this.messages.start(messageLength(this.messages.buffer));
            this.phase = 'message';
          }
          break;
        case 'message':
          at = this.messages.feed(chunk, at);
          if (this.messages.complete) {
            events.push({ type: 'message', message: decodeMessage(this.messages.buffer.subarray(0, this.messages.filled)) });
            this.messages.start(4);
            this.phase = 'message-length';
          }
          break;
        default:
          throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: bytes after a refusal');
      }
    }
    return events;
  }

  private accept(hello: Hello): void {
    const target = this.allocate(hello);
    if (target.memory.layout.memoryBytes !== hello.memoryBytes || target.deviceState.length !== hello.deviceStateBytes) {
      throw new RangeError('ReceiveSession: allocate returned a guest of another size');
    }
    this.start(target);
  }

  /** Frames from now on land in `target`. */
  private start(target: ReceiveTarget): void {
    this.target = target;
    this.maxFrame = maxFrameBytes(target.memory.layout.pageSizeBytes);
    // the frame is gathered at offset 0 of a private ring the size of the largest frame, where FrameApplier reads it
    const ring = new RingViews(createRing(Math.max(4096, 2 ** Math.ceil(Math.log2(this.maxFrame)))));
    this.frames = new Reassembler(0);
    this.frames.buffer = ring.bytes;
    this.frames.start(HEADER_BYTES);
    this.applier = new FrameApplier(ring, target.memory, target.deviceState);
    this.phase = 'frame-header';
  }

  private applyFrame(events: SessionEvent[], at: number): number {
    const frames = this.frames!;
    const header = new Int32Array(frames.buffer.buffer, frames.buffer.byteOffset, HEADER_BYTES / 4);
    if (header[H_TYPE] === TCP_FRAME_SYNC) {
      // a channel's sync point (checkFrameHeader lets it through on channel connections only)
      this.frameBytes += HEADER_BYTES;
      events.push({ type: 'sync', sync: header[H_SEQ] });
      frames.start(HEADER_BYTES);
      this.phase = 'frame-header';
      return at;
    }
    const { type, frameBytes } = this.applier!.apply(0);
    this.frameBytes += frameBytes;
    if (type === FRAME_END) {
      events.push({ type: 'resumed', pagesApplied: this.applier!.pagesApplied, framesApplied: this.applier!.framesApplied });
      this.messages.start(4);
      this.phase = 'message-length';
    } else {
      frames.start(HEADER_BYTES);
      this.phase = 'frame-header';
    }
    return at;
  }
}
