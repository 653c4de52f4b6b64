/**
 * faults.linkDownAtMs in emulate mode (issue 14 item 5): in pre-copy the run ends `failed` with the
 * guest running on the source, its memory intact, even when the link would come back and
 * postcopy.recovery is on; after the switch to post-copy, without recovery, it ends `failed` with
 * `guestLost` (recovery: test/postcopy-recovery.test.ts). The fault times are chosen so the phase does not depend on this
 * machine's speed: the link rate bounds how fast each phase can go (see each case).
 * Hang guard: each test's timeout; dispose stops every vCPU, a blocked one too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { createGuest, migratePrecopy, type Guest } from '../src/run.ts';
import { sourceIntact } from './helpers/source-oracle.ts';

let guest: Guest | null = null;
afterEach(async () => {
  await guest?.dispose();
  guest = null;
});

const base: ScenarioInput = {
  seed: 4,
  guest: { memory: '16MiB', vcpus: 2, deviceState: '16KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '8MiB', hotFraction: 0.95 },
  precopy: { downtimeLimitMs: 10, maxRounds: 3, timeoutMs: 30_000 },
};

describe('a link that dies (faults.linkDownAtMs)', () => {
  it('in pre-copy: failed, the guest runs on the source, intact', async () => {
    // 16 MiB at 16 MiB/s: the bulk round alone takes at least 1 s, so at 300 ms pre-copy is running
    guest = await createGuest(resolveScenario({ ...base, link: { bandwidth: '16MiB/s' }, faults: { linkDownAtMs: 300 } }));
    const r = await migratePrecopy(guest);
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(false);
    expect(r.error).toBe('the link went down 300 ms after the migration request');
    expect(r.stats.status).toBe('failed');
    expect(guest.vcpus.isAnyPaused()).toBe(false); // running on the source
    const before = guest.vcpus.totalWrites();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(guest.vcpus.totalWrites()).toBeGreaterThan(before);
    await guest.vcpus.pause();
    const intact = sourceIntact(guest);
    expect(intact.equal).toBe(true);
  }, 60_000);

  it('in pre-copy, a link that comes back (linkDownForMs, even with postcopy.recovery): failed, the guest runs on the source, intact', async () => {
    // QEMU's pre-copy cannot recover: the outage ends the run whether the link would come back or not.
    // As above, the bulk round alone takes at least 1 s: at 300 ms pre-copy is running, and the switch
    // to post-copy (after the bulk round) cannot have happened.
    guest = await createGuest(resolveScenario({
      ...base, link: { bandwidth: '16MiB/s' }, postcopy: { enabled: true, recovery: true }, faults: { linkDownAtMs: 300, linkDownForMs: 200 },
    }));
    const heard: string[] = [];
    const r = await migratePrecopy(guest, { onPostcopyStatus: (status) => heard.push(status) });
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(false);
    expect(r.postcopy).toBeUndefined();
    expect(heard).toEqual([]); // post-copy never started
    expect(guest.vcpus.isAnyPaused()).toBe(false); // running on the source
    const before = guest.vcpus.totalWrites();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(guest.vcpus.totalWrites()).toBeGreaterThan(before);
    await guest.vcpus.pause();
    expect(sourceIntact(guest).equal).toBe(true);
  }, 60_000);

  it('after the switch to post-copy: failed, the guest is lost', async () => {
    // the bulk round at 64 MiB/s takes 0.25 s and the switch follows it (setup included, well under 3 s);
    // post-copy then pushes the hot set dirtied meanwhile (~8 MiB; 4 MiB even at a quarter of the write rate)
    // at 1 MiB/s, at least 4 s: the link dies during it
    guest = await createGuest(resolveScenario({
      ...base, link: { bandwidth: '64MiB/s' }, postcopy: { enabled: true, maxBandwidth: '1MiB/s' }, faults: { linkDownAtMs: 3000 },
    }));
    const r = await migratePrecopy(guest);
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe('link-down');
    expect(r.guestLost).toBe(true);
    expect(r.verified).toBeNull();
  }, 60_000);

  it('after the switch, without postcopy.recovery, a link that would come back (linkDownForMs) loses the guest all the same', async () => {
    // as above; QEMU without postcopy recovery fails at the error, whenever the network returns
    guest = await createGuest(resolveScenario({
      ...base, link: { bandwidth: '64MiB/s' }, postcopy: { enabled: true, maxBandwidth: '1MiB/s' }, faults: { linkDownAtMs: 3000, linkDownForMs: 200 },
    }));
    const heard: string[] = [];
    const r = await migratePrecopy(guest, { onPostcopyStatus: (status) => heard.push(status) });
    expect(r.outcome).toBe('failed');
    expect(r.guestLost).toBe(true);
    expect(heard).toEqual(['postcopy-active']); // never paused: nothing to resume
  }, 60_000);
});
