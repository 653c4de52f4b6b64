/**
 * How long `predict` takes per migration, in-process: every pattern × write rate × guest size of
 * bench/predict-cases.ts (speedCases), each called 10,000 times (tinybench, after 200 warm-up calls).
 * Goal (issue 21 item 4): ≤ 0.05 ms per call in every case.
 *
 *   npm run bench:predict-speed                          all cases, 10,000 calls each
 *   npm run bench:predict-speed -- --only zipf --iterations 2000
 *   npm run bench:predict-speed -- --baseline ../main     also time another checkout's predict, same run
 *   npm run bench:predict-speed -- --postcopy             the same cases with postcopy.enabled (uniform, hotset, zipf)
 *
 * Prints p50, mean and p99 per case (ms per call) and the 1-minute load average: this machine is shared,
 * read the medians. The scenario is resolved once, outside the timed call. `--clock cpu` times each call
 * by this process's CPU time (process.cpuUsage, 1 µs steps) instead of the wall clock: on a machine
 * whose cores are shared, the wall clock also counts the time the process waited for a core.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { Bench } from 'tinybench';
import { resolveScenario } from '../src/options.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { speedCases } from './predict-cases.ts';

const GOAL_MS = 0.05;
const { values } = parseArgs({ options: { only: { type: 'string' }, iterations: { type: 'string', default: '10000' }, clock: { type: 'string', default: 'wall' }, baseline: { type: 'string' }, postcopy: { type: 'boolean', default: false } } });
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 1) {
  process.stderr.write(`--iterations: expected a positive integer, got ${values.iterations}\n`);
  process.exit(2);
}
if (values.clock !== 'wall' && values.clock !== 'cpu') {
  process.stderr.write(`--clock: expected "wall" or "cpu", got ${values.clock}\n`);
  process.exit(2);
}
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const filters = values.only?.split(',') ?? null;
const cases = speedCases()
  .filter((c) => filters === null || filters.some((f) => c.name?.includes(f)))
  // post-copy: the patterns predict models it for (a written guest: idle never switches; sequential is refused)
  .filter((c) => !values.postcopy || ['uniform', 'hotset', 'zipf'].includes(String(c.workload?.pattern)))
  .map((c) => (values.postcopy ? { ...c, postcopy: { enabled: true } } : c));

type PredictFn = typeof predict;
const baseline: PredictFn | null = values.baseline
  ? ((await import(pathToFileURL(resolve(values.baseline, 'src/sim/predict/predict.ts')).href)) as { predict: PredictFn }).predict
  : null;

let sink = 0;
const bench = new Bench({ iterations, time: 0, warmupIterations: 200, warmupTime: 0, ...(values.clock === 'cpu' ? { now: cpuMs } : {}) });
for (const input of cases) {
  const s = resolveScenario(input);
  bench.add(s.name, () => {
    sink += predict(s).precopy.stats['total-time'];
  });
  if (baseline) {
    bench.add(`${s.name} (baseline)`, () => {
      sink += baseline(s).precopy.stats['total-time'];
    });
  }
}
const loadBefore = loadavg()[0];
await bench.run();
const head = ['case', 'p50 ms', 'mean ms', 'p99 ms', `≤ ${GOAL_MS} ms`, ...(baseline ? ['baseline p50 ms', 'speedup (p50)'] : [])];
const table = new Table({ chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: [], border: [] }, head, colAligns: ['left', 'right', 'right', 'right', 'left', 'right', 'right'] });
const latency = (name: string): { p50: number; mean: number; p99: number } | null => {
  const r = bench.getTask(name)?.result;
  return r && 'latency' in r ? r.latency : null;
};
let worst = 0;
for (const input of cases) {
  const name = input.name ?? '';
  const l = latency(name);
  if (l === null) {
    table.push([name, 'error', '', '', '']);
    continue;
  }
  worst = Math.max(worst, l.p50);
  const row = [name, l.p50.toFixed(4), l.mean.toFixed(4), l.p99.toFixed(4), l.p50 <= GOAL_MS ? 'yes' : 'NO'];
  if (baseline) {
    const b = latency(`${name} (baseline)`);
    row.push(b ? b.p50.toFixed(4) : 'error', b ? (b.p50 / l.p50).toFixed(2) : '');
  }
  table.push(row);
}
process.stdout.write(`${table.toString()}\n`);
process.stdout.write(`worst p50 ${worst.toFixed(4)} ms per call; ${iterations} calls per case; ${values.clock} clock; load average ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)} (2 cores, shared)${sink === 0 ? '' : ''}\n`);
