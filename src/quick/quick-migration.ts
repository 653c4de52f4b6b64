/**
 * Quick migration: pause the guest, save its memory to an image on (rate-limited) storage, fsync, hand
 * the storage over, restore the image into the destination's memory, resume. The whole transfer is
 * downtime; nothing is sent twice. Verification (destination == source, the source still paused) comes
 * after the resume and is not counted.
 *
 * A failure at any step leaves the guest running on the source with its memory untouched (the quick
 * path only ever reads source memory), removes a partial image this run created, and is reported as
 * `errored` with the step and the path.
 *
 * `quick.restore: "lazy"` (QEMU's fast snapshot load, Firecracker's userfaultfd restore): after the
 * hand-over only the header, the page index and the device state are read (lazy-index.ts); the vCPUs
 * resume against the destination's memory behind the received bitmap, as in post-copy, and fault
 * their pages in from the image while a background reader fills the rest (lazy-restore.ts). Downtime
 * is pause + save + fsync + hand-over (+ the index); total time ends when the last page is in place.
 * The source stays frozen; the vCPUs log their writes after the resume, and the destination must equal
 * the frozen source with the log replayed (lazy-verify.ts). A failure after the resume (a corrupt
 * image) cannot go back: the guest ran on the destination; it is stopped and reported lost.
 */
import { realClock, type Clock } from '../clock.ts';
import { MigbenchError } from '../errors.ts';
import { PC_ON_DESTINATION, type PostcopyShared } from '../memory/postcopy-shared.ts';
import { RequestRing } from '../memory/request-ring.ts';
import type { LazyRestoreResult } from '../results/quick-result.ts';
import { openLazyImage } from './lazy-index.ts';
import { fillLazily, newFillFacts, type LazyFillFacts } from './lazy-restore.ts';
import { checkLazyRestore } from './lazy-verify.ts';
import { readStalls } from '../memory/postcopy-shared.ts';
import { stallFigures } from '../postcopy/figures.ts';
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
  /** the received bitmap, request ring, write logs and stall records the vCPUs were started with (quick.restore "lazy") */
  readonly postcopy?: PostcopyShared | null;
  readonly vcpus: {
    pause(): Promise<void>;
    resume(): Promise<void>;
    isAnyPaused(): boolean;
    /** lazy restore: page writes so far; the vCPUs' failure, if any; stop them (a failed lazy restore) */
    totalWrites?(): number;
    readonly error?: MigbenchError | null;
    stop?(): Promise<void>;
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
  /** tests only: called with the image's path once it is saved and synced, before the hand-over (to damage it) */
  afterSave?: (path: string) => Promise<void> | void;
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
  const lazy = scenario.quick.restore === 'lazy';
  /** lazy: set once the guest runs on the destination (a failure from then on loses it) */
  let resumedAtMs: number | null = null;
  let bytesBeforeResume = 0;
  let fill: LazyFillFacts | null = null;
  let lazyPacer: StoragePacer | null = null;
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
    await options.afterSave?.(path);
    if (scenario.quick.handoverMs > 0) await clock.sleepMs(scenario.quick.handoverMs);
    const t3 = clock.nowMs();
    phase('handoverMs', t3 - t2);
    if (lazy) {
      const shared = guest.postcopy;
      if (!shared) throw new Error('quick.restore "lazy": the guest has no post-copy shared memory (createGuest makes it for a lazy restore)');
      // one storage, one pacer: the index before the resume, then the faults and the background reader
      const pacer = (lazyPacer = new StoragePacer(rate, clock, options.signal));
      const { fh, index } = await openLazyImage(path, { memory: guest.dest, deviceState: new Uint8Array(guest.destDeviceState) }, save.streamIndex, pacer);
      try {
        bytesBeforeResume = pacer.bytes;
        const t4 = clock.nowMs();
        phase('restoreMs', t4 - t3);
        // the vCPUs are paused: nothing is received yet; at the resume they run on the destination
        const received = new Int32Array(shared.received);
        received.fill(0);
        Atomics.store(new Int32Array(shared.control), PC_ON_DESTINATION, 1);
        const writesAtResume = guest.vcpus.totalWrites?.() ?? 0;
        await guest.vcpus.resume();
        const t5 = clock.nowMs();
        phase('resumeMs', t5 - t4);
        resumedAtMs = t5;
        fill = newFillFacts();
        await fillLazily({
          path, fh, index, dest: guest.dest, received, requests: new RequestRing(shared.requests), pacer, clock,
          check: () => {
            if (guest.vcpus.error) throw guest.vcpus.error;
          },
        }, fill);
        const writesAtEnd = guest.vcpus.totalWrites?.() ?? 0;
        await guest.vcpus.pause(); // nothing moves while we compare
        restoredBytes = pacer.bytes;
        const check = checkLazyRestore({
          source: guest.source, dest: guest.dest, deviceState: guest.deviceState, destDeviceState: new Uint8Array(guest.destDeviceState), shared,
        });
        const lazyResult: LazyRestoreResult = {
          ...lazyFacts(t0, resumedAtMs, fill, bytesBeforeResume),
          faults: check.figures.faults,
          duringPagesPerSec: fill.completedAtMs > t5 ? ((writesAtEnd - writesAtResume) * 1000) / (fill.completedAtMs - t5) : 0,
          loggedWrites: check.loggedWrites,
          logDroppedWrites: check.logDroppedWrites,
          stallRecordsDropped: check.stallRecordsDropped,
          guestLost: false,
        };
        return {
          outcome: 'completed',
          reason: null,
          error: null,
          verified: check.verified,
          verification: check.verification,
          stats: {
            status: 'completed',
            'total-time': fill.completedAtMs - t0,
            downtime: t5 - t0,
            'postcopy-blocktime': check.figures['postcopy-blocktime'],
            'postcopy-vcpu-blocktime': check.figures['postcopy-vcpu-blocktime'],
            'postcopy-latency': check.figures['postcopy-latency'],
            'postcopy-latency-dist': check.figures['postcopy-latency-dist'],
          },
          ...base,
          imagePath: scenario.quick.keepImage ? path : null,
          savedBytes,
          imageBytes,
          restoredBytes,
          lazy: lazyResult,
        };
      } finally {
        await fh.close().catch(() => undefined);
      }
    }
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
    const interrupted = error.code === 'E_INTERRUPTED';
    if (resumedAtMs !== null) {
      // Lazy, after the resume: the guest ran on the destination, on pages that cannot all be trusted
      // (or that never came): it is stopped there (a vCPU blocked on a missing page wakes at the stop).
      // The source holds it as it was at the pause; its writes since the resume are lost.
      await guest.vcpus.stop?.().catch(() => undefined);
      const lost = lazyFacts(t0, resumedAtMs, fill, bytesBeforeResume);
      const stalls = (guest.postcopy?.stalls ?? []).map(readStalls);
      const figures = stallFigures(stalls.map((x) => x.stalls));
      restoredBytes = lazyPacer?.bytes ?? restoredBytes;
      return {
        outcome: interrupted ? 'cancelled' : 'errored',
        reason: interrupted ? 'interrupted' : error.code,
        error: `${interrupted ? 'interrupted' : error.message}; the guest was running on the destination (lazy restore) and is lost there`,
        verified: null,
        verification: null,
        stats: { status: interrupted ? 'cancelled' : 'failed', 'total-time': clock.nowMs() - t0, downtime: resumedAtMs - t0 },
        ...base,
        imagePath: null,
        savedBytes,
        imageBytes,
        restoredBytes,
        lazy: {
          ...lost, completedMs: null, faults: figures.faults, duringPagesPerSec: 0, loggedWrites: 0, logDroppedWrites: 0,
          stallRecordsDropped: stalls.reduce((n, x) => n + x.dropped, 0), guestLost: true,
        },
      };
    }
    // The guest stays on the source: its memory was only read; let its living vCPUs run again (a vCPU
    // that died at the pause stays dead).
    if (guest.vcpus.isAnyPaused()) await guest.vcpus.resume().catch(() => undefined);
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

/** The fill's counts as the result's fields (times from the pause request at `t0`). */
function lazyFacts(t0: number, resumedAtMs: number, fill: LazyFillFacts | null, bytesBeforeResume: number): Pick<LazyRestoreResult,
  'resumedMs' | 'completedMs' | 'bytesBeforeResume' | 'faultBytes' | 'backgroundBytes' | 'requests' | 'faultPages' | 'zeroFaultPages' | 'backgroundPages'> {
  return {
    resumedMs: resumedAtMs - t0,
    completedMs: fill ? fill.completedAtMs - t0 : null,
    bytesBeforeResume,
    faultBytes: fill?.faultBytes ?? 0,
    backgroundBytes: fill?.backgroundBytes ?? 0,
    requests: fill?.requests ?? 0,
    faultPages: fill?.faultPages ?? 0,
    zeroFaultPages: fill?.zeroFaultPages ?? 0,
    backgroundPages: fill?.backgroundPages ?? 0,
  };
}
