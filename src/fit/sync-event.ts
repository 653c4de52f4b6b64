/** One dirty sync the polls caught, as `fit` (src/fit/fit.ts) and its write models (src/fit/write-models.ts) use it (pages, seconds). */
export interface SyncEvent {
  /** the poll after the sync */
  readonly line: number;
  /** estimated time of the sync, ms */
  readonly atMs: number;
  /** seconds since the previous sync */
  readonly intervalS: number;
  /** pages still pending just before the sync */
  readonly leftoverPages: number;
  /** pages the sync added */
  readonly newPages: number;
  /** seconds between the two syncs before this one (what the pages still pending were written in), when known */
  readonly previousIntervalS?: number;
  /**
   * bulk round's sync: zero pages among those still pending (the zero pages sent after the sync until the
   * next one: the pages the guest writes are not zero, so these are the unsent end of memory), never
   * working-set pages
   */
  readonly leftoverZeroPages?: number;
  /** the sync that ended the bulk round: its pending pages are the unsent end of memory, not written pages */
  readonly bulk?: boolean;
}
