/**
 * The sender's end of link.transport "tcp": a destination in another process (`migbench receive`).
 *
 * The page sender is unchanged: it still writes frames into a SharedArrayBuffer ring and books them on
 * the link's token bucket (link.bandwidth still limits the sender). Instead of a destination worker, a
 * pump on this thread takes the frames off the ring and writes them to the socket as they are (WRAP
 * frames stay behind); a frame's ring slot is freed (TAIL moves) only when the socket has taken it, so
 * the ring is the send buffer and the socket's backpressure reaches the sender as ring waits.
 *
 * The resume is when the receiver's "resumed" message arrives here (on this side's clock: one network
 * trip later than the receiver resumed, as QEMU's source sees its destination). Verification compares
 * hashes (tcp-verify.ts).
 *
 * With `precopy.channels` N > 1 there are N + 1 of these: the main one (device state, END, verification)
 * and one per channel (`channel` set: a channel hello naming the migration id the main one was given),
 * whose ring a channel worker fills. `sync()` is a channel's part of the multifd flush.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsFiles } from './tcp-tls.ts';
import type { Clock } from '../clock.ts';
import { MigbenchError, type ErrorCode } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import type { VerifyReport } from '../memory/verify.ts';
import { FRAME_END, FRAME_WRAP, H_FRAME_BYTES, H_TYPE } from './frame.ts';
import { RING_HEAD, RING_TAIL, RingProducer, RingViews, type RingShared } from './ring.ts';
import { DEFAULT_STALL_LIMIT_MS, StallWatch } from './stall-watch.ts';
import {
  Reassembler, MAX_MESSAGE_BYTES, TCP_WIRE_VERSION, VERIFY_RANGE_BYTES, decodeMessage, encodeChannelHello, encodeHello, encodeMessage, encodePreface, encodeSyncFrame, messageLength, type WireMessage,
} from './tcp-wire.ts';
import { compareRemote } from './tcp-verify.ts';
import { formatWaitMs, peerWaitMs } from './peer-wait.ts';

export interface TcpDestinationOptions {
  readonly ring: RingShared;
  readonly host: string;
  readonly port: number;
  /** link.target as the user wrote it, for messages */
  readonly target: string;
  readonly token: Uint8Array;
  readonly memory: GuestMemory;
  readonly deviceStateBytes: number;
  readonly zstd: boolean;
  readonly scenarioHash: string;
  readonly clock: Clock;
  /**
   * How long a receiver may leave frames unread, and the grace of every wait for its answers beyond what
   * the link and its work need (peer-wait.ts); default DEFAULT_STALL_LIMIT_MS
   */
  readonly stallLimitMs?: number;
  /** the sender's pace (link.bandwidth, bytes/s; Infinity: unlimited): the waits count the bytes in flight at no more than this */
  readonly pacedBytesPerSec?: number;
  /** channels of the migration (the main connection; default 1) */
  readonly channels?: number;
  /** TLS (link.tls, read), or null/absent for plaintext */
  readonly tls?: TlsFiles | null;
  /** this is a channel connection of the migration the main connection was accepted as */
  readonly channel?: { readonly number: number; readonly channels: number; readonly migrationId: string };
}

/**
 * The ring in front of the socket: a few of the largest frames. It is a send buffer on top of the
 * kernel's, and what it holds counts as sent: a large one would let a round "end" long before its bytes
 * crossed the network (an 8 MiB ring held a whole 8 MiB guest's bulk round).
 */
export const TCP_RING_BYTES = 2 * 1024 * 1024;

/** A receiver that does not take the connection within this long is not there. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Failures that are the connection going away (closed, reset, silent), not a refusal by the receiver. */
const linkLosses = new WeakSet<Error>();

function linkLost(message: string, cause?: Error): MigbenchError {
  const e = new MigbenchError('E_IO', message, cause ? { cause } : undefined);
  linkLosses.add(e);
  return e;
}

/**
 * Whether `error` (or an error it was caused by: a channel's failure is wrapped) is a connection to the
 * receiver that went away mid-migration: the run then ends `failed` (reason link-down), its guest on the
 * source, as for faults.linkDownAtMs, rather than `errored`.
 */
export function isLinkLost(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (linkLosses.has(e)) return true;
  return false;
}

const KNOWN_CODES: readonly ErrorCode[] = ['E_STREAM_CORRUPT', 'E_AUTH', 'E_RESOURCES', 'E_IO', 'E_VERIFY', 'E_WORKER'];

export class TcpDestination {
  readonly producer: RingProducer;
  private readonly socket: net.Socket;
  private readonly target: string;
  private readonly clock: Clock;
  private readonly options: TcpDestinationOptions;
  private failure: MigbenchError | null = null;
  private readonly stallWatch: StallWatch;
  private readonly reader = new Reassembler(MAX_MESSAGE_BYTES);
  private readingLength = true;
  private readonly inbox: WireMessage[] = [];
  private waiter: (() => void) | null = null;
  private endSent = false;
  /** the receiver's "resumed" has arrived (the verification follows) */
  private resumed = false;
  private finished = false;
  /** the receiver's figures, as it reported them at the resume */
  pagesApplied = 0;
  /** the id the receiver gave this migration (its channels name it), hex */
  migrationId = '';
  private syncs = 0;
  /** bytes given to the socket, and taken by it (its write callbacks) */
  private writtenBytes = 0;
  private releasedBytes = 0;
  private firstWriteAtMs = -1;
  /** writtenBytes when the receiver last confirmed it had applied everything before (accept, synced) */
  private confirmedBytes = 0;
  /** the handshake is over (a loss from now on is a link loss mid-migration) */
  private accepted = false;

  private constructor(socket: net.Socket, options: TcpDestinationOptions) {
    this.socket = socket;
    this.target = options.target;
    this.clock = options.clock;
    this.options = options;
    this.producer = new RingProducer(new RingViews(options.ring));
    this.stallWatch = new StallWatch(options.stallLimitMs ?? DEFAULT_STALL_LIMIT_MS);
    this.reader.start(4);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(linkLost(`link.target ${this.target}: ${e.message} (${this.stage()})`, e)));
    socket.on('close', () => {
      if (!this.finished) {
        this.fail(this.accepted
          ? linkLost(`link.target ${this.target}: the receiver closed the connection ${this.stage()}`)
          : new MigbenchError('E_IO', `link.target ${this.target}: the receiver closed the connection before its challenge (a TLS receiver? then set link.tls)`));
      }
      this.wake();
    });
  }

  /** Where the migration was when the connection went away, for the message. */
  private stage(): string {
    if (this.resumed) return 'after the switch, before the verification ended';
    if (this.endSent) return 'after the end of the stream, before the receiver resumed the guest';
    return 'mid-migration';
  }

  /**
   * How long to wait for the receiver's next answer (peer-wait.ts): the grace, plus the bytes it has not
   * confirmed yet at the rate this connection crosses at, plus its work for the answer.
   */
  private answerWithinMs(work: { touchBytes?: number; hashBytes?: number } = {}): number {
    const c = this.producer.views.control;
    const ringBytes = (Atomics.load(c, RING_HEAD) - Atomics.load(c, RING_TAIL)) >>> 0;
    const elapsedMs = performance.now() - this.firstWriteAtMs;
    const achieved = this.firstWriteAtMs >= 0 && elapsedMs > 0 && this.releasedBytes > 0 ? this.releasedBytes / (elapsedMs / 1000) : Infinity;
    return peerWaitMs({
      graceMs: this.stallWatch.limitMs,
      unconfirmedBytes: this.writtenBytes - this.confirmedBytes + ringBytes,
      bufferedBytes: ringBytes + this.socket.writableLength,
      linkBytesPerSec: Math.min(this.options.pacedBytesPerSec ?? Infinity, achieved),
      ...work,
    });
  }

  /** Write to the socket, counting the bytes (for the waits' bytes in flight and achieved rate). */
  private write(bytes: Uint8Array, done?: () => void): void {
    if (this.firstWriteAtMs < 0) this.firstWriteAtMs = performance.now();
    this.writtenBytes += bytes.length;
    const n = bytes.length;
    this.socket.write(bytes, (error?: Error | null) => {
      if (error) return; // the 'error' event fails the destination
      this.releasedBytes += n;
      done?.();
    });
  }

  /** Connect, answer the receiver's challenge with the hello, and wait for it to accept (it has allocated the guest then). */
  static async start(options: TcpDestinationOptions): Promise<TcpDestination> {
    const socket = await connect(options.host, options.port, options.target, CONNECT_TIMEOUT_MS, options.tls ?? null);
    socket.setNoDelay(true);
    // first bytes on every connection: a TLS receiver refuses a plaintext sender by them at once
    socket.write(encodePreface());
    const destination = new TcpDestination(socket, options);
    try {
      const challenge = await destination.next(destination.answerWithinMs(), 'the receiver\'s challenge');
      if (challenge.type !== 'challenge' || typeof challenge.nonce !== 'string') destination.refuse('expected a challenge', challenge);
      if (challenge.version !== TCP_WIRE_VERSION) {
        throw new MigbenchError('E_STREAM_CORRUPT', `link.target ${options.target}: the receiver speaks wire version ${String(challenge.version)}, this migbench ${TCP_WIRE_VERSION}`);
      }
      const nonce = Buffer.from(challenge.nonce as string, 'hex');
      const hello = options.channel
        ? encodeChannelHello({ channel: options.channel.number, channels: options.channel.channels, migrationId: options.channel.migrationId }, options.token, nonce)
        : encodeHello(
            {
              pageSizeBytes: options.memory.layout.pageSizeBytes, memoryBytes: options.memory.layout.memoryBytes, deviceStateBytes: options.deviceStateBytes,
              zstd: options.zstd, scenarioHash: options.scenarioHash, channels: options.channels ?? 1,
            },
            options.token,
            nonce,
          );
      socket.write(hello);
      // before it accepts a migration, the receiver allocates and touches the guest
      const answer = await destination.next(destination.answerWithinMs({ touchBytes: options.channel ? 0 : options.memory.layout.memoryBytes }), 'the receiver\'s answer to the hello');
      if (answer.type !== 'accept') destination.refuse('expected accept', answer);
      destination.accepted = true;
      if (!options.channel) {
        if ((options.channels ?? 1) > 1 && (typeof answer.migration !== 'string' || !/^[0-9a-f]{32}$/.test(answer.migration))) {
          throw new MigbenchError('E_STREAM_CORRUPT', `link.target ${options.target}: the receiver accepted without a migration id for its channels`);
        }
        destination.migrationId = typeof answer.migration === 'string' ? answer.migration : '';
      }
    } catch (error) {
      socket.destroy();
      throw error;
    }
    void destination.pump();
    return destination;
  }

  /** Open channel `number`'s connection (this is the main one, accepted), its frames taken from `ring`. */
  startChannel(ring: RingShared, number: number): Promise<TcpDestination> {
    return TcpDestination.start({ ...this.options, ring, channel: { number, channels: this.options.channels ?? 1, migrationId: this.migrationId } });
  }

  private refuse(expected: string, m: WireMessage): never {
    if (m.type === 'refused') {
      const code = KNOWN_CODES.includes(m.code as ErrorCode) ? (m.code as ErrorCode) : 'E_IO';
      throw new MigbenchError(code, `link.target ${this.target}: the receiver refused: ${String(m.message)}`);
    }
    throw new MigbenchError('E_STREAM_CORRUPT', `link.target ${this.target}: ${expected}, the receiver sent a ${JSON.stringify(m.type).slice(0, 40)} message`);
  }

  private onData(chunk: Buffer): void {
    try {
      let at = 0;
      while (at < chunk.length) {
        at = this.reader.feed(chunk, at);
        if (!this.reader.complete) break;
        if (this.readingLength) {
          this.reader.start(messageLength(this.reader.buffer));
          this.readingLength = false;
        } else {
          const m = decodeMessage(this.reader.buffer.subarray(0, this.reader.filled));
          this.reader.start(4);
          this.readingLength = true;
          if (m.type === 'refused') {
            // a refusal mid-stream (a frame it found corrupt, its memory): it closes after this
            const code = KNOWN_CODES.includes(m.code as ErrorCode) ? (m.code as ErrorCode) : 'E_IO';
            this.fail(new MigbenchError(code, `link.target ${this.target}: the receiver refused: ${String(m.message)}`));
          }
          this.inbox.push(m);
        }
      }
    } catch (error) {
      this.fail(error as MigbenchError);
      this.socket.destroy();
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next message from the receiver; rejects on a failure or after `timeoutMs`. */
  private async next(timeoutMs: number, what: string): Promise<WireMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = this.inbox.shift();
      if (m !== undefined) return m; // a refusal too: the caller names it
      if (this.failure) throw this.failure;
      const left = deadline - performance.now();
      if (left <= 0) {
        // a receiver that hangs: after the accept it is a link lost mid-migration (the run ends failed)
        const message = `link.target ${this.target}: the receiver did not answer within ${formatWaitMs(timeoutMs)} (waiting for ${what})`;
        const e = this.accepted ? linkLost(message) : new MigbenchError('E_IO', message);
        this.fail(e);
        this.socket.destroy();
        throw e;
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  private fail(error: MigbenchError): void {
    if (this.failure === null) this.failure = error;
    this.producer.views.close(); // wakes the sender waiting for ring space
    this.wake();
  }

  /**
   * Take frames off the ring and write them to the socket, in order. A frame's slot is given back (TAIL)
   * in its write's callback; a WRAP frame is given back with the frame after it.
   */
  private async pump(): Promise<void> {
    const views = this.producer.views;
    const control = views.control;
    let tail = Atomics.load(control, RING_TAIL);
    const release = (to: number) => (): void => {
      Atomics.store(control, RING_TAIL, to);
      Atomics.notify(control, RING_TAIL);
    };
    while (this.failure === null && !this.endSent) {
      const head = Atomics.load(control, RING_HEAD);
      if (head === tail) {
        if (views.closed()) return;
        const r = Atomics.waitAsync(control, RING_HEAD, head, 100);
        if (r.async) await r.value;
        continue;
      }
      // Every frame published is written at once, past the socket's high-water mark: the frames stay in
      // the ring until written (nothing is copied), so the ring bounds what waits in user space.
      while (tail !== head) {
        const pos = tail & views.mask;
        const type = views.i32[(pos >>> 2) + H_TYPE];
        const frameBytes = views.i32[(pos >>> 2) + H_FRAME_BYTES];
        tail = (tail + frameBytes) | 0;
        if (type === FRAME_WRAP) continue;
        this.write(Buffer.from(views.bytes.buffer, views.bytes.byteOffset + pos, frameBytes), release(tail));
        if (type === FRAME_END) this.endSent = true;
      }
    }
  }

  /** The reason the destination can no longer take frames, or null. */
  readonly closedReason = (): string | null => {
    this.checkStall();
    return this.failure?.message ?? null;
  };

  /**
   * A channel's part of the multifd flush, once every frame of its ring is on the socket: a SYNC frame,
   * then wait for the receiver's "synced" (it has applied every frame before it).
   */
  async sync(): Promise<void> {
    if (this.failure) throw this.failure;
    const sync = ++this.syncs;
    this.write(encodeSyncFrame(sync));
    const upTo = this.writtenBytes;
    const m = await this.next(this.answerWithinMs(), `the receiver's sync ${sync}`);
    if (m.type !== 'synced' || m.sync !== sync) this.refuse(`expected synced ${sync}`, m);
    this.confirmedBytes = upTo;
  }

  /** A receiver (or network) that took none of the frames waiting for the stall limit has failed. */
  checkStall(): void {
    if (this.failure !== null) return;
    const c = this.producer.views.control;
    if (this.stallWatch.stalled(Atomics.load(c, RING_HEAD), Atomics.load(c, RING_TAIL))) {
      this.fail(linkLost(`link.target ${this.target}: the connection took no frame for ${Math.round(this.stallWatch.stalledForMs() / 1000)} s with frames waiting`));
    }
  }

  get error(): MigbenchError | null {
    this.checkStall();
    return this.failure;
  }

  async settledError(): Promise<MigbenchError | null> {
    return this.failure;
  }

  /** ms the destination waited for frames: not known on this side */
  get waitMs(): number {
    return 0;
  }

  /** When the receiver's "resumed" arrived, on this side's clock. */
  async awaitResume(): Promise<number> {
    const m = await this.next(this.answerWithinMs(), 'the resume (every frame applied)');
    if (m.type !== 'resumed') this.refuse('expected resumed', m);
    const at = this.clock.nowMs();
    this.resumed = true;
    this.pagesApplied = typeof m.pagesApplied === 'number' ? m.pagesApplied : 0;
    return at;
  }

  /** Compare the receiver's memory with the source by hashes, and tell it the verdict. */
  async verify(source: GuestMemory, deviceState: Uint8Array): Promise<VerifyReport> {
    // the receiver hashes its whole guest; then a block per ranges request, a range per pages request
    const hashes = await this.next(this.answerWithinMs({ hashBytes: source.layout.memoryBytes + deviceState.length }), 'the receiver\'s hashes');
    if (hashes.type !== 'hashes') this.refuse('expected hashes', hashes);
    const report = await compareRemote(source, deviceState, hashes, async (request) => {
      this.socket.write(encodeMessage(request));
      const hashBytes = request.type === 'ranges' ? source.layout.blockBytes[request.block as number] : VERIFY_RANGE_BYTES;
      const answer = await this.next(this.answerWithinMs({ hashBytes }), `the answer to a ${request.type} request`);
      if (answer.type !== request.type) this.refuse(`expected ${request.type}`, answer);
      return answer;
    });
    this.finished = true;
    this.socket.end(encodeMessage({ type: 'verdict', equal: report.equal, badPages: report.badPages, firstBadPage: report.firstBadPage, deviceStateEqual: report.deviceStateEqual }));
    return report;
  }

  /** Close the connection (after a verdict the receiver has it; otherwise the receiver sees the close). */
  async stop(): Promise<void> {
    this.producer.views.close();
    if (!this.finished) {
      this.finished = true;
      this.socket.destroy();
      return;
    }
    if (this.socket.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 5000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function connect(host: string, port: number, target: string, timeoutMs: number, tlsFiles: TlsFiles | null): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // with TLS the connection is ready once the handshake has checked the receiver's certificate
    // against link.tls.ca and the host of link.target (and the receiver has taken ours)
    const socket: net.Socket = tlsFiles
      ? tls.connect({ host, port, cert: tlsFiles.cert, key: tlsFiles.key, ca: tlsFiles.ca, ...(net.isIP(host) ? {} : { servername: host }) })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MigbenchError('E_IO', `link.target ${target}: no connection within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    socket.once(tlsFiles ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const why = e.code === 'ECONNREFUSED'
        ? 'connection refused (is `migbench receive` listening there?)'
        : tlsFiles && (e.code === 'ECONNRESET' || e.code?.startsWith('ERR_SSL') || e.code?.includes('CERT') || /SSL|TLS|certificate/i.test(e.message))
          ? `TLS: ${e.message} (link.tls and the receiver's --tls-* files must share a CA, and its certificate name ${host})`
          : e.message;
      reject(new MigbenchError('E_IO', `link.target ${target}: ${why}`, { cause: e }));
    });
  });
}
