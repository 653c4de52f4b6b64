/**
 * Exports of a suite result for users' own CI: github-action-benchmark's `customSmallerIsBetter`
 * JSON and Bencher's Metric Format (BMF). Both carry the median of each metric; the range is the
 * median's confidence interval.
 */
import type { SuiteDocument } from './suite-document.ts';

export interface GithubActionBenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

/** Every metric of every benchmark as one entry; all of migbench's suite metrics are lower-is-better. */
export function toGithubActionBenchmark(doc: SuiteDocument): GithubActionBenchmarkEntry[] {
  const out: GithubActionBenchmarkEntry[] = [];
  for (const b of doc.benchmarks) {
    for (const [metric, m] of Object.entries(b.metrics)) {
      if (m.better !== 'lower') continue; // customSmallerIsBetter only
      const s = m.summary;
      const half = s.ciLow !== null && s.ciHigh !== null ? Math.max(s.ciHigh - s.median, s.median - s.ciLow) : null;
      out.push({
        name: `${b.name} ${metric}`,
        unit: m.unit,
        value: s.median,
        ...(half !== null ? { range: `± ${Number(half.toPrecision(4))}` } : {}),
        extra: `median of ${s.n} runs; min ${s.min}, max ${s.max}; ${doc.git.commit ?? 'unknown commit'}`,
      });
    }
  }
  return out;
}

export type BencherMetricFormat = Record<string, Record<string, { value: number; lower_value?: number; upper_value?: number }>>;

/** Bencher Metric Format: { benchmark: { measure: { value, lower_value, upper_value } } }; measure slugs from metric names. */
export function toBencher(doc: SuiteDocument): BencherMetricFormat {
  const out: BencherMetricFormat = {};
  for (const b of doc.benchmarks) {
    const measures: BencherMetricFormat[string] = {};
    for (const [metric, m] of Object.entries(b.metrics)) {
      const s = m.summary;
      measures[metric.replace(/[^a-z0-9]+/gi, '-').toLowerCase()] = {
        value: s.median,
        ...(s.ciLow !== null ? { lower_value: s.ciLow } : {}),
        ...(s.ciHigh !== null ? { upper_value: s.ciHigh } : {}),
      };
    }
    out[b.name] = measures;
  }
  return out;
}
