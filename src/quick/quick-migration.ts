/**
 * Quick migration: pause the guest, save its memory to an image on (rate-limited) storage, fsync, hand
 * the storage over, restore the image into the destination's memory, resume. The whole transfer is
 * downtime; nothing is sent twice. Verification (destination == source, the source still paused) comes
 * after the resume and is not counted.
 *
 * A failure at any step leaves the guest running on the source with its memory untouched (the quick
 * path only ever reads source memory), removes a partial image this run created, and is reported as
 * `errored` with the step and the path.
 */
import { realClock, type Clock } from '../clock.ts';
import { MigbenchError } from '../errors.ts';
import { verifyGuest } from '../memory/verify.ts';
import type { Scenario } from '../options.ts';
import { VERSION } from '../version.ts';
import type { QuickPhases, QuickResult } from '../results/quick-result.ts';
import { imageLocation, keepImage, removeImage, type ImageLocation } from './image-file.ts';
import { restoreImage } from './restore.ts';
import { StoragePacer } from './storage.ts';
import { saveImage } from './suspend.ts';

/** What quick migration needs of a running guest (run.ts's Guest has all of it). */
export interface QuickGuest {
  readonly scenario: Scenario;
  readonly source: import('../memory/guest-memory.ts').GuestMemory;
  readonly dest: import('../memory/guest-memory.ts').GuestMemory;
  readonly deviceState: Uint8Array;
  readonly destDeviceState: SharedArrayBuffer;
  readonly vcpus: {
    pause(): Promise<void>;
    resume(): Promise<void>;
    isAnyPaused(): boolean;
    /** tests only (src/faults.ts): a vCPU given a fault counts from here */
    armFault?(): void;
  };
}

export interface QuickOptions {
  clock?: Clock;
  signal?: AbortSignal;
  onPhase?: (phase: keyof QuickPhases, ms: number) => void;
  /**
   * The command line's `--force` (never a scenario key): the image may replace a regular file already
   * at `quick.path` (never through a symbolic link, never anything else). Without it the image is
   * only ever written to a new file (src/quick/image-file.ts).
   */
  force?: boolean;
}

export async function migrateQuick(guest: QuickGuest, options: QuickOptions = {}): Promise<QuickResult> {
  const { scenario } = guest;
  const clock = options.clock ?? realClock;
  const phases: QuickPhases = { pauseMs: 0, saveMs: 0, fsyncMs: 0, handoverMs: 0, restoreMs: 0, resumeMs: 0 };
  const phase = (name: keyof QuickPhases, ms: number): void => {
    phases[name] = ms;
    options.onPhase?.(name, ms);
  };
  const rate = scenario.quick.storageBandwidth;
  const base = {
    phases,
    format: scenario.quick.format,
    pages: { total: guest.source.totalPages, normal: 0, zero: 0 },
    storageBandwidthBytesPerSec: Number.isFinite(rate) ? rate : null,
  };
  let savedBytes = 0;
  let imageBytes = 0;
  let restoredBytes = 0;
  let created = false;
  let failed = false;
  let location: ImageLocation | null = null;
  // The phases are cut at one sequence of readings of one clock, t0 ≤ t1 ≤ … ≤ t5: each phase is the
  // difference of two neighbouring readings, so the phases add up to t5 − t0 (the downtime) exactly;
  // no stretch of time (opening or closing the file, a scheduling delay) falls between two phases.
  let t0 = clock.nowMs();
  try {
    // the image's place (a fresh private folder unless quick.path), made before the guest pauses
    location = await imageLocation(scenario);
    const { path } = location;
    t0 = clock.nowMs();
    guest.vcpus.armFault?.();
    await guest.vcpus.pause();
    const t1 = clock.nowMs();
    phase('pauseMs', t1 - t0);
    const save = await saveImage({
      memory: guest.source,
      deviceState: guest.deviceState,
      path,
      format: scenario.quick.format,
      pacer: new StoragePacer(rate, clock, options.signal),
      tool: `migbench ${VERSION}`,
      now: () => clock.nowMs(),
      force: options.force,
    });
    created = save.created; // ours to remove afterwards (a file --force replaced never is)
    savedBytes = save.savedBytes;
    imageBytes = save.imageBytes;
    base.pages.normal = save.normalPages;
    base.pages.zero = save.zeroPages;
    // save: from t1 (not saveImage's own first reading, a moment later) to the fsync's start; fsync:
    // from there to saveImage's last reading, after the close (t2)
    const t2 = save.endMs;
    phase('saveMs', save.syncStartMs - t1);
    phase('fsyncMs', t2 - save.syncStartMs);
    if (scenario.quick.handoverMs > 0) await clock.sleepMs(scenario.quick.handoverMs);
    const t3 = clock.nowMs();
    phase('handoverMs', t3 - t2);
    const restorePacer = new StoragePacer(rate, clock, options.signal);
    const restored = await restoreImage(path, { memory: guest.dest, deviceState: new Uint8Array(guest.destDeviceState) }, restorePacer);
    restoredBytes = restored.readBytes;
    const t4 = clock.nowMs();
    phase('restoreMs', t4 - t3);
    // Resume on the destination: in migbench the destination's memory is complete and handed to its
    // (modelled) vCPUs; the source stays paused for the check below.
    const t5 = clock.nowMs();
    phase('resumeMs', t5 - t4);
    const report = verifyGuest(guest.source, guest.dest, guest.deviceState, new Uint8Array(guest.destDeviceState));
    return {
      outcome: 'completed',
      reason: null,
      error: null,
      verified: report.equal,
      verification: { badPages: report.badPages, firstBadPage: report.firstBadPage, deviceStateEqual: report.deviceStateEqual },
      stats: { status: 'completed', 'total-time': t5 - t0, downtime: t5 - t0 },
      ...base,
      imagePath: scenario.quick.keepImage ? path : null,
      savedBytes,
      imageBytes,
      restoredBytes,
    };
  } catch (error) {
    failed = true;
    if (!(error instanceof MigbenchError)) throw error;
    // The guest stays on the source: its memory was only read; let its living vCPUs run again (a vCPU
    // that died at the pause stays dead).
    if (guest.vcpus.isAnyPaused()) await guest.vcpus.resume().catch(() => undefined);
    const interrupted = error.code === 'E_INTERRUPTED';
    return {
      outcome: interrupted ? 'cancelled' : 'errored',
      reason: interrupted ? 'interrupted' : error.code,
      error: interrupted ? null : error.message,
      verified: null,
      verification: null,
      stats: { status: interrupted ? 'cancelled' : 'failed', 'total-time': clock.nowMs() - t0, downtime: null },
      ...base,
      imagePath: null,
      savedBytes,
      imageBytes,
      restoredBytes,
    };
  } finally {
    // An image that did not make it (or was not asked to be kept) does not stay behind: what this run
    // created (the image, its private folder) is removed; nothing else ever is.
    if (location !== null && (failed || !scenario.quick.keepImage)) await removeImage(location, created);
    else if (location !== null) keepImage(location);
  }
}
