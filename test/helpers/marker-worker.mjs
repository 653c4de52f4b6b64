// Test worker: marks pages dirty in a shared dirty log exactly as a vCPU does (Atomics.or; bit layout
// word page >>> 5, bit page & 31), independent of src/. Used by test/memory-dirty-bitmap.test.ts.
//
// workerData:
//   log       SharedArrayBuffer  the dirty log (Int32 words)
//   control   SharedArrayBuffer  Int32 words: [0] GO (main sets 1 to start), [1] DONE (workers add 1),
//                                [2 + index] progress: marks completed so far by worker `index`
//   pages     SharedArrayBuffer  Int32 list of pages to mark, in order
//   index     number             this worker's index
//   passes    number             how many times to mark the whole list
//   syncs     SharedArrayBuffer  optional Int32 [0]: syncs the main thread has completed (it adds 1 and
//                                notifies after each). Halfway through its first pass the worker waits
//                                until two more syncs have completed, so at least one whole sync runs
//                                while this worker is mid-list, whatever the machine's speed or load (a
//                                fast worker could otherwise finish before the main thread's first sync).
import { workerData } from 'node:worker_threads';

const GO = 0;
const DONE = 1;
const log = new Int32Array(workerData.log);
const control = new Int32Array(workerData.control);
const pages = new Int32Array(workerData.pages);
const progressSlot = 2 + workerData.index;

// wait for the start signal so every worker and the syncing main thread run at the same time
while (Atomics.load(control, GO) === 0) Atomics.wait(control, GO, 0, 50);

const syncs = workerData.syncs ? new Int32Array(workerData.syncs) : null;
const half = pages.length >>> 1;
function awaitASyncMidList() {
  const seen = Atomics.load(syncs, 0);
  for (let now = seen; now < seen + 2; now = Atomics.load(syncs, 0)) Atomics.wait(syncs, 0, now, 50);
}

let done = 0;
for (let pass = 0; pass < workerData.passes; pass++) {
  for (let k = 0; k < pages.length; k++) {
    if (syncs !== null && pass === 0 && k === half) awaitASyncMidList();
    const page = pages[k];
    Atomics.or(log, page >>> 5, 1 << (page & 31));
    // publish progress after the mark: the main thread relies on "progress >= k+1 => page k marked"
    Atomics.store(control, progressSlot, ++done);
  }
}
Atomics.add(control, DONE, 1);
Atomics.notify(control, DONE);
