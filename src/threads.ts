/**
 * Starting migbench's worker threads. Every worker starts from `workers/boot.mjs`, which registers
 * tsx's loader in the worker and imports the TypeScript entry (Node 20 cannot start a worker from a
 * .ts file: DESIGN §8). SharedArrayBuffers travel inside workerData, never in a transferList.
 *
 * Every worker started here is counted until its 'exit' event: a worker still alive keeps its own
 * references to guest memory, so every teardown waits for its workers' exit, and tests assert the
 * count is back to 0 after a run.
 */
import { Worker } from 'node:worker_threads';

const BOOT = new URL('../workers/boot.mjs', import.meta.url);

export type WorkerName = 'vcpu' | 'destination' | 'channel';

let live = 0;

export function startWorker(name: WorkerName, data: object): Worker {
  const entry = new URL(`../workers/${name}.ts`, import.meta.url).href;
  const worker = new Worker(BOOT, { workerData: { ...data, entry }, stdout: false, stderr: false });
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
