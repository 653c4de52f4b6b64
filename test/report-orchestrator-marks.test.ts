/**
 * The orchestrator's actions on the run report's time series (issue 19 item 2): each action is a dashed
 * vertical line at its time on both charts over time (the timeline and the guest's write rate), in the
 * axis's own pixels (read from the tick labels ECharts printed), labelled where no other label crowds
 * it; a switch to post-copy the orchestrator asked for names it on the timeline's switch mark; what
 * a document says is escaped. Runs are simulated on an 8 MiB guest (milliseconds of wall time), plus
 * the nova fixture of test/report-lazy-orchestrator.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';
import type { ResultDocument } from '../src/results/document.ts';
import { checkRunDocument } from '../src/results/run-reader.ts';
import { actionLabel } from '../src/results/orchestrator-actions.ts';
import { renderReport } from '../src/report/html.ts';
import { MUTED, OKABE_ITO } from '../src/report/theme.ts';
import { MARKUP, liveMarkupInHtml, tagsOf } from './helpers/inert-markup.ts';

/** An 8 MiB guest whose 4 MiB hot set cannot converge over 4 MiB/s. */
const stuck: ScenarioInput = {
  guest: { memory: '8MiB', vcpus: 1 },
  link: { bandwidth: '4MiB/s' },
  workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB', hotFraction: 1 },
  precopy: { downtimeLimitMs: 50, timeoutMs: 20_000 },
};
const runs = new Map<string, Promise<ResultDocument>>();
/** The simulated run under `orchestrator` (each simulated once for the file). */
const run = (orchestrator: Record<string, unknown>): Promise<ResultDocument> => {
  const key = JSON.stringify(orchestrator);
  if (!runs.has(key)) runs.set(key, simulateScenario(resolveScenario({ ...stuck, orchestrator } as ScenarioInput), { methods: ['precopy'] }));
  return runs.get(key)!.then((d) => structuredClone(d));
};
const nova = (): ResultDocument => JSON.parse(readFileSync(new URL('./fixtures/run-orchestrator.json', import.meta.url), 'utf8')) as ResultDocument;

const VERMILLION = OKABE_ITO.vermillion;

/** The SVG of the chart titled `title`. */
function chartSvg(html: string, title: string): string {
  const at = html.indexOf(`<figcaption>${title}`);
  expect(at, title).toBeGreaterThan(-1);
  const start = html.indexOf('<svg', at);
  return html.slice(start, html.indexOf('</svg>', start));
}

/** The x axis's pixel for a value, from the first and last numeric tick labels (centred, below the plot). */
function xPixel(svg: string): (value: number) => number {
  const ticks = [...svg.matchAll(/<text [^>]*text-anchor="middle"[^>]*transform="translate\(([\d.]+) ([\d.]+)\)"[^>]*>([\d,.]+)<\/text>/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), v: Number(m[3].replace(/,/g, '')) }));
  const axisY = Math.max(...ticks.map((t) => t.y)); // the x axis's labels sit lowest
  const onAxis = ticks.filter((t) => t.y === axisY);
  expect(onAxis.length).toBeGreaterThanOrEqual(3);
  const [a, b] = [onAxis[0], onAxis[onAxis.length - 1]];
  return (v) => a.x + ((v - a.v) * (b.x - a.x)) / (b.v - a.v);
}

/** x of every dashed vertical line drawn in `color`. */
function dashedLines(svg: string, color: string): number[] {
  return [...svg.matchAll(/<path d="M([\d.]+) [\d.]+L([\d.]+) [\d.]+"[^>]*stroke="([^"]+)"[^>]*stroke-dasharray/g)].filter((m) => m[1] === m[2] && m[3].toUpperCase() === color.toUpperCase()).map((m) => Number(m[1]));
}

/** x of each rotated label reading `label` (a vertical line's label, drawn beside the line). */
function labelXs(svg: string, label: string): number[] {
  return [...svg.matchAll(/<text [^>]*transform="matrix\(0,-1,1,0,([\d.]+),[\d.]+\)"[^>]*>([^<]*)<\/text>/g)].filter((m) => m[2] === label).map((m) => Number(m[1]));
}

const CHARTS = ['Timeline: remaining bytes and link rate', 'Guest: achieved write rate and throttle'] as const;

/** Every action of `doc` is a line at its time on both charts (within a pixel), in its colour; the labels shown sit by their line. */
function expectMarks(doc: ResultDocument, hiddenOnTimeline: readonly string[] = []): void {
  const html = renderReport([doc]);
  const p = doc.precopy!;
  const endMs = Math.max(p.stats['total-time'], ...p.series.map((x) => x.tMs));
  const div = endMs >= 10_000 ? 1000 : 1;
  for (const title of CHARTS) {
    const svg = chartSvg(html, title);
    const x = xPixel(svg);
    for (const a of p.orchestrator!.actions) {
      const want = x(a.atMs / div);
      const color = a.action === 'set-downtime' ? MUTED : VERMILLION;
      const lines = dashedLines(svg, color);
      expect(lines.some((l) => Math.abs(l - want) <= 1), `${title}: a ${a.action} line at ${a.atMs} ms (x ≈ ${want.toFixed(1)}; lines at ${lines.join(', ')})`).toBe(true);
      if (title === CHARTS[0] && hiddenOnTimeline.includes(actionLabel(a))) continue;
      const labels = labelXs(svg, actionLabel(a));
      expect(labels.some((l) => Math.abs(l - want) <= 8), `${title}: the label "${actionLabel(a)}" by its line (x ≈ ${want.toFixed(1)}; labels at ${labels.join(', ')})`).toBe(true);
    }
  }
}

describe('orchestrator actions on the run report\'s time series', () => {
  it('kubevirt aborting at its budget: an abort line, labelled, at its time on the timeline and the guest chart', async () => {
    const d = await run({ kind: 'kubevirt', completionTimeoutPerGiB: 1 });
    expect(d.precopy!.orchestrator!.actions.map((a) => a.action)).toEqual(['abort']);
    expectMarks(d);
  });

  it('kubevirt pausing the guest to finish: the pause line where the write rate drops', async () => {
    const d = await run({ kind: 'kubevirt', completionTimeoutPerGiB: 1, allowWorkloadDisruption: true });
    expect(d.precopy!.orchestrator!.actions.map((a) => a.action)).toEqual(['pause']);
    expectMarks(d);
  });

  it('kubevirt switching to post-copy: its line on both charts, its label on the guest chart, and the timeline\'s switch mark names it', async () => {
    const d = await run({ kind: 'kubevirt', completionTimeoutPerGiB: 1, allowPostCopy: true });
    expect(d.precopy!.outcome).toBe('postcopy');
    expectMarks(d, ['post-copy']);
    const html = renderReport([d]);
    const timeline = chartSvg(html, CHARTS[0]);
    // the action falls on the switch: one label there, naming who switched
    expect(labelXs(timeline, 'post-copy')).toEqual([]);
    const named = [...labelXs(timeline, 'switch + resume (kubevirt)'), ...labelXs(timeline, 'switch (kubevirt)')];
    expect(named).toHaveLength(1);
    expect(Math.abs(named[0] - xPixel(timeline)(d.precopy!.postcopy!.startMs))).toBeLessThanOrEqual(8);
    expect(html).toContain('switched by kubevirt at');
  });

  it('nova\'s downtime steps and abort (the fixture): every line at its time on both charts, grey steps, a vermillion abort', () => {
    const d = nova();
    expect(d.precopy!.orchestrator!.actions).toHaveLength(5);
    expectMarks(d);
  });

  it('a document\'s orchestrator kind in the switch label is text, not markup', async () => {
    const d = await run({ kind: 'kubevirt', completionTimeoutPerGiB: 1, allowPostCopy: true });
    const tags = tagsOf(renderReport([d]));
    const hostile = structuredClone(d);
    hostile.precopy!.orchestrator!.kind = MARKUP;
    const html = renderReport([checkRunDocument(hostile, 'x.json')]);
    expect(liveMarkupInHtml(html, tags)).toBeNull();
    expect(html).toContain('switch + resume (&lt;img');
  });
});
