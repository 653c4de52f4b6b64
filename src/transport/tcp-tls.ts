/**
 * TLS for link.transport "tcp" (QEMU tls-creds-x509): the user's PEM files, read once, read-only and
 * bounded. Both ends present a certificate and check the other's against the CA file: the receiver
 * (`receive --tls-cert/--tls-key/--tls-ca`) asks for the sender's certificate and refuses a connection
 * without one signed by its CA (a plaintext client fails the handshake before a byte is read); the
 * sender (link.tls) checks the receiver's certificate against its CA and the name or address of
 * link.target. The token's HMAC (tcp-token.ts) still runs inside.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MigbenchError, type ErrorCode } from '../errors.ts';

/** A PEM file larger than this is not a certificate, a key or a CA bundle migbench reads. */
export const MAX_PEM_BYTES = 1024 * 1024;

export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/** Read one PEM file: a regular file of at most MAX_PEM_BYTES holding a PEM block; `label` names it in refusals. */
export function readPem(path: string, label: string, code: ErrorCode): Buffer {
  const refuse = (why: string): never => {
    throw new MigbenchError(code, `${label}: cannot use ${JSON.stringify(path)} (${why})`);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return refuse(e.code === 'ENOENT' ? 'file not found' : e.code === 'EACCES' ? 'permission denied' : e.message);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) refuse(stat.isDirectory() ? 'it is a directory' : 'not a regular file');
    if (stat.size > MAX_PEM_BYTES) refuse(`${stat.size} bytes, a PEM file here is at most ${MAX_PEM_BYTES}`);
    const bytes = Buffer.alloc(stat.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    const pem = bytes.subarray(0, at);
    if (!pem.includes('-----BEGIN ')) refuse('not a PEM file: no "-----BEGIN" line');
    return pem;
  } finally {
    closeSync(fd);
  }
}

/** Read the three files; `labels` names each in refusals (`link.tls.cert`, `--tls-cert`). */
export function readTlsFiles(paths: TlsPaths, labels: TlsPaths, code: ErrorCode): TlsFiles {
  return { cert: readPem(paths.cert, labels.cert, code), key: readPem(paths.key, labels.key, code), ca: readPem(paths.ca, labels.ca, code) };
}

export const SCENARIO_TLS_LABELS: TlsPaths = { cert: 'link.tls.cert', key: 'link.tls.key', ca: 'link.tls.ca' };
export const RECEIVE_TLS_LABELS: TlsPaths = { cert: '--tls-cert', key: '--tls-key', ca: '--tls-ca' };
