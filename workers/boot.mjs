// Worker entry for the simulate-mode piscina pool (src/pool/pool.ts names this file as its `filename`,
// passes the TypeScript entry workers/sim.ts as a file: URL in workerData.entry, and calls the
// re-exported default export per task). See DESIGN §8.
// - In the built package this file is dist/workers/boot.mjs (`npm run build` copies it there) and the
//   entry's compiled sibling dist/workers/sim.js exists: import that; no tsx at run time.
// - Running from the sources (vitest, tsx), Node 20 cannot start a worker from a .ts file: register
//   tsx's loader in this worker, then import the TypeScript entry.
// The migration's own workers (vCPU, destination, channel) do not come here: src/worker-bundle.ts.
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const source = new URL(workerData.entry);
const compiled = new URL(source.href.replace(/\.ts$/, '.js'));
let entry;
if (compiled.href !== source.href && existsSync(compiled)) {
  entry = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = await import(source.href);
}
export default entry.default;
