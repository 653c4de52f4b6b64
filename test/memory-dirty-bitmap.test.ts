import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { countSetBits, wordsFor } from '../src/memory/bitmap.ts';
import { clearLog, createDirtyLog, markDirty, syncAndClear } from '../src/memory/dirty-bitmap.ts';
import { Rng } from '../src/workload/rng.ts';
import { getBit, setBit } from './helpers/bitmap-oracle.ts';

function bitsOf(words: Uint32Array | Int32Array, limit: number): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < limit; i++) if (((words[i >>> 5] >>> (i & 31)) & 1) === 1) out.add(i);
  return out;
}

describe('createDirtyLog', () => {
  it.each([
    [1, 4],
    [32, 4],
    [33, 8],
    [262144, 32768],
  ])('%d pages -> %d bytes, all clear', (pages, bytes) => {
    const log = createDirtyLog(pages);
    expect(log).toBeInstanceOf(SharedArrayBuffer);
    expect(log.byteLength).toBe(bytes);
    expect(new Int32Array(log).every((w) => w === 0)).toBe(true);
  });
});

describe('markDirty / syncAndClear / clearLog against a Set oracle', () => {
  it.each([
    [1, 1],
    [31, 2],
    [32, 3],
    [33, 4],
    [100, 5],
    [1000, 6],
    [4097, 7],
    [65536, 8],
  ])('%d pages, seed %d', (totalPages, seed) => {
    const rng = new Rng(seed);
    const log = new Int32Array(createDirtyLog(totalPages));
    const migration = new Uint32Array(wordsFor(totalPages));
    const pendingOracle = new Set<number>(); // the log's content
    const migrationOracle = new Set<number>(); // the migration bitmap's content
    for (let op = 0; op < 600; op++) {
      const r = rng.nextInt(100);
      if (r < 80) {
        // a burst of marks, some repeated, some on bit 31 of a word
        const n = 1 + rng.nextInt(20);
        for (let k = 0; k < n; k++) {
          const page = rng.nextInt(4) === 0 ? Math.min(totalPages - 1, (rng.nextInt(wordsFor(totalPages)) << 5) | 31) : rng.nextInt(totalPages);
          markDirty(log, page);
          pendingOracle.add(page);
        }
      } else if (r < 95) {
        const count = syncAndClear(log, migration);
        expect(count).toBe(pendingOracle.size);
        for (const p of pendingOracle) migrationOracle.add(p);
        pendingOracle.clear();
        expect(bitsOf(migration, totalPages)).toEqual(migrationOracle);
        expect(log.every((w) => w === 0)).toBe(true);
        // the migration thread sends (clears) some of its pages; that never touches the log
        for (const p of [...migrationOracle]) {
          if (rng.nextInt(2) === 0) {
            migration[p >>> 5] = (migration[p >>> 5] & ~(1 << (p & 31))) >>> 0;
            migrationOracle.delete(p);
          }
        }
      } else if (r < 98) {
        clearLog(log);
        pendingOracle.clear();
        expect(log.every((w) => w === 0)).toBe(true);
      } else {
        // a second sync in a row takes nothing
        syncAndClear(log, migration);
        for (const p of pendingOracle) migrationOracle.add(p);
        pendingOracle.clear();
        expect(syncAndClear(log, migration)).toBe(0);
        expect(bitsOf(migration, totalPages)).toEqual(migrationOracle);
      }
    }
    // padding bits are never set by marks of valid pages
    expect(countSetBits(migration)).toBe(migrationOracle.size);
  });

  it('counts bits taken from the log even when the migration bitmap already has them (OR, not copy)', () => {
    const log = new Int32Array(createDirtyLog(96));
    const migration = new Uint32Array([0xffffffff, 0x0000ffff, 0]);
    for (const p of [0, 5, 31, 32, 47, 48, 63, 95]) markDirty(log, p);
    expect(syncAndClear(log, migration)).toBe(8);
    expect(Array.from(migration)).toEqual([0xffffffff, 0x8001ffff, 0x80000000]);
    expect(Array.from(log)).toEqual([0, 0, 0]);
  });

  it('marks the sign bit of a word (page 31, 63) and takes it back as uint32', () => {
    const log = new Int32Array(createDirtyLog(64));
    markDirty(log, 31);
    markDirty(log, 63);
    expect(log[0]).toBe(-2147483648);
    const migration = new Uint32Array(2);
    expect(syncAndClear(log, migration)).toBe(2);
    expect(Array.from(migration)).toEqual([0x80000000, 0x80000000]);
  });

  it('marking the same page twice before a sync counts once', () => {
    const log = new Int32Array(createDirtyLog(10));
    markDirty(log, 7);
    markDirty(log, 7);
    const migration = new Uint32Array(1);
    expect(syncAndClear(log, migration)).toBe(1);
    expect(syncAndClear(log, migration)).toBe(0);
    expect(migration[0]).toBe(1 << 7);
  });
});

describe('syncAndClear against concurrent markers (worker_threads)', () => {
  const WORKERS = 3;
  const TOTAL_PAGES = 1 << 16;

  it('takes every marked page at least once, nothing else, and never loses a mark published before a sync', async () => {
    const rng = new Rng(2024);
    // Every page goes to one worker (disjoint sets) or is left alone; a shared hot set is marked by
    // every worker (overlap) in its own order.
    const own: number[][] = Array.from({ length: WORKERS }, () => []);
    const shared: number[] = [];
    for (let p = 0; p < TOTAL_PAGES; p++) {
      const r = rng.nextInt(10);
      if (r < 6) own[r % WORKERS].push(p);
      else if (r === 6) shared.push(p);
      // r >= 7: never marked
    }
    const lists = own.map((mine) => {
      const list = mine.concat(shared);
      for (let i = list.length - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        [list[i], list[j]] = [list[j], list[i]];
      }
      return list;
    });
    const marked = new Set<number>(lists.flat());

    const logBuffer = createDirtyLog(TOTAL_PAGES);
    const log = new Int32Array(logBuffer);
    const controlBuffer = new SharedArrayBuffer(4 * (2 + WORKERS));
    const control = new Int32Array(controlBuffer);
    const passes = 3;
    const syncsDone = new Int32Array(new SharedArrayBuffer(4)); // each worker waits mid-list for a sync
    const workers = lists.map((list, index) => {
      const pages = new SharedArrayBuffer(4 * list.length);
      new Int32Array(pages).set(list);
      return new Worker(new URL('./helpers/marker-worker.mjs', import.meta.url), {
        workerData: { log: logBuffer, control: controlBuffer, pages, index, passes, syncs: syncsDone.buffer },
      });
    });
    const exited = workers.map(
      (w) =>
        new Promise<number>((resolve, reject) => {
          w.once('error', reject);
          w.once('exit', resolve);
        }),
    );
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));

    const union = new Uint32Array(wordsFor(TOTAL_PAGES));
    const scratch = new Uint32Array(wordsFor(TOTAL_PAGES));
    const covered = new Array<number>(WORKERS).fill(0); // prefix of each list known to be in `union`
    let syncs = 0;
    let takenTotal = 0;
    let syncsThatTookSomething = 0;
    const violations: string[] = [];

    const syncOnce = (): void => {
      // progress read BEFORE the sync: every page marked by then must be taken by now
      const progress = Array.from({ length: WORKERS }, (_, i) => Atomics.load(control, 2 + i));
      scratch.fill(0);
      const n = syncAndClear(log, scratch);
      syncs++;
      if (n !== countSetBits(scratch)) violations.push(`sync ${syncs}: returned ${n}, took ${countSetBits(scratch)} bits`);
      if (n > 0) syncsThatTookSomething++;
      takenTotal += n;
      for (let w = 0; w < scratch.length; w++) {
        const x = scratch[w];
        if (x === 0) continue;
        union[w] = (union[w] | x) >>> 0;
        for (let b = 0; b < 32; b++) {
          if (((x >>> b) & 1) === 1 && !marked.has((w << 5) | b)) violations.push(`took page ${(w << 5) | b}, never marked`);
        }
      }
      for (let i = 0; i < WORKERS; i++) {
        const upTo = Math.min(progress[i], lists[i].length);
        for (; covered[i] < upTo; covered[i]++) {
          const page = lists[i][covered[i]];
          if (!getBit(union, page)) violations.push(`worker ${i} page ${page} marked before sync ${syncs} but not taken`);
        }
      }
      Atomics.add(syncsDone, 0, 1);
      Atomics.notify(syncsDone, 0);
    };

    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    const guard = Date.now() + 30_000; // a hang guard, not a speed assertion
    while (Atomics.load(control, 1) < WORKERS && Date.now() < guard && violations.length === 0) syncOnce();
    Atomics.add(syncsDone, 0, 1 << 20); // release a worker still waiting (only if the loop gave up early)
    Atomics.notify(syncsDone, 0);
    expect(Atomics.load(control, 1)).toBe(WORKERS);
    syncOnce(); // the final sync, after every worker has finished
    expect(violations).toEqual([]);
    expect(await Promise.all(exited)).toEqual(new Array(WORKERS).fill(0));

    // the union of everything taken is exactly the union of everything marked
    expect(countSetBits(union)).toBe(marked.size);
    for (const p of marked) if (!getBit(union, p)) throw new Error(`page ${p} was marked but never taken`);
    // nothing is left behind, and nothing was counted that was never there
    expect(log.every((w) => w === 0)).toBe(true);
    expect(syncAndClear(log, scratch)).toBe(0);
    const markOps = lists.reduce((sum, l) => sum + l.length, 0) * passes;
    expect(takenTotal).toBeGreaterThanOrEqual(marked.size);
    expect(takenTotal).toBeLessThanOrEqual(markOps);
    // at least one sync ran while every worker was mid-list (the workers wait for it), and the final one
    expect(syncs).toBeGreaterThan(2);
    expect(syncsThatTookSomething).toBeGreaterThanOrEqual(1);
  });

  it('a private bitmap that accumulates across syncs ends equal to the union of the marks', async () => {
    const rng = new Rng(77);
    const totalPages = 5000; // not a multiple of 32
    const lists: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const list: number[] = [];
      for (let k = 0; k < 20000; k++) list.push(rng.nextInt(totalPages)); // overlapping, repeated
      lists.push(list);
    }
    const logBuffer = createDirtyLog(totalPages);
    const log = new Int32Array(logBuffer);
    const controlBuffer = new SharedArrayBuffer(4 * (2 + lists.length));
    const control = new Int32Array(controlBuffer);
    const workers = lists.map((list, index) => {
      const pages = new SharedArrayBuffer(4 * list.length);
      new Int32Array(pages).set(list);
      return new Worker(new URL('./helpers/marker-worker.mjs', import.meta.url), {
        workerData: { log: logBuffer, control: controlBuffer, pages, index, passes: 1 },
      });
    });
    const exited = workers.map((w) => new Promise<number>((resolve, reject) => (w.once('error', reject), w.once('exit', resolve))));
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
    const migration = new Uint32Array(wordsFor(totalPages));
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    const guard = Date.now() + 30_000;
    while (Atomics.load(control, 1) < lists.length && Date.now() < guard) syncAndClear(log, migration);
    syncAndClear(log, migration);
    expect(await Promise.all(exited)).toEqual([0, 0]);
    const expected = new Uint32Array(wordsFor(totalPages));
    for (const p of lists.flat()) setBit(expected, p);
    expect(Array.from(migration)).toEqual(Array.from(expected));
  });
  it('hammering a few words: no mark is ever lost, even while the same pages are re-marked', async () => {
    // 3 workers mark random pages of an 8-word log as fast as they can, so marks land on the words the
    // main thread is exchanging at that moment. For each mark k of worker i (page q) the main thread
    // knows, from progress words read before and after every sync:
    //   T0 = the last sync that ended with progress_i <= k - 1  (mark k had not started yet)
    //   S  = the first sync that began with progress_i >= k + 1 (mark k was done)
    // so some sync in (T0, S] must have taken q; otherwise the mark was lost.
    const totalPages = 256;
    const marksPerWorker = 150_000;
    const rng = new Rng(99);
    const lists = Array.from({ length: WORKERS }, () => {
      const list = new Int32Array(new SharedArrayBuffer(4 * marksPerWorker));
      for (let k = 0; k < marksPerWorker; k++) list[k] = rng.nextInt(totalPages);
      return list;
    });
    const logBuffer = createDirtyLog(totalPages);
    const log = new Int32Array(logBuffer);
    const controlBuffer = new SharedArrayBuffer(4 * (2 + WORKERS));
    const control = new Int32Array(controlBuffer);
    const syncsDone = new Int32Array(new SharedArrayBuffer(4)); // each worker waits mid-list for a sync
    const workers = lists.map(
      (list, index) =>
        new Worker(new URL('./helpers/marker-worker.mjs', import.meta.url), {
          workerData: { log: logBuffer, control: controlBuffer, pages: list.buffer, index, passes: 1, syncs: syncsDone.buffer },
        }),
    );
    const exited = workers.map((w) => new Promise<number>((resolve, reject) => (w.once('error', reject), w.once('exit', resolve))));
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));

    const before: number[][] = Array.from({ length: WORKERS }, () => []); // progress read before each sync
    const after: number[][] = Array.from({ length: WORKERS }, () => []); // and after it
    const takenBy: number[][] = Array.from({ length: totalPages }, () => []); // sync indices that took each page
    const scratch = new Uint32Array(wordsFor(totalPages));
    let syncs = 0;
    const syncOnce = (): void => {
      for (let i = 0; i < WORKERS; i++) before[i].push(Atomics.load(control, 2 + i));
      scratch.fill(0);
      syncAndClear(log, scratch);
      for (let i = 0; i < WORKERS; i++) after[i].push(Atomics.load(control, 2 + i));
      for (let w = 0; w < scratch.length; w++) {
        const x = scratch[w];
        if (x === 0) continue;
        for (let b = 0; b < 32; b++) if (((x >>> b) & 1) === 1) takenBy[(w << 5) | b].push(syncs);
      }
      syncs++;
      Atomics.add(syncsDone, 0, 1);
      Atomics.notify(syncsDone, 0);
    };
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    const guard = Date.now() + 30_000; // a hang guard, not a speed assertion
    while (Atomics.load(control, 1) < WORKERS && Date.now() < guard) syncOnce();
    expect(Atomics.load(control, 1)).toBe(WORKERS);
    syncOnce(); // final sync: every worker is done, so S exists for every mark
    expect(await Promise.all(exited)).toEqual(new Array(WORKERS).fill(0));

    // first index in a sorted array with value >= x
    const lowerBound = (a: number[], x: number): number => {
      let lo = 0;
      let hi = a.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const lost: string[] = [];
    for (let i = 0; i < WORKERS; i++) {
      for (let k = 0; k < marksPerWorker; k++) {
        const q = lists[i][k];
        const s = lowerBound(before[i], k + 1); // first sync that began with progress >= k + 1
        const t0 = lowerBound(after[i], k) - 1; // last sync that ended with progress <= k - 1
        const takes = takenBy[q];
        const j = lowerBound(takes, t0 + 1);
        if (!(j < takes.length && takes[j] <= s)) {
          lost.push(`worker ${i} mark ${k} (page ${q}): not taken by any sync in (${t0}, ${s}]`);
          if (lost.length >= 5) break;
        }
      }
    }
    expect(lost).toEqual([]);
    expect(syncs).toBeGreaterThan(2); // one ran while every worker was mid-list (they wait for it), and the final one
    // nothing taken that was never marked, and the log ends empty
    const marked = new Set<number>(lists.flatMap((l) => Array.from(l)));
    for (let q = 0; q < totalPages; q++) if (!marked.has(q)) expect(takenBy[q]).toEqual([]);
    expect(log.every((w) => w === 0)).toBe(true);
  });
});
