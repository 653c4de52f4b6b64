/**
 * The report's look: Okabe–Ito colours (safe for the common colour-vision deficiencies), the sequential
 * scale of the heat maps, fonts, and the page's style sheet (a light page that prints well).
 */

/** Okabe & Ito (2008), "Color Universal Design". */
export const OKABE_ITO = {
  orange: '#E69F00',
  sky: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  black: '#000000',
} as const;
export const GREY = '#9a9a9a';
export const INK = '#1b1b1b';
export const MUTED = '#4d4d4d';
const RULE = '#d0d0d0';
/** Sequential, colour-blind safe (viridis), light = low. */
export const VIRIDIS_LIGHT_TO_DARK = ['#fde725', '#5ec962', '#21918c', '#3b528b', '#440154'];
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, Liberation Sans, sans-serif';
/**
 * Charts use Arial's metrics: ECharts lays out legends and labels server-side with an Arial-like width
 * table, so a metric-compatible font (Arial, Helvetica, Liberation Sans, Arimo) keeps text from overlapping.
 */
export const CHART_FONT = 'Arial, Helvetica, Liberation Sans, Arimo, sans-serif';

export const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: ${INK}; font: 15px/1.5 ${FONT}; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 28px 48px; }
header.page { border-bottom: 2px solid ${INK}; margin-bottom: 8px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 36px 0 4px; padding-bottom: 4px; border-bottom: 1px solid ${RULE}; }
h3 { font-size: 1.08rem; margin: 26px 0 6px; }
p { margin: 6px 0; }
.meta, .note { color: ${MUTED}; font-size: 0.88rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, Liberation Mono, monospace; font-size: 0.9em; }
nav.toc ol { margin: 6px 0; padding-left: 22px; }
a { color: ${OKABE_ITO.blue}; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 12px; margin: 12px 0; }
.card { border: 1px solid ${RULE}; border-radius: 6px; padding: 10px 14px; background: #f7f8fa; }
.card h4 { margin: 0 0 6px; font-size: 0.95rem; }
.figures { display: grid; grid-template-columns: auto 1fr; gap: 2px 14px; margin: 0; }
.figures dt { color: ${MUTED}; }
.figures dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.big { font-size: 1.25rem; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; border: 1px solid; font-size: 0.82rem; font-weight: 600; white-space: nowrap; }
.ok { color: #00573a; background: #e3f4ec; border-color: ${OKABE_ITO.green}; }
.warn { color: #6b4100; background: #fcf1d6; border-color: ${OKABE_ITO.orange}; }
.bad { color: #8a3000; background: #fbe6da; border-color: ${OKABE_ITO.vermillion}; }
.neutral { color: ${MUTED}; background: #f1f1f1; border-color: ${GREY}; }
.callout { border-left: 4px solid ${OKABE_ITO.orange}; background: #fdf7e8; padding: 6px 12px; margin: 10px 0; }
.callout.bad { border-left-color: ${OKABE_ITO.vermillion}; background: #fcefe8; color: ${INK}; border-top: 0; border-right: 0; border-bottom: 0; border-radius: 0; }
.row { display: flex; flex-wrap: wrap; gap: 18px; }
.row > figure { flex: 1 1 460px; min-width: 0; }
.row.small > figure { flex: 1 1 300px; max-width: 360px; }
figure { margin: 14px 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 2px; }
figcaption .note { display: block; font-weight: 400; }
svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
td .note { font-size: 0.82rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid ${RULE}; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid ${MUTED}; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td .v, td.num { white-space: nowrap; }
tr.regression td { font-weight: 600; background: #fcefe8; }
tr.improvement td { background: #e9f6f0; }
.scroll { overflow-x: auto; }
/* a table that must fit the page (the comparison's): long labels and intervals wrap, the badges stay whole */
table.fit td .note { white-space: normal; }
@media (max-width: 900px) {
  main { padding: 16px 12px 32px; }
  table.fit th, table.fit td { padding: 4px 5px; }
  table.fit { font-size: 0.84rem; }
}
details { margin: 8px 0; }
/* a chart drawn on two axes: the other axis opens from a disclosure and takes the default's place (no script) */
.axis-toggle > details > summary { cursor: pointer; color: ${OKABE_ITO.blue}; font-size: 0.9rem; }
.axis-toggle:has(> details[open]) > .default { display: none; }
details pre { background: #f7f8fa; border: 1px solid ${RULE}; padding: 8px; overflow-x: auto; font-size: 0.8rem; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  section.doc + section.doc { break-before: page; page-break-before: always; }
  nav.toc { display: none; }
  .card, table, tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`;
