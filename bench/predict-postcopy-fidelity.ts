/**
 * Fidelity of `predict`'s post-copy model (src/sim/predict/postcopy-model.ts) against emulate mode, on
 * small guests whose pre-copy cannot converge (issue 14 item 7: requests and total time within 10 %).
 * Prints predicted vs measured page requests, total time, the post-copy phase's duration, the pages
 * missing at the switch and the vCPU blocktime, with ratios (predicted ÷ measured). A bench, not a test:
 * the measured side moves with the machine's load (the any-speed properties are
 * test/predict-postcopy-emulate.test.ts).
 *
 *   npx tsx bench/predict-postcopy-fidelity.ts [--only name,name] [--runs N] [--check]
 *
 * With --runs N each scenario runs N times and the measured columns are medians. --check exits 1 when a
 * scenario's total time is off by more than TOTAL_TOLERANCE or its requests by more than
 * REQUEST_TOLERANCE. The prediction is made with the run's measured setup-time (`predict(s, { setupMs })`).
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { formatCount, formatDurationMs } from '../src/units.ts';

/** total time: the bound. The post-copy phase is bound by the link, so it holds when the engine keeps up. */
const TOTAL_TOLERANCE = 0.1;
/**
 * requests: at latency 0 a fault's stall is this engine's service time (~1 ms of timer wake-up), and two
 * emulate runs of one scenario differ by 25–70 % under load (356 vs 456, 637 vs 1,104 here): the model
 * cannot be closer than the engine is to itself.
 */
const REQUEST_TOLERANCE = 0.35;

const base: ScenarioInput = {
  seed: 3,
  guest: { memory: '64MiB', vcpus: 2, fill: 'random', deviceState: '64KiB' },
  workload: { pattern: 'hotset', dirtyRate: '40000/s', workingSet: '16MiB', hotFraction: 0.95, writeBytes: 8 },
  link: { bandwidth: '64MiB/s' },
  precopy: { downtimeLimitMs: 20, timeoutMs: 30_000 },
  postcopy: { enabled: true },
};
const SCENARIOS: ScenarioInput[] = [
  { ...base, name: 'hotset-64m' },
  { ...base, name: 'hotset-64m-5ms', link: { bandwidth: '64MiB/s', latencyMs: 5 } },
  { ...base, name: 'hotset-64m-pc16m', postcopy: { enabled: true, maxBandwidth: '16MiB/s' } },
  { ...base, name: 'uniform-64m', workload: { pattern: 'uniform', dirtyRate: '20000/s' } },
  { ...base, name: 'zipf-64m', workload: { pattern: 'zipf', dirtyRate: '40000/s' } },
];

const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string', default: '1' }, check: { type: 'boolean', default: false } } });
const only = values.only?.split(',');
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`--runs: expected a positive integer, got ${values.runs}\n`);
  process.exit(2);
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratio = (p: number, m: number): number => (m > 0 ? p / m : NaN);
const cell = (p: string, m: string, r: number): string => `${p} / ${m}  (${r.toFixed(2)})`;

const table = new Table({
  head: ['scenario', 'requests', 'total time', 'post-copy phase', 'missing pages', 'vCPU blocktime', 'predict'],
  style: { head: [], border: [] },
});
let bad = 0;
for (const input of SCENARIOS) {
  if (only && !only.includes(String(input.name))) continue;
  const s = resolveScenario(input);
  const measured: { req: number[]; total: number[]; dur: number[]; missing: number[]; block: number[]; setup: number[] } = { req: [], total: [], dur: [], missing: [], block: [], setup: [] };
  for (let r = 0; r < runs; r++) {
    const m = (await runScenario(s, { methods: ['precopy'], postcopyAfterWindowMs: 0 })).precopy!;
    if (m.outcome !== 'postcopy' || m.verified !== true) throw new Error(`${s.name}: ${m.outcome}, verified ${String(m.verified)}`);
    measured.req.push(m.stats.ram['postcopy-requests']!);
    measured.total.push(m.stats['total-time']);
    measured.dur.push(m.postcopy!.durationMs);
    measured.missing.push(m.postcopy!.missingPages);
    measured.block.push(median(m.stats['postcopy-vcpu-blocktime']!));
    measured.setup.push(m.stats['setup-time']);
    process.stderr.write(`${s.name}: run ${r + 1} done\n`);
  }
  const t0 = performance.now();
  const p = predict(s, { setupMs: median(measured.setup) }).precopy;
  const predictMs = performance.now() - t0;
  const pc = p.postcopy!;
  const [mr, mt, md, mm, mb] = [median(measured.req), median(measured.total), median(measured.dur), median(measured.missing), median(measured.block)];
  const rr = ratio(pc.faults, mr);
  const rt = ratio(p.stats['total-time'], mt);
  const held = Math.abs(rt - 1) <= TOTAL_TOLERANCE && Math.abs(rr - 1) <= REQUEST_TOLERANCE;
  if (!held) bad++;
  table.push([
    `${s.name}${held ? '' : ' ✗'}`,
    cell(formatCount(pc.faults), formatCount(mr), rr),
    cell(formatDurationMs(p.stats['total-time']), formatDurationMs(mt), rt),
    cell(formatDurationMs(pc.durationMs), formatDurationMs(md), ratio(pc.durationMs, md)),
    cell(formatCount(pc.missingPages), formatCount(mm), ratio(pc.missingPages, mm)),
    cell(formatDurationMs(p.stats['postcopy-vcpu-blocktime']![0]), formatDurationMs(mb), ratio(p.stats['postcopy-vcpu-blocktime']![0], mb)),
    `${predictMs.toFixed(2)} ms`,
  ]);
}
console.log(`predicted / measured (median of ${runs})  (ratio predicted ÷ measured); tolerances: total time ${TOTAL_TOLERANCE * 100} %, requests ${REQUEST_TOLERANCE * 100} %`);
console.log(table.toString());
if (values.check) {
  console.log(bad === 0 ? 'every scenario within the tolerances' : `${bad} scenario(s) outside the tolerances (✗)`);
  process.exitCode = bad === 0 ? 0 : 1;
}
