import { describe, expect, it } from 'vitest';
import {
  CACHED_PAGE_LIFETIME, PageCache, XBZRLE_FRAME_OVERHEAD_BYTES, XBZRLE_SEND_NORMAL, XBZRLE_SKIP,
} from '../src/codec/page-cache.ts';
import { decodeXbzrle } from '../src/codec/xbzrle.ts';
import { isXbzrleMemory } from '../src/codec/xbzrle-memory.ts';
import { Rng } from '../src/workload/rng.ts';

const PAGE = 4096;

function page(fill: number): Uint8Array {
  return new Uint8Array(PAGE).fill(fill);
}

describe('PageCache: construction', () => {
  it('has cache size / page size slots', () => {
    const cache = new PageCache(64 * 1024 * 1024, PAGE);
    expect(cache.slotCount).toBe(16384);
    expect(cache.stats()['cache-size']).toBe(64 * 1024 * 1024);
    expect(new PageCache(PAGE, PAGE).slotCount).toBe(1);
  });

  it.each([
    [3 * PAGE, PAGE, 'not a power of two'],
    [PAGE / 2, PAGE, 'smaller than a page'],
    [0, PAGE, 'zero'],
    [8 * PAGE, 3000, 'page size not a power of two'],
    [1.5, PAGE, 'not an integer'],
  ])('refuses cache %d with page %d (%s)', (cacheSize, pageSize) => {
    expect(() => new PageCache(cacheSize, pageSize)).toThrow(RangeError);
  });
});

describe('PageCache: slots, lookup and ageing (QEMU page_cache.c)', () => {
  it('maps address a to slot floor(a / page) mod slots', () => {
    const cache = new PageCache(8 * PAGE, PAGE);
    expect(cache.slotOf(0)).toBe(0);
    expect(cache.slotOf(3 * PAGE)).toBe(3);
    expect(cache.slotOf(8 * PAGE)).toBe(0);
    expect(cache.slotOf(13 * PAGE)).toBe(5);
    expect(cache.slotOf(2 ** 40 + 5 * PAGE)).toBe(5);
  });

  it('a miss, then an insert, then a hit with the exact bytes', () => {
    const cache = new PageCache(8 * PAGE, PAGE);
    expect(cache.lookup(3 * PAGE)).toBe(-1);
    const bytes = new Uint8Array(PAGE);
    new Rng(1).fill(bytes);
    expect(cache.insert(3 * PAGE, bytes, 1)).toBe(true);
    const slot = cache.lookup(3 * PAGE);
    expect(slot).toBe(3);
    expect(Buffer.compare(cache.slotBytes(slot), bytes)).toBe(0);
    expect(cache.slotBytes(slot)).toBe(cache.slotBytes(slot)); // one view per slot, reused
    expect(cache.addressOf(slot)).toBe(3 * PAGE);
    expect(cache.lookup(11 * PAGE)).toBe(-1); // same slot, other page
  });

  // QEMU: another page replaces an entry only when age + CACHED_PAGE_LIFETIME <= current generation.
  it.each([
    [5, 5, false],
    [5, 6, false],
    [5, 7, true],
    [5, 100, true],
    [0, 1, false],
    [0, 2, true],
  ])('entry aged %d, insert of another page at generation %d → %s', (age, generation, accepted) => {
    const cache = new PageCache(4 * PAGE, PAGE);
    expect(cache.insert(PAGE, page(1), age)).toBe(true);
    expect(cache.insert(5 * PAGE, page(2), generation)).toBe(accepted);
    expect(cache.peek(5 * PAGE) >= 0).toBe(accepted);
    expect(cache.peek(PAGE) >= 0).toBe(!accepted);
    const slot = cache.slotOf(PAGE);
    expect(cache.slotBytes(slot)[0]).toBe(accepted ? 2 : 1);
    expect(cache.ageOf(slot)).toBe(accepted ? generation : age);
    expect(age + CACHED_PAGE_LIFETIME > generation).toBe(!accepted);
  });

  it('the same page is always rewritten, whatever its age; an empty slot always takes a page', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    expect(cache.insert(2 * PAGE, page(1), 9)).toBe(true);
    expect(cache.insert(2 * PAGE, page(2), 9)).toBe(true);
    expect(cache.slotBytes(2)[0]).toBe(2);
    expect(cache.insert(3 * PAGE, page(3), 0)).toBe(true);
  });

  it('a hit refreshes the age (lookup), a peek does not', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    cache.insert(0, page(1), 1);
    cache.setGeneration(3);
    expect(cache.peek(0)).toBe(0);
    expect(cache.ageOf(0)).toBe(1);
    expect(cache.lookup(0)).toBe(0);
    expect(cache.ageOf(0)).toBe(3);
    expect(cache.insert(4 * PAGE, page(2), 4)).toBe(false); // 3 + 2 > 4: still fresh
    expect(cache.insert(4 * PAGE, page(2), 5)).toBe(true); // 3 + 2 <= 5: evicted
    expect(cache.lookup(0)).toBe(-1);
    expect(cache.lookup(4 * PAGE)).toBe(0);
  });

  it('insert defaults to the current generation and refuses a wrong-sized page', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    cache.setGeneration(7);
    expect(cache.currentGeneration).toBe(7);
    cache.insert(0, page(1));
    expect(cache.ageOf(0)).toBe(7);
    expect(() => cache.insert(0, new Uint8Array(100))).toThrow(RangeError);
  });
});

describe('PageCache.encodePage: QEMU save_xbzrle_page, with its accounting', () => {
  it('miss → insert and send normally; hit unchanged → skip; hit changed → delta; overflow → normal', () => {
    const cache = new PageCache(16 * PAGE, PAGE);
    const encoded = new Uint8Array(PAGE);
    const addr = 5 * PAGE;
    const v1 = new Uint8Array(PAGE);
    new Rng(3).fill(v1);
    cache.setGeneration(2);

    // miss
    expect(cache.encodePage(addr, v1, encoded)).toBe(XBZRLE_SEND_NORMAL);
    expect(cache.cacheMiss).toBe(1);
    expect(cache.pages).toBe(0);
    expect(Buffer.compare(cache.slotBytes(cache.peek(addr)), v1)).toBe(0);

    // hit, unchanged
    expect(cache.encodePage(addr, Uint8Array.from(v1), encoded)).toBe(XBZRLE_SKIP);
    expect(cache.pages).toBe(1);
    expect(cache.bytes).toBe(0);

    // hit, a few bytes changed
    const v2 = Uint8Array.from(v1);
    v2[10] ^= 0xff;
    v2[2000] ^= 0x01;
    const destination = Uint8Array.from(v1);
    const length = cache.encodePage(addr, v2, encoded);
    expect(length).toBeGreaterThan(0);
    expect(cache.pages).toBe(2);
    expect(cache.bytes).toBe(length + XBZRLE_FRAME_OVERHEAD_BYTES);
    expect(decodeXbzrle(encoded.subarray(0, length), destination)).toBe(2001);
    expect(Buffer.compare(destination, v2)).toBe(0);
    expect(Buffer.compare(cache.slotBytes(cache.peek(addr)), v2)).toBe(0); // the cache holds what was sent

    // hit, too many changes
    const v3 = new Uint8Array(PAGE);
    new Rng(4).fill(v3);
    expect(cache.encodePage(addr, v3, encoded)).toBe(XBZRLE_SEND_NORMAL);
    expect(cache.overflow).toBe(1);
    expect(cache.pages).toBe(3);
    expect(cache.bytes).toBe(length + XBZRLE_FRAME_OVERHEAD_BYTES + PAGE);
    expect(Buffer.compare(cache.slotBytes(cache.peek(addr)), v3)).toBe(0);
    expect(cache.cacheMiss).toBe(1);
  });

  it('the last stage neither inserts on a miss nor updates on a hit', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    const encoded = new Uint8Array(PAGE);
    expect(cache.encodePage(0, page(1), encoded, true)).toBe(XBZRLE_SEND_NORMAL);
    expect(cache.peek(0)).toBe(-1);
    expect(cache.cacheMiss).toBe(1);
    cache.insert(0, page(1), 0);
    const changed = page(1);
    changed[5] = 9;
    expect(cache.encodePage(0, changed, encoded, true)).toBe(3);
    expect(cache.slotBytes(0)[5]).toBe(1);
  });

  it('a miss whose insert the ageing rule refuses leaves the fresh entry in place', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    cache.setGeneration(10);
    cache.insert(0, page(1));
    expect(cache.encodePage(4 * PAGE, page(2), new Uint8Array(PAGE))).toBe(XBZRLE_SEND_NORMAL);
    expect(cache.peek(0)).toBe(0);
    expect(cache.peek(4 * PAGE)).toBe(-1);
    expect(cache.cacheMiss).toBe(1);
  });

  it('an output buffer larger than a page still overflows at a page (QEMU passes dlen = page size)', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    cache.insert(0, new Uint8Array(PAGE), 0);
    const alternate = new Uint8Array(PAGE);
    for (let i = 0; i < PAGE; i += 2) alternate[i] = 1;
    expect(cache.encodePage(0, alternate, new Uint8Array(4 * PAGE))).toBe(XBZRLE_SEND_NORMAL);
    expect(cache.overflow).toBe(1);
  });

  it('cacheZeroPage replaces a stale copy with zeros, subject to the ageing rule for other pages', () => {
    const cache = new PageCache(4 * PAGE, PAGE);
    cache.setGeneration(1);
    cache.insert(PAGE, page(9));
    cache.cacheZeroPage(PAGE);
    expect(cache.slotBytes(1).every((b) => b === 0)).toBe(true);
    cache.insert(2 * PAGE, page(9));
    cache.cacheZeroPage(6 * PAGE); // same slot, fresh entry: refused
    expect(cache.peek(2 * PAGE)).toBe(2);
    cache.setGeneration(3);
    cache.cacheZeroPage(6 * PAGE);
    expect(cache.peek(6 * PAGE)).toBe(2);
  });

  it('frame overhead is configurable', () => {
    const cache = new PageCache(4 * PAGE, PAGE, { frameOverheadBytes: 0 });
    cache.insert(0, page(0), 0);
    const changed = page(0);
    changed[0] = 1;
    expect(cache.encodePage(0, changed, new Uint8Array(PAGE))).toBe(3);
    expect(cache.bytes).toBe(3);
    expect(() => new PageCache(4 * PAGE, PAGE, { frameOverheadBytes: -1 })).toThrow(RangeError);
  });
});

describe('PageCache: rates (QEMU migration_update_rates)', () => {
  it('cache-miss-rate and encoding-rate per period', () => {
    const cache = new PageCache(16 * PAGE, PAGE);
    const encoded = new Uint8Array(PAGE);
    expect(cache.stats()).toEqual({
      'cache-size': 16 * PAGE, bytes: 0, pages: 0, 'cache-miss': 0, 'cache-miss-rate': 0, 'encoding-rate': 0, overflow: 0,
    });
    // period 1: 4 misses among 10 transferred pages, no hits
    for (let p = 0; p < 4; p++) cache.encodePage(p * PAGE, page(p), encoded);
    cache.updateRates(10);
    expect(cache.cacheMissRate).toBeCloseTo(0.4);
    expect(cache.encodingRate).toBe(0);
    // period 2: 2 hits with 1-byte changes (delta 3 bytes + 3 overhead each), 1 skip, 5 pages transferred
    for (let p = 0; p < 2; p++) {
      const changed = page(p);
      changed[100] = 0xee;
      expect(cache.encodePage(p * PAGE, changed, encoded)).toBe(3); // 64 01 ee
    }
    expect(cache.encodePage(2 * PAGE, page(2), encoded)).toBe(XBZRLE_SKIP);
    cache.updateRates(15);
    expect(cache.cacheMissRate).toBe(0);
    expect(cache.encodingRate).toBeCloseTo((3 * PAGE) / (2 * (3 + 3)));
    // period 3: nothing transferred → rates unchanged
    cache.updateRates(15);
    expect(cache.encodingRate).toBeCloseTo((3 * PAGE) / 12);
    // period 4: only skips → encoding-rate 0 (current QEMU)
    cache.encodePage(3 * PAGE, page(3), encoded);
    cache.updateRates(16);
    expect(cache.encodingRate).toBe(0);
    expect(cache.stats()).toMatchObject({ pages: 4, 'cache-miss': 4, bytes: 12, overflow: 0 });
  });
});

describe('PageCache: memory', () => {
  it('lives in a WebAssembly memory by default, with a scratch page beside the slots', () => {
    const cache = new PageCache(8 * PAGE, PAGE);
    expect(cache.inPlace).toBe(true);
    expect(isXbzrleMemory(cache.scratchPage)).toBe(true);
    expect(cache.scratchPage.buffer).toBe(cache.slotBytes(0).buffer);
    expect(cache.scratchPage.length).toBe(PAGE);
    expect(cache.encodedBuffer.buffer).toBe(cache.scratchPage.buffer);
    expect(cache.encodedBuffer.length).toBe(PAGE);
    const plain = new PageCache(8 * PAGE, PAGE, { inPlace: false });
    expect(plain.inPlace).toBe(false);
    expect(isXbzrleMemory(plain.scratchPage)).toBe(false);
    expect(plain.scratchPage.buffer).toBe(plain.slotBytes(0).buffer);
  });
});

describe('PageCache: the destination always equals what the sender sent (seeded simulation)', () => {
  it.each([
    ['in place by offset (scratchPage, encodedBuffer)', 'offsets'],
    ['in place through encodeXbzrle (scratchPage, delta elsewhere)', 'views'],
    ['JavaScript (a cache without WebAssembly)', 'js'],
  ])('over many rounds, with evictions, overflows and skips: %s', (_name, mode) => {
    const rng = new Rng(2024);
    const guestPages = 64;
    const cache = new PageCache(16 * PAGE, PAGE, { inPlace: mode !== 'js' }); // 16 slots, 64 pages: conflicts
    const guest = new Uint8Array(guestPages * PAGE);
    rng.fill(guest);
    const destination = Uint8Array.from(guest); // after the bulk round
    const copy = mode === 'js' ? new Uint8Array(PAGE) : cache.scratchPage;
    const encoded = mode === 'offsets' ? cache.encodedBuffer : new Uint8Array(PAGE);
    let delta = 0;
    let normal = 0;
    let skipped = 0;
    for (let generation = 2; generation < 60; generation++) {
      cache.setGeneration(generation);
      const dirty = new Set<number>();
      for (let w = 0; w < 40; w++) {
        const p = rng.nextInt(guestPages);
        dirty.add(p);
        const kind = rng.nextInt(10);
        const at = p * PAGE + rng.nextInt(PAGE - 8);
        if (kind < 7) guest[at] ^= 1 + rng.nextInt(255);
        else if (kind < 9) for (let b = 0; b < PAGE; b += 2) guest[p * PAGE + b] = rng.nextInt(256);
        // kind 9: a write of the same value (the page is dirty but unchanged)
      }
      for (const p of dirty) {
        copy.set(guest.subarray(p * PAGE, (p + 1) * PAGE)); // the private copy
        const result = cache.encodePage(p * PAGE, copy, encoded);
        const target = destination.subarray(p * PAGE, (p + 1) * PAGE);
        if (result > 0) {
          expect(decodeXbzrle(encoded.subarray(0, result), target)).toBeGreaterThan(0);
          delta++;
        } else if (result === XBZRLE_SEND_NORMAL) {
          target.set(copy);
          normal++;
        } else skipped++;
        expect(Buffer.compare(target, copy)).toBe(0);
        const slot = cache.peek(p * PAGE);
        if (slot >= 0) expect(Buffer.compare(cache.slotBytes(slot), target)).toBe(0);
      }
    }
    expect(Buffer.compare(destination, guest)).toBe(0);
    expect(delta).toBeGreaterThan(0);
    expect(normal).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(0);
    const stats = cache.stats();
    expect(stats.pages + stats['cache-miss']).toBe(delta + normal + skipped);
    expect(stats.overflow).toBeGreaterThan(0);
  });
});

describe('the cache memory is faulted in when the cache is made (the preparation), not during the rounds', () => {
  it('filling every slot of a fresh 32 MiB cache takes almost no page faults', () => {
    const ps = 4096;
    const cache = new PageCache(32 * 2 ** 20, ps);
    const page = new Uint8Array(ps).fill(7);
    const before = process.resourceUsage().minorPageFault;
    for (let slot = 0; slot < cache.slotCount; slot++) cache.insert(slot * ps, page);
    const faults = process.resourceUsage().minorPageFault - before;
    // before the fix every slot's first insert faulted its page in here: 8,192 faults at least
    expect(faults).toBeLessThan(cache.slotCount / 10);
  });
});
