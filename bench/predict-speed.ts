/**
 * How long `predict` takes per migration, in-process: every pattern × write rate × guest size of
 * bench/predict-cases.ts (speedCases), each called 10,000 times (tinybench, after 200 warm-up calls).
 * Goal (issue 21 item 4): ≤ 0.05 ms per call in every case.
 *
 *   npm run bench:predict-speed                          all cases, 10,000 calls each
 *   npm run bench:predict-speed -- --only zipf --iterations 2000
 *
 * Prints p50, mean and p99 per case (ms per call) and the 1-minute load average: this machine is shared,
 * read the medians. The scenario is resolved once, outside the timed call.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { Bench } from 'tinybench';
import { resolveScenario } from '../src/options.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { speedCases } from './predict-cases.ts';

const GOAL_MS = 0.05;
const { values } = parseArgs({ options: { only: { type: 'string' }, iterations: { type: 'string', default: '10000' } } });
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 1) {
  process.stderr.write(`--iterations: expected a positive integer, got ${values.iterations}\n`);
  process.exit(2);
}
const filters = values.only?.split(',') ?? null;
const cases = speedCases().filter((c) => filters === null || filters.some((f) => c.name?.includes(f)));

let sink = 0;
const bench = new Bench({ iterations, time: 0, warmupIterations: 200, warmupTime: 0 });
for (const input of cases) {
  const s = resolveScenario(input);
  bench.add(s.name, () => {
    sink += predict(s).precopy.stats['total-time'];
  });
}
const loadBefore = loadavg()[0];
await bench.run();
const table = new Table({ head: ['case', 'p50 ms', 'mean ms', 'p99 ms', `≤ ${GOAL_MS} ms`], colAligns: ['left', 'right', 'right', 'right', 'left'] });
let worst = 0;
for (const task of bench.tasks) {
  const r = task.result;
  if (!r || !('latency' in r)) {
    table.push([task.name, 'error', '', '', '']);
    continue;
  }
  const l = r.latency;
  worst = Math.max(worst, l.p50);
  table.push([task.name, l.p50.toFixed(4), l.mean.toFixed(4), l.p99.toFixed(4), l.p50 <= GOAL_MS ? 'yes' : 'NO']);
}
process.stdout.write(`${table.toString()}\n`);
process.stdout.write(`worst p50 ${worst.toFixed(4)} ms per call; ${iterations} calls per case; load average ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)} (2 cores, shared)${sink === 0 ? '' : ''}\n`);
