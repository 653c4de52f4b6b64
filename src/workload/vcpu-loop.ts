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
 * or stop wakes it at once. Reads (`workload.readRate`) are paced the same way, from a pattern of their
 * own (a separate Rng, so they never change the write sequence); a read changes nothing.
 *
 * Post-copy (src/memory/postcopy-shared.ts): when the main thread has set PC_ON_DESTINATION while the vCPUs
 * were paused, a vCPU resumes against the DESTINATION's memory. Before it touches a page (write or
 * read) it checks the received bitmap; a missing page goes on the request ring and the vCPU blocks
 * (Atomics.wait) until the destination has placed it: one stall, timed and recorded. Each write is
 * then logged (page, offset, XOR values) for verification, and no longer marked in the dirty log.
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
import { PC_ON_DESTINATION, recordStall, type PostcopyVcpuShared } from '../memory/postcopy-shared.ts';
import { isReceived, waitReceived } from '../memory/received-bitmap.ts';
import { RequestRing } from '../memory/request-ring.ts';
import { WriteLogWriter } from '../memory/write-log.ts';

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
  /** this vCPU's share of workload.readRate, page reads per second (0: none) */
  readRatePagesPerSec?: number;
  /** seed of the reads' own Rng */
  readSeed?: number;
  /** post-copy's shared memory (postcopy.enabled), else absent */
  postcopy?: PostcopyVcpuShared;
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
  let views = memory.views;
  const span = pageSizeBytes - writeBytes + 1;
  const readRate = data.readRatePagesPerSec ?? 0;
  const reader = readRate > 0 ? createPageGenerator(data.pattern, me, n, new Rng(data.readSeed ?? data.seed ^ 0x5eed)) : null;
  let readsInWindow = 0;
  let readSink = 0;

  // post-copy: after the switch this vCPU runs on the destination (see the header)
  const pc = data.postcopy;
  const pcControl = pc ? new Int32Array(pc.control) : null;
  const received = pc ? new Int32Array(pc.received) : null;
  const requests = pc ? new RequestRing(pc.requests) : null;
  const writeLog = pc ? new WriteLogWriter(pc.log, writeBytes) : null;
  const stallRecords = pc ? new Float64Array(pc.stalls) : null;
  const destViews = pc ? GuestMemory.attach(pc.dest).views : null;
  let onDestination = false;
  const stopped = (): boolean => Atomics.load(ctrl, CMD) === CMD_STOP;
  /** A missing page: ask for it and block until the destination has placed it. False: told to stop meanwhile. */
  const missingPage = (page: number): boolean => {
    const begin = nowMs();
    if (!requests!.push(page, begin, stopped)) return false;
    if (!waitReceived(received!, page, stopped)) return false;
    recordStall(stallRecords!, begin, nowMs());
    return true;
  };

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
      if (pcControl && !onDestination && Atomics.load(pcControl, PC_ON_DESTINATION) === 1) {
        onDestination = true; // the switch: from now on this vCPU runs on the destination's memory
        views = destViews!;
      }
      Atomics.store(ctrl, stateWord, STATE_RUNNING);
      Atomics.notify(ctrl, stateWord);
      windowStart = lastTick = nowMs();
      doneInWindow = 0;
      readsInWindow = 0;
      continue;
    }
    const writing = generator !== null && data.ratePagesPerSec > 0;
    if (!writing && reader === null) {
      waitRunning(WINDOW_MS);
      continue;
    }
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      doneInWindow = 0;
      readsInWindow = 0;
    }
    const throttle = Math.min(99, Math.max(0, Atomics.load(ctrl, THROTTLE_PCT)));
    const limit = Atomics.load(ctrl, DIRTY_LIMIT);
    const rate = writing ? Math.min(data.ratePagesPerSec * (1 - throttle / 100), limit > 0 ? limit : Infinity) : 0;
    const perWindow = (rate * WINDOW_MS) / 1000;
    const due = Math.min(perWindow, (perWindow * (now - windowStart)) / WINDOW_MS);
    let todo = Math.min(CHUNK, Math.ceil(due - doneInWindow));
    // reads: the throttle slows them too (the vCPU is not running); the dirty limit does not
    const readsPerWindow = reader ? (readRate * (1 - throttle / 100) * WINDOW_MS) / 1000 : 0;
    let readsTodo = reader ? Math.min(CHUNK, Math.ceil(Math.min(readsPerWindow, (readsPerWindow * (now - windowStart)) / WINDOW_MS) - readsInWindow)) : 0;
    if (todo <= 0 && readsTodo <= 0) {
      // Ahead of the rate: sleep until the next write or read is due (or the window ends), waking on commands.
      const nextWriteMs = perWindow > doneInWindow ? windowStart + ((doneInWindow + 1) * WINDOW_MS) / perWindow : windowStart + WINDOW_MS;
      const nextReadMs = readsPerWindow > readsInWindow ? windowStart + ((readsInWindow + 1) * WINDOW_MS) / readsPerWindow : windowStart + WINDOW_MS;
      const sleep = Math.max(0.05, Math.min(nextWriteMs, nextReadMs, windowStart + WINDOW_MS) - now);
      waitRunning(sleep);
      continue;
    }
    for (; todo > 0; todo--) {
      const page = generator!.next();
      if (onDestination && !isReceived(received!, page) && !missingPage(page)) break; // told to stop while blocked
      const view = views[(page / pagesPerBlock) | 0];
      const offset = span > 1 ? rng.nextInt(span) : 0;
      const at = (page % pagesPerBlock) * pageSizeBytes + offset;
      if (onDestination) {
        const logged = writeLog!.begin(page, offset);
        for (let k = 0; k < writeBytes; k++) {
          const v = 1 + rng.nextInt(255);
          // atomic: two vCPUs that XOR the same byte at once must both land, or the logged replay (which
          // counts both) cannot equal the destination (a plain ^= read-modify-write can lose one)
          Atomics.xor(view, at + k, v);
          if (logged) writeLog!.value(k, v);
        }
        if (logged) writeLog!.end();
      } else {
        for (let k = 0; k < writeBytes; k++) view[at + k] ^= 1 + rng.nextInt(255);
        markDirty(log, page);
      }
      writes++;
      doneInWindow++;
    }
    for (; readsTodo > 0; readsTodo--) {
      const page = reader!.next();
      if (onDestination && !isReceived(received!, page) && !missingPage(page)) break;
      readSink ^= views[(page / pagesPerBlock) | 0][(page % pagesPerBlock) * pageSizeBytes];
      readsInWindow++;
    }
    counters[writesAt] = writes;
    counters[runningAt] = runningMs;
    // the counters hold every write done: a test can replay exactly what this vCPU wrote
    if (fault !== undefined && typeof fault.at === 'number' && armed() && writes - faultBase >= fault.at) injectFault(fault, `after ${writes - faultBase} page writes of the migration`);
  }
  counters[writesAt] = writes;
  counters[runningAt] = runningMs;
  void readSink; // (the reads' bytes: kept so no engine could drop the loads)
  Atomics.store(ctrl, stateWord, STATE_EXITED);
  Atomics.notify(ctrl, stateWord);
}
