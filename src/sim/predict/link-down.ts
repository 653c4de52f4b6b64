/**
 * faults.linkDownAtMs in `predict`: the link dies at that time after the migration request and refuses
 * every byte after it (transport/link-fault.ts). A migration predicted to end before then is untouched;
 * one still running ends `failed` (reason link-down) at that time, with what crossed until then:
 *  - before the guest resumed on the destination (pre-copy, its stop-and-copy, or the switch to post-copy):
 *    the guest goes on on the source, intact (guestLost false);
 *  - after the switch to post-copy: the destination runs the guest without all its pages, the source is
 *    frozen: the guest is lost (guestLost true; QEMU without postcopy recovery).
 * As a run's failed result (run.ts): status failed, no downtime, memory still to send. Pure.
 */
import type { Scenario } from '../../options.ts';
import { ramStats } from '../../precopy/stats.ts';
import type { PrecopyPrediction } from './prediction.ts';

export interface LinkDownTimeline {
  setupMs: number;
  /** the live rounds' rate (bytes/s) and the link's burst (ms): the live phase commits bytes at R from setup − burst */
  liveRateBytesPerSec: number;
  burstMs: number;
}

/** Bytes on the link `t` ms after the request, by the prediction's phases (linear within each). */
export function bytesSentBy(p: PrecopyPrediction, t: number, tl: LinkDownTimeline): number {
  const st = p.stats;
  const live = st.ram['precopy-bytes'] ?? 0;
  const down = st.ram['downtime-bytes'] ?? 0;
  const pauseMs = p.postcopy ? p.postcopy.startMs : st.downtime !== null ? st['total-time'] - st.downtime : st['total-time'];
  if (t <= pauseMs) {
    if (tl.liveRateBytesPerSec === Infinity) return t >= tl.setupMs ? live : 0;
    return Math.max(0, Math.min(live, ((t - tl.setupMs + tl.burstMs) * tl.liveRateBytesPerSec) / 1000));
  }
  const downMs = st.downtime ?? 0;
  if (t <= pauseMs + downMs || !p.postcopy) return live + (downMs > 0 ? down * Math.min(1, (t - pauseMs) / downMs) : down);
  const pc = p.postcopy;
  const after = st.ram['postcopy-bytes'] ?? 0;
  return live + down + (pc.durationMs > 0 ? after * Math.min(1, (t - pc.resumedMs) / pc.durationMs) : after);
}

/** The prediction with the link failure applied (the same object when the migration ends first). */
export function applyLinkDown(s: Scenario, p: PrecopyPrediction, tl: LinkDownTimeline): PrecopyPrediction {
  const downAt = s.faults.linkDownAtMs;
  if (downAt === null || p.outcome === 'failed') return p;
  const endMs = p.stats['total-time'];
  if (downAt >= endMs) return p;
  const guestLost = p.postcopy !== undefined && downAt >= p.postcopy.resumedMs;
  const bytes = Math.min(p.stats.ram.transferred, bytesSentBy(p, downAt, tl));
  const share = p.stats.ram.transferred > 0 ? bytes / p.stats.ram.transferred : 0;
  const pages = (p.stats.ram.normal + p.stats.ram.duplicate) * share;
  const zero = p.stats.ram.duplicate * share;
  const ps = s.guest.pageSize;
  // a switch that never began leaves no post-copy block (as a run's failed result has none)
  const { postcopy: _switch, ...rest } = p;
  const kept = p.postcopy !== undefined && downAt >= p.postcopy.startMs ? p : rest;
  return {
    ...kept,
    outcome: 'failed',
    reason: 'link-down',
    rounds: p.rounds.filter((r) => r.startMs < downAt),
    stats: {
      status: 'failed',
      'total-time': downAt,
      'setup-time': p.stats['setup-time'],
      downtime: null,
      'expected-downtime': 0,
      ram: ramStats({
        transferredBytes: bytes,
        transferredPages: pages,
        zeroPages: zero,
        normalPages: pages - zero,
        remainingBytes: s.guest.memory,
        memoryBytes: s.guest.memory,
        pageSizeBytes: ps,
        dirtySyncCount: 0,
        dirtyPagesPerSec: 0,
        precopyBytes: bytes,
        downtimeBytes: 0,
        totalTimeMs: downAt,
        setupTimeMs: p.stats['setup-time'],
      }),
    },
    why: guestLost
      ? `the link dies ${downAt} ms after the request, during post-copy (the guest resumed on the destination at ${p.postcopy!.resumedMs.toFixed(1)} ms without all its pages): the guest is lost. Without the failure: ${p.why}`
      : `the link dies ${downAt} ms after the request, before the guest runs on the destination (predicted at ${(p.postcopy?.resumedMs ?? endMs).toFixed(1)} ms): the migration fails and the guest goes on on the source. Without the failure: ${p.why}`,
    guestLost,
  };
}
