/**
 * Text of document values for the report: formatters that take `unknown` (a corrupt document may hold a
 * string where a number belongs) and give plain text (`…Text`), and the same escaped for HTML (`ms`,
 * `bytes`, `count`, …). Documents are untrusted input: every value from one is escaped where it is
 * written, through `esc` (HTML) or `md` (markdown), numbers included.
 */
import { formatBitRate, formatByteRate, formatBytes, formatCount, formatDurationMs } from '../units.ts';
import { escapeHtml, escapeMarkdown } from '../escape.ts';

/** HTML-escape a value's text for element content and quoted attribute values. */
export const esc = escapeHtml;
/** Markdown-escape a value's text (inline, safe in a table cell). */
export const md = escapeMarkdown;

/** A parameter value as a person reads it: strings bare, anything else as JSON. */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Plain-text formatters of document values (the `…Text` functions): a finite number formatted, null,
 * undefined and non-finite numbers as "—", and anything else (what a corrupt document holds where a
 * number belongs) as its string form: not yet escaped. Below them, the same escaped for HTML.
 */
export function formatted(v: unknown, f: (n: number) => string): string {
  if (isNumber(v)) return f(v);
  return v === null || v === undefined || typeof v === 'number' ? '—' : String(v);
}

/** 3 significant digits, thousands separators from 1000: 0.591, 12.3, 1,569. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return formatCount(v);
  if (v === 0) return '0';
  return String(Number(v.toPrecision(3)));
}

export const msText = (v: unknown): string => formatted(v, formatDurationMs);
export const bytesText = (v: unknown): string => formatted(v, formatBytes);
export const countText = (v: unknown): string => formatted(v, formatCount);
/** `digits` decimals: a ratio, an encoding rate */
export const fixedText = (v: unknown, digits: number): string => formatted(v, (n) => n.toFixed(digits));

function rateText(v: unknown, kind: 'bit' | 'byte'): string {
  if (v === null || v === undefined || v === 'unlimited' || v === Infinity) return 'unlimited';
  return formatted(v, kind === 'bit' ? formatBitRate : formatByteRate);
}

// The same, escaped for HTML: what the page templates interpolate.
export const ms = (v: unknown): string => esc(msText(v));
export const bytes = (v: unknown): string => esc(bytesText(v));
export const count = (v: unknown): string => esc(countText(v));
export const fixed = (v: unknown, digits: number): string => esc(fixedText(v, digits));
export const rate = (v: unknown, kind: 'bit' | 'byte'): string => esc(rateText(v, kind));

/** A suite metric's value in its unit, plain text. */
export function metricText(v: unknown, unit: string): string {
  return formatted(v, (n) => {
    if (unit === 'ms') return formatDurationMs(n);
    if (unit === 'B') return formatBytes(n);
    if (unit === 'B/s') return formatByteRate(n);
    return Number.isInteger(n) ? formatCount(n) : num(n);
  });
}

/** The same, escaped for HTML. */
export const formatMetric = (v: unknown, unit: string): string => esc(metricText(v, unit));
