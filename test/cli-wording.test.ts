import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageInspectCommand } from '../src/cli/image.ts';
import { suiteDoneLine, suitePlanLine } from '../src/cli/suite.ts';
import { exitCodeFor, MigbenchError } from '../src/errors.ts';
import { renderComparisonSection } from '../src/report/html.ts';
import { compareSuites } from '../src/results/compare.ts';
import { metricSeries, type SuiteDocument } from '../src/results/suite-document.ts';
import { plural } from '../src/units.ts';

function doc(runs: number): SuiteDocument {
  return {
    schemaVersion: 1, kind: 'suite', tool: { name: 'migbench', version: '0.1.0' }, suite: 'smoke',
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    env: { node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2, totalMemBytes: 1, loadAvg: [0, 0, 0], ci: false },
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', mode: 'emulate', seed: 1, runs, warmup: 0,
    benchmarks: [{ name: 'idle', scenario: { name: 'idle' }, metrics: { 'precopy.downtime': metricSeries('ms', 'lower', [1]) } }],
  };
}

describe('run counts: "1 run", not "1 runs"', () => {
  it('plural()', () => {
    expect(plural(1, 'run')).toBe('1 run');
    expect(plural(0, 'run')).toBe('0 runs');
    expect(plural(5, 'run')).toBe('5 runs');
  });

  it('suite progress lines', () => {
    expect(suitePlanLine('smoke', 1, 0, 1, 'one at a time (emulate mode)')).toBe('migbench suite smoke: 1 benchmark × (0 warm-up + 1 run), one at a time (emulate mode)');
    expect(suitePlanLine('smoke', 2, 1, 5, 'x')).toBe('migbench suite smoke: 2 benchmarks × (1 warm-up + 5 runs), x');
    expect(suiteDoneLine('smoke', 1, 1)).toBe('suite smoke: 1 benchmark, 1 run each');
    expect(suiteDoneLine('smoke', 3, 10)).toBe('suite smoke: 3 benchmarks, 10 runs each');
  });

  it('the HTML comparison section', () => {
    const html = renderComparisonSection(compareSuites(doc(1), doc(1), { alpha: 0.05, threshold: 0.05, metricThresholds: {} }));
    expect(html).toContain(', 1 run → head');
    expect(html).toContain(', 1 run.</p>');
    expect(html).not.toMatch(/\b1 runs\b/);
  });
});

describe('image inspect of a file that is not there', () => {
  it('is a usage error (exit 2) with one line naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migbench-inspect-'));
    try {
      for (const path of [join(dir, 'missing.img'), dir]) {
        let error: unknown = null;
        try {
          await imageInspectCommand(path, { json: false });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(MigbenchError);
        const e = error as MigbenchError;
        expect(e.code).toBe('E_USAGE');
        expect(exitCodeFor(e.code)).toBe(2);
        expect(e.message).toContain(JSON.stringify(path));
        expect(e.message).toMatch(/^image inspect: expected an image file, got /);
        expect(e.message).not.toContain('\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
