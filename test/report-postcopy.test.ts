/**
 * Post-copy in the reports (issue 14 item 8), from fixture documents (no migration runs here):
 * test/fixtures/run-postcopy.json is the document `migbench run --set postcopy.enabled=true` wrote
 * for a 64 MiB hotset guest pre-copy cannot converge (post-copy and quick migration), and
 * run-full.json one without post-copy. The third column appears only with post-copy, in the terminal
 * summary, the markdown and the HTML; the stall chart's bars are the histogram's; the post-copy phase
 * is marked on the time series; what the document says is escaped.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { checkRunDocument } from '../src/results/run-reader.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { compareMethods } from '../src/results/method-comparison.ts';
import { postcopyFigures, usedPostcopy } from '../src/results/postcopy-figures.ts';
import { latencyBucketLabel, quantileBucket, quantileText } from '../src/results/stall-histogram.ts';
import { renderMarkdownSummary, renderReport } from '../src/report/html.ts';
import { postcopyPhase } from '../src/report/run-html.ts';
import { stallChartData, stallLatencyChart } from '../src/report/stall-chart.ts';
import { renderSummary } from '../src/report/summary.ts';
import { page } from '../src/report/page.ts';
import { colorsFor } from '../src/report/style.ts';
import { bucketLabel } from '../src/cli/postcopy-lines.ts';
import { formatCount, formatDurationMs } from '../src/units.ts';
import { MARKUP, liveMarkupInHtml, liveMarkupInMarkdown, tagsOf } from './helpers/inert-markup.ts';

const load = (name: string): ResultDocument => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ResultDocument;
const postcopy = (): ResultDocument => load('run-postcopy.json');
const plain = (): ResultDocument => load('run-full.json');
const plainColors = colorsFor({ isTTY: false } as NodeJS.WriteStream, {});

/** The cells of a cli-table3 row that starts with `label` (trimmed, the first line of each). */
function rowCells(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`│ ${label} `));
  expect(line, `a row "${label}"`).toBeDefined();
  return line!.split('│').slice(1, -1).map((c) => c.trim());
}

/**
 * The stall chart's bars in an SVG string (vermillion paths, no other element of it has that fill), in
 * data order: each bar's height in px, from ECharts' `M x y l w 0 l 0 -h l -w 0 Z`.
 */
function barHeights(svg: string): number[] {
  const bars = [...svg.matchAll(/<path d="M[\d.]+ [\d.]+l[\d.]+ 0l0 (-?[\d.]+)l-?[\d.]+ 0Z" fill="#D55E00" ecmeta_series_index="0" ecmeta_data_index="(\d+)"/g)];
  return bars.sort((a, b) => Number(a[2]) - Number(b[2])).map((m) => -Number(m[1]));
}

/** Heights proportional to the counts (to 1 px of the tallest), one bar per bucket slot. */
function expectBarsMatch(svg: string, counts: number[]): void {
  const h = barHeights(svg);
  expect(h).toHaveLength(counts.length);
  const top = Math.max(...h);
  const most = Math.max(...counts);
  h.forEach((px, i) => expect(Math.abs(px - (counts[i] / most) * top), `bar ${i}: ${px}px for ${counts[i]} stalls`).toBeLessThan(1));
}

describe('the fixture', () => {
  it('is a real post-copy document the reader accepts, with a stall histogram', () => {
    const d = checkRunDocument(postcopy(), 'run-postcopy.json');
    expect(d.precopy!.outcome).toBe('postcopy');
    expect(usedPostcopy(d.precopy)).toBe(true);
    expect(usedPostcopy(plain().precopy)).toBe(false);
    expect(d.precopy!.stats['postcopy-latency-dist']!.some((n) => n > 0)).toBe(true);
    expect(d.quick).not.toBeNull();
  });
});

describe('stall histogram arithmetic (results/stall-histogram.ts)', () => {
  it.each<[number, string]>([[0, '1µs–2µs'], [8, '256µs–512µs'], [10, '1.02 ms–2.05 ms'], [23, '≥8.39 s']])('bucket %i of 24 reads %s (as the terminal lines do)', (n, label) => {
    expect(latencyBucketLabel(n, 24)).toBe(label);
    expect(bucketLabel(n)).toBe(label);
  });

  it('the p99 bucket is the first whose running count reaches 99% of the stalls', () => {
    // 100 stalls: 98 in bucket 3, 1 in bucket 5, 1 in bucket 9 → the 99th stall is in bucket 5
    const dist = new Array(24).fill(0);
    dist[3] = 98;
    dist[5] = 1;
    dist[9] = 1;
    expect(quantileBucket(dist, 0.99)).toBe(5);
    expect(quantileBucket(dist, 0.5)).toBe(3);
    expect(quantileBucket(dist, 1)).toBe(9);
    expect(quantileText(dist, 0.99)).toBe('p99 < 64µs');
    expect(quantileText(new Array(24).fill(0), 0.99)).toBeNull();
    const last = new Array(24).fill(0);
    last[23] = 2;
    expect(quantileText(last, 0.99)).toBe('p99 ≥ 8.39 s');
  });
});

describe('the terminal summary', () => {
  it('has no post-copy column without post-copy', () => {
    const text = renderSummary(plain(), plainColors);
    const head = text.split('\n')[1];
    expect(head).toContain('pre-copy');
    expect(head).toContain('quick migration');
    expect(head).not.toContain('post-copy');
    expect(text).not.toMatch(/postcopy-requests|blocktime/);
  });

  it('puts post-copy in a third column beside pre-copy and quick migration, with its own figures', () => {
    const doc = postcopy();
    const f = postcopyFigures(doc.precopy)!;
    const text = renderSummary(doc, plainColors);
    expect(rowCells(text, 'postcopy-hotset')).toEqual(['postcopy-hotset', 'pre-copy', 'post-copy', 'quick migration', 'quick ÷ post-copy']);
    const downtime = rowCells(text, 'downtime');
    expect(downtime[1]).toMatch(/^no stop-and-copy/);
    expect(downtime[2]).toBe(`${formatDurationMs(doc.precopy!.stats.downtime!)} (the switch)`);
    expect(downtime[3]).toBe(formatDurationMs(doc.quick!.stats.downtime!));
    // the ratio column compares quick migration with the post-copy migration
    const r = doc.quick!.stats.downtime! / doc.precopy!.stats.downtime!;
    expect(downtime[4]).toBe(`${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`);
    expect(rowCells(text, 'total time')[2]).toMatch(new RegExp(`^${formatDurationMs(doc.precopy!.stats['total-time'])} \\(`));
    expect(rowCells(text, 'requests')[2]).toMatch(new RegExp(`^${formatCount(doc.precopy!.stats.ram['postcopy-requests']!)} \\(postcopy-requests\\)`));
    expect(rowCells(text, 'blocktime')[2]).toMatch(new RegExp(`^${formatDurationMs(doc.precopy!.stats['postcopy-blocktime']!)} all vCPUs`));
    expect(text).toContain(`${formatCount(f.faults)} faults, mean ${formatDurationMs(doc.precopy!.stats['postcopy-latency']! / 1e6)}, p99 <`);
    expect(text).toMatch(/verdict: post-copy paused the guest/);
  });

  it('a run with post-copy alone (--only precopy) has the two live columns and no ratio', () => {
    const doc = postcopy();
    doc.quick = null;
    doc.comparison = null;
    const text = renderSummary(doc, plainColors);
    expect(rowCells(text, 'postcopy-hotset')).toEqual(['postcopy-hotset', 'pre-copy', 'post-copy']);
  });
});

describe('the method comparison verdict', () => {
  it('names post-copy, not pre-copy, when the migration switched', () => {
    const doc = postcopy();
    const v = compareMethods(doc.precopy!, doc.quick!).verdict;
    expect(v).toMatch(/^post-copy paused the guest [\d.]+× less/);
    expect(v).toContain('(pre-copy did not converge: it switched to post-copy at');
    expect(v).not.toContain('null');
    expect(compareMethods(plain().precopy!, plain().quick!).verdict).toMatch(/^pre-copy paused the guest/);
  });
});

describe('the markdown summary', () => {
  it('has a post-copy column only with post-copy', () => {
    expect(renderMarkdownSummary([plain()], ['r'])).toContain('| | pre-copy | quick migration |');
    const md = renderMarkdownSummary([postcopy()], ['r']);
    expect(md).toContain('| | pre-copy | post-copy | quick migration |');
    const doc = postcopy();
    const requests = md.split('\n').find((l) => l.startsWith('| requests |'))!;
    expect(requests.split(' | ')[2]).toBe(formatCount(doc.precopy!.stats.ram['postcopy-requests']!));
    // every row has the same number of cells
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| |'));
    for (const l of rows) expect(l.split(/(?<!\\)\|/)).toHaveLength(6);
  });
});

describe('the HTML report', () => {
  it('a post-copy card and the stall chart only with post-copy', () => {
    const without = renderReport([plain()], ['r']);
    expect(without).not.toContain('Post-copy stalls');
    expect(parse(without).querySelectorAll('.cards .card')).toHaveLength(2);
    const html = renderReport([postcopy()], ['r']);
    const cards = parse(html).querySelectorAll('.cards .card');
    expect(cards.map((c) => c.querySelector('h4')!.text.split(/\s/)[0])).toEqual(['Pre-copy', 'Post-copy', 'Quick']);
    expect(cards[1].text).toMatch(new RegExp(`requests${formatCount(postcopy().precopy!.stats.ram['postcopy-requests']!)}: `));
    expect(cards[0].text).toContain('switched to post-copy');
    expect(html).toContain('Post-copy stalls');
    expect(html).toContain('Post-copy against quick migration');
  });

  it("the stall chart's bars are the histogram's buckets, first to last stall, with readable labels", () => {
    const dist = postcopy().precopy!.stats['postcopy-latency-dist']!;
    const data = stallChartData(dist)!;
    const first = dist.findIndex((n) => n > 0);
    const last = dist.length - 1 - [...dist].reverse().findIndex((n) => n > 0);
    expect(data.first).toBe(first);
    expect(data.counts).toEqual(dist.slice(first, last + 1));
    expect(data.labels).toEqual(data.counts.map((_, i) => latencyBucketLabel(first + i, 24)));
    expect(data.total).toBe(dist.reduce((s, n) => s + n, 0));

    const svg = stallLatencyChart(dist, 'stalls');
    expectBarsMatch(svg, data.counts);
    // each bar is labelled with its count, and each bucket with its range
    const texts = parse(svg).querySelectorAll('text').map((t) => t.text);
    for (const n of data.counts.filter((x) => x > 0)) expect(texts).toContain(formatCount(n));
    for (const l of data.labels) expect(texts).toContain(l);
  });

  it('a histogram built in the test: a gap between buckets draws an empty slot, not a missing one', () => {
    const dist = new Array(24).fill(0);
    dist[4] = 7;
    dist[7] = 3;
    const data = stallChartData(dist)!;
    expect(data.counts).toEqual([7, 0, 0, 3]);
    expect(data.labels).toEqual(['16µs–32µs', '32µs–64µs', '64µs–128µs', '128µs–256µs']);
    expectBarsMatch(stallLatencyChart(dist, 'x'), [7, 0, 0, 3]);
    expect(stallChartData(new Array(24).fill(0))).toBeNull();
    expect(stallLatencyChart([], 'Lazy restore <b>stalls</b>')).toBe('<p class="note">Lazy restore &lt;b&gt;stalls&lt;/b&gt;: no stalls recorded.</p>');
  });

  it('any title (a lazy restore, say) and markup in it print as text', () => {
    const dist = postcopy().precopy!.stats['postcopy-latency-dist']!;
    const html = stallLatencyChart(dist, `Lazy restore ${MARKUP}`, MARKUP);
    const inPage = (fragment: string): string => page('t', [{ id: 'a', title: 't', html: fragment }]);
    expect(liveMarkupInHtml(inPage(html), tagsOf(inPage(stallLatencyChart(dist, 'plain'))))).toBeNull();
    expect(html).toContain('Lazy restore &lt;img');
  });

  it('marks the switch, the resume and the completion on the time series', () => {
    const doc = postcopy();
    const f = postcopyFigures(doc.precopy)!;
    const pc = doc.precopy!.postcopy!;
    // the fixture's switch and resume are 6 ms apart on a 1.4 s axis: one line
    expect(postcopyPhase(f, 1).marks).toEqual([
      { name: 'switch + resume', atMs: pc.startMs },
      { name: 'every page there', atMs: pc.completedMs },
    ]);
    const apart = { ...f, block: { ...pc, resumedMs: pc.startMs + 200 } };
    expect(postcopyPhase(apart, 1).marks.map((m) => m.name)).toEqual(['switch', 'resume', 'every page there']);
    const html = renderReport([doc], ['r']);
    const timeline = parse(html).querySelectorAll('figure.chart').find((fig) => fig.querySelector('figcaption')!.text.startsWith('Timeline'))!;
    const texts = timeline.querySelectorAll('text').map((t) => t.text);
    expect(texts).toContain('switch + resume');
    expect(texts).toContain('post-copy');
    expect(timeline.querySelector('figcaption')!.text).toContain(`every page there at ${formatDurationMs(pc.completedMs)}`);
  });

  it('says when stall records were dropped (the histogram then counts the kept ones)', () => {
    const doc = postcopy();
    expect(renderReport([doc], ['r'])).not.toContain('found no room');
    doc.precopy!.postcopy!.stallRecordsDropped = 12;
    expect(renderReport([doc], ['r'])).toContain('12 stalls found no room in the vCPUs&#39; records and are not counted here.');
  });

  it('a hostile scenario name in a post-copy document does not become markup', () => {
    const doc = postcopy();
    (doc.scenario as { name: string }).name = MARKUP;
    const tags = tagsOf(renderReport([postcopy()], ['r']));
    expect(liveMarkupInHtml(renderReport([doc], [MARKUP]), tags)).toBeNull();
    expect(liveMarkupInMarkdown(renderMarkdownSummary([doc], [MARKUP]))).toBeNull();
    expect(renderSummary(doc, plainColors)).not.toContain('\u001b');
  });
});

describe('the run reader', () => {
  it.each<[string, (d: ResultDocument & Record<string, any>) => void, RegExp]>([
    ['a string in the histogram', (d) => (d.precopy!.stats['postcopy-latency-dist']![3] = '9' as never), /precopy\.stats\.postcopy-latency-dist: expected a list of at most 64 numbers/],
    ['a huge histogram', (d) => (d.precopy!.stats['postcopy-latency-dist'] = new Array(100_000).fill(1)), /postcopy-latency-dist: expected a list of at most 64 numbers/],
    ['a string switch time', (d) => ((d.precopy!.postcopy as unknown as Record<string, unknown>).startMs = '1'), /precopy\.postcopy\.startMs: expected a number or null, got "1"/],
    ['no write rates', (d) => delete (d.precopy!.postcopy as unknown as Record<string, unknown>).writeRate, /precopy\.postcopy\.writeRate: expected an object/],
  ])('refuses %s, naming the key', (_what, spoil, message) => {
    const d = postcopy() as ResultDocument & Record<string, any>;
    spoil(d);
    expect(() => checkRunDocument(d, 'x.json')).toThrow(message);
  });
});
