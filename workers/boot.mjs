// Worker entry for every migbench worker. Node 20 cannot start a worker from a .ts file, so this
// JavaScript file registers tsx's loader in the worker and then imports the TypeScript entry named in
// workerData.entry (a file: URL). See DESIGN §8.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
