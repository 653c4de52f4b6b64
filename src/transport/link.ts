/**
 * The emulated link: a rate limit (token bucket) and a bandwidth meter, both on an injected clock.
 *
 * `RateLimiter` paces bytes so that, over any stretch longer than its burst, no more than
 * `rateBytesPerSec` leave. Each `book(bytes)` reserves the link for bytes/rate seconds after whatever
 * is already booked and returns how long the sender must wait before handing the bytes over (0 while
 * the booking stays within `burstMs` of now). Because bookings are on an absolute timeline, a late
 * wake-up is absorbed by the next bookings instead of lowering the rate.
 */
import { absoluteNowMs, type Clock } from '../clock.ts';

export const DEFAULT_BURST_MS = 10;

/** What a sender needs of the link's rate limit (one thread's `RateLimiter`, or the lanes' shared one). */
export interface LinkBudget {
  readonly rateBytesPerSec: number;
  setRate(rateBytesPerSec: number): void;
  /** Book `bytes` on the link; returns the milliseconds to wait before sending them (>= 0). */
  book(bytes: number): number;
}

export class RateLimiter implements LinkBudget {
  private rate: number;
  private nextFreeMs = -Infinity;
  private readonly clock: Clock;
  private readonly burstMs: number;

  constructor(clock: Clock, rateBytesPerSec: number, burstMs = DEFAULT_BURST_MS) {
    this.clock = clock;
    this.rate = rateBytesPerSec;
    this.burstMs = burstMs;
  }

  get rateBytesPerSec(): number {
    return this.rate;
  }

  /** Change the rate from now on (QEMU lifts `max-bandwidth` for the stop-and-copy). */
  setRate(rateBytesPerSec: number): void {
    this.rate = rateBytesPerSec;
    this.nextFreeMs = Math.min(this.nextFreeMs, this.clock.nowMs());
  }

  /** Book `bytes` on the link; returns the milliseconds to wait before sending them (>= 0). */
  book(bytes: number): number {
    if (this.rate === Infinity) return 0;
    const now = this.clock.nowMs();
    const start = Math.max(now, this.nextFreeMs);
    this.nextFreeMs = start + (bytes * 1000) / this.rate;
    const wait = this.nextFreeMs - now - this.burstMs;
    return wait > 0 ? wait : 0;
  }
}

/** The shareable part of a `SharedRateLimiter` (crosses to channel workers in workerData). */
export interface SharedLinkBudget {
  /** BigInt64 [0]: next free time, ns after `originMs` (CAS by every booking thread); Float64 [1]: rate, bytes/s (written by the migration thread only) */
  readonly buffer: SharedArrayBuffer;
  /** absolute ms (absoluteNowMs) the ns counter starts from */
  readonly originMs: number;
  readonly burstMs: number;
}

const NEXT_FREE = 0;
const RATE = 1;

/**
 * The token bucket of `RateLimiter`, shared by threads: one timeline of bookings in a SharedArrayBuffer,
 * so parallel channels together never exceed the link's rate. A booking is a compare-and-swap of the
 * next free time (nanoseconds from a common origin, in a BigInt64 word: lock-free, exact, no spinning
 * on a lock a descheduled thread holds); time is the absolute wall clock every thread reads alike.
 */
export class SharedRateLimiter implements LinkBudget {
  readonly shared: SharedLinkBudget;
  private readonly next: BigInt64Array;
  private readonly rate: Float64Array;
  private readonly now: () => number;

  private constructor(shared: SharedLinkBudget, now: () => number) {
    this.shared = shared;
    this.next = new BigInt64Array(shared.buffer);
    this.rate = new Float64Array(shared.buffer);
    this.now = now;
  }

  static create(rateBytesPerSec: number, burstMs = DEFAULT_BURST_MS, now: () => number = absoluteNowMs): SharedRateLimiter {
    const shared: SharedLinkBudget = { buffer: new SharedArrayBuffer(16), originMs: now(), burstMs };
    const limiter = new SharedRateLimiter(shared, now);
    limiter.next[NEXT_FREE] = -(2n ** 62n);
    limiter.rate[RATE] = rateBytesPerSec;
    return limiter;
  }

  static attach(shared: SharedLinkBudget, now: () => number = absoluteNowMs): SharedRateLimiter {
    return new SharedRateLimiter(shared, now);
  }

  get rateBytesPerSec(): number {
    return this.rate[RATE];
  }

  private nowNs(): bigint {
    return BigInt(Math.round((this.now() - this.shared.originMs) * 1e6));
  }

  /** Change the rate from now on; bookings already made beyond now are pulled back to now, as RateLimiter does. */
  setRate(rateBytesPerSec: number): void {
    this.rate[RATE] = rateBytesPerSec;
    const now = this.nowNs();
    for (;;) {
      const cur = Atomics.load(this.next, NEXT_FREE);
      if (cur <= now || Atomics.compareExchange(this.next, NEXT_FREE, cur, now) === cur) return;
    }
  }

  book(bytes: number): number {
    const rate = this.rate[RATE];
    if (rate === Infinity) return 0;
    const now = this.nowNs();
    const cost = BigInt(Math.round((bytes * 1e9) / rate));
    for (;;) {
      const cur = Atomics.load(this.next, NEXT_FREE);
      const next = (cur > now ? cur : now) + cost;
      if (Atomics.compareExchange(this.next, NEXT_FREE, cur, next) === cur) {
        const wait = Number(next - now) / 1e6 - this.shared.burstMs;
        return wait > 0 ? wait : 0;
      }
    }
  }
}

/**
 * Measures the transfer rate the way QEMU's `migration_update_counters` does: over windows of at
 * least `windowMs` (100 ms, QEMU's BUFFER_DELAY), reporting 0 until the first window closes (so no
 * switchover can happen on a guess). `closeFirstWindow()` lets the loop close that first window early,
 * at the end of a bulk round shorter than 100 ms, so a small guest on a fast link is not held in
 * rounds that only wait for the clock.
 */
export class BandwidthMeter {
  static readonly WINDOW_MS = 100;
  private readonly clock: Clock;
  private readonly windowMs: number;
  private windowStartMs: number;
  private windowStartBytes = 0;
  private bytes = 0;
  private lastRate = -1;

  constructor(clock: Clock, windowMs = BandwidthMeter.WINDOW_MS) {
    this.clock = clock;
    this.windowMs = windowMs;
    this.windowStartMs = clock.nowMs();
  }

  add(bytes: number): void {
    this.bytes += bytes;
    this.roll(this.clock.nowMs());
  }

  get totalBytes(): number {
    return this.bytes;
  }

  private roll(now: number): void {
    const elapsed = now - this.windowStartMs;
    if (elapsed >= this.windowMs) {
      this.lastRate = ((this.bytes - this.windowStartBytes) * 1000) / elapsed;
      this.windowStartMs = now;
      this.windowStartBytes = this.bytes;
    }
  }

  /** True once a window has closed (a measured rate exists). */
  get measured(): boolean {
    return this.lastRate >= 0;
  }

  /** Close the first window now if none has closed yet and it holds bytes and time. */
  closeFirstWindow(): void {
    if (this.lastRate >= 0) return;
    const now = this.clock.nowMs();
    const elapsed = now - this.windowStartMs;
    if (elapsed > 0 && this.bytes > 0) {
      this.lastRate = ((this.bytes - this.windowStartBytes) * 1000) / elapsed;
      this.windowStartMs = now;
      this.windowStartBytes = this.bytes;
    }
  }

  /** Bytes per second of the last closed window; 0 until one has closed. */
  bytesPerSec(): number {
    this.roll(this.clock.nowMs());
    return this.lastRate >= 0 ? this.lastRate : 0;
  }
}
