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
 * The second is the fastest link migbench can emulate faithfully. Then the same guest with
 * `precopy.channels` = `--channels` (default 2; 1 skips it): the rate over the transfer alone.
 *
 *   npm run bench:headroom [-- --memory 1GiB --runs 5 --channels 2]
 */
import { parseArgs } from 'node:util';
import { resolveScenario } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { formatByteRate, parseSizeBytes } from '../src/units.ts';

const { values } = parseArgs({ options: { memory: { type: 'string', default: '1GiB' }, runs: { type: 'string', default: '5' }, channels: { type: 'string', default: '2' } } });
const memory = parseSizeBytes(values.memory);
const runs = Number(values.runs);
const channels = Number(values.channels);
if (memory === null || !(runs >= 1) || !(Number.isInteger(channels) && channels >= 1)) throw new Error('usage: --memory SIZE --runs N --channels N');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The baseline's buffers, faulted in once; one copy is timed right before each migration, so that on a
// shared machine both figures of a pair see the same load; each ratio is the median over the pairs.
const copySrc = new Uint8Array(new SharedArrayBuffer(memory));
const copyDst = new Uint8Array(new SharedArrayBuffer(memory));
for (let i = 0; i < copySrc.length; i += 4096) copySrc[i] = (i >>> 12) | 1; // fault in, non-zero
copyDst.set(copySrc); // fault in the destination

function copyOnce(): number {
  copyDst.set(copySrc); // untimed: memory idle during the last migration is faulted in again (GuestMemory.rewarm)
  const t = performance.now();
  copyDst.set(copySrc);
  return (memory! * 1000) / (performance.now() - t);
}

interface Pair {
  copy: number;
  total: number;
  transfer: number;
}

async function engine(channelCount: number): Promise<Pair[]> {
  const scenario = resolveScenario({
    name: 'headroom',
    guest: { memory: values.memory, vcpus: 1, fill: 'random', deviceState: 0 },
    workload: { pattern: 'idle' },
    link: { bandwidth: 'unlimited' },
    precopy: { channels: channelCount },
  });
  const rates: Pair[] = [];
  for (let r = -1; r < runs; r++) {
    const copy = r >= 0 ? copyOnce() : 0;
    const doc = await runScenario(scenario, { methods: ['precopy'] }); // run -1 is the warm-up (JIT, worker start-up)
    const precopy = doc.precopy!;
    if (precopy.verified !== true) throw new Error('verification failed');
    const s = precopy.stats;
    if (r >= 0) rates.push({ copy, total: (memory! * 1000) / s['total-time'], transfer: (memory! * 1000) / (s['total-time'] - s['setup-time']) });
  }
  return rates;
}

const eng = await engine(1);
const multi = channels > 1 ? await engine(channels) : null;
const rate = (pairs: Pair[], key: keyof Pair): string => `${formatByteRate(median(pairs.map((p) => p[key])))}   runs: ${pairs.map((p) => formatByteRate(p[key])).join(', ')}`;
/** the median over the pairs of (migration rate / the copy timed just before it) */
const ratio = (pairs: Pair[], key: 'total' | 'transfer'): string => median(pairs.map((p) => p[key] / p.copy)).toFixed(2);
console.log(`guest ${values.memory}, ${runs} runs each after a warm-up (medians; a copy timed before each migration, ratios per pair)`);
console.log(`TypedArray.set copy             ${rate(eng, 'copy')}`);
console.log(`migbench over total-time        ${rate(eng, 'total')}`);
console.log(`migbench over the transfer      ${rate(eng, 'transfer')}`);
console.log(`ratio total-time / copy         ${ratio(eng, 'total')}   (goal: >= 0.5)`);
console.log(`ratio transfer / copy           ${ratio(eng, 'transfer')}   (goal: >= 0.8)`);
if (multi) {
  console.log(`TypedArray.set copy             ${rate(multi, 'copy')}`);
  console.log(`${channels} channels over the transfer  ${rate(multi, 'transfer')}`);
  console.log(`ratio ${channels} channels transfer / copy ${ratio(multi, 'transfer')}`);
}
