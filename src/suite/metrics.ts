/** A suite run's metrics live in src/results/suite-metrics.ts: statistics on result documents, which the simulate-mode pool (src/pool/pool.ts) also reduces runs to. */
export { METRIC_NAMES, metricsOf, type MetricValue } from '../results/suite-metrics.ts';
