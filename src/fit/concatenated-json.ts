/**
 * Split text holding JSON values one after another, each over any number of lines (libvirt's
 * `virsh qemu-monitor-command --pretty` output, polled in a loop: pretty-printed QMP replies back to
 * back), into the values' texts and the line each starts on. Pure; no value is parsed here. Only
 * objects and arrays are values at the top level; anything else between them is refused by the caller
 * (`junk` names its line).
 */
export interface JsonChunk {
  /** 1-based line the value starts on */
  readonly line: number;
  readonly text: string;
}

export type SplitResult = { readonly chunks: JsonChunk[] } | { readonly junk: { line: number; text: string } } | { readonly unterminated: { line: number } };

export function splitConcatenatedJson(text: string, maxChunks: number): SplitResult | { readonly tooMany: true } {
  const chunks: JsonChunk[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let start = -1;
  let startLine = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === 92) escaped = true; // backslash
      else if (ch === 34) inString = false; // quote
      continue;
    }
    if (depth === 0) {
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13) continue;
      if (ch !== 123 && ch !== 91) {
        const end = text.indexOf('\n', i);
        return { junk: { line, text: text.slice(i, end < 0 ? undefined : end).trim() } };
      }
      start = i;
      startLine = line;
    }
    if (ch === 34) inString = true;
    else if (ch === 123 || ch === 91) depth++;
    else if (ch === 125 || ch === 93) {
      depth--;
      if (depth === 0) {
        if (chunks.length >= maxChunks) return { tooMany: true };
        chunks.push({ line: startLine, text: text.slice(start, i + 1) });
      }
    }
  }
  if (depth !== 0 || inString) return { unterminated: { line: startLine } };
  return { chunks };
}
