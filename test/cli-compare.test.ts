import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compareOptionsFrom, reportComparison } from '../src/cli/compare.ts';
import { compareSuites, renderComparisonMarkdown, renderComparisonText } from '../src/results/compare.ts';
import { metricSeries, type SuiteDocument } from '../src/results/suite-document.ts';
import type { CompareCommandOptions } from '../src/cli/compare.ts';
import { MigbenchError } from '../src/errors.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

function suite(benchmarks: Record<string, { samples: number[]; scenario?: Record<string, unknown>; exact?: boolean }>): SuiteDocument {
  return {
    schemaVersion: 1, kind: 'suite', tool: { name: 'migbench', version: '0.1.0' }, suite: 'smoke',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    env: { node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2, totalMemBytes: 1, loadAvg: [0, 0, 0], ci: false },
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', mode: 'emulate', seed: 1, runs: 3, warmup: 0,
    benchmarks: Object.entries(benchmarks).map(([name, b]) => ({
      name,
      scenario: b.scenario ?? { name },
      metrics: { 'precopy.downtime': metricSeries('ms', 'lower', b.samples, b.exact ?? false) },
    })),
  };
}

describe('compare when nothing could be tested', () => {
  let stdout = '';
  let stderr = '';
  beforeEach(() => {
    stdout = '';
    stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    // the text table goes to stderr (human output), markdown and json to stdout (data)
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const tiny = () => [suite({ a: { samples: [100, 101, 102] }, b: { samples: [5, 6, 7] } }), suite({ a: { samples: [200, 201, 202] }, b: { samples: [5, 6, 7] } })] as const;

  it('terminal text shows control characters from the documents as escapes, never raw (issue 20)', () => {
    const evil = 'a\u001b]0;pwned\u0007\u001b[2J';
    const docs = [suite({ [evil]: { samples: [10, 11, 12, 13, 14, 15] } }), suite({ [evil]: { samples: [20, 21, 22, 23, 24, 25] } })] as const;
    const text = renderComparisonText(compareSuites(docs[0], docs[1], { alpha: 0.05, threshold: 0.05, metricThresholds: {} }));
    expect(text).toContain('a\\u001b]0;pwned\\u0007\\u001b[2J');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('every row with too few samples: verdict "undecided", not "no regression", and exit 2', () => {
    const [base, head] = tiny();
    const c = compareSuites(base, head, { alpha: 0.05, threshold: 0.05, metricThresholds: {} });
    expect(c.outcome).toBe('undecided');
    expect(renderComparisonText(c)).toMatch(/^alpha 0.05, threshold 5%: undecided: nothing could be tested/m);
    expect(renderComparisonMarkdown(c)).toContain('⚠️ **undecided: nothing could be tested');
    for (const format of ['text', 'markdown', 'json']) {
      expect(reportComparison(base, head, flags({ format }), labels)).toBe(2);
    }
    expect(JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1)).outcome).toBe('undecided');
  });

  it('--fail-on never keeps exit 0, still saying undecided', () => {
    const [base, head] = tiny();
    expect(reportComparison(base, head, flags({ failOn: 'never' }), labels)).toBe(0);
    expect(stderr).toContain('undecided: nothing could be tested');
  });

  it('one tested row is enough to decide: exit 0 without a regression, 1 with one', () => {
    const base = suite({ a: { samples: [1, 2, 3] }, e: { samples: [10], exact: true } });
    const same = suite({ a: { samples: [1, 2, 3] }, e: { samples: [10], exact: true } });
    const worse = suite({ a: { samples: [1, 2, 3] }, e: { samples: [20], exact: true } });
    expect(compareSuites(base, same, { alpha: 0.05, threshold: 0.05, metricThresholds: {} }).outcome).toBe('no-regression');
    expect(reportComparison(base, same, flags({}), labels)).toBe(0);
    expect(stderr).toMatch(/^alpha 0\.05, threshold 5%/m);
    expect(stdout).toBe('');
    expect(stderr).not.toContain('undecided');
    expect(reportComparison(base, worse, flags({}), labels)).toBe(1);
  });
});

describe('compare --html', () => {
  it('writes the raw samples of both sides and what differs besides the code (issue 18 item 7)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migbench-compare-html-'));
    try {
      const base = suite({ a: { samples: [100, 101, 102, 103, 104, 105] } });
      const head = { ...suite({ a: { samples: [200, 201, 202, 203, 204, 205], scenario: { name: 'a', link: { bandwidth: 1 } } } }), env: { ...base.env, node: 'v20.99.0' } };
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const html = join(dir, 'c.html');
      reportComparison(base, head, flags({ html }), labels);
      const page = readFileSync(html, 'utf8');
      expect(page).toContain('<h3>Raw samples in run order</h3>');
      expect(page).toContain('<h3>What differs besides the code</h3>');
      expect(page).toContain('env.node');
    } finally {
      vi.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compare names scenario keys that differ between the sides', () => {
  let stdout = '';
  beforeEach(() => {
    stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const scenario = (bandwidth: number, extra: Record<string, unknown> = {}) => ({
    name: 'hotset', seed: 1, guest: { memory: 16777216 }, link: { bandwidth, latencyMs: 0 }, ...extra,
  });
  const samples = [10, 11, 12, 13, 14];
  const pair = () => [
    suite({ hotset: { samples, scenario: scenario(125000000) }, idle: { samples, scenario: { name: 'idle' } } }),
    suite({ hotset: { samples, scenario: scenario(62500000, { workload: { pattern: 'zipf' } }) }, idle: { samples, scenario: { name: 'idle' } } }),
  ] as const;

  it('lists each benchmark, key path and both values, readably, in text, markdown and json; the exit code is unchanged', () => {
    const [base, head] = pair();
    const c = compareSuites(base, head, { alpha: 0.05, threshold: 0.05, metricThresholds: {} });
    expect(c.scenarioDiffs).toEqual([
      { benchmark: 'hotset', key: 'link.bandwidth', base: 125000000, head: 62500000 },
      { benchmark: 'hotset', key: 'workload', base: null, head: { pattern: 'zipf' } },
    ]);
    const warning = 'the two sides ran different scenarios (hotset: link.bandwidth 1.00 Gbit/s → 500 Mbit/s; hotset: workload null → {"pattern":"zipf"}; base → head): differences may come from the scenario, not the code';
    expect(c.warnings).toContain(warning);
    expect(renderComparisonText(c)).toContain('warning: the two sides ran different scenarios (hotset: link.bandwidth 1.00 Gbit/s → 500 Mbit/s;');
    expect(renderComparisonMarkdown(c)).toContain('- the two sides ran different scenarios (hotset: link.bandwidth 1.00 Gbit/s → 500 Mbit/s;');
    expect(reportComparison(base, head, flags({ format: 'json' }), labels)).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.scenarioDiffs[0]).toEqual({ benchmark: 'hotset', key: 'link.bandwidth', base: 125000000, head: 62500000 });
    expect(json.warnings.some((w: string) => w.includes('link.bandwidth 1.00 Gbit/s → 500 Mbit/s'))).toBe(true);
  });

  it('raw values when the readable ones look alike; nothing when the scenarios agree', () => {
    const c = compareSuites(
      suite({ hotset: { samples, scenario: scenario(125000000) } }),
      suite({ hotset: { samples, scenario: scenario(125000001) } }),
      { alpha: 0.05, threshold: 0.05, metricThresholds: {} },
    );
    expect(c.warnings.some((w) => w.includes('hotset: link.bandwidth 125000000 → 125000001'))).toBe(true);
    const same = compareSuites(suite({ hotset: { samples, scenario: scenario(1) } }), suite({ hotset: { samples, scenario: scenario(1) } }), { alpha: 0.05, threshold: 0.05, metricThresholds: {} });
    expect(same.scenarioDiffs).toEqual([]);
    expect(same.warnings.some((w) => w.includes('scenario'))).toBe(false);
  });
});
