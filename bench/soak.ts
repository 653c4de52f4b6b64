/**
 * Soak: many consecutive small emulated migrations in one process must not grow its memory.
 *
 * Runs `--runs` (default 200) migrations of an 8 MiB guest, one after the other, cycling through the
 * teardown paths that hold memory: plain pre-copy, XBZRLE (a page cache), two parallel channels
 * (their workers and rings) and quick migration (an image file and its buffers). Prints the resident
 * set after run 10 and after the last, and fails (exit 1) when it grew by more than 5 %.
 *
 *   npm run bench:soak [-- --runs 200]
 */
import { parseArgs } from 'node:util';
import { reservedBytes } from '../src/memory/ledger.ts';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { liveWorkers } from '../src/threads.ts';
import type { Method } from '../src/results/document.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 10) throw new Error('usage: --runs N (N ≥ 10)');
const MAX_GROWTH = 0.05;

const base: ScenarioInput = {
  guest: { memory: '8MiB', vcpus: 1 },
  workload: { pattern: 'hotset', workingSet: '1MiB', dirtyRate: '2000/s' },
  link: { bandwidth: '1GiB/s' },
  quick: { storageBandwidth: 'unlimited' },
};
const kinds: Array<{ name: string; methods: Method[]; over: ScenarioInput }> = [
  { name: 'pre-copy', methods: ['precopy'], over: {} },
  { name: 'XBZRLE', methods: ['precopy'], over: { precopy: { xbzrle: { enabled: true, cacheSize: '2MiB' } } } },
  { name: '2 channels', methods: ['precopy'], over: { precopy: { channels: 2 } } },
  { name: 'quick', methods: ['quick'], over: {} },
];
const scenarios = kinds.map((k) => ({ ...k, scenario: resolveScenario({ ...base, ...k.over }) }));

const MiB = 2 ** 20;
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
let rssAt10 = 0;
const started = performance.now();
for (let i = 1; i <= runs; i++) {
  const k = scenarios[(i - 1) % scenarios.length];
  const doc = await runScenario(k.scenario, { methods: k.methods });
  const block = doc.precopy ?? doc.quick;
  if (block?.verified !== true) throw new Error(`run ${i} (${k.name}): ${block?.outcome}, verified ${block?.verified}`);
  if (reservedBytes() !== 0 || liveWorkers().count !== 0) throw new Error(`run ${i} (${k.name}): ${reservedBytes()} B reserved, ${liveWorkers().count} workers alive after the run`);
  const m = process.memoryUsage();
  if (i === 10) rssAt10 = m.rss;
  if (i % 50 === 0 || i === 10 || process.env.SOAK_VERBOSE) console.log(`run ${i}: rss ${mib(m.rss)} MiB, array buffers ${mib(m.arrayBuffers)} MiB, heap ${mib(m.heapUsed)} MiB`);
}
const rss = process.memoryUsage().rss;
const growth = rss / rssAt10 - 1;
console.log(`soak: ${runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s; rss after run 10 ${mib(rssAt10)} MiB, after run ${runs} ${mib(rss)} MiB: ${(growth * 100).toFixed(1)} % (limit ${MAX_GROWTH * 100} %)`);
if (growth > MAX_GROWTH) process.exitCode = 1;
