/**
 * After a lazy restore (the vCPUs paused again): the destination must equal the source, frozen since the
 * pause, with the guest's logged post-resume writes replayed (memory/write-log.ts, as after post-copy);
 * and the vCPUs' stall records become post-copy's figures (postcopy/figures.ts, QEMU's names).
 */
import type { GuestMemory } from '../memory/guest-memory.ts';
import { readStalls, type PostcopyShared } from '../memory/postcopy-shared.ts';
import { verifyGuest } from '../memory/verify.ts';
import { logCounts, replayWriteLog } from '../memory/write-log.ts';
import { stallFigures, type PostcopyStallFigures } from '../postcopy/figures.ts';
import type { QuickResult } from '../results/quick-result.ts';

export interface LazyCheck {
  /** null when a write log overflowed (the destination cannot be checked) */
  verified: boolean | null;
  verification: QuickResult['verification'];
  figures: PostcopyStallFigures;
  loggedWrites: number;
  logDroppedWrites: number;
  stallRecordsDropped: number;
}

/** The vCPUs are paused. Replays the logs onto `source` (it is changed: call once, at the end). */
export function checkLazyRestore(g: { source: GuestMemory; dest: GuestMemory; deviceState: Uint8Array; destDeviceState: Uint8Array; shared: PostcopyShared }): LazyCheck {
  const { shared } = g;
  const dropped = shared.logs.reduce((n, log) => n + logCounts(log).dropped, 0);
  let logged = 0;
  let verified: boolean | null = null;
  let verification: QuickResult['verification'] = null;
  if (dropped === 0) {
    for (const log of shared.logs) logged += replayWriteLog(log, shared.writeBytes, g.source);
    const report = verifyGuest(g.source, g.dest, g.deviceState, g.destDeviceState);
    verified = report.equal;
    verification = { badPages: report.badPages, firstBadPage: report.firstBadPage, deviceStateEqual: report.deviceStateEqual };
  } else {
    for (const log of shared.logs) logged += logCounts(log).entries;
  }
  const stalls = shared.stalls.map(readStalls);
  return {
    verified,
    verification,
    figures: stallFigures(stalls.map((s) => s.stalls)),
    loggedWrites: logged,
    logDroppedWrites: dropped,
    stallRecordsDropped: stalls.reduce((n, s) => n + s.dropped, 0),
  };
}
