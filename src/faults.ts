/**
 * TESTS ONLY: make one worker die on purpose in the middle of a migration, to prove that every fault
 * ends as an `errored` outcome naming the worker, with the source intact and no worker left running.
 *
 * Not a scenario key (unknown scenario keys are refused): a library caller passes `fault` in
 * MigrateOptions / RunOptions (and to createGuest for a vCPU); the CLI reads the environment variable
 * MIGBENCH_TEST_FAULT in one place (src/cli/run.ts), for the CLI's exit-code tests:
 *
 *   MIGBENCH_TEST_FAULT=<worker>[<index>]:<throw|exit|hang>:<after=N|stop-and-copy>
 *   e.g. vcpu1:exit:after=500   destination:throw:after=200   channel0:exit:stop-and-copy
 *
 * The target worker alone receives its `FaultData` in workerData; the others get nothing, so a run
 * without a fault pays one `undefined` check per unit of work (vCPU: per chunk of writes, destination:
 * per frame, channel: per packet), nothing per page.
 */
import { MigbenchError } from './errors.ts';

export type FaultWorker = 'vcpu' | 'destination' | 'channel';

/**
 * When the worker dies: `after` N units of its work, or `'stop-and-copy'`.
 * - vCPU: N page writes counted from the migration's start (the pool arms the fault then); at the
 *   stop-and-copy: when asked to pause, instead of acknowledging (quick migration's pause too).
 * - destination (the main stream's): N pages applied; at the stop-and-copy: on the device-state frame.
 * - channel: when about to take its packet number N (0-based); at the stop-and-copy: its first packet of it.
 */
export type FaultAt = number | 'stop-and-copy';

/**
 * How it dies: `throw` an error (the worker reports it and ends), `exit` (process.exit: no word), or
 * `hang` (it stops answering, blocked in Atomics.wait for good: only terminate() ends it).
 */
export type FaultAction = 'throw' | 'exit' | 'hang';

export interface WorkerFault {
  readonly worker: FaultWorker;
  /** vCPU or channel number, 0-based (ignored for the destination) */
  readonly index?: number;
  readonly action: FaultAction;
  readonly at: FaultAt;
}

/** What the target worker receives in workerData. */
export interface FaultData {
  readonly action: FaultAction;
  readonly at: FaultAt;
}

/** The exit code of a worker that dies by `exit` (distinct from Node's own 1). */
export const FAULT_EXIT_CODE = 86;

/** The fault's data for this worker, or undefined when the fault is another worker's (or none). */
export function faultFor(fault: WorkerFault | undefined, worker: FaultWorker, index = 0): FaultData | undefined {
  if (fault === undefined || fault.worker !== worker) return undefined;
  if (worker !== 'destination' && (fault.index ?? 0) !== index) return undefined;
  return { action: fault.action, at: fault.at };
}

/** Inside the target worker: die as told. `what` says where, e.g. "after 200 pages applied". */
export function injectFault(fault: FaultData, what: string): never {
  if (fault.action === 'exit') process.exit(FAULT_EXIT_CODE); // in a worker thread: ends that thread only
  if (fault.action === 'hang') for (const word = new Int32Array(new SharedArrayBuffer(4)); ; ) Atomics.wait(word, 0, 0);
  throw new MigbenchError('E_WORKER', `injected fault ${what}`);
}

export const FAULT_ENV = 'MIGBENCH_TEST_FAULT';

/** Parse MIGBENCH_TEST_FAULT (tests only); undefined when unset or empty. */
export function faultFromEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerFault | undefined {
  const text = env[FAULT_ENV];
  if (text === undefined || text === '') return undefined;
  const m = /^(vcpu|destination|channel)(\d*):(throw|exit|hang):(?:after=(\d+)|(stop-and-copy))$/.exec(text);
  if (m === null || (m[1] === 'destination' && m[2] !== '')) {
    throw new MigbenchError('E_USAGE', `${FAULT_ENV} (tests only): expected <vcpu|channel><n>|destination:<throw|exit|hang>:<after=N|stop-and-copy>, got ${JSON.stringify(text)}`);
  }
  return {
    worker: m[1] as FaultWorker,
    index: m[2] === '' ? 0 : Number(m[2]),
    action: m[3] as FaultAction,
    at: m[5] !== undefined ? 'stop-and-copy' : Number(m[4]),
  };
}
