/**
 * A `migbench receive` in this process that fails on cue, for the sender's failure paths. Until its cue it
 * is a real receiver's wire side: the challenge, ReceiveSession (which checks and applies every frame into
 * a real GuestMemory), accept, "synced", "resumed", the hashes and the answers to range requests. At its
 * cue it either hangs (answers nothing more and keeps every connection open: a receiver stuck in a sync or
 * in its hashing) or dies (closes every connection at once: a receiver killed there).
 *
 * Cues: `sync` (a channel's first SYNC frame), `end` (END applied: it never says "resumed"), `hashing`
 * (after "resumed", instead of the hashes; or, with `corrupt`, a byte of its copy changed before it hashes:
 * a real mismatch), `frames` (once `frames` frames are applied across its connections, mid-migration:
 * with `hang` it stops reading every connection, so the kernels' buffers fill and the sender's writes
 * stop draining, as a receiver stuck mid-stream). `close()` (afterEach) ends the server and every connection.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { GuestMemory } from '../../src/memory/guest-memory.ts';
import { ReceiveSession, type ReceiveTarget } from '../../src/transport/tcp-receive-session.ts';
import { answerVerifyRequest, blockHashes } from '../../src/transport/tcp-verify.ts';
import { MIGRATION_ID_BYTES, PrefaceReader, TCP_WIRE_VERSION, encodeMessage } from '../../src/transport/tcp-wire.ts';

export interface Cue {
  readonly at: 'sync' | 'end' | 'hashing' | 'frames';
  /** at `frames`: how many frames (all connections together) it applies first */
  readonly frames?: number;
  /** `corrupt` (at `hashing` only): flip a byte of page 5 of its copy, then go on as a real receiver */
  readonly then: 'hang' | 'die' | 'corrupt';
}

export class FakeReceiver {
  private readonly sockets = new Set<net.Socket>();
  private target: ReceiveTarget | null = null;
  private migrationId = '';
  private readonly sessions = new Set<ReceiveSession>();
  /** the cue was reached (and acted on) */
  cued = false;

  private constructor(
    private readonly server: net.Server,
    private readonly cue: Cue,
  ) {}

  static async listen(cue: Cue): Promise<FakeReceiver> {
    const server = net.createServer();
    const fake = new FakeReceiver(server, cue);
    server.on('connection', (socket) => fake.serve(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private act(): void {
    if (this.cue.then === 'corrupt') {
      this.target!.memory.page(5)[100] ^= 0xff;
      return;
    }
    this.cued = true;
    if (this.cue.then === 'die') for (const s of this.sockets) s.destroy();
    else if (this.cue.at === 'frames') for (const s of this.sockets) s.pause(); // read nothing more: the kernels' buffers fill
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const nonce = randomBytes(32);
    const session = new ReceiveSession(
      new Uint8Array(0),
      nonce,
      (hello) => (this.target = { memory: new GuestMemory(hello.layout), deviceState: new Uint8Array(hello.deviceStateBytes) }),
      () => ({ memory: this.target!.memory, deviceState: new Uint8Array(0) }),
    );
    this.sessions.add(session);
    const preface = new PrefaceReader();
    socket.on('data', (chunk: Buffer) => {
      if (this.cued) {
        if (this.cue.at === 'frames') socket.pause();
        return; // hung or dead: nothing more is read or answered
      }
      for (const ev of session.push(preface.take(chunk))) {
        if (ev.type === 'hello') {
          this.migrationId = randomBytes(MIGRATION_ID_BYTES).toString('hex');
          socket.write(encodeMessage({ type: 'accept', migration: this.migrationId }));
        } else if (ev.type === 'channel') {
          socket.write(encodeMessage({ type: 'accept', channel: ev.hello.channel }));
        } else if (ev.type === 'sync') {
          if (this.cue.at === 'sync') return this.act();
          socket.write(encodeMessage({ type: 'synced', sync: ev.sync }));
        } else if (ev.type === 'resumed') {
          if (this.cue.at === 'end') return this.act();
          socket.write(encodeMessage({ type: 'resumed', pagesApplied: ev.pagesApplied, framesApplied: ev.framesApplied }));
          if (this.cue.at === 'hashing') {
            this.act();
            if (this.cued) return;
          }
          socket.write(encodeMessage({ type: 'hashes', ...blockHashes(this.target!.memory, this.target!.deviceState) }));
        } else if (ev.message.type !== 'verdict') {
          socket.write(encodeMessage(answerVerifyRequest(this.target!.memory, ev.message)!));
        }
      }
      if (this.cue.at === 'frames' && [...this.sessions].reduce((n, s) => n + s.framesApplied, 0) >= (this.cue.frames ?? 1)) this.act();
    });
    socket.write(encodeMessage({ type: 'challenge', version: TCP_WIRE_VERSION, nonce: nonce.toString('hex') }));
  }

  /** Close every connection and stop listening. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sessions.clear();
    this.target?.memory.release();
    this.target = null;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
