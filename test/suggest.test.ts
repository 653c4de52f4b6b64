import { describe, expect, it } from 'vitest';
import { editDistance, foldName, nearest, orList } from '../src/suggest.ts';

describe('editDistance (optimal string alignment)', () => {
  it.each<[string, string, number]>([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['', 'abc', 3],
    ['dirtyrte', 'dirtyrate', 1], // a letter left out
    ['memroy', 'memory', 1], // a transposition counts once
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // OSA, not full Damerau: no substring edited twice
  ])('%j → %j: %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('nearest', () => {
  it.each<[string, string[], string[]]>([
    ['dirtyRte', ['pattern', 'dirtyRate', 'workingSet'], ['dirtyRate']],
    ['downtime_limit_ms', ['downtimeLimitMs', 'maxBandwidth'], ['downtimeLimitMs']], // folded: case, "_" and "-" ignored
    ['max-bandwidth', ['downtimeLimitMs', 'maxBandwidth'], ['maxBandwidth']],
    ['latency', ['bandwidth', 'latencyMs'], ['latencyMs']],
    ['timeout', ['timeoutMs', 'onTimeout', 'policy'], ['timeoutMs', 'onTimeout']], // ties: all of them
    ['zzz', ['name', 'seed'], []],
    ['max', ['min', 'mix'], ['mix']],
    ['x', ['x', 'y'], []], // no one-letter guesses
    ['x'.repeat(100_000), ['x'.repeat(8)], []], // far apart in length: not compared at all
  ])('%j among %j → %j', (word, candidates, expected) => {
    expect(nearest(word, candidates)).toEqual(expected);
  });

  it('foldName and orList', () => {
    expect(foldName('Max-Bandwidth_ ms')).toBe('maxbandwidthms');
    expect([orList([]), orList(['a']), orList(['a', 'b']), orList(['a', 'b', 'c'])]).toEqual(['', 'a', 'a or b', 'a, b or c']);
  });
});
