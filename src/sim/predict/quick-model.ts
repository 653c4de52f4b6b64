/**
 * Quick migration, phase by phase: pause, save the non-zero pages (+ image records and device state) at
 * the storage rate, hand over, read them back at the same rate: downtime ≈ M'/B_write + handover +
 * M'/B_read. Used by `predict` and by simulate mode (sim/run-simulated.ts). Pure.
 */
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
  why: string;
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
  // The guest is paused at once (run.ts starts quick right after the vCPUs), so the fill decides zero pages.
  const total = s.guest.fill.zero + s.guest.fill.random + s.guest.fill.text;
  return quickModel(s, ((s.guest.memory / s.guest.pageSize) * s.guest.fill.zero) / total, STORAGE_BURST_MS);
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
  if (s.quick.format === 'stream') {
    const control = packedLength('p', CHUNK_PAGES * ps, 0, () => ({ t: 'p', b: 0, f: 4096, n: CHUNK_PAGES, lo: 0xffffffff, hi: 0xffffffff, len: CHUNK_PAGES * ps }));
    const tail =
      RECORD_PREFIX_BYTES * 2 + packedLength('d', ds, 0, () => ({ t: 'd', len: ds })) + packedLength('e', N, chunks, () => ({ t: 'e', pages: N, records: chunks + 1 })) + ds;
    saved = IMAGE_HEADER_BYTES + chunks * (RECORD_PREFIX_BYTES + control) + normal * ps + tail;
    restored = saved;
  } else {
    const m = mappedLayout(ps, N, ds);
    const index = m.deviceOffset + ds - m.bitmapOffset;
    saved = normal * ps + index + IMAGE_HEADER_BYTES;
    restored = normal * ps + index + Math.min(IMAGE_HEADER_BYTES, MAPPED_HEADER_RESERVED);
  }
  const B = s.quick.storageBandwidth;
  const phaseMs = (bytes: number): number => (B === Infinity ? 0 : Math.max(0, (bytes * 1000) / B - burstMs));
  const phases = { pauseMs: 0, saveMs: phaseMs(saved), fsyncMs: 0, handoverMs: s.quick.handoverMs, restoreMs: phaseMs(restored), resumeMs: 0 };
  const downtime = phases.pauseMs + phases.saveMs + phases.fsyncMs + phases.handoverMs + phases.restoreMs + phases.resumeMs;
  const why =
    B === Infinity
      ? `storage is "unlimited" (this machine's disk): the model cannot time it; downtime here is the hand-over only`
      : `downtime = save ${formatBytes(saved)} at ${formatByteRate(B)} + hand-over ${formatDurationMs(s.quick.handoverMs)} + restore ${formatBytes(restored)}; ${formatCount(zero)} zero pages are skipped (headers only)`;
  return {
    outcome: 'completed',
    pages: { total: N, normal, zero },
    savedBytes: saved,
    restoredBytes: restored,
    phases,
    stats: { status: 'completed', 'total-time': downtime, downtime },
    storageBandwidthBytesPerSec: B,
    why,
  };
}
