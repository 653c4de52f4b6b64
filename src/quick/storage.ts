/**
 * File access for the quick path: every call names its step and path when it fails (E_IO), and
 * every byte is paced by the storage rate limiter (`quick.storageBandwidth`).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Clock } from '../clock.ts';
import { MigbenchError } from '../errors.ts';

export type IoStep = 'mkdir' | 'open' | 'stat' | 'truncate' | 'write' | 'fsync' | 'close' | 'read' | 'remove';

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EIO: 'input/output error',
  EINVAL: 'invalid argument (not a regular file?)',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EEXIST: 'already there (an image is written only to a new file; --force on the command line replaces a regular file)',
  ELOOP: 'a symbolic link (never followed)',
  ENXIO: 'not a regular file (a FIFO or a device)',
};

export function ioError(step: IoStep, path: string, error: unknown): MigbenchError {
  if (error instanceof MigbenchError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const why = WHY[code] ?? (error as Error).message ?? String(error);
  return new MigbenchError('E_IO', `${step} ${path}: ${why}${code ? ` (${code})` : ''}`, { cause: error });
}

export async function io<T>(step: IoStep, path: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    throw ioError(step, path, error);
  }
}

/**
 * Paces a transfer phase (a save or a restore) to the storage rate and honours an abort signal between
 * I/O calls. The timeline is anchored at the phase's first byte: byte k may not complete before
 * `start + k ÷ rate`. Unlike the link's token bucket, time spent in the real read or write is part of
 * the transfer (a storage at the configured rate would be busy then too), so a slow real disk only
 * costs what exceeds the configured rate.
 */
export class StoragePacer {
  /** ms spent held back by the storage rate */
  waitMs = 0;
  bytes = 0;
  private startMs = Number.NaN;
  constructor(
    private readonly rateBytesPerSec: number,
    private readonly clock: Clock,
    private readonly signal?: AbortSignal,
    private readonly burstMs = 10,
  ) {}

  async take(bytes: number): Promise<void> {
    if (this.signal?.aborted) throw new MigbenchError('E_INTERRUPTED', 'interrupted');
    const now = this.clock.nowMs();
    if (Number.isNaN(this.startMs)) this.startMs = now;
    this.bytes += bytes;
    if (this.rateBytesPerSec === Infinity) return;
    const wait = this.startMs + (this.bytes * 1000) / this.rateBytesPerSec - now - this.burstMs;
    if (wait > 0) {
      await this.clock.sleepMs(wait);
      this.waitMs += this.clock.nowMs() - now;
    }
  }
}

/** Write all of `data` at `position`, looping over short writes. */
export async function writeFully(fh: FileHandle, data: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await io('write', path, () => fh.write(data, done, data.length - done, position + done));
    if (bytesWritten <= 0) throw ioError('write', path, Object.assign(new Error('short write'), { code: 'EIO' }));
    done += bytesWritten;
  }
}

/** Read exactly `length` bytes at `position` into `into[offset…]`; returns how many were there (less at EOF). */
export async function readFully(fh: FileHandle, into: Uint8Array, offset: number, length: number, position: number, path: string): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await io('read', path, () => fh.read(into, offset + done, length - done, position + done));
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
