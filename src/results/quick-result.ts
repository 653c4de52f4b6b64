/** `quick` in the result document: a quick migration (suspend to storage, restore), its phases and figures. */

/** How the image lays out memory (src/quick/image-format.ts writes and reads both). */
export type ImageFormat = 'stream' | 'mapped';

export interface QuickPhases {
  pauseMs: number;
  saveMs: number;
  fsyncMs: number;
  handoverMs: number;
  restoreMs: number;
  resumeMs: number;
}

export interface QuickResult {
  outcome: 'completed' | 'cancelled' | 'errored';
  /** cancelled: "interrupted"; errored: the error code */
  reason: string | null;
  error: string | null;
  verified: boolean | null;
  verification: { badPages: number; firstBadPage: number | null; deviceStateEqual: boolean } | null;
  stats: {
    status: 'completed' | 'cancelled' | 'failed';
    /**
     * ms from the pause request to the resume (eager: the same as the downtime, the guest never runs
     * meanwhile); lazy: to the moment the background reader had every page in place
     */
    'total-time': number;
    /** ms from the pause request to the resume on the destination (lazy: right after the hand-over and the image's index) */
    downtime: number | null;
    /** lazy restore: the guest's stalls on pages not yet read, with post-copy's QEMU names (src/postcopy/figures.ts) */
    'postcopy-blocktime'?: number;
    'postcopy-vcpu-blocktime'?: number[];
    'postcopy-latency'?: number;
    'postcopy-latency-dist'?: number[];
  };
  phases: QuickPhases;
  format: ImageFormat;
  /** the image file when it was kept, else null */
  imagePath: string | null;
  /** bytes written to storage / the image file's length / bytes read back */
  savedBytes: number;
  imageBytes: number;
  restoredBytes: number;
  pages: { total: number; normal: number; zero: number };
  storageBandwidthBytesPerSec: number | null;
  /** quick.restore "lazy": how the restore went after the resume (absent for an eager restore) */
  lazy?: LazyRestoreResult;
}

/**
 * A lazy restore (quick.restore "lazy", QEMU's fast snapshot load, Firecracker's userfaultfd restore):
 * the guest resumes on the destination after the hand-over and faults its pages in from the image while
 * a background reader fills the rest in file order. Times are ms from the pause request.
 */
export interface LazyRestoreResult {
  /** the resume on the destination (= downtime) */
  resumedMs: number;
  /** every page in place (= total-time); null when the restore failed */
  completedMs: number | null;
  /** bytes read from the image before the resume (header, index, device state), on demand, and in the background */
  bytesBeforeResume: number;
  faultBytes: number;
  backgroundBytes: number;
  /** requests the vCPUs posted; pages read on demand; zero pages filled on demand; pages the background reader placed */
  requests: number;
  faultPages: number;
  zeroFaultPages: number;
  backgroundPages: number;
  /** stalls: times a vCPU blocked on a page not yet read (the latency figures are in `stats`) */
  faults: number;
  /** page writes per second the guest achieved between the resume and the last page */
  duringPagesPerSec: number;
  /** writes after the resume, logged to verify the destination against the frozen source; and those the log had no room for (then verified: null) */
  loggedWrites: number;
  logDroppedWrites: number;
  stallRecordsDropped: number;
  /** the restore failed after the resume (a corrupt image): the guest ran on the destination on pages that cannot be trusted; it is stopped there, its writes since the resume are lost, the source holds it as it was at the pause */
  guestLost: boolean;
}
