/**
 * Fidelity of the analytic predictor (src/sim/predict/) against the real engine (emulate mode):
 * small guests on fast links, pre-copy only. Prints predicted vs measured live rounds, total time,
 * downtime and bytes over the link, with ratios (predicted ÷ measured). A bench, not a test: the
 * measured side moves with machine noise.
 *
 *   npx tsx bench/predict-fidelity.ts [--only name,name]
 *
 * The model leaves out the setup time (the destination worker's start, 100–300 ms here): the prediction
 * is made after the run with the run's measured setup-time (`predict(s, { setupMs })`), so total times
 * and timeouts compare like for like. `predict` columns: the prediction's wall time.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { formatBytes, formatCount, formatDurationMs } from '../src/units.ts';

const SCENARIOS: ScenarioInput[] = [
  {
    name: 'sequential-64m',
    guest: { memory: '64MiB', vcpus: 1 },
    workload: { pattern: 'sequential', dirtyRate: '5000/s' },
    link: { bandwidth: '1Gbit/s' },
    precopy: { downtimeLimitMs: 30 },
  },
  {
    name: 'hotset-64m',
    guest: { memory: '64MiB', vcpus: 2 },
    workload: { pattern: 'hotset', dirtyRate: '20000/s', workingSet: '8MiB', hotFraction: 0.9 },
    link: { bandwidth: '1Gbit/s' },
    precopy: { downtimeLimitMs: 30 },
  },
  {
    name: 'uniform-64m-2g',
    guest: { memory: '64MiB', vcpus: 2 },
    workload: { pattern: 'uniform', dirtyRate: '20000/s' },
    link: { bandwidth: '2Gbit/s' },
    precopy: { downtimeLimitMs: 30 },
  },
  {
    name: 'zipf-32m',
    guest: { memory: '32MiB', vcpus: 2, fill: { zero: 0.3, random: 0.7 } },
    workload: { pattern: 'zipf', dirtyRate: '50000/s', zipfExponent: 0.99 },
    link: { bandwidth: '1Gbit/s' },
    precopy: { downtimeLimitMs: 30 },
  },
  {
    name: 'hotset-32m-never',
    guest: { memory: '32MiB', vcpus: 2 },
    workload: { pattern: 'hotset', dirtyRate: '100000/s', workingSet: '8MiB', hotFraction: 1 },
    link: { bandwidth: '1Gbit/s' },
    precopy: { downtimeLimitMs: 30, timeoutMs: 3000 },
  },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',');
const ratio = (p: number | null, m: number | null): string => (p === null || m === null || !(m > 0) ? '—' : (p / m).toFixed(2));

const table = new Table({
  head: ['scenario', 'outcome (pred / meas)', 'live rounds', 'total time (setup)', 'downtime', 'bytes over the link', 'zero pages'],
  style: { head: [], border: [] },
});
for (const input of SCENARIOS) {
  if (only && !only.includes(String(input.name))) continue;
  const scenario = resolveScenario(input);
  const doc = await runScenario(scenario, { methods: ['precopy'] });
  const m = doc.precopy!;
  const t0 = performance.now();
  const p = predict(scenario, { setupMs: m.stats['setup-time'] }).precopy;
  const predictMs = performance.now() - t0;
  if (m.verified === false) throw new Error(`${scenario.name}: not verified`);
  const pLive = p.rounds.filter((r) => r.stage !== 'stop-and-copy').length + p.elidedRounds;
  const mLive = m.rounds.filter((r) => r.stage !== 'stop-and-copy').length;
  const pt = p.stats['total-time'];
  const mt = m.stats['total-time'];
  const setup = m.stats['setup-time'];
  const pd = p.stats.downtime;
  const md = m.stats.downtime;
  const pb = p.stats.ram.transferred;
  const mb = m.stats.ram.transferred;
  const cell = (pv: string, mv: string, r: string): string => `${pv} / ${mv}  (${r})`;
  const row = [
    `${scenario.name}\n${c(predictMs)}`,
    `${p.outcome}${p.reason ? ` ${p.reason}` : ''} / ${m.outcome}${m.reason ? ` ${m.reason}` : ''}`,
    cell(String(pLive), String(mLive), ratio(pLive, mLive)),
    `${cell(formatDurationMs(pt), formatDurationMs(mt), ratio(pt, mt))}\n(${formatDurationMs(setup)})`,
    cell(pd === null ? '—' : formatDurationMs(pd), md === null ? '—' : formatDurationMs(md), ratio(pd, md)),
    cell(formatBytes(pb), formatBytes(mb), ratio(pb, mb)),
    cell(formatCount(p.stats.ram.duplicate), formatCount(m.stats.ram.duplicate), ratio(p.stats.ram.duplicate, m.stats.ram.duplicate)),
  ];
  table.push(row);
  process.stderr.write(`${scenario.name}: done\n`);
}
console.log('predicted / measured  (ratio predicted ÷ measured); under each name: the time predict() took');
console.log(table.toString());

function c(ms: number): string {
  return `predict ${ms.toFixed(2)} ms`;
}
