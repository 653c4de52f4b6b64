/** The write models `fit` chooses among (src/fit/write-models.ts): each recovers its own parameters, and the choice is table-driven. */
import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../src/fit/fit.ts';
import { bestRate, chooseModel, fitSequential, fitZipf, sequentialNewPages, zipfNewPages, type Candidate } from '../src/fit/write-models.ts';
import { zipfBuckets } from '../src/sim/predict/write-model.ts';

const TOTAL = 131_072;
const weight = (): number => 1;
const event = (intervalS: number, leftoverPages: number, bulk = false, previousIntervalS?: number): SyncEvent => ({
  line: 1,
  atMs: 0,
  intervalS,
  leftoverPages,
  newPages: 0,
  ...(bulk ? { bulk: true } : {}),
  ...(previousIntervalS !== undefined ? { previousIntervalS } : {}),
});

describe('bestRate', () => {
  it('finds the minimum of a model that is flat above a rate (a golden section alone wandered onto the plateau)', () => {
    // error: 0 at w = 25,000, rising to a plateau above 33,000 (the saturated sequential sweep of the
    // non-converging log: every later sync is the whole guest less the pending pages, whatever the rate)
    const errorOf = (w: number): number => Math.log(Math.min(w, 33_000) / 25_000) ** 2;
    expect(bestRate(errorOf).w / 25_000 - 1).toBeCloseTo(0, 4);
  });
});

describe('sequential model', () => {
  it('recovers w from syncs, saturated ones included', () => {
    const w = 25_000;
    const events = [event(3.9, 2240, true), event(5.8, 4772), event(7.7, 4608)].map((e) => ({ ...e, newPages: sequentialNewPages(e, w, TOTAL) }));
    expect(events[1].newPages).toBe(TOTAL - 4772); // the sweep has covered memory
    expect(fitSequential(events, TOTAL, weight).w / w - 1).toBeCloseTo(0, 3);
  });
});

describe('zipf model', () => {
  it('buckets hold every rank once and the writes add up to 1', () => {
    const b = zipfBuckets(TOTAL, 0.99);
    expect(b.pages.reduce((a, x) => a + x, 0)).toBe(TOTAL);
    expect(b.weight.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 12);
    expect(b.weight[0]).toBeGreaterThan(b.weight[1]);
  });
  it.each([
    [8000, 0.99],
    [120_000, 0.99],
    [50_000, 1.4],
  ])('recovers w = %i writes/s and s = %f from exact syncs', (w, s) => {
    const b = zipfBuckets(TOTAL, s);
    const events = [event(4.1, 2000, true), event(1.5, 3000, false, 4.1), event(0.6, 3500, false, 1.5), event(0.3, 3000, false, 0.6)].map((e) => ({ ...e, newPages: zipfNewPages(e, w, b, TOTAL) }));
    const f = fitZipf(events, TOTAL, weight);
    expect(Math.abs(f.w / w - 1)).toBeLessThan(0.02);
    expect(Math.abs(f.s / s - 1)).toBeLessThan(0.02);
    expect(fitZipf(events, TOTAL, weight, s).w / w - 1).toBeCloseTo(0, 3);
  });
});

describe('chooseModel', () => {
  const c = (name: string, freeParameters: number, rms: number): Candidate => ({ name, freeParameters, rms });
  it.each<[string, Candidate[], number, number]>([
    ['the overlap model by default', [c('overlap', 2, 0.01), c('sequential', 1, 0.2), c('zipf', 2, 0.02)], 5, 0],
    ['another model that fits clearly better', [c('overlap', 2, 0.036), c('sequential', 1, 0.0004), c('zipf', 2, 0.044)], 8, 1],
    ['not one only a little better (the medium QEMU log: zipf 0.0134 against 0.0143)', [c('overlap', 2, 0.0143), c('sequential', 1, 0.1), c('zipf', 2, 0.0134)], 5, 0],
    ['not one better by half but under the margin', [c('overlap', 2, 0.004), c('zipf', 2, 0.001)], 6, 0],
    ['with two syncs, a one-parameter model that fits within the noise', [c('overlap', 2, 0), c('sequential', 1, 0.027), c('zipf', 2, 0), c('zipf 0.99', 1, 0.0003)], 2, 3],
    ['with two syncs and none within the noise, the overlap model (the XBZRLE QEMU log)', [c('overlap', 2, 0), c('sequential', 1, 0.079), c('zipf', 2, 0.001), c('zipf 0.99', 1, 0.027)], 2, 0],
  ])('%s', (_what, candidates, syncs, expected) => {
    const r = chooseModel(candidates, syncs);
    expect(r.index).toBe(expected);
    expect(r.reason.length).toBeGreaterThan(20);
  });
});
