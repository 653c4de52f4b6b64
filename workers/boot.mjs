// Worker entry for every migbench worker. Node 20 cannot start a worker from a .ts file, so this
// JavaScript file registers tsx's loader in the worker and then imports the TypeScript entry named in
// workerData.entry (a file: URL). See DESIGN §8. The entry's default export is re-exported: a piscina
// pool (src/sim/pool.ts) names this file as its `filename` and calls that default export per task.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
const entry = await import(workerData.entry);
export default entry.default;
