/**
 * Every fuzz property in one list: a name, a weight (its share of the cases of a run) and a `make`
 * that does the setup (real encodings to mutate, destinations, scratch files) and returns the
 * fast-check property. `test/fuzz.test.ts` runs each with a fixed seed and few cases (part of
 * `npm test`); `npm run fuzz` (test/fuzz/run.ts) runs them all for 100 000+ cases.
 *
 * What every property checks, whatever the input: the decoder or reader either accepts it (and what
 * it produced is well formed) or refuses it with a MigbenchError of exactly the named code
 * (E_IMAGE_CORRUPT, E_STREAM_CORRUPT, E_RESULT, E_SCENARIO) and a one-line message; nothing else is
 * thrown; nothing is written outside the target (guard bytes, untouched pages and rings); each case
 * finishes within a time limit (check.ts), and the image reader allocates a bounded amount.
 */
import type fc from 'fast-check';
import { compareProperty, mergeProperty, removeDocumentScratch, reportProperty, scenarioFileProperty, scenarioProperty, suiteFileProperty } from './document-properties.ts';
import { frameProperty, streamProperty, xbzrleProperty, zstdProperty } from './codec-properties.ts';
import { qmpLogProperty } from './qmp-log-properties.ts';
import { tcpChannelProperty, tcpSessionProperty } from './tcp-properties.ts';
import { imageHeaderProperty, imageRestoreProperty, removeImageScratch } from './image-properties.ts';

export interface FuzzProperty {
  name: string;
  /** share of the cases of a run, relative to the other properties */
  weight: number;
  make(): Promise<fc.IRawProperty<[never]> | fc.IRawProperty<never[]> | fc.IRawProperty<unknown[]>>;
}

export function allProperties(): FuzzProperty[] {
  return [
    imageHeaderProperty(),
    imageRestoreProperty('stream', 8),
    imageRestoreProperty('mapped', 5),
    frameProperty('frames', 16, null),
    frameProperty('frames-zlib', 5, ['zlib', 'zlib-bomb', 'zlib-short'], true),
    frameProperty('frames-zstd', 5, ['zstd', 'zstd-bomb'], true),
    streamProperty(),
    tcpSessionProperty(),
    tcpChannelProperty(),
    xbzrleProperty(),
    zstdProperty(),
    compareProperty(),
    mergeProperty(),
    reportProperty(),
    scenarioProperty(),
    scenarioFileProperty(),
    suiteFileProperty(),
    qmpLogProperty(),
  ];
}

/** Remove the scratch files the properties wrote. */
export function removeScratch(): void {
  removeImageScratch();
  removeDocumentScratch();
}
