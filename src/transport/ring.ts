/**
 * A single-producer single-consumer byte ring in a SharedArrayBuffer: how page frames cross from the
 * migration thread (producer) to the destination worker (consumer) as real bytes.
 *
 * Control words (Int32, Atomics only):
 *   HEAD  written by the producer only: bytes published so far (a wrapping 32-bit counter)
 *   TAIL  written by the consumer only: bytes consumed so far (a wrapping 32-bit counter)
 *   CLOSED written by either side: non-zero once one side has given up (the other stops waiting)
 * The data area has a power-of-two capacity; a position is `counter & (capacity - 1)`. Frames are
 * 8-byte aligned and never straddle the end: when one does not fit, the producer writes a WRAP frame
 * header in the gap and the frame goes to the start.
 */
import { FRAME_WRAP } from './frame.ts';

export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_CLOSED = 2;
const CONTROL_BYTES = 64; // keeps HEAD and TAIL off the data's cache lines

export interface RingShared {
  readonly buffer: SharedArrayBuffer;
  readonly capacityBytes: number;
}

export function createRing(capacityBytes: number): RingShared {
  if (capacityBytes < 4096 || (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two >= 4096, got ${capacityBytes}`);
  }
  return { buffer: new SharedArrayBuffer(CONTROL_BYTES + capacityBytes), capacityBytes };
}

/** Views shared by both ends. */
export class RingViews {
  readonly control: Int32Array;
  readonly bytes: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly capacity: number;
  readonly mask: number;
  constructor(shared: RingShared) {
    this.control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
    this.bytes = new Uint8Array(shared.buffer, CONTROL_BYTES, shared.capacityBytes);
    this.i32 = new Int32Array(shared.buffer, CONTROL_BYTES, shared.capacityBytes / 4);
    this.f64 = new Float64Array(shared.buffer, CONTROL_BYTES, shared.capacityBytes / 8);
    this.capacity = shared.capacityBytes;
    this.mask = shared.capacityBytes - 1;
  }
  closed(): boolean {
    return Atomics.load(this.control, RING_CLOSED) !== 0;
  }
  close(): void {
    Atomics.store(this.control, RING_CLOSED, 1);
    Atomics.notify(this.control, RING_HEAD);
    Atomics.notify(this.control, RING_TAIL);
  }
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * The producer end, used by the migration thread only. `reserve` hands out a contiguous, 8-aligned
 * slot of the data area (writing a WRAP frame when it must go back to the start); the slot stays
 * private until `commit` publishes it by advancing HEAD.
 */
export class RingProducer {
  readonly views: RingViews;
  private head: number;
  private tailSeen: number;
  /** Milliseconds spent waiting for the consumer to free space. */
  waitMs = 0;

  constructor(views: RingViews) {
    this.views = views;
    this.head = Atomics.load(views.control, RING_HEAD);
    this.tailSeen = Atomics.load(views.control, RING_TAIL);
  }

  private free(): number {
    return this.views.capacity - ((this.head - this.tailSeen) >>> 0);
  }

  /** A slot of `bytes` (8-aligned) or -1 when the consumer has not freed enough yet. */
  tryReserve(bytes: number): number {
    const { capacity, mask } = this.views;
    if (bytes > capacity / 2) throw new RangeError(`frame of ${bytes} bytes exceeds half the ring (${capacity})`);
    const pos = this.head & mask;
    const contiguous = capacity - pos;
    const need = bytes <= contiguous ? bytes : contiguous + bytes;
    if (this.free() < need) {
      this.tailSeen = Atomics.load(this.views.control, RING_TAIL);
      if (this.free() < need) return -1;
    }
    if (bytes <= contiguous) return pos;
    // Fill the gap at the end with a WRAP frame; it is published together with the next commit.
    this.views.i32[pos >>> 2] = FRAME_WRAP;
    this.views.i32[(pos >>> 2) + 1] = contiguous;
    this.head = (this.head + contiguous) | 0;
    return 0;
  }

  /**
   * Wait for space for up to `maxBlockMs`, blocking this thread in `Atomics.wait` (a futex: woken
   * within microseconds by the consumer's notify). `Atomics.waitAsync` would keep the event loop free,
   * but its wake-up goes through the event loop and takes a fraction of a millisecond to several
   * milliseconds: long enough for the consumer to drain the whole ring and idle. So the sender
   * blocks for short waits and only falls back to waitAsync (in `reserve`) for long ones.
   * Returns the slot, or -1 when there is still no space (or the ring is closed).
   */
  blockingReserve(bytes: number, maxBlockMs: number): number {
    let pos = this.tryReserve(bytes);
    if (pos >= 0) return pos;
    const started = performance.now();
    const until = started + maxBlockMs;
    for (let now = started; now < until; now = performance.now()) {
      if (this.views.closed()) break;
      Atomics.wait(this.views.control, RING_TAIL, this.tailSeen, until - now);
      pos = this.tryReserve(bytes);
      if (pos >= 0) break;
    }
    this.waitMs += performance.now() - started;
    return pos;
  }

  /** Wait until `bytes` can be reserved; rejects with the reason once the ring is closed. */
  async reserve(bytes: number, isClosed: () => string | null, maxBlockMs = 5): Promise<number> {
    for (;;) {
      const pos = this.blockingReserve(bytes, maxBlockMs);
      if (pos >= 0) return pos;
      const reason = isClosed();
      if (reason !== null) throw new Error(reason);
      // A long wait (a slow or delayed destination): let the event loop run meanwhile.
      const started = performance.now();
      const r = Atomics.waitAsync(this.views.control, RING_TAIL, this.tailSeen, 100);
      if (r.async) {
        // a pending waitAsync does not keep a thread's event loop alive (Node 20): a worker with nothing
        // else to do would exit with code 13 mid-wait. The timer holds it until the wait is over; it must
        // outlast the wait's own 100 ms timeout, which may be delivered after a timer of the same length
        const hold = setTimeout(() => undefined, 60_000);
        await r.value;
        clearTimeout(hold);
      }
      this.waitMs += performance.now() - started;
    }
  }

  commit(bytes: number): void {
    this.head = (this.head + bytes) | 0;
    Atomics.store(this.views.control, RING_HEAD, this.head);
    Atomics.notify(this.views.control, RING_HEAD);
  }

  /** True when the consumer has taken every published byte. */
  drained(): boolean {
    return Atomics.load(this.views.control, RING_TAIL) === this.head;
  }
}
