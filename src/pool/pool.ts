/**
 * Simulate-mode runs fanned out over threads (`sweep`, `tune` and `suite` with `--mode simulate
 * --jobs N`). A task is one scenario simulated (simulateScenario) and reduced to what its caller
 * keeps — a sweep run's figures or a suite run's metrics — so only small objects cross threads. With
 * one job (or one task) the tasks run in this thread, one after the other, and no pool starts. Each
 * task is deterministic and independent of the others, so the results, returned in task order, are
 * the same whatever the number of threads.
 *
 * The pool is piscina's: its workers start from workers/boot.mjs, which registers tsx and re-exports
 * the default export of workers/sim.ts (Node 20 cannot start a worker from a .ts file: DESIGN §8).
 * Workers wait for tasks with `atomics: 'sync'` (piscina's default): nothing needs to run in a worker
 * between tasks.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { MigbenchError, type ErrorCode } from '../errors.ts';
import type { Scenario } from '../options.ts';
import type { Method } from '../results/document.ts';
import { metricsOf, type MetricValue } from '../results/suite-metrics.ts';
import { runFigures, type SweepRun } from '../results/sweep-figures.ts';
import { simulateScenario } from '../sim/run-simulated.ts';

const BOOT = fileURLToPath(new URL('../../workers/boot.mjs', import.meta.url));
const ENTRY = new URL('../../workers/sim.ts', import.meta.url).href;

/** What a task keeps of its document. */
export interface Reductions {
  'sweep-run': SweepRun;
  'suite-metrics': Record<string, MetricValue>;
}
export type Reduce = keyof Reductions;

export interface SimTask<R extends Reduce = Reduce> {
  /** the resolved scenario (a plain object: it crosses to a worker by structured clone) */
  scenario: Scenario;
  methods: Method[];
  reduce: R;
}

/** A worker's answer: the value, or the error's code and message (an Error's class does not survive the thread boundary). */
export type SimReply = { ok: true; value: Reductions[Reduce] } | { ok: false; code: ErrorCode | null; message: string };

/** Run one task in this thread. */
export async function simulateTask<R extends Reduce>(task: SimTask<R>, signal?: AbortSignal): Promise<Reductions[R]> {
  const doc = await simulateScenario(task.scenario, { methods: task.methods, signal });
  return (task.reduce === 'sweep-run' ? runFigures(doc) : metricsOf(doc)) as Reductions[R];
}

/** Run one task and never throw: what a worker does (workers/sim.ts). */
export async function simulateTaskReply(task: SimTask): Promise<SimReply> {
  try {
    return { ok: true, value: await simulateTask(task) };
  } catch (error) {
    if (error instanceof MigbenchError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: null, message: (error as Error)?.stack ?? String(error) };
  }
}

/** `--jobs` when none is given: the CPUs this process may use. */
export function defaultJobs(): number {
  return os.availableParallelism();
}

export interface SimulateTasksOptions<R extends Reduce> {
  /** threads to run tasks on; 1 runs them in this thread */
  jobs: number;
  signal?: AbortSignal;
  /** each task as it finishes (in completion order, which with several threads is not task order) */
  onResult?: (index: number, value: Reductions[R]) => void;
}

const interrupted = (): MigbenchError => new MigbenchError('E_INTERRUPTED', 'interrupted');

/** Simulate every task, on up to `jobs` threads; the values in task order. */
export async function simulateTasks<R extends Reduce>(tasks: readonly SimTask<R>[], options: SimulateTasksOptions<R>): Promise<Reductions[R][]> {
  const { signal, onResult } = options;
  const threads = Math.max(1, Math.min(options.jobs, tasks.length));
  if (threads === 1) {
    const out: Reductions[R][] = [];
    for (const [i, task] of tasks.entries()) {
      // a simulation resolves through microtasks only: turn the event loop, so a Ctrl-C (SIGINT
      // listener) is seen between tasks
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw interrupted();
      const value = await simulateTask(task, signal); // a long one stops at its next break (E_INTERRUPTED)
      out.push(value);
      onResult?.(i, value);
    }
    if (signal?.aborted) throw interrupted();
    return out;
  }
  const pool = new Piscina<SimTask<R>, SimReply>({
    filename: BOOT,
    workerData: { entry: ENTRY },
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  const onAbort = (): void => void pool.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw interrupted();
    return await Promise.all(
      tasks.map(async (task, i) => {
        let reply: SimReply;
        try {
          reply = await pool.run(task);
        } catch (error) {
          if (signal?.aborted) throw interrupted();
          throw new MigbenchError('E_WORKER', `a simulation thread failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        }
        if (!reply.ok) throw new MigbenchError(reply.code ?? 'E_WORKER', reply.message);
        onResult?.(i, reply.value as Reductions[R]);
        return reply.value as Reductions[R];
      }),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
  }
}
