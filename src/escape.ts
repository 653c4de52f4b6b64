/**
 * Escaping for the two markup languages migbench writes: HTML (the report) and markdown (`report
 * --markdown`, `compare --format markdown`, `ab`'s comparison.md, which CI appends to a job summary).
 * Result documents are untrusted input (a file from a pull request, a scenario name): every value taken
 * from one is escaped where it is written out, numbers included, through these functions. Each takes
 * `unknown` and escapes its string form, so a string where a number belongs prints as text.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML text for element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch]);
}

/**
 * Markdown (GitHub-flavoured) inline text, safe in a table cell: `<`, `>` and `&` as entities (no raw
 * HTML, which GitHub renders), the characters of markdown syntax (emphasis, code, links, strike-through,
 * cell bars, backslash) behind a backslash, and line breaks as spaces (a line break ends a table row).
 * Plain names and figures ("hotset-1g", "12.3 ms", "1.00 Gbit/s") print unchanged.
 */
export function escapeMarkdown(value: unknown): string {
  return String(value)
    .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ')
    .replace(/[\\`*_[\]~|]/g, (ch) => `\\${ch}`)
    .replace(/[&<>]/g, (ch) => HTML_ENTITIES[ch]);
}

/**
 * A name as inline code where that is safe (no backtick, no character that a code span would show as
 * an entity, no line break); otherwise as escaped text. Inside a code span nothing is markup, but
 * nothing can be escaped either.
 */
export function markdownCode(value: unknown): string {
  const text = String(value);
  return /^[^`<>&|\\\r\n\u2028\u2029]+$/.test(text) ? `\`${text}\`` : escapeMarkdown(text);
}

/**
 * Text for a terminal: control characters (ESC and the rest of C0 and C1, DEL; line breaks and tabs
 * too, which would break a table row) shown as `\u001b` escapes instead of acted on, so that a name
 * from a scenario or a document cannot move the cursor, clear the screen or retitle the window.
 */
export function escapeTerminal(value: unknown): string {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
