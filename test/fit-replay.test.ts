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

  // The XBZRLE log. Before issue 15's workload.workingSetZero the fitted hot set started 63 % zero (the
  // real region was all random data) and the replay ran 13.7 % long; with the zero pages placed outside
  // the working set it is +7.7 % in time and +8.2 % in bytes.
  it('high_bw128_dt300_xbzrle256: converges like the log, total time and bytes within 10 % (Done when)', async () => {
    const { replay } = await replayOf('high_bw128_dt300_xbzrle256');
    expect(replay.rows.find((r) => r.metric === 'outcome')).toMatchObject({ log: 'completed', replay: 'completed' });
    expect(Math.abs(error(replay.rows, 'total time'))).toBeLessThan(0.1);
    expect(Math.abs(error(replay.rows, 'bytes'))).toBeLessThan(0.1);
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
