/**
 * A lazy quick restore and the orchestrator's actions in the reports (issue 14 item 8, issue 19 item 2),
 * from fixture documents (no migration runs here):
 * - test/fixtures/run-lazy.json is what `migbench run --only quick --set guest.memory=16MiB --set
 *   quick.storageBandwidth=16MiB/s --set quick.restore=lazy` wrote (emulate mode: a stall histogram);
 * - test/fixtures/run-orchestrator.json is what `migbench run --mode simulate --only precopy --set
 *   guest.memory=1GiB --set link.bandwidth=100Mbit/s --set workload.dirtyRate=5000/s --set
 *   precopy.timeoutMs=1h --set orchestrator.kind=nova --set orchestrator.liveMigrationCompletionTimeout=300`
 *   wrote (four downtime steps, then an abort at the completion timeout), its 100 ms series thinned to
 *   every 60th sample (and the last) so that the markup walk of report-markup.test.ts stays fast;
 * - run-full.json is a run with neither.
 * The lazy figures, the stall chart, the marks and the actions table appear only when the document has
 * them; the orchestrator's `detail` (free text) is escaped.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResultDocument } from '../src/results/document.ts';
import { checkRunDocument } from '../src/results/run-reader.ts';
import { lazyRestoreFigures } from '../src/results/lazy-restore-figures.ts';
import { actionLabel, actionText } from '../src/results/orchestrator-actions.ts';
import { renderMarkdownSummary, renderReport } from '../src/report/html.ts';
import { orchestratorMarks } from '../src/report/run-html.ts';
import { stallChartData } from '../src/report/stall-chart.ts';
import { outcomeTone } from '../src/report/page.ts';
import { renderSummary } from '../src/report/summary.ts';
import { colorsFor } from '../src/report/style.ts';
import { MigbenchError } from '../src/errors.ts';
import { MARKUP, liveMarkupInHtml, liveMarkupInMarkdown, tagsOf } from './helpers/inert-markup.ts';

const load = (name: string): ResultDocument => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ResultDocument;
const lazy = (): ResultDocument => load('run-lazy.json');
const orchestrated = (): ResultDocument => load('run-orchestrator.json');
const plain = (): ResultDocument => load('run-full.json');
const plainColors = colorsFor({ isTTY: false } as NodeJS.WriteStream, {});

/** The reader's refusal of a document (one line, E_RESULT), or null when it accepts it. */
function refusal(doc: unknown): string | null {
  try {
    checkRunDocument(doc, 'x.json');
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_RESULT');
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
}

/** The cells of a cli-table3 row that starts with `label` (trimmed, the first line of each), or null. */
function rowCells(table: string, label: string): string[] | null {
  const line = table.split('\n').find((l) => l.startsWith(`│ ${label} `));
  return line ? line.split('│').slice(1, -1).map((c) => c.trim()) : null;
}

/** The table's text with its wrapped cells joined (box drawing and padding out). */
const flatText = (table: string): string => table.replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ').replace(/\s+/g, ' ');

/** Pixel x of each SVG text label (ECharts draws a vertical line's label rotated, at the line's x). */
function labelX(html: string, label: string): number[] {
  return [...html.matchAll(/<text [^>]*transform="matrix\(0,-1,1,0,([\d.]+),[\d.]+\)"[^>]*>([^<]*)<\/text>/g)].filter((m) => m[2] === label).map((m) => Number(m[1]));
}

/** A hostile orchestrator note: markup and a markdown link in `detail`. */
const HOSTILE = `${MARKUP} [x](javascript:alert(1)) | cell`;

describe('the fixtures', () => {
  it('run-lazy.json: a real lazy restore the reader accepts (the reader refused it before: its stats hold lists)', () => {
    const d = checkRunDocument(lazy(), 'run-lazy.json');
    expect(d.precopy).toBeNull();
    expect(d.quick!.lazy).toBeDefined();
    expect(d.quick!.stats['postcopy-latency-dist']!.some((n) => n > 0)).toBe(true);
  });
  it('run-orchestrator.json: nova stepped the downtime limit, then aborted at its completion timeout', () => {
    const d = checkRunDocument(orchestrated(), 'run-orchestrator.json');
    expect(d.precopy!.outcome).toBe('aborted');
    expect(d.precopy!.orchestrator!.actions.map((a) => a.action)).toEqual(['set-downtime', 'set-downtime', 'set-downtime', 'set-downtime', 'abort']);
  });
});

describe('the run reader checks what the reports print of both blocks', () => {
  it('a lazy block with a string where a number belongs, or a histogram that is not a list of numbers, is refused naming the key', () => {
    const a = lazy() as unknown as { quick: { lazy: Record<string, unknown>; stats: Record<string, unknown> } };
    a.quick.lazy.faultPages = '12';
    expect(refusal(a)).toContain('quick.lazy.faultPages');
    const b = lazy() as unknown as { quick: { lazy: Record<string, unknown>; stats: Record<string, unknown> } };
    b.quick.stats['postcopy-latency-dist'] = [1, 'x'];
    expect(refusal(b)).toContain('quick.stats.postcopy-latency-dist');
    const c = lazy() as unknown as { quick: { lazy: Record<string, unknown>; stats: Record<string, unknown> } };
    c.quick.stats.downtime = [1];
    expect(refusal(c)).toContain('quick.stats.downtime');
    const e = lazy() as unknown as { quick: { lazy: Record<string, unknown> } };
    e.quick.lazy.guestLost = 'no';
    expect(refusal(e)).toContain('quick.lazy.guestLost');
  });
  it('an action with an unknown kind, a time that is not a number, or a downtime step whose limits are not numbers is refused naming the key', () => {
    const acts = (d: ResultDocument): Record<string, unknown>[] => d.precopy!.orchestrator!.actions as unknown as Record<string, unknown>[];
    const a = orchestrated();
    acts(a)[1].action = 'reboot';
    expect(refusal(a)).toContain('precopy.orchestrator.actions[1].action');
    const b = orchestrated();
    acts(b)[2].atMs = '5';
    expect(refusal(b)).toContain('precopy.orchestrator.actions[2].atMs');
    const c = orchestrated();
    acts(c)[0].after = '50';
    expect(refusal(c)).toContain('precopy.orchestrator.actions[0].after');
    // the others' before and after are states, words
    const d = orchestrated();
    expect(acts(d)[4].before).toBe('migrating');
    expect(refusal(d)).toBeNull();
    const e = orchestrated() as unknown as { precopy: { orchestrator: { actions: unknown } } };
    e.precopy.orchestrator.actions = {};
    expect(refusal(e)).toContain('precopy.orchestrator.actions');
  });
});

describe('lazy restore in the terminal summary', () => {
  it('says what happened after the resume, and the stalls, in the quick migration column', () => {
    const out = renderSummary(lazy(), plainColors);
    const text = flatText(out);
    expect(rowCells(out, 'downtime')![1]).toContain('resumed after the index read');
    expect(text).toContain('every page there, 996 ms after the resume');
    expect(text).toContain('1,360 pages faulted in on demand (5.31 MiB), 2,736 filled in the background (10.7 MiB)');
    expect(text).toContain('1,365 faults, mean 1.41 ms, p99 < 16.4 ms');
    expect(text).toContain('read the index 13.8 ms');
    expect(text).not.toContain('restore 13.8 ms');
  });
  it('beside pre-copy, the rounds row no longer says everything happened while paused', () => {
    const both = { ...plain(), quick: lazy().quick };
    const rounds = flatText(renderSummary(both, plainColors).split('\n').filter((l, i, all) => i >= all.findIndex((x) => x.startsWith('│ rounds '))).slice(0, 3).join('\n'));
    expect(rounds).toContain('resumed after the index read');
    expect(rounds).not.toContain('everything while paused');
    // an eager restore keeps it
    const eager = renderSummary(plain(), plainColors);
    expect(rowCells(eager, 'rounds')![2]).toBe('1 (everything while paused)');
    expect(rowCells(eager, 'lazy restore')).toBeNull();
    expect(eager).not.toContain('index read');
  });
});

describe('lazy restore in the HTML and the markdown', () => {
  it('the quick card holds the lazy figures and the stall histogram is charted, bar for bucket', () => {
    const html = renderReport([lazy()]);
    expect(html).toContain('Quick migration (lazy restore)');
    expect(html).toContain('Quick migration: lazy restore stalls');
    const q = lazy().quick!;
    const data = stallChartData(q.stats['postcopy-latency-dist'])!;
    expect(data.total).toBe(1365);
    // one vermillion bar per bucket from the first stall to the last
    const bars = html.match(/fill="#D55E00" ecmeta_series_index="0" ecmeta_data_index="\d+"/g) ?? [];
    expect(bars).toHaveLength(data.counts.length);
    expect(html).toContain('pages faulted in and filled after the resume');
  });
  it('no chart without a histogram (simulate mode models the mean only), and nothing lazy for an eager restore', () => {
    const sim = lazy() as unknown as { quick: { stats: Record<string, unknown> } };
    delete sim.quick.stats['postcopy-latency-dist'];
    const simHtml = renderReport([sim]);
    expect(simHtml).toContain('Quick migration (lazy restore)');
    expect(simHtml).not.toContain('lazy restore stalls');
    expect(simHtml).toContain('mean 1.41 ms');
    const eager = renderReport([plain()]);
    expect(eager).not.toContain('lazy restore');
    expect(eager).not.toContain('faulted in');
    expect(lazyRestoreFigures(plain().quick)).toBeNull();
  });
  it('the markdown has the lazy rows; an eager run has none', () => {
    const md = renderMarkdownSummary([lazy()]);
    expect(md).toContain('| lazy restore |  | resumed after the index read (320 KiB), every page there at 2.08 s: 1,360 pages faulted in, 2,736 filled in the background |');
    expect(md).toMatch(/\| stalls \|  \| 1,365, mean 1\.41 ms, p99 &lt; 16\.4 ms; blocktime 939 ms \|/);
    expect(renderMarkdownSummary([plain()])).not.toContain('lazy restore');
  });
});

describe('the orchestrator in the HTML', () => {
  it('each action is a dashed line with a short label at its time on the timeline', () => {
    const d = orchestrated();
    const acts = d.precopy!.orchestrator!.actions;
    const marks = orchestratorMarks(d.precopy!.orchestrator, 1000, d.precopy!.stats['total-time'])!;
    expect(marks.data.map((m) => m.xAxis)).toEqual(acts.map((a) => a.atMs / 1000));
    expect(marks.data.map((m) => m.name)).toEqual(['downtime 50.0 ms', 'downtime 95.0 ms', 'downtime 140 ms', 'downtime 185 ms', 'abort']);
    const html = renderReport([d]);
    // on the timeline (the guest chart marks them too: test/report-orchestrator-marks.test.ts)
    const at = html.indexOf('<figcaption>Timeline: remaining bytes');
    const timeline = html.slice(at, html.indexOf('</svg>', at));
    const xs = marks.data.map((m) => labelX(timeline, String(m.name)));
    for (const x of xs) expect(x).toHaveLength(1);
    for (const m of marks.data) expect(labelX(html, String(m.name))).toHaveLength(2);
    // drawn where the actions happened: pixel positions proportional to the times
    const [first, last] = [xs[0][0], xs[xs.length - 1][0]];
    acts.forEach((a, i) => {
      const want = (a.atMs - acts[0].atMs) / (acts[acts.length - 1].atMs - acts[0].atMs);
      expect(Math.abs((xs[i][0] - first) / (last - first) - want), `${a.action} at ${a.atMs} ms`).toBeLessThan(0.01);
    });
  });
  it('lists the actions in a table, and the outcome badge is a warning, not an error', () => {
    const html = renderReport([orchestrated()]);
    expect(html).toContain('<h3>Orchestrator</h3>');
    const section = html.slice(html.indexOf('<h3>Orchestrator</h3>'), html.indexOf('</table>', html.indexOf('<h3>Orchestrator</h3>')));
    expect(section.match(/<tr>/g)).toHaveLength(1 + 5);
    expect(section).toContain('300 ms → 50.0 ms');
    expect(section).toContain('migrating → aborted');
    expect(section).toContain('live_migration_completion_timeout 600 s');
    expect(html).toContain('<span class="badge warn">aborted (completion-timeout)</span>');
    expect(outcomeTone('aborted')).toBe('warn');
    expect(outcomeTone('paused')).toBe('warn');
    expect(outcomeTone('errored')).toBe('bad');
    // an aborted migration never paused the guest: the timeline does not promise a stop-and-copy window
    expect(html).toContain('no stop-and-copy: the guest was never paused');
    expect(html).not.toContain('the stop-and-copy window, when the guest is paused');
    expect(renderReport([plain()])).toContain('the stop-and-copy window, when the guest is paused');
  });
  it('labels crowding one another are left out (the lines stay); labels sit clear of the axes', () => {
    const acts = [0, 10, 500, 1000, 1005].map((atMs) => ({ atMs, action: 'set-downtime' as const, reason: null, detail: null, before: 1, after: 2 }));
    const marks = orchestratorMarks({ kind: 'proxmox', start: {}, actions: acts }, 1, 1000, [490])!;
    expect(marks.data).toHaveLength(5);
    expect(marks.data.map((m) => (m.label as { show: boolean }).show)).toEqual([true, false, false, true, false]);
    expect(marks.data.map((m) => (m.label as { position: string }).position)).toEqual(['insideEndBottom', 'insideEndBottom', 'insideEndBottom', 'insideEndTop', 'insideEndTop']);
    expect(marks.note).toContain('3 too close to another to be labelled');
  });
  it('no marks and no table without an orchestrator, or when it took no action', () => {
    const html = renderReport([plain()]);
    expect(html).not.toContain('Orchestrator');
    expect(html).not.toContain("orchestrator's");
    expect(orchestratorMarks(undefined, 1, 1000)).toBeNull();
    const idle = orchestrated();
    idle.precopy!.orchestrator!.actions = [];
    expect(orchestratorMarks(idle.precopy!.orchestrator, 1, 1000)).toBeNull();
    const idleHtml = renderReport([idle]);
    expect(idleHtml).toContain('no action.');
    expect(idleHtml).not.toContain("the orchestrator's");
    expect(idleHtml).not.toContain('<th>detail</th>');
  });
  it('a post-copy switch by the orchestrator shares the timeline with the post-copy marks', () => {
    const pc = load('run-postcopy.json');
    pc.precopy!.orchestrator = {
      kind: 'virsh',
      start: { postcopy: true },
      actions: [{ atMs: pc.precopy!.postcopy!.startMs, action: 'postcopy', reason: 'timeout', detail: null, before: 'precopy', after: 'postcopy' }],
    };
    const html = renderReport([pc]);
    // on the timeline the line is drawn, its label left to post-copy's own mark at the same time (no
    // text over text), which names who switched; the guest chart, without post-copy's marks, labels it
    expect(html).toMatch(/>(switch|switch \+ resume) \(virsh\)<\/text>/);
    expect(labelX(html, 'post-copy')).toHaveLength(1);
    expect(html).toContain('1 too close to another to be labelled');
  });
});

describe("the orchestrator's words are text, not markup", () => {
  const hostile = (): ResultDocument => {
    const d = orchestrated();
    const a = d.precopy!.orchestrator!.actions;
    a[4].detail = HOSTILE;
    a[4].reason = MARKUP;
    a[4].before = MARKUP;
    d.precopy!.orchestrator!.kind = MARKUP;
    return d;
  };
  it('HTML: escaped in the table, the card and the labels', () => {
    const tags = tagsOf(renderReport([orchestrated(), lazy()]));
    const d = checkRunDocument(hostile(), 'x.json');
    const html = renderReport([d]);
    expect(liveMarkupInHtml(html, tags)).toBeNull();
    expect(html).toContain('&lt;');
  });
  it('markdown: the list holds no raw markup and no link', () => {
    const md = renderMarkdownSummary([hostile()]);
    expect(liveMarkupInMarkdown(md)).toBeNull();
    expect(md).toContain('**Orchestrator**');
    expect(md.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(5);
  });
  it('the wording of each kind of action', () => {
    const a = { atMs: 0, reason: 'completion-timeout', detail: null };
    expect(actionText({ ...a, action: 'set-downtime', reason: null, before: 50, after: 95 })).toBe('downtime limit 50.0 ms → 95.0 ms');
    expect(actionText({ ...a, action: 'pause', before: 'running', after: 'paused' })).toBe('pause the guest to finish (completion-timeout): a stop-and-copy of everything left');
    expect(actionText({ ...a, action: 'postcopy', before: 'precopy', after: 'postcopy' })).toBe('switch to post-copy (completion-timeout)');
    expect(actionLabel({ ...a, action: 'abort', before: 'migrating', after: 'aborted' })).toBe('abort');
  });
});
