import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitLog, overlapPages, fitOverlap, rateLowerBound, type SyncEvent } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { resolveScenario } from '../src/options.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8');
const REGION_PAGES = (128 * 2 ** 20) / 4096;

/** The three logs and what their README says of the guest (page writes/s the guest counted). */
const LOGS = [
  { name: 'idle_bw128_dt300', writesPerSec: 0, maxBandwidth: 134_217_728, xbzrle: false },
  { name: 'med_bw32_dt300', writesPerSec: 4000, maxBandwidth: 33_554_432, xbzrle: false },
  { name: 'high_bw128_dt300_xbzrle256', writesPerSec: 50_000, maxBandwidth: 134_217_728, xbzrle: true },
] as const;

describe('fitLog on the three QEMU logs', () => {
  it.each(LOGS)('$name: guest, rates and settings, each with its evidence; the scenario resolves', ({ name, writesPerSec, maxBandwidth, xbzrle }) => {
    const fit = fitLog(readQmpLog(fixture(name)), name);
    const s = resolveScenario(fit.scenario);
    expect(s.guest.memory).toBe(554_246_144);
    expect(s.guest.pageSize).toBe(4096);
    // the rest of the guest is mostly zero pages: about 62 % of 135 314 pages, all outside the working
    // set where the guest wrote (issue 15: workload.workingSetZero 0, guest.fill for the rest)
    const pages = s.guest.memory / 4096;
    const hot = s.workload.workingSetZero === null ? 0 : s.workload.workingSet / 4096;
    const zeroShare = (s.guest.fill.zero * (pages - hot) + (s.workload.workingSetZero ?? 0) * hot) / pages;
    expect(zeroShare).toBeGreaterThan(0.6);
    expect(zeroShare).toBeLessThan(0.65);
    if (writesPerSec > 0) expect(s.workload.workingSetZero).toBe(0);
    // the live rate is max-bandwidth plus stream headers (under 2 %)
    expect(s.precopy.maxBandwidth / maxBandwidth).toBeGreaterThan(1);
    expect(s.precopy.maxBandwidth / maxBandwidth).toBeLessThan(1.02);
    expect(s.link.bandwidth).toBeGreaterThanOrEqual(s.precopy.maxBandwidth);
    expect(s.precopy.downtimeLimitMs).toBe(300);
    expect(s.precopy.xbzrle.enabled).toBe(xbzrle);
    if (xbzrle) expect(s.precopy.xbzrle.cacheSize).toBe(256 * 2 ** 20);
    for (const p of fit.parameters) expect(p.evidence.length, p.key).toBeGreaterThan(10);
    if (writesPerSec === 0) {
      expect(s.workload.pattern).toBe('idle');
      expect(fit.workingSetPages).toBeNull();
    } else {
      // Done when: the dirty rate within 10 % of the README's, the working set within 25 % of 128 MiB
      expect(Math.abs(fit.dirtyRatePagesPerSec / writesPerSec - 1)).toBeLessThan(0.1);
      expect(Math.abs(fit.workingSetPages! / REGION_PAGES - 1)).toBeLessThan(0.25);
      expect(s.workload.dirtyRate).toBe(fit.dirtyRatePagesPerSec);
      expect(s.workload.workingSet).toBe(fit.workingSetPages! * 4096);
    }
    expect(fit.log.outcome).toBe('completed');
  });
});

describe('fitOverlap', () => {
  it.each([
    [4000, 32768],
    [50_000, 32768],
    [20_000, 200_000],
    [300, 1000],
  ])('recovers w = %i writes/s over N = %i pages from exact refills', (w, n) => {
    const events: SyncEvent[] = [
      { line: 1, atMs: 0, intervalS: 3, leftoverPages: 0, newPages: 0 },
      { line: 2, atMs: 0, intervalS: 1, leftoverPages: n * 0.05, newPages: 0 },
      { line: 3, atMs: 0, intervalS: 0.5, leftoverPages: n * 0.1, newPages: 0 },
    ].map((e) => ({ ...e, newPages: overlapPages(w, n, e.intervalS) * (1 - e.leftoverPages / n) }));
    const f = fitOverlap(events, 10 * n);
    expect(Math.abs(f.w / w - 1)).toBeLessThan(0.02);
    expect(Math.abs(f.n / n - 1)).toBeLessThan(0.02);
  });
});

describe('a log that pins the rate from below only', () => {
  // A small hot set written fast: every sync finds it all dirty, so the refills say N, not w. The
  // search used to wander along the flat error towards its end (1e9 writes/s); the fit is a lower bound.
  const n = 2048;
  const saturated: SyncEvent[] = [0.26, 0.24, 0.27, 0.23].map((t, i) => ({ line: i + 1, atMs: 0, intervalS: t, leftoverPages: 0, newPages: overlapPages(100_000, n, t) }));
  it('gives the lowest rate that fits as well, below the true one and above where saturation starts', () => {
    const f = fitOverlap(saturated, 64 * n);
    const low = rateLowerBound(saturated, f, 64 * n);
    expect(low).not.toBeNull();
    expect(low!).toBeLessThanOrEqual(100_000);
    // at 0.27 s the set is 98 % saturated from w = 4·N/t ≈ 30,000/s: the bound cannot lie far below that
    expect(low!).toBeGreaterThan(15_000);
    expect(Math.abs(f.n / n - 1)).toBeLessThan(0.02);
  });
  it('is no bound when the refills pin the rate', () => {
    const events: SyncEvent[] = [3, 1, 0.5].map((t, i) => ({ line: i + 1, atMs: 0, intervalS: t, leftoverPages: 0, newPages: overlapPages(4000, 32768, t) }));
    const f = fitOverlap(events, 10 * 32768);
    expect(rateLowerBound(events, f, 10 * 32768)).toBeNull();
  });
});

describe('fitOverlap: where the working set lies, seen at the bulk round\'s sync', () => {
  // The bulk round's pending pages are the unsent end of memory: whether they hold working-set pages
  // depends on where the working set lies. Reading them as working-set pages (the only model before)
  // recovered w = 4,000 over N = 32,768 early pages as N +11.8 % from migbench's own hotset log.
  it.each([
    ['early', 4000, 32768, 0],
    ['spread', 11500, 65536, 4915 / 131072],
    ['late', 20_000, 32768, 4915 / 32768],
  ] as const)('%s: w = %i writes/s over N = %i pages recovered with the placement', (placement, w, n, pendingShare) => {
    const total = 131072;
    const leftover = 4915;
    const events: SyncEvent[] = [
      { line: 1, atMs: 0, intervalS: 4, leftoverPages: leftover, newPages: overlapPages(w, n, 4) * (1 - pendingShare), bulk: true },
      ...[1.5, 0.8, 0.4, 0.2].map((t, i) => ({ line: i + 2, atMs: 0, intervalS: t, leftoverPages: leftover, newPages: overlapPages(w, n, t) * (1 - leftover / n) })),
    ];
    const f = fitOverlap(events, total);
    expect(f.placement).toBe(placement);
    expect(Math.abs(f.w / w - 1)).toBeLessThan(0.02);
    expect(Math.abs(f.n / n - 1)).toBeLessThan(0.02);
  });
});

describe('fitLog refuses what no scenario can hold', () => {
  const med = fixture('med_bw32_dt300');
  it.each([
    ['a page size below 512 B', (t: string) => t.replaceAll('"page-size": 4096', '"page-size": 256'), /^QMP log line 96: ram\.page-size must be from 512 B to 2 MiB, got 256$/],
    ['a guest smaller than a page', (t: string) => t.replaceAll('"total": 554246144', '"total": 100'), /^QMP log line 96: ram\.total must be from one page to 64\.0 TiB, got 100$/],
  ])('%s, naming the line', (_name, edit, message) => {
    expect(() => fitLog(readQmpLog(edit(med)))).toThrow(message);
  });
});
