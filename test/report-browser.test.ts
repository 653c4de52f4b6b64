/**
 * The HTML reports in a real headless Chromium (Debian's `chromium`, driven by playwright-core): each
 * opens from a file:// URL with no console error and no request besides the page itself, its charts
 * lay out, and a screenshot is not blank.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`). Without it this file FAILS: it does not skip.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { renderComparisonReport, renderReport, renderRunReport, renderSweepReport } from '../src/report/html.ts';
import { compareSuites } from '../src/results/compare.ts';
import { checkSuiteDocument, type SuiteDocument } from '../src/results/suite-document.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const ALL = ['run.json', 'run-rounds.json', 'comparison.json', 'sweep.json', 'tune.json', 'suite-a.json'];

const REPORTS: { name: string; html: () => string; charts: number }[] = [
  // a run: the rounds (the other axis behind a closed disclosure), timeline, guest, downtime, total time
  { name: 'run', html: () => renderRunReport(load('run-rounds.json') as never), charts: 5 },
  { name: 'comparison', html: () => renderComparisonReport(load('comparison.json') as never), charts: 7 },
  { name: 'sweep', html: () => renderSweepReport(load('tune.json') as never), charts: 2 },
  { name: 'all', html: () => renderReport(ALL.map(load), ALL), charts: 5 + 5 + 7 + 2 + 2 + 7 },
];

/** Distinct colours (exact RGB) and the share of pixels that are not near-white. */
function pixelStats(png: Buffer): { colours: number; inked: number; width: number; height: number } {
  const img = PNG.sync.read(png);
  const colours = new Set<number>();
  let inked = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const r = img.data[i * 4];
    const g = img.data[i * 4 + 1];
    const b = img.data[i * 4 + 2];
    colours.add((r << 16) | (g << 8) | b);
    if (r < 235 || g < 235 || b < 235) inked++;
  }
  return { colours: colours.size, inked: inked / n, width: img.width, height: img.height };
}

const MISSING = `headless Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (CI's .ci/run does)`;

describe('HTML reports in headless Chromium', () => {
  // Without Chromium every test below fails with MISSING (a hook error would only mark them skipped).
  let browser: Browser | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'migbench-report-browser-'));
  const need = (): Browser => {
    if (browser === undefined) throw new Error(MISSING);
    return browser;
  };

  beforeAll(async () => {
    if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`Chromium is installed at ${CHROMIUM}`, () => {
    expect(existsSync(CHROMIUM), MISSING).toBe(true);
  });

  for (const report of REPORTS) {
    it(`${report.name}: opens offline with no console error and no request, charts laid out, screenshot not blank`, async () => {
      const file = join(dir, `${report.name}.html`);
      writeFileSync(file, report.html());
      const url = pathToFileURL(file).href;
      const context = await need().newContext({ viewport: { width: 1200, height: 1000 }, offline: true });
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      try {
        const response = await page.goto(url, { waitUntil: 'load' });
        expect(response?.ok() ?? true).toBe(true);

        // every chart on show is there and has a real size (a chart in a closed disclosure has none)
        const boxes = await page.locator('figure.chart svg').evaluateAll((els) => els.filter((e) => e.checkVisibility()).map((e) => e.getBoundingClientRect()).map((r) => ({ w: r.width, h: r.height })));
        expect(boxes).toHaveLength(report.charts);
        for (const b of boxes) {
          expect(b.w).toBeGreaterThan(200);
          expect(b.h).toBeGreaterThan(80);
        }
        // the charts drew marks and text, not just an empty frame
        const marks = await page.locator('figure.chart svg').first().evaluate((svg) => ({ paths: svg.querySelectorAll('path').length, texts: svg.querySelectorAll('text').length }));
        expect(marks.paths).toBeGreaterThan(5);
        expect(marks.texts).toBeGreaterThan(3);

        const png = await page.screenshot({ fullPage: false });
        const stats = pixelStats(png);
        expect(stats.width).toBe(1200);
        expect(stats.colours).toBeGreaterThan(50);
        expect(stats.inked).toBeGreaterThan(0.02);
        expect(stats.inked).toBeLessThan(0.9); // a light page

        expect(errors).toEqual([]);
        expect(requests).toEqual([url]);
      } finally {
        await context.close();
      }
    });
  }
});

/** A run whose rounds moved 100× the pages: tick labels of 7 digits and more beside the axis name "pages". */
function bigRun(): unknown {
  const doc = load('run-rounds.json') as { precopy: { rounds: { dirtyPages: number; sentPages: number; thresholdBytes: number }[] } };
  for (const r of doc.precopy.rounds) {
    r.dirtyPages *= 100;
    r.sentPages *= 100;
    r.thresholdBytes *= 100;
  }
  return doc;
}

/** compare --html with the two suite results, labelled with long file names as CI gives them. */
function comparePage(): string {
  const base = checkSuiteDocument(load('suite-a.json'), 'base') as SuiteDocument;
  const head = checkSuiteDocument(load('suite-b.json'), 'head') as SuiteDocument;
  const labels = { base: 'results/smoke-main-2026-11-25-baseline.json', head: 'results/smoke-feature-xbzrle-simd-2026-11-26.json' };
  return renderComparisonReport(compareSuites(base, head, { alpha: 0.05, threshold: 0.05, metricThresholds: {}, labels }), { base, head });
}

/** Every report kind (issue 18 item 7): what a person would look at, at a desktop and a narrow width. */
const KINDS: { name: string; html: () => string }[] = [
  { name: 'run-emulate', html: () => renderRunReport(load('run-rounds.json') as never) },
  { name: 'run-emulate-big', html: () => renderRunReport(bigRun() as never) },
  { name: 'run-simulate', html: () => renderRunReport(load('run-full.json') as never) },
  // post-copy and quick migration: three cards, the stall chart, the switch and completion on the timeline
  { name: 'run-postcopy', html: () => renderRunReport(load('run-postcopy.json') as never) },
  // a lazy quick restore (its stall chart) and an orchestrator's actions (marked on the timeline, a table)
  { name: 'run-lazy', html: () => renderRunReport(load('run-lazy.json') as never) },
  { name: 'run-orchestrator', html: () => renderRunReport(load('run-orchestrator.json') as never) },
  { name: 'suite', html: () => renderReport([load('suite-a.json')], ['suite-a.json']) },
  { name: 'sweep', html: () => renderSweepReport(load('sweep.json') as never) },
  { name: 'tune', html: () => renderSweepReport(load('tune-24.json') as never) },
  { name: 'compare', html: comparePage },
];
const WIDTHS = [1400, 800];

/**
 * Text that prints over other text in the charts on show: pairs of non-empty <text> elements of one
 * chart whose boxes overlap by more than 1 px both ways (tick labels, axis names, legends, point and
 * line labels), named by the chart's title.
 */
async function overprinted(page: Page): Promise<string[]> {
  return page.locator('figure.chart').evaluateAll((figs) => {
    const found: string[] = [];
    for (const fig of figs) {
      const svg = fig.querySelector('svg');
      if (!svg || !svg.checkVisibility()) continue;
      const texts = [...svg.querySelectorAll('text')].filter((t) => (t.textContent ?? '').trim() !== '').map((t) => ({ text: t.textContent ?? '', r: t.getBoundingClientRect() }));
      for (let i = 0; i < texts.length; i++) {
        for (let j = i + 1; j < texts.length; j++) {
          const a = texts[i].r;
          const b = texts[j].r;
          const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (x > 1 && y > 1) found.push(`${fig.querySelector('figcaption')?.firstChild?.textContent}: "${texts[i].text}" over "${texts[j].text}"`);
        }
      }
    }
    return found;
  });
}

describe('every report kind at 1,400 and 800 px: nothing overprinted or clipped (screenshots kept with MIGBENCH_REPORT_SHOTS=dir)', () => {
  let browser: Browser | undefined;
  const SHOTS = process.env.MIGBENCH_REPORT_SHOTS !== undefined;
  const dir = process.env.MIGBENCH_REPORT_SHOTS ?? mkdtempSync(join(tmpdir(), 'migbench-report-shots-'));
  mkdirSync(dir, { recursive: true });

  beforeAll(async () => {
    if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    if (process.env.MIGBENCH_REPORT_SHOTS === undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of KINDS) {
    it(kind.name, async () => {
      if (browser === undefined) throw new Error(MISSING);
      const file = join(dir, `${kind.name}.html`);
      writeFileSync(file, kind.html());
      for (const width of WIDTHS) {
        const context = await browser.newContext({ viewport: { width, height: 900 }, offline: true });
        try {
          const page = await context.newPage();
          await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
          // full-page screenshots only when asked for (encoding pages of many thousand pixels is most of this test's time)
          if (SHOTS) await page.screenshot({ fullPage: true, path: join(dir, `${kind.name}-${width}.png`) });
          // nothing runs off the side of the page
          expect(await page.locator('html').evaluate((html) => html.scrollWidth), `${kind.name} at ${width} px`).toBeLessThanOrEqual(width);
          expect(await overprinted(page), `${kind.name} at ${width} px`).toEqual([]);
          // a table that must fit (the comparison's): its last column (the verdict) inside the visible box
          const clipped = await page.locator('table.fit').evaluateAll((tables, viewport) =>
            tables.flatMap((t) => {
              const box = (t.closest('.scroll') ?? t).getBoundingClientRect();
              return [...t.querySelectorAll('tr > :last-child')].map((c) => c.getBoundingClientRect()).filter((r) => r.right > box.right + 0.5 || r.right > viewport).map((r) => r.right);
            }),
          width);
          expect(clipped, `${kind.name} at ${width} px: verdict cells past the table's visible box`).toEqual([]);
          if (kind.name === 'compare') expect(await page.locator('table.fit').count()).toBe(1);
          // a run's rounds: the other axis opens from the disclosure, takes the default's place, and prints clean too
          const toggles = page.locator('.axis-toggle');
          if ((await toggles.count()) > 0) {
            const shown = (): Promise<string[]> => toggles.first().locator('figure.chart').evaluateAll((figs) => figs.filter((f) => f.checkVisibility()).map((f) => f.querySelector('figcaption')?.firstChild?.textContent ?? ''));
            const before = await shown();
            expect(before).toHaveLength(1);
            await toggles.first().locator('summary').click();
            const after = await shown();
            expect(after).toHaveLength(1);
            expect(after).not.toEqual(before);
            expect(await overprinted(page), `${kind.name} at ${width} px, the other axis`).toEqual([]);
            if (SHOTS) await page.screenshot({ fullPage: true, path: join(dir, `${kind.name}-${width}-other-axis.png`) });
          }
        } finally {
          await context.close();
        }
      }
    }, 120_000);
  }
});
