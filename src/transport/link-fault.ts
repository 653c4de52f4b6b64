/**
 * A link that dies (`faults.linkDownAtMs`): a `LinkBudget` in front of the real one that refuses every
 * booking from the moment the link is down, so the sender cannot put another byte on it. Whatever was
 * on the link before (frames already handed over) still arrives. The migration then ends `failed`
 * (run.ts): in pre-copy the guest keeps running on the source; after the switch to post-copy it is
 * split between the hosts and lost (QEMU without postcopy recovery).
 */
import type { Clock } from '../clock.ts';
import type { LinkBudget } from './link.ts';

/** Thrown by a booking once the link is down: an outcome of the run, not a bug (never a MigbenchError). */
export class LinkDown extends Error {
  constructor(readonly afterMs: number) {
    super(`the link went down ${Math.round(afterMs)} ms after the migration request`);
    this.name = 'LinkDown';
  }
}

export class FaultyLink implements LinkBudget {
  constructor(
    private readonly inner: LinkBudget,
    private readonly clock: Clock,
    /** absolute ms on `clock` from which the link is down */
    private readonly downAtMs: number,
    /** the migration request, on `clock` (for the message) */
    private readonly startedAtMs: number,
  ) {}
  get rateBytesPerSec(): number {
    return this.inner.rateBytesPerSec;
  }
  setRate(rateBytesPerSec: number): void {
    this.inner.setRate(rateBytesPerSec);
  }
  book(bytes: number): number {
    if (this.clock.nowMs() >= this.downAtMs) throw new LinkDown(this.downAtMs - this.startedAtMs);
    return this.inner.book(bytes);
  }
}
