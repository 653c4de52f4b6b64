/**
 * One migration arriving over TCP, as a state machine fed with the socket's chunks (no sockets here, so
 * tests and the fuzzer drive it directly): the hello (checked: magic, version, MAC, geometry), then the
 * guest is allocated (by the caller's `allocate`, which checks free memory), then frames until END, then
 * messages. Each frame's header is checked (tcp-wire.ts) before the rest of it is read, and the whole
 * frame is applied by the same FrameApplier as the in-process destination, which checks every index
 * and length before a byte is written: a stream that lies is refused (E_STREAM_CORRUPT / E_AUTH) and
 * nothing outside the announced guest is ever written.
 */
import { MigbenchError } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { FrameApplier } from './destination.ts';
import { FRAME_END, HEADER_BYTES } from './frame.ts';
import { RingViews, createRing } from './ring.ts';
import {
  HELLO_PREFIX_BYTES, MAX_HELLO_BYTES, MAX_MESSAGE_BYTES, Reassembler, checkFrameHeader, decodeHello, decodeMessage, helloLength, maxFrameBytes, messageLength,
  type Hello, type WireMessage,
} from './tcp-wire.ts';

/** Where an accepted migration lands. */
export interface ReceiveTarget {
  readonly memory: GuestMemory;
  readonly deviceState: Uint8Array;
}

export type SessionEvent =
  | { readonly type: 'hello'; readonly hello: Hello }
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
  target: ReceiveTarget | null = null;
  /** bytes of frames taken off the stream */
  frameBytes = 0;

  constructor(
    private readonly token: Uint8Array,
    private readonly nonce: Uint8Array,
    private readonly allocate: (hello: Hello) => ReceiveTarget,
  ) {
    this.hello.start(HELLO_PREFIX_BYTES);
  }

  get pagesApplied(): number {
    return this.applier?.pagesApplied ?? 0;
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
            const hello = decodeHello(this.hello.buffer.subarray(0, this.hello.filled), this.token, this.nonce);
            this.accept(hello);
            events.push({ type: 'hello', hello });
          }
          break;
        case 'frame-header': {
          const frames = this.frames!;
          at = frames.feed(chunk, at);
          if (frames.complete) {
            frames.need(checkFrameHeader(frames.buffer.subarray(0, HEADER_BYTES), this.maxFrame));
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
    this.target = target;
    this.maxFrame = maxFrameBytes(hello.pageSizeBytes);
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
