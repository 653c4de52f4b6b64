/**
 * The HTML reports in a real headless Chromium (Debian's `chromium`, driven by playwright-core): each
 * opens from a file:// URL with no console error and no request besides the page itself, its charts
 * lay out, and a screenshot is not blank.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`). Without it this file FAILS: it does not skip.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderComparisonReport, renderReport, renderRunReport, renderSweepReport } from '../src/report/html.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const ALL = ['run.json', 'run-rounds.json', 'comparison.json', 'sweep.json', 'tune.json', 'suite-a.json'];

const REPORTS: { name: string; html: () => string; charts: number }[] = [
  { name: 'run', html: () => renderRunReport(load('run-rounds.json') as never), charts: 4 },
  { name: 'comparison', html: () => renderComparisonReport(load('comparison.json') as never), charts: 7 },
  { name: 'sweep', html: () => renderSweepReport(load('tune.json') as never), charts: 2 },
  { name: 'all', html: () => renderReport(ALL.map(load), ALL), charts: 4 + 4 + 7 + 2 + 2 + 7 },
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

        // every chart is there and has a real size
        const boxes = await page.locator('figure.chart svg').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ w: r.width, h: r.height })));
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
