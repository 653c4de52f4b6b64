/**
 * Printing what a valid scenario says that it may not mean (`scenarioWarnings`, `overrideWarnings` in
 * options.ts decide; this only prints): one `warning: …` line each on stderr, none with --quiet.
 */
import { colorsFor } from '../report/style.ts';

export function printWarnings(lines: readonly string[], quiet = false): void {
  if (quiet) return;
  const c = colorsFor(process.stderr);
  for (const line of new Set(lines)) process.stderr.write(`${c.yellow(`warning: ${line}`)}\n`);
}
