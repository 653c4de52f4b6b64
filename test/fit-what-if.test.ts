/** `fit --what-if`: the plan of points and the answer from their figures (src/fit/what-if.ts), pure. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { answerWhatIf, whatIfPlan } from '../src/fit/what-if.ts';
import type { SweepPoint } from '../src/results/sweep-types.ts';

const fitOf = (name: string) => fitLog(readQmpLog(readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8')), name);
const xbzrle = fitOf('high_bw128_dt300_xbzrle256');
const plain = fitOf('med_bw32_dt300');
const describe_ = (p: { params: Record<string, unknown> }): string => JSON.stringify(p.params);

function point(index: number, params: Record<string, unknown>, outcome: string, downtimeMs: number | null, totalTimeMs: number | null): SweepPoint {
  return { index, params, totalTimeMs, downtimeMs, transferredBytes: 1, guestSlowdown: 1, completed: totalTimeMs === null ? 0 : 1, runs: 1, runsDetail: [], outcomes: { [outcome]: 1 } };
}

describe('whatIfPlan', () => {
  it('a log with XBZRLE: the logged settings, the same without XBZRLE, then the grid with XBZRLE on (as logged) and off', () => {
    const plan = whatIfPlan(xbzrle, [{ key: 'precopy.downtimeLimitMs', values: [300, 1000] }], 100);
    expect(plan.points.slice(0, 2)).toEqual([{}, { 'precopy.xbzrle': { enabled: false } }]);
    expect(plan.withoutXbzrleIndex).toBe(1);
    expect(plan.gridStart).toBe(2);
    expect(plan.axes.map((a) => a.key)).toEqual(['precopy.downtimeLimitMs', 'precopy.xbzrle']);
    expect(plan.points.slice(2)).toHaveLength(4);
    expect(plan.points[2]).toEqual({ 'precopy.downtimeLimitMs': 300, 'precopy.xbzrle': { enabled: true, cacheSize: 256 * 2 ** 20 } });
  });

  it('no XBZRLE axis added when the user gives one, nor when the log had XBZRLE off', () => {
    expect(whatIfPlan(xbzrle, [{ key: 'precopy.xbzrle.cacheSize', values: ['64MiB'] }], 100).axes.map((a) => a.key)).toEqual(['precopy.xbzrle.cacheSize']);
    const p = whatIfPlan(plain, [{ key: 'link.bandwidth', values: ['1Gbit/s'] }], 100);
    expect(p.withoutXbzrleIndex).toBeNull();
    expect(p.points).toEqual([{}, { 'link.bandwidth': '1Gbit/s' }]);
  });

  it('refuses a grid larger than --max-points, the extra points counted', () => {
    expect(() => whatIfPlan(xbzrle, [{ key: 'precopy.downtimeLimitMs', values: [1, 2, 3, 4] }], 9)).toThrow(/grid/);
    expect(whatIfPlan(xbzrle, [{ key: 'precopy.downtimeLimitMs', values: [1, 2, 3, 4] }], 10).points).toHaveLength(10);
  });
});

describe('answerWhatIf', () => {
  const plan = whatIfPlan(xbzrle, [{ key: 'precopy.downtimeLimitMs', values: [300, 1000] }], 100);
  const on = { enabled: true, cacheSize: 256 * 2 ** 20 };
  const off = { enabled: false };
  it('the cheapest converging point within the target overall and without XBZRLE; forced stops and cancels never count', () => {
    const points = [
      point(0, {}, 'converged', 75, 2880),
      point(1, { 'precopy.xbzrle': off }, 'cancelled', null, null),
      point(2, { 'precopy.downtimeLimitMs': 300, 'precopy.xbzrle': on }, 'converged', 75, 2880),
      // faster, but a forced stop: not a converged migration
      point(3, { 'precopy.downtimeLimitMs': 300, 'precopy.xbzrle': off }, 'forced-stop', 250, 1000),
      point(4, { 'precopy.downtimeLimitMs': 1000, 'precopy.xbzrle': on }, 'converged', 975, 2670),
      point(5, { 'precopy.downtimeLimitMs': 1000, 'precopy.xbzrle': off }, 'converged', 963, 2650),
    ];
    const a = answerWhatIf(plan, points, 1500, 'total-time', describe_);
    expect(a.withoutXbzrle!.outcomes).toEqual({ cancelled: 1 });
    expect(a.best.point!.index).toBe(5);
    expect(a.bestWithoutXbzrle!.point!.index).toBe(5);
    const strict = answerWhatIf(plan, points, 500, 'total-time', describe_);
    expect(strict.best.point!.index).toBe(2);
    expect(strict.bestWithoutXbzrle!.point).toBeNull();
    expect(strict.bestWithoutXbzrle!.why).toBe('1 of the 2 settings without XBZRLE converged, none within the downtime target of 500 ms (the closest: {"precopy.downtimeLimitMs":1000,"precopy.xbzrle":{"enabled":false}}, 963 ms)');
  });

  it('nothing converges: says so', () => {
    const points = [0, 1, 2, 3, 4, 5].map((i) => point(i, i < 2 ? {} : { 'precopy.xbzrle': off }, 'cancelled', null, null));
    const a = answerWhatIf(plan, points, 300, 'bytes', describe_);
    expect(a.best).toEqual({ point: null, why: 'none of the 4 settings converged' });
  });
});
