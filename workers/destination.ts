/** Destination worker entry: attach the ring and the destination RAM blocks, apply frames until END. */
import { parentPort, workerData } from 'node:worker_threads';
import { absoluteNowMs } from '../src/clock.ts';
import { runDestination, type DestinationWorkerData } from '../src/transport/destination.ts';
import { zstdReady } from '../src/codec/zstd.ts';

try {
  const data = workerData as DestinationWorkerData;
  if (data.zstd) await zstdReady();
  runDestination(data, absoluteNowMs);
  parentPort?.postMessage({ type: 'done' });
} catch (error) {
  const e = error as { code?: string; message?: string };
  parentPort?.postMessage({ type: 'error', code: e.code ?? 'E_WORKER', message: e.message ?? String(error) });
}
