/**
 * Data on stdout (`--json`, `--format json|markdown`, tables) that could not be written must not pass
 * for success: `run --json > /dev/full` is exit 3 with one line. A reader that closed the pipe early
 * (`| head`) is not an error: EPIPE stays quiet and keeps the exit code.
 *
 * A stream reports a failed write as an 'error' event (never by throwing), so the CLI watches stdout for
 * the whole command and asks at the end.
 */
import type { Writable } from 'node:stream';

/** The exit code once stdout's first write error (an errno code, or null for none) is known. Pure. */
export function exitCodeAfterStdout(code: number, stdoutError: string | null): number {
  if (stdoutError === null || stdoutError === 'EPIPE') return code;
  // 0 (done) and 1 (a regression found) were answers the reader did not get: that is a failure
  return code === 0 || code === 1 ? 3 : code;
}

/** The one line saying why stdout failed. */
export function stdoutErrorLine(error: NodeJS.ErrnoException): string {
  const why = error.code === 'ENOSPC' ? 'no space left on device' : error.message;
  return `stdout: cannot write the output (${why})`;
}

export interface StdoutWatch {
  /** the first write error other than EPIPE, or null */
  readonly error: NodeJS.ErrnoException | null;
  /** its errno code ('EPIPE' included), or null when every write went through */
  readonly code: string | null;
  /** resolves once what was written has gone out (or failed); never hangs on a broken stream */
  settled(): Promise<void>;
  dispose(): void;
}

export function watchStdout(stream: Writable): StdoutWatch {
  let first: NodeJS.ErrnoException | null = null;
  const onError = (error: NodeJS.ErrnoException): void => {
    if (first === null || first.code === 'EPIPE') first = error;
  };
  stream.on('error', onError);
  return {
    get error() {
      return first !== null && first.code !== 'EPIPE' ? first : null;
    },
    get code() {
      return first === null ? null : first.code ?? 'EIO';
    },
    settled: () =>
      new Promise<void>((resolve) => {
        // an error is emitted on the next tick after the write: let it arrive before answering
        const done = (): void => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          setImmediate(resolve);
        };
        if (!stream.writableNeedDrain || first !== null || stream.destroyed) return done();
        stream.once('drain', done);
        stream.once('error', done);
        stream.once('close', done);
      }),
    dispose: () => {
      stream.off('error', onError);
    },
  };
}
