/**
 * The HTML report: one self-contained page (styles and SVG charts inline, no scripts, no fonts or
 * images to fetch; a Content-Security-Policy forbids any request) for run documents, suite results,
 * comparisons (`compare --format json`) and sweeps (and tune files, which are sweeps with a `tune`
 * block). Charts are drawn by Apache ECharts' server-side SVG renderer; nothing is drawn by hand.
 *
 * report/ reads result documents only (DESIGN §3): it imports types of the documents, the pure
 * Pareto helpers and the unit formatters, never the engine. Documents are untrusted input (a file
 * from a pull request): every value that comes from one (names, parameters, messages, and numbers,
 * which a corrupt file may hold as strings) is escaped where it is written into the page: `esc`, or a
 * formatter of text.ts that takes `unknown` and escapes its result; ECharts escapes the text it puts
 * into SVG. The markdown summary escapes the same way with `md`. The readers (results/, sweep/) check
 * shapes and types first; the escaping holds even for a document that did not pass them.
 *
 * This file puts a page together from the documents; the parts live beside it, one concept a file:
 * theme.ts (colours, style sheet), text.ts (formatting and escaping), chart.ts (scales, axes, ECharts),
 * page.ts (page, tables, badges), run-html.ts, comparison-html.ts, suite-html.ts, sweep-html.ts (one
 * renderer per kind of document), documents.ts (which kind a document is), markdown.ts (the summary).
 */
import { MigbenchError } from '../errors.ts';
import type { Comparison } from '../results/compare.ts';
import type { ResultDocument } from '../results/document.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import type { SweepDocument } from '../results/sweep-types.ts';
import type { ScenarioView } from '../results/scenario-view.ts';
import { type DocumentKind, detectKind, isObject, renderingOf } from './documents.ts';
import { type Section, page } from './page.ts';
import { renderComparisonSection } from './comparison-html.ts';
import { renderRunSection } from './run-html.ts';
import { renderSuiteSection } from './suite-html.ts';
import { renderSweepSection } from './sweep-html.ts';

function sectionTitle(kind: DocumentKind, doc: Record<string, unknown>): string {
  const name = (v: unknown): string => (typeof v === 'string' ? v : '?');
  switch (kind) {
    case 'run':
      return `run ${name((doc.scenario as ScenarioView).name)}`;
    case 'suite':
      return `suite ${name(doc.suite)}`;
    case 'comparison':
      return `comparison ${name(doc.suite)}`;
    case 'sweep':
      return `${isObject(doc.tune) ? 'tune' : 'sweep'} ${name((doc.scenario as ScenarioView | undefined)?.name)}`;
  }
}


/**
 * One page with a section per document: run documents, suite results, comparisons (the JSON of
 * `compare --format json`) and sweeps/tune files. `labels` (e.g. the file names) head the sections and
 * name a document in errors. Throws MigbenchError E_RESULT for a document of no known kind or a malformed one.
 */
export function renderReport(docs: unknown[], labels?: string[]): string {
  if (docs.length === 0) throw new MigbenchError('E_USAGE', 'report: no documents to render');
  const sections: Section[] = docs.map((doc, i) => {
    const label = labels?.[i];
    const kind = detectKind(doc);
    const name = label ?? `document ${i + 1}`;
    if (kind === null) {
      throw new MigbenchError('E_RESULT', `${name}: not a migbench result (expected a run document, a suite result, a comparison from \`compare --format json\`, or a sweep)`);
    }
    const d = doc as Record<string, unknown>;
    let html = '';
    renderingOf(kind, name, () => {
      switch (kind) {
        case 'run':
          html = renderRunSection(doc as ResultDocument, label);
          break;
        case 'suite':
          html = renderSuiteSection(doc as SuiteDocument, label);
          break;
        case 'comparison':
          html = renderComparisonSection(doc as Comparison, label);
          break;
        case 'sweep':
          html = renderSweepSection(doc as SweepDocument, {}, label);
          break;
      }
    });
    return { id: `doc-${i + 1}`, title: `${sectionTitle(kind, d)}${label ? ` (${label})` : ''}`, html };
  });
  const title = sections.length === 1 ? `migbench ${sections[0].title}` : `migbench report: ${sections.length} documents`;
  return page(title, sections);
}

// The renderers of each kind, and what commands and the library have always imported from here.
export { OKABE_ITO } from './theme.ts';
export { esc } from './text.ts';
export { detectKind, type DocumentKind } from './documents.ts';
export { renderRunSection, renderRunReport } from './run-html.ts';
export { renderComparisonSection, renderComparisonReport } from './comparison-html.ts';
export { renderSuiteSection } from './suite-html.ts';
export { renderSweepSection, renderSweepReport } from './sweep-html.ts';
export { renderMarkdownSummary } from './markdown.ts';
