/**
 * The terminal lines of what the orchestrator did (scenario `orchestrator`, issue 19), printed after the
 * summary table: what it set at the start, then one line per action, when and what it changed, and
 * what became of the guest. Pure: numbers and the orchestrator's own words, escaped for a terminal.
 */
import type { Colors } from '../report/style.ts';
import type { PrecopyResult } from '../results/document.ts';
import type { OrchestratorActionRecord } from '../results/orchestrator-report.ts';
import { formatByteRate, formatDurationMs } from '../units.ts';

/** Control characters (and ESC sequences) out of a word that reaches the terminal. */
const plain = (v: unknown): string => String(v).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

function actionText(a: OrchestratorActionRecord): string {
  switch (a.action) {
    case 'set-downtime':
      return `downtime limit ${formatDurationMs(Number(a.before))} → ${formatDurationMs(Number(a.after))}`;
    case 'postcopy':
      return `switch to post-copy (${plain(a.reason)})`;
    case 'pause':
      return `pause the guest to finish (${plain(a.reason)}): a stop-and-copy of everything left`;
    case 'abort':
      return `abort (${plain(a.reason)}): the guest stays on the source, running`;
  }
}

export function orchestratorLines(p: PrecopyResult, c: Colors): string[] {
  const o = p.orchestrator;
  if (!o) return [];
  const start = [
    o.start.downtimeLimitMs !== undefined ? `downtime limit ${formatDurationMs(o.start.downtimeLimitMs)}` : null,
    o.start.maxBandwidthBytesPerSec !== undefined ? `max-bandwidth ${formatByteRate(o.start.maxBandwidthBytesPerSec)}` : null,
    o.start.autoConverge !== undefined ? `auto-converge ${o.start.autoConverge ? 'on' : 'off'}` : null,
    o.start.postcopy ? 'postcopy-ram on' : null,
    o.start.xbzrleCacheBytes !== undefined ? `XBZRLE cache ${o.start.xbzrleCacheBytes} B` : null,
  ].filter((x) => x !== null);
  const lines = [`${c.bold('orchestrator')}  ${plain(o.kind)}${start.length ? `; at the start: ${start.join(', ')}` : ''}; ${o.actions.length === 0 ? 'no action' : `${o.actions.length} action${o.actions.length === 1 ? '' : 's'}`}`];
  for (const a of o.actions) lines.push(`  ${formatDurationMs(a.atMs).padStart(9)}  ${actionText(a)}`);
  return lines;
}
