/**
 * The orchestrator's actions (`precopy.orchestrator.actions`, issue 19) as the reports word them: a
 * short label for a mark on the time series, and a sentence for the tables and the markdown. Pure and
 * plain text: the caller escapes for HTML or markdown (`reason`, `detail` and the states are free text
 * from a document). Values are read loosely: a document is untrusted and may hold anything.
 */
import type { OrchestratorActionRecord, OrchestratorReport } from './orchestrator-report.ts';
import { formatDurationMs } from '../units.ts';

/** A limit in ms as text, anything else (a state such as "migrating") as it is. */
const valueText = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? formatDurationMs(v) : String(v ?? '—'));

/** The few words on a mark: "downtime 95.0 ms", "post-copy", "pause", "abort". */
export function actionLabel(a: OrchestratorActionRecord): string {
  switch (a.action) {
    case 'set-downtime':
      return `downtime ${valueText(a.after)}`;
    case 'postcopy':
      return 'post-copy';
    case 'pause':
      return 'pause';
    case 'abort':
      return 'abort';
    default:
      return String(a.action);
  }
}

/** What the action did, in a sentence (without the orchestrator's own `detail`). */
export function actionText(a: OrchestratorActionRecord): string {
  const why = a.reason ? ` (${a.reason})` : '';
  switch (a.action) {
    case 'set-downtime':
      return `downtime limit ${valueText(a.before)} → ${valueText(a.after)}`;
    case 'postcopy':
      return `switch to post-copy${why}`;
    case 'pause':
      return `pause the guest to finish${why}: a stop-and-copy of everything left`;
    case 'abort':
      return `abort${why}: the guest stays on the source, running`;
    default:
      return `${String(a.action)}${why}: ${valueText(a.before)} → ${valueText(a.after)}`;
  }
}

/** The actions a report lists: those of a document's orchestrator block, empty when it has none. */
export function orchestratorActions(o: OrchestratorReport | null | undefined): OrchestratorActionRecord[] {
  return o && Array.isArray(o.actions) ? o.actions.filter((a) => a !== null && typeof a === 'object' && typeof a.atMs === 'number' && Number.isFinite(a.atMs)) : [];
}
