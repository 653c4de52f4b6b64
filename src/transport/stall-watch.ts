/**
 * Telling a hung consumer from a slow one: a queue or ring whose consumer has unread work and has not
 * taken any of it for `limitMs`. A slow consumer still moves its tail; a hung one (an endless loop, a
 * deadlock, a thread blocked for good) never does, and without this the producer would wait for it
 * forever. Pure bookkeeping over two counters and a clock, so it is tested on a manual clock.
 */
export class StallWatch {
  private lastTail: number | null = null;
  private sinceMs = 0;
  private waiting = false;

  constructor(
    /** how long unread work may sit untouched before the consumer counts as hung */
    readonly limitMs: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /**
   * Look at the producer's `head` and the consumer's `tail` (any monotonic counters, compared for
   * equality only). True once the consumer has had unread work (head ≠ tail) and kept the same tail for
   * at least `limitMs` (the constructor's, or this look's when the limit moves with a rate); an empty
   * queue or any movement of the tail starts the wait again.
   */
  stalled(head: number, tail: number, limitMs = this.limitMs): boolean {
    const now = this.nowMs();
    if (head === tail) {
      this.waiting = false; // nothing to read: an idle consumer is not a hung one
      return false;
    }
    if (!this.waiting || tail !== this.lastTail) {
      this.waiting = true; // work seen unread now, or the tail moved: the wait starts here
      this.lastTail = tail;
      this.sinceMs = now;
      return false;
    }
    return now - this.sinceMs >= limitMs;
  }

  /** How long the consumer has kept its tail (for the message). */
  stalledForMs(): number {
    return this.nowMs() - this.sinceMs;
  }
}

/** Default: long enough for any healthy consumer on a loaded machine, short enough to end a hung run. */
export const DEFAULT_STALL_LIMIT_MS = 30_000;
