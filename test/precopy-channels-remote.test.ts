/**
 * Channel lanes whose destinations are remote (ChannelLanes `destinations`, as link.transport "tcp" uses):
 * - a remote that takes a lane's frames only late (a slow network: the channel waits for ring space far
 *   longer than it blocks, so it waits with Atomics.waitAsync) must not lose the channel's worker: a
 *   pending waitAsync alone does not keep a worker's event loop alive, and the worker used to exit with
 *   code 13 mid-wait ("channel 1 worker exited with code 13");
 * - the flush asks every lane's remote to sync only once the lane's ring is drained, once per flush, and
 *   a sync that fails is the flush's failure, named by its channel.
 * The fake remote applies the frames with the engine's FrameApplier on this thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import { MigbenchError } from '../src/errors.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { ChannelLanes, type LaneDestination } from '../src/precopy/channels.ts';
import { FrameApplier } from '../src/transport/destination.ts';
import { BandwidthMeter, SharedRateLimiter } from '../src/transport/link.ts';
import { RING_HEAD, RING_TAIL, RingViews, type RingShared } from '../src/transport/ring.ts';
import { liveWorkers } from '../src/threads.ts';
import { Rng } from '../src/workload/rng.ts';
import { ringSender } from './helpers/ring-sender.ts';
import { until } from './helpers/until.ts';

class FakeRemote implements LaneDestination {
  error: MigbenchError | null = null;
  readonly waitMs = 0;
  /** the ring's state at each sync: [head, tail] */
  readonly syncs: [number, number][] = [];
  held = true;
  failSync = false;
  private readonly views: RingViews;
  private readonly applier: FrameApplier;
  private tail = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(ring: RingShared, dest: GuestMemory) {
    this.views = new RingViews(ring);
    this.applier = new FrameApplier(this.views, dest, new Uint8Array(0));
    this.timer = setInterval(() => this.drain(), 2);
  }

  private drain(): void {
    if (this.held) return;
    const c = this.views.control;
    const head = Atomics.load(c, RING_HEAD);
    while (this.tail !== head) this.tail = (this.tail + this.applier.apply(this.tail & this.views.mask).frameBytes) | 0;
    Atomics.store(c, RING_TAIL, this.tail);
    Atomics.notify(c, RING_TAIL);
  }

  /** bytes the channel has published and this remote not yet taken */
  get waiting(): number {
    const c = this.views.control;
    return Atomics.load(c, RING_HEAD) - Atomics.load(c, RING_TAIL);
  }

  checkStall(): void {}

  async sync(): Promise<void> {
    const c = this.views.control;
    this.syncs.push([Atomics.load(c, RING_HEAD), Atomics.load(c, RING_TAIL)]);
    if (this.failSync) throw new MigbenchError('E_IO', 'link.target test: the receiver closed the connection mid-migration');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}

const PS = 4096;
const PAGES = 1024; // 4 MiB: 8 packets of 128 pages
let lanes: ChannelLanes | null = null;
afterEach(async () => {
  await lanes?.stop();
  lanes = null;
});

async function rig(count: number): Promise<{ source: GuestMemory; dest: GuestMemory; remotes: FakeRemote[]; send: () => Promise<void>; flush: () => Promise<void> }> {
  const layout = guestLayout(PAGES * PS, PS);
  const source = new GuestMemory(layout);
  new Rng(5).fill(source.views[0]);
  const dest = new GuestMemory(layout);
  const remotes: FakeRemote[] = [];
  lanes = await ChannelLanes.start({
    count,
    source,
    destinations: async (ring) => {
      const r = new FakeRemote(ring, dest);
      remotes.push(r);
      return r;
    },
    ringBytes: 1 << 20, // 1 MiB: a lane's packets (2 MiB each) cannot fit while its remote holds them
    latencyMs: 0,
    link: SharedRateLimiter.create(Infinity),
    compression: null,
    xbzrleCacheBytes: null,
  });
  const l = lanes;
  const clock = new ManualClock(0);
  const { sender } = ringSender(source, 1 << 20);
  const meter = new BandwidthMeter(clock);
  return {
    source,
    dest,
    remotes,
    async send() {
      for (let first = 0; first < PAGES; first += l.pagesPerPacket) {
        l.beginPacket();
        l.addRun(first, l.pagesPerPacket);
        await l.dispatch(first / l.pagesPerPacket, 0, 0);
      }
    },
    flush: () => l.flush(sender, meter),
  };
}

describe('channel lanes with remote destinations', () => {
  it('a channel waiting long for its remote survives the wait; the flush syncs each lane once, after its ring drained', async () => {
    const { source, dest, remotes, send, flush } = await rig(2);
    await send();
    // the remotes hold every frame: both channels fill their rings and wait (far past the 5 ms they block)
    await until('both rings are nearly full', () => remotes.length === 2 && remotes.every((r) => r.waiting > (1 << 20) - 300 * 1024));
    await new Promise((r) => setTimeout(r, 300));
    expect(lanes!.error).toBeNull(); // before the fix: "channel N worker exited with code 13"
    for (const r of remotes) r.held = false;
    await flush();
    expect(lanes!.error).toBeNull();
    for (const r of remotes) {
      expect(r.syncs).toHaveLength(1);
      const [head, tail] = r.syncs[0];
      expect(tail).toBe(head); // synced only once every frame had left the ring
      expect(head).toBeGreaterThan(0);
    }
    expect(Buffer.compare(dest.views[0], source.views[0])).toBe(0);
    await flush();
    expect(remotes.map((r) => r.syncs.length)).toEqual([2, 2]);
  });

  it('a sync that fails fails the flush, named by its channel', async () => {
    const { remotes, send, flush } = await rig(2);
    for (const r of remotes) r.held = false;
    await send();
    remotes[1].failSync = true;
    const error = await flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_IO');
    expect((error as MigbenchError).message).toBe('channel 1 link.target test: the receiver closed the connection mid-migration');
    await lanes!.stop();
    lanes = null;
    await until('the channel workers exit', () => liveWorkers().count === 0);
  });
});
