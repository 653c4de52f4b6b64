/**
 * The sender over tcp when its receiver fails at a precise point (issue 16's remainders): a receiver in
 * this process (helpers/fake-receiver.ts) that is real until its cue, then dies or hangs there. A receiver
 * lost after the switch, while it hashes, is a `failed` migration (link-down), not a mismatch, and the
 * guest goes on on the source; a mismatch stays a mismatch. Every wait on the receiver is bounded: a
 * receiver that hangs ends the run `failed`, naming what was waited for. Waits here are bounded by the
 * run's stall limit (set small) plus what the link needs, never by this machine's speed; every test has
 * a hang guard and closes its receiver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { liveWorkers } from '../src/threads.ts';
import { FakeReceiver, type Cue } from './helpers/fake-receiver.ts';
import { migrateToReceiver, peerScenario } from './helpers/tcp-peer.ts';

let receiver: FakeReceiver | null = null;
afterEach(async () => {
  await receiver?.close();
  receiver = null;
});

/** Migrate to a receiver with `cue`; the run's waits on the receiver beyond the link's needs: `stallLimitMs`. */
async function migrateTo(cue: Cue, channels = 1, stallLimitMs = 30_000) {
  receiver = await FakeReceiver.listen(cue);
  // a hot writer keeps rounds going, so the channels sync more than once
  const s = peerScenario(receiver.port, channels, { name: 'tcp-peer', memory: '4MiB', dirtyRate: '2000/s', workingSet: '1MiB', bandwidth: '400Mbit/s' });
  return migrateToReceiver(s, stallLimitMs);
}

describe('tcp: the receiver lost after the switch', () => {
  it.each([1, 2])('dies while hashing (%i channel(s)): `failed` (link-down) naming where, not a mismatch; the guest runs on on the source', async (channels) => {
    const { p, paused } = await migrateTo({ at: 'hashing', then: 'die' }, channels);
    expect(receiver!.cued).toBe(true);
    expect(p.outcome).toBe('failed');
    expect(p.reason).toBe('link-down');
    expect(p.guestLost).toBe(false);
    expect(p.verified).toBeNull(); // not verified, and not a mismatch either
    expect(p.error).toMatch(/^link\.target 127\.0\.0\.1:\d+: .*after the switch, before the verification ended/);
    expect(paused).toBe(false);
    expect(liveWorkers().count).toBe(0);
  });

  it('a real mismatch stays one: verified false, the first bad page named (exit 3 in the CLI)', async () => {
    const { p, paused } = await migrateTo({ at: 'hashing', then: 'corrupt' });
    expect(p.outcome).toBe('converged');
    expect(p.verified).toBe(false);
    expect(p.verification).toEqual({ badPages: 1, firstBadPage: 5, deviceStateEqual: true });
    expect(paused).toBe(true); // handed over: the source stays paused
  });

  it('dies once the stream ended, before it said "resumed": `failed`, naming that', async () => {
    const { p } = await migrateTo({ at: 'end', then: 'die' });
    expect([p.outcome, p.reason, p.guestLost]).toEqual(['failed', 'link-down', false]);
    expect(p.error).toMatch(/^link\.target 127\.0\.0\.1:\d+: .*after the end of the stream, before the receiver resumed the guest/);
  });
});

describe('tcp: every wait on the receiver is bounded (the run\'s stall limit beyond what the link and its work need)', () => {
  // 0.5 s of grace: the old waits (600 s) would outlast vitest's 60 s timeout, so these fail without the bound
  const GRACE_MS = 500;

  it.each([
    [{ at: 'sync', then: 'hang' }, 2, /^channel \d link\.target 127\.0\.0\.1:\d+: the receiver did not answer within \d+\.\d s \(waiting for the receiver's sync 1\)$/],
    [{ at: 'end', then: 'hang' }, 1, /^link\.target 127\.0\.0\.1:\d+: the receiver did not answer within \d+\.\d s \(waiting for the resume \(every frame applied\)\)$/],
    [{ at: 'hashing', then: 'hang' }, 1, /^link\.target 127\.0\.0\.1:\d+: the receiver did not answer within \d+\.\d s \(waiting for the receiver's hashes\)$/],
  ] as const)('a receiver that hangs (%j, %i channel(s)) ends the run `failed`, naming the wait; the guest runs on on the source', async (cue, channels, message) => {
    const { p, paused } = await migrateTo(cue, channels, GRACE_MS);
    expect(receiver!.cued).toBe(true);
    expect([p.outcome, p.reason, p.guestLost, p.verified]).toEqual(['failed', 'link-down', false, null]);
    expect(p.error).toMatch(message);
    // it waited at least the grace (never gave up early), bounded by the wait it names
    const named = Number(/within (\d+\.\d) s/.exec(p.error!)![1]) * 1000;
    expect(named).toBeGreaterThanOrEqual(GRACE_MS);
    expect(paused).toBe(false);
    expect(liveWorkers().count).toBe(0);
  });
});
