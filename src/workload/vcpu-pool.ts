/**
 * The main thread's side of the vCPUs: starts `guest.vcpus` workers that dirty the guest, and pauses
 * (waiting for every acknowledgement), resumes, throttles and stops them through the control block.
 */
import type { Worker } from 'node:worker_threads';
import { MigbenchError } from '../errors.ts';
import {
  CMD, CMD_PAUSE, CMD_RUN, CMD_STOP, DIRTY_LIMIT, FAULT_ARMED, STATE_BASE, STATE_EXITED, STATE_PAUSED, STATE_RUNNING, STATE_STARTING,
  THROTTLE_PCT, createVcpuControl, runningMsIndex, writesIndex, type VcpuControlShared,
} from '../memory/control.ts';
import type { GuestMemory } from '../memory/guest-memory.ts';
import { faultFor, type WorkerFault } from '../faults.ts';
import { startWorker } from '../threads.ts';
import type { PatternSpec } from './patterns.ts';
import { deriveSeed } from './rng.ts';
import type { VcpuWorkerData } from './vcpu-loop.ts';
import type { PostcopyShared } from '../memory/postcopy-shared.ts';

/** How long a pause or a resume waits for every vCPU's acknowledgement, unless told otherwise. */
const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export interface VcpuRates {
  /** page writes per second each vCPU achieved over its running time */
  readonly perVcpuPagesPerSec: readonly number[];
  readonly totalPagesPerSec: number;
  readonly totalWrites: number;
}

export class VcpuPool {
  readonly control: VcpuControlShared;
  private readonly ctrl: Int32Array;
  private readonly counters: Float64Array;
  private readonly workers: Worker[];
  /** one per worker: resolves at its 'exit' (whenever that came: a dead vCPU has exited long before stop()) */
  private readonly exited: Promise<void>[];
  private failure: MigbenchError | null = null;
  private readonly ackTimeoutMs: number;

  private constructor(control: VcpuControlShared, workers: Worker[], ackTimeoutMs: number) {
    this.ackTimeoutMs = ackTimeoutMs;
    this.control = control;
    this.ctrl = new Int32Array(control.words);
    this.counters = new Float64Array(control.counters);
    this.workers = workers;
    this.exited = workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    workers.forEach((w, i) => {
      w.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'error') this.fail(new MigbenchError('E_WORKER', `vCPU ${i}: ${m.message}`));
      });
      w.on('error', (e) => this.fail(new MigbenchError('E_WORKER', `vCPU ${i} crashed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => {
        if (Atomics.load(this.ctrl, STATE_BASE + i) !== STATE_EXITED) {
          Atomics.store(this.ctrl, STATE_BASE + i, STATE_EXITED);
          Atomics.notify(this.ctrl, STATE_BASE + i);
          if (Atomics.load(this.ctrl, CMD) !== CMD_STOP) this.fail(new MigbenchError('E_WORKER', `vCPU ${i} exited unexpectedly with code ${code}`));
        }
      });
    });
  }

  private fail(error: MigbenchError): void {
    if (this.failure === null) this.failure = error;
  }

  get error(): MigbenchError | null {
    return this.failure;
  }

  get vcpuCount(): number {
    return this.control.vcpuCount;
  }

  static async start(options: {
    memory: GuestMemory;
    dirtyLog: SharedArrayBuffer;
    vcpus: number;
    pattern: PatternSpec;
    dirtyRatePagesPerSec: number;
    writeBytes: number;
    seed: number;
    /** page reads per second, all vCPUs together (workload.readRate; default 0) */
    readRatePagesPerSec?: number;
    /** post-copy's shared memory, when post-copy may happen */
    postcopy?: PostcopyShared | null;
    /** tests only: one vCPU dies on purpose once a migration arms it (src/faults.ts) */
    fault?: WorkerFault;
    /** how long pause() and resume() wait for every vCPU's acknowledgement (default 10 s; tests shorten it) */
    ackTimeoutMs?: number;
  }): Promise<VcpuPool> {
    const control = createVcpuControl(options.vcpus);
    const workers: Worker[] = [];
    for (let i = 0; i < options.vcpus; i++) {
      const data: VcpuWorkerData = {
        memory: options.memory.shared(),
        dirtyLog: options.dirtyLog,
        control,
        index: i,
        pattern: options.pattern,
        ratePagesPerSec: options.dirtyRatePagesPerSec / options.vcpus,
        writeBytes: options.writeBytes,
        seed: deriveSeed(options.seed, 1000 + i),
      };
      const reads = options.readRatePagesPerSec ?? 0;
      if (reads > 0) {
        data.readRatePagesPerSec = reads / options.vcpus;
        data.readSeed = deriveSeed(options.seed, 2000 + i);
      }
      if (options.postcopy) data.postcopy = options.postcopy.forVcpu(i);
      const fault = faultFor(options.fault, 'vcpu', i);
      if (fault) data.fault = fault;
      workers.push(await startWorker('vcpu', data));
    }
    const pool = new VcpuPool(control, workers, options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
    try {
      await pool.waitAll((s) => s !== STATE_STARTING, 30_000, 'vCPU workers did not start');
    } catch (error) {
      await pool.stop(); // the ones that did start do not stay behind
      throw error;
    }
    return pool;
  }

  /**
   * Wait until every vCPU's state passes `done` or it has exited. Throws the pool's failure, unless
   * `afterFailure` (resuming the living vCPUs after a failed migration: a dead one stays dead).
   */
  private async waitAll(done: (state: number) => boolean, timeoutMs: number, what: string, afterFailure = false): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (let i = 0; i < this.vcpuCount; i++) {
      for (;;) {
        if (this.failure && !afterFailure) throw this.failure;
        const state = Atomics.load(this.ctrl, STATE_BASE + i);
        if (done(state) || state === STATE_EXITED) break;
        const left = deadline - performance.now();
        if (left <= 0) throw new MigbenchError('E_WORKER', `${what} within ${timeoutMs} ms (vCPU ${i})`);
        const r = Atomics.waitAsync(this.ctrl, STATE_BASE + i, state, Math.min(left, 100));
        if (r.async) await r.value;
      }
    }
    if (this.failure && !afterFailure) throw this.failure;
  }

  /** Tests only (src/faults.ts): a migration starts; a vCPU given a fault counts its writes from now. */
  armFault(): void {
    Atomics.store(this.ctrl, FAULT_ARMED, 1);
  }

  /** Ask every vCPU to pause; resolves once each has acknowledged (no write in flight). */
  async pause(timeoutMs = this.ackTimeoutMs): Promise<void> {
    Atomics.store(this.ctrl, CMD, CMD_PAUSE);
    Atomics.notify(this.ctrl, CMD);
    await this.waitAll((s) => s === STATE_PAUSED, timeoutMs, 'vCPUs did not acknowledge the pause');
  }

  /**
   * Let every living vCPU run again and wait for each to acknowledge. After a failure (a vCPU died) the
   * others still resume (the guest stays on the source); only a vCPU that does not answer throws.
   */
  async resume(timeoutMs = this.ackTimeoutMs): Promise<void> {
    Atomics.store(this.ctrl, CMD, CMD_RUN);
    Atomics.notify(this.ctrl, CMD);
    await this.waitAll((s) => s === STATE_RUNNING, timeoutMs, 'vCPUs did not resume', true);
  }

  /** Some vCPU is paused (after a failed stop-and-copy: the living ones, while a dead one has exited). */
  isAnyPaused(): boolean {
    for (let i = 0; i < this.vcpuCount; i++) if (Atomics.load(this.ctrl, STATE_BASE + i) === STATE_PAUSED) return true;
    return false;
  }

  isPaused(): boolean {
    for (let i = 0; i < this.vcpuCount; i++) if (Atomics.load(this.ctrl, STATE_BASE + i) !== STATE_PAUSED) return false;
    return true;
  }

  /** Percentage (0..99) of each 100 ms window every vCPU spends not writing (convergence aids). */
  setThrottle(percent: number): void {
    Atomics.store(this.ctrl, THROTTLE_PCT, Math.max(0, Math.min(99, Math.round(percent))));
  }

  get throttlePercent(): number {
    return Atomics.load(this.ctrl, THROTTLE_PCT);
  }

  /** Cap every vCPU at this many page writes per second (QEMU dirty-limit); 0 lifts the cap. */
  setDirtyLimit(pagesPerSecPerVcpu: number): void {
    Atomics.store(this.ctrl, DIRTY_LIMIT, Math.max(0, Math.round(pagesPerSecPerVcpu)));
  }

  /** Page writes so far, all vCPUs together. */
  totalWrites(): number {
    let n = 0;
    for (let i = 0; i < this.vcpuCount; i++) n += this.counters[writesIndex(i)];
    return n;
  }

  rates(): VcpuRates {
    const per: number[] = [];
    let writes = 0;
    for (let i = 0; i < this.vcpuCount; i++) {
      const w = this.counters[writesIndex(i)];
      const ms = this.counters[runningMsIndex(i, this.vcpuCount)];
      writes += w;
      per.push(ms > 0 ? (w * 1000) / ms : 0);
    }
    return { perVcpuPagesPerSec: per, totalPagesPerSec: per.reduce((a, b) => a + b, 0), totalWrites: writes };
  }

  /** Stop every vCPU: each leaves its loop, or is terminated after 5 s (a hung one); a dead one already has. */
  async stop(): Promise<void> {
    Atomics.store(this.ctrl, CMD, CMD_STOP);
    Atomics.notify(this.ctrl, CMD);
    await Promise.all(
      this.workers.map((w, i) => {
        let timer: NodeJS.Timeout | undefined;
        const terminated = new Promise<void>((resolve) => {
          timer = setTimeout(() => void w.terminate().then(() => resolve(), () => resolve()), 5_000);
        });
        return Promise.race([this.exited[i], terminated]).finally(() => clearTimeout(timer));
      }),
    );
  }
}

