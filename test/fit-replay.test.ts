import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { replayFit, sparkline } from '../src/fit/replay.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8');
const replayOf = async (name: string) => {
  const fit = fitLog(readQmpLog(fixture(name)), name);
  return { fit, replay: await replayFit(fit) };
};
const error = (rows: readonly { metric: string; relativeError: number | null }[], metric: string): number => rows.find((r) => r.metric === metric)!.relativeError!;

describe('replay of the fitted scenario in simulate mode', () => {
  // Done when (issue 17): the replay's total time and bytes within 10 % of the log's
  it.each(['idle_bw128_dt300', 'med_bw32_dt300'])('%s: total time and bytes within 10 % of the log, same outcome', async (name) => {
    const { fit, replay } = await replayOf(name);
    expect(Math.abs(error(replay.rows, 'total time'))).toBeLessThan(0.1);
    expect(Math.abs(error(replay.rows, 'bytes'))).toBeLessThan(0.1);
    expect(replay.rows.find((r) => r.metric === 'outcome')).toMatchObject({ log: 'completed', replay: 'completed' });
    expect(replay.rows.find((r) => r.metric === 'total time')!.log).toBe(fit.log.totalTimeMs);
    // both curves start from the whole guest and end at nothing pending
    expect(replay.logRemaining[0]).toEqual({ tMs: 0, bytes: 554_246_144 });
    expect(replay.logRemaining.at(-1)!.bytes).toBe(0);
    expect(replay.replayRemaining.at(-1)!.bytes).toBe(0);
  });

  // The XBZRLE log: the replay converges too, but 13.7 % slower and with 14.3 % more bytes (2,884 ms
  // and 388.9 MB against 2,536 ms and 340.3 MB). The fitted write rate and working set are within 4 %;
  // the gap is in the replay: its hot set is the first pages of memory (sent first in the bulk round,
  // so re-dirtied longer), 63 % of it starts as zero pages (the real region was all random data), and
  // it gets fewer XBZRLE hits (14,696 deltas against QEMU's 26,690).
  it('high_bw128_dt300_xbzrle256: converges like the log, total time and bytes within 15 %', async () => {
    const { replay } = await replayOf('high_bw128_dt300_xbzrle256');
    expect(replay.rows.find((r) => r.metric === 'outcome')).toMatchObject({ log: 'completed', replay: 'completed' });
    expect(Math.abs(error(replay.rows, 'total time'))).toBeLessThan(0.15);
    expect(Math.abs(error(replay.rows, 'bytes'))).toBeLessThan(0.15);
  });
  it.fails('high_bw128_dt300_xbzrle256: total time within 10 % (Done when; not met yet: +13.7 %)', async () => {
    const { replay } = await replayOf('high_bw128_dt300_xbzrle256');
    expect(Math.abs(error(replay.rows, 'total time'))).toBeLessThan(0.1);
  });
});

describe('sparkline', () => {
  it.each([
    [[{ tMs: 0, bytes: 8 }, { tMs: 50, bytes: 4 }, { tMs: 100, bytes: 0 }], 100, 8, 5, '██▄▄ '],
    [[{ tMs: 0, bytes: 8 }, { tMs: 100, bytes: 1 }], 200, 8, 3, '█▁▁'],
    [[{ tMs: 50, bytes: 8 }], 100, 8, 3, ' ██'],
    [[], 100, 8, 4, '    '],
    [[{ tMs: 0, bytes: 0 }], 100, 0, 2, '  '],
  ])('draws %j over %i ms, full height %i, %i columns', (curve, endMs, max, width, expected) => {
    expect(sparkline(curve, endMs, max, width)).toBe(expected);
  });
});
