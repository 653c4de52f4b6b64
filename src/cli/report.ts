/**
 * `migbench report FILE… [--html OUT] [--markdown OUT]`: render result files (run documents, suite
 * results, `compare --format json` output, sweep and tune files) as one self-contained HTML page, and
 * a markdown summary if asked. With neither flag, writes ./report.html and says so on stderr.
 * Both are rendered before either is written, and written together or not at all (./output-file.ts).
 */
import { checkOutputs, requested, writeOutputs } from './output-file.ts';
import { readResultFile } from './scenario-file.ts';
import { checkComparisonDocument } from '../results/comparison-reader.ts';
import { checkRunDocument } from '../results/run-reader.ts';
import { checkSuiteDocument } from '../results/suite-document.ts';
import { parseSweepDocument } from '../sweep/sweep-document.ts';
import { MigbenchError } from '../errors.ts';
import { detectKind, renderMarkdownSummary, renderReport } from '../report/html.ts';

export interface ReportCommandOptions {
  html?: string;
  markdown?: string;
}

/**
 * Read and parse one result file: E_USAGE when it cannot be read, E_RESULT with a one-line message when
 * it is not JSON, of no known kind, or a malformed run, suite, comparison or sweep document (each kind
 * has a reader; a renderer tripping over what they let through is E_RESULT too, see `renderReport`).
 */
export function readReportDocument(path: string): unknown {
  return checkReportDocument(readResultFile(path), path);
}

/** The checks of `readReportDocument` on a parsed value (a suite comes back with its summaries recomputed). */
export function checkReportDocument(doc: unknown, path: string): unknown {
  switch (detectKind(doc)) {
    case null:
      throw new MigbenchError(
        'E_RESULT',
        `${path}: not a migbench result (expected a run document from \`run --out\`, a suite result, a comparison from \`compare --format json\`, or a sweep or tune file)`,
      );
    case 'run':
      return checkRunDocument(doc, path);
    case 'comparison':
      return checkComparisonDocument(doc, path);
    case 'suite':
      return checkSuiteDocument(doc, path);
    case 'sweep':
      return parseSweepDocument(doc, path);
  }
}

export function reportCommand(files: string[], options: ReportCommandOptions): number {
  if (files.length === 0) throw new MigbenchError('E_USAGE', 'report: give at least one result file (JSON)');
  const htmlPath = options.html ?? (options.markdown === undefined ? 'report.html' : undefined);
  const outputs = [
    { flag: '--html', path: htmlPath },
    { flag: '--markdown', path: options.markdown },
  ];
  checkOutputs(outputs);
  const docs = files.map(readReportDocument);
  const texts: Record<string, () => string> = { '--html': () => renderReport(docs, files), '--markdown': () => renderMarkdownSummary(docs, files) };
  writeOutputs(requested(outputs.map((o) => ({ ...o, text: texts[o.flag] }))));
  if (htmlPath !== undefined) process.stderr.write(`HTML report of ${files.length} document${files.length === 1 ? '' : 's'} written to ${htmlPath}\n`);
  if (options.markdown !== undefined) process.stderr.write(`markdown summary written to ${options.markdown}\n`);
  return 0;
}
