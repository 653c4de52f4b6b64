/**
 * A single-producer single-consumer byte ring in a SharedArrayBuffer: how page frames cross from the
 * migration thread (producer) to the destination worker (consumer) as real bytes.
 *
 * Control words (Int32, Atomics only):
 *   HEAD  written by the producer only: bytes published so far (a wrapping 32-bit counter)
 *   TAIL  written by the consumer only: bytes consumed so far (a wrapping 32-bit counter)
 *   CLOSED written by either side: non-zero once one side has given up (the other stops waiting)
 *   WAITING written by the producer only: 1 while it sleeps for space, else 0
 *   WAKE_AT written by the producer only: the TAIL it sleeps for (valid while WAITING is 1)
 * A producer that finds the ring full sleeps until a low-water mark of space is free (a quarter of the
 * ring, or the frame if larger), not until the next frame is taken: one wake-up per batch of frames, as a
 * socket's writer wakes at its low-water mark. A consumer notifies TAIL when it passes WAKE_AT while
 * WAITING is set, or when it has taken every published byte (`consumerRelease`); a consumer that
 * notifies on every frame (tcp-destination.ts) stays correct, the producer only wakes more often.
 * The data area has a power-of-two capacity; a position is `counter & (capacity - 1)`. Frames are
 * 8-byte aligned and never straddle the end: when one does not fit, the producer writes a WRAP frame
 * header in the gap and the frame goes to the start.
 */
import { FRAME_WRAP } from './frame.ts';

export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_CLOSED = 2;
export const RING_WAITING = 3;
export const RING_WAKE_AT = 4;
const CONTROL_BYTES = 64; // keeps HEAD and TAIL off the data's cache lines

export interface RingShared {
  readonly buffer: SharedArrayBuffer;
  readonly capacityBytes: number;
}

export function createRing(capacityBytes: number): RingShared {
  if (capacityBytes < 4096 || (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two >= 4096, got ${capacityBytes}`);
  }
  const buffer = new SharedArrayBuffer(CONTROL_BYTES + capacityBytes);
  // First touch now, before any migration's clock (DESIGN §8): a fresh ring's page faults are not the
  // engine's cost (8 MiB measured at 100+ ms on a busy machine). The bytes stay zero.
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 0;
  return { buffer, capacityBytes };
}

/** Free bytes a waiting producer sleeps for: a quarter of the ring, or what the frame needs if more. */
export function lowWaterBytes(capacityBytes: number, needBytes: number): number {
  return Math.min(capacityBytes, Math.max(needBytes, capacityBytes >>> 2));
}

/** The TAIL (wrapping counter) at which `wantBytes` are free, with HEAD at `head`. */
export function wakeTail(head: number, wantBytes: number, capacityBytes: number): number {
  return (head + wantBytes - capacityBytes) | 0;
}

/** Whether TAIL at `tail` has reached `wakeAt` (wrapping 32-bit counters, less than 2^31 apart). */
export function tailReached(tail: number, wakeAt: number): boolean {
  return ((tail - wakeAt) | 0) >= 0;
}

/**
 * The consumer gives back every byte up to `tail` (publishes TAIL) and wakes the producer when it
 * sleeps for that much space, or when the consumer has caught up with HEAD at `head` (a flush waits
 * for an empty ring). Returns true when it notified.
 */
export function consumerRelease(control: Int32Array, tail: number, head: number): boolean {
  Atomics.store(control, RING_TAIL, tail);
  // after the store (sequentially consistent): a producer that set WAITING before reading TAIL either
  // saw this TAIL or is seen waiting here
  if (tail === head || (Atomics.load(control, RING_WAITING) !== 0 && tailReached(tail, Atomics.load(control, RING_WAKE_AT)))) {
    Atomics.notify(control, RING_TAIL);
    return true;
  }
  return false;
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
  /** Times the producer was woken by the consumer's notify while it slept for space. */
  wakeups = 0;

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

  /** Bytes a reservation of `bytes` needs free now: the frame, plus the WRAP gap when it does not fit before the end. */
  private needFor(bytes: number): number {
    const contiguous = this.views.capacity - (this.head & this.views.mask);
    return bytes <= contiguous ? bytes : contiguous + bytes;
  }

  /** Ask the consumer for a wake-up once the low-water mark for `bytes` is free; returns that mark. */
  private sleepFor(bytes: number): number {
    const { capacity, control } = this.views;
    const want = lowWaterBytes(capacity, this.needFor(bytes));
    Atomics.store(control, RING_WAKE_AT, wakeTail(this.head, want, capacity));
    Atomics.store(control, RING_WAITING, 1);
    return want;
  }

  private awake(): void {
    Atomics.store(this.views.control, RING_WAITING, 0);
  }

  /**
   * Wait for space for up to `maxBlockMs`, blocking this thread in `Atomics.wait` (a futex: woken
   * within microseconds by the consumer's notify). `Atomics.waitAsync` would keep the event loop free,
   * but its wake-up goes through the event loop and takes a fraction of a millisecond to several
   * milliseconds: long enough for the consumer to drain the whole ring and idle. So the sender
   * blocks for short waits and only falls back to waitAsync (in `reserve`) for long ones. It sleeps
   * until the low-water mark is free (`lowWaterBytes`), then reserves.
   * Returns the slot, or -1 when there is still no space (or the ring is closed).
   */
  blockingReserve(bytes: number, maxBlockMs: number): number {
    const pos = this.tryReserve(bytes);
    if (pos >= 0) return pos;
    const started = performance.now();
    const until = started + maxBlockMs;
    const want = this.sleepFor(bytes);
    try {
      for (let now = started; now < until; now = performance.now()) {
        if (this.views.closed()) break;
        this.tailSeen = Atomics.load(this.views.control, RING_TAIL); // after WAITING is set (consumerRelease)
        if (this.free() >= want) break;
        if (Atomics.wait(this.views.control, RING_TAIL, this.tailSeen, until - now) === 'ok') this.wakeups++;
      }
    } finally {
      this.awake();
      this.waitMs += performance.now() - started;
    }
    return this.tryReserve(bytes);
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
      this.sleepFor(bytes);
      this.tailSeen = Atomics.load(this.views.control, RING_TAIL);
      const r = Atomics.waitAsync(this.views.control, RING_TAIL, this.tailSeen, 100);
      if (r.async) {
        // a pending waitAsync does not keep a thread's event loop alive (Node 20): a worker with nothing
        // else to do would exit with code 13 mid-wait. The timer holds it until the wait is over; it must
        // outlast the wait's own 100 ms timeout, which may be delivered after a timer of the same length
        const hold = setTimeout(() => undefined, 60_000);
        await r.value;
        clearTimeout(hold);
      }
      this.awake();
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
