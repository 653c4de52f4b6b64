/**
 * Quick-migration downtime against guest size at a fixed storage bandwidth, with a least-squares line
 * (seconds per GiB) set against the model `2 × memory ÷ storage bandwidth` (DESIGN §6: write it all,
 * read it all back). Random fill: no zero pages to skip.
 *
 *   npx tsx bench/quick-downtime.ts [--storage 200MiB/s] [--sizes 256MiB,512MiB,1GiB] [--format stream]
 */
import { parseArgs } from 'node:util';
import { resolveScenario } from '../src/options.ts';
import { runScenario } from '../src/run.ts';
import { formatByteRate, formatDurationMs, parseRateBytesPerSec, parseSizeBytes } from '../src/units.ts';

const { values } = parseArgs({
  options: {
    storage: { type: 'string', default: '200MiB/s' },
    sizes: { type: 'string', default: '256MiB,512MiB,1GiB' },
    format: { type: 'string', default: 'stream' },
  },
});
const rate = parseRateBytesPerSec(values.storage)!;
const sizes = values.sizes.split(',').map((s) => parseSizeBytes(s)!);
const GiB = 2 ** 30;

const points: { gib: number; downtimeS: number }[] = [];
for (const memory of sizes) {
  const doc = await runScenario(
    resolveScenario({
      name: 'quick-downtime',
      guest: { memory, fill: 'random', vcpus: 2 },
      workload: { pattern: 'uniform', dirtyRate: '20000/s' },
      quick: { storageBandwidth: values.storage, format: values.format as 'stream' },
    }),
    { methods: ['quick'] },
  );
  const q = doc.quick!;
  if (q.verified !== true) throw new Error(`not verified: ${q.error}`);
  points.push({ gib: memory / GiB, downtimeS: q.stats.downtime! / 1000 });
  const ph = q.phases;
  console.log(
    `${(memory / GiB).toFixed(2)} GiB  downtime ${formatDurationMs(q.stats.downtime!).padStart(8)}  ` +
      `(save ${formatDurationMs(ph.saveMs)}, fsync ${formatDurationMs(ph.fsyncMs)}, restore ${formatDurationMs(ph.restoreMs)})  ` +
      `model ${formatDurationMs(((2 * memory) / rate) * 1000)}`,
  );
}
const n = points.length;
const mx = points.reduce((a, p) => a + p.gib, 0) / n;
const my = points.reduce((a, p) => a + p.downtimeS, 0) / n;
const slope = points.reduce((a, p) => a + (p.gib - mx) * (p.downtimeS - my), 0) / points.reduce((a, p) => a + (p.gib - mx) ** 2, 0);
const intercept = my - slope * mx;
const model = (2 * GiB) / rate;
console.log(`storage ${formatByteRate(rate)}, ${values.format} images`);
console.log(`fit: downtime = ${slope.toFixed(3)} s/GiB × memory + ${intercept.toFixed(3)} s`);
console.log(`model 2 × memory ÷ bandwidth = ${model.toFixed(3)} s/GiB; fit ÷ model = ${(slope / model).toFixed(3)}`);
