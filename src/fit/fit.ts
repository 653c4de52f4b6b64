/**
 * Fit a migbench scenario to a QEMU migration's log (issue 17): what the guest was (size, page size,
 * zero pages), how the migration was set (live rate limit, rate after the switch, downtime limit,
 * XBZRLE), and how the guest wrote (dirty rate and writable working set). Pure: a QmpLog in, a scenario
 * input (valid: `resolveScenario` accepts it) and the evidence for every figure out.
 *
 * The write model is DESIGN §6's overlap: `w` page writes/s spread uniformly over `N` pages leave
 * D(t) = N(1 − e^(−w·t/N)) distinct dirty pages after t seconds. At every dirty sync QEMU adds to the
 * pending set the pages dirtied since the previous sync that were not pending already, so
 *   new pages at sync k = D(Δt_k) × (1 − L_k/N),
 * Δt_k the time since the previous sync, L_k the pages still pending just before it. The fit takes
 * (Δt_k, L_k, new_k) from every sync the polls caught (a single increment of `dirty-sync-count`
 * between two `active` polls) and finds (w, N) that minimise the squared log error. QEMU's own
 * `dirty-pages-rate` (new pages per period of ≥ 1 s) is the same count, reported as corroboration.
 */
import { MigbenchError } from '../errors.ts';
import { MAX_PAGE_SIZE, MIN_PAGE_SIZE, type ScenarioInput } from '../options.ts';
import { formatBytes, formatByteRate, formatCount } from '../units.ts';
import type { QmpLog, QmpPoll, QmpRam } from './qmp-log.ts';
import type { SyncEvent } from './sync-event.ts';
import { goldenSectionMin } from './golden-section.ts';
import { chooseModel, fitSequential, fitZipf } from './write-models.ts';

/** migbench's zipfExponent default (src/scenario/keys.ts) */
const DEFAULT_ZIPF_EXPONENT = 0.99;

export interface FitParameter {
  /** the scenario key it sets */
  readonly key: string;
  /** the value in the scenario (base units) */
  readonly value: unknown;
  /** how it was derived, with the figures used */
  readonly evidence: string;
}

export type { SyncEvent } from './sync-event.ts';

/**
 * Where the working set lies in memory, as the bulk round's sync sees it (the only sync whose pending
 * pages need not be written ones; the bulk round sends memory in address order): 'late' = at the end
 * of memory, so the pages still pending were working-set pages (Linux hands out high memory first: the
 * guests of the three QEMU logs); 'spread' = evenly over memory, so the share of it still pending was
 * the share of memory still pending (a uniform guest); 'early' = among the pages sent first, so none of
 * it was pending (migbench's hotset: pages [0, N)).
 */
export type Placement = 'late' | 'spread' | 'early';
export const PLACEMENTS: readonly Placement[] = ['late', 'spread', 'early'];
const PLACEMENT_WORDS: Record<Placement, string> = {
  late: 'at the end of memory (the pages still pending then were working-set pages)',
  spread: 'spread over memory (the share of it still pending was the share of memory still pending)',
  early: 'among the first pages sent (none of it still pending)',
};
/** rms log error by which a placement must beat the ones before it */
const PLACEMENT_MARGIN = 0.001;

/** What the log shows of the migration as a whole (for the side by side with the replay). */
export interface LogSummary {
  readonly outcome: string;
  readonly totalTimeMs: number;
  readonly transferredBytes: number;
  readonly syncs: number;
  readonly downtimeMs: number | null;
  /** ram.total: the guest's bytes */
  readonly ramTotalBytes: number;
  /** `remaining` over time, one point per poll with ram figures */
  readonly remaining: readonly { readonly tMs: number; readonly bytes: number }[];
}

export interface FitResult {
  /** the fitted scenario (user form, base units): `resolveScenario` accepts it */
  readonly scenario: ScenarioInput;
  readonly parameters: readonly FitParameter[];
  readonly syncs: readonly SyncEvent[];
  readonly log: LogSummary;
  /** fitted page writes/s and working-set pages (0 and null for a guest that did not write) */
  readonly dirtyRatePagesPerSec: number;
  /** true when the log pins the rate from below only (every sync found the working set saturated) */
  readonly dirtyRateIsLowerBound: boolean;
  readonly workingSetPages: number | null;
}

const QEMU_DEFAULT_DOWNTIME_LIMIT_MS = 300;
/** 64 TiB: beyond any guest a log comes from, and a whole number of bytes in a double. */
export const MAX_FIT_MEMORY_BYTES = 2 ** 46;

/** Distinct pages `w` uniform writes/s over `n` pages leave dirty after `t` s. */
export function overlapPages(w: number, n: number, t: number): number {
  return n * -Math.expm1((-w * t) / n);
}

/** Relative error of a sync's page count that does not shrink with its interval (pending interpolated between polls). */
const SYNC_COUNT_SIGMA = 0.02;
/** Error of a sync's estimated time, s (about half a 100 ms poll interval). */
const SYNC_TIME_SIGMA_S = 0.05;
/** Inverse variance of a sync's log count: the time error weighs 1/Δt, the count error does not shrink. */
export function syncWeight(intervalS: number): number {
  return 1 / (SYNC_COUNT_SIGMA ** 2 + (SYNC_TIME_SIGMA_S / intervalS) ** 2);
}

/**
 * Pages the model says a sync adds: the distinct pages written since the previous sync, less those
 * already pending. In the live rounds every pending page is a working-set page; at the bulk round's
 * sync, the share of the working set still pending depends on where it lies.
 */
export function modelNewPages(ev: SyncEvent, w: number, n: number, placement: Placement, totalPages: number): number {
  const pendingShare =
    ev.bulk && placement === 'early' ? 0 : ev.bulk && placement === 'spread' ? ev.leftoverPages / totalPages : (ev.bulk ? lateWorkingSetPending(ev) : ev.leftoverPages) / n;
  return overlapPages(w, n, ev.intervalS) * Math.max(0, 1 - pendingShare);
}

/**
 * Working-set pages still pending at the bulk round's sync if the working set lies at the end of memory:
 * the pages still pending, less the zero pages among them when those were most of them (then the end
 * of memory was memory the guest had not written, and a zero page there is no working-set page; when
 * they were few, they may be pages the guest starts writing during the migration, as a fresh guest does).
 */
export function lateWorkingSetPending(ev: SyncEvent): number {
  const zero = ev.leftoverZeroPages ?? 0;
  return zero > ev.leftoverPages / 2 ? Math.max(0, ev.leftoverPages - zero) : ev.leftoverPages;
}

/** Squared log error of the model on the events (pages + 1 so an empty refill counts). */
function modelError(events: readonly SyncEvent[], w: number, n: number, placement: Placement, totalPages: number): number {
  let e = 0;
  for (const ev of events) {
    const model = modelNewPages(ev, w, n, placement, totalPages);
    const d = Math.log((model + 1) / (ev.newPages + 1));
    // the sync time is known to about half a poll interval: a short interval's count is the least sure
    e += syncWeight(ev.intervalS) * d * d;
  }
  return e;
}

/** The rate search's range, writes/s. */
const RATE_SEARCH_MAX = 1e9;
/** rms log error within which a rate fits as well as the best one */
const RATE_FIT_TOLERANCE = 0.01;

/**
 * The lowest rate that fits as well as the best (rms log error within RATE_FIT_TOLERANCE of it), when
 * the log does not pin the rate from above: every sync found the working set saturated, so any faster
 * rate fits as well, up to the search's end. Then the fit is a lower bound; else null. Bisection on log w.
 */
export function rateLowerBound(events: readonly SyncEvent[], fit: { w: number; n: number; error: number; placement: Placement }, totalPages: number): number | null {
  const weights = events.reduce((a, e) => a + syncWeight(e.intervalS), 0);
  const rms = (w: number): number => Math.sqrt(modelError(events, w, fit.n, fit.placement, totalPages) / weights);
  const limit = Math.sqrt(fit.error / weights) + RATE_FIT_TOLERANCE;
  if (rms(RATE_SEARCH_MAX) > limit) return null;
  let lo = 0;
  let hi = Math.log(Math.max(1, fit.w));
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (rms(Math.exp(mid)) <= limit) hi = mid;
    else lo = mid;
  }
  return Math.exp(hi);
}

/** The best w for a given n: golden-section search on log w over [1, RATE_SEARCH_MAX] writes/s. */
function bestRateFor(events: readonly SyncEvent[], n: number, placement: Placement, totalPages: number): { w: number; error: number } {
  const { lo, hi } = goldenSectionMin((x) => modelError(events, Math.exp(x), n, placement, totalPages), 0, Math.log(RATE_SEARCH_MAX), 80);
  const w = Math.exp((lo + hi) / 2);
  return { w, error: modelError(events, w, n, placement, totalPages) };
}

/**
 * Fit (w, N) to the sync events: N over a log grid from the largest refill seen to the guest's pages,
 * refined around the best grid point; w by golden section for each N.
 */
export function fitOverlap(events: readonly SyncEvent[], totalPages: number): { w: number; n: number; error: number; placement: Placement } {
  // without the bulk round's sync the placements are one model; another placement than the first
  // (late) must fit clearly better: by PLACEMENT_MARGIN of rms log error (two syncs fit any of them)
  let best = fitFor(events, totalPages, 'late');
  if (!events.some((e) => e.bulk)) return best;
  const weights = events.reduce((a, e) => a + syncWeight(e.intervalS), 0);
  const rms = (error: number): number => Math.sqrt(error / weights);
  for (const placement of PLACEMENTS.slice(1)) {
    const other = fitFor(events, totalPages, placement);
    if (rms(other.error) < rms(best.error) - PLACEMENT_MARGIN) best = other;
  }
  return best;
}

export function fitFor(events: readonly SyncEvent[], totalPages: number, placement: Placement): { w: number; n: number; error: number; placement: Placement } {
  // the working set holds at least what one live sync left pending with what it added
  const minN = Math.max(1, ...events.map((e) => e.newPages + (e.bulk && placement !== 'late' ? 0 : e.leftoverPages)));
  const steps = 240;
  let best = { w: 0, n: totalPages, error: Infinity, placement };
  const tryN = (n: number): void => {
    const r = bestRateFor(events, n, placement, totalPages);
    if (r.error < best.error - 1e-12) best = { w: r.w, n, error: r.error, placement };
  };
  const ratio = totalPages / minN;
  for (let i = 0; i <= steps; i++) tryN(Math.min(totalPages, minN * ratio ** (i / steps)));
  // refine: a finer grid around the best point
  const step = ratio ** (1 / steps);
  const around = best.n;
  for (let i = -20; i <= 20; i++) tryN(Math.min(totalPages, Math.max(minN, around * step ** (i / 20))));
  return best;
}

/**
 * Zero pages sent after the sync that falls `syncShare` of the way through the interval that ends at
 * polls[i], up to the last poll before the next sync (duplicate counts zero pages; a share of the
 * interval's own in proportion to time).
 */
function zeroPagesSentAfter(polls: readonly (QmpPoll & { ram: QmpRam })[], i: number, syncShare: number): number {
  const a = polls[i - 1].ram;
  const b = polls[i].ram;
  let j = i;
  while (j + 1 < polls.length && polls[j + 1].status === 'active' && polls[j + 1].ram.dirtySyncCount === b.dirtySyncCount) j++;
  const atSync = a.duplicate + (b.duplicate - a.duplicate) * syncShare;
  return Math.max(0, polls[j].ram.duplicate - atSync);
}

/** Pages sent so far: zero pages, pages sent in full and XBZRLE deltas (QEMU counts each page once). */
const pagesSent = (p: QmpPoll & { ram: QmpRam }): number => p.ram.duplicate + p.ram.normal + (p.xbzrle?.pages ?? 0);

const ramPolls = (log: QmpLog): (QmpPoll & { ram: QmpRam })[] => log.polls.filter((p): p is QmpPoll & { ram: QmpRam } => p.ram !== null);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Fit a scenario to a log. `name` labels the scenario (e.g. the log's file name). */
export function fitLog(log: QmpLog, name = 'fitted'): FitResult {
  const polls = ramPolls(log);
  const u = log.unit;
  const params: FitParameter[] = [];
  const last = polls.at(-1)!;
  const lastAny = log.polls.at(-1)!;
  const pageSize = last.ram.pageSize;
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE) throw new MigbenchError('E_SCENARIO', `QMP log ${u} ${last.line}: ram.page-size must be from ${MIN_PAGE_SIZE} B to 2 MiB, got ${pageSize}`);
  if (last.ram.total < pageSize || last.ram.total > MAX_FIT_MEMORY_BYTES) throw new MigbenchError('E_SCENARIO', `QMP log ${u} ${last.line}: ram.total must be from one page to ${formatBytes(MAX_FIT_MEMORY_BYTES)}, got ${last.ram.total}`);
  const totalPages = Math.ceil(last.ram.total / pageSize);
  const memory = totalPages * pageSize;

  params.push({ key: 'guest.memory', value: memory, evidence: `ram.total ${formatCount(last.ram.total)} B (${u} ${last.line})${memory !== last.ram.total ? `, rounded up to whole pages: ${formatCount(memory)} B` : ''} = ${formatCount(totalPages)} pages of ${pageSize} B` });
  params.push({ key: 'guest.pageSize', value: pageSize, evidence: `ram.page-size ${pageSize} (${u} ${last.line})` });

  // zero pages: each is sent once as a header (duplicate); the pages the guest writes are not zero
  const zeroShare = Math.min(1, last.ram.duplicate / totalPages);
  const zero = round(zeroShare, 4);
  params.push({
    key: 'guest.fill',
    value: { zero, random: round(1 - zero, 4), text: 0 },
    evidence: `ram.duplicate ${formatCount(last.ram.duplicate)} zero pages of ${formatCount(totalPages)} (${u} ${last.line}): ${pct(zeroShare)} zero; the rest taken as incompressible (ram.normal ${formatCount(last.ram.normal)} pages sent in full, re-sent pages included)`,
  });

  // the live rate: bytes per second between consecutive active polls with no sync between them
  const liveRates: number[] = [];
  for (let i = 1; i < polls.length; i++) {
    const a = polls[i - 1];
    const b = polls[i];
    if (a.status !== 'active' || b.status !== 'active' || b.ram.dirtySyncCount !== a.ram.dirtySyncCount) continue;
    const dt = (b.elapsedMs - a.elapsedMs) / 1000;
    const bytes = b.ram.transferred - a.ram.transferred;
    if (dt > 0 && bytes > 0) liveRates.push(bytes / dt);
  }
  const maxBandwidthParam = typeof log.parameters?.['max-bandwidth'] === 'number' ? (log.parameters['max-bandwidth'] as number) : null;
  let liveRate: number;
  if (liveRates.length > 0) {
    liveRate = Math.round(median(liveRates));
    params.push({
      key: 'precopy.maxBandwidth',
      value: liveRate,
      evidence: `median of ram.transferred growth over ${liveRates.length} poll intervals without a sync: ${formatByteRate(liveRate)}${maxBandwidthParam !== null ? ` (max-bandwidth was ${formatByteRate(maxBandwidthParam)}; the difference is stream headers)` : ''}`,
    });
  } else {
    const overall = last.ram.transferred / Math.max(1e-3, (last.totalTimeMs ?? last.elapsedMs) / 1000);
    liveRate = Math.round(maxBandwidthParam && maxBandwidthParam > 0 ? maxBandwidthParam : overall);
    params.push({ key: 'precopy.maxBandwidth', value: liveRate, evidence: maxBandwidthParam ? `max-bandwidth ${formatByteRate(maxBandwidthParam)} (no two active polls to measure the rate)` : `ram.transferred ÷ total-time: ${formatByteRate(overall)} (no two active polls to measure the rate)` });
  }

  // the rate after the switch: QEMU lifts its limit for the stop-and-copy
  const downtimeMs = lastAny.downtimeMs;
  const downtimeBytes = last.ram.downtimeBytes;
  let linkRate = liveRate;
  let linkEvidence = `no downtime figures: the link is taken as the live rate, ${formatByteRate(liveRate)}`;
  if (downtimeMs !== null && downtimeMs > 0 && downtimeBytes !== null && downtimeBytes > 0) {
    const after = (downtimeBytes * 1000) / downtimeMs;
    if (after > liveRate) {
      linkRate = Math.round(after);
      linkEvidence = `ram.downtime-bytes ${formatBytes(downtimeBytes)} in downtime ${downtimeMs} ms (${u} ${lastAny.line}): ${formatByteRate(after)} after the switch (a lower bound: the downtime also holds fixed costs)`;
    } else {
      linkEvidence = `ram.downtime-bytes ${formatBytes(downtimeBytes)} in downtime ${downtimeMs} ms is ${formatByteRate(after)}, below the live rate (the downtime is mostly fixed costs): the link is taken as the live rate, ${formatByteRate(liveRate)}`;
    }
  }
  params.push({ key: 'link.bandwidth', value: linkRate, evidence: linkEvidence });

  const dlParam = log.parameters?.['downtime-limit'];
  const downtimeLimitMs = typeof dlParam === 'number' && dlParam > 0 ? dlParam : QEMU_DEFAULT_DOWNTIME_LIMIT_MS;
  params.push({ key: 'precopy.downtimeLimitMs', value: downtimeLimitMs, evidence: typeof dlParam === 'number' && dlParam > 0 ? `query-migrate-parameters downtime-limit ${dlParam} ms` : `no query-migrate-parameters reply: QEMU's default, ${QEMU_DEFAULT_DOWNTIME_LIMIT_MS} ms` });

  // the syncs the polls caught: estimate when each happened, what was pending before and what it added
  const thresholdBytes = (liveRate * downtimeLimitMs) / 1000;
  const events: SyncEvent[] = [];
  let prevSyncMs = polls.find((p) => p.setupTimeMs !== null)?.setupTimeMs ?? 0;
  let previousIntervalS: number | null = null;
  for (let i = 1; i < polls.length; i++) {
    const a = polls[i - 1];
    const b = polls[i];
    const step = b.ram.dirtySyncCount - a.ram.dirtySyncCount;
    if (step === 0) continue;
    const dtMs = b.elapsedMs - a.elapsedMs;
    if (step !== 1 || a.status !== 'active' || b.status !== 'active' || dtMs <= 0) {
      previousIntervalS = step === 1 ? (b.elapsedMs - prevSyncMs) / 1000 : null;
      prevSyncMs = b.elapsedMs; // several syncs, or the end: not usable, but the clock of syncs moves on
      continue;
    }
    const sent = b.ram.transferred - a.ram.transferred;
    // QEMU syncs when what is pending falls under bandwidth × downtime-limit. Until then `remaining`
    // falls as fast as it did over the poll interval before (zero pages make it fall faster than the
    // bytes: the bulk round), else at the live rate
    const before = polls[i - 2];
    const fallRate =
      before && before.status === 'active' && before.ram.dirtySyncCount === a.ram.dirtySyncCount && a.elapsedMs > before.elapsedMs && before.ram.remaining > a.ram.remaining
        ? ((before.ram.remaining - a.ram.remaining) * 1000) / (a.elapsedMs - before.elapsedMs)
        : liveRate;
    const untilMs = Math.min(dtMs, Math.max(0, ((a.ram.remaining - thresholdBytes) / fallRate) * 1000));
    const atMs = a.elapsedMs + untilMs;
    const leftover = Math.max(0, a.ram.remaining - (fallRate * untilMs) / 1000);
    // the pages the sync added, exactly: every page sent clears its bit (`remaining` falls by a page)
    // and counts once in duplicate, normal or xbzrle pages; the sync sets the new bits. So
    // new = pages sent + the change of `remaining`, wherever in the interval the sync fell
    const exact = pagesSent(b) - pagesSent(a) + (b.ram.remaining - a.ram.remaining) / pageSize;
    // (without those counters: the bytes sent after the sync taken as whole pages)
    const after = b.ram.remaining + (sent * (dtMs - untilMs)) / dtMs;
    const newPages = exact >= 0 ? exact : Math.max(0, after - leftover) / pageSize;
    const intervalS = Math.max(1e-3, (atMs - prevSyncMs) / 1000);
    events.push({
      line: b.line,
      atMs: round(atMs, 1),
      intervalS,
      leftoverPages: round(leftover / pageSize, 1),
      newPages: round(newPages, 1),
      ...(previousIntervalS !== null ? { previousIntervalS } : {}),
      ...(a.ram.dirtySyncCount === polls[0].ram.dirtySyncCount ? { bulk: true, leftoverZeroPages: round(Math.min(leftover / pageSize, zeroPagesSentAfter(polls, i, untilMs / dtMs)), 1) } : {}),
    });
    prevSyncMs = atMs;
    previousIntervalS = intervalS;
  }

  const qemuRates = polls.filter((p) => (p.ram.dirtyPagesRate ?? 0) > 0).map((p) => ({ line: p.line, rate: p.ram.dirtyPagesRate! }));
  const distinctRates = qemuRates.filter((r, i) => i === 0 || r.rate !== qemuRates[i - 1].rate);
  const qemuRateText =
    distinctRates.length > 0
      ? `QEMU's dirty-pages-rate (distinct new pages per period ≥ 1 s, so below the write rate when writes overlap): ${distinctRates.map((r) => `${formatCount(r.rate)}/s (${u} ${r.line})`).join(', ')}`
      : "QEMU's dirty-pages-rate was never filled in (it needs a period of at least 1 s between syncs)";

  let dirtyRate = 0;
  let dirtyRateIsLowerBound = false;
  let workingSetPages: number | null = null;
  const usable = events.filter((e) => e.newPages > 0);
  if (usable.length === 0) {
    params.push({
      key: 'workload.pattern',
      value: 'idle',
      evidence: events.length === 0 ? `no dirty sync during the live phase that the polls caught (dirty-sync-count ${last.ram.dirtySyncCount} at the end); ${qemuRateText}` : `the ${events.length} syncs the polls caught added no pages; ${qemuRateText}`,
    });
  } else {
    const weightOf = (e: SyncEvent): number => syncWeight(e.intervalS);
    const weights = usable.reduce((a, e) => a + weightOf(e), 0);
    const rmsOf = (error: number): number => Math.sqrt(error / weights);
    const f = fitOverlap(usable, totalPages);
    const seq = fitSequential(usable, totalPages, weightOf);
    const zipf = fitZipf(usable, totalPages, weightOf);
    const zipfDefault = fitZipf(usable, totalPages, weightOf, DEFAULT_ZIPF_EXPONENT);
    const candidates = [
      { name: 'overlap (hotset)', freeParameters: 2, rms: rmsOf(f.error), text: `w ${formatCount(Math.round(f.w))}/s over N ${formatCount(Math.round(f.n))} pages` },
      { name: 'sequential', freeParameters: 1, rms: rmsOf(seq.error), text: `one sweep over all ${formatCount(totalPages)} pages at ${formatCount(Math.round(seq.w))} pages/s` },
      { name: 'zipf', freeParameters: 2, rms: rmsOf(zipf.error), text: `${formatCount(Math.round(zipf.w))} writes/s over the guest, exponent ${zipf.s.toFixed(2)}` },
      { name: `zipf at migbench's default exponent ${DEFAULT_ZIPF_EXPONENT}`, freeParameters: 1, rms: rmsOf(zipfDefault.error), text: `${formatCount(Math.round(zipfDefault.w))} writes/s over the guest` },
    ];
    const choice = chooseModel(candidates, usable.length);
    const compared = `the models against the ${usable.length} sync${usable.length === 1 ? '' : 's'}, rms log error: ${candidates.map((c) => `${c.name} ${c.rms.toFixed(4)} (${c.text})`).join('; ')}; chosen: ${candidates[choice.index].name}, as ${choice.reason}`;
    const shown = usable.map((e) => `${formatCount(Math.round(e.newPages))} new after ${e.intervalS.toFixed(2)} s with ${formatCount(Math.round(e.leftoverPages))} pending (${u} ${e.line})`).join('; ');
    const weighting = `each sync weighted by 1/(${SYNC_COUNT_SIGMA}² + (${SYNC_TIME_SIGMA_S} s/Δt)²): a short interval's sync time is least sure`;
    if (choice.index === 0) {
      const atLeast = rateLowerBound(usable, f, totalPages);
      dirtyRate = Math.max(1, Math.round(atLeast ?? f.w));
      dirtyRateIsLowerBound = atLeast !== null;
      workingSetPages = Math.max(1, Math.round(f.n));
      params.push({ key: 'workload.pattern', value: 'hotset', evidence: `uniform writes over a working set (hotset with hotFraction 1): the overlap model N(1 − e^(−w·t/N)); ${compared}` });
      params.push({ key: 'workload.hotFraction', value: 1, evidence: 'every write in the working set (the log cannot tell writes elsewhere apart)' });
      params.push({
        key: 'workload.dirtyRate',
        value: dirtyRate,
        evidence: `${atLeast !== null ? `at least ${formatCount(dirtyRate)} page writes/s, a lower bound: every sync found the working set saturated, so any faster rate up to ${formatCount(RATE_SEARCH_MAX)}/s fits within ${RATE_FIT_TOLERANCE} rms log error of the best; ` : `${formatCount(dirtyRate)} page writes/s: `}least squares of new = N(1 − e^(−w·Δt/N))·(1 − pending/N) over ${usable.length} sync${usable.length === 1 ? '' : 's'}: ${shown}; rms log error ${candidates[0].rms.toFixed(3)} (${weighting}). ${qemuRateText}`,
      });
      const identifiable = usable.length >= 2;
      params.push({
        key: 'workload.workingSet',
        value: workingSetPages * pageSize,
        evidence: `${formatBytes(workingSetPages * pageSize)} (${formatCount(workingSetPages)} pages): the level the pending set saturates at in the same fit${identifiable ? '' : ' (one sync only: the rate and the working set are not both pinned down)'}${usable.some((e) => e.bulk) ? `; at the bulk round's sync the working set read as lying ${PLACEMENT_WORDS[f.placement]} (the placement that fits best; late unless another fits clearly better)` : ''}`,
      });
    } else {
      // sequential and zipf write over the whole guest (migbench's patterns have no working set of their own)
      const isSeq = candidates[choice.index].name === 'sequential';
      const z = choice.index === 2 ? zipf : zipfDefault;
      dirtyRate = Math.max(1, Math.round(isSeq ? seq.w : z.w));
      workingSetPages = totalPages;
      params.push({ key: 'workload.pattern', value: isSeq ? 'sequential' : 'zipf', evidence: compared });
      params.push({
        key: 'workload.dirtyRate',
        value: dirtyRate,
        evidence: `${formatCount(dirtyRate)} page writes/s: least squares of the ${isSeq ? 'sequential model, new = min(w·Δt, pages not pending)' : 'zipf model, new = Σ_k (1 − e^(−p_k·w·Δt))·(1 − P(k pending))'} over ${usable.length} sync${usable.length === 1 ? '' : 's'}: ${shown}; rms log error ${candidates[choice.index].rms.toFixed(3)} (${weighting}). ${qemuRateText}`,
      });
      if (!isSeq) params.push({ key: 'workload.zipfExponent', value: round(z.s, 3), evidence: choice.index === 2 ? `the exponent that fits best (searched from ${0.05} to ${4})` : `migbench's default: too few syncs to pin it` });
      params.push({ key: 'workload.workingSet', value: workingSetPages * pageSize, evidence: `the whole guest, ${formatCount(totalPages)} pages: ${isSeq ? 'the sweep covers all of memory' : 'the ranks are spread over all of memory'}` });
    }
  }

  // XBZRLE: on in the capabilities (or its cache figures are in the replies)
  const withCache = polls.filter((p) => p.xbzrle !== null);
  const xOn = log.capabilities?.xbzrle ?? withCache.length > 0;
  if (xOn) {
    const cacheParam = log.parameters?.['xbzrle-cache-size'];
    const x = withCache.at(-1)?.xbzrle ?? null;
    const cacheSize = typeof cacheParam === 'number' && cacheParam > 0 ? cacheParam : (x?.cacheSize ?? 64 * 2 ** 20);
    const pow2 = 2 ** Math.round(Math.log2(cacheSize));
    let evidence = `capability xbzrle on; xbzrle-cache-size ${formatBytes(cacheSize)}${pow2 !== cacheSize ? ` (nearest power of two: ${formatBytes(pow2)})` : ''}`;
    if (x !== null) {
      const tries = x.pages + x.cacheMiss;
      evidence += `; ${formatCount(x.pages)} pages sent as deltas, ${formatCount(x.cacheMiss)} cache misses (hit share ${tries > 0 ? pct(x.pages / tries) : '—'}), ${formatCount(x.overflow)} overflows, ${x.pages > 0 ? `${(x.bytes / x.pages).toFixed(1)} B per delta` : 'no deltas'} (${u} ${withCache.at(-1)!.line})`;
    }
    params.push({ key: 'precopy.xbzrle', value: { enabled: true, cacheSize: pow2 }, evidence });
    if (x !== null && x.pages > 0) {
      // a delta of k changed bytes is about k + 2 bytes (two run lengths) — what the guest's writes changed
      const writeBytes = Math.min(pageSize, Math.max(1, Math.round(x.bytes / x.pages - 2)));
      params.push({ key: 'workload.writeBytes', value: writeBytes, evidence: `${(x.bytes / x.pages).toFixed(1)} B per XBZRLE delta less 2 B of run lengths: about ${writeBytes} B changed per write` });
    }
  } else {
    params.push({ key: 'precopy.xbzrle', value: { enabled: false }, evidence: log.capabilities ? 'capability xbzrle off' : 'no capabilities reply and no xbzrle-cache figures: off' });
  }

  if (workingSetPages !== null && workingSetPages < totalPages) placeZeroPages(params, last, totalPages, workingSetPages, events, u);

  const totalTimeMs = lastAny.totalTimeMs ?? lastAny.elapsedMs;
  const scenario = buildScenario(name, params, totalTimeMs);
  return {
    scenario,
    parameters: params,
    syncs: events,
    log: {
      outcome: lastAny.status,
      totalTimeMs,
      transferredBytes: last.ram.transferred,
      syncs: last.ram.dirtySyncCount,
      downtimeMs,
      ramTotalBytes: last.ram.total,
      remaining: polls.map((p) => ({ tMs: p.elapsedMs, bytes: p.ram.remaining })),
    },
    dirtyRatePagesPerSec: dirtyRate,
    dirtyRateIsLowerBound,
    workingSetPages,
  };
}

/**
 * Where the zero pages lie (issue 15): a page the guest writes is not zero, and a working set the guest
 * wrote before the migration holds none, so the zero pages QEMU counted go to the rest of the guest as
 * far as they fit there (`workload.workingSetZero`, with `guest.fill` for the rest). The evidence: the
 * zero pages sent after the bulk round's sync (pages re-sent because the guest wrote them are not zero;
 * those were the unsent end of memory).
 */
function placeZeroPages(params: FitParameter[], last: QmpPoll & { ram: QmpRam }, totalPages: number, workingSetPages: number, events: readonly SyncEvent[], u: string): void {
  const zeroPages = Math.min(totalPages, last.ram.duplicate);
  const restPages = totalPages - workingSetPages;
  const inWorkingSet = Math.max(0, zeroPages - restPages);
  const wsZero = round(inWorkingSet / workingSetPages, 4);
  const restZero = round(Math.min(zeroPages, restPages) / restPages, 4);
  const bulk = events.find((e) => e.bulk);
  const after = bulk ? ` The bulk round's sync left ${formatCount(Math.round(bulk.leftoverPages))} pages unsent, ${formatCount(Math.round(bulk.leftoverZeroPages ?? 0))} of them zero (${u} ${bulk.line}).` : '';
  const i = params.findIndex((p) => p.key === 'guest.fill');
  params[i] = {
    key: 'guest.fill',
    value: { zero: restZero, random: round(1 - restZero, 4), text: 0 },
    evidence: `the ${formatCount(restPages)} pages outside the working set: ${pct(restZero)} zero (ram.duplicate ${formatCount(last.ram.duplicate)} zero pages (${u} ${last.line}), ${inWorkingSet > 0 ? `${formatCount(restPages)} of them here, the rest in the working set` : 'all of them here'}); the rest taken as incompressible (ram.normal ${formatCount(last.ram.normal)} pages sent in full, re-sent pages included)`,
  };
  params.push({
    key: 'workload.workingSetZero',
    value: wsZero,
    evidence: `${pct(wsZero)} of the working set starts as zero pages: a page the guest writes is not zero, and a working set written before the migration holds none, so the ${formatCount(zeroPages)} zero pages are placed in the other ${formatCount(restPages)} pages${inWorkingSet > 0 ? ` as far as they fit (${formatCount(inWorkingSet)} do not)` : ''}.${after}`,
  });
}

/** The scenario the parameters describe (every other key: migbench's default). */
function buildScenario(name: string, params: readonly FitParameter[], logTotalTimeMs: number): ScenarioInput {
  const v = (key: string): unknown => params.find((p) => p.key === key)?.value;
  const workload: Record<string, unknown> = { pattern: v('workload.pattern') };
  if (v('workload.pattern') !== 'idle') {
    workload.dirtyRate = v('workload.dirtyRate');
    workload.workingSet = v('workload.workingSet');
    if (v('workload.hotFraction') !== undefined) workload.hotFraction = v('workload.hotFraction');
    if (v('workload.zipfExponent') !== undefined) workload.zipfExponent = v('workload.zipfExponent');
    if (v('workload.workingSetZero') !== undefined) workload.workingSetZero = v('workload.workingSetZero');
  }
  if (v('workload.writeBytes') !== undefined) workload.writeBytes = v('workload.writeBytes');
  return {
    name,
    seed: 1,
    guest: { memory: v('guest.memory') as number, pageSize: v('guest.pageSize') as number, fill: v('guest.fill') as { zero: number; random: number; text: number } },
    workload: workload as ScenarioInput['workload'],
    link: { bandwidth: v('link.bandwidth') as number },
    precopy: {
      downtimeLimitMs: v('precopy.downtimeLimitMs') as number,
      maxBandwidth: v('precopy.maxBandwidth') as number,
      policy: 'qemu',
      xbzrle: v('precopy.xbzrle') as { enabled: boolean; cacheSize?: number },
      // room for the replay to show a migration that did not converge (the log's time × 10, at least 2 min)
      timeoutMs: Math.max(120_000, Math.ceil(logTotalTimeMs * 10)),
    },
  };
}
