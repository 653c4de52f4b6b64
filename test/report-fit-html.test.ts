/** `migbench fit --html`: the fit page (src/report/fit-html.ts) from the fit document, everything escaped. */
import { readFileSync } from 'node:fs';
import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { fitDocument } from '../src/cli/fit.ts';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { replayFit } from '../src/fit/replay.ts';
import { renderFitReport, type FitReportDocument } from '../src/report/fit-html.ts';
import { liveMarkupInHtml, MARKUP, tagsOf } from './helpers/inert-markup.ts';

async function documentOf(name: string): Promise<FitReportDocument> {
  const fit = fitLog(readQmpLog(readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8')), name);
  return JSON.parse(JSON.stringify(fitDocument(`logs/${name}.jsonl`, fit, fit.scenario, await replayFit(fit)))) as FitReportDocument;
}

const point = (params: Record<string, unknown>, outcome: string) => ({ params, outcomes: { [outcome]: 1 }, totalTimeMs: outcome === 'converged' ? 2650 : null, downtimeMs: outcome === 'converged' ? 963 : null, transferredBytes: 3e8 });

describe('renderFitReport', () => {
  it('the fit with its evidence, the replay beside the log and one chart of remaining for both; the what-if when it ran', async () => {
    const doc = await documentOf('high_bw128_dt300_xbzrle256');
    const html = renderFitReport(doc);
    const root = parse(html);
    expect(root.querySelector('title')!.text).toBe('migbench fit: logs/high_bw128_dt300_xbzrle256.jsonl');
    expect(root.querySelectorAll('section').map((s) => s.id)).toEqual(['fit', 'replay']);
    const keys = root.querySelectorAll('#fit tbody tr').map((tr) => tr.querySelector('code')!.text);
    expect(keys).toEqual(doc.parameters.map((p) => p.key));
    expect(root.querySelectorAll('#replay tbody tr').map((tr) => tr.querySelector('td')!.text)).toEqual(['total time', 'bytes', 'syncs', 'downtime', 'outcome']);
    const svg = root.querySelectorAll('svg');
    expect(svg).toHaveLength(1);
    expect(svg[0].getAttribute('aria-label')).toBe('Remaining over time: the log and the replay');
    expect(html).toContain('log (QEMU)');
    expect(html).toContain('replay (simulate mode)');

    const withWhatIf = renderFitReport({
      ...doc,
      whatIf: {
        maxDowntimeMs: 1500,
        objective: 'total-time',
        asLogged: point({}, 'converged'),
        withoutXbzrle: point({ 'precopy.xbzrle': { enabled: false } }, 'cancelled (timeout)'),
        best: { settings: { 'precopy.downtimeLimitMs': 1000 }, why: '3 of the 4 settings converged within 1500 ms' },
        bestWithoutXbzrle: { settings: null, why: 'none of the 2 settings without XBZRLE converged' },
        points: [point({ 'precopy.downtimeLimitMs': 1000 }, 'converged'), point({ 'precopy.downtimeLimitMs': 300 }, 'cancelled (timeout)')],
      },
    });
    const w = parse(withWhatIf).querySelector('#what-if')!;
    expect(w.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(w.text).toContain('Without XBZRLE, same bandwidth and settings: cancelled (timeout)');
    expect(w.text).toContain('Cheapest that converges: precopy.downtimeLimitMs=1000');
  });

  it('escapes what the log and the user put in: the path, keys, evidence, outcomes and settings', async () => {
    const doc = await documentOf('med_bw32_dt300');
    const clean = renderFitReport({ ...doc, whatIf: { maxDowntimeMs: 300, objective: 'bytes', asLogged: point({}, 'converged'), withoutXbzrle: null, best: { settings: null, why: 'x' }, bestWithoutXbzrle: null, points: [point({ a: 1 }, 'converged')] } });
    const bad = renderFitReport({
      ...doc,
      log: MARKUP,
      parameters: doc.parameters.map((p) => ({ key: `${p.key}${MARKUP}`, value: MARKUP, evidence: `${p.evidence}${MARKUP}` })),
      replay: { ...doc.replay, rows: doc.replay.rows.map((r) => ({ ...r, metric: MARKUP, log: r.unit === null ? MARKUP : r.log })) },
      whatIf: {
        maxDowntimeMs: 300,
        objective: MARKUP,
        asLogged: point({ [MARKUP]: MARKUP }, MARKUP),
        withoutXbzrle: point({}, MARKUP),
        best: { settings: { [MARKUP]: MARKUP }, why: MARKUP },
        bestWithoutXbzrle: { settings: { k: MARKUP }, why: MARKUP },
        points: [point({ [MARKUP]: MARKUP }, MARKUP)],
      },
    });
    expect(liveMarkupInHtml(bad, tagsOf(clean))).toBeNull();
    expect(parse(bad).querySelector('title')!.text).toBe(`migbench fit: ${MARKUP}`);
  });
});
