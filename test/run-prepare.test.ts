/**
 * Issue 15 item 1: emulate mode starts every worker and allocates every buffer before the migration's
 * clock starts, and reports that preparation apart (`engine.prepareMs`), so `total-time` and
 * `setup-time` hold only what QEMU counts. No speed assumption: the checks compare the migration's own
 * figures with stamps taken, on the same absolute clock, around the preparation and the run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { absoluteNowMs } from '../src/clock.ts';
import { resolveScenario } from '../src/options.ts';
import { createGuest, migratePrecopy, preparePrecopy, runPreparedPrecopy, type Guest } from '../src/run.ts';

let guest: Guest | null = null;

afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

const scenario = (channels: number) =>
  resolveScenario({
    seed: 3,
    guest: { memory: '4MiB', vcpus: 1, fill: { zero: 0.3, random: 0.7, text: 0 }, deviceState: '16KiB' },
    workload: { pattern: 'hotset', dirtyRate: '2000/s', workingSet: '512KiB' },
    link: { bandwidth: '512MiB/s' },
    // maxRounds bounds the run at any speed; the timeout is a hang guard
    precopy: { channels, xbzrle: { enabled: true, cacheSize: '1MiB' }, maxRounds: 4, timeoutMs: 20000 },
  });

describe('emulate mode: the migration clock starts after the preparation', () => {
  it.each([1, 2])('%i channel(s): workers started and buffers allocated before; total-time within the run', async (channels) => {
    guest = await createGuest(scenario(channels));
    const before = absoluteNowMs();
    const prepared = await preparePrecopy(guest);
    const ready = absoluteNowMs();
    // everything is there before the clock starts
    expect(prepared.destination).toBeDefined();
    expect(prepared.destination.error).toBeNull();
    if (channels > 1) expect(prepared.lanes).not.toBeNull();
    else expect(prepared.xbzrleCache).not.toBeNull();
    expect(prepared.prepareMs).toBeGreaterThanOrEqual(0);
    expect(prepared.prepareMs).toBeLessThanOrEqual(ready - before);
    const p = await runPreparedPrecopy(guest, prepared);
    const end = absoluteNowMs();
    expect(p.stats.status).toBe('completed');
    expect(p.verified).toBe(true);
    // the migration's clock started after `ready`: none of the preparation is in total-time
    expect(p.stats['total-time']).toBeLessThanOrEqual(end - ready);
    expect(p.stats['setup-time']).toBeLessThanOrEqual(p.stats['total-time']);
    expect(p.engine.prepareMs).toBe(prepared.prepareMs);
  }, 60_000);

  it('migratePrecopy reports the preparation beside the run, outside QEMU\'s stats', async () => {
    guest = await createGuest(scenario(1));
    const before = absoluteNowMs();
    const p = await migratePrecopy(guest);
    const end = absoluteNowMs();
    expect(p.verified).toBe(true);
    expect(p.engine.prepareMs).toBeGreaterThanOrEqual(0);
    // preparation and migration do not overlap: together they fit in the call
    expect(p.engine.prepareMs! + p.stats['total-time']).toBeLessThanOrEqual(end - before);
  }, 60_000);

  it.each([1, 2])('%i channel(s): the destinations\' wait for frames counts from the clock\'s start, not through the preparation', async (channels) => {
    guest = await createGuest(scenario(channels));
    const prepared = await preparePrecopy(guest);
    // the destinations sit idle, waiting for frames, for 1.5 s before the clock starts
    await new Promise((r) => setTimeout(r, 1500));
    const p = await runPreparedPrecopy(guest, prepared);
    expect(p.verified).toBe(true);
    // a wait under way when the clock started is counted whole (at most one 200 ms slice); before the fix the 1.5 s were in
    const slackMs = 250;
    expect(p.engine.destinationWaitMs).toBeLessThanOrEqual(p.stats['total-time'] + slackMs);
    for (const lane of p.channels?.lanes ?? []) expect(lane.destinationWaitMs).toBeLessThanOrEqual(p.stats['total-time'] + slackMs);
  }, 60_000);
});
