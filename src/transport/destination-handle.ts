/**
 * The main thread's handle on the destination worker: starts it, hands it the ring and the
 * destination RAM blocks, waits for its resume, and turns a crash or a refused frame into an error.
 */
import type { Worker } from 'node:worker_threads';
import { MigbenchError, type ErrorCode } from '../errors.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import type { FaultData } from '../faults.ts';
import { startWorker } from '../threads.ts';
import {
  DEST_CONTROL_BYTES, DEST_FAILED, DEST_POSTCOPY, DEST_POSTCOPY_PAUSED, DEST_READY, DEST_RESUMED, D_COMPLETED_AT_F64, D_DROPPED_PAGES_F64, D_LINK_DOWN_AT_F64, D_LOST_FRAMES_F64,
  D_LOST_PAGES_F64, D_PAGES_F64, D_PAUSED_AT_F64, D_RECOVERED_AT_F64, D_RESUMED_AT_F64, D_STATE, D_WAIT_MS_F64, D_ZERO_PAGES_F64,
  type DestinationWorkerData,
} from './destination.ts';
import { RING_HEAD, RING_TAIL, RingProducer, RingViews, type RingShared } from './ring.ts';
import { DEFAULT_STALL_LIMIT_MS, StallWatch } from './stall-watch.ts';

export class DestinationHandle {
  readonly producer: RingProducer;
  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly controlF64: Float64Array;
  private failure: MigbenchError | null = null;
  private exited = false;
  /** resolves at the worker's 'exit' (its last message, if any, has arrived by then) */
  private readonly exitedPromise: Promise<void>;

  /** notices a destination that stopped taking frames (hung, not dead: a dead one says so) */
  private readonly stallWatch: StallWatch;

  private constructor(worker: Worker, ring: RingShared, control: SharedArrayBuffer, stallLimitMs: number) {
    this.worker = worker;
    this.stallWatch = new StallWatch(stallLimitMs);
    this.producer = new RingProducer(new RingViews(ring));
    this.control = new Int32Array(control);
    this.controlF64 = new Float64Array(control);
    this.exitedPromise = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: { type: string; code?: string; message?: string }) => {
      if (m.type === 'error') this.fail(new MigbenchError((m.code as ErrorCode) ?? 'E_WORKER', `destination: ${m.message}`));
    });
    worker.on('error', (e) => this.fail(new MigbenchError('E_WORKER', `destination worker crashed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => {
      this.exited = true;
      if (code !== 0 && Atomics.load(this.control, D_STATE) !== DEST_RESUMED) {
        this.fail(new MigbenchError('E_WORKER', `destination worker exited with code ${code}`));
      }
    });
  }

  private fail(error: MigbenchError): void {
    if (this.failure === null) this.failure = error;
    this.producer.views.close(); // wakes a producer waiting for space
    Atomics.notify(this.control, D_STATE);
  }

  /** The reason the destination can no longer take frames, or null. */
  readonly closedReason = (): string | null => {
    this.checkStall();
    return this.failure?.message ?? null;
  };

  /**
   * Fail the destination when it holds unread frames and has taken none of them for the stall limit
   * (a hung worker: it will never say so itself). Cheap: two shared words and a clock reading.
   * Whoever waits on the destination calls it: the sender waiting for ring space, the resume wait,
   * and the channels' flushes.
   */
  checkStall(): void {
    if (this.failure !== null || this.exited) return;
    const c = this.producer.views.control;
    if (this.stallWatch.stalled(Atomics.load(c, RING_HEAD), Atomics.load(c, RING_TAIL))) {
      this.fail(new MigbenchError('E_WORKER', `destination: took no frame for ${Math.round(this.stallWatch.stalledForMs() / 1000)} s with frames waiting (the worker is hung)`));
    }
  }

  get error(): MigbenchError | null {
    return this.failure;
  }

  static async start(options: {
    ring: RingShared;
    memory: GuestMemory;
    deviceState: SharedArrayBuffer;
    latencyMs: number;
    /** post-copy's received bitmap, when post-copy may happen */
    received?: SharedArrayBuffer;
    /** post-copy recovery: where the destination answers with its received bitmap (postcopy.recovery) */
    recoveryReply?: SharedArrayBuffer;
    /** the stream may carry zstd-compressed frames */
    zstd?: boolean;
    /** tests only: this destination dies on purpose (src/faults.ts) */
    fault?: FaultData;
    /** how long unread frames may wait untouched before the destination counts as hung (default 30 s, plus the latency) */
    stallLimitMs?: number;
  }): Promise<DestinationHandle> {
    const control = new SharedArrayBuffer(DEST_CONTROL_BYTES);
    const data: DestinationWorkerData = {
      ring: options.ring,
      memory: options.memory.shared(),
      deviceState: options.deviceState,
      control,
      latencyMs: options.latencyMs,
      zstd: options.zstd === true,
      ...(options.received ? { received: options.received } : {}),
      ...(options.recoveryReply ? { recoveryReply: options.recoveryReply } : {}),
      ...(options.fault ? { fault: options.fault } : {}),
    };
    const stallLimitMs = (options.stallLimitMs ?? DEFAULT_STALL_LIMIT_MS) + options.latencyMs; // it holds each frame for the latency
    const handle = new DestinationHandle(await startWorker('destination', data), options.ring, control, stallLimitMs);
    try {
      await handle.waitState((s) => s !== 0, 30_000, 'destination worker did not start');
      if (Atomics.load(handle.control, D_STATE) !== DEST_READY) throw handle.failure ?? new MigbenchError('E_WORKER', 'destination worker failed to start');
    } catch (error) {
      await handle.stop(); // a worker that failed to start does not stay behind
      throw error;
    }
    return handle;
  }

  private async waitState(done: (state: number) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.checkStall();
      const state = Atomics.load(this.control, D_STATE);
      if (done(state) || state === DEST_FAILED || this.failure) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new MigbenchError('E_WORKER', `${what} within ${timeoutMs} ms`);
      const r = Atomics.waitAsync(this.control, D_STATE, state, Math.min(left, 100));
      if (r.async) await r.value;
    }
  }

  /** Wait for the destination to apply END and resume; returns the absolute resume time (ms). */
  async awaitResume(timeoutMs = 600_000): Promise<number> {
    await this.waitState((s) => s === DEST_RESUMED, timeoutMs, 'destination did not resume');
    if (this.failure) throw this.failure;
    // FAILED in shared memory, its message not here yet: never take that for a resume
    if (Atomics.load(this.control, D_STATE) !== DEST_RESUMED) throw (await this.settledError()) ?? new MigbenchError('E_WORKER', 'destination failed');
    return this.controlF64[D_RESUMED_AT_F64];
  }

  /** Post-copy: wait until the destination runs the guest (POSTCOPY_RUN applied); the absolute resume time (ms). */
  async awaitPostcopyRunning(timeoutMs = 600_000): Promise<number> {
    const running = (s: number): boolean => s === DEST_POSTCOPY || s === DEST_POSTCOPY_PAUSED || s === DEST_RESUMED;
    await this.waitState(running, timeoutMs, 'destination did not start post-copy');
    if (this.failure) throw this.failure;
    if (!running(Atomics.load(this.control, D_STATE))) throw (await this.settledError()) ?? new MigbenchError('E_WORKER', 'destination failed');
    return this.controlF64[D_RESUMED_AT_F64];
  }

  /** Post-copy recovery: the link goes down at this absolute time (ms); before the first frame. */
  setLinkDownAt(absoluteMs: number): void {
    this.controlF64[D_LINK_DOWN_AT_F64] = absoluteMs;
  }

  /**
   * Post-copy recovery, after END: 'resumed' once the destination applied it (every page placed), or
   * 'paused' when it lost END (or more) in flight to the link outage and waits for POSTCOPY_RESUME.
   */
  async awaitEndOrPause(timeoutMs = 600_000): Promise<'resumed' | 'paused'> {
    await this.waitState((s) => s === DEST_RESUMED || s === DEST_POSTCOPY_PAUSED, timeoutMs, 'destination did not resume');
    if (this.failure) throw this.failure;
    const s = Atomics.load(this.control, D_STATE);
    if (s === DEST_RESUMED) return 'resumed';
    if (s === DEST_POSTCOPY_PAUSED) return 'paused';
    throw (await this.settledError()) ?? new MigbenchError('E_WORKER', 'destination failed');
  }

  /** Post-copy recovery: wait until the destination applied POSTCOPY_RESUME and answered with its received bitmap; the absolute time it did (ms). */
  async awaitRecovered(timeoutMs = 600_000): Promise<number> {
    await this.waitState((s) => (s === DEST_POSTCOPY && this.controlF64[D_RECOVERED_AT_F64] > 0) || s === DEST_RESUMED, timeoutMs, 'destination did not answer the post-copy resume');
    if (this.failure) throw this.failure;
    if (!(this.controlF64[D_RECOVERED_AT_F64] > 0)) throw (await this.settledError()) ?? new MigbenchError('E_WORKER', 'destination failed');
    return this.controlF64[D_RECOVERED_AT_F64];
  }

  /** Post-copy recovery: what the destination saw of the outage (absolute ms; 0 when it did not happen). */
  get outage(): { pausedAtMs: number; recoveredAtMs: number; lostFrames: number; lostPages: number } {
    const f = this.controlF64;
    return { pausedAtMs: f[D_PAUSED_AT_F64], recoveredAtMs: f[D_RECOVERED_AT_F64], lostFrames: f[D_LOST_FRAMES_F64], lostPages: f[D_LOST_PAGES_F64] };
  }

  /** Post-copy: the absolute time the destination applied END (every page placed); after awaitResume. */
  get completedAtMs(): number {
    return this.controlF64[D_COMPLETED_AT_F64];
  }
  /** Post-copy: pages that arrived after the guest had them already (dropped); after awaitResume. */
  get droppedPages(): number {
    return this.controlF64[D_DROPPED_PAGES_F64];
  }

  /**
   * The destination's failure, once its own message has arrived: a destination marks itself FAILED in
   * shared memory before its message crosses the event loop, so this waits (at most `maxMs`) for its exit.
   * Null when it has not failed.
   */
  async settledError(maxMs = 2000): Promise<MigbenchError | null> {
    if (this.failure !== null || Atomics.load(this.control, D_STATE) !== DEST_FAILED) return this.failure;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exitedPromise, new Promise((r) => (timer = setTimeout(r, maxMs)))]);
    clearTimeout(timer);
    return this.failure ?? new MigbenchError('E_WORKER', 'destination failed without a word');
  }

  get pagesApplied(): number {
    return this.controlF64[D_PAGES_F64];
  }
  /** ms the destination spent waiting for frames (it was idle, or held a frame for the latency) */
  get waitMs(): number {
    return this.controlF64[D_WAIT_MS_F64];
  }
  get zeroPagesApplied(): number {
    return this.controlF64[D_ZERO_PAGES_F64];
  }

  /** Stop the worker (after END it has returned already; on cancel the ring is closed first). */
  async stop(): Promise<void> {
    this.producer.views.close();
    if (!this.exited) await this.worker.terminate();
  }
}
