/**
 * migbench's public library surface: explicit named exports only.
 */
export { MigbenchError, exitCodeFor, type ErrorCode } from './errors.ts';
export { realClock, ManualClock, type Clock } from './clock.ts';
export {
  resolveScenario, applyOverrides, scenarioToJson, SCENARIO_KEYS, type Scenario, type ScenarioInput, type FillInput,
} from './options.ts';
export { runScenario, createGuest, createSourceGuest, migratePrecopy, type Guest, type SourceGuest, type GuestOptions, type RunOptions, type MigrateOptions } from './run.ts';
export { checkResources, runMemoryBytes } from './resources.ts';
export { SCHEMA_VERSION, documentToJson, type ResultDocument, type PrecopyResult } from './results/document.ts';
export type { RoundRecord, MigrationStats, RamStats, RoundStage } from './results/migration-stats.ts';
export type { Outcome, StopReason } from './results/outcome.ts';
export { decideAfterSync, decideOnTime, switchoverThresholdBytes, expectedDowntimeMs } from './precopy/convergence.ts';
export { isZeroPage, isZeroRange } from './codec/zero-page.ts';
export {
  parseSizeBytes, parseRateBytesPerSec, parsePerSecond, parseDurationMs, formatBytes, formatBitRate, formatByteRate,
  formatDurationMs, formatCount,
} from './units.ts';
export { PATTERN_NAMES, type PatternName } from './workload/patterns.ts';
export { predict } from './sim/predict/predict.ts';
export { predictionToJson, type Prediction, type PrecopyPrediction, type NonConvergence, type PredictOptions } from './sim/predict/prediction.ts';
export { closedFormPrecopy, type ClosedForm } from './sim/predict/closed-form.ts';
export type { QuickPrediction } from './sim/predict/quick-model.ts';
export { runSuite } from './suite/run-suite.ts';
export { metricsOf } from './results/suite-metrics.ts';
export { expandSuite } from './suite/suite-file.ts';
export { compareSuites, hasRegression, renderComparisonText, renderComparisonMarkdown, type Comparison } from './results/compare.ts';
export { summarize, mannWhitneyU, medianCI, minPossibleP, geomean, type Summary } from './results/statistics.ts';
export { parseSuiteDocument, type SuiteDocument } from './results/suite-document.ts';
export { migrateQuick } from './quick/quick-migration.ts';
export type { QuickResult } from './results/quick-result.ts';
export { inspectImage } from './quick/inspect.ts';
export { createPolicy } from './precopy/policies.ts';
export { POLICY_NAMES, DEFAULT_POLICY_PARAMS, type PolicyName, type PolicyParams } from './precopy-params.ts';
export { decodeXbzrle, XBZRLE_UNCHANGED, XBZRLE_OVERFLOW, XBZRLE_MALFORMED } from './codec/xbzrle.ts';
export { encodeXbzrle } from './codec/xbzrle-encode.ts';
export { createXbzrleMemory } from './codec/xbzrle-memory.ts';
export { PageCache, CACHED_PAGE_LIFETIME, XBZRLE_SEND_NORMAL, XBZRLE_SKIP, type XbzrleCacheStats, type PageCacheOptions } from './codec/page-cache.ts';
export { renderRunReport, renderComparisonReport, renderSweepReport, renderReport } from './report/html.ts';
