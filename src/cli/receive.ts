/**
 * `migbench receive --listen HOST:PORT [--token-file F] [--once] [--tls-cert F --tls-key F --tls-ca F]`: a migration destination in this
 * process (link.transport "tcp" on the sender). Progress and events on stderr; the first line names the
 * address it listens on (port 0 picks a free one). With --once: exit 0 after one verified migration,
 * 3 when it failed (verification, a refused or broken stream); without it, it serves until stopped.
 */
import os from 'node:os';
import { MigbenchError } from '../errors.ts';
import { FREE_MEMORY_HEADROOM_BYTES, MAX_MEMORY_SHARE } from '../resources.ts';
import { formatBytes } from '../units.ts';
import { Receiver } from '../transport/tcp-receiver.ts';
import { readToken } from '../transport/tcp-token.ts';
import { parseHostPort } from '../transport/tcp-wire.ts';
import { RECEIVE_TLS_LABELS, readTlsFiles, type TlsFiles } from '../transport/tcp-tls.ts';

export interface ReceiveCommandOptions {
  listen: string;
  tokenFile?: string;
  once: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** The TLS files of --tls-cert/--tls-key/--tls-ca: all three or none. */
export function receiveTls(opts: Pick<ReceiveCommandOptions, 'tlsCert' | 'tlsKey' | 'tlsCa'>): TlsFiles | null {
  const given = { cert: opts.tlsCert, key: opts.tlsKey, ca: opts.tlsCa };
  const missing = (Object.keys(given) as (keyof typeof given)[]).filter((k) => given[k] === undefined);
  if (missing.length === 3) return null;
  if (missing.length > 0) {
    throw new MigbenchError('E_USAGE', `--tls-${missing[0]}: TLS needs --tls-cert, --tls-key and --tls-ca together, got ${missing.map((k) => `--tls-${k}`).join(' and ')} missing`);
  }
  return readTlsFiles(given as { cert: string; key: string; ca: string }, RECEIVE_TLS_LABELS, 'E_USAGE');
}

export const DEFAULT_LISTEN = '127.0.0.1:4444';

export function parseListen(text: string): { host: string; port: number } {
  const address = /^\d{1,5}$/.test(text) ? parseHostPort(`127.0.0.1:${text}`) : parseHostPort(text);
  if (address === null) throw new MigbenchError('E_USAGE', `--listen: expected HOST:PORT (or PORT, on 127.0.0.1) with a port from 0 to 65535, got ${JSON.stringify(text)}`);
  return address;
}

/** What a receiver may allocate now: the run's rule (resources.ts) for the destination's share alone. */
export function receiveRoom(): { bytes: number; why: string } {
  const total = os.totalmem();
  const free = os.freemem();
  const bytes = Math.min(Math.floor(total * MAX_MEMORY_SHARE), free - FREE_MEMORY_HEADROOM_BYTES);
  return { bytes, why: `this machine has ${formatBytes(free)} free of ${formatBytes(total)} (${formatBytes(FREE_MEMORY_HEADROOM_BYTES)} kept free, at most ${MAX_MEMORY_SHARE * 100} % used)` };
}

export async function receiveCommand(opts: ReceiveCommandOptions): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const token = readToken(opts.tokenFile ?? null, '--token-file', 'E_USAGE');
  const tls = receiveTls(opts);
  const log = (line: string): void => {
    process.stderr.write(`migbench receive: ${line}\n`);
  };
  const receiver = await Receiver.listen({ host, port, token, log, room: receiveRoom, tls });
  const a = receiver.address;
  log(`listening on ${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}${tls ? ' (TLS, client certificates checked)' : ''}${token.length > 0 ? ' (token required)' : ''}${opts.once ? ', one migration' : ''}`);
  return new Promise<number>((resolve) => {
    const stop = (code: number): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void receiver.close().then(() => resolve(code));
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      log(`stopped by ${signal}`);
      stop(signal === 'SIGINT' ? 130 : 143);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    receiver.onMigration((m) => {
      if (opts.once) stop(m.ok ? 0 : 3);
    });
  });
}
