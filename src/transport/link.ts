/**
 * The emulated link: a rate limit (token bucket) and a bandwidth meter, both on an injected clock.
 *
 * `RateLimiter` paces bytes so that, over any stretch longer than its burst, no more than
 * `rateBytesPerSec` leave. Each `book(bytes)` reserves the link for bytes/rate seconds after whatever
 * is already booked and returns how long the sender must wait before handing the bytes over (0 while
 * the booking stays within `burstMs` of now). Because bookings are on an absolute timeline, a late
 * wake-up is absorbed by the next bookings instead of lowering the rate.
 */
import type { Clock } from '../clock.ts';

export const DEFAULT_BURST_MS = 10;

export class RateLimiter {
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
