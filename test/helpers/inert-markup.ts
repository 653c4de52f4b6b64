/**
 * Oracles for markup injection: does a rendered page or markdown text hold markup that a document
 * put there? Used by test/report-markup.test.ts and the fuzz properties of `report` and `compare`.
 */
import { parse } from 'node-html-parser';

/** Markup a document may carry: an image with a handler, a refresh, a link, a form, and a markdown link. */
export const MARKUP =
  '<img src=x onerror=alert(1)><meta http-equiv=refresh content=0;url=https://evil.example/>' +
  '<a href=https://evil.example/>click</a><form action=https://evil.example/><input name=q></form>[md](https://evil.example/)';

/** Tag names of a page's elements (lower case): what the template makes, given pages of untouched documents. */
export function tagsOf(html: string): Set<string> {
  return new Set(parse(html).querySelectorAll('*').map((el) => el.rawTagName.toLowerCase()));
}

/**
 * The first sign of live markup in a report page, or null: an element whose tag the template does not
 * make (`templateTags`), an event-handler attribute, a link out of the page, a meta element other than
 * the template's four (a refresh), or the raw text of a tag the template never writes.
 */
export function liveMarkupInHtml(html: string, templateTags: ReadonlySet<string>): string | null {
  const root = parse(html);
  for (const el of root.querySelectorAll('*')) {
    const tag = el.rawTagName.toLowerCase();
    if (!templateTags.has(tag)) return `a <${tag}> element the template does not make`;
    for (const name of Object.keys(el.attributes)) if (name.toLowerCase().startsWith('on')) return `an ${name} attribute on <${tag}>`;
    if (tag === 'a' && !(el.getAttribute('href') ?? '').startsWith('#')) return `a link out of the page: ${el.getAttribute('href')}`;
    if (tag === 'meta' && (el.getAttribute('http-equiv') ?? 'Content-Security-Policy') !== 'Content-Security-Policy') return `a meta http-equiv=${el.getAttribute('http-equiv')}`;
  }
  const metas = root.querySelectorAll('meta').length;
  if (metas !== 4) return `${metas} meta elements (the template makes 4)`;
  const lower = html.toLowerCase();
  for (const raw of ['<img', '<form', '<input', '<script', '<iframe', '<meta http-equiv=refresh', '<a href=http']) if (lower.includes(raw)) return `raw ${raw} in the page`;
  return null;
}

/** The first sign of live markup in markdown, or null: a raw `<` (HTML, which GitHub renders) or a link. */
export function liveMarkupInMarkdown(md: string): string | null {
  const lt = md.indexOf('<');
  if (lt !== -1) return `a raw < in the markdown: ${JSON.stringify(md.slice(Math.max(0, lt - 20), lt + 40))}`;
  if (/(?<!\\)\]\((?:https?:|\/\/)/.test(md)) return 'a markdown link';
  return null;
}
