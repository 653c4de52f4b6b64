/**
 * `migbench receive` as a child process for tests: started on port 0 (the kernel picks a free port, which
 * the receiver names on its first line), its stderr collected, its exit awaited; `kill()` ends it (tests
 * call it in afterEach, so no receiver outlives its test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { encodePreface } from '../../src/transport/tcp-wire.ts';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/migbench.js', import.meta.url));

export interface ReceiveChild {
  readonly port: number;
  readonly child: ChildProcess;
  stderr(): string;
  /** resolves with the exit code (a signal: 128 + its number) */
  readonly exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

export interface ReceiverPlace {
  /** the address to listen on (default 127.0.0.1; port 0 always) */
  host?: string;
  /** a command that runs the receiver, e.g. ['ip', 'netns', 'exec', 'ns1'] (default: none) */
  wrap?: readonly string[];
}

export async function startReceiver(args: readonly string[] = [], timeoutMs = 30_000, place: ReceiverPlace = {}): Promise<ReceiveChild> {
  const host = place.host ?? '127.0.0.1';
  const command = [...(place.wrap ?? []), process.execPath, BIN, 'receive', '--listen', `${host}:0`, ...args];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  running.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receive did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr!.on('data', (s: string) => {
      err += s;
      const m = new RegExp(`listening on ${host.replaceAll('.', '\\.')}:(\\d+)`).exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`receive exited with ${code} before listening: ${err}`));
    });
  });
  return { port, child, stderr: () => err, exited, kill: (signal = 'SIGKILL') => void child.kill(signal) };
}

/** Kill every receiver a test left running (afterEach). */
export function killReceivers(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** A raw client speaking the wire by hand: the messages it got, and its socket. */
export class RawClient {
  readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  readonly messages: { type: string; [k: string]: unknown }[] = [];
  closed = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4) {
        const n = this.buffer.readUInt32LE(0);
        if (this.buffer.length < 4 + n) break;
        this.messages.push(JSON.parse(this.buffer.subarray(4, 4 + n).toString('utf8')));
        this.buffer = this.buffer.subarray(4 + n);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Connect; like a sender it opens with the preface, unless `preface` is false. */
  static connect(port: number, preface = true): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        if (preface) socket.write(encodePreface());
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Wait until `done()` (or the socket closes), at most `timeoutMs`. */
  async until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done() && !this.closed) {
      if (Date.now() > deadline) throw new Error(`RawClient: timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async challenge(): Promise<Buffer> {
    await this.until(() => this.messages.length > 0);
    const m = this.messages[0];
    if (m?.type !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(m)}`);
    return Buffer.from(m.nonce as string, 'hex');
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
