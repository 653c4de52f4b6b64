import { describe, expect, it } from 'vitest';
import { compareOptionsFrom } from '../src/cli/compare.ts';
import type { CompareCommandOptions } from '../src/cli/compare.ts';
import { MigbenchError } from '../src/errors.ts';

const labels = { base: 'base', head: 'head' };
const flags = (over: Partial<CompareCommandOptions>): CompareCommandOptions => ({
  alpha: '0.05', threshold: '5%', metricThreshold: [], format: 'text', failOn: 'regression', ...over,
});

function refusal(f: () => unknown): MigbenchError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    return error as MigbenchError;
  }
  throw new Error('expected a MigbenchError');
}

describe('compare flags', () => {
  it('--metric-threshold accepts known metrics, whole or by their last part', () => {
    const o = compareOptionsFrom(flags({ metricThreshold: ['downtime=10%', 'precopy.total-time=20%', 'quick.saved=1%'] }), labels);
    expect(o.metricThresholds).toEqual({ downtime: 0.1, 'precopy.total-time': 0.2, 'quick.saved': 0.01 });
  });

  it('--metric-threshold with a typo is a usage error naming the flag, the known metrics and the value, with a suggestion', () => {
    const e = refusal(() => compareOptionsFrom(flags({ metricThreshold: ['downtme=10%'] }), labels));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/^--metric-threshold: unknown metric \(did you mean downtime\?\); expected one of .*precopy\.downtime.*, got "downtme"$/);
    expect(e.message).not.toContain('\n');
  });

  it('--metric-threshold with a name far from any metric gives no suggestion', () => {
    const e = refusal(() => compareOptionsFrom(flags({ metricThreshold: ['latency=10%'] }), labels));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/^--metric-threshold: unknown metric; expected one of .*, got "latency"$/);
  });
});
