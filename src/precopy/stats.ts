import type { RamStats, RoundRecord, RoundStage, SeriesPoint } from '../results/migration-stats.ts';

/**
 * Counters of the pre-copy loop and their QEMU `query-migrate` form.
 *
 * Byte counts are what crossed the link: frame headers, page payloads, device state and the end
 * frame (QEMU's `ram.transferred` likewise counts the whole migration stream).
 */

/** What a round record is made of; the rates and the guest slowdown follow from it. */
export interface RoundFacts
  extends Pick<RoundRecord, 'round' | 'stage' | 'startMs' | 'durationMs' | 'dirtyPages' | 'pendingPages' | 'expectedDowntimeMs' | 'thresholdBytes' | 'throttlePercent'> {
  /** the downtime limit in force at the sync that ended the round, ms (an orchestrator may change it) */
  downtimeLimitMs: number;
  /** what the round sent */
  sent: { pages: number; zeroPages: number; normalPages: number; bytes: number };
  /** page writes the vCPUs did during the round */
  writes: number;
  /** page writes per second the scenario asks (0: none) */
  targetDirtyRatePagesPerSec: number;
}

/** One round's record (emulate and simulate mode build theirs the same way). */
export function roundRecord(f: RoundFacts): RoundRecord {
  const d = f.durationMs;
  const rate = d > 0 ? (f.writes * 1000) / d : 0;
  return {
    round: f.round,
    stage: f.stage,
    startMs: f.startMs,
    durationMs: d,
    dirtyPages: f.dirtyPages,
    pendingPages: f.pendingPages,
    sentPages: f.sent.pages,
    zeroPages: f.sent.zeroPages,
    normalPages: f.sent.normalPages,
    bytes: f.sent.bytes,
    bandwidthBytesPerSec: d > 0 ? (f.sent.bytes * 1000) / d : 0,
    dirtyRatePagesPerSec: rate,
    expectedDowntimeMs: f.expectedDowntimeMs,
    thresholdBytes: f.thresholdBytes,
    downtimeLimitMs: f.downtimeLimitMs,
    throttlePercent: f.throttlePercent,
    guestSlowdown: f.targetDirtyRatePagesPerSec > 0 && d > 0 ? rate / f.targetDirtyRatePagesPerSec : null,
  };
}

/** Running totals kept by the page sender; plain fields, no allocation on the hot path. */
export class SendCounters {
  bytes = 0;
  pages = 0;
  zeroPages = 0;
  normalPages = 0;
  frames = 0;

  reset(): void {
    this.bytes = this.pages = this.zeroPages = this.normalPages = this.frames = 0;
  }
  snapshot(): { bytes: number; pages: number; zeroPages: number; normalPages: number } {
    return { bytes: this.bytes, pages: this.pages, zeroPages: this.zeroPages, normalPages: this.normalPages };
  }
}

/**
 * What the savings did, counted by whoever sends the pages (the engine's PageSender, simulate mode's
 * modelled wire): XBZRLE deltas and skips, and compressed frames. Plain fields, no allocation on the
 * hot path; the result's `xbzrle` and `compression` blocks are read from them.
 */
export class CodecCounters {
  /** XBZRLE: pages sent as deltas, their bytes on the wire (frame headers included), pages skipped as unchanged */
  xbzrlePages = 0;
  xbzrleBytes = 0;
  xbzrleSkipped = 0;
  /** compression: frames compressed, their normal-page bytes before and after */
  compressedFrames = 0;
  compressedInputBytes = 0;
  compressedOutputBytes = 0;

  xbzrleFigures(): { pages: number; bytes: number; skippedPages: number } {
    return { pages: this.xbzrlePages, bytes: this.xbzrleBytes, skippedPages: this.xbzrleSkipped };
  }
  compressionFigures(): { frames: number; inputBytes: number; outputBytes: number } {
    return { frames: this.compressedFrames, inputBytes: this.compressedInputBytes, outputBytes: this.compressedOutputBytes };
  }
}

/** QEMU's completion formulas: rates over the transfer time (total time less setup). */
export function throughput(transferredBytes: number, pages: number, totalTimeMs: number, setupTimeMs: number): { mbps: number; pagesPerSecond: number } {
  const transferMs = totalTimeMs - setupTimeMs;
  if (!(transferMs > 0)) return { mbps: 0, pagesPerSecond: 0 };
  return { mbps: (transferredBytes * 8) / transferMs / 1000, pagesPerSecond: (pages * 1000) / transferMs };
}

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

/** QEMU's `ram` block of `query-migrate`, built the same way by every mode (emulate, simulate, predict). */
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

/**
 * Was migbench itself, not the configured link, the limit of the live rounds? Yes when they ran
 * clearly (> 10%) below a finite rate limit, for long enough to measure (two 100 ms bandwidth
 * windows), while the rate limiter held the sender back for less than 10% of that time.
 */
export function isEngineBound(f: { liveRateLimitBytesPerSec: number; liveBytesPerSec: number; liveDurationMs: number; linkWaitMs: number }): boolean {
  return (
    Number.isFinite(f.liveRateLimitBytesPerSec) &&
    f.liveDurationMs >= 200 &&
    f.liveBytesPerSec < 0.9 * f.liveRateLimitBytesPerSec &&
    f.linkWaitMs < 0.1 * f.liveDurationMs
  );
}

export const SERIES_INTERVAL_MS = 100;

/** Takes a sample when at least SERIES_INTERVAL_MS have passed since the last one. */
export class SeriesSampler {
  readonly points: SeriesPoint[] = [];
  private lastMs: number;
  private lastBytes = 0;
  private lastWrites: number;
  /** `startMs`: the origin of tMs (the migration request); sampling starts at `firstMs` with a zero point. */
  constructor(
    private readonly startMs: number,
    firstMs: number,
    writes: number,
    remainingBytes: number,
    stage: RoundStage,
    /** ms between samples (simulate mode widens it for long migrations) */
    private readonly intervalMs: number = SERIES_INTERVAL_MS,
  ) {
    this.lastMs = firstMs;
    this.lastWrites = writes;
    this.points.push({ tMs: firstMs - startMs, transferredBytes: 0, remainingBytes, linkBytesPerSec: 0, dirtyRatePagesPerSec: 0, throttlePercent: 0, stage });
  }

  /** Cheap when it is not time yet: one comparison. `force` samples anyway (phase ends). */
  maybe(now: number, read: () => { bytes: number; remainingBytes: number; writes: number; throttlePercent: number; stage: RoundStage }, force = false): void {
    const dt = now - this.lastMs;
    if (dt < this.intervalMs && !force) return;
    const r = read();
    this.points.push({
      tMs: now - this.startMs,
      transferredBytes: r.bytes,
      remainingBytes: r.remainingBytes,
      linkBytesPerSec: dt > 0 ? ((r.bytes - this.lastBytes) * 1000) / dt : 0,
      dirtyRatePagesPerSec: dt > 0 ? ((r.writes - this.lastWrites) * 1000) / dt : 0,
      throttlePercent: r.throttlePercent,
      stage: r.stage,
    });
    this.lastMs = now;
    this.lastBytes = r.bytes;
    this.lastWrites = r.writes;
  }
}
