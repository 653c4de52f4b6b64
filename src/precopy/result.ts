/**
 * The pre-copy result block every mode builds the same way from the loop's run: emulate mode
 * (run.ts) and simulate mode (sim/simulate-precopy.ts) add what they measure; the key order and the
 * formulas live here once. (QEMU's `ram` statistics: `ramStats` in stats.ts.)
 */
import type { CompressionCodec } from '../options.ts';
import type { Outcome } from '../results/outcome.ts';
import type { PrecopyRun } from './loop.ts';

/** Why a forced stop, a cancel, or an orchestrator's abort or pause happened; null otherwise (the `reason` of a result). */
export function outcomeReason(o: Outcome): string | null {
  return o.outcome === 'forced-stop' || o.outcome === 'cancelled' || o.outcome === 'aborted' || o.outcome === 'paused' ? o.reason : null;
}

/** What a mode adds to the loop's run: the fields of the document's `PrecopyResult` the loop does not know. */
export interface ModeParts {
  verified: boolean | null;
  verification: unknown;
  workload: unknown;
  deviceStateBytes: number;
  channels?: unknown;
  xbzrle: unknown;
  compression: unknown;
}

/**
 * The result block of a run that ended (completed or cancelled), keys in the documents' order;
 * `channels` only when the mode reports lanes (simulate mode has none). Typed by its parts, so this
 * file needs no document types (results/ imports precopy/ today; the callers check the block against
 * `PrecopyResult`).
 */
export function precopyResult<P extends ModeParts>(run: Pick<PrecopyRun, 'outcome' | 'stats' | 'rounds' | 'series' | 'engineBound' | 'engine'> & Partial<Pick<PrecopyRun, 'orchestrator'>>, p: P) {
  return {
    outcome: run.outcome.outcome,
    reason: outcomeReason(run.outcome),
    error: null,
    verified: p.verified,
    verification: p.verification as P['verification'], // (without the cast TS widens a generic field to its constraint)
    stats: run.stats,
    rounds: run.rounds,
    series: run.series,
    engineBound: run.engineBound,
    engine: run.engine,
    workload: p.workload as P['workload'],
    deviceStateBytes: p.deviceStateBytes,
    ...((p.channels !== undefined ? { channels: p.channels } : {}) as P extends { channels: infer C } ? { channels: C } : object),
    xbzrle: p.xbzrle as P['xbzrle'],
    compression: p.compression as P['compression'],
    // what the orchestrator (scenario `orchestrator`) set and did; absent without one
    ...(run.orchestrator ? { orchestrator: run.orchestrator } : {}),
  };
}

/** The compression block: null when off; else the frames compressed and their bytes before and after. */
export function compressionResult(
  codec: CompressionCodec,
  level: number,
  c: { frames: number; inputBytes: number; outputBytes: number },
): { codec: Exclude<CompressionCodec, 'none'>; level: number; frames: number; inputBytes: number; outputBytes: number; ratio: number | null } | null {
  if (codec === 'none') return null;
  return { codec, level, frames: c.frames, inputBytes: c.inputBytes, outputBytes: c.outputBytes, ratio: c.outputBytes > 0 ? c.inputBytes / c.outputBytes : null };
}
