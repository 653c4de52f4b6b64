/**
 * XBZRLE codec and zero-page check throughput, each beside native `Buffer#equals` (memcmp) over the same
 * pages, measured in the same run (this machine is shared and noisy: read the ratios).
 *
 *   npx tsx bench/codec.bench.ts                  both working sets below
 *   npx tsx bench/codec.bench.ts --pairs 8192     one working set of that many page pairs
 *   npx tsx bench/codec.bench.ts --clock wall     wall-clock time instead of this process's CPU time
 *   npx tsx bench/codec.bench.ts --no-compression the XBZRLE and zero-check tables only
 *
 * Clock: by default each sample is this process's CPU time (user + system, `process.cpuUsage`), not
 * the wall clock: on a shared machine a wall-clock sample also counts the time other processes held
 * the core, which swung the memcmp baseline of one run by 2x between cases. CPU time still moves with
 * what shares the core's caches and memory bus; read the ratios, measured in the same run, and repeat.
 *
 * Page pairs (old = what was last sent, new = the private copy now), 4 KiB pages:
 *   (a) no change; (b) 16 scattered 4-byte words changed per page; (c) half the bytes changed (each byte
 *   with probability 1/2: the delta overflows a page, so QEMU and migbench send such pages normally).
 * Working sets: 64 pairs (512 KiB, in L2) and 8192 pairs (64 MiB, beyond L3: a cache slot comes from
 * DRAM, as it does during a migration with QEMU's default 64 MiB cache).
 *
 * Baseline: `Buffer#equals` of each new page against an identical copy in another buffer, a full memcmp
 * of the page (comparing (b) or (c) pairs themselves would stop at the first difference). Each task walks
 * all the pairs, so the harness's per-iteration cost is spread over thousands of pages.
 *
 * Paths: "in place" = both pages in a WebAssembly memory from createXbzrleMemory, run by the SIMD
 * kernel, called through encodeXbzrle(old, new, dst) (which must find the memory from the arrays'
 * buffers, ~10 ns per `buffer` getter) or by byte offsets (xbzrleKernelFor: what PageCache.encodePage
 * does for its slots, scratch page and encoded buffer); "js" = pages in ordinary buffers; "reference" =
 * byte at a time. Decoding applies each pair's delta onto a copy of the old page: for (a) the delta is
 * empty (QEMU sends nothing), for (c) it was made with room for two pages (QEMU would send the page
 * normally). Throughput counts page bytes (4096 per page).
 *
 * Then generic compression (precopy.compression): zlib and zstd on one frame of text or random pages
 * (see runCompression).
 */
import { Buffer } from 'node:buffer';
import { Bench } from 'tinybench';
import { decodeXbzrle } from '../src/codec/xbzrle.ts';
import { encodeXbzrle } from '../src/codec/xbzrle-encode.ts';
import { createXbzrleMemory, xbzrleKernelFor } from '../src/codec/xbzrle-memory.ts';
import { isZeroRange } from '../src/codec/zero-page.ts';
import { zstdCompress, zstdDecompressExact, zstdReady } from '../src/codec/zstd.ts';
import { textCorpus, textPageInto } from '../src/workload/fill.ts';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Rng } from '../src/workload/rng.ts';
import { encodeXbzrleReference } from '../test/helpers/xbzrle-reference.ts';

const PAGE = 4096;
const CASES = ['a', 'b', 'c'] as const;
type Case = (typeof CASES)[number];
const CASE_LABEL: Record<Case, string> = {
  a: '(a) no change',
  b: '(b) 16 words changed',
  c: '(c) half the bytes changed',
};

/** The sample clock (ms): CPU time of this process by default, or the wall clock (`--clock wall`). */
const clockAt = process.argv.indexOf('--clock');
const clockKind = clockAt < 0 ? 'cpu' : process.argv[clockAt + 1];
function parseClock(): () => number {
  const kind = clockKind;
  if (kind === 'wall') return () => performance.now();
  if (kind !== 'cpu') throw new Error(`--clock: expected cpu or wall, got ${kind}`);
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
}
const clock = parseClock();

function parsePairs(): number[] {
  const at = process.argv.indexOf('--pairs');
  if (at < 0) return [64, 8192];
  const n = Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--pairs: expected a positive integer, got ${process.argv[at + 1]}`);
  return [n];
}

function makeCase(rng: Rng, kind: Case, old: Uint8Array, cur: Uint8Array, pairs: number): void {
  rng.fill(old);
  cur.set(old);
  for (let p = 0; p < pairs; p++) {
    const base = p * PAGE;
    if (kind === 'b') {
      for (let k = 0; k < 16; k++) {
        const at = base + rng.nextInt(PAGE / 4) * 4;
        for (let j = 0; j < 4; j++) cur[at + j] ^= 1 + rng.nextInt(255);
      }
    } else if (kind === 'c') {
      for (let j = 0; j < PAGE; j++) if ((rng.nextU32() & 1) === 1) cur[base + j] ^= 1 + rng.nextInt(255);
    }
  }
}

const pagesOf = (bytes: Uint8Array, pairs: number): Uint8Array[] =>
  Array.from({ length: pairs }, (_, p) => bytes.subarray(p * PAGE, (p + 1) * PAGE));
const buffersOf = (bytes: Uint8Array, pairs: number): Buffer[] =>
  Array.from({ length: pairs }, (_, p) => Buffer.from(bytes.buffer, bytes.byteOffset + p * PAGE, PAGE));

/**
 * The page-pair tasks are run interleaved, not one after another: a group's tasks (one case and its
 * memcmp baseline) take turns, one sample each per round (in a rotating order), so that each ratio
 * compares samples taken moments apart; the ratio printed is the median over rounds of baseline time ÷
 * task time. (tinybench runs each task for its whole time slot in turn: on a shared machine the load
 * moved between the slots.)
 */
class Interleaved {
  private readonly groups: { name: string; fn: () => void; before?: () => void }[][] = [];
  private readonly samples = new Map<string, number[]>();

  constructor(
    private readonly rounds: number,
    private readonly warmup: number,
    private readonly now: () => number,
  ) {}

  /** Start a group: the tasks added next take turns with each other only. */
  group(): void {
    this.groups.push([]);
  }

  add(name: string, fn: () => void, options?: { beforeAll?: () => void }): void {
    this.groups[this.groups.length - 1].push({ name, fn, before: options?.beforeAll });
  }

  run(): void {
    for (const tasks of this.groups) {
      for (const t of tasks) t.before?.();
      for (let r = 0; r < this.warmup + this.rounds; r++) {
        for (let i = 0; i < tasks.length; i++) {
          const t = tasks[(i + r) % tasks.length];
          const start = this.now();
          t.fn();
          const ms = this.now() - start;
          if (r < this.warmup) continue;
          let list = this.samples.get(t.name);
          if (list === undefined) this.samples.set(t.name, (list = []));
          list.push(ms);
        }
      }
    }
  }

  private of(name: string): number[] {
    const list = this.samples.get(name);
    if (list === undefined) throw new Error(`no result for ${name}`);
    return list;
  }

  /** Median sample (ms). */
  medianMs(name: string): number {
    return median(this.of(name));
  }

  /** Median over rounds of baseline time ÷ task time. */
  medianRatio(name: string, baseline: string): number {
    const t = this.of(name);
    const b = this.of(baseline);
    return median(t.map((ms, i) => b[i] / ms));
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Row {
  label: string;
  path: string;
  task: string;
  baseline: string;
}

async function runWorkingSet(pairs: number): Promise<void> {
  const rng = new Rng(20260101 + pairs);
  const bytes = pairs * PAGE;
  const bench = new Interleaved(25, 3, clock);
  // small working sets are walked several times per sample (at least 1 MiB of pages), so that a sample
  // is long against the CPU clock's microsecond steps
  const reps = Math.max(1, Math.ceil(256 / pairs));
  const rows: Row[] = [];
  let sink = 0;

  // ordinary buffers (the JavaScript path) per case, and one WebAssembly memory for the in-place path
  const arena = createXbzrleMemory(2 * bytes, PAGE);
  if (arena === null) console.log('note: no WebAssembly SIMD here; the in-place rows are skipped');
  const oldIn = arena?.subarray(0, bytes);
  const curIn = arena?.subarray(bytes, 2 * bytes);
  const dst = new Uint8Array(PAGE);

  for (const kind of CASES) {
    bench.group();
    // each case gets its own arrays (the in-place pages are loaded before its tasks run)
    const o = new Uint8Array(bytes);
    const c = new Uint8Array(bytes);
    makeCase(rng, kind, o, c, pairs);
    const k = Uint8Array.from(c); // the baseline's identical copy
    const oldPages = pagesOf(o, pairs);
    const curPages = pagesOf(c, pairs);
    const curBuffers = buffersOf(c, pairs);
    const copyBuffers = buffersOf(k, pairs);
    const deltas = oldPages.map((page, p) => {
      const out = new Uint8Array(2 * PAGE + 8);
      const n = encodeXbzrle(page, curPages[p], out);
      return out.slice(0, Math.max(0, n));
    });
    const target = Uint8Array.from(o);
    const targetPages = pagesOf(target, pairs);
    const label = CASE_LABEL[kind];
    const baseline = `${label} | memcmp`;
    bench.add(baseline, () => {
      for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += curBuffers[p].equals(copyBuffers[p]) ? 1 : 0;
    });
    const encJs = `${label} | encode js`;
    bench.add(encJs, () => {
      for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += encodeXbzrle(oldPages[p], curPages[p], dst);
    });
    rows.push({ label, path: 'encode, js', task: encJs, baseline });
    if (arena !== null && oldIn !== undefined && curIn !== undefined) {
      // the in-place pages are shared by the cases: set them just before each case's task runs
      const oldInPages = pagesOf(oldIn, pairs);
      const curInPages = pagesOf(curIn, pairs);
      const encIn = `${label} | encode in place`;
      bench.add(
        encIn,
        () => {
          for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += encodeXbzrle(oldInPages[p], curInPages[p], dst);
        },
        {
          beforeAll: () => {
            oldIn.set(o);
            curIn.set(c);
          },
        },
      );
      rows.push({ label, path: 'encode, in place, arrays', task: encIn, baseline });
      const kernel = xbzrleKernelFor(arena);
      if (kernel !== null) {
        const oldBase = oldIn.byteOffset;
        const curBase = curIn.byteOffset;
        const out = arena.byteOffset + 2 * bytes; // the reserved output area past the pages
        const encOff = `${label} | encode in place by offsets`;
        bench.add(
          encOff,
          () => {
            for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += kernel(oldBase + p * PAGE, curBase + p * PAGE, PAGE, out, PAGE);
          },
          {
            beforeAll: () => {
              oldIn.set(o);
              curIn.set(c);
            },
          },
        );
        rows.push({ label, path: 'encode, in place, offsets', task: encOff, baseline });
      }
    }
    const encRef = `${label} | encode reference`;
    bench.add(encRef, () => {
      for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += encodeXbzrleReference(oldPages[p], curPages[p], dst);
    });
    rows.push({ label, path: 'encode, reference (bytewise)', task: encRef, baseline });
    const dec = `${label} | decode`;
    bench.add(
      dec,
      () => {
        for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += decodeXbzrle(deltas[p], targetPages[p]);
      },
      { beforeAll: () => target.set(o) },
    );
    rows.push({ label, path: kind === 'a' ? 'decode, js (empty delta)' : kind === 'c' ? 'decode, js (delta > page)' : 'decode, js', task: dec, baseline });
  }

  // zero-page checks: zero pages and random pages, against a full memcmp of the same pages
  // written, so that every page has memory of its own (untouched pages all map the kernel's zero page)
  const zero = new Uint8Array(bytes).fill(1).fill(0);
  const zeroCopy = new Uint8Array(bytes).fill(1).fill(0);
  const random = new Uint8Array(bytes);
  rng.fill(random);
  const randomCopy = Uint8Array.from(random);
  for (const [label, pages, copies] of [
    ['zero pages', zero, zeroCopy],
    ['non-zero pages', random, randomCopy],
  ] as const) {
    bench.group();
    const a = buffersOf(pages, pairs);
    const b = buffersOf(copies, pairs);
    const baseline = `${label} | memcmp`;
    bench.add(baseline, () => {
      for (let r = 0; r < reps; r++) for (let p = 0; p < pairs; p++) sink += a[p].equals(b[p]) ? 1 : 0;
    });
    const task = `${label} | isZeroRange`;
    bench.add(task, () => {
      for (let r = 0; r < reps; r++) for (let off = 0; off < bytes; off += PAGE) sink += isZeroRange(pages, off, PAGE) ? 1 : 0;
    });
    rows.push({ label, path: 'zero check (isZeroRange)', task, baseline });
  }

  bench.run();

  const gbps = (ms: number): number => (reps * bytes) / (ms * 1e6);
  const mib = (2 * bytes) / 1048576;
  console.log(`\n${pairs} page pairs (${mib >= 1 ? `${mib} MiB` : `${mib * 1024} KiB`} of pages), 4 KiB pages; median of each task; ratio: median over rounds`);
  console.log(`${'case'.padEnd(28)} ${'path'.padEnd(30)} ${'GB/s'.padStart(7)} ${'memcmp GB/s'.padStart(12)} ${'ratio'.padStart(6)}`);
  for (const row of rows) {
    const t = gbps(bench.medianMs(row.task));
    const b = gbps(bench.medianMs(row.baseline));
    const ratio = bench.medianRatio(row.task, row.baseline);
    console.log(`${row.label.padEnd(28)} ${row.path.padEnd(30)} ${t.toFixed(2).padStart(7)} ${b.toFixed(2).padStart(12)} ${ratio.toFixed(2).padStart(6)}`);
  }
  if (sink === 0.5) console.log(''); // keep the results alive
}

/**
 * Generic compression of a frame's normal pages (precopy.compression), as the page sender does it: one
 * frame of 64 pages (256 KiB) at a time. Text pages are cut from the guest fill's 64 KiB corpus at
 * seeded offsets (so a frame repeats corpus text: a codec with a window above 64 KiB, zstd, finds the
 * repeats across pages, zlib's 32 KiB window does not); random pages do not compress. Reported: the
 * compression ratio (page bytes ÷ compressed bytes), compress and decompress throughput in GB/s of page
 * bytes, and each throughput as a ratio to zlib level 1's over the same frame, measured in the same run.
 */
async function runCompression(): Promise<void> {
  await zstdReady();
  const pages = 64;
  const bytes = pages * PAGE;
  const corpus = textCorpus(1);
  const rng = new Rng(424242);
  const text = new Uint8Array(bytes);
  for (let p = 0; p < pages; p++) textPageInto(corpus, rng.nextInt(corpus.length), text, p * PAGE, PAGE);
  const random = new Uint8Array(bytes);
  rng.fill(random);
  const codecs: { name: string; compress: (b: Uint8Array) => Uint8Array; decompress: (z: Uint8Array) => Uint8Array }[] = [
    { name: 'zlib level 1', compress: (b) => deflateRawSync(b, { level: 1 }), decompress: (z) => inflateRawSync(z) },
    { name: 'zlib level 6', compress: (b) => deflateRawSync(b, { level: 6 }), decompress: (z) => inflateRawSync(z) },
    { name: 'zstd level 1', compress: (b) => zstdCompress(b, 1), decompress: (z) => zstdDecompressExact(z, bytes)! },
    { name: 'zstd level 3', compress: (b) => zstdCompress(b, 3), decompress: (z) => zstdDecompressExact(z, bytes)! },
  ];
  const bench = new Bench({ time: 300, warmupTime: 50, now: clock });
  let sink = 0;
  const sizes = new Map<string, number>();
  for (const [label, data] of [['text pages', text], ['random pages', random]] as const) {
    for (const c of codecs) {
      const z = c.compress(data);
      if (!Buffer.from(c.decompress(z)).equals(Buffer.from(data))) throw new Error(`${c.name}: round trip failed`);
      sizes.set(`${label} | ${c.name}`, z.length);
      bench.add(`${label} | ${c.name} | compress`, () => {
        sink += c.compress(data).length;
      });
      bench.add(`${label} | ${c.name} | decompress`, () => {
        sink += c.decompress(z).length;
      });
    }
  }
  await bench.run();
  const gbps = (name: string): number => {
    const p50 = (bench.getTask(name)?.result as { latency?: { p50?: number } } | undefined)?.latency?.p50;
    if (p50 === undefined) throw new Error(`no result for ${name}`);
    return bytes / (p50 * 1e6);
  };
  console.log(`\ncompression of one frame of ${pages} pages (${bytes / 1024} KiB); median of each task; "vs zlib 1" = throughput ÷ zlib level 1's`);
  console.log(`${'data'.padEnd(14)} ${'codec'.padEnd(14)} ${'ratio'.padStart(7)} ${'comp GB/s'.padStart(10)} ${'vs zlib 1'.padStart(10)} ${'decomp GB/s'.padStart(12)} ${'vs zlib 1'.padStart(10)}`);
  for (const label of ['text pages', 'random pages']) {
    const zc = gbps(`${label} | zlib level 1 | compress`);
    const zd = gbps(`${label} | zlib level 1 | decompress`);
    for (const c of codecs) {
      const comp = gbps(`${label} | ${c.name} | compress`);
      const dec = gbps(`${label} | ${c.name} | decompress`);
      const ratio = bytes / sizes.get(`${label} | ${c.name}`)!;
      console.log(
        `${label.padEnd(14)} ${c.name.padEnd(14)} ${ratio.toFixed(2).padStart(7)} ${comp.toFixed(3).padStart(10)} ${(comp / zc).toFixed(2).padStart(10)} ${dec.toFixed(3).padStart(12)} ${(dec / zd).toFixed(2).padStart(10)}`,
      );
    }
  }
  if (sink === 0.5) console.log('');
}

console.log(
  `node ${process.version}, ${process.arch}; ${clockKind === 'wall' ? 'wall-clock' : 'CPU'} time; ratio = throughput / memcmp throughput over the same pages (higher is better)`,
);
for (const pairs of parsePairs()) await runWorkingSet(pairs);
if (!process.argv.includes('--no-compression')) await runCompression();
