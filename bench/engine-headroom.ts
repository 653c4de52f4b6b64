/**
 * Engine headroom: how fast can migbench move memory when the link is not the limit?
 *
 * Migrates an idle, random-filled 1 GiB guest over an unlimited link and reports two ratios to a plain
 * `TypedArray.prototype.set` copy of the same bytes between two SharedArrayBuffers, measured in the
 * same process and run (issue 21 item 1):
 * - total time: the guest's bytes over the `total-time` a user reads (what `migbench run` prints; the
 *   workers are started before the migration's clock, `engine.prepareMs`, and are not in it);
 * - transfer: the guest's bytes over the transfer alone, from the bulk round to the destination's
 *   resume (`total-time − setup-time`).
 * The second is the fastest link migbench can emulate faithfully.
 *
 *   npm run bench:headroom [-- --memory 1GiB --runs 5]
 */
import { parseArgs } from 'node:util';
import { resolveScenario } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { formatByteRate, parseSizeBytes } from '../src/units.ts';

const { values } = parseArgs({ options: { memory: { type: 'string', default: '1GiB' }, runs: { type: 'string', default: '5' } } });
const memory = parseSizeBytes(values.memory);
const runs = Number(values.runs);
if (memory === null || !(runs >= 1)) throw new Error('usage: --memory SIZE --runs N');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function copyBaseline(): number[] {
  const src = new Uint8Array(new SharedArrayBuffer(memory!));
  const dst = new Uint8Array(new SharedArrayBuffer(memory!));
  for (let i = 0; i < src.length; i += 4096) src[i] = (i >>> 12) | 1; // fault in, non-zero
  dst.set(src); // fault in the destination
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    dst.set(src);
    rates.push((memory! * 1000) / (performance.now() - t));
  }
  return rates;
}

async function engine(): Promise<{ total: number; transfer: number }[]> {
  const scenario = resolveScenario({
    name: 'headroom',
    guest: { memory: values.memory, vcpus: 1, fill: 'random', deviceState: 0 },
    workload: { pattern: 'idle' },
    link: { bandwidth: 'unlimited' },
  });
  const rates: { total: number; transfer: number }[] = [];
  for (let r = -1; r < runs; r++) {
    const doc = await runScenario(scenario, { methods: ['precopy'] }); // run -1 is the warm-up (JIT, worker start-up)
    const precopy = doc.precopy!;
    if (precopy.verified !== true) throw new Error('verification failed');
    const s = precopy.stats;
    if (r >= 0) rates.push({ total: (memory! * 1000) / s['total-time'], transfer: (memory! * 1000) / (s['total-time'] - s['setup-time']) });
  }
  return rates;
}

const base = copyBaseline();
const eng = await engine();
const baseMedian = median(base);
const totalMedian = median(eng.map((e) => e.total));
const transferMedian = median(eng.map((e) => e.transfer));
console.log(`guest ${values.memory}, ${runs} runs each after a warm-up (medians)`);
console.log(`TypedArray.set copy             ${formatByteRate(baseMedian)}   runs: ${base.map((x) => formatByteRate(x)).join(', ')}`);
console.log(`migbench over total-time        ${formatByteRate(totalMedian)}   runs: ${eng.map((x) => formatByteRate(x.total)).join(', ')}`);
console.log(`migbench over the transfer      ${formatByteRate(transferMedian)}   runs: ${eng.map((x) => formatByteRate(x.transfer)).join(', ')}`);
console.log(`ratio total-time / copy         ${(totalMedian / baseMedian).toFixed(2)}   (goal: >= 0.5)`);
console.log(`ratio transfer / copy           ${(transferMedian / baseMedian).toFixed(2)}   (goal: >= 0.8)`);
