/**
 * The fuzz properties (test/fuzz/properties.ts) with a fixed seed and a few cases each: part of
 * `npm test`. `npm run fuzz` runs the same properties for 100 000+ cases.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { setCaseLimitMs } from './fuzz/check.ts';
import { allProperties, removeScratch } from './fuzz/properties.ts';

const SEED = 20261204;
/** cases per property: the fast decoders get more; the commands that render HTML fewer */
const runsFor = (weight: number): number => (weight >= 4 ? 60 : weight >= 2 ? 20 : 6);

describe('fuzz (seeded, short)', () => {
  // a hang is still caught; a busy CI machine is not taken for one
  setCaseLimitMs(10_000);
  afterAll(() => removeScratch());
  for (const p of allProperties()) {
    it(p.name, async () => {
      const property = await p.make();
      const details = await fc.check(property as fc.IRawProperty<unknown[]>, { seed: SEED, numRuns: runsFor(p.weight), endOnFailure: true });
      const error = details.errorInstance;
      expect(details.failed, `${fc.defaultReportMessage(details) ?? ''}\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`).toBe(false);
    });
  }
});
