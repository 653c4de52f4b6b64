/**
 * The sender over tcp when its receiver goes quiet MID-MIGRATION (issue 16): a receiver that stops reading
 * every connection after a few frames (helpers/fake-receiver.ts, cue `frames`), so the kernels' buffers
 * fill and nothing the sender writes drains any more. The run ends `failed` (link-down) naming the wait,
 * the guest running on on the source. A connection's stall check counts only while it has frames waiting
 * (tcp-destination.ts, stall-watch.ts): a healthy multi-channel migration, whose main connection carries
 * nothing between its hello and the end, is not taken for a quiet receiver. The stall limit is set small;
 * vitest's timeout is the hang guard. Checked by mutation: without the connections' stall check the
 * 1-channel case hangs past its guard and the 2-channel one ends `errored` (a channel "hung"); with an
 * idle timer instead (counting while nothing waits) the healthy run fails.
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

/**
 * The quiet receiver's guest: larger than the kernels' socket buffers (tcp_wmem 4 MiB, tcp_rmem up to 32
 * MiB), so the sender's writes stop draining mid-rounds, not only its waits for answers; a hot writer
 * keeps rounds going after the receiver went quiet.
 */
const quiet = { name: 'tcp-peer-quiet', memory: '64MiB', dirtyRate: '2000/s', workingSet: '1MiB', bandwidth: '400Mbit/s' };
/**
 * A healthy multi-channel migration paced at 16 Mbit/s: its 4 MiB bulk round alone takes ≥ 2 s at any
 * machine speed, all of it on the channels while the main connection carries nothing.
 */
const slow = { name: 'tcp-peer-main-silent', memory: '4MiB', dirtyRate: '20/s', workingSet: '256KiB', bandwidth: '16Mbit/s' };

async function migrateTo(cue: Cue, channels: number, stallLimitMs: number, guest = quiet) {
  receiver = await FakeReceiver.listen(cue);
  return migrateToReceiver(peerScenario(receiver.port, channels, guest), stallLimitMs);
}

describe('tcp: a receiver that stops reading mid-migration', () => {
  const STALL_LIMIT_MS = 500;

  it.each([1, 2])('after 3 frames (%i channel(s)): `failed` (link-down), naming the wait; the guest runs on on the source', async (channels) => {
    const { p, paused } = await migrateTo({ at: 'frames', frames: 3, then: 'hang' }, channels, STALL_LIMIT_MS);
    expect(receiver!.cued).toBe(true);
    expect([p.outcome, p.reason, p.guestLost, p.verified]).toEqual(['failed', 'link-down', false, null]);
    // which wait sees it first depends on the kernels' buffer sizes: the writes that stopped draining, or an answer
    expect(p.error).toMatch(/^(channel \d )?link\.target 127\.0\.0\.1:\d+: (the connection took no frame for \d+ s with frames waiting|the receiver did not answer within \d+\.\d s \(waiting for .+\))$/);
    expect(paused).toBe(false);
    expect(liveWorkers().count).toBe(0);
  });
});

describe('tcp: a main connection silent for the whole migration is no quiet receiver', () => {
  it('2 channels, stall limit 1.5 s, ≥ 2 s of channel traffic: converged and verified', async () => {
    // 1.5 s, not less: a receiver thread starved for a moment on a busy machine is no stall
    const STALL_LIMIT_MS = 1500;
    // a cue never reached: the receiver stays real throughout
    const { p, tookMs } = await migrateTo({ at: 'frames', frames: Number.MAX_SAFE_INTEGER, then: 'hang' }, 2, STALL_LIMIT_MS, slow);
    expect(receiver!.cued).toBe(false);
    expect(p.error ?? null).toBeNull();
    expect([p.outcome, p.verified]).toEqual(['converged', true]);
    // the main connection carried nothing for longer than the stall limit (the pacing makes this hold at any speed)
    expect(tookMs).toBeGreaterThan(STALL_LIMIT_MS);
  });
});
