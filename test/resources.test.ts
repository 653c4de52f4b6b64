import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { reserveMemory, reservedBytes } from '../src/memory/ledger.ts';
import { resolveScenario } from '../src/options.ts';
import { checkResources, FREE_MEMORY_HEADROOM_BYTES, runMemoryBytes } from '../src/resources.ts';

const GiB = 2 ** 30;

function refusal(f: () => void): MigbenchError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MigbenchError);
    expect((e as MigbenchError).code).toBe('E_RESOURCES');
    return e as MigbenchError;
  }
  throw new Error('expected a refusal');
}

describe('runMemoryBytes', () => {
  it('counts the guest twice, both bitmaps, the device state twice, the XBZRLE cache and every ring', () => {
    const s = resolveScenario({ guest: { memory: '1GiB', deviceState: '256KiB' } });
    const pages = GiB / 4096;
    const ring = 8 * 2 ** 20;
    expect(runMemoryBytes(s)).toBe(2 * GiB + 2 * 256 * 1024 + 2 * (pages / 8) + ring);
    const x = resolveScenario({ guest: { memory: '1GiB', deviceState: '256KiB' }, precopy: { xbzrle: { enabled: true, cacheSize: '128MiB' }, channels: 2 } });
    expect(runMemoryBytes(x)).toBe(2 * GiB + 2 * 256 * 1024 + 2 * (pages / 8) + 128 * 2 ** 20 + 3 * ring);
  });

  it('pre-copy over tcp counts the guest once (the destination is `migbench receive`) and its rings of TCP_RING_BYTES; quick migration still twice', () => {
    const t = resolveScenario({ guest: { memory: '1GiB', deviceState: '256KiB' }, link: { transport: 'tcp', target: '10.0.0.2:4444' }, precopy: { channels: 4 } });
    const pages = GiB / 4096;
    expect(runMemoryBytes(t, 'precopy')).toBe(GiB + 256 * 1024 + 2 * (pages / 8) + 5 * 2 * 2 ** 20);
    expect(runMemoryBytes(t, 'quick')).toBe(2 * GiB + 2 * 256 * 1024 + 2 * (pages / 8) + 5 * 8 * 2 ** 20);
    expect(runMemoryBytes(t)).toBe(runMemoryBytes(t, 'quick'));
  });
});

describe('checkResources', () => {
  const plenty = { totalMemBytes: 24 * GiB, freeMemBytes: 23 * GiB, heldBytes: 0 };

  it('refuses a run above the machine share, with the figures', () => {
    const s = resolveScenario({ guest: { memory: '16GiB' } });
    const e = refusal(() => checkResources(s, plenty));
    expect(e.message).toMatch(/^guest\.memory: 16\.0 GiB needs 32\.\d GiB \(source \+ destination, logs, caches and rings\), this machine has 24\.0 GiB of which migbench uses at most 18\.0 GiB, got "16\.0 GiB"$/);
  });

  it('accepts a run that fits', () => {
    expect(() => checkResources(resolveScenario({ guest: { memory: '8GiB' } }), plenty)).not.toThrow();
  });

  it('counts what earlier runs still hold against the share', () => {
    const s = resolveScenario({ guest: { memory: '4GiB' } });
    expect(() => checkResources(s, { ...plenty, heldBytes: 8 * GiB })).not.toThrow();
    const e = refusal(() => checkResources(s, { ...plenty, heldBytes: 12 * GiB }));
    expect(e.message).toContain('12.0 GiB of it still held by earlier runs');
  });

  it('refuses what does not fit in the memory free now, keeping a headroom', () => {
    const s = resolveScenario({ guest: { memory: '2GiB' } });
    const need = runMemoryBytes(s);
    expect(() => checkResources(s, { ...plenty, freeMemBytes: need + FREE_MEMORY_HEADROOM_BYTES })).not.toThrow();
    const e = refusal(() => checkResources(s, { ...plenty, freeMemBytes: need + FREE_MEMORY_HEADROOM_BYTES - 1 }));
    expect(e.message).toMatch(/this machine has 4\.\d+ GiB free of 24\.0 GiB \(512 MiB kept free\)/);
  });

  it('reads the ledger by default', () => {
    const s = resolveScenario({ guest: { memory: '4GiB' } });
    const r = reserveMemory(16 * GiB, 'test');
    try {
      expect(reservedBytes()).toBeGreaterThanOrEqual(16 * GiB);
      refusal(() => checkResources(s, { totalMemBytes: 24 * GiB, freeMemBytes: 23 * GiB }));
    } finally {
      r.release();
      r.release(); // idempotent
    }
    expect(reservedBytes()).toBe(0);
  });
});
