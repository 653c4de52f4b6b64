/**
 * Faults survived: a vCPU, the destination or a channel worker that dies mid-migration (the test-only
 * hook of src/faults.ts: it throws, or calls process.exit) ends the run as `errored` naming the worker,
 * with `verified: null`, the source intact (replayed from the seeds: test/helpers/source-oracle.ts), the
 * living vCPUs running on the source, and no worker thread left once the guest is disposed.
 *
 * No timing assumptions: "after N" triggers count work (page writes, pages applied, packets), and the
 * live-phase scenario cannot converge (a 1 ms downtime limit under uniform writes), so the migration is
 * still live when the fault fires; the stop-and-copy cases force the stop after the bulk round.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerFault } from '../src/faults.ts';
import { faultFromEnvironment } from '../src/faults.ts';
import { writesIndex } from '../src/memory/control.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { migrateQuick } from '../src/quick/quick-migration.ts';
import { createGuest, migratePrecopy, runScenario, type Guest } from '../src/run.ts';
import { liveWorkers } from '../src/threads.ts';
import { sourceIntact } from './helpers/source-oracle.ts';
import { until } from './helpers/until.ts';

let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
  // every worker this test started has exited (the registry counts them until their 'exit')
  expect(liveWorkers()).toEqual({ count: 0, byKind: {} });
});

function scenario(over: ScenarioInput = {}) {
  return resolveScenario({
    seed: 11,
    ...over,
    guest: { memory: '8MiB', vcpus: 2, fill: { zero: 0.2, random: 0.4, text: 0.4 }, deviceState: '64KiB', ...over.guest },
    workload: { pattern: 'uniform', dirtyRate: '20000/s', writeBytes: 16, ...over.workload },
    link: { bandwidth: '32MiB/s', ...over.link },
    quick: { storageBandwidth: 'unlimited', ...over.quick },
    precopy: { timeoutMs: 60_000, ...over.precopy },
  });
}

/** the live phase: 1 ms of downtime under uniform writes never converges, so only the fault ends it */
const LIVE = { precopy: { downtimeLimitMs: 1 } } satisfies ScenarioInput;
/** straight to the stop-and-copy after the bulk round */
const STOP = { precopy: { maxRounds: 1 } } satisfies ScenarioInput;

const writesOf = (g: Guest, i: number): number => new Float64Array(g.vcpus.control.counters)[writesIndex(i)];

/** What every fault must leave behind, checked on the guest after the errored migration. */
async function expectSurvived(g: Guest, dead: number | null): Promise<void> {
  // only vCPU threads are left (the dying one may still be on its way out): no destination, no channel
  const live = liveWorkers();
  expect(Object.keys(live.byKind).filter((k) => k !== 'vcpu')).toEqual([]);
  // the living vCPUs run on the source again (after a failed stop-and-copy too)
  expect(g.vcpus.isAnyPaused()).toBe(false);
  for (let i = 0; i < g.vcpus.vcpuCount; i++) {
    if (i === dead) continue;
    const before = writesOf(g, i);
    await until(`vCPU ${i} to write again`, () => writesOf(g, i) > before);
  }
  if (dead !== null) {
    const at = writesOf(g, dead);
    await new Promise((r) => setTimeout(r, 100));
    expect(writesOf(g, dead)).toBe(at); // the dead one stays dead
  }
  // the source is exactly the seed's content plus the vCPUs' own writes: migbench wrote nothing to it
  await g.vcpus.stop();
  const intact = sourceIntact(g);
  expect(intact.writes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(intact).toMatchObject({ equal: true, badPages: 0, deviceStateEqual: true });
}

describe('the source oracle', () => {
  it('replays the vCPUs\' writes exactly, and notices one flipped byte', async () => {
    guest = await createGuest(scenario());
    await until('some writes', () => guest!.vcpus.totalWrites() > 500);
    await guest.vcpus.stop();
    expect(sourceIntact(guest).equal).toBe(true);
    guest.source.views[0][12345] ^= 1;
    expect(sourceIntact(guest)).toMatchObject({ equal: false, badPages: 1 });
  });
});

describe('a worker that dies mid pre-copy ends the run as errored, naming it', () => {
  it.each<[string, ScenarioInput, WorkerFault, RegExp, number | null]>([
    ['vCPU 1 throws after 300 writes', LIVE, { worker: 'vcpu', index: 1, action: 'throw', at: 300 }, /^vCPU 1: injected fault after \d+ page writes of the migration$/, 1],
    ['vCPU 0 exits after 300 writes', LIVE, { worker: 'vcpu', index: 0, action: 'exit', at: 300 }, /^vCPU 0 exited unexpectedly with code 86$/, 0],
    ['vCPU 1 throws at the stop-and-copy pause', STOP, { worker: 'vcpu', index: 1, action: 'throw', at: 'stop-and-copy' }, /^vCPU 1: injected fault at the pause, after \d+ page writes$/, 1],
    ['vCPU 1 exits at the stop-and-copy pause', STOP, { worker: 'vcpu', index: 1, action: 'exit', at: 'stop-and-copy' }, /^vCPU 1 exited unexpectedly with code 86$/, 1],
    ['the destination throws after 500 pages', LIVE, { worker: 'destination', action: 'throw', at: 500 }, /^destination: injected fault after \d+ pages applied$/, null],
    ['the destination exits after 500 pages', LIVE, { worker: 'destination', action: 'exit', at: 500 }, /^destination worker exited with code 86$/, null],
    ['the destination throws at the device state', STOP, { worker: 'destination', action: 'throw', at: 'stop-and-copy' }, /^destination: injected fault at the device state \(stop-and-copy\)$/, null],
    ['the destination exits at the device state', STOP, { worker: 'destination', action: 'exit', at: 'stop-and-copy' }, /^destination worker exited with code 86$/, null],
    ['channel 1 throws at packet 3 (2 channels)', { precopy: { ...LIVE.precopy, channels: 2 } }, { worker: 'channel', index: 1, action: 'throw', at: 3 }, /^channel 1: injected fault at packet 3$/, null],
    ['channel 1 exits at packet 3 (2 channels)', { precopy: { ...LIVE.precopy, channels: 2 } }, { worker: 'channel', index: 1, action: 'exit', at: 3 }, /^channel 1 worker exited with code 86$/, null],
    ['channel 0 exits at the stop-and-copy (2 channels)', { precopy: { ...STOP.precopy, channels: 2 } }, { worker: 'channel', index: 0, action: 'exit', at: 'stop-and-copy' }, /^channel 0 worker exited with code 86$/, null],
    ['a vCPU dies under 2 channels', { precopy: { ...LIVE.precopy, channels: 2 } }, { worker: 'vcpu', index: 0, action: 'exit', at: 300 }, /^vCPU 0 exited unexpectedly with code 86$/, 0],
  ])('%s', async (_what, over, fault, message, dead) => {
    guest = await createGuest(scenario(over), { fault });
    const rounds: string[] = [];
    const p = await migratePrecopy(guest, { fault, onRound: (r) => rounds.push(r.stage) });
    expect(p.outcome).toBe('errored');
    expect(p.reason).toBe('E_WORKER');
    expect(p.error).toMatch(message);
    expect(p.verified).toBeNull();
    expect(p.verification).toBeNull();
    expect(p.stats.status).toBe('failed');
    if (fault.at === 'stop-and-copy') expect(rounds).toEqual(['bulk']); // it died in the stop-and-copy, after the bulk round
    await expectSurvived(guest, dead);
  });

  it('a channel that hangs at packet 3: errored once its queue has waited untouched for the stall limit, the hung thread terminated', async () => {
    const fault: WorkerFault = { worker: 'channel', index: 1, action: 'hang', at: 3 };
    guest = await createGuest(scenario({ precopy: { ...LIVE.precopy, channels: 2 } }));
    const p = await migratePrecopy(guest, { fault, stallLimitMs: 1000 });
    expect(p.outcome).toBe('errored');
    expect(p.reason).toBe('E_WORKER');
    expect(p.error).toMatch(/^channel 1: took no packet for \d+ s with packets queued \(the worker is hung\)$/);
    await expectSurvived(guest, null);
  }, 60_000);

  it.each<[string, ScenarioInput, WorkerFault]>([
    ['after 500 pages', LIVE, { worker: 'destination', action: 'hang', at: 500 }],
    ['at the device state', STOP, { worker: 'destination', action: 'hang', at: 'stop-and-copy' }],
  ])('a destination that hangs %s: errored once it has left frames unread for the stall limit, the hung thread terminated', async (_what, over, fault) => {
    guest = await createGuest(scenario(over));
    const p = await migratePrecopy(guest, { fault, stallLimitMs: 1000 });
    expect(p.outcome).toBe('errored');
    expect(p.reason).toBe('E_WORKER');
    expect(p.error).toMatch(/^destination: took no frame for \d+ s with frames waiting \(the worker is hung\)$/);
    expect(p.verified).toBeNull();
    await expectSurvived(guest, null);
  }, 60_000);

  it('a vCPU that hangs at the stop-and-copy pause: errored after the pause timeout, the hung thread terminated at teardown', async () => {
    const fault: WorkerFault = { worker: 'vcpu', index: 1, action: 'hang', at: 'stop-and-copy' };
    guest = await createGuest(scenario(STOP), { fault, vcpuAckTimeoutMs: 3000 });
    const p = await migratePrecopy(guest, { fault });
    expect(p.outcome).toBe('errored');
    expect(p.reason).toBe('E_WORKER');
    expect(p.error).toMatch(/^vCPUs did not acknowledge the pause within 3000 ms \(vCPU 1\)$/);
    expect(p.verified).toBeNull();
    expect(liveWorkers().byKind).toEqual({ vcpu: 2 }); // the hung one is still there: only stop() can end it
    await expectSurvived(guest, 1); // stop() terminates the hung vCPU (it never answers STOP)
  }, 60_000);

  it('runScenario: the errored block is in the document, and the next method still runs', async () => {
    const fault: WorkerFault = { worker: 'destination', action: 'exit', at: 200 };
    const doc = await runScenario(scenario(LIVE), { fault });
    expect(doc.precopy).toMatchObject({ outcome: 'errored', verified: null });
    expect(doc.precopy!.error).toMatch(/^destination worker exited with code 86$/);
    expect(doc.quick).toMatchObject({ outcome: 'completed', verified: true }); // quick has no destination worker
    expect(liveWorkers().count).toBe(0);
  });
});

describe('a vCPU that dies during quick migration', () => {
  it.each(['throw', 'exit'] as const)('%s at the pause: errored, named, no image left, the others resumed, the source intact', async (action) => {
    const fault: WorkerFault = { worker: 'vcpu', index: 1, action, at: 'stop-and-copy' };
    guest = await createGuest(scenario(), { fault });
    await until('some writes', () => guest!.vcpus.totalWrites() > 200);
    const q = await migrateQuick(guest);
    expect(q.outcome).toBe('errored');
    expect(q.reason).toBe('E_WORKER');
    expect(q.error).toMatch(action === 'throw' ? /^vCPU 1: injected fault at the pause/ : /^vCPU 1 exited unexpectedly with code 86$/);
    expect(q.verified).toBeNull();
    expect(q.imagePath).toBeNull();
    await expectSurvived(guest, 1);
  });
});

describe('MIGBENCH_TEST_FAULT (tests only)', () => {
  it.each<[string, WorkerFault | undefined]>([
    ['', undefined],
    ['vcpu1:exit:after=500', { worker: 'vcpu', index: 1, action: 'exit', at: 500 }],
    ['destination:throw:after=200', { worker: 'destination', index: 0, action: 'throw', at: 200 }],
    ['channel0:exit:stop-and-copy', { worker: 'channel', index: 0, action: 'exit', at: 'stop-and-copy' }],
    ['vcpu:throw:stop-and-copy', { worker: 'vcpu', index: 0, action: 'throw', at: 'stop-and-copy' }],
    ['channel3:hang:after=0', { worker: 'channel', index: 3, action: 'hang', at: 0 }],
  ])('%j', (text, fault) => {
    expect(faultFromEnvironment({ MIGBENCH_TEST_FAULT: text })).toEqual(fault);
  });

  it.each(['vcpu1:explode:after=5', 'destination1:exit:after=5', 'gpu:exit:after=1', 'vcpu:exit:after='])('refuses %j', (text) => {
    expect(() => faultFromEnvironment({ MIGBENCH_TEST_FAULT: text })).toThrow(/^MIGBENCH_TEST_FAULT \(tests only\): expected/);
  });
});
