/**
 * Quick migration, phase by phase: pause, save the non-zero pages (+ image records and device state) at
 * the storage rate, hand over, read them back at the same rate: downtime ≈ M'/B_write + handover +
 * M'/B_read. Used by `predict` and by simulate mode (sim/run-simulated.ts). Pure.
 *
 * A lazy restore (quick.restore "lazy") reads only the header and the index (and the device state)
 * before the resume: downtime ≈ M'/B_write + handover + index/B; the rest of the image is read after the
 * resume (total time + M'/B), and its cost shows as expected stalls (lazyModel).
 */
import { initialZeroPages } from './zero-share.ts';
import type { Scenario } from '../../options.ts';
import { CHUNK_PAGES, MAPPED_HEADER_RESERVED, RECORD_PREFIX_BYTES, mappedLayout, packControl } from '../../quick/image-format.ts';
import { formatBytes, formatByteRate, formatCount, formatDurationMs } from '../../units.ts';

export interface QuickPrediction {
  outcome: 'completed';
  pages: { total: number; normal: number; zero: number };
  /** bytes written to storage and read back (non-zero pages, image records, device state) */
  savedBytes: number;
  restoredBytes: number;
  phases: { pauseMs: number; saveMs: number; fsyncMs: number; handoverMs: number; restoreMs: number; resumeMs: number };
  stats: { status: 'completed'; 'total-time': number; downtime: number };
  storageBandwidthBytesPerSec: number;
  /** quick.restore "lazy": the restore after the resume, modelled; null for an eager restore */
  lazy: LazyPrediction | null;
  why: string;
}

export interface LazyPrediction {
  /** bytes read before the resume (header, index, device state) and after it */
  bytesBeforeResume: number;
  bytesAfterResume: number;
  /** ms from the resume to the last page in place: the rest of the image at the storage rate */
  fillMs: number;
  /** pages the guest touches before the background reader gets to them: one stall each */
  expectedFaults: number;
  /**
   * ms one stall lasts: its page at the storage rate behind half a background chunk (an upper estimate: a
   * fault that comes while the handler is serving others waits for its own page only)
   */
  expectedStallMs: number;
  /** expectedFaults × expectedStallMs: the restore's cost to the guest, all vCPUs together */
  expectedStallTotalMs: number;
}

/** Pages the background reader reads at a time (quick/lazy-restore.ts reads a chunk of the image). */
const LAZY_CHUNK_PAGES = CHUNK_PAGES;

/**
 * Σ over pages p in [p0, p1) of (1 − e^(−r·T·p/N)): each page p is read by the background at T·p/N
 * (file order, even speed), and faults once if the guest touches it first, at `r` touches/s (Poisson).
 */
function faultsOver(p0: number, p1: number, r: number, T: number, N: number): number {
  if (p1 <= p0 || !(r > 0) || !(T > 0)) return 0;
  const k = (r * T) / N;
  return p1 - p0 - (Math.exp(-k * p0) - Math.exp(-k * p1)) / k;
}

/**
 * Expected faults of a lazy restore whose fill takes `fillMs`: the guest touches pages at `rate` (by
 * default the write and read rates); hotset's hot set is its first pages (read first by the
 * background), the rest of its touches are uniform over the guest; zipf and sequential are taken as
 * uniform (an approximation); idle touches nothing.
 */
/**
 * The guest's touch rate while it stalls. A vCPU holds its rate over 100 ms windows (workload/vcpu-loop.ts:
 * after a stall it catches up), so stalls cost it no touches until they fill its whole time: the rate is
 * the full one while faults(rate) × stallMs fits in the vCPUs' time in the fill, else the rate x at which
 * it just fits (faults grow with x: bisection).
 */
function touchRateWithStalls(s: Scenario, fillMs: number, stallMs: number): number {
  const rate = s.workload.dirtyRate + s.workload.readRate;
  if (!(fillMs > 0) || !(stallMs > 0) || !(rate > 0)) return rate;
  const fits = (x: number): boolean => lazyFaults(s, fillMs, x) * stallMs <= s.guest.vcpus * fillMs;
  if (fits(rate)) return rate;
  let lo = 0;
  let hi = rate;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function lazyFaults(s: Scenario, fillMs: number, rate = s.workload.dirtyRate + s.workload.readRate): number {
  const w = s.workload;
  if (w.pattern === 'idle') return 0;
  const N = s.guest.memory / s.guest.pageSize;
  const T = fillMs / 1000;
  if (w.pattern !== 'hotset') return faultsOver(0, N, rate / N, T, N);
  const W = Math.min(N, Math.max(1, Math.ceil(w.workingSet / s.guest.pageSize)));
  const cold = ((1 - w.hotFraction) * rate) / N;
  return faultsOver(0, W, (w.hotFraction * rate) / W + cold, T, N) + faultsOver(W, N, cold, T, N);
}

/** StoragePacer's burst (quick/storage.ts): a phase starting idle ends this much earlier. */
const STORAGE_BURST_MS = 10;
/** Encoded image header: a msgpack map of ~200 bytes (format, page size, block table, tool, time). */
const IMAGE_HEADER_BYTES = 20 + 200;

/**
 * The msgpack length of a control record, remembered by its kind and the numbers it holds (packing
 * one costs more than the rest of the model): `make` builds the record from `a` and `b` alone.
 */
const packedLengths = new Map<string, number>();
function packedLength(kind: string, a: number, b: number, make: () => unknown): number {
  const key = `${kind} ${a} ${b}`;
  let length = packedLengths.get(key);
  if (length === undefined) {
    length = packControl(make()).length;
    if (packedLengths.size >= 1024) packedLengths.clear();
    packedLengths.set(key, length);
  }
  return length;
}

export function predictQuick(s: Scenario): QuickPrediction {
  // The guest is paused at once (run.ts starts quick right after the vCPUs), so the fill (and the hot
  // set's own, workload.workingSetZero) decides zero pages.
  return quickModel(s, initialZeroPages(s), STORAGE_BURST_MS);
}

/**
 * Quick migration phase by phase from the image it writes: `zeroPages` are skipped (the image holds the
 * others), and the storage moves the image at `quick.storageBandwidth`, each phase ending `burstMs`
 * early (the emulated pacer's burst; 0 for an exact model). Shared by `predict` and simulate mode.
 */
export function quickModel(s: Scenario, zeroPages: number, burstMs: number): QuickPrediction {
  const ps = s.guest.pageSize;
  const N = s.guest.memory / ps;
  const zero = zeroPages;
  const normal = N - zero;
  const ds = s.guest.deviceState;
  const chunks = Math.ceil(N / CHUNK_PAGES);
  let saved: number;
  let restored: number;
  /** lazy: what is read before the resume (the header's reserved read, then the device-state record or the index), and after it */
  let beforeResume: number;
  let afterResume: number;
  if (s.quick.format === 'stream') {
    const control = packedLength('p', CHUNK_PAGES * ps, 0, () => ({ t: 'p', b: 0, f: 4096, n: CHUNK_PAGES, lo: 0xffffffff, hi: 0xffffffff, len: CHUNK_PAGES * ps }));
    const deviceRecord = RECORD_PREFIX_BYTES + packedLength('d', ds, 0, () => ({ t: 'd', len: ds })) + ds;
    const tail = deviceRecord + RECORD_PREFIX_BYTES + packedLength('e', N, chunks, () => ({ t: 'e', pages: N, records: chunks + 1 }));
    saved = IMAGE_HEADER_BYTES + chunks * (RECORD_PREFIX_BYTES + control) + normal * ps + tail;
    restored = saved;
    beforeResume = Math.min(saved, MAPPED_HEADER_RESERVED) + deviceRecord;
    afterResume = chunks * (RECORD_PREFIX_BYTES + control) + normal * ps; // each record's head (checked) and its pages
  } else {
    const m = mappedLayout(ps, N, ds);
    const index = m.deviceOffset + ds - m.bitmapOffset;
    saved = normal * ps + index + IMAGE_HEADER_BYTES;
    restored = normal * ps + index + Math.min(IMAGE_HEADER_BYTES, MAPPED_HEADER_RESERVED);
    beforeResume = MAPPED_HEADER_RESERVED + index;
    afterResume = normal * ps;
  }
  const B = s.quick.storageBandwidth;
  const phaseMs = (bytes: number): number => (B === Infinity ? 0 : Math.max(0, (bytes * 1000) / B - burstMs));
  // lazy: before the resume, the header's reserved read and the index (mapped) or the device-state record (stream)
  const lazy = s.quick.restore === 'lazy';
  if (lazy) restored = beforeResume + afterResume;
  const phases = { pauseMs: 0, saveMs: phaseMs(saved), fsyncMs: 0, handoverMs: s.quick.handoverMs, restoreMs: phaseMs(lazy ? beforeResume : restored), resumeMs: 0 };
  const downtime = phases.pauseMs + phases.saveMs + phases.fsyncMs + phases.handoverMs + phases.restoreMs + phases.resumeMs;
  let lazyPrediction: LazyPrediction | null = null;
  let total = downtime;
  if (lazy) {
    // the rest on the same storage timeline: the phase of the whole restore less what came before the resume
    const fillMs = Math.max(0, phaseMs(restored) - phases.restoreMs);
    const expectedStallMs = B === Infinity ? 0 : (((LAZY_CHUNK_PAGES / 2 + 1) * ps) / B) * 1000;
    const expectedFaults = lazyFaults(s, fillMs, touchRateWithStalls(s, fillMs, expectedStallMs));
    lazyPrediction = { bytesBeforeResume: beforeResume, bytesAfterResume: afterResume, fillMs, expectedFaults, expectedStallMs, expectedStallTotalMs: expectedFaults * expectedStallMs };
    total = downtime + fillMs;
  }
  const lazyWhy = lazyPrediction
    ? `; lazy restore: ${formatBytes(beforeResume)} read before the resume, the other ${formatBytes(lazyPrediction.bytesAfterResume)} in ${formatDurationMs(lazyPrediction.fillMs)} after it, ` +
      `≈ ${formatCount(Math.round(lazyPrediction.expectedFaults))} faults of ≈ ${formatDurationMs(lazyPrediction.expectedStallMs)} (${formatDurationMs(lazyPrediction.expectedStallTotalMs)} of stalls)`
    : '';
  const why =
    B === Infinity
      ? `storage is "unlimited" (this machine's disk): the model cannot time it; downtime here is the hand-over only`
      : lazyPrediction
        ? `downtime = save ${formatBytes(saved)} at ${formatByteRate(B)} + hand-over ${formatDurationMs(s.quick.handoverMs)} + the image's index${lazyWhy}; ${formatCount(zero)} zero pages are skipped (headers only)`
        : `downtime = save ${formatBytes(saved)} at ${formatByteRate(B)} + hand-over ${formatDurationMs(s.quick.handoverMs)} + restore ${formatBytes(restored)}; ${formatCount(zero)} zero pages are skipped (headers only)`;
  return {
    outcome: 'completed',
    pages: { total: N, normal, zero },
    savedBytes: saved,
    restoredBytes: restored,
    phases,
    stats: { status: 'completed', 'total-time': total, downtime },
    storageBandwidthBytesPerSec: B,
    lazy: lazyPrediction,
    why,
  };
}
