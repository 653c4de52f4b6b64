/** vCPU worker entry: attach guest memory, the dirty log and the control block; dirty pages until STOP. */
import { parentPort, workerData } from 'node:worker_threads';
import { runVcpu, type VcpuWorkerData } from '../src/workload/vcpu-loop.ts';

try {
  runVcpu(workerData as VcpuWorkerData, () => performance.now());
  parentPort?.postMessage({ type: 'done' });
} catch (error) {
  parentPort?.postMessage({ type: 'error', message: (error as Error).message ?? String(error) });
}
