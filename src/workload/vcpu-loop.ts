/**
 * What one vCPU worker does: write pages at its share of the dirty rate, following the pattern, and
 * obey the control block (pause with acknowledgement, resume, throttle, stop).
 *
 * Each write changes `writeBytes` bytes of the page at a random offset (XOR with a non-zero byte, so
 * every written byte really changes, like QEMU guestperf's stress program), THEN sets the page's bit in
 * the dirty log (DESIGN §4: write first, mark second).
 *
 * Pacing holds over 100 ms windows: by time t into a window the worker has done rate × t writes, the
 * rate lowered by the throttle share (QEMU auto-converge: a throttled vCPU runs 1 − pct of the time)
 * and capped by the dirty limit (QEMU dirty-limit); when ahead, it sleeps on the CMD word so a pause
 * or stop wakes it at once.
 */
import { markDirty } from '../memory/dirty-bitmap.ts';
import {
  CMD, CMD_PAUSE, CMD_RUN, CMD_STOP, DIRTY_LIMIT, FAULT_ARMED, STATE_BASE, STATE_EXITED, STATE_PAUSED, STATE_RUNNING, THROTTLE_PCT,
  runningMsIndex, writesIndex, type VcpuControlShared,
} from '../memory/control.ts';
import { GuestMemory, type GuestMemoryShared } from '../memory/guest-memory.ts';
import { injectFault, type FaultData } from '../faults.ts';
import { createPageGenerator, type PatternSpec } from './patterns.ts';
import { Rng } from './rng.ts';

export const WINDOW_MS = 100;
/** Writes between two looks at the control word and the clock. */
const CHUNK = 64;

export interface VcpuWorkerData {
  memory: GuestMemoryShared;
  dirtyLog: SharedArrayBuffer;
  control: VcpuControlShared;
  index: number;
  pattern: PatternSpec;
  /** this vCPU's share of workload.dirtyRate, page writes per second */
  ratePagesPerSec: number;
  writeBytes: number;
  seed: number;
  /** tests only: this vCPU dies on purpose (src/faults.ts); absent in every real run */
  fault?: FaultData;
}

/**
 * Run one vCPU until STOP. `nowMs` is its clock; `waitForCommand(ms)` sleeps up to `ms` unless a
 * command arrives (a worker: `Atomics.wait` on the CMD word). Tests pass a virtual clock and a wait that
 * only advances it, so the pacing, throttle and dirty limit are checked exactly, at any machine speed.
 */
export function runVcpu(data: VcpuWorkerData, nowMs: () => number, waitForCommand?: (timeoutMs: number) => void): void {
  const memory = GuestMemory.attach(data.memory);
  const log = new Int32Array(data.dirtyLog);
  const ctrl = new Int32Array(data.control.words);
  const counters = new Float64Array(data.control.counters);
  const n = data.control.vcpuCount;
  const me = data.index;
  const stateWord = STATE_BASE + me;
  const writesAt = writesIndex(me);
  const runningAt = runningMsIndex(me, n);
  const rng = new Rng(data.seed);
  const generator = createPageGenerator(data.pattern, me, n, rng);
  const { pagesPerBlock, pageSizeBytes } = memory.layout;
  const writeBytes = Math.min(data.writeBytes, pageSizeBytes);
  const views = memory.views;
  const span = pageSizeBytes - writeBytes + 1;

  const waitRunning = waitForCommand ?? ((ms: number): void => void Atomics.wait(ctrl, CMD, CMD_RUN, ms));

  let writes = 0;
  let runningMs = 0;
  // tests only (src/faults.ts): the writes done when the migration armed the fault, -1 before that
  const fault = data.fault;
  let faultBase = -1;
  const armed = (): boolean => {
    if (faultBase < 0 && Atomics.load(ctrl, FAULT_ARMED) !== 0) faultBase = writes;
    return faultBase >= 0;
  };
  Atomics.store(ctrl, stateWord, STATE_RUNNING);
  Atomics.notify(ctrl, stateWord);

  let windowStart = nowMs();
  let lastTick = windowStart;
  let doneInWindow = 0;

  for (;;) {
    const cmd = Atomics.load(ctrl, CMD);
    const now = nowMs();
    runningMs += now - lastTick;
    lastTick = now;
    if (cmd === CMD_STOP) break;
    if (cmd === CMD_PAUSE) {
      counters[writesAt] = writes;
      counters[runningAt] = runningMs;
      if (fault !== undefined && fault.at === 'stop-and-copy' && armed()) {
        injectFault(fault, `at the pause, after ${writes} page writes`); // instead of acknowledging
      }
      Atomics.store(ctrl, stateWord, STATE_PAUSED); // the acknowledgement: no write is in flight
      Atomics.notify(ctrl, stateWord);
      while (Atomics.load(ctrl, CMD) === CMD_PAUSE) Atomics.wait(ctrl, CMD, CMD_PAUSE);
      Atomics.store(ctrl, stateWord, STATE_RUNNING);
      Atomics.notify(ctrl, stateWord);
      windowStart = lastTick = nowMs();
      doneInWindow = 0;
      continue;
    }
    if (generator === null || data.ratePagesPerSec <= 0) {
      waitRunning(WINDOW_MS);
      continue;
    }
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      doneInWindow = 0;
    }
    const throttle = Math.min(99, Math.max(0, Atomics.load(ctrl, THROTTLE_PCT)));
    const limit = Atomics.load(ctrl, DIRTY_LIMIT);
    const rate = Math.min(data.ratePagesPerSec * (1 - throttle / 100), limit > 0 ? limit : Infinity);
    const perWindow = (rate * WINDOW_MS) / 1000;
    const due = Math.min(perWindow, (perWindow * (now - windowStart)) / WINDOW_MS);
    let todo = Math.min(CHUNK, Math.ceil(due - doneInWindow));
    if (todo <= 0) {
      // Ahead of the rate: sleep until the next write is due (or the window ends), waking on commands.
      const nextDueMs = perWindow > doneInWindow ? windowStart + ((doneInWindow + 1) * WINDOW_MS) / perWindow : windowStart + WINDOW_MS;
      const sleep = Math.max(0.05, Math.min(nextDueMs, windowStart + WINDOW_MS) - now);
      waitRunning(sleep);
      continue;
    }
    for (; todo > 0; todo--) {
      const page = generator.next();
      const view = views[(page / pagesPerBlock) | 0];
      const at = (page % pagesPerBlock) * pageSizeBytes + (span > 1 ? rng.nextInt(span) : 0);
      for (let k = 0; k < writeBytes; k++) view[at + k] ^= 1 + rng.nextInt(255);
      markDirty(log, page);
      writes++;
      doneInWindow++;
    }
    counters[writesAt] = writes;
    counters[runningAt] = runningMs;
    // the counters hold every write done: a test can replay exactly what this vCPU wrote
    if (fault !== undefined && typeof fault.at === 'number' && armed() && writes - faultBase >= fault.at) injectFault(fault, `after ${writes - faultBase} page writes of the migration`);
  }
  counters[writesAt] = writes;
  counters[runningAt] = runningMs;
  Atomics.store(ctrl, stateWord, STATE_EXITED);
  Atomics.notify(ctrl, stateWord);
}
