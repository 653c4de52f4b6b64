/**
 * Runs give their memory and threads back: after each run in one process, nothing migbench allocated
 * is still reachable, reserved or running. These are counts, not timings: they hold at any speed.
 */
import { describe, expect, it } from 'vitest';
import { reservedBytes } from '../src/memory/ledger.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { arrayBufferBytes, reclaimMemory } from '../src/memory/reclaim.ts';
import { resolveScenario } from '../src/options.ts';
import { createGuest, runScenario } from '../src/run.ts';
import { liveWorkers } from '../src/threads.ts';

const MiB = 2 ** 20;

describe('memory released between runs', () => {
  it('GuestMemory.release drops the blocks: any later use throws', () => {
    const m = new GuestMemory(guestLayout(4 * 4096, 4096));
    expect(m.views).toHaveLength(1);
    m.release();
    expect(m.released).toBe(true);
    expect(() => m.views).toThrow(/released/);
    expect(() => m.blocks).toThrow(/released/);
  });

  it('consecutive runs of both methods leave no guest memory, reservation or worker behind', async () => {
    await reclaimMemory();
    const baseline = arrayBufferBytes();
    const scenario = resolveScenario({
      guest: { memory: '16MiB', vcpus: 2 },
      workload: { pattern: 'uniform', dirtyRate: '2000/s' },
      link: { bandwidth: 'unlimited' },
      precopy: { xbzrle: { enabled: true, cacheSize: '4MiB' } },
      quick: { storageBandwidth: 'unlimited' },
    });
    const after: number[] = [];
    for (let i = 0; i < 4; i++) {
      const doc = await runScenario(scenario);
      expect(doc.precopy?.verified).toBe(true);
      expect(doc.quick?.verified).toBe(true);
      expect(reservedBytes()).toBe(0);
      expect(liveWorkers().count).toBe(0);
      after.push(arrayBufferBytes() - baseline);
    }
    // one run holds 2 × 16 MiB of guest, a ring and a cache: a leak of one run would show ≥ 32 MiB
    for (const bytes of after) expect(bytes).toBeLessThan(2 * MiB);
  });

  it('dispose is idempotent and releases the guest even when the migration never ran', async () => {
    const guest = await createGuest(resolveScenario({ guest: { memory: '8MiB', vcpus: 1 }, workload: { pattern: 'idle' } }));
    expect(reservedBytes()).toBeGreaterThan(16 * MiB);
    expect(liveWorkers().count).toBe(1);
    await Promise.all([guest.dispose(), guest.dispose()]);
    await guest.dispose();
    expect(guest.source.released && guest.dest.released).toBe(true);
    expect(reservedBytes()).toBe(0);
    expect(liveWorkers().count).toBe(0);
  });
});
