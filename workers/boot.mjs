// Worker entry for the simulate-mode piscina pool (src/sim/pool.ts names this file as its `filename`
// and calls the re-exported default export per task). Node 20 cannot start a worker from a .ts file, so
// this JavaScript file registers tsx's loader in the worker and then imports the TypeScript entry named
// in workerData.entry (a file: URL). See DESIGN §8. The migration's own workers (vCPU, destination,
// channel) start from bundles instead: src/worker-bundle.ts says why.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
const entry = await import(workerData.entry);
export default entry.default;
