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
    /** ms from the pause request to the resume (the same as the downtime: the guest never runs meanwhile) */
    'total-time': number;
    downtime: number | null;
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
}
