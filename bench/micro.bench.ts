/**
 * Micro-benchmarks of the hot paths, each beside its plain reference or a native baseline measured in
 * the same run (speed is reported as a ratio; this machine is shared and noisy).
 *
 *   npm run bench
 */
import { Buffer } from 'node:buffer';
import { Bench } from 'tinybench';
import { isZeroRange, isZeroReference } from '../src/codec/zero-page.ts';
import { popcount32 } from '../src/memory/bitmap.ts';
import { markDirty, syncAndClear } from '../src/memory/dirty-bitmap.ts';
import { Rng } from '../src/workload/rng.ts';

const PAGE = 4096;
const GUEST_PAGES = 262_144; // 1 GiB of 4 KiB pages
const COPY_BYTES = 64 * 1024 * 1024;

// --- dirty sync over a 1 GiB guest's log, 1% of pages dirty ---
const log = new Int32Array(new SharedArrayBuffer(GUEST_PAGES / 8));
const migration = new Uint32Array(GUEST_PAGES / 32);
const rng = new Rng(1);
const dirtyPages = Array.from({ length: GUEST_PAGES / 100 }, () => rng.nextInt(GUEST_PAGES));
const redirty = (): void => {
  for (const p of dirtyPages) markDirty(log, p);
};
/** reference: exchange every word, no skip of clean words */
function syncReference(l: Int32Array, into: Uint32Array): number {
  let found = 0;
  for (let w = 0; w < l.length; w++) {
    const t = Atomics.exchange(l, w, 0) >>> 0;
    found += popcount32(t);
    into[w] |= t;
  }
  return found;
}

// --- page copy: guest memory to a ring-like private buffer ---
const src = new Uint8Array(new SharedArrayBuffer(COPY_BYTES));
const dst = new Uint8Array(new SharedArrayBuffer(8 * 1024 * 1024));
new Rng(2).fill(src);
dst.fill(1);

// --- zero check ---
const zeroPages = new Uint8Array(new SharedArrayBuffer(1024 * PAGE));
const randomPages = new Uint8Array(new SharedArrayBuffer(1024 * PAGE));
new Rng(3).fill(randomPages);
const zeroBuf = Buffer.alloc(PAGE);

const bench = new Bench({ time: 500, warmupTime: 100 });
bench
  .add('dirty sync 1 GiB log, 1% dirty (skip clean words)', () => {
    redirty();
    syncAndClear(log, migration);
  })
  .add('dirty sync 1 GiB log, 1% dirty (reference: exchange every word)', () => {
    redirty();
    syncReference(log, migration);
  })
  .add('page copy 64 MiB in 256 KiB runs (PageSender)', () => {
    for (let off = 0; off < COPY_BYTES; off += 256 * 1024) dst.set(src.subarray(off, off + 256 * 1024), off & (8 * 1024 * 1024 - 1));
  })
  .add('page copy 64 MiB page by page (4 KiB set)', () => {
    for (let off = 0; off < COPY_BYTES; off += PAGE) dst.set(src.subarray(off, off + PAGE), off & (8 * 1024 * 1024 - 1));
  })
  .add('zero check 4 MiB of zero pages (isZeroRange)', () => {
    for (let off = 0; off < zeroPages.length; off += PAGE) isZeroRange(zeroPages, off, PAGE);
  })
  .add('zero check 4 MiB of zero pages (Buffer#equals baseline)', () => {
    for (let off = 0; off < zeroPages.length; off += PAGE) zeroBuf.equals(zeroPages.subarray(off, off + PAGE));
  })
  .add('zero check 4 MiB of zero pages (reference byte loop)', () => {
    for (let off = 0; off < zeroPages.length; off += PAGE) isZeroReference(zeroPages, off, PAGE);
  })
  .add('zero check 4 MiB of random pages (isZeroRange)', () => {
    for (let off = 0; off < randomPages.length; off += PAGE) isZeroRange(randomPages, off, PAGE);
  });

await bench.run();

const mean = (name: string): number => {
  const t = bench.getTask(name)?.result;
  if (!t || !('latency' in t)) throw new Error(`no result for ${name}`);
  return (t as { latency: { p50: number } }).latency.p50; // median ms per call
};
const rows = [
  ['dirty sync (pages scanned/s)', 'dirty sync 1 GiB log, 1% dirty (skip clean words)', 'dirty sync 1 GiB log, 1% dirty (reference: exchange every word)', GUEST_PAGES, 'pages'],
  ['page copy (bytes/s)', 'page copy 64 MiB in 256 KiB runs (PageSender)', 'page copy 64 MiB page by page (4 KiB set)', COPY_BYTES, 'B'],
  ['zero check, zero pages', 'zero check 4 MiB of zero pages (isZeroRange)', 'zero check 4 MiB of zero pages (Buffer#equals baseline)', zeroPages.length, 'B'],
  ['zero check vs reference', 'zero check 4 MiB of zero pages (isZeroRange)', 'zero check 4 MiB of zero pages (reference byte loop)', zeroPages.length, 'B'],
  ['zero check, random pages', 'zero check 4 MiB of random pages (isZeroRange)', 'zero check 4 MiB of zero pages (Buffer#equals baseline)', randomPages.length, 'B'],
] as const;
const fmt = (perSec: number, unit: string): string => (unit === 'B' ? `${(perSec / 2 ** 30).toFixed(2)} GiB/s` : `${(perSec / 1e6).toFixed(1)} M${unit}/s`);
console.log('median of each task; ratio = fast path / baseline (higher is better)');
for (const [label, fast, base, amount, unit] of rows) {
  const f = mean(fast);
  const b = mean(base);
  console.log(`${label.padEnd(30)} ${fmt((amount * 1000) / f, unit).padStart(14)}  vs ${fmt((amount * 1000) / b, unit).padStart(14)}  ratio ${(b / f).toFixed(2)}`);
}
