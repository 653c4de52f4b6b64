/**
 * Starting migbench's worker threads. A worker runs its entry's code compiled to JavaScript once per
 * process (worker-bundle.ts: Node 20 cannot start a worker from a .ts file, DESIGN §8, and tsx inside
 * every worker costs memory that never comes back). SharedArrayBuffers travel inside workerData, never
 * in a transferList.
 *
 * Every worker started here is counted until its 'exit' event: `liveWorkers()` is 0 once every run's
 * teardown has ended every thread it started (tests assert it after each run; a leak shows here).
 * Simulate mode's piscina pool (src/pool/pool.ts) starts its own threads and is not counted.
 */
import { Worker } from 'node:worker_threads';
import { workerBundle, type BundledWorker } from './worker-bundle.ts';

export type WorkerName = BundledWorker;

/** the worker threads started by startWorker that have not exited yet, by kind */
const live = new Map<Worker, WorkerName>();

export async function startWorker(name: WorkerName, data: object): Promise<Worker> {
  const url = await workerBundle(name);
  const worker = new Worker(url, { workerData: data, stdout: false, stderr: false });
  live.set(worker, name);
  // registered first, so it runs before any listener that waits for the exit (terminate() included)
  worker.once('exit', () => live.delete(worker));
  return worker;
}

/** How many worker threads started by startWorker are still running (not yet 'exit'ed), and of which kind. */
export function liveWorkers(): { count: number; byKind: Partial<Record<WorkerName, number>> } {
  const byKind: Partial<Record<WorkerName, number>> = {};
  for (const name of live.values()) byKind[name] = (byKind[name] ?? 0) + 1;
  return { count: live.size, byKind };
}
