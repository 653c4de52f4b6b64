/** vCPU worker entry: attach guest memory, the dirty log and the control block; dirty pages until STOP. */
import { parentPort, workerData } from 'node:worker_threads';
import { absoluteNowMs } from '../src/clock.ts';
import { runVcpu, type VcpuWorkerData } from '../src/workload/vcpu-loop.ts';

try {
  // absolute ms (as the destination worker's): post-copy stall records of all vCPUs are compared
  runVcpu(workerData as VcpuWorkerData, absoluteNowMs);
  parentPort?.postMessage({ type: 'done' });
} catch (error) {
  parentPort?.postMessage({ type: 'error', message: (error as Error).message ?? String(error) });
}
