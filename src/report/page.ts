/**
 * The page around the sections: the self-contained HTML document (a Content-Security-Policy forbids any
 * request; no script), tables, badges, and the provenance line (when, which commit, which machine).
 */
import { CSS } from './theme.ts';
import { esc } from './text.ts';

export type Tone = 'ok' | 'warn' | 'bad' | 'neutral';
export function badge(text: string, tone: Tone): string {
  return `<span class="badge ${tone}">${esc(text)}</span>`;
}

export function outcomeTone(outcome: string): Tone {
  // postcopy: completed through post-copy (every page arrived, verified separately)
  if (outcome === 'converged' || outcome === 'completed' || outcome === 'postcopy') return 'ok';
  if (outcome === 'forced-stop' || outcome === 'cancelled') return 'warn';
  // the orchestrator's decisions (issue 19), not failures of the migration: the guest is whole either way,
  // running on the source (aborted) or moved with a long pause (paused)
  if (outcome === 'aborted' || outcome === 'paused') return 'warn';
  return 'bad';
}

export function verifiedBadge(v: boolean | null | undefined): string {
  if (v === true) return badge('verified', 'ok');
  if (v === false) return badge('NOT verified: destination differs', 'bad');
  return badge('not verified (nothing migrated)', 'neutral');
}

export interface Section {
  id: string;
  title: string;
  html: string;
}

export function page(title: string, sections: Section[]): string {
  const toc =
    sections.length > 1
      ? `<nav class="toc"><strong>Contents</strong><ol>${sections.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a></li>`).join('')}</ol></nav>`
      : '';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Self-contained by construction: no request of any kind may leave the page, and no script runs.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header class="page"><h1>${esc(title)}</h1><p class="meta">migbench report: self-contained, viewable offline; charts drawn with Apache ECharts (SVG).</p></header>`,
    toc,
    ...sections.map((s) => `<section class="doc" id="${esc(s.id)}">\n${s.html}\n</section>`),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** `cls` classes the table (e.g. "fit": cells wrap so that the table fits a narrow page). */
export function table(head: { text: string; num?: boolean }[], rows: { cells: string[]; cls?: string }[], cls?: string): string {
  const th = head.map((h) => `<th${h.num ? ' class="num"' : ''}>${h.text}</th>`).join('');
  const body = rows
    .map((r) => `<tr${r.cls ? ` class="${r.cls}"` : ''}>${r.cells.map((c, i) => `<td${head[i]?.num ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="scroll"><table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

export function provenance(d: { startedAt?: string; git?: { commit: string | null; branch?: string | null; dirty: boolean | null } | null; env?: { node?: string; cpuModel?: string; cpuCount?: number; platform?: string; arch?: string } | null; tool?: { version?: string } }): string {
  const parts: string[] = [];
  if (d.startedAt) parts.push(`started ${esc(d.startedAt)}`);
  if (d.git?.commit) parts.push(`commit <code>${esc(String(d.git.commit).slice(0, 10))}</code>${d.git.dirty ? ' (uncommitted changes)' : ''}${d.git.branch ? ` on ${esc(d.git.branch)}` : ''}`);
  if (d.env) parts.push(esc([d.env.cpuModel, d.env.cpuCount ? `${d.env.cpuCount} CPUs` : null, d.env.platform && d.env.arch ? `${d.env.platform}/${d.env.arch}` : null, d.env.node ? `Node ${d.env.node}` : null].filter(Boolean).join(', ')));
  if (d.tool?.version) parts.push(`migbench ${esc(d.tool.version)}`);
  return `<p class="meta">${parts.join(' · ')}</p>`;
}
