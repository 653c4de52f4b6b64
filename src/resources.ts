/**
 * What one run needs of this machine's memory, and the check made before allocating it: refuse with one
 * clear line (exit 2) rather than be killed by the kernel's OOM killer.
 */
import os from 'node:os';
import { MigbenchError } from './errors.ts';
import { reservedBytes } from './memory/ledger.ts';
import { logEntriesFor, postcopySharedBytes } from './memory/postcopy-shared.ts';
import type { Scenario } from './options.ts';
import { METHODS, type Method } from './results/document.ts';
import { HEADER_BYTES, maxRunPages } from './transport/frame.ts';
import { TCP_RING_BYTES } from './transport/tcp-destination.ts';
import { formatBytes } from './units.ts';

/** Share of this machine's RAM a run may take for everything it allocates. */
export const MAX_MEMORY_SHARE = 0.75;
/** Free memory left for the process itself, its worker threads' heaps and the kernel. */
export const FREE_MEMORY_HEADROOM_BYTES = 512 * 2 ** 20;

/** Ring size: room for several of the largest frames and for the bytes in flight on a delayed link. */
export function ringCapacityBytes(scenario: Scenario): number {
  const ps = scenario.guest.pageSize;
  const largestFrame = HEADER_BYTES + maxRunPages(ps) * ps;
  const inFlight = scenario.link.latencyMs > 0
    ? Number.isFinite(scenario.link.bandwidth)
      ? (scenario.link.bandwidth * scenario.link.latencyMs) / 1000
      : 64 * 1024 * 1024
    : 0;
  const want = Math.max(8 * 1024 * 1024, 4 * largestFrame, 2 * inFlight);
  return Math.min(512 * 1024 * 1024, 2 ** Math.ceil(Math.log2(want)));
}

/**
 * Whether a run of `method` holds the destination's copy of the guest in this process: not pre-copy over
 * tcp (`migbench receive` holds it); quick migration restores here whatever the transport.
 */
export function hasLocalDestination(scenario: Scenario, method: Method): boolean {
  return !(method === 'precopy' && scenario.link.transport === 'tcp');
}

/** The destination's bytes in this process for one run of `method`: its copy of the guest and of the device state (0 over tcp). */
export function destinationMemoryBytes(scenario: Scenario, method: Method): number {
  return hasLocalDestination(scenario, method) ? scenario.guest.memory + scenario.guest.deviceState : 0;
}

/**
 * The bytes one emulated run of `method` holds at its peak: the guest (twice, unless the destination is
 * another process), its logs, the XBZRLE cache, the rings, and post-copy's shared memory (write logs,
 * stall records, bitmaps; with a local destination only). Without a method: the larger of the two (each
 * method migrates a guest of its own, one after the other).
 */
export function runMemoryBytes(scenario: Scenario, method?: Method): number {
  if (method === undefined) return Math.max(...METHODS.map((m) => runMemoryBytes(scenario, m)));
  const memory = scenario.guest.memory;
  const pages = memory / scenario.guest.pageSize;
  const bitmaps = 2 * Math.ceil(pages / 32) * 4; // dirty log + migration bitmap
  const p = scenario.precopy;
  const cache = p.xbzrle.enabled ? p.xbzrle.cacheSize : 0;
  const local = hasLocalDestination(scenario, method);
  const rings = (p.channels > 1 ? p.channels + 1 : 1) * (local ? ringCapacityBytes(scenario) : TCP_RING_BYTES);
  const postcopy = local && (scenario.postcopy.enabled || scenario.quick.restore === 'lazy')
    ? postcopySharedBytes({ totalPages: pages, vcpus: scenario.guest.vcpus, logEntries: postcopyLogEntries(scenario), writeBytes: scenario.workload.writeBytes })
    : 0;
  return memory + scenario.guest.deviceState + bitmaps + cache + rings + postcopy + destinationMemoryBytes(scenario, method);
}

/**
 * Entries of each vCPU's write log (memory/postcopy-shared.ts logEntriesFor) for this scenario: the log
 * covers the slower of the phases it must cover, post-copy over the link and a lazy quick restore's
 * fill from storage (`lazyRestore`: the guest is made for one).
 */
export function postcopyLogEntries(scenario: Scenario, lazyRestore = scenario.quick.restore === 'lazy'): number {
  const w = scenario.workload;
  return logEntriesFor({
    memoryBytes: scenario.guest.memory,
    postcopyRateBytesPerSec: Math.min(
      scenario.postcopy.enabled ? Math.min(scenario.link.bandwidth, scenario.postcopy.maxBandwidth) : Infinity,
      lazyRestore ? scenario.quick.storageBandwidth : Infinity,
    ),
    writesPerSecPerVcpu: w.pattern === 'idle' ? 0 : w.dirtyRate / scenario.guest.vcpus,
    writeBytes: w.writeBytes,
  });
}

export interface MachineMemory {
  totalMemBytes: number;
  /** what the kernel could give now without swapping (Linux MemAvailable) */
  freeMemBytes: number;
  /** what migbench still holds in this process from runs not yet released */
  heldBytes: number;
}

export function machineMemory(): MachineMemory {
  return { totalMemBytes: os.totalmem(), freeMemBytes: os.freemem(), heldBytes: reservedBytes() };
}

/**
 * Refuse, before allocating, a run that does not fit: it may use at most `MAX_MEMORY_SHARE` of the
 * machine's RAM less what earlier runs still hold, and no more than is free now less a headroom.
 */
export function checkResources(scenario: Scenario, machine: Partial<MachineMemory> = {}, methods: readonly Method[] = METHODS): void {
  const m = { ...machineMemory(), ...machine };
  const need = Math.max(...methods.map((method) => runMemoryBytes(scenario, method)));
  const local = methods.some((method) => hasLocalDestination(scenario, method));
  const share = Math.floor(m.totalMemBytes * MAX_MEMORY_SHARE) - m.heldBytes;
  const free = m.freeMemBytes - FREE_MEMORY_HEADROOM_BYTES;
  if (need <= Math.min(share, free)) return;
  const held = m.heldBytes > 0 ? `, ${formatBytes(m.heldBytes)} of it still held by earlier runs` : '';
  const limit = share <= free
    ? `this machine has ${formatBytes(m.totalMemBytes)} of which migbench uses at most ${formatBytes(Math.floor(m.totalMemBytes * MAX_MEMORY_SHARE))}${held}`
    : `this machine has ${formatBytes(m.freeMemBytes)} free of ${formatBytes(m.totalMemBytes)}${held} (${formatBytes(FREE_MEMORY_HEADROOM_BYTES)} kept free)`;
  throw new MigbenchError(
    'E_RESOURCES',
    `guest.memory: ${formatBytes(scenario.guest.memory)} needs ${formatBytes(need)} (${local ? 'source + destination' : 'the source (the destination is `migbench receive`)'}, logs, caches and rings), ${limit}, got ${JSON.stringify(formatBytes(scenario.guest.memory))}`,
  );
}
