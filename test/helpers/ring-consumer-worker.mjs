// Test worker: a ring consumer that takes one frame at a time, slower than the producer, and gives its
// bytes back through the engine's own `consumerRelease` (compiled: dist/, built by the global setup).
// Used by test/transport-ring-wakeups.test.ts.
//
// workerData:
//   ring      { buffer, capacityBytes }  the ring (src/transport/ring.ts layout: 64 control bytes, then data)
//   frames    number                     frames to take (WRAP gaps are taken with the frame after them)
//   everyFrame boolean                   notify TAIL after every frame instead (the engine before issue 21)
import { workerData } from 'node:worker_threads';

const { consumerRelease, RING_HEAD, RING_TAIL } = await import(new URL('../../dist/src/transport/ring.js', import.meta.url).href);
const CONTROL_BYTES = 64;
const FRAME_WRAP = 4;
const control = new Int32Array(workerData.ring.buffer, 0, CONTROL_BYTES / 4);
const data = new Int32Array(workerData.ring.buffer, CONTROL_BYTES, workerData.ring.capacityBytes / 4);
const mask = workerData.ring.capacityBytes - 1;
const pause = new Int32Array(new SharedArrayBuffer(4));
let tail = Atomics.load(control, RING_TAIL);
for (let taken = 0; taken < workerData.frames; ) {
  const head = Atomics.load(control, RING_HEAD);
  if (head === tail) {
    Atomics.wait(control, RING_HEAD, head, 1000);
    continue;
  }
  const pos = tail & mask;
  const type = data[pos >>> 2];
  tail = (tail + data[(pos >>> 2) + 1]) | 0;
  if (type !== FRAME_WRAP) {
    taken++;
    Atomics.wait(pause, 0, 0, 0.2); // slower than the producer: the ring stays full
  }
  if (workerData.everyFrame) {
    Atomics.store(control, RING_TAIL, tail);
    Atomics.notify(control, RING_TAIL);
  } else consumerRelease(control, tail, head);
}
