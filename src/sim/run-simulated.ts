/**
 * Simulate mode from a scenario to a result document (`migbench run --mode simulate`): the pre-copy
 * loop on a virtual clock (simulate-precopy.ts), quick migration phase by phase from the image it
 * would write, and, with `fleet`, a host evacuation of many guests over the one link. No threads, no
 * guest memory, no wall-clock waiting; the same scenario and seed give the same document apart from
 * `startedAt`, `finishedAt`, `git`, `env`, `simulation.wallTimeMs`/`speedup` and each
 * `simulation.perMethod` entry's `wallTimeMs`/`speedup`.
 */
import { performance } from 'node:perf_hooks';
import { quantileSorted } from 'simple-statistics';
import { MigbenchError } from '../errors.ts';
import type { Scenario } from '../options.ts';
import type { QuickResult } from '../results/quick-result.ts';
import {
  METHODS, type Distribution, type MethodSpeed, type FleetGuest, type FleetMethodResult, type FleetResult, type Method, type PrecopyResult, type ResultDocument,
} from '../results/document.ts';
import { runDocument } from '../results/run-document.ts';
import { formatBytes } from '../units.ts';
import { deriveSeed } from '../workload/rng.ts';
import { zstdReady } from '../codec/zstd.ts';
import { checkPostcopyMode } from '../postcopy/support.ts';
import { ContentModel } from './content-model.ts';
import { quickModel, type QuickPrediction } from './predict/quick-model.ts';
import { PrecopySimulation, type SimulationOptions } from './simulate-precopy.ts';
import { simulationWorkProblem } from './work-bound.ts';
import { fleetConcurrency } from '../orchestrator/fleet-cap.ts';
import { checkOrchestratorMode } from '../orchestrator/support.ts';

/** The most pages a simulated guest may have (the pattern generators' and the page sets' limit). */
export const MAX_SIM_PAGES = 2 ** 32;
/** Page-set memory the simulations alive at once may take (3 bitmaps of one bit per page each). */
export const MAX_SIM_BITMAP_BYTES = 8 * 2 ** 30;

export interface SimulateOptions extends SimulationOptions {
  methods?: readonly Method[];
  /** Ctrl-C: the simulation stops at its next break (within YIELD_EVERY_MS of wall time) with E_INTERRUPTED */
  signal?: AbortSignal;
  onPhase?: (message: string) => void;
  /** a fleet's guests as they finish */
  onGuest?: (method: Method, guest: FleetGuest) => void;
}

function fail(key: string, rule: string, value: string): never {
  throw new MigbenchError('E_SCENARIO', `${key}: ${rule}, got ${value}`);
}

/** What simulate mode cannot model, refused before anything runs (exit 2). */
export function checkSimulatable(s: Scenario, methods: readonly Method[]): void {
  const pages = s.guest.memory / s.guest.pageSize;
  if (pages > MAX_SIM_PAGES) fail('guest.memory', `simulate mode holds at most 2^32 pages (${formatBytes(MAX_SIM_PAGES * s.guest.pageSize)} of ${formatBytes(s.guest.pageSize)} pages)`, formatBytes(s.guest.memory));
  if (methods.includes('precopy') && !Number.isFinite(s.link.bandwidth)) fail('link.bandwidth', 'simulate mode needs a finite rate (an unlimited link would take no time)', '"unlimited"');
  if (methods.includes('quick') && !Number.isFinite(s.quick.storageBandwidth)) fail('quick.storageBandwidth', 'simulate mode needs a finite rate (an unlimited disk would take no time)', '"unlimited"');
  const alive = fleetConcurrency(s).concurrency;
  const bitmapBytes = alive * 3 * Math.ceil(pages / 8);
  if (bitmapBytes > MAX_SIM_BITMAP_BYTES) {
    fail('fleet.concurrency', `${alive} simulated guests of ${formatBytes(s.guest.memory)} at a time need ${formatBytes(bitmapBytes)} of page bitmaps (at most ${formatBytes(MAX_SIM_BITMAP_BYTES)})`, String(alive));
  }
  // post-copy and link failures: what simulate mode models of them (postcopy/support.ts)
  if (methods.includes('precopy')) checkPostcopyMode(s, 'simulate');
  // what simulate mode cannot run under the orchestrator (orchestrator/support.ts), before a fleet starts
  if (methods.includes('precopy')) checkOrchestratorMode(s, 'simulate');
  // the modelled work (guest writes, pages), bounded before anything is allocated (work-bound.ts)
  const tooMuch = simulationWorkProblem(s, methods);
  if (tooMuch) throw new MigbenchError('E_SCENARIO', tooMuch.message);
}

/** Guest `index` of a fleet: the scenario itself for guest 0, then the same with a derived seed. */
export function fleetGuestScenario(s: Scenario, index: number): Scenario {
  return index === 0 ? s : { ...s, seed: deriveSeed(s.seed, 5000 + index) };
}

/** Wall time a simulation runs at most without turning the event loop (where a signal handler can run). */
export const YIELD_EVERY_MS = 50;

/**
 * Breaks in a long simulation: a simulation is synchronous, so a SIGINT listener never runs while it
 * does. Between steps (each bounded by work-bound.ts), at least every YIELD_EVERY_MS of wall time, the
 * event loop turns once and an aborted `signal` ends the simulation (E_INTERRUPTED). The steps and
 * their order are the same with or without breaks, so the result is too.
 */
export class Breaks {
  private lastMs = performance.now();
  constructor(private readonly signal?: AbortSignal) {}
  /** true when the next break is due (cheap: one clock read) */
  due(): boolean {
    return performance.now() - this.lastMs >= YIELD_EVERY_MS;
  }
  /** turn the event loop; throws E_INTERRUPTED once the signal is aborted */
  async take(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.lastMs = performance.now();
    this.check();
  }
  check(): void {
    if (this.signal?.aborted) throw new MigbenchError('E_INTERRUPTED', 'interrupted');
  }
}

/** Run a simulation to its end with breaks: `PrecopySimulation.run()` that can be interrupted. */
async function runWithBreaks(sim: PrecopySimulation, breaks: Breaks): Promise<PrecopyResult> {
  while (!sim.done) {
    sim.step();
    if (breaks.due()) await breaks.take();
  }
  return sim.result();
}

/** Simulate one guest's pre-copy migration with the link to itself. */
export function simulatePrecopy(s: Scenario, options: SimulationOptions = {}): PrecopyResult {
  return new PrecopySimulation(s, options).run();
}

/** Quick migration of one guest, phase by phase: the image skips zero pages; storage is exact (no burst). */
export function simulateQuick(s: Scenario, storageShare = 1, zeroPages?: number): QuickResult {
  const N = s.guest.memory / s.guest.pageSize;
  const shared = storageShare === 1 ? s : { ...s, quick: { ...s.quick, storageBandwidth: s.quick.storageBandwidth * storageShare } };
  const q = quickModel(shared, zeroPages ?? new ContentModel(s).zeroKindPages(0, N), 0);
  const lazy = simulatedLazy(s, q);
  return {
    outcome: 'completed',
    reason: null,
    error: null,
    verified: null,
    verification: null,
    stats: lazy.stats ?? q.stats,
    phases: q.phases,
    format: s.quick.format,
    imagePath: null,
    savedBytes: q.savedBytes,
    imageBytes: q.savedBytes,
    restoredBytes: q.restoredBytes,
    pages: q.pages,
    storageBandwidthBytesPerSec: shared.quick.storageBandwidth,
    ...(lazy.lazy ? { lazy: lazy.lazy } : {}),
  };
}

/**
 * A lazy restore, modelled (quick-model.ts): its expected faults and stalls in the result's lazy fields
 * (a fault reads a page unless the page is zero; the rest is the background's). Nothing is logged or
 * recorded in simulate mode: those counts are 0, and the latency histogram is absent.
 */
function simulatedLazy(s: Scenario, q: QuickPrediction): Partial<Pick<QuickResult, 'lazy' | 'stats'>> {
  const l = q.lazy;
  if (l === null) return {};
  const faults = Math.round(l.expectedFaults);
  const faultPages = Math.round((faults * q.pages.normal) / q.pages.total);
  const faultBytes = faultPages * s.guest.pageSize;
  const stallMs = faults * l.expectedStallMs;
  return {
    stats: {
      ...q.stats,
      'postcopy-latency': l.expectedStallMs * 1e6,
      'postcopy-vcpu-blocktime': Array.from({ length: s.guest.vcpus }, () => stallMs / s.guest.vcpus),
    },
    lazy: {
      resumedMs: q.stats.downtime,
      completedMs: q.stats['total-time'],
      bytesBeforeResume: l.bytesBeforeResume,
      faultBytes,
      backgroundBytes: l.bytesAfterResume - faultBytes,
      requests: faults,
      faultPages,
      zeroFaultPages: faults - faultPages,
      backgroundPages: q.pages.total - faults,
      faults,
      duringPagesPerSec: s.workload.pattern === 'idle' ? 0 : s.workload.dirtyRate,
      loggedWrites: 0,
      logDroppedWrites: 0,
      stallRecordsDropped: 0,
      guestLost: false,
    },
  };
}

/** Pages the image skips (zero at the start), counted in slices with breaks: a mixed fill costs a hash per page. */
async function zeroPagesWithBreaks(s: Scenario, breaks: Breaks): Promise<number> {
  const content = new ContentModel(s);
  const N = s.guest.memory / s.guest.pageSize;
  const SLICE = 2 ** 20;
  let zero = 0;
  for (let from = 0; from < N; from += SLICE) {
    zero += content.zeroKindPages(from, Math.min(N, from + SLICE));
    if (breaks.due()) await breaks.take();
  }
  return zero;
}

function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0],
    median: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** Outcomes a fleet's result always counts (0 when none): pre-copy's moved, moved through post-copy, paused, aborted; quick's completed. */
const FLEET_OUTCOMES: Record<Method, readonly string[]> = { precopy: ['converged', 'postcopy', 'paused', 'aborted'], quick: ['completed'] };

/** Guests per outcome: the method's usual outcomes (0 when none), then any other that occurred. They add up to the guests. Pure. */
export function countOutcomes(method: Method, guests: readonly Pick<FleetGuest, 'outcome'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of FLEET_OUTCOMES[method]) counts[o] = 0;
  for (const g of guests) counts[g.outcome] = (counts[g.outcome] ?? 0) + 1;
  return counts;
}

function summarize(method: Method, guests: FleetGuest[]): FleetMethodResult {
  const done = guests.filter((g) => g.downtimeMs !== null);
  return {
    evacuationTimeMs: guests.reduce((m, g) => Math.max(m, g.startMs + g.totalTimeMs), 0),
    completed: done.length,
    cancelled: guests.length - done.length,
    outcomes: countOutcomes(method, guests),
    bytes: guests.reduce((a, g) => a + g.bytes, 0),
    downtime: distribution(done.map((g) => g.downtimeMs!)),
    totalTime: distribution(done.map((g) => g.totalTimeMs)),
    guests,
  };
}

/**
 * Pre-copy of a fleet: `concurrency` (fleet-cap.ts: under kubevirt also its caps) migrations at a time
 * share `link.bandwidth` equally (each gets link ÷ migrations running, re-divided whenever one starts or
 * ends). A migration starts when one ends, in its slot, so no instant has more running. The migrations
 * advance in step, always the one furthest behind in virtual time, a batch (≤ 5 ms of link time) at a
 * time. Each has its own orchestrator (simulate-precopy.ts makes one per migration), whose budget and
 * timers run from that migration's own start, as KubeVirt's per-migration monitor; a guest it aborts
 * stays on the source (no retry). A guest that switches to post-copy (postcopy.enabled, or its
 * orchestrator's action) holds its slot and its share of the link until its last page has arrived:
 * its post-copy push advances a step at a time (simulate-postcopy.ts completeStep) like a live batch,
 * so the evacuation time includes it.
 */
export async function simulatePrecopyFleet(s: Scenario, options: SimulateOptions = {}, breaks = new Breaks()): Promise<{ first: PrecopyResult; fleet: FleetMethodResult }> {
  const count = s.fleet?.count ?? 1;
  const { concurrency } = fleetConcurrency(s);
  const active: { index: number; startMs: number; sim: PrecopySimulation }[] = [];
  const guests: FleetGuest[] = [];
  let first: PrecopyResult | null = null;
  let next = 0;
  const start = (atMs: number): void => {
    const index = next++;
    active.push({ index, startMs: atMs, sim: new PrecopySimulation(fleetGuestScenario(s, index), index === 0 ? options : { frameOverhead: options.frameOverhead }) });
  };
  while (next < count && active.length < concurrency) start(0);
  while (active.length > 0) {
    let k = 0;
    for (let i = 1; i < active.length; i++) if (active[i].startMs + active[i].sim.nowMs < active[k].startMs + active[k].sim.nowMs) k = i;
    const a = active[k];
    a.sim.linkShare = 1 / active.length;
    a.sim.step();
    if (breaks.due()) await breaks.take();
    if (!a.sim.done) continue;
    const r = a.sim.result();
    if (a.index === 0) first = r;
    const g: FleetGuest = {
      index: a.index,
      outcome: r.outcome,
      startMs: a.startMs,
      totalTimeMs: r.stats['total-time'],
      downtimeMs: r.stats.downtime,
      bytes: r.stats.ram.transferred,
      rounds: r.rounds.length,
      ...(r.postcopy ? { missingPages: r.postcopy.missingPages, postcopyBytes: r.stats.ram['postcopy-bytes'] ?? 0 } : {}),
    };
    guests.push(g);
    options.onGuest?.('precopy', g);
    active.splice(k, 1);
    if (next < count) start(a.startMs + a.sim.nowMs);
  }
  guests.sort((x, y) => x.index - y.index);
  return { first: first!, fleet: summarize('precopy', guests) };
}

/**
 * Quick migration of a fleet: guests go in waves of `concurrency`, the storage shared equally within
 * a wave (equal guests end together, so a wave's slots free at once).
 */
export async function simulateQuickFleet(s: Scenario, options: SimulateOptions = {}, breaks = new Breaks()): Promise<{ first: QuickResult; fleet: FleetMethodResult }> {
  const count = s.fleet?.count ?? 1;
  const { concurrency } = fleetConcurrency(s);
  const guests: FleetGuest[] = [];
  let first: QuickResult | null = null;
  let waveStart = 0;
  for (let w = 0; w * concurrency < count; w++) {
    const inWave = Math.min(concurrency, count - w * concurrency);
    let waveEnd = waveStart;
    for (let j = 0; j < inWave; j++) {
      const index = w * concurrency + j;
      const guest = fleetGuestScenario(s, index);
      const q = simulateQuick(guest, 1 / inWave, await zeroPagesWithBreaks(guest, breaks));
      if (index === 0) first = q;
      const g: FleetGuest = { index, outcome: q.outcome, startMs: waveStart, totalTimeMs: q.stats['total-time'], downtimeMs: q.stats.downtime, bytes: q.savedBytes, rounds: 0 };
      guests.push(g);
      options.onGuest?.('quick', g);
      waveEnd = Math.max(waveEnd, waveStart + g.totalTimeMs);
    }
    waveStart = waveEnd;
  }
  return { first: first!, fleet: summarize('quick', guests) };
}

/** Run a scenario in simulate mode: the result document. */
export async function simulateScenario(scenario: Scenario, options: SimulateOptions = {}): Promise<ResultDocument> {
  const methods = options.methods ?? METHODS;
  checkSimulatable(scenario, methods);
  if (scenario.precopy.compression === 'zstd') await zstdReady(); // the content model measures with it
  const breaks = new Breaks(options.signal);
  breaks.check();
  const startedAt = new Date();
  const t0 = performance.now();
  let precopy: PrecopyResult | null = null;
  let quick: QuickResult | null = null;
  let fleet: FleetResult | null = null;
  let modelledTimeMs = 0;
  const perMethod: { precopy: MethodSpeed | null; quick: MethodSpeed | null } = { precopy: null, quick: null };
  let methodStart = t0;
  /** the method just simulated: its modelled time and the wall time since the previous one ended */
  const done = (method: Method, modelledMs: number): void => {
    const now = performance.now();
    const wallTimeMs = Math.max(1e-3, now - methodStart);
    perMethod[method] = { wallTimeMs, modelledTimeMs: modelledMs, speedup: modelledMs / wallTimeMs };
    modelledTimeMs += modelledMs;
    methodStart = now;
  };
  if (scenario.fleet) {
    const cap = fleetConcurrency(scenario);
    fleet = { count: scenario.fleet.count, concurrency: cap.concurrency, concurrencyBy: cap.by, precopy: null, quick: null };
    for (const method of methods) {
      if (method === 'precopy') {
        options.onPhase?.(`simulating the evacuation of ${scenario.fleet.count} guests with pre-copy, ${cap.concurrency} at a time (${cap.by})`);
        const r = await simulatePrecopyFleet(scenario, options, breaks);
        precopy = r.first;
        fleet.precopy = r.fleet;
        done(method, r.fleet.evacuationTimeMs);
      } else {
        options.onPhase?.(`simulating the evacuation of ${scenario.fleet.count} guests with quick migration, ${cap.concurrency} at a time (${cap.by})`);
        const r = await simulateQuickFleet(scenario, options, breaks);
        quick = r.first;
        fleet.quick = r.fleet;
        done(method, r.fleet.evacuationTimeMs);
      }
    }
  } else {
    for (const method of methods) {
      if (method === 'precopy') {
        options.onPhase?.(`simulating pre-copy of ${formatBytes(scenario.guest.memory)} on a virtual clock`);
        precopy = await runWithBreaks(new PrecopySimulation(scenario, options), breaks);
        done(method, precopy.stats['total-time']);
      } else {
        options.onPhase?.(`simulating quick migration: save to a ${scenario.quick.format} image, hand over, restore`);
        quick = simulateQuick(scenario, 1, await zeroPagesWithBreaks(scenario, breaks));
        done(method, quick.stats['total-time']);
      }
    }
  }
  const wallTimeMs = Math.max(1e-3, performance.now() - t0);
  const simulation = { wallTimeMs, modelledTimeMs, speedup: modelledTimeMs / wallTimeMs, perMethod, compressionRatios: new ContentModel(scenario).compressionRatios() };
  return runDocument({ scenario, startedAt, mode: 'simulate', methods, precopy, quick, simulation, fleet });
}
