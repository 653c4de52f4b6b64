/**
 * What the orchestrator did to a pre-copy migration (scenario `orchestrator`, issue 19), as the result
 * document holds it (`precopy.orchestrator`). Types only; the loop (precopy/loop.ts) records it.
 */

/** One action, when the orchestrator took it and what it changed. */
export interface OrchestratorActionRecord {
  /** ms from the migration request */
  atMs: number;
  action: 'set-downtime' | 'postcopy' | 'pause' | 'abort';
  /** why (the orchestrator's words, e.g. "completion-timeout"); null for a downtime step */
  reason: string | null;
  /** set-downtime: the downtime limit in ms before and after; the others: the migration's state ("precopy" → "postcopy", "running" → "paused", "migrating" → "aborted") */
  before: number | string;
  after: number | string;
}

export interface OrchestratorReport {
  /** the scenario's orchestrator.kind */
  kind: string;
  /** what it set before `migrate` (QEMU capabilities and parameters); a field left out kept the scenario's value */
  start: {
    downtimeLimitMs?: number;
    maxBandwidthBytesPerSec?: number;
    autoConverge?: boolean;
    postcopy?: boolean;
    xbzrleCacheBytes?: number;
  };
  /** every action, in order */
  actions: OrchestratorActionRecord[];
}
