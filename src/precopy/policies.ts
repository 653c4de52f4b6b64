/**
 * Convergence policies: when does pre-copy stop and copy? Pure functions of what the loop saw at a
 * dirty sync, selected by `precopy.policy`, each with its real system's defaults.
 *
 * Two families:
 * - QEMU syncs mid-round, as soon as what is left to send fits its threshold (so rounds end with up
 *   to a threshold's worth unsent), and switches over when the pending bytes after a sync are below
 *   bandwidth × downtime-limit.
 * - The others are round-based (Xen, Hyper-V, P.Haul, Cloud Hypervisor, vMotion): send everything the
 *   previous sync found, then sync and decide.
 * On top of every policy: `precopy.maxRounds` (a forced stop) and `precopy.timeoutMs`/`onTimeout`.
 */
import { decideOnTime, switchoverThresholdBytes, type ConvergenceSettings, type Decision } from './convergence.ts';
import type { PolicyName, PolicyParams } from '../precopy-params.ts';

/** What the loop knows at a dirty sync. */
export interface SyncState {
  /** pending after the sync (what the next round must send) */
  pendingBytes: number;
  pendingPages: number;
  /** pages found in the dirty log at this sync */
  dirtyPagesAtSync: number;
  /** pages sent in the round that just ended, and in the one before (null for the first) */
  sentPagesThisRound: number;
  sentPagesPrevRound: number | null;
  /** live rounds completed, the one just ended included (the bulk round is 1) */
  liveRounds: number;
  elapsedMs: number;
  /** measured over ≥ 100 ms windows */
  bandwidthBytesPerSec: number;
  /** of the round that just ended */
  roundBandwidthBytesPerSec: number;
  totalSentBytes: number;
  memoryBytes: number;
  pageSizeBytes: number;
}

/** What a mode knows at a dirty sync, before the bytes follow from the pages. */
export type SyncFacts = Omit<SyncState, 'pendingBytes'>;

/** The policy's input at a sync, built the same way by every mode: the pending bytes follow from the pages. */
export function policyInput(f: SyncFacts): SyncState {
  return {
    pendingBytes: f.pendingPages * f.pageSizeBytes,
    pendingPages: f.pendingPages,
    dirtyPagesAtSync: f.dirtyPagesAtSync,
    sentPagesThisRound: f.sentPagesThisRound,
    sentPagesPrevRound: f.sentPagesPrevRound,
    liveRounds: f.liveRounds,
    elapsedMs: f.elapsedMs,
    bandwidthBytesPerSec: f.bandwidthBytesPerSec,
    roundBandwidthBytesPerSec: f.roundBandwidthBytesPerSec,
    totalSentBytes: f.totalSentBytes,
    memoryBytes: f.memoryBytes,
    pageSizeBytes: f.pageSizeBytes,
  };
}

export interface PolicySettings extends ConvergenceSettings {
  readonly policy: PolicyName;
  readonly params: PolicyParams;
}

export interface Policy {
  readonly name: PolicyName;
  /** sync now? `remainingBytes` is what is left of the current round */
  shouldSync(remainingBytes: number, bandwidthBytesPerSec: number): boolean;
  /** the policy's own threshold at this sync, in bytes, for the round records */
  thresholdBytes(s: Pick<SyncState, 'bandwidthBytesPerSec' | 'roundBandwidthBytesPerSec' | 'pageSizeBytes'>): number;
  decide(s: SyncState): Decision;
}

const converged: Decision = { action: 'stop-and-copy', outcome: { outcome: 'converged' } };
const forced = (reason: 'max-rounds' | 'traffic-cap' | 'no-progress'): Decision => ({ action: 'stop-and-copy', outcome: { outcome: 'forced-stop', reason } });

/** The limits every policy shares: the user's round cap, then the timeout. */
function generalLimits(settings: ConvergenceSettings, s: SyncState): Decision {
  if (settings.maxRounds !== null && s.liveRounds >= settings.maxRounds) return forced('max-rounds');
  return decideOnTime(settings, s.elapsedMs);
}

const roundBased = (remainingBytes: number): boolean => remainingBytes === 0;

/**
 * The policy of `settings`. `downtimeLimitMs` reads the limit in force at each call (an orchestrator
 * may change it while the migration runs: precopy/loop.ts); by default the settings' own. The
 * decisions stay pure functions of their input and that limit.
 */
export function createPolicy(settings: PolicySettings, downtimeLimitMs: () => number = () => settings.downtimeLimitMs): Policy {
  const p = settings.params;
  switch (settings.policy) {
    case 'qemu': {
      const bw = (measured: number): number => p.availSwitchoverBandwidth ?? measured;
      return {
        name: 'qemu',
        shouldSync: (remaining, measured) => remaining <= switchoverThresholdBytes(bw(measured), downtimeLimitMs()),
        thresholdBytes: (s) => switchoverThresholdBytes(bw(s.bandwidthBytesPerSec), downtimeLimitMs()),
        decide: (s) => {
          const threshold = switchoverThresholdBytes(bw(s.bandwidthBytesPerSec), downtimeLimitMs());
          if (s.pendingBytes === 0 || s.pendingBytes < threshold) return converged;
          return generalLimits(settings, s);
        },
      };
    }
    case 'xen':
      return {
        name: 'xen',
        shouldSync: roundBased,
        thresholdBytes: (s) => p.xenTargetDirtyPages * s.pageSizeBytes,
        decide: (s) => {
          // libxenguest: stop-and-copy when dirty_count < 50 or iteration >= 5; xc_domain_save (legacy)
          // also when more than 3 × memory has been sent.
          if (s.dirtyPagesAtSync < p.xenTargetDirtyPages) return converged;
          if (s.liveRounds >= p.xenMaxIterations) return forced('max-rounds');
          if (p.xenVariant === 'legacy' && s.totalSentBytes > p.xenMaxFactor * s.memoryBytes) return forced('traffic-cap');
          return generalLimits(settings, s);
        },
      };
    case 'hyperv':
      return {
        name: 'hyperv',
        shouldSync: roundBased,
        thresholdBytes: (s) => switchoverThresholdBytes(s.bandwidthBytesPerSec, downtimeLimitMs()),
        decide: (s) => {
          // a small remainder: it fits the downtime limit at the measured rate (Hyper-V's own figure is
          // not documented); else at most 5 copy passes
          if (s.pendingBytes === 0 || s.pendingBytes <= switchoverThresholdBytes(s.bandwidthBytesPerSec, downtimeLimitMs())) return converged;
          if (s.liveRounds >= p.hypervMaxPasses) return forced('max-rounds');
          return generalLimits(settings, s);
        },
      };
    case 'phaul':
      return {
        name: 'phaul',
        shouldSync: roundBased,
        thresholdBytes: (s) => p.phaulMinPages * s.pageSizeBytes,
        decide: (s) => {
          // P.Haul iters.py: stop after a pre-dump that wrote <= 64 pages, one that grew > 10 % over the
          // previous, or the 8th. The bulk round is the first dump; its size does not count as growth.
          if (s.pendingPages <= p.phaulMinPages) return converged;
          if (s.sentPagesPrevRound !== null && s.liveRounds > 2 && s.sentPagesThisRound > s.sentPagesPrevRound * (1 + p.phaulMaxGrowth)) return forced('no-progress');
          if (s.liveRounds >= p.phaulMaxIterations) return forced('max-rounds');
          return generalLimits(settings, s);
        },
      };
    case 'cloud-hypervisor':
      return {
        name: 'cloud-hypervisor',
        shouldSync: roundBased,
        thresholdBytes: (s) => switchoverThresholdBytes(s.roundBandwidthBytesPerSec, downtimeLimitMs()),
        decide: (s) => {
          // is_precopy_converged: nothing dirty, or this iteration's bytes / last iteration's bandwidth
          // fit the downtime; a timeout cancels or pauses anyway (precopy.onTimeout)
          if (s.pendingBytes === 0) return converged;
          if (s.roundBandwidthBytesPerSec > 0 && (s.pendingBytes * 1000) / s.roundBandwidthBytesPerSec <= downtimeLimitMs()) return converged;
          return generalLimits(settings, s);
        },
      };
    case 'vmotion':
      return {
        name: 'vmotion',
        shouldSync: roundBased,
        thresholdBytes: (s) => switchoverThresholdBytes(s.bandwidthBytesPerSec, p.vmotionSwitchoverGoalMs),
        decide: (s) => {
          // stop pre-copy when the pages left can be sent within the switchover time goal (500 ms)
          if (s.pendingBytes === 0 || s.pendingBytes <= switchoverThresholdBytes(s.bandwidthBytesPerSec, p.vmotionSwitchoverGoalMs)) return converged;
          return generalLimits(settings, s);
        },
      };
  }
}
