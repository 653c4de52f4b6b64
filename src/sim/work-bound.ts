/**
 * What a simulation may cost, bounded before it starts. Simulate mode's wall time grows with the
 * guest writes it models (each one a page drawn and marked: 40–90 ns here) and the pages it visits,
 * so a scenario that models billions of writes (a high `workload.dirtyRate` for a long
 * `precopy.timeoutMs`, or a link so slow that one frame takes days of virtual time while the guest
 * keeps writing) would run for minutes or hours. The bounds here are computed from the resolved
 * scenario alone, before anything is allocated, and a scenario above one is refused (E_SCENARIO,
 * exit 2) with the keys to change. Pure.
 *
 * Why these are upper bounds (simulate-precopy.ts): the guest writes only in the live phase, at most
 * `workload.dirtyRate` page writes per second of virtual time (the throttle and the dirty limit only
 * lower it). A live step starts only before `precopy.timeoutMs`, and a batch stops adding runs once
 * its end would reach the timeout or once it holds `BATCH_MAX_MS` of link time, so the live phase
 * ends less than one run's link time after the timeout, and a step lasts less than `BATCH_MAX_MS`
 * plus one run. A run is at most `maxRunPages` pages, each at most a header and a page (XBZRLE sends
 * one frame per page), 8-byte aligned. In a fleet, a migration gets at least 1 / its concurrency (`fleet.concurrency`, under kubevirt capped: orchestrator/fleet-cap.ts)
 * of the link.
 */
import type { Scenario } from '../options.ts';
import type { Method } from '../results/document.ts';
import { HEADER_BYTES, maxRunPages } from '../transport/frame.ts';
import { formatBitRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { BATCH_MAX_MS } from './simulate-precopy.ts';
import { AFTER_WINDOW_MS } from './simulate-postcopy.ts';
import { fleetConcurrency } from '../orchestrator/fleet-cap.ts';

/**
 * The most guest writes one simulate-mode run may model, over all guests of a fleet (a zipf write
 * counts ZIPF_WRITE_WEIGHT, with XBZRLE on XBZRLE_WRITE_WEIGHT more). Above the README's 1 TiB example
 * (1.44e8: 20,000/s for 2 h).
 */
export const MAX_SIM_WRITES = 2e8;
/**
 * What one modelled write counts for: each write's cost, measured here on guests of 1 GiB and 1 TiB
 * at a fixed write count, is about 1 (uniform, hotset), 2–5 (zipf: a draw from the distribution) and
 * 5–25 with XBZRLE (every write also counts in a per-page map of writes since the page was last sent).
 */
export const ZIPF_WRITE_WEIGHT = 4;
export const XBZRLE_WRITE_WEIGHT = 8;
/** The most guest writes one step may model (counted as in MAX_SIM_WRITES): a step runs without a break (Ctrl-C is seen between steps). */
export const MAX_SIM_WRITES_PER_STEP = 1e7;
/** The most guest pages one run may model, over all guests of a fleet (one guest alone: MAX_SIM_PAGES). */
export const MAX_SIM_FLEET_PAGES = 2 ** 32;

export interface SimulationWork {
  /** bytes/s a migration gets for its live rounds at the least (its share of the link, under the live limit) */
  liveRateBytesPerSec: number;
  /** link time of the longest run (ms of virtual time) */
  runMs: number;
  /** the live phase lasts less than this (ms of virtual time): the timeout plus one run */
  liveBoundMs: number;
  /** a step lasts less than this (ms of virtual time) */
  stepBoundMs: number;
  /** guest writes modelled at most, all guests together (0 when pre-copy is not simulated), each counted `writeWeight` times */
  writes: number;
  /** guest writes one step models at most, each counted `writeWeight` times */
  writesPerStep: number;
  /** guest pages over the fleet */
  pages: number;
  /**
   * post-copy (postcopy.enabled): its phase is bounded as a whole (it runs in steps of a few ms of link
   * time, simulate-postcopy.ts completeStep, but its accesses add up); from the resume it lasts less than
   * this (ms of virtual time): every page on a frame of its own at the post-copy rate, the round trips
   * and the after window; 0 without post-copy
   */
  postcopyBoundMs: number;
  /** guest writes and reads the post-copy phase models at most, weighted as writes are */
  postcopyAccesses: number;
}

/** What one write of this scenario counts for (its cost relative to a uniform write). */
export function writeWeight(s: Scenario): number {
  return (s.workload.pattern === 'zipf' ? ZIPF_WRITE_WEIGHT : 1) * (s.precopy.xbzrle.enabled ? XBZRLE_WRITE_WEIGHT : 1);
}

/** The bounds of a scenario's simulation (`methods`: the methods simulated). */
export function simulationWork(s: Scenario, methods: readonly Method[]): SimulationWork {
  const ps = s.guest.pageSize;
  const guests = s.fleet?.count ?? 1;
  const share = 1 / fleetConcurrency(s).concurrency;
  const liveRateBytesPerSec = Math.min(s.precopy.maxBandwidth, s.link.bandwidth * share);
  const runBytes = maxRunPages(ps) * (HEADER_BYTES + ps + 8);
  const runMs = (runBytes * 1000) / liveRateBytesPerSec;
  const liveBoundMs = s.precopy.timeoutMs + runMs;
  const stepBoundMs = BATCH_MAX_MS + runMs;
  const precopy = methods.includes('precopy') && s.workload.pattern !== 'idle';
  const rate = precopy ? s.workload.dirtyRate : 0;
  const weight = writeWeight(s);
  const postcopyRate = Math.min(s.postcopy.maxBandwidth, s.link.bandwidth * share);
  const postcopyBoundMs = precopy && s.postcopy.enabled
    ? ((s.guest.memory / ps) * (HEADER_BYTES + ps + 8) * 1000) / postcopyRate + 4 * s.link.latencyMs + AFTER_WINDOW_MS
    : 0;
  return {
    liveRateBytesPerSec,
    runMs,
    liveBoundMs,
    stepBoundMs,
    writes: (weight * guests * rate * liveBoundMs) / 1000,
    writesPerStep: (weight * rate * stepBoundMs) / 1000,
    pages: guests * (s.guest.memory / ps),
    postcopyBoundMs,
    postcopyAccesses: (weight * (s.workload.dirtyRate + s.workload.readRate) * postcopyBoundMs) / 1000,
  };
}

const count = (n: number): string => (n < 1e15 ? formatCount(n) : n.toExponential(2));

/** One line: what the bound is, what this scenario would model, what to change; or null when within every bound. */
export function simulationWorkProblem(s: Scenario, methods: readonly Method[]): { key: string; message: string } | null {
  const w = simulationWork(s, methods);
  const fleet = s.fleet !== null && s.fleet.count > 1;
  const slowLink = w.runMs > s.precopy.timeoutMs;
  // the key that sets the live rate: the live limit, or the link (shared by a fleet's concurrent migrations)
  const rateKey = s.precopy.maxBandwidth < s.link.bandwidth * (1 / fleetConcurrency(s).concurrency) ? 'precopy.maxBandwidth' : 'link.bandwidth';
  const rateValue = formatBitRate(rateKey === 'link.bandwidth' ? s.link.bandwidth : s.precopy.maxBandwidth);
  const dirty = `workload.dirtyRate ${count(s.workload.dirtyRate)}/s`;
  const weight = writeWeight(s);
  const weighted = weight > 1 ? ` (each counts ${weight} with ${[s.workload.pattern === 'zipf' ? 'workload.pattern zipf' : '', s.precopy.xbzrle.enabled ? 'precopy.xbzrle' : ''].filter(Boolean).join(' and ')})` : '';
  const runAt = `one run of ${formatBytes(maxRunPages(s.guest.pageSize) * s.guest.pageSize)} at ${formatBitRate(w.liveRateBytesPerSec)} takes ${formatDurationMs(w.runMs)}`;
  if (w.pages > MAX_SIM_FLEET_PAGES) {
    const guests = s.fleet?.count ?? 1;
    const key = guests > 1 ? 'fleet.count' : 'guest.memory';
    return {
      key,
      message: `${key}: simulate mode models at most ${count(MAX_SIM_FLEET_PAGES)} guest pages${guests > 1 ? ' over a fleet' : ''}; ${guests} guest${guests > 1 ? 's' : ''} of ${formatBytes(s.guest.memory)} ${guests > 1 ? 'are' : 'is'} ${count(w.pages)} pages (lower ${guests > 1 ? 'fleet.count or ' : ''}guest.memory), got ${guests > 1 ? guests : formatBytes(s.guest.memory)}`,
    };
  }
  if (w.writesPerStep > MAX_SIM_WRITES_PER_STEP) {
    return {
      key: rateKey,
      message: `${rateKey}: simulate mode models at most ${count(MAX_SIM_WRITES_PER_STEP)} guest writes in one step${weighted} (a step is at most ${BATCH_MAX_MS} ms plus one run of link time); ${runAt}, and at ${dirty} that is ${count(w.writesPerStep)} writes (raise ${rateKey} or lower workload.dirtyRate), got ${rateValue}`,
    };
  }
  if (w.postcopyAccesses > MAX_SIM_WRITES_PER_STEP) {
    const pcRate = Math.min(s.postcopy.maxBandwidth, s.link.bandwidth);
    const key = s.postcopy.maxBandwidth < s.link.bandwidth ? 'postcopy.maxBandwidth' : 'link.bandwidth';
    return {
      key,
      message: `${key}: simulate mode models at most ${count(MAX_SIM_WRITES_PER_STEP)} guest accesses in the post-copy phase${weighted} (all its steps together); pushing ${formatBytes(s.guest.memory)} at ${formatBitRate(pcRate)} takes up to ${formatDurationMs(w.postcopyBoundMs)}, and at ${count(s.workload.dirtyRate + s.workload.readRate)} writes and reads per second that is ${count(w.postcopyAccesses)} (raise ${key} or lower workload.dirtyRate and workload.readRate), got ${formatBitRate(key === 'link.bandwidth' ? s.link.bandwidth : s.postcopy.maxBandwidth)}`,
    };
  }
  if (w.writes > MAX_SIM_WRITES) {
    const key = slowLink ? rateKey : 'workload.dirtyRate';
    const why = slowLink
      ? `${runAt}, longer than precopy.timeoutMs`
      : `the live phase lasts up to precopy.timeoutMs (${formatDurationMs(s.precopy.timeoutMs)})`;
    const fix = slowLink ? `raise ${rateKey} or lower workload.dirtyRate` : 'lower workload.dirtyRate or precopy.timeoutMs';
    const got = slowLink ? rateValue : `${count(s.workload.dirtyRate)}/s`;
    return {
      key,
      message: `${key}: simulate mode models at most ${count(MAX_SIM_WRITES)} guest writes per run${weighted}; ${why}, so at ${dirty}${fleet ? ` for ${s.fleet!.count} guests` : ''} it could model ${count(w.writes)} (${fix}${fleet ? ', or fleet.count' : ''}), got ${got}`,
    };
  }
  return null;
}

/**
 * The longest `precopy.timeoutMs` simulate mode accepts for this scenario under MAX_SIM_WRITES (Infinity
 * when the guest writes nothing), so advice never suggests a timeout the bound then refuses.
 */
export function maxSimulatedTimeoutMs(s: Scenario, methods: readonly Method[]): number {
  const w = simulationWork(s, methods);
  const perMs = w.writes / w.liveBoundMs; // weighted writes per ms of live time
  return perMs > 0 ? Math.max(0, MAX_SIM_WRITES / perMs - w.runMs) : Infinity;
}
