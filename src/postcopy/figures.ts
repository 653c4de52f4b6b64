/**
 * Post-copy's figures from the vCPUs' stall records, with QEMU's names and definitions (pure functions):
 * - `postcopy-vcpu-blocktime`: per vCPU, ms it spent blocked on missing pages;
 * - `postcopy-blocktime`: ms during which every vCPU was blocked at once (QEMU's
 *   mark_postcopy_blocktime_begin/end count "all vCPUs down" intervals);
 * - `postcopy-latency-dist`: faults per latency bucket, bucket N holding [2^N µs, 2^(N+1) µs) (QEMU 10.1's
 *   blocktime_latency_account, 24 buckets; below 1 µs goes to bucket 0, 2^23 µs and more to the last);
 * - `postcopy-latency`: the mean fault latency, ns (QEMU 10.1).
 */
export const LATENCY_BUCKETS = 24;

/** The bucket of a stall of `latencyMs`. */
export function latencyBucket(latencyMs: number): number {
  const us = latencyMs * 1000;
  if (!(us >= 2)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.floor(Math.log2(us)));
}

import type { Stalls } from '../memory/postcopy-shared.ts';
import type { MigrationStats } from '../results/migration-stats.ts';
import type { PostcopyRecovery } from '../results/postcopy-result.ts';

export type { Stalls };

/** ms during which every vCPU was stalled at once: the intersection of the vCPUs' stall sets. */
export function allBlockedMs(perVcpu: readonly Stalls[]): number {
  if (perVcpu.length === 0) return 0;
  let common: [number, number][] = perVcpu[0].map(([a, b]) => [a, b]);
  for (let v = 1; v < perVcpu.length && common.length > 0; v++) {
    const other = perVcpu[v];
    const next: [number, number][] = [];
    let i = 0;
    let j = 0;
    while (i < common.length && j < other.length) {
      const lo = Math.max(common[i][0], other[j][0]);
      const hi = Math.min(common[i][1], other[j][1]);
      if (hi > lo) next.push([lo, hi]);
      if (common[i][1] < other[j][1]) i++;
      else j++;
    }
    common = next;
  }
  return common.reduce((s, [a, b]) => s + (b - a), 0);
}

export interface PostcopyStallFigures {
  /** faults that waited for a page, all vCPUs */
  faults: number;
  'postcopy-blocktime': number;
  'postcopy-vcpu-blocktime': number[];
  'postcopy-latency': number;
  'postcopy-latency-dist': number[];
}

export function stallFigures(perVcpu: readonly Stalls[]): PostcopyStallFigures {
  const dist = new Array<number>(LATENCY_BUCKETS).fill(0);
  let faults = 0;
  let totalMs = 0;
  const vcpu = perVcpu.map((stalls) => {
    let ms = 0;
    for (const [a, b] of stalls) {
      ms += b - a;
      dist[latencyBucket(b - a)]++;
    }
    faults += stalls.length;
    totalMs += ms;
    return ms;
  });
  return {
    faults,
    'postcopy-blocktime': allBlockedMs(perVcpu),
    'postcopy-vcpu-blocktime': vcpu,
    'postcopy-latency': faults > 0 ? (totalMs / faults) * 1e6 : 0,
    'postcopy-latency-dist': dist,
  };
}

/** What a link outage cost the guest: the stalls within [fromMs, toMs) (same clock as the stalls). */
export interface OutageStall {
  /** ms of stall within the window, all vCPUs together, and per vCPU */
  stallMs: number;
  vcpuStallMs: number[];
  /** ms of the window during which every vCPU was blocked at once */
  allBlockedMs: number;
  /** stalls that overlap the window */
  faults: number;
  /** the longest of those stalls, whole (not clipped to the window); 0 when none */
  longestStallMs: number;
}

/** Each vCPU's stalls clipped to [fromMs, toMs), and what they add up to. Pure. */
export function outageStall(perVcpu: readonly Stalls[], fromMs: number, toMs: number): OutageStall {
  let faults = 0;
  let longestStallMs = 0;
  const clipped = perVcpu.map((stalls) => {
    const out: [number, number][] = [];
    for (const [a, b] of stalls) {
      const lo = Math.max(a, fromMs);
      const hi = Math.min(b, toMs);
      if (hi > lo) {
        out.push([lo, hi]);
        faults++;
        longestStallMs = Math.max(longestStallMs, b - a);
      }
    }
    return out;
  });
  const vcpuStallMs = clipped.map((s) => s.reduce((sum, [a, b]) => sum + (b - a), 0));
  return { stallMs: vcpuStallMs.reduce((a, b) => a + b, 0), vcpuStallMs, allBlockedMs: allBlockedMs(clipped), faults, longestStallMs };
}

/** What the port counted of a post-copy phase, in bytes on the link and requests (both modes). */
export interface PostcopyByteFacts {
  /** bytes on the link when the guest resumed on the destination, and when the last page was there */
  readonly bytesAtResume: number;
  readonly bytesAtEnd: number;
  readonly requests: number;
}

/** What either mode's port counted of a post-copy phase (times on its own clock). */
export interface PostcopyPhaseFacts extends PostcopyByteFacts {
  missingPages: number;
  requests: number;
  urgentPages: number;
  backgroundPages: number;
  bytesAtSwitch: number;
  bytesAtResume: number;
  bytesAtEnd: number;
  writesAtSwitch: number;
  writesAtEnd: number;
  resumedAtMs: number;
  completedAtMs: number;
}

/** The run's stats with QEMU's post-copy figures: the bytes paused and after the resume, the requests, the stall figures. */
export function postcopyStats(stats: MigrationStats, f: PostcopyByteFacts, figures: PostcopyStallFigures): MigrationStats {
  return {
    ...stats,
    ram: {
      ...stats.ram,
      // downtime-bytes: what crossed while the guest was paused (the missing-pages list, the device state, the run command)
      'downtime-bytes': f.bytesAtResume - (stats.ram['precopy-bytes'] ?? 0),
      'postcopy-requests': f.requests,
      'postcopy-bytes': f.bytesAtEnd - f.bytesAtResume,
    },
    'postcopy-blocktime': figures['postcopy-blocktime'],
    'postcopy-vcpu-blocktime': figures['postcopy-vcpu-blocktime'],
    'postcopy-latency': figures['postcopy-latency'],
    'postcopy-latency-dist': figures['postcopy-latency-dist'],
  };
}

/** A link outage during post-copy and the recovery from it, as either mode counted it (times on its clock). */
export interface OutageFacts {
  readonly linkDownAtMs: number;
  readonly sourcePausedAtMs: number;
  readonly destinationPausedAtMs: number;
  readonly linkUpAtMs: number;
  readonly recoveredAtMs: number;
  readonly lostFrames: number;
  readonly lostPages: number;
  readonly resentPages: number;
  readonly rerequestedPages: number;
  readonly bitmapBytes: number;
}

/** The result's `recovery` block: the outage's times from `startedAtMs`, its counts, and the extra stall within [link down, recovered). */
export function recoveryRecord(o: OutageFacts, perVcpu: readonly Stalls[], startedAtMs = 0): PostcopyRecovery {
  const stall = outageStall(perVcpu, o.linkDownAtMs, o.recoveredAtMs);
  return {
    linkDownMs: o.linkDownAtMs - startedAtMs,
    sourcePausedMs: o.sourcePausedAtMs - startedAtMs,
    destinationPausedMs: o.destinationPausedAtMs - startedAtMs,
    linkUpMs: o.linkUpAtMs - startedAtMs,
    recoveredMs: o.recoveredAtMs - startedAtMs,
    outageMs: o.recoveredAtMs - o.linkDownAtMs,
    lostFrames: o.lostFrames,
    lostPages: o.lostPages,
    resentPages: o.resentPages,
    rerequestedPages: o.rerequestedPages,
    bitmapBytes: o.bitmapBytes,
    stallMs: stall.stallMs,
    vcpuStallMs: stall.vcpuStallMs,
    allBlockedMs: stall.allBlockedMs,
    faults: stall.faults,
    longestStallMs: stall.longestStallMs,
  };
}
