/**
 * Small scenarios run in both modes by bench/sim-fidelity.ts (and, some of them, by
 * test/sim-agreement.test.ts): every pattern, converging and not, QEMU's rule and round-based ones.
 */
import type { ScenarioInput } from '../src/options.ts';

const small = { memory: '32MiB', vcpus: 2 };
const link = { bandwidth: '256Mbit/s' };

export const FIDELITY_SCENARIOS: (ScenarioInput & { name: string })[] = [
  { name: 'idle', guest: small, workload: { pattern: 'idle' }, link },
  { name: 'uniform', guest: small, workload: { pattern: 'uniform', dirtyRate: '2000/s' }, link, precopy: { downtimeLimitMs: 100 } },
  { name: 'uniform-xen', guest: small, workload: { pattern: 'uniform', dirtyRate: '2000/s' }, link, precopy: { policy: 'xen' } },
  { name: 'hotset', guest: small, workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB' }, link, precopy: { downtimeLimitMs: 100 } },
  { name: 'hotset-hyperv', guest: small, workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB' }, link, precopy: { policy: 'hyperv', downtimeLimitMs: 100 } },
  { name: 'zipf', guest: { ...small, fill: { zero: 0.3, random: 0.7 } }, workload: { pattern: 'zipf', dirtyRate: '10000/s', zipfExponent: 0.99 }, link, precopy: { downtimeLimitMs: 100 } },
  { name: 'sequential', guest: { memory: '32MiB', vcpus: 1 }, workload: { pattern: 'sequential', dirtyRate: '2000/s' }, link, precopy: { downtimeLimitMs: 50 } },
  { name: 'hotset-never', guest: small, workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '16MiB', hotFraction: 1 }, link, precopy: { downtimeLimitMs: 30, maxRounds: 6 } },
  { name: 'uniform-never-xen', guest: small, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link, precopy: { policy: 'xen' } },
  { name: 'xbzrle', guest: { memory: '16MiB', vcpus: 2 }, workload: { pattern: 'uniform', dirtyRate: '12000/s', writeBytes: 8 }, link: { bandwidth: '32MiB/s' }, precopy: { downtimeLimitMs: 100, maxRounds: 30, xbzrle: { enabled: true, cacheSize: '16MiB' } } },
];

/**
 * Post-copy (issue 14 item 7): guests whose writes cannot converge over a slow link, switched to
 * post-copy after the bulk round. The link latency is long enough that a fault's round trip, not this
 * machine's thread wake-ups, sets the stall; run by bench/sim-fidelity.ts and test/sim-postcopy-agreement.test.ts.
 */
export const POSTCOPY_FIDELITY_SCENARIOS: (ScenarioInput & { name: string })[] = [
  {
    name: 'postcopy-uniform',
    guest: { memory: '8MiB', vcpus: 4 },
    workload: { pattern: 'uniform', dirtyRate: '20000/s' },
    link: { bandwidth: '4MiB/s', latencyMs: 25 },
    precopy: { downtimeLimitMs: 30, maxRounds: 4 },
    postcopy: { enabled: true },
  },
  {
    name: 'postcopy-hotset-reads',
    seed: 2,
    guest: { memory: '16MiB', vcpus: 4 },
    workload: { pattern: 'hotset', dirtyRate: '20000/s', readRate: '20000/s', workingSet: '8MiB', hotFraction: 1 },
    link: { bandwidth: '8MiB/s', latencyMs: 20 },
    precopy: { downtimeLimitMs: 30, maxRounds: 4 },
    postcopy: { enabled: true, preempt: false },
  },
  {
    name: 'postcopy-zipf',
    seed: 5,
    guest: { memory: '32MiB', vcpus: 2 },
    workload: { pattern: 'zipf', dirtyRate: '20000/s' },
    link: { bandwidth: '16MiB/s', latencyMs: 15 },
    precopy: { downtimeLimitMs: 30, maxRounds: 4 },
    postcopy: { enabled: true },
  },
];
