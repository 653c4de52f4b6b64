/**
 * A link that dies (`faults.linkDownAtMs`): a `LinkBudget` in front of the real one that refuses every
 * booking while the link is down, so the sender cannot put another byte on it. Whatever was booked
 * before still goes out; whether it arrives is the destination's business (without post-copy recovery
 * it does; with it, a frame that would arrive after the link went down is lost: destination.ts).
 * Without recovery the migration then ends `failed` (run.ts): in pre-copy the guest keeps running on
 * the source; after the switch to post-copy it is split between the hosts and lost (QEMU without
 * postcopy recovery). With `postcopy.recovery` the link comes back `linkDownForMs` later (`upAtMs`) and
 * bookings pass again: src/postcopy/emulate.ts pauses and resumes around the outage.
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
    /** absolute ms on `clock` from which the link is up again (Infinity: never) */
    private readonly upAtMs: number = Infinity,
  ) {}
  get rateBytesPerSec(): number {
    return this.inner.rateBytesPerSec;
  }
  setRate(rateBytesPerSec: number): void {
    this.inner.setRate(rateBytesPerSec);
  }
  /** Down now? (pure in the clock's reading) */
  isDown(): boolean {
    const now = this.clock.nowMs();
    return now >= this.downAtMs && now < this.upAtMs;
  }
  book(bytes: number): number {
    if (this.isDown()) throw new LinkDown(this.downAtMs - this.startedAtMs);
    return this.inner.book(bytes);
  }
}
