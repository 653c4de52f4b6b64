/**
 * The pre-copy record every mode builds the same way: QEMU's `ram` statistics and the result block
 * of a document. Emulate mode (run.ts), simulate mode (sim/simulate-precopy.ts) and the predictor
 * (sim/predict.ts) fill them from their own counters; the shape, the key order and the formulas live
 * here once.
 */
import type { CompressionCodec } from '../options.ts';
import type { PrecopyResult } from '../results/document.ts';
import type { Outcome } from './convergence.ts';
import { throughput, type RamStats } from './stats.ts';

export interface RamFacts {
  /** bytes on the link: frames, device state, end frame */
  transferredBytes: number;
  /** pages transferred (zero, normal, XBZRLE and skipped-as-unchanged pages) */
  transferredPages: number;
  zeroPages: number;
  normalPages: number;
  /** pending in the migration bitmap at the end (0 after a completed migration) */
  remainingBytes: number;
  memoryBytes: number;
  pageSizeBytes: number;
  dirtySyncCount: number;
  dirtyPagesPerSec: number;
  /** bytes sent before the stop-and-copy, and during it */
  precopyBytes: number;
  downtimeBytes: number;
  /** QEMU's rates run over the transfer time: total less setup */
  totalTimeMs: number;
  setupTimeMs: number;
}

/** QEMU's `ram` block of `query-migrate`. */
export function ramStats(f: RamFacts): RamStats {
  const t = throughput(f.transferredBytes, f.transferredPages, f.totalTimeMs, f.setupTimeMs);
  return {
    transferred: f.transferredBytes,
    remaining: f.remainingBytes,
    total: f.memoryBytes,
    duplicate: f.zeroPages,
    normal: f.normalPages,
    'normal-bytes': f.normalPages * f.pageSizeBytes,
    'dirty-sync-count': f.dirtySyncCount,
    'dirty-pages-rate': f.dirtyPagesPerSec,
    mbps: t.mbps,
    'pages-per-second': t.pagesPerSecond,
    'precopy-bytes': f.precopyBytes,
    'downtime-bytes': f.downtimeBytes,
    'page-size': f.pageSizeBytes,
  };
}

/** Why a forced stop or a cancel happened; null otherwise (the `reason` of a result). */
export function outcomeReason(o: Outcome): string | null {
  return o.outcome === 'forced-stop' || o.outcome === 'cancelled' ? o.reason : null;
}

/** What the loop's run (loop.ts `PrecopyRun`) gives a result block. */
export type PrecopyRunParts = Pick<PrecopyResult, 'stats' | 'rounds' | 'series' | 'engineBound' | 'engine'> & { outcome: Outcome };

/** What a mode adds to the loop's run to make a result block. */
export type PrecopyResultParts = Pick<PrecopyResult, 'verified' | 'verification' | 'workload' | 'deviceStateBytes' | 'channels' | 'xbzrle' | 'compression'>;

/**
 * The result block of a run that ended (completed or cancelled), keys in the documents' order;
 * `channels` only when the mode reports lanes (simulate mode has none).
 */
export function precopyResult(run: PrecopyRunParts, p: PrecopyResultParts): PrecopyResult {
  return {
    outcome: run.outcome.outcome,
    reason: outcomeReason(run.outcome),
    error: null,
    verified: p.verified,
    verification: p.verification,
    stats: run.stats,
    rounds: run.rounds,
    series: run.series,
    engineBound: run.engineBound,
    engine: run.engine,
    workload: p.workload,
    deviceStateBytes: p.deviceStateBytes,
    ...(p.channels !== undefined ? { channels: p.channels } : {}),
    xbzrle: p.xbzrle,
    compression: p.compression,
  };
}

/** The compression block: null when off; else the frames compressed and their bytes before and after. */
export function compressionResult(
  codec: CompressionCodec,
  level: number,
  c: { frames: number; inputBytes: number; outputBytes: number },
): PrecopyResult['compression'] {
  if (codec === 'none') return null;
  return { codec, level, frames: c.frames, inputBytes: c.inputBytes, outputBytes: c.outputBytes, ratio: c.outputBytes > 0 ? c.inputBytes / c.outputBytes : null };
}
