/**
 * Giving guest memory back to the machine between runs.
 *
 * A SharedArrayBuffer's memory is freed only when no thread holds it any more: every worker that
 * attached it has exited, and the main thread's garbage collector has collected its last object. V8
 * does not count SharedArrayBuffers as memory pressure, so without help it may never collect them
 * (measured: 5 runs of a 512 MiB guest in one process left 3 GiB of array buffers alive, growing by one
 * run's memory per run). So a run stops its workers and waits for their 'exit' (the handles' `stop`),
 * drops its references explicitly (`GuestMemory.release`), then `reclaimMemory` runs full collections
 * until the process's array-buffer bytes stop falling. It does not wait for other runs' workers: a
 * library user may hold two guests at once.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { forgetRecentBuffers } from '../codec/xbzrle-encode.ts';

let gcFunction: (() => void) | null = null;

/** The engine's `gc()`: the one exposed by `--expose-gc`, or obtained once through the V8 flag. */
function gc(): () => void {
  if (gcFunction) return gcFunction;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') {
    gcFunction = exposed;
  } else {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  return gcFunction;
}

/** Bytes held by ArrayBuffers and SharedArrayBuffers that this thread can still reach or has not collected. */
export function arrayBufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

export interface ReclaimReport {
  /** array-buffer bytes before and after */
  beforeBytes: number;
  afterBytes: number;
  /** full collections run */
  collections: number;
}

const MAX_COLLECTIONS = 6;

/**
 * Collect until the array-buffer bytes stop falling (a turn of the event loop between collections lets
 * exited workers' last handles close). Call it after the workers holding the memory have exited.
 */
export async function reclaimMemory(): Promise<ReclaimReport> {
  const beforeBytes = arrayBufferBytes();
  forgetRecentBuffers();
  const collect = gc();
  let last = Number.POSITIVE_INFINITY;
  let collections = 0;
  for (; collections < MAX_COLLECTIONS; ) {
    collect();
    collections++;
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = arrayBufferBytes();
    if (now >= last) break;
    last = now;
  }
  return { beforeBytes, afterBytes: arrayBufferBytes(), collections };
}
