import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { reserveMemory, reservedBytes } from '../src/memory/ledger.ts';
import { resolveScenario } from '../src/options.ts';
import { checkResources, FREE_MEMORY_HEADROOM_BYTES, postcopyLogEntries, runMemoryBytes } from '../src/resources.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { MAX_LOG_BYTES, createPostcopyShared } from '../src/memory/postcopy-shared.ts';
import { entryBytes } from '../src/memory/write-log.ts';

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

describe('runMemoryBytes with post-copy', () => {
  it('counts the shared memory createPostcopyShared allocates: every write log (up to 64 MiB per vCPU), the stall records, both bitmaps and the request ring', () => {
    // a write rate that fills each vCPU's log to its 64 MiB bound
    const input = { guest: { memory: '64MiB', vcpus: 4 }, workload: { dirtyRate: '2000000/s' }, link: { bandwidth: '1MiB/s' } } as const;
    const s = resolveScenario({ ...input, postcopy: { enabled: true } });
    const plain = resolveScenario(input);
    const entries = postcopyLogEntries(s);
    expect(entries * entryBytes(s.workload.writeBytes)).toBeLessThanOrEqual(MAX_LOG_BYTES);
    expect(entries * entryBytes(s.workload.writeBytes)).toBeGreaterThan(MAX_LOG_BYTES - entryBytes(s.workload.writeBytes));
    const layout = guestLayout(s.guest.memory, s.guest.pageSize);
    const dest = new GuestMemory(layout);
    try {
      const shared = createPostcopyShared({ dest, vcpus: 4, logEntries: entries, writeBytes: s.workload.writeBytes });
      const allocated = [shared.control, shared.received, shared.recoveryReply, shared.requests.buffer, ...shared.logs, ...shared.stalls].reduce((n, b) => n + b.byteLength, 0);
      expect(allocated).toBeGreaterThan(4 * MAX_LOG_BYTES - 4 * entryBytes(s.workload.writeBytes));
      expect(runMemoryBytes(s) - runMemoryBytes(plain)).toBe(allocated);
    } finally {
      dest.release();
    }
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
