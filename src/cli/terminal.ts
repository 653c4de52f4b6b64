/**
 * Decisions about the terminal that human output goes to (stderr): how wide it is, how wide each
 * column of a table may be to fit it, and whether a live progress bar may be drawn on it.
 * Pure functions of what they are given; the commands pass `process.stderr` and `process.env`.
 */
import { stripVTControlCharacters } from 'node:util';

/** The width assumed when stderr is not a terminal (a pipe, a file, a CI log). */
export const DEFAULT_COLUMNS = 100;
/** Narrowest column a fitted table gives a cell (padding included): room for "1.00 GiB". */
export const MIN_COLUMN_WIDTH = 6;

/** The terminal's width in columns: `columns` of a TTY stream, else DEFAULT_COLUMNS. */
export function terminalColumns(stream: { isTTY?: boolean; columns?: number }): number {
  return stream.isTTY && typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : DEFAULT_COLUMNS;
}

/** Printed width of a cell's text: its widest line, escape sequences (colour) not counted. */
export function textWidth(text: string): number {
  return Math.max(0, ...stripVTControlCharacters(text).split('\n').map((line) => [...line].length));
}

/** Printed width of a cell's longest word (what word wrapping cannot break). */
export function longestWordWidth(text: string): number {
  return Math.max(0, ...stripVTControlCharacters(text).split(/\s+/).map((word) => [...word].length));
}

/**
 * Column widths (cli-table3's `colWidths`: each includes the two padding spaces) for a table whose
 * columns would naturally be `natural` wide, so that the whole table, borders included (one between
 * columns and one at each side), fits in `columns`. Narrow columns keep their width; the widest ones are
 * cut to a common cap and their text wraps (`wordWrap`), but no column below `minimum` (its longest
 * word) while cutting to the cap is enough. If it is not, the cap cuts words too (cli-table3 ends them
 * with "…"), down to MIN_COLUMN_WIDTH: a terminal narrower than that gets a table that is too wide.
 */
export function fitColumnWidths(natural: readonly number[], columns: number, minimum: readonly number[] = []): number[] {
  const budget = columns - (natural.length + 1);
  const sum = (ws: number[]): number => ws.reduce((a, b) => a + b, 0);
  if (sum([...natural]) <= budget) return [...natural];
  // floors: each column's longest word; when even those do not fit, the longest words are cut first
  const floors = natural.map((w, i) => Math.max(Math.min(w, MIN_COLUMN_WIDTH), Math.min(w, minimum[i] ?? 0)));
  for (let wordCap = Math.max(...floors); wordCap >= MIN_COLUMN_WIDTH; wordCap--) {
    const floor = floors.map((f, i) => Math.max(Math.min(f, wordCap), Math.min(natural[i], MIN_COLUMN_WIDTH)));
    for (let cap = Math.max(...natural); cap >= 0; cap--) {
      const ws = natural.map((w, i) => Math.max(Math.min(w, cap), floor[i]));
      if (sum(ws) <= budget) return ws;
      if (ws.every((w, i) => w === floor[i])) break;
    }
  }
  return natural.map((w) => Math.min(w, MIN_COLUMN_WIDTH));
}

/**
 * `colWidths` for rows of cells (the head first) to fit `columns`: every column's natural width is its
 * widest cell plus the padding, its minimum its longest word plus the padding.
 */
export function fittedColWidths(rows: readonly (readonly string[])[], columns: number): number[] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  const column = (f: (text: string) => number): number[] => Array.from({ length: count }, (_, i) => Math.max(1, ...rows.map((r) => f(r[i] ?? ''))) + 2);
  return fitColumnWidths(column(textWidth), columns, column(longestWordWidth));
}

/**
 * Whether a live progress bar may be drawn: only on a terminal that can move the cursor (not a pipe,
 * a file or `TERM=dumb`), and never with `--quiet`. A bar has no colour, so NO_COLOR does not hide it.
 */
export function showProgressBar(stream: { isTTY?: boolean }, quiet: boolean, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !quiet && env.TERM !== 'dumb';
}
