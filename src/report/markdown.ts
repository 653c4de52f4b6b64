/**
 * The markdown summary (`report --markdown`, for PR comments and job summaries): headline figures,
 * verdicts and recommendations. Every value from a document is escaped (`md`): `<`, `>`, `&` as
 * entities, markdown syntax, cell bars and line breaks neutralised.
 */
import { type Comparison, isUndecided } from '../results/compare.ts';
import type { ResultDocument } from '../results/document.ts';
import { postcopyFigures } from '../results/postcopy-figures.ts';
import { lazyRestoreFigures } from '../results/lazy-restore-figures.ts';
import { actionText, orchestratorActions } from '../results/orchestrator-actions.ts';
import { PAIR_ROWS, precopyPostcopyPairs } from '../results/method-pairs.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import { paretoFrontier } from '../results/pareto.ts';
import type { SweepDocument, TuneBlock } from '../results/sweep-types.ts';
import { markdownCode } from '../escape.ts';
import type { ScenarioView } from '../results/scenario-view.ts';
import { type DocumentKind, detectKind, renderingOf } from './documents.ts';
import { describePoint } from './sweep-html.ts';
import { VERDICT_TEXT, changeText, verdictRank } from './comparison-html.ts';
import { bytesText, countText, md, metricText, msText, valueText } from './text.ts';

/** A short markdown summary of the same documents: headline figures, verdicts, recommendations. */
export function renderMarkdownSummary(docs: unknown[], labels?: string[]): string {
  const out: string[] = ['# migbench report', ''];
  docs.forEach((doc, i) => {
    const kind = detectKind(doc);
    if (kind !== null) renderingOf(kind, labels?.[i] ?? `document ${i + 1}`, () => markdownSection(out, kind, doc, labels?.[i]));
    out.push('');
  });
  return out.join('\n');
}

/** One table row: every cell is markdown already (escaped where it holds a document's value). */
const mdRow = (cells: string[]): string => `| ${cells.join(' | ')} |`;

function markdownSection(out: string[], kind: DocumentKind, doc: unknown, name: string | undefined): void {
  const label = name ? ` (${md(name)})` : '';
  if (kind === 'run') {
    const d = doc as ResultDocument;
    const s = (d.scenario ?? {}) as ScenarioView;
    const p = d.precopy;
    const q = d.quick;
    // a migration that switched to post-copy: its pre-copy phase, then post-copy in a column of its own
    const pc = postcopyFigures(p);
    out.push(`## Run: ${md(s.name ?? 'unnamed')}${label}`, '', `| | pre-copy |${pc ? ' post-copy |' : ''} quick migration |`, `|---|--:|${pc ? '--:|' : ''}--:|`);
    const row = (name: string, pre: string, post: string, quick: string): void => {
      out.push(mdRow(pc ? [name, pre, post, quick] : [name, pre, quick]));
    };
    if (pc && p) {
      row('outcome', 'switched to post-copy', md(p.outcome), q ? md(q.outcome) : '');
      row('verified', '', md(p.verified), q ? md(q.verified) : '');
      row('downtime', `no stop-and-copy (expected ${md(msText(p.stats['expected-downtime']))})`, md(msText(pc.downtimeMs)), q ? md(msText(q.stats.downtime)) : '');
      row('total time', `${md(msText(pc.switchAtMs))} to the switch`, md(msText(pc.totalTimeMs)), q ? md(msText(q.stats['total-time'])) : '');
      row('bytes', `${md(bytesText(pc.liveBytes))} live`, `${md(bytesText(pc.bytes))} over the link, ${md(bytesText(pc.postcopyBytes))} after the resume`, q ? `${md(bytesText(q.savedBytes))} to storage` : '');
      row('requests', '', md(countText(pc.requests)), '');
      row('blocktime', '', md(msText(pc.blocktimeMs)), '');
      row('stalls', '', `${md(countText(pc.faults))}, mean ${md(msText(pc.meanStallMs))}${pc.p99Text ? `, ${md(pc.p99Text)}` : ''}`, '');
    } else {
      row('outcome', p ? md(p.outcome + (p.reason ? ` (${p.reason})` : '')) : '', '', q ? md(q.outcome) : '');
      row('verified', p ? md(p.verified) : '', '', q ? md(q.verified) : '');
      row('downtime', p ? md(msText(p.stats.downtime)) : '', '', q ? md(msText(q.stats.downtime)) : '');
      row('total time', p ? md(msText(p.stats['total-time'])) : '', '', q ? md(msText(q.stats['total-time'])) : '');
      row('bytes', p ? `${md(bytesText(p.stats.ram.transferred))} over the link` : '', '', q ? `${md(bytesText(q.savedBytes))} to storage` : '');
    }
    if (p) row('rounds', md(countText(p.rounds.length)), '', '');
    // a lazy restore: the guest resumed after the image's index; the rest faulted in or filled in the background
    const lazy = lazyRestoreFigures(q);
    if (lazy) {
      const l = lazy.block;
      row('lazy restore', '', '', `resumed after the index read (${md(bytesText(l.bytesBeforeResume))}), every page there at ${md(msText(lazy.completedMs))}: ${md(countText(l.faultPages + l.zeroFaultPages))} pages faulted in, ${md(countText(l.backgroundPages))} filled in the background`);
      row('stalls', '', '', lazy.faults > 0 ? `${md(countText(lazy.faults))}, mean ${md(msText(lazy.meanStallMs))}${lazy.p99Text ? `, ${md(lazy.p99Text)}` : ''}; blocktime ${md(msText(lazy.blocktimeMs))}` : 'none');
      if (l.guestLost === true) row('guest lost', '', '', 'the restore failed after the resume');
    }
    // what the orchestrator did, in order
    const actions = orchestratorActions(p?.orchestrator);
    if (p?.orchestrator) {
      out.push('', `**Orchestrator** ${md(p.orchestrator.kind)}: ${actions.length === 0 ? 'no action' : `${md(countText(actions.length))} action${actions.length === 1 ? '' : 's'}`}`);
      if (actions.length > 0) out.push('');
      for (const a of actions) out.push(`- ${md(msText(a.atMs))}: ${md(actionText(a))}${a.detail ? ` (${md(a.detail)})` : ''}`);
    }
    if (d.comparison) out.push('', `**Verdict:** ${md(d.comparison.verdict)}`);
  } else if (kind === 'comparison') {
    const c = doc as Comparison;
    const n = c.counts;
    const regressions = `${md(countText(n.regression))} regression${n.regression === 1 ? '' : 's'}`;
    out.push(`## Comparison: suite ${md(c.suite)}${label}`, '', `${md(c.base.label)} → ${md(c.head.label)}: ${n.regression > 0 ? `🔴 **${regressions}**` : isUndecided(c) ? '⚠️ **undecided: nothing could be tested**' : 'no regression'}, ${md(countText(n.improvement))} improvement${n.improvement === 1 ? '' : 's'}`, '');
    // a document from a file: the list is read as loosely as the rest (every value escaped)
    const mismatches = Array.isArray(c.methodMismatches) ? c.methodMismatches : [];
    if (mismatches.length > 0) {
      out.push(`**Not compared as like with like** (pre-copy alone on one side, post-copy on the other): ${mismatches.map((m) => md(`${m?.benchmark} (${m?.base} → ${m?.head})`)).join(', ')}`, '');
    }
    out.push('| benchmark | metric | base | head | change | verdict |', '|---|---|--:|--:|--:|---|');
    for (const r of [...c.rows].sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict))) {
      const cells = [md(r.benchmark), md(r.metric), md(metricText(r.base.median, r.unit)), md(metricText(r.head.median, r.unit)), md(changeText(r)), md(VERDICT_TEXT[r.verdict])];
      out.push(mdRow(r.verdict === 'regression' ? cells.map((x) => `**${x}**`) : cells));
    }
  } else if (kind === 'suite') {
    const sd = doc as SuiteDocument;
    out.push(`## Suite: ${md(sd.suite)}${label}`, '', '| benchmark | metric | median | interval | n |', '|---|---|--:|--:|--:|');
    for (const b of sd.benchmarks) {
      for (const [m, s] of Object.entries(b.metrics)) {
        const iv = s.summary.ciLow !== null && s.summary.ciHigh !== null ? `CI ${metricText(s.summary.ciLow, s.unit)} … ${metricText(s.summary.ciHigh, s.unit)}` : `range ${metricText(s.summary.min, s.unit)} … ${metricText(s.summary.max, s.unit)}`;
        out.push(mdRow([md(b.name), md(m), md(metricText(s.summary.median, s.unit)), md(iv), md(countText(s.summary.n))]));
      }
    }
    for (const { precopy, postcopy } of precopyPostcopyPairs(sd)) {
      const cell = (b: typeof precopy, metric: string | null): string => (metric && Object.hasOwn(b.metrics, metric) ? md(metricText(b.metrics[metric].summary.median, b.metrics[metric].unit)) : '—');
      out.push('', `**Pre-copy against post-copy on the same workload** (medians)`, '', mdRow(['', `pre-copy: ${md(precopy.name)}`, `post-copy: ${md(postcopy.name)}`]), '|---|--:|--:|');
      for (const r of PAIR_ROWS) out.push(mdRow([md(r.label), cell(precopy, r.precopy), cell(postcopy, r.postcopy)]));
    }
  } else if (kind === 'sweep') {
    const sw = doc as SweepDocument & { tune?: TuneBlock };
    const frontier = new Set(paretoFrontier(sw.points).map((p) => p.index));
    out.push(`## ${sw.tune ? 'Tune' : 'Sweep'}: ${md(((sw.scenario ?? {}) as ScenarioView).name ?? 'scenario')}${label}`, '');
    if (sw.tune) {
      const rec = sw.points.find((p) => p.index === sw.tune!.recommendation);
      out.push(`**${sw.tune.met === false ? 'No setting meets the target' : 'Recommended'}:** ${rec ? `#${md(rec.index)} ${markdownCode(describePoint(rec))}` : 'none'} (downtime target ≤ ${md(msText(sw.tune.maxDowntimeMs))})`, '');
    }
    out.push(mdRow(['#', ...sw.axes.map((a) => md(a.key)), 'total time', 'downtime', 'completed', '']), `|--:|${sw.axes.map(() => '---').join('|')}|--:|--:|--:|---|`);
    for (const p of sw.points) {
      out.push(mdRow([md(p.index), ...sw.axes.map((a) => md(valueText(p.params[a.key]))), md(msText(p.totalTimeMs)), md(msText(p.downtimeMs)), `${md(p.completed)}/${md(p.runs)}`, frontier.has(p.index) ? 'frontier' : '']));
    }
  }
}
