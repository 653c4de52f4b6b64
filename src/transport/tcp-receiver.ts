/**
 * `migbench receive`: a destination in its own process. Listens, takes one migration at a time (a second
 * connection meanwhile is refused), checks the hello (tcp-wire.ts) and what the machine has free before
 * allocating the announced guest, applies the frames (tcp-receive-session.ts), answers the resume and
 * the verification, and releases the guest when the connection ends.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsFiles } from './tcp-tls.ts';
import { MigbenchError } from '../errors.ts';
import { GuestMemory } from '../memory/guest-memory.ts';
import { reclaimMemory } from '../memory/reclaim.ts';
import { formatBytes } from '../units.ts';
import { zstdReady } from '../codec/zstd.ts';
import { ReceiveSession, type ReceiveTarget } from './tcp-receive-session.ts';
import { blockHashes, answerVerifyRequest } from './tcp-verify.ts';
import { formatWaitMs, peerWaitMs } from './peer-wait.ts';
import { MIGRATION_ID_BYTES, PrefaceReader, TCP_WIRE_VERSION, TLS_HANDSHAKE_BYTE, encodeMessage, maxFrameBytes, type Hello } from './tcp-wire.ts';

/** How one migration ended, as the receiver saw it. */
export interface ReceivedMigration {
  readonly ok: boolean;
  /** the sender's verdict (null: the migration ended before one) */
  readonly verified: boolean | null;
  /** one line: what happened */
  readonly summary: string;
  /** the error code when not ok */
  readonly code: string | null;
}

export interface ReceiverOptions {
  readonly host: string;
  readonly port: number;
  /** the shared secret (empty: none; the sender must then send none either) */
  readonly token: Uint8Array;
  /** progress and events, one line each */
  readonly log: (line: string) => void;
  /** the bytes this receiver may allocate now, and how that was reckoned (for the refusal) */
  readonly room: () => { bytes: number; why: string };
  /** a silent connection is closed after this long before its hello (ms) */
  readonly helloTimeoutMs?: number;
  /** after the hello, a connection silent this long is dropped (ms) */
  readonly idleTimeoutMs?: number;
  /** TLS (`--tls-cert/--tls-key/--tls-ca`, read): every connection must complete a TLS handshake with a client certificate signed by the CA */
  readonly tls?: TlsFiles | null;
}

/** A channel connection, with the session that reads it (for the progress figures). */
type ChannelSocket = net.Socket & { session?: ReceiveSession };

/** The migration under way: its id (for its channels), its guest and its channel connections. */
interface Current {
  /** hex: the id its channel hellos must name */
  id: string | null;
  channels: number;
  target: ReceiveTarget | null;
  /** channel number → its connection */
  readonly joined: Map<number, net.Socket>;
  /** END applied on the main connection: a channel closing now ends nothing */
  resumed: boolean;
  /** end the migration (a channel broke) */
  fail(error: MigbenchError): void;
  /** end the migration: channel `channel`'s connection closed before the END (its sender went away) */
  gone(channel: number): void;
}

export class Receiver {
  private readonly server: net.Server;
  private busy = false;
  private current: net.Socket | null = null;
  private migration: Current | null = null;
  private readonly listeners: ((m: ReceivedMigration) => void)[] = [];

  private constructor(server: net.Server, private readonly options: ReceiverOptions) {
    this.server = server;
  }

  static async listen(options: ReceiverOptions): Promise<Receiver> {
    await zstdReady(); // a stream may carry zstd frames
    const t = options.tls ?? null;
    const server = net.createServer();
    const receiver = new Receiver(server, options);
    if (t) {
      // the TLS server does not listen: it takes the connections whose first byte begins a TLS handshake
      const tlsServer = tls.createServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: true, handshakeTimeout: options.helloTimeoutMs ?? 30_000 });
      tlsServer.on('secureConnection', (socket: tls.TLSSocket) => receiver.serve(socket));
      // a certificate not signed by the CA, or none: the handshake fails, nothing is read
      tlsServer.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
        options.log(`refused ${socket.remoteAddress}:${socket.remotePort}: the TLS handshake failed (no certificate signed by --tls-ca?): ${error.message}`);
        socket.destroy();
      });
      server.on('connection', (raw) => receiver.screenForTls(raw, tlsServer));
    } else {
      server.on('connection', (socket) => receiver.serve(socket));
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new MigbenchError(e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' ? 'E_USAGE' : 'E_IO', `--listen ${options.host}:${options.port}: ${e.message}`)),
      );
      server.listen(options.port, options.host, () => resolve());
    });
    return receiver;
  }

  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Called after every migration (whatever its end). */
  onMigration(listener: (m: ReceivedMigration) => void): void {
    this.listeners.push(listener);
  }

  /** Stop listening; a migration under way is dropped (its sender sees the connection close). */
  close(): Promise<void> {
    this.current?.destroy();
    for (const s of this.migration?.joined.values() ?? []) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * A TLS receiver's new connection, before any TLS: its first byte decides. A TLS handshake record goes
   * on to the TLS server (the byte put back); anything else is a plaintext client (a migbench sender
   * without link.tls sends its preface first), refused at once in plaintext, nothing more read.
   */
  private screenForTls(raw: net.Socket, tlsServer: tls.Server): void {
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    raw.on('error', () => undefined);
    raw.setTimeout(this.options.helloTimeoutMs ?? 30_000, () => {
      this.options.log(`refused ${peer}: no TLS handshake in time`);
      raw.destroy();
    });
    raw.once('data', (first: Buffer) => {
      raw.pause();
      raw.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE_BYTE) {
        raw.unshift(first);
        tlsServer.emit('connection', raw);
        return;
      }
      this.options.log(`refused ${peer}: a plaintext client, and this receiver takes TLS connections only`);
      raw.end(encodeMessage({ type: 'refused', code: 'E_AUTH', message: 'this receiver takes TLS connections only: set link.tls (a certificate and key its --tls-ca signed, and the CA of its certificate)' }));
      raw.destroySoon();
    });
  }

  private serve(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const log = this.options.log;
    const m = this.migration;
    if (this.busy) {
      // a migration of N channels takes N more connections, until its END
      if (m !== null && m.id !== null && m.channels > 1 && !m.resumed && m.joined.size < m.channels) {
        this.serveChannel(socket, m, peer);
        return;
      }
      log(`refused ${peer}: busy with another migration`);
      socket.end(encodeMessage({ type: 'refused', code: 'E_IO', message: 'busy with another migration (receive takes one at a time)' }));
      socket.resume(); // discard what it sends (its preface): the connection closes once the sender's end is read
      return;
    }
    this.busy = true;
    this.current = socket;
    socket.setNoDelay(true);
    const nonce = randomBytes(32);
    let ended = false;
    let verdict: { equal: boolean; badPages: number; firstBadPage: number | null } | null = null;
    let progressTimer: NodeJS.Timeout | null = null;
    let announced = 0;
    const current: Current = {
      id: null,
      channels: 1,
      target: null,
      joined: new Map(),
      resumed: false,
      fail: (error) => refuse(error),
      gone: (channel) =>
        finish({ ok: false, verified: null, code: 'E_IO', summary: `${peer} went away mid-migration (channel ${channel} closed, ${pagesApplied()} pages applied); the guest was dropped` }),
    };
    this.migration = current;
    const session = new ReceiveSession(
      this.options.token,
      nonce,
      (hello) => (current.target = this.allocate(hello, peer)),
      () => {
        throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: a channel hello before its migration\'s hello (no migration is under way here)');
      },
    );
    const pagesApplied = (): number => session.pagesApplied + [...current.joined.values()].reduce((n, s) => n + ((s as ChannelSocket).session?.pagesApplied ?? 0), 0);
    const frameBytes = (): number => session.frameBytes + [...current.joined.values()].reduce((n, s) => n + ((s as ChannelSocket).session?.frameBytes ?? 0), 0);
    const finish = (m: ReceivedMigration): void => {
      if (ended) return;
      ended = true;
      this.current = null;
      this.migration = null;
      if (progressTimer) clearInterval(progressTimer);
      socket.destroy();
      for (const s of current.joined.values()) s.destroy();
      current.target?.memory.release();
      current.target = null;
      log(m.summary);
      void reclaimMemory().finally(() => {
        this.busy = false;
        for (const l of this.listeners) l(m);
      });
    };
    const refuse = (error: unknown): void => {
      const e = error instanceof MigbenchError ? error : new MigbenchError('E_IO', (error as Error)?.message ?? String(error));
      if (!socket.destroyed) socket.end(encodeMessage({ type: 'refused', code: e.code, message: e.message }));
      finish({ ok: false, verified: null, code: e.code, summary: `refused ${peer}: ${e.message}` });
    };
    let silence = 'no hello in time';
    socket.setTimeout(this.options.helloTimeoutMs ?? 30_000, () => refuse(new MigbenchError('E_IO', silence)));
    socket.on('error', () => undefined); // 'close' follows and says what happened
    socket.on('close', () => {
      if (verdict) return;
      finish({
        ok: false,
        verified: null,
        code: 'E_IO',
        summary: `${peer} went away ${current.resumed ? 'before the verification ended' : `mid-migration (${pagesApplied()} pages applied)`}; the guest was dropped`,
      });
    });
    const preface = new PrefaceReader();
    socket.on('data', (chunk: Buffer) => {
      if (ended) return;
      let events;
      try {
        const rest = preface.take(chunk);
        if (rest.length === 0) return;
        events = session.push(rest);
      } catch (error) {
        refuse(error);
        return;
      }
      for (const ev of events) {
        try {
          if (ev.type === 'hello') {
            silence = `the sender was silent for ${Math.round((this.options.idleTimeoutMs ?? 600_000) / 1000)} s`;
            socket.setTimeout(this.options.idleTimeoutMs ?? 600_000);
            current.id = randomBytes(MIGRATION_ID_BYTES).toString('hex');
            current.channels = ev.hello.channels;
            socket.write(encodeMessage({ type: 'accept', migration: current.id }));
            announced = ev.hello.memoryBytes;
            const startedMs = performance.now();
            progressTimer = setInterval(() => {
              const s = (performance.now() - startedMs) / 1000;
              log(`receiving: ${formatBytes(frameBytes())} of frames in ${s.toFixed(0)} s, ${pagesApplied()} pages applied (guest ${formatBytes(announced)})`);
            }, 5000);
            progressTimer.unref();
          } else if (ev.type === 'resumed') {
            current.resumed = true;
            const pages = pagesApplied();
            const frames = ev.framesApplied + [...current.joined.values()].reduce((n, s) => n + ((s as ChannelSocket).session?.framesApplied ?? 0), 0);
            socket.write(encodeMessage({ type: 'resumed', pagesApplied: pages, framesApplied: frames }));
            log(`resumed: ${pages} pages and ${frames} frames applied${current.channels > 1 ? ` (on ${current.channels} channels)` : ''}; hashing the guest`);
            const t = current.target;
            if (t) {
              socket.write(encodeMessage({ type: 'hashes', ...blockHashes(t.memory, t.deviceState) }));
              // the sender now hashes its own copy and answers (a request or its verdict): bounded by the
              // same rule as the sender's waits (peer-wait.ts), not by the 600 s of silence mid-migration
              const verdictWithinMs = peerWaitMs({
                graceMs: this.options.helloTimeoutMs ?? 30_000, unconfirmedBytes: 0, bufferedBytes: 0, linkBytesPerSec: 0,
                hashBytes: t.memory.layout.memoryBytes + t.deviceState.length,
              });
              silence = `the sender sent nothing for ${formatWaitMs(verdictWithinMs)} after the hashes (waiting for its verdict)`;
              socket.setTimeout(verdictWithinMs);
            }
          } else if (ev.type === 'message') {
            const m = ev.message;
            const t = current.target;
            if (m.type === 'verdict' && t) {
              verdict = { equal: m.equal === true, badPages: Number(m.badPages) || 0, firstBadPage: typeof m.firstBadPage === 'number' ? m.firstBadPage : null };
              const summary = verdict.equal
                ? `migration from ${peer} verified: ${formatBytes(announced)} equal to the source (SHA-256 per RAM block)`
                : `migration from ${peer} FAILED verification: ${verdict.badPages} bad pages, the first is page ${verdict.firstBadPage}`;
              finish({ ok: verdict.equal, verified: verdict.equal, code: verdict.equal ? null : 'E_VERIFY', summary });
              return;
            }
            const answer = t ? answerVerifyRequest(t.memory, m) : null;
            if (answer === null) throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: an unexpected ${JSON.stringify(m.type).slice(0, 40)} message`);
            socket.write(encodeMessage(answer));
          }
        } catch (error) {
          refuse(error);
          return;
        }
      }
    });
    socket.write(encodeMessage({ type: 'challenge', version: TCP_WIRE_VERSION, nonce: nonce.toString('hex') }));
    log(`connection from ${peer}`);
  }

  /**
   * A connection while a migration of several channels is under way: it must be one of its channels
   * (a channel hello with its id, a number below its count and not yet taken). A refused one leaves the
   * migration alone; a channel that breaks after it joined ends the migration (its pages are lost).
   */
  private serveChannel(raw: net.Socket, current: Current, peer: string): void {
    const socket = raw as ChannelSocket;
    socket.setNoDelay(true);
    const nonce = randomBytes(32);
    let number: number | null = null;
    let done = false;
    const session = new ReceiveSession(
      this.options.token,
      nonce,
      () => {
        throw new MigbenchError('E_IO', 'busy with another migration (receive takes one at a time)');
      },
      (hello) => {
        const id = Buffer.from(hello.migrationId, 'hex');
        if (current.id === null || this.migration !== current || !timingSafeEqual(id, Buffer.from(current.id, 'hex'))) {
          throw new MigbenchError('E_AUTH', 'tcp stream refused: a channel of a migration this receiver does not know');
        }
        if (hello.channels !== current.channels) throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: a channel hello of ${hello.channels} channels, the migration has ${current.channels}`);
        if (current.joined.has(hello.channel)) throw new MigbenchError('E_STREAM_CORRUPT', `tcp stream refused: channel ${hello.channel} is already connected`);
        if (current.resumed || current.target === null) throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: a channel after its migration ended');
        number = hello.channel;
        current.joined.set(hello.channel, socket);
        return { memory: current.target.memory, deviceState: new Uint8Array(0) };
      },
    );
    socket.session = session;
    const refuse = (error: unknown): void => {
      if (done) return;
      done = true;
      const e = error instanceof MigbenchError ? error : new MigbenchError('E_IO', (error as Error)?.message ?? String(error));
      if (!socket.destroyed) socket.end(encodeMessage({ type: 'refused', code: e.code, message: e.message }));
      if (number === null) {
        this.options.log(`refused ${peer}: ${e.message}`);
      } else {
        // a channel that joined and broke: the migration's pages are incomplete
        current.fail(new MigbenchError(e.code, `channel ${number}: ${e.message}`));
      }
    };
    socket.setTimeout(this.options.helloTimeoutMs ?? 30_000, () => refuse(new MigbenchError('E_IO', number === null ? 'no channel hello in time' : `channel ${number} was silent for too long`)));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (done || number === null) return;
      done = true;
      if (!current.resumed) current.gone(number);
    });
    const preface = new PrefaceReader();
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      let events;
      try {
        const rest = preface.take(chunk);
        if (rest.length === 0) return;
        events = session.push(rest);
      } catch (error) {
        refuse(error);
        return;
      }
      for (const ev of events) {
        if (ev.type === 'channel') {
          socket.setTimeout(this.options.idleTimeoutMs ?? 600_000);
          socket.write(encodeMessage({ type: 'accept', channel: ev.hello.channel }));
          this.options.log(`channel ${ev.hello.channel} of ${ev.hello.channels} from ${peer}`);
        } else if (ev.type === 'sync') {
          socket.write(encodeMessage({ type: 'synced', sync: ev.sync }));
        }
      }
    });
    socket.write(encodeMessage({ type: 'challenge', version: TCP_WIRE_VERSION, nonce: nonce.toString('hex') }));
  }

  /** Allocate the announced guest if the machine has room for it (checked first), touched. */
  private allocate(hello: Hello, peer: string): ReceiveTarget {
    const need = hello.memoryBytes + hello.deviceStateBytes + 2 * maxFrameBytes(hello.pageSizeBytes);
    const room = this.options.room();
    if (need > room.bytes) {
      throw new MigbenchError('E_RESOURCES', `a guest of ${formatBytes(hello.memoryBytes)} needs ${formatBytes(need)} here, ${room.why}`);
    }
    this.options.log(`migration from ${peer}: guest ${formatBytes(hello.memoryBytes)}, ${hello.layout.blockBytes.length} RAM block(s), pages of ${formatBytes(hello.pageSizeBytes)}, scenario ${hello.scenarioHash.slice(0, 12)}`);
    const memory = new GuestMemory(hello.layout);
    memory.touch();
    return { memory, deviceState: new Uint8Array(hello.deviceStateBytes) };
  }
}
