/** A run's progress written as QEMU query-migrate replies (src/fit/qmp-export.ts), read back by the QMP log reader. */
import { describe, expect, it } from 'vitest';
import { qmpLogLines } from '../src/fit/qmp-export.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';

const base: ScenarioInput = {
  name: 'export',
  seed: 2,
  guest: { memory: '64MiB', vcpus: 1, fill: { zero: 0.5, random: 0.5, text: 0 } },
  workload: { pattern: 'hotset', dirtyRate: '4000/s', workingSet: '8MiB', hotFraction: 1 },
  link: { bandwidth: '1Gbit/s' },
  precopy: { maxBandwidth: '16MiB/s', downtimeLimitMs: 300 },
};

async function exported(input: ScenarioInput) {
  const scenario = resolveScenario(input);
  const doc = await simulateScenario(scenario, { methods: ['precopy'] });
  const lines = qmpLogLines(scenario, doc.precopy!);
  return { scenario, result: doc.precopy!, lines, log: readQmpLog(lines.join('')) };
}

describe('run --qmp-log: the progress as query-migrate replies', () => {
  it('parameters, capabilities, setup, one reply per sample, and the last reply holding the result stats exactly', async () => {
    const { result, lines, log } = await exported(base);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(lines[0])).toEqual({ execute: 'query-migrate-parameters', return: expect.objectContaining({ 'downtime-limit': 300, 'max-bandwidth': 16 * 2 ** 20 }) });
    expect(log.capabilities).toMatchObject({ xbzrle: false, 'auto-converge': false });
    expect(log.polls[0].status).toBe('setup');
    const samples = result.series.filter((s) => s.tMs > 0 && s.tMs < result.stats['total-time']);
    expect(log.polls).toHaveLength(samples.length + 2);
    const last = JSON.parse(lines.at(-1)!);
    expect(last.return.ram).toEqual(result.stats.ram);
    expect(last.return.status).toBe('completed');
    expect(last.return.downtime).toBe(result.stats.downtime);
    // the active replies follow the series, with the sync count and zero/normal pages moving with the rounds
    const active = log.polls.filter((p) => p.status === 'active');
    expect(active.map((p) => p.ram!.remaining)).toEqual(samples.map((s) => s.remainingBytes));
    expect(active.map((p) => p.ram!.transferred)).toEqual(samples.map((s) => s.transferredBytes));
    const syncEnds = result.rounds.filter((r) => r.stage !== 'stop-and-copy').map((r) => r.startMs + r.durationMs);
    // QEMU's count: 1 in the bulk round (its sync at setup), one more at each sync
    expect(active[0].ram!.dirtySyncCount).toBe(1);
    // and each reply's remaining and sync count agree: the remaining after a sync shows in the next sample
    const series = result.series.filter((s) => s.tMs > 0 && s.tMs < result.stats['total-time']);
    const liveEnd = syncEnds.at(-1)!;
    const lastAtLiveEnd = series.findLastIndex((pt) => Math.abs(liveEnd - pt.tMs) <= 1e-6);
    series.forEach((pt, i) => {
      const before = syncEnds.filter((t) => t < pt.tMs - 1e-6).length;
      // the sample forced at the end of the live phase (the last at that instant) comes after the last
      // live sync; a sample taken after the batch before it, at the same instant, does not
      const atLiveEnd = i === lastAtLiveEnd ? 1 : 0;
      expect(active[i].ram!.dirtySyncCount).toBe(1 + before + atLiveEnd);
    });
    expect(active.at(-1)!.ram!.dirtySyncCount).toBe(1 + syncEnds.length);
    expect(active.at(-1)!.ram!.dirtySyncCount).toBeGreaterThan(3);
    // QEMU fills dirty-pages-rate once a period of a second has passed: 0 before, then the pages found per second
    expect(active[0].ram!.dirtyPagesRate).toBe(0);
    expect(active.some((p) => (p.ram!.dirtyPagesRate ?? 0) > 0)).toBe(true);
    // the bulk round's zero pages show up as it goes, not all at the end
    const mid = active[Math.floor(active.length / 4)].ram!;
    expect(mid.duplicate).toBeGreaterThan(0);
    expect(mid.duplicate).toBeLessThan(result.stats.ram.duplicate);
  });

  it("QEMU's bookkeeping holds between syncs: every page sent counts once in duplicate or normal and takes a page off remaining", async () => {
    // a sample at a round's end was counted with the next round's pages (its counters then stood still
    // for a whole round while remaining fell), so the pages a sync added could not be read off the log
    const { scenario, log } = await exported(base);
    const ps = scenario.guest.pageSize;
    const active = log.polls.filter((p) => p.status === 'active');
    let checked = 0;
    for (let i = 1; i < active.length; i++) {
      const a = active[i - 1].ram!;
      const b = active[i].ram!;
      const sent = b.duplicate + b.normal - a.duplicate - a.normal;
      if (b.dirtySyncCount === a.dirtySyncCount) {
        expect(sent + (b.remaining - a.remaining) / ps).toBe(0);
        checked++;
      } else expect(sent + (b.remaining - a.remaining) / ps).toBeGreaterThan(0); // the pages the sync added
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('XBZRLE and auto-converge: the cache figures and the throttle are in the replies, the last ones exact', async () => {
    const { result, lines, log } = await exported({
      ...base,
      workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '16MiB', hotFraction: 1, writeBytes: 8 },
      precopy: { maxBandwidth: '16MiB/s', downtimeLimitMs: 100, xbzrle: { enabled: true, cacheSize: '1MiB' }, autoConverge: true, timeoutMs: 60_000 },
    });
    expect(log.capabilities).toMatchObject({ xbzrle: true, 'auto-converge': true });
    expect(log.parameters).toMatchObject({ 'xbzrle-cache-size': 2 ** 20, 'cpu-throttle-initial': 20 });
    const last = JSON.parse(lines.at(-1)!).return;
    expect(last['xbzrle-cache']).toEqual(result.stats['xbzrle-cache']);
    const active = lines.map((l) => JSON.parse(l).return).filter((r) => r.status === 'active');
    expect(active.every((r) => typeof r['cpu-throttle-percentage'] === 'number' && r['xbzrle-cache']['cache-size'] === 2 ** 20)).toBe(true);
    expect(active.some((r) => r['cpu-throttle-percentage'] > 0)).toBe(true);
    // deltas only after the bulk round, never more than the final count
    expect(active[0]['xbzrle-cache'].pages).toBe(0);
    expect(Math.max(...active.map((r) => r['xbzrle-cache'].pages))).toBeLessThanOrEqual(last['xbzrle-cache'].pages);
  });

  it('a migration that does not converge ends in a cancelled reply that the reader accepts', async () => {
    const { result, log } = await exported({ ...base, workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '32MiB', hotFraction: 1 }, precopy: { maxBandwidth: '16MiB/s', downtimeLimitMs: 100, timeoutMs: 8000 } });
    expect(result.outcome).toBe('cancelled');
    expect(log.polls.at(-1)!.status).toBe('cancelled');
    expect(log.polls.at(-1)!.ram!.remaining).toBe(result.stats.ram.remaining);
  });
});
