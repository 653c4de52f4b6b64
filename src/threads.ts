/**
 * Starting migbench's worker threads. A worker runs its entry's code compiled to JavaScript once per
 * process (worker-bundle.ts: Node 20 cannot start a worker from a .ts file, DESIGN §8, and tsx inside
 * every worker costs memory that never comes back). SharedArrayBuffers travel inside workerData, never
 * in a transferList.
 *
 * Every worker started here is counted until its 'exit' event: a worker still alive keeps its own
 * references to guest memory, so every teardown waits for its workers' exit, and tests assert the
 * count is back to 0 after a run.
 */
import { Worker } from 'node:worker_threads';
import { workerBundle, type BundledWorker } from './worker-bundle.ts';

export type WorkerName = BundledWorker;

let live = 0;

export async function startWorker(name: WorkerName, data: object): Promise<Worker> {
  const url = await workerBundle(name);
  const worker = new Worker(url, { workerData: data, stdout: false, stderr: false });
  live++;
  worker.once('exit', () => {
    live--;
  });
  return worker;
}

/** Worker threads started by `startWorker` that have not exited yet. */
export function liveWorkerCount(): number {
  return live;
}
