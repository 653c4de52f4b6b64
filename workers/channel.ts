/** Channel worker entry (precopy.channels > 1): take packets from its queue, send them on its own lane. */
import { parentPort, workerData } from 'node:worker_threads';
import { runChannel } from '../src/precopy/channel-worker.ts';
import type { ChannelWorkerData } from '../src/precopy/channel-queue.ts';

try {
  await runChannel(workerData as ChannelWorkerData);
  parentPort?.postMessage({ type: 'done' });
} catch (error) {
  const e = error as { code?: string; message?: string };
  parentPort?.postMessage({ type: 'error', code: e.code ?? 'E_WORKER', message: e.message ?? String(error) });
}
