/**
 * Fidelity of simulate mode (src/sim/) against emulate mode (real threads, real bytes): the same small
 * scenarios, each pattern, converging and not, pre-copy only, run in both modes. Prints the table of
 * differences (simulate − emulate): live rounds, total time, downtime, bytes on the link, outcome. A
 * bench, not a test: the emulated side moves with machine noise (test/sim-agreement.test.ts holds a
 * few of these rows to the bounds).
 *
 *   npx tsx bench/sim-fidelity.ts [--only name,name] [--runs N]
 *
 * Simulate mode takes no setup time; emulate mode spends 100–500 ms starting the destination worker
 * before the first page moves. Total times are compared without it (total − setup-time).
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { median } from 'simple-statistics';
import { resolveScenario } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { simulatePrecopy } from '../src/sim/run-simulated.ts';
import type { PrecopyResult } from '../src/results/document.ts';
import { formatBytes, formatDurationMs } from '../src/units.ts';
import { FIDELITY_SCENARIOS } from './fidelity-scenarios.ts';

const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string', default: '1' } } });
const only = values.only?.split(',');
const runs = Math.max(1, Number(values.runs));

const liveRounds = (p: PrecopyResult): number => p.rounds.filter((r) => r.stage !== 'stop-and-copy').length;
const transferMs = (p: PrecopyResult): number => p.stats['total-time'] - p.stats['setup-time'];
const pct = (s: number, e: number): string => (e > 0 ? `${(((s - e) / e) * 100).toFixed(1)}%` : '—');

const table = new Table({
  head: ['scenario', 'policy', 'outcome emu/sim', 'live rounds emu/sim', 'total time emu → sim', 'Δ', 'downtime emu → sim', 'bytes emu → sim', 'Δ'],
  style: { head: [], border: [] },
});
for (const input of FIDELITY_SCENARIOS) {
  if (only && !only.includes(input.name!)) continue;
  const s = resolveScenario(input);
  const sim = simulatePrecopy(s);
  const emu: PrecopyResult[] = [];
  for (let i = 0; i < runs; i++) emu.push((await runScenario(s, { methods: ['precopy'] })).precopy!);
  const m = (f: (p: PrecopyResult) => number): number => median(emu.map(f));
  const eOutcome = emu.map((p) => p.outcome).join(',');
  table.push([
    input.name!,
    s.precopy.policy,
    `${eOutcome} / ${sim.outcome}`,
    `${emu.map(liveRounds).join(',')} / ${liveRounds(sim)}`,
    `${formatDurationMs(m(transferMs))} → ${formatDurationMs(transferMs(sim))}`,
    pct(transferMs(sim), m(transferMs)),
    `${formatDurationMs(m((p) => p.stats.downtime ?? 0))} → ${formatDurationMs(sim.stats.downtime ?? 0)}`,
    `${formatBytes(m((p) => p.stats.ram.transferred))} → ${formatBytes(sim.stats.ram.transferred)}`,
    pct(sim.stats.ram.transferred, m((p) => p.stats.ram.transferred)),
  ]);
  process.stderr.write('.');
}
process.stderr.write('\n');
console.log(table.toString());
console.log(`emulate: median of ${runs} run${runs > 1 ? 's' : ''}; total time without the emulated setup time`);
