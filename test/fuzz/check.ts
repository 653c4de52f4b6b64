/**
 * What every fuzz case checks around the call under test: it either returns, or throws a
 * `MigbenchError` with exactly the allowed code and a one-line message; anything else thrown (a
 * TypeError, a RangeError, an AssertionError from a library) is a failure. It finishes within a time
 * limit, and (where asked) allocates a bounded amount of ArrayBuffer memory.
 */
import { MigbenchError, type ErrorCode } from '../../src/errors.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: MigbenchError };

export class FuzzFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FuzzFailure';
  }
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message.split('\n')[0]}${error.stack ? `\n${error.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  return `a thrown ${typeof error}: ${String(error)}`;
}

function refusal(error: unknown, codes: readonly ErrorCode[]): MigbenchError {
  if (!(error instanceof MigbenchError)) throw new FuzzFailure(`expected a MigbenchError (${codes.join(' or ')}) or a result, got ${describeThrown(error)}`, { cause: error });
  if (!codes.includes(error.code)) throw new FuzzFailure(`expected ${codes.join(' or ')}, got ${error.code}: ${error.message}`, { cause: error });
  if (error.message.includes('\n') || error.message.length === 0) throw new FuzzFailure(`the ${error.code} message is not one line: ${JSON.stringify(error.message)}`);
  return error;
}

/**
 * Time limit per case (ms): decompression bombs, huge declared lengths and bad counts must not hang.
 * 2 s for `npm run fuzz` (no case of a healthy reader comes near: the slowest, a report with charts,
 * takes tens of ms); the seeded run in `npm test` allows more, as other test files load the machine.
 */
let caseLimitMs = 2000;

export function setCaseLimitMs(ms: number): void {
  caseLimitMs = ms;
}

function checkTime(started: number, what: string): void {
  const ms = performance.now() - started;
  if (ms > caseLimitMs) throw new FuzzFailure(`${what} took ${ms.toFixed(0)} ms (limit ${caseLimitMs} ms): a hang or an unbounded loop`);
}

/** Run `f`: a result, or a refusal with one of `codes`; anything else is a FuzzFailure. */
export function outcome<T>(codes: readonly ErrorCode[], f: () => T, what = 'the call'): Outcome<T> {
  const started = performance.now();
  try {
    const value = f();
    checkTime(started, what);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof FuzzFailure) throw error;
    checkTime(started, what);
    return { ok: false, error: refusal(error, codes) };
  }
}

export async function outcomeAsync<T>(codes: readonly ErrorCode[], f: () => Promise<T>, what = 'the call'): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    const value = await f();
    checkTime(started, what);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof FuzzFailure) throw error;
    checkTime(started, what);
    return { ok: false, error: refusal(error, codes) };
  }
}

/**
 * ArrayBuffer bytes allocated while `f` ran (Node's `arrayBuffers`: Buffers and typed arrays outside
 * the small pool). An upper bound check: a garbage collection during `f` only lowers the figure.
 */
export async function allocatedDuring<T>(f: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const before = process.memoryUsage().arrayBuffers;
  const value = await f();
  return { value, bytes: process.memoryUsage().arrayBuffers - before };
}

/** As `allocatedDuring`, for a synchronous call. */
export function allocatedDuringSync<T>(f: () => T): { value: T; bytes: number } {
  const before = process.memoryUsage().arrayBuffers;
  const value = f();
  return { value, bytes: process.memoryUsage().arrayBuffers - before };
}

export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new FuzzFailure(typeof message === 'string' ? message : message());
}

/** Equal bytes (a fast native compare). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
