/**
 * The source as it must be if migbench never wrote to it: the seed's fill, then every page write each
 * vCPU made, replayed from the vCPU's own seed (the same generator and the same XOR bytes as
 * src/workload/vcpu-loop.ts; XOR commutes, so the order between vCPUs does not matter). Each vCPU's
 * write count is its counter in the control block: exact once it has stopped or died (it stores the
 * counter before it leaves), so call `guest.vcpus.stop()` first.
 */
import { writesIndex } from '../../src/memory/control.ts';
import { GuestMemory } from '../../src/memory/guest-memory.ts';
import { verifyGuest, type VerifyReport } from '../../src/memory/verify.ts';
import type { Guest } from '../../src/run.ts';
import { fillGuest } from '../../src/workload/fill.ts';
import { createPageGenerator } from '../../src/workload/patterns.ts';
import { Rng, deriveSeed } from '../../src/workload/rng.ts';

export function replaySource(guest: Guest): { memory: GuestMemory; deviceState: Uint8Array; writes: number[] } {
  const s = guest.scenario;
  const layout = guest.source.layout;
  const expected = new GuestMemory(layout);
  fillGuest(expected, s.guest.fill, s.seed);
  const deviceState = new Uint8Array(s.guest.deviceState);
  new Rng(deriveSeed(s.seed, 3)).fill(deviceState);
  const counters = new Float64Array(guest.vcpus.control.counters);
  const n = guest.vcpus.vcpuCount;
  const ps = layout.pageSizeBytes;
  const { pagesPerBlock } = layout;
  const writeBytes = Math.min(s.workload.writeBytes, ps);
  const span = ps - writeBytes + 1;
  const writes: number[] = [];
  for (let i = 0; i < n; i++) {
    const count = counters[writesIndex(i)];
    writes.push(count);
    const rng = new Rng(deriveSeed(s.seed, 1000 + i));
    const generator = createPageGenerator(
      {
        pattern: s.workload.pattern,
        totalPages: layout.totalPages,
        workingSetPages: Math.max(1, Math.ceil(s.workload.workingSet / ps)),
        hotFraction: s.workload.hotFraction,
        zipfExponent: s.workload.zipfExponent,
      },
      i,
      n,
      rng,
    );
    if (generator === null) continue;
    for (let w = 0; w < count; w++) {
      const page = generator.next();
      const view = expected.views[(page / pagesPerBlock) | 0];
      const at = (page % pagesPerBlock) * ps + (span > 1 ? rng.nextInt(span) : 0);
      for (let k = 0; k < writeBytes; k++) view[at + k] ^= 1 + rng.nextInt(255);
    }
  }
  return { memory: expected, deviceState, writes };
}

/** Compare the guest's source (memory and device state) with the replay. */
export function sourceIntact(guest: Guest): VerifyReport & { writes: number[] } {
  const r = replaySource(guest);
  return { ...verifyGuest(r.memory, guest.source, r.deviceState, guest.deviceState), writes: r.writes };
}
