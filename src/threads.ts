/**
 * Starting migbench's worker threads. Every worker starts from `workers/boot.mjs`, which registers
 * tsx's loader in the worker and imports the TypeScript entry (Node 20 cannot start a worker from a
 * .ts file: DESIGN §8). SharedArrayBuffers travel inside workerData, never in a transferList.
 */
import { Worker } from 'node:worker_threads';

const BOOT = new URL('../workers/boot.mjs', import.meta.url);

export type WorkerName = 'vcpu' | 'destination' | 'channel';

export function startWorker(name: WorkerName, data: object): Worker {
  const entry = new URL(`../workers/${name}.ts`, import.meta.url).href;
  return new Worker(BOOT, { workerData: { ...data, entry }, stdout: false, stderr: false });
}
