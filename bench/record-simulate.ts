/**
 * Records simulate mode's result documents, so a refactor of the loop can show they did not move:
 * every scenario of bench/suites/standard.json, every fidelity scenario (bench/fidelity-scenarios.ts),
 * and a few small extras that reach the paths those two do not (auto-converge, dirty-limit, a timeout
 * that cancels and one that forces, the traffic cap, compression, a fleet, a link latency).
 * Each document is written normalised: what moves with the wall clock or the machine (startedAt,
 * finishedAt, git, env, simulation.wallTimeMs and simulation.speedup, and both in each
 * simulation.perMethod entry) is removed.
 *
 *   npx tsx bench/record-simulate.ts DIR            write DIR/<set>--<name>.json
 *   npx tsx bench/record-simulate.ts --check DIR    compare with DIR; exit 1 on any difference
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveScenario, type Scenario, type ScenarioInput } from '../src/options.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';
import { expandSuite } from '../src/suite/suite-file.ts';
import type { Method } from '../src/results/document.ts';
import { FIDELITY_SCENARIOS } from './fidelity-scenarios.ts';

/** Keys removed from a document: they move with the wall clock, the checkout or the machine. */
const WALL_CLOCK_KEYS = ['startedAt', 'finishedAt', 'git', 'env'] as const;
const WALL_CLOCK_SIMULATION_KEYS = ['wallTimeMs', 'speedup'] as const;

const small = { memory: '32MiB', vcpus: 2 };
const link = { bandwidth: '256Mbit/s' };
/** Paths the suite and the fidelity scenarios leave out. */
const EXTRAS: (ScenarioInput & { name: string })[] = [
  { name: 'auto-converge', guest: small, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link, precopy: { downtimeLimitMs: 30, autoConverge: true, maxRounds: 40 } },
  { name: 'dirty-limit', guest: small, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link, precopy: { downtimeLimitMs: 30, dirtyLimit: '1MB/s', maxRounds: 40 } },
  { name: 'timeout-cancel', guest: small, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link, precopy: { downtimeLimitMs: 10, timeoutMs: 3000, onTimeout: 'cancel' } },
  { name: 'timeout-force', guest: small, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link, precopy: { downtimeLimitMs: 10, timeoutMs: 3000, onTimeout: 'force' } },
  { name: 'zlib-latency', guest: { ...small, fill: { zero: 0.2, random: 0.4, text: 0.4 } }, workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB' }, link: { ...link, latencyMs: 5 }, precopy: { compression: 'zlib', downtimeLimitMs: 100 } },
  { name: 'max-bandwidth-vmotion', guest: small, workload: { pattern: 'zipf', dirtyRate: '8000/s' }, link, precopy: { policy: 'vmotion', maxBandwidth: '16MiB/s' } },
  { name: 'phaul', guest: small, workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB' }, link, precopy: { policy: 'phaul' } },
  { name: 'xbzrle-small-cache', guest: { memory: '16MiB', vcpus: 1, fill: { zero: 0.5, random: 0.5 } }, workload: { pattern: 'hotset', dirtyRate: '6000/s', workingSet: '2MiB', hotFraction: 0.8 }, link: { bandwidth: '32MiB/s' }, precopy: { downtimeLimitMs: 20, maxRounds: 12, xbzrle: { enabled: true, cacheSize: '1MiB' } } },
  { name: 'xen-legacy-traffic-cap', guest: small, workload: { pattern: 'uniform', dirtyRate: '20000/s' }, link, precopy: { policy: 'xen', policyParams: { xenVariant: 'legacy' } } },
  { name: 'phaul-busy', guest: small, workload: { pattern: 'uniform', dirtyRate: '30000/s' }, link, precopy: { policy: 'phaul' } },
  { name: 'fleet', guest: { memory: '16MiB', vcpus: 2 }, workload: { pattern: 'hotset', dirtyRate: '4000/s', workingSet: '2MiB' }, link, precopy: { downtimeLimitMs: 50 }, fleet: { count: 5, concurrency: 2 } },
];

interface Entry {
  file: string;
  scenario: Scenario;
  methods: readonly Method[];
}

function entries(): Entry[] {
  const out: Entry[] = [];
  const suite = expandSuite(JSON.parse(readFileSync(new URL('./suites/standard.json', import.meta.url), 'utf8')));
  for (const b of suite.benchmarks) out.push({ file: `standard--${b.name}.json`, scenario: b.scenario, methods: suite.methods });
  for (const f of FIDELITY_SCENARIOS) out.push({ file: `fidelity--${f.name}.json`, scenario: resolveScenario(f), methods: ['precopy'] });
  for (const x of EXTRAS) out.push({ file: `extra--${x.name}.json`, scenario: resolveScenario(x), methods: ['precopy', 'quick'] });
  return out;
}

/** The document without what moves with the wall clock, as stable JSON text. */
export function normalise(doc: object): string {
  const d = { ...(doc as Record<string, unknown>) };
  for (const k of WALL_CLOCK_KEYS) delete d[k];
  if (d.simulation && typeof d.simulation === 'object') {
    const s = { ...(d.simulation as Record<string, unknown>) };
    for (const k of WALL_CLOCK_SIMULATION_KEYS) delete s[k];
    // each method's wall time and speedup move too; its modelled time stays
    if (s.perMethod && typeof s.perMethod === 'object') {
      const per = { ...(s.perMethod as Record<string, Record<string, unknown> | null>) };
      for (const m of Object.keys(per)) if (per[m]) per[m] = Object.fromEntries(Object.entries(per[m]!).filter(([k]) => !(WALL_CLOCK_SIMULATION_KEYS as readonly string[]).includes(k)));
      s.perMethod = per;
    }
    d.simulation = s;
  }
  return `${JSON.stringify(d, null, 1)}\n`;
}

/** The first line where two texts differ, for the report. */
function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i + 1}: recorded ${JSON.stringify(x[i]?.trim() ?? '(end)')}, now ${JSON.stringify(y[i]?.trim() ?? '(end)')}`;
  }
  return 'no difference';
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { check: { type: 'string' } } });
const checkDir = values.check;
const outDir = positionals[0];
if (!checkDir === !outDir) {
  console.error('usage: record-simulate.ts DIR | --check DIR');
  process.exit(2);
}

const list = entries();
let differences = 0;
if (outDir) mkdirSync(outDir, { recursive: true });
for (const e of list) {
  const text = normalise(await simulateScenario(e.scenario, { methods: e.methods }));
  if (outDir) {
    writeFileSync(join(outDir, e.file), text);
    continue;
  }
  let recorded: string;
  try {
    recorded = readFileSync(join(checkDir!, e.file), 'utf8');
  } catch {
    console.log(`MISSING  ${e.file}: not in the recording`);
    differences++;
    continue;
  }
  if (recorded === text) console.log(`same     ${e.file}`);
  else {
    console.log(`DIFFERS  ${e.file}: ${firstDifference(recorded, text)}`);
    differences++;
  }
}
if (checkDir) {
  const known = new Set(list.map((e) => e.file));
  for (const f of readdirSync(checkDir)) {
    if (f.endsWith('.json') && !known.has(f)) {
      console.log(`GONE     ${f}: recorded, no longer produced`);
      differences++;
    }
  }
  console.log(differences === 0 ? `${list.length} documents identical to ${checkDir}` : `${differences} of ${list.length} documents differ from ${checkDir}`);
  process.exit(differences === 0 ? 0 : 1);
}
console.log(`${list.length} documents written to ${outDir}`);
