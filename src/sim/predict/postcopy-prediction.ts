/**
 * A pre-copy prediction that switched to post-copy (fluid-loop.ts stopped at the switch): the post-copy
 * model (postcopy-model.ts) on the pending set at the switch, and the prediction a run document would
 * hold — outcome `postcopy`, the switch's round record, QEMU's figures in `stats`, the `postcopy` block.
 */
import type { Scenario } from '../../options.ts';
import { ramStats } from '../../precopy/stats.ts';
import type { MigrationStats, RoundRecord } from '../../results/migration-stats.ts';
import { formatBitRate, formatBytes, formatCount, formatDurationMs } from '../../units.ts';
import type { SimResult } from './fluid-loop.ts';
import { postcopyModel, type PostcopyModelInput } from './postcopy-model.ts';
import type { PostcopyPrediction } from './prediction.ts';

export interface SwitchedPrecopy {
  outcome: 'postcopy';
  reason: null;
  rounds: RoundRecord[];
  stats: MigrationStats;
  postcopy: PostcopyPrediction;
}

/** `run` stopped at the switch (run.switched); `input` without the set. */
export function postcopyPrediction(s: Scenario, run: SimResult, input: Omit<PostcopyModelInput, 'set'>, setupMs: number, thresholdBytes: number): SwitchedPrecopy {
  const set = run.switched!;
  const m = postcopyModel({ ...input, set });
  const ps = s.guest.pageSize;
  const startMs = run.totalTimeMs;
  const resumedMs = startMs + m.downtimeMs;
  const completedMs = resumedMs + m.durationMs;
  const last = run.rounds.at(-1);
  // the switch's record, as the engine closes it: stage stop-and-copy, the pages missing at the pause, the downtime
  const rounds = [
    ...run.rounds,
    {
      round: run.rounds.length + run.elidedRounds,
      stage: 'stop-and-copy' as const,
      startMs,
      durationMs: m.downtimeMs,
      dirtyPages: 0,
      pendingPages: m.missingPages,
      sentPages: 0,
      zeroPages: 0,
      normalPages: 0,
      bytes: m.downtimeBytes,
      bandwidthBytesPerSec: m.downtimeMs > 0 ? (m.downtimeBytes * 1000) / m.downtimeMs : 0,
      dirtyRatePagesPerSec: 0,
      expectedDowntimeMs: run.expectedDowntimeMs,
      thresholdBytes,
      throttlePercent: last?.throttlePercent ?? 0,
      guestSlowdown: s.workload.dirtyRate > 0 && m.downtimeMs > 0 ? 0 : null,
    },
  ];
  const transferred = run.total.bytes + m.downtimeBytes + m.bytes;
  const totalTime = completedMs;
  const stats: MigrationStats = {
    status: 'completed',
    'total-time': totalTime,
    'setup-time': setupMs,
    downtime: m.downtimeMs,
    'expected-downtime': run.expectedDowntimeMs,
    ram: {
      ...ramStats({
        transferredBytes: transferred,
        transferredPages: run.total.pages + m.missingPages,
        zeroPages: run.total.zero + m.missingZeroPages,
        normalPages: run.total.pages - run.total.zero + m.missingPages - m.missingZeroPages,
        remainingBytes: 0,
        memoryBytes: s.guest.memory,
        pageSizeBytes: ps,
        dirtySyncCount: run.syncs + 1, // + the sync at the pause
        dirtyPagesPerSec: run.lastSyncMs > setupMs ? (run.liveDirtyFound * 1000) / (run.lastSyncMs - setupMs) : 0,
        precopyBytes: run.precopyBytes,
        downtimeBytes: m.downtimeBytes,
        totalTimeMs: totalTime,
        setupTimeMs: setupMs,
      }),
      'postcopy-requests': m.faults,
      'postcopy-bytes': m.bytes,
    },
    'postcopy-blocktime': m.blocktimeMs,
    'postcopy-vcpu-blocktime': new Array<number>(s.guest.vcpus).fill(m.vcpuBlocktimeMs),
    'postcopy-latency': m.faults > 0 ? m.stallMs * 1e6 : 0,
  };
  const rate = input.postcopyRateBytesPerSec;
  const touch = s.workload.dirtyRate + s.workload.readRate;
  const stallBound = m.stallBoundMs > 0 ? `; the vCPUs are stall-bound (all blocked) for the first ${formatDurationMs(m.stallBoundMs)}, faulting at most ${formatCount(s.guest.vcpus)} times per stall` : '';
  const why =
    `downtime = the missing-pages list and the device state (${formatBytes(m.downtimeBytes)}) at ${formatBitRate(input.linkRateBytesPerSec)}` +
    `${s.link.latencyMs > 0 ? ` + ${formatDurationMs(s.link.latencyMs)} latency` : ''}; then ${formatCount(m.missingPages)} missing pages (${formatBytes(m.bytes)}) cross at ${formatBitRate(rate)} ` +
    `in ${formatDurationMs(m.durationMs)} while the guest touches ${formatCount(touch)} pages/s: ${formatCount(m.faults)} of them fault before they arrive, each stalling a vCPU ${formatDurationMs(m.stallMs)}${stallBound}`;
  const postcopy: PostcopyPrediction = {
    startMs,
    resumedMs,
    completedMs,
    durationMs: m.durationMs,
    missingPages: m.missingPages,
    urgentPages: Math.min(m.faults, m.missingPages),
    backgroundPages: Math.max(0, m.missingPages - m.faults),
    faults: m.faults,
    preempt: input.preempt,
    rateLimitBytesPerSec: Number.isFinite(rate) ? rate : null,
    touchRatePagesPerSec: touch,
    stallMs: m.stallMs,
    stallBoundMs: m.stallBoundMs,
    why,
  };
  return { outcome: 'postcopy', reason: null, rounds, stats, postcopy };
}
