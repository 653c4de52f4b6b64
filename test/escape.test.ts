/**
 * Escaping for HTML, markdown and the terminal (src/escape.ts), and the run summary on the terminal
 * (report/summary.ts) given a scenario name and errors with control characters.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeMarkdown, escapeTerminal, markdownCode } from '../src/escape.ts';
import { renderSummary } from '../src/report/summary.ts';
import { colorsFor } from '../src/report/style.ts';
import type { ResultDocument } from '../src/results/document.ts';

describe('escapeHtml', () => {
  it.each([
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    [`"'&`, '&quot;&#39;&amp;'],
    [4096, '4096'],
    [null, 'null'],
    ['hotset-1g', 'hotset-1g'],
  ])('%j → %j', (input, out) => expect(escapeHtml(input)).toBe(out));
});

describe('escapeMarkdown', () => {
  it.each([
    ['<img src=x>', '&lt;img src=x&gt;'],
    ['a & b', 'a &amp; b'],
    ['a|b', 'a\\|b'],
    ['line\nbreak\r\nand\rmore', 'line break and more'],
    ['[x](https://evil.example/)', '\\[x\\](https://evil.example/)'],
    ['**b** _e_ `c` ~~s~~ \\', '\\*\\*b\\*\\* \\_e\\_ \\`c\\` \\~\\~s\\~\\~ \\\\'],
    // plain names and figures print unchanged
    ['hotset-1g', 'hotset-1g'],
    ['precopy.total-time', 'precopy.total-time'],
    ['1.00 Gbit/s', '1.00 Gbit/s'],
    ['12.3 ms ± 3%', '12.3 ms ± 3%'],
    [5, '5'],
  ])('%j → %j', (input, out) => expect(escapeMarkdown(input)).toBe(out));
});

describe('markdownCode', () => {
  it('a plain name as inline code; one a code span cannot hold safely as escaped text', () => {
    expect(markdownCode('smoke')).toBe('`smoke`');
    expect(markdownCode('my_suite')).toBe('`my_suite`');
    expect(markdownCode('a`b<c>')).toBe('a\\`b&lt;c&gt;');
    expect(markdownCode('x|y')).toBe('x\\|y');
  });
});

describe('escapeTerminal', () => {
  it('shows control characters instead of sending them', () => {
    expect(escapeTerminal('\u001b[2Jx\u0007\n\u009b')).toBe('\\u001b[2Jx\\u0007\\u000a\\u009b');
    expect(escapeTerminal('hotset-1g ±→')).toBe('hotset-1g ±→');
  });
});

describe('the run summary on the terminal (report/summary.ts)', () => {
  it('prints a scenario name, outcome, errors and paths with control characters as escapes', () => {
    const doc = JSON.parse(readFileSync(new URL('./fixtures/run-full.json', import.meta.url), 'utf8')) as ResultDocument;
    (doc.scenario as { name: string }).name = 'x\u001b[2J\u001b]0;pwned\u0007';
    doc.precopy!.error = 'bad\u001b[31m';
    doc.precopy!.reason = 'why\u001b[1m';
    doc.quick!.error = 'q\u001b[0m';
    (doc.quick as { format: string }).format = 'stream\u001b[5m';
    const text = renderSummary(doc, colorsFor({ isTTY: false } as NodeJS.WriteStream, {}));
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('x\\u001b[2J\\u001b]0;pwned\\u0007');
    expect(text).toContain('bad\\u001b[31m');
  });
});
