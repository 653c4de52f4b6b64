/**
 * The shared memory of post-copy, beside the guest's own (src/memory/): what the vCPU workers, the
 * destination worker and the migration thread share once `postcopy.enabled`. Made with the guest
 * (run.ts createGuest), handed to each vCPU in its workerData.
 *
 * Who writes what:
 *   control   Int32 [PC_ON_DESTINATION]: the main thread only, while every vCPU is paused: 1 = at the next
 *             resume the vCPUs run against the destination's memory (the switch)
 *   received  the received bitmap (received-bitmap.ts): the destination worker only
 *   recoveryReply  a copy of the received bitmap, same size: the destination worker only, when it applies
 *             POSTCOPY_RESUME after a link outage (postcopy.recovery); read by the migration thread after that
 *   requests  the page-request ring (request-ring.ts): the vCPUs produce, the migration thread consumes
 *   dest      the destination's RAM blocks: the destination worker writes a page before marking it
 *             received; a vCPU writes a page only once it is received
 *   logs[i]   vCPU i's post-switch write log (write-log.ts): vCPU i only
 *   stalls[i] vCPU i's stall records: vCPU i only, Float64 [0] records, [1] records dropped (full), then
 *             (begin, end) pairs in absolute ms; read by the main thread once the vCPUs are paused
 */
import type { GuestMemory, GuestMemoryShared } from './guest-memory.ts';
import { createReceivedBitmap, receivedWords } from './received-bitmap.ts';
import { createRequestRing, requestRingBytes, type RequestRingShared } from './request-ring.ts';
import { createWriteLog, entryBytes, writeLogBytes } from './write-log.ts';

export const PC_ON_DESTINATION = 0;
export const STALL_RECORDS = 0;
export const STALL_DROPPED = 1;
const STALL_HEADER = 2;
/** stall intervals kept per vCPU (more are counted as dropped: the figures then say so) */
export const MAX_STALL_RECORDS = 1 << 16;
/** a write log never takes more than this per vCPU */
export const MAX_LOG_BYTES = 64 << 20;

/** One vCPU's stalls: [begin, end) pairs in ms, in time order, not overlapping. */
export type Stalls = readonly (readonly [number, number])[];

/** What one vCPU worker gets. */
export interface PostcopyVcpuShared {
  readonly control: SharedArrayBuffer;
  readonly dest: GuestMemoryShared;
  readonly received: SharedArrayBuffer;
  readonly requests: RequestRingShared;
  readonly log: SharedArrayBuffer;
  readonly stalls: SharedArrayBuffer;
}

/** The whole of it, on the main thread. */
export interface PostcopyShared {
  readonly control: SharedArrayBuffer;
  readonly received: SharedArrayBuffer;
  readonly recoveryReply: SharedArrayBuffer;
  readonly requests: RequestRingShared;
  readonly logs: readonly SharedArrayBuffer[];
  readonly stalls: readonly SharedArrayBuffer[];
  readonly writeBytes: number;
  forVcpu(i: number): PostcopyVcpuShared;
}

/**
 * Entries a vCPU's write log holds: its share of the write rate over a bound on the post-copy phase
 * (every page once over the post-copy rate, plus a minute), half again for slack, within MAX_LOG_BYTES.
 */
export function logEntriesFor(o: { memoryBytes: number; postcopyRateBytesPerSec: number; writesPerSecPerVcpu: number; writeBytes: number }): number {
  const rate = Number.isFinite(o.postcopyRateBytesPerSec) ? o.postcopyRateBytesPerSec : 1e9;
  const boundSec = o.memoryBytes / rate + 60;
  const wanted = Math.ceil(o.writesPerSecPerVcpu * boundSec * 1.5) + 1024;
  return Math.max(1024, Math.min(wanted, Math.floor(MAX_LOG_BYTES / entryBytes(o.writeBytes))));
}

const CONTROL_BYTES = 16;
const STALL_BYTES = (STALL_HEADER + 2 * MAX_STALL_RECORDS) * 8;

/**
 * Requests the ring holds: one outstanding request per vCPU at a time, but a vCPU woken by the
 * background push asks again before the source has read its old request: room for several laps.
 */
function requestCapacity(vcpus: number): number {
  return Math.max(64, 2 ** Math.ceil(Math.log2(vcpus * 8)));
}

/** The bytes `createPostcopyShared` allocates (for the memory ledger, resources.ts). Pure. */
export function postcopySharedBytes(o: { totalPages: number; vcpus: number; logEntries: number; writeBytes: number }): number {
  return CONTROL_BYTES + 2 * receivedWords(o.totalPages) * 4 + requestRingBytes(requestCapacity(o.vcpus)) + o.vcpus * (writeLogBytes(o.logEntries, o.writeBytes) + STALL_BYTES);
}

export function createPostcopyShared(o: { dest: GuestMemory; vcpus: number; logEntries: number; writeBytes: number }): PostcopyShared {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const received = createReceivedBitmap(o.dest.totalPages);
  const recoveryReply = createReceivedBitmap(o.dest.totalPages);
  const requests = createRequestRing(requestCapacity(o.vcpus));
  const logs = Array.from({ length: o.vcpus }, () => createWriteLog(o.logEntries, o.writeBytes));
  const stalls = Array.from({ length: o.vcpus }, () => new SharedArrayBuffer(STALL_BYTES));
  const dest = o.dest.shared();
  return {
    control, received, recoveryReply, requests, logs, stalls, writeBytes: o.writeBytes,
    forVcpu: (i) => ({ control, dest, received, requests, log: logs[i], stalls: stalls[i] }),
  };
}

/** vCPU side: record one stall (no allocation). */
export function recordStall(stalls: Float64Array, beginMs: number, endMs: number): void {
  const n = stalls[STALL_RECORDS];
  if (n >= MAX_STALL_RECORDS) {
    stalls[STALL_DROPPED]++;
    return;
  }
  stalls[STALL_HEADER + 2 * n] = beginMs;
  stalls[STALL_HEADER + 2 * n + 1] = endMs;
  stalls[STALL_RECORDS] = n + 1; // after the pair: a reader never sees a half-written record
}

/** Main thread, vCPUs paused: one vCPU's stalls and how many did not fit. */
export function readStalls(buffer: SharedArrayBuffer): { stalls: Stalls; dropped: number } {
  const f = new Float64Array(buffer);
  const n = f[STALL_RECORDS];
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([f[STALL_HEADER + 2 * i], f[STALL_HEADER + 2 * i + 1]]);
  return { stalls: out, dropped: f[STALL_DROPPED] };
}
