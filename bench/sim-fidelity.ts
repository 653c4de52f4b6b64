/**
 * Fidelity of simulate mode (src/sim/) against emulate mode (real threads, real bytes): the same small
 * scenarios, each pattern, converging and not, pre-copy only, run in both modes. Prints the table of
 * differences (simulate − emulate): live rounds, total time, downtime, bytes on the link, outcome. A
 * bench, not a test: the emulated side moves with this machine's speed and load (test/sim-agreement.test.ts
 * holds only what agrees at any speed: an idle guest on a link that is the bottleneck).
 *
 *   npx tsx bench/sim-fidelity.ts [--only name,name] [--runs N] [--check]
 *
 * --check holds the rows in CHECKED to issue #6's agreement bounds (the same outcome, live rounds within
 * one, bytes on the link and total time within 10 %; emulate: the median of --runs) and exits 1 when
 * one breaks them. Run it on a quiet machine: a busy one makes the emulated side engine-bound.
 *
 * Then the post-copy scenarios (POSTCOPY_FIDELITY_SCENARIOS): outcome, postcopy-requests, pages missing at
 * the switch, mean stall and total time; --check holds them to issue #14's bounds (the same outcome,
 * postcopy-requests and total time within 10 % of emulate's median).
 *
 * Simulate mode takes no setup time; emulate mode starts its workers before the migration's clock
 * (`engine.prepareMs`), and its setup-time is the start of dirty logging. Total times are compared
 * without it (total − setup-time).
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { median } from 'simple-statistics';
import { resolveScenario } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { simulatePrecopy } from '../src/sim/run-simulated.ts';
import type { PrecopyResult } from '../src/results/document.ts';
import { formatBytes, formatDurationMs } from '../src/units.ts';
import { FIDELITY_SCENARIOS, POSTCOPY_FIDELITY_SCENARIOS } from './fidelity-scenarios.ts';

const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string', default: '1' }, check: { type: 'boolean', default: false } } });
/** The rows held to issue #6's bounds by --check (they were a test until the test had to hold at any speed). */
const CHECKED = ['uniform', 'uniform-xen', 'hotset-hyperv', 'hotset-never', 'xbzrle'];
const rel = (a: number, b: number): number => Math.abs(a - b) / b;
const failures: string[] = [];
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
  if (values.check && CHECKED.includes(input.name!)) {
    const broke: string[] = [];
    if (emu.some((p) => p.outcome !== sim.outcome)) broke.push(`outcome ${eOutcome} / ${sim.outcome}`);
    if (Math.abs(liveRounds(sim) - m(liveRounds)) > 1) broke.push(`live rounds ${m(liveRounds)} / ${liveRounds(sim)}`);
    if (rel(sim.stats.ram.transferred, m((p) => p.stats.ram.transferred)) >= 0.1) broke.push('bytes off by 10 % or more');
    if (rel(transferMs(sim), m(transferMs)) >= 0.1) broke.push('total time off by 10 % or more');
    if (!emu.every((p) => p.verified)) broke.push('an emulated run did not verify');
    if (broke.length > 0) failures.push(`${input.name}: ${broke.join('; ')}`);
  }
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
const requests = (p: PrecopyResult): number => p.stats.ram['postcopy-requests'] ?? 0;
const stallMs = (p: PrecopyResult): number => (p.stats['postcopy-latency'] ?? 0) / 1e6;
const pcTable = new Table({
  head: ['post-copy scenario', 'outcome emu/sim', 'requests emu → sim', 'Δ', 'missing emu → sim', 'mean stall emu → sim', 'total time emu → sim', 'Δ'],
  style: { head: [], border: [] },
});
for (const input of POSTCOPY_FIDELITY_SCENARIOS) {
  if (only && !only.includes(input.name)) continue;
  const s = resolveScenario(input);
  const sim = simulatePrecopy(s);
  const emu: PrecopyResult[] = [];
  for (let i = 0; i < runs; i++) emu.push((await runScenario(s, { methods: ['precopy'], postcopyAfterWindowMs: 0 })).precopy!);
  const m = (f: (p: PrecopyResult) => number): number => median(emu.map(f));
  const eOutcome = emu.map((p) => p.outcome).join(',');
  if (values.check) {
    const broke: string[] = [];
    if (emu.some((p) => p.outcome !== sim.outcome)) broke.push(`outcome ${eOutcome} / ${sim.outcome}`);
    if (rel(requests(sim), m(requests)) >= 0.1) broke.push('postcopy-requests off by 10 % or more');
    if (rel(transferMs(sim), m(transferMs)) >= 0.1) broke.push('total time off by 10 % or more');
    if (!emu.every((p) => p.verified)) broke.push('an emulated run did not verify');
    if (broke.length > 0) failures.push(`${input.name}: ${broke.join('; ')}`);
  }
  pcTable.push([
    input.name,
    `${eOutcome} / ${sim.outcome}`,
    `${emu.map(requests).join(',')} → ${requests(sim)}`,
    pct(requests(sim), m(requests)),
    `${m((p) => p.postcopy?.missingPages ?? 0)} → ${sim.postcopy?.missingPages ?? 0}`,
    `${formatDurationMs(m(stallMs))} → ${formatDurationMs(stallMs(sim))}`,
    `${formatDurationMs(m(transferMs))} → ${formatDurationMs(transferMs(sim))}`,
    pct(transferMs(sim), m(transferMs)),
  ]);
  process.stderr.write('.');
}
process.stderr.write('\n');
if (table.length > 0) console.log(table.toString());
if (pcTable.length > 0) console.log(pcTable.toString());
console.log(`emulate: median of ${runs} run${runs > 1 ? 's' : ''}; total time without the emulated setup time`);
if (values.check) {
  if (failures.length > 0) {
    console.log(`--check: ${failures.length} row(s) outside issue #6's bounds:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    const checked = [...CHECKED, ...POSTCOPY_FIDELITY_SCENARIOS.map((x) => x.name)].filter((n) => !only || only.includes(n)).length;
    console.log(`--check: ${checked} row(s) within issue #6's and issue #14's bounds`);
  }
}
