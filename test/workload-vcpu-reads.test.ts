/**
 * workload.readRate on a virtual clock: reads change nothing and draw from an Rng of their own, so a
 * vCPU that also reads leaves exactly the memory and dirty log it leaves without reading, with the same
 * number of writes (the methods and runs stay comparable). (Reads that fault in post-copy: postcopy-cli.)
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { CMD, CMD_STOP, createVcpuControl, writesIndex } from '../src/memory/control.ts';
import { createDirtyLog } from '../src/memory/dirty-bitmap.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { runVcpu } from '../src/workload/vcpu-loop.ts';
import { createPageGenerator } from '../src/workload/patterns.ts';
import { Rng } from '../src/workload/rng.ts';

const PATTERN = { pattern: 'hotset', totalPages: 512, workingSetPages: 64, hotFraction: 0.9, zipfExponent: 1 } as const;

/** The memory `writes` writes of seed 9 leave (the vCPU loop's formula, replayed here). */
function replay(writes: number): GuestMemory {
  const memory = new GuestMemory(guestLayout(PAGES * 4096, 4096));
  const rng = new Rng(9);
  const gen = createPageGenerator({ ...PATTERN }, 0, 1, rng)!;
  for (let w = 0; w < writes; w++) {
    const page = gen.next();
    const at = page * 4096 + rng.nextInt(4096 - 8 + 1);
    for (let k = 0; k < 8; k++) memory.views[0][at + k] ^= 1 + rng.nextInt(255);
  }
  return memory;
}

const PAGES = 512;

function run(readRate: number, durationMs: number) {
  const memory = new GuestMemory(guestLayout(PAGES * 4096, 4096));
  const dirtyLog = createDirtyLog(PAGES);
  const control = createVcpuControl(1);
  const ctrl = new Int32Array(control.words);
  let t = 0;
  let looks = 0;
  const now = (): number => {
    t += 0.001;
    looks++;
    if (t >= durationMs) Atomics.store(ctrl, CMD, CMD_STOP);
    return t;
  };
  runVcpu(
    {
      memory: memory.shared(), dirtyLog, control, index: 0,
      pattern: { ...PATTERN },
      ratePagesPerSec: 3000, writeBytes: 8, seed: 9, readRatePagesPerSec: readRate, readSeed: 77,
    },
    now,
    (ms) => {
      t += ms;
      if (t >= durationMs) Atomics.store(ctrl, CMD, CMD_STOP);
    },
  );
  return { memory, log: new Int32Array(dirtyLog), writes: new Float64Array(control.counters)[writesIndex(0)], looks };
}

describe('workload.readRate', () => {
  it('reads leave memory exactly as the writes alone do (their own Rng), and writes keep their rate', () => {
    const reading = run(20_000, 1000);
    expect(reading.writes).toBeGreaterThan(2900); // 3,000 writes/s for 1 s of virtual time
    expect(Buffer.compare(replay(reading.writes).views[0], reading.memory.views[0])).toBe(0);
    const plain = run(0, 1000);
    expect(Buffer.compare(replay(plain.writes).views[0], plain.memory.views[0])).toBe(0);
    // the reads happened: pacing 20,000 reads/s made the loop look at the clock far more often
    expect(reading.looks).toBeGreaterThan(plain.looks * 2);
  });
});
