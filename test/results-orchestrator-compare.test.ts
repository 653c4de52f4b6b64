/**
 * Orchestrators in suites and `compare` (issue 19 item 2): a run under an orchestrator keeps what it did
 * as metrics (`orchestrator.actions`, and 1 or 0 for `orchestrator.aborted` and `orchestrator.paused`),
 * so the CI gate flags a head whose orchestrator steps in more often, or aborts where the base completed.
 * From the fixture documents and suites built here (no migration runs).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareSuites, type CompareOptions } from '../src/results/compare.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { metricSeries, type MetricSeries, type SuiteDocument } from '../src/results/suite-document.ts';
import { METRIC_NAMES, metricsOf } from '../src/results/suite-metrics.ts';

const load = (name: string): ResultDocument => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ResultDocument;
const OPTIONS: CompareOptions = { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels: { base: 'base.json', head: 'head.json' } };
const counts = (s: number[]): MetricSeries => metricSeries('count', 'lower', s, true);

function suite(metrics: Record<string, MetricSeries>): SuiteDocument {
  return {
    schemaVersion: 1, kind: 'suite', tool: { name: 'migbench', version: '0.1.0' }, suite: 'orchestrators',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    env: { node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2, totalMemBytes: 1, loadAvg: [0, 0, 0], ci: false },
    startedAt: '2026-12-06T10:00:00.000Z', finishedAt: '2026-12-06T10:01:00.000Z', mode: 'simulate', seed: 1, runs: 5, warmup: 0,
    benchmarks: [{ name: 'nova-hotset', scenario: { name: 'nova-hotset' }, metrics }],
  };
}

describe("a run's orchestrator metrics", () => {
  it('an aborted run under nova: its actions counted, aborted 1, paused 0', () => {
    const doc = load('run-orchestrator.json');
    const p = doc.precopy!;
    expect(p.outcome).toBe('aborted');
    const m = metricsOf(doc);
    expect(m['orchestrator.actions']).toEqual({ value: p.orchestrator!.actions.length, unit: 'count', better: 'lower' });
    expect(m['orchestrator.aborted'].value).toBe(1);
    expect(m['orchestrator.paused'].value).toBe(0);
    for (const k of Object.keys(m)) expect(METRIC_NAMES).toContain(k);
  });

  it('a run without an orchestrator has none', () => {
    expect(Object.keys(metricsOf(load('run-full.json'))).some((k) => k.startsWith('orchestrator.'))).toBe(false);
  });
});

describe('compare: what the orchestrator did', () => {
  it('a head whose orchestrator aborts where the base completed is a regression', () => {
    const base = suite({ 'orchestrator.actions': counts([3, 3, 3, 3, 3]), 'orchestrator.aborted': counts([0, 0, 0, 0, 0]) });
    const head = suite({ 'orchestrator.actions': counts([4, 4, 4, 4, 4]), 'orchestrator.aborted': counts([1, 1, 1, 1, 1]) });
    const c = compareSuites(base, head, OPTIONS);
    const verdicts = Object.fromEntries(c.rows.map((r) => [r.metric, r.verdict]));
    expect(verdicts['orchestrator.aborted']).toBe('regression');
    expect(verdicts['orchestrator.actions']).toBe('regression');
    expect(c.outcome).toBe('regression');
  });

  it('the same actions on both sides: no change', () => {
    const same = suite({ 'orchestrator.actions': counts([3, 3, 3, 3, 3]), 'orchestrator.aborted': counts([1, 1, 1, 1, 1]) });
    const c = compareSuites(same, structuredClone(same), OPTIONS);
    expect(c.rows.every((r) => r.verdict !== 'regression')).toBe(true);
  });
});
