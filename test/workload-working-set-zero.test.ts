/**
 * `workload.workingSetZero` (issue 15): the hot set's own share of zero pages, apart from the rest of the
 * guest (`guest.fill`), honoured by simulate mode's content model and by emulate mode's guest fill. Before
 * it, a guest whose zero pages all lie outside its working set (the QEMU logs' guests) could only be
 * described with one mix for every page, so the fitted hot set started 63 % zero.
 */
import { describe, expect, it } from 'vitest';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { ContentModel, KIND_RANDOM, KIND_TEXT, KIND_ZERO } from '../src/sim/content-model.ts';
import { fillGuest, hotSetFill } from '../src/workload/fill.ts';

const MEMORY = 8 * 2 ** 20;
const HOT = 2 * 2 ** 20;
const scenario = (workingSetZero: number | null, pattern: 'hotset' | 'uniform' = 'hotset', fill: ScenarioInput['guest'] = { fill: { zero: 0.8, random: 0.2, text: 0 } }) =>
  resolveScenario({ seed: 3, guest: { memory: MEMORY, pageSize: 4096, ...fill }, workload: { pattern, workingSet: HOT, workingSetZero } });

/** Share of pages in [from, to) whose kind is `kind`. */
function share(m: ContentModel, kind: number, from: number, to: number): number {
  let n = 0;
  for (let p = from; p < to; p++) if (m.kindOf(p) === kind) n++;
  return n / (to - from);
}

const hotPages = HOT / 4096;
const pages = MEMORY / 4096;

describe('simulate: the content model places the zero pages', () => {
  it('null: the hot set is filled like the rest (80 % zero here)', () => {
    const m = new ContentModel(scenario(null));
    expect(share(m, KIND_ZERO, 0, hotPages)).toBeGreaterThan(0.75);
    expect(share(m, KIND_ZERO, hotPages, pages)).toBeGreaterThan(0.75);
  });
  it('0: no zero page in the hot set, guest.fill outside it', () => {
    const m = new ContentModel(scenario(0));
    expect(share(m, KIND_ZERO, 0, hotPages)).toBe(0);
    expect(share(m, KIND_RANDOM, 0, hotPages)).toBe(1);
    expect(share(m, KIND_ZERO, hotPages, pages)).toBeGreaterThan(0.75);
    expect(share(m, KIND_ZERO, hotPages, pages)).toBeLessThan(0.85);
    expect(m.hasZeroPages).toBe(true);
  });
  it("0.5 over an all-text guest: half the hot set zero, the other half guest.fill's kind", () => {
    const m = new ContentModel(scenario(0.5, 'hotset', { fill: 'text' }));
    expect(share(m, KIND_ZERO, 0, hotPages)).toBeGreaterThan(0.45);
    expect(share(m, KIND_ZERO, 0, hotPages)).toBeLessThan(0.55);
    expect(share(m, KIND_TEXT, 0, hotPages) + share(m, KIND_ZERO, 0, hotPages)).toBe(1);
    expect(share(m, KIND_TEXT, hotPages, pages)).toBe(1);
    expect(m.hasZeroPages).toBe(true);
  });
  it('a pattern without a hot set ignores it', () => {
    const m = new ContentModel(scenario(0, 'uniform'));
    expect(share(m, KIND_ZERO, 0, hotPages)).toBeGreaterThan(0.75);
    expect(hotSetFill(scenario(0, 'uniform'))).toBeUndefined();
  });
  it('is refused outside 0 … 1, naming the key', () => {
    expect(() => scenario(1.5)).toThrow(/workload\.workingSetZero/);
  });
});

describe('emulate: the guest fill places the zero pages', () => {
  const zeroShare = (m: GuestMemory, from: number, to: number): number => {
    let n = 0;
    for (let p = from; p < to; p++) if (m.page(p).every((x) => x === 0)) n++;
    return n / (to - from);
  };
  it('0: the hot set holds no zero page, the rest keeps guest.fill', () => {
    const s = scenario(0);
    const m = new GuestMemory(guestLayout(MEMORY, 4096));
    fillGuest(m, s.guest.fill, s.seed, undefined, hotSetFill(s));
    expect(zeroShare(m, 0, hotPages)).toBe(0);
    expect(zeroShare(m, hotPages, pages)).toBeGreaterThan(0.75);
    expect(zeroShare(m, hotPages, pages)).toBeLessThan(0.85);
  });
  it('without it, the hot set is 80 % zero like the rest', () => {
    const s = scenario(null);
    expect(hotSetFill(s)).toBeUndefined();
    const m = new GuestMemory(guestLayout(MEMORY, 4096));
    fillGuest(m, s.guest.fill, s.seed, undefined, hotSetFill(s));
    expect(zeroShare(m, 0, hotPages)).toBeGreaterThan(0.75);
  });
});
