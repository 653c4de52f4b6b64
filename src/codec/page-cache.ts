/**
 * The XBZRLE page cache, as QEMU's `migration/page_cache.c`, and the sender's XBZRLE step with QEMU's
 * `xbzrle-cache` accounting, as `save_xbzrle_page` / `xbzrle_cache_zero_page` / `migration_update_rates`
 * in `migration/ram.c` do it.
 *
 * The cache
 * - holds `cacheSizeBytes / pageSizeBytes` slots (a power of two; QEMU requires the cache size to be a
 *   power of two and at least one page); it is direct-mapped: page address `a` goes to slot
 *   `floor(a / pageSize) mod slots`, and a slot holds one page (its address, its bytes, its age);
 * - ages entries by dirty-sync generation (QEMU passes `dirty_sync_count`): a hit (`lookup`) stamps the
 *   entry with the current generation; `insert` into a slot that holds another page replaces it only if
 *   that page is stale, `age + 2 <= generation` (QEMU's `CACHED_PAGE_LIFETIME` 2: an entry used in this
 *   sync or the one before is kept and the insert refused); an empty slot, or the same address, is
 *   always written;
 * - keeps exactly the bytes that were sent: `encodePage` updates the slot with the page it encoded
 *   (except for an unchanged page, and in the last stage), and a miss inserts the page about to be sent
 *   normally. The caller passes its private copy of the page (DESIGN §4), never live guest memory.
 * - lives in one ArrayBuffer allocated up front (slot bytes, addresses, ages, and one scratch page);
 *   slot views are made on first use and reused, so nothing is allocated per page. That buffer is a
 *   WebAssembly memory made by `createXbzrleMemory` when the runtime has WebAssembly SIMD (`inPlace`):
 *   a page copied into `scratchPage` is then encoded against its slot in place by the SIMD kernel,
 *   several times faster than the JavaScript encoder that any other page array gets (same bytes).
 *
 * Statistics, in QEMU's `query-migrate` `xbzrle-cache` names (`stats()`):
 * - `cache-size`: the cache size in bytes (QEMU reports its `xbzrle-cache-size` parameter).
 * - `pages`: pages that hit the cache and went through the encoder, whatever came of it (sent as a
 *   delta, skipped as unchanged, or overflowed and sent normally). QEMU counts them the same way, so
 *   that `encoding-rate` covers skipped pages too.
 * - `bytes`: bytes that XBZRLE put on the wire, not counting the page header: for each page sent as a
 *   delta, its length + 3 (QEMU's 1-byte ENCODING_FLAG_XBZRLE and be16 length; the integrator may set
 *   another framing overhead with `frameOverheadBytes`); plus one page size for each overflow (QEMU
 *   adds TARGET_PAGE_SIZE there, so an overflowed page counts 1:1 in the encoding rate). QEMU also
 *   counts the RAM block name (1 + its length) when a page is the first of a block in the stream;
 *   migbench's frames carry no block names.
 * - `cache-miss`: pages looked up and not found (in every stage, the last one included).
 * - `overflow`: pages whose delta would not fit in a page (sent normally).
 * - `cache-miss-rate`: over the last rate period, cache misses / target pages transferred (QEMU's
 *   `target_page_count`: pages sent as zero, normal or XBZRLE pages; an XBZRLE-skipped page counts
 *   0). Set by `updateRates`; 0 until then.
 * - `encoding-rate`: over the last rate period, (pages × page size) / bytes, both as defined above; 0
 *   when no page was encoded in the period or the period's bytes are 0 (every hit was unchanged), as in
 *   current QEMU (5.1 reported UINT64_MAX for the latter). Set by `updateRates`.
 * QEMU recomputes the two rates in `migration_bitmap_sync` when at least a second has passed since the
 * last period (and leaves them as they were when no page was transferred in it); call `updateRates` at
 * the same points, with the cumulative count of pages transferred.
 *
 * How QEMU's sender uses it (what the integrator reproduces):
 * - XBZRLE starts after the first full pass over RAM (`xbzrle_started`): no lookups, inserts or zero-page
 *   updates in the bulk round;
 * - after each dirty sync, `setGeneration(dirty-sync-count)`;
 * - a zero page, once XBZRLE has started, is sent as a zero page and `cacheZeroPage(address)` records it
 *   (so a stale cached copy is replaced and a later small write goes out as a delta);
 * - any other page: `encodePage(address, privateCopy, encodedBuffer, lastStage)`; > 0 → send an XBZRLE
 *   frame of that many bytes from `encodedBuffer`; 0 → send nothing (the page has not changed since it
 *   was last sent); -1 → send the page normally (a miss, or an overflow). For speed, make the private
 *   copy in `scratchPage` and pass `encodedBuffer` for the delta (copy, zero-check, then
 *   `encodePage(address, cache.scratchPage, cache.encodedBuffer)`): the kernel then runs on them by
 *   offset, with no lookups; take the bytes out (frame and send them) before the next page.
 *
 * Pure: imports nothing from the rest of migbench except the XBZRLE codec.
 */
import { encodeXbzrleInto } from './xbzrle-encode.ts';
import { createXbzrleMemory, xbzrleKernelFor, type XbzrleKernel } from './xbzrle-memory.ts';

/** QEMU's CACHED_PAGE_LIFETIME: a cached page is not replaced by another for this many dirty syncs. */
export const CACHED_PAGE_LIFETIME = 2;
/** QEMU's per-page XBZRLE framing beyond the page header: ENCODING_FLAG_XBZRLE (1) + be16 length (2). */
export const XBZRLE_FRAME_OVERHEAD_BYTES = 3;
/** `encodePage` result: send the page normally (cache miss, or the delta overflowed). */
export const XBZRLE_SEND_NORMAL = -1;
/** `encodePage` result: the page equals what was last sent; send nothing. */
export const XBZRLE_SKIP = 0;

/** QEMU's `query-migrate` `xbzrle-cache` block. */
export interface XbzrleCacheStats {
  /** bytes */
  'cache-size': number;
  /** bytes */
  bytes: number;
  pages: number;
  'cache-miss': number;
  /** misses per transferred page, last rate period */
  'cache-miss-rate': number;
  /** unencoded bytes per encoded byte, last rate period */
  'encoding-rate': number;
  overflow: number;
}

export interface PageCacheOptions {
  /** Bytes counted in `bytes` per page sent as a delta, beyond the delta itself. Default 3 (QEMU). */
  frameOverheadBytes?: number;
  /** Keep the cache in a WebAssembly memory so pages in `scratchPage` encode in place. Default true. */
  inPlace?: boolean;
}

const EMPTY = -1;

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * QEMU's rate period (`migration_update_rates`, XBZRLE part) over cumulative counters: `cache-miss-rate`
 * and `encoding-rate` of the period since the last update. A cache book keeps one; so does the sum of
 * the channels' caches when every channel has its own.
 */
export class XbzrleRatePeriod {
  missRate = 0;
  encodingRate = 0;
  private transferredPrev = 0;
  private missPrev = 0;
  private pagesPrev = 0;
  private bytesPrev = 0;

  /** Close a period at these cumulative counts (transferred: target pages sent as zero, normal or XBZRLE). */
  update(transferredPages: number, cacheMiss: number, pages: number, bytes: number, pageSizeBytes: number): void {
    const pageCount = transferredPages - this.transferredPrev;
    this.transferredPrev = transferredPages;
    if (pageCount <= 0) return; // QEMU leaves the rates and the XBZRLE period marks as they are
    this.missRate = (cacheMiss - this.missPrev) / pageCount;
    this.missPrev = cacheMiss;
    const dPages = pages - this.pagesPrev;
    const dBytes = bytes - this.bytesPrev;
    this.encodingRate = dPages === 0 || dBytes === 0 ? 0 : (dPages * pageSizeBytes) / dBytes;
    this.pagesPrev = pages;
    this.bytesPrev = bytes;
  }
}

/**
 * The cache's bookkeeping without page bytes: slots (address and age per slot), the ageing rule, and
 * QEMU's counters and rates. `PageCache` adds the bytes and the encoder; simulate mode (sim/) uses the
 * book alone, with a modelled delta length, so both count `xbzrle-cache` the same way.
 */
export class XbzrleCacheBook {
  readonly cacheSizeBytes: number;
  readonly pageSizeBytes: number;
  /** Number of slots (pages) the cache holds: a power of two. */
  readonly slotCount: number;
  readonly frameOverheadBytes: number;
  /** Page address per slot, -1 when empty. */
  protected readonly addresses: Float64Array;
  /** Generation in which each slot was last inserted or hit. */
  protected readonly ages: Float64Array;
  private generation = 0;

  // Cumulative counters (QEMU's xbzrle_counters).
  private pagesCount = 0;
  private bytesCount = 0;
  private missCount = 0;
  private overflowCount = 0;
  // Rate period state (QEMU's RAMState *_prev fields).
  private readonly period = new XbzrleRatePeriod();

  /**
   * @param cacheSizeBytes a power of two, at least one page (QEMU's rule for `xbzrle-cache-size`)
   * @param pageSizeBytes a power of two
   * @param slots where the addresses and ages live (PageCache keeps them beside the bytes); default: own arrays
   * @throws RangeError on sizes that break those rules (option validation reports them to users first)
   */
  constructor(cacheSizeBytes: number, pageSizeBytes: number, frameOverheadBytes: number = XBZRLE_FRAME_OVERHEAD_BYTES, slots?: { addresses: Float64Array; ages: Float64Array }) {
    checkCacheSizes(cacheSizeBytes, pageSizeBytes);
    if (!(Number.isInteger(frameOverheadBytes) && frameOverheadBytes >= 0)) throw new RangeError(`page cache: frameOverheadBytes must be a non-negative integer, got ${String(frameOverheadBytes)}`);
    this.cacheSizeBytes = cacheSizeBytes;
    this.pageSizeBytes = pageSizeBytes;
    this.slotCount = cacheSizeBytes / pageSizeBytes;
    this.frameOverheadBytes = frameOverheadBytes;
    this.addresses = (slots?.addresses ?? new Float64Array(this.slotCount)).fill(EMPTY);
    this.ages = slots?.ages ?? new Float64Array(this.slotCount);
  }

  /** The current dirty-sync generation (QEMU: `dirty_sync_count`). */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Set the generation after a dirty sync (QEMU passes `dirty_sync_count` to every cache call). */
  setGeneration(generation: number): void {
    this.generation = generation;
  }

  /** The slot page address `pageAddress` maps to. */
  slotOf(pageAddress: number): number {
    return Math.floor(pageAddress / this.pageSizeBytes) % this.slotCount;
  }

  /**
   * Look a page up (QEMU's `cache_is_cached`). A hit stamps the entry with the current generation.
   * @returns the slot holding `pageAddress`, or -1.
   */
  lookup(pageAddress: number): number {
    const slot = this.slotOf(pageAddress);
    if (this.addresses[slot] !== pageAddress) return -1;
    this.ages[slot] = this.generation;
    return slot;
  }

  /** As `lookup`, without touching the entry's age. */
  peek(pageAddress: number): number {
    const slot = this.slotOf(pageAddress);
    return this.addresses[slot] === pageAddress ? slot : -1;
  }

  /** The page address a slot holds, or -1 when empty. */
  addressOf(slot: number): number {
    return this.addresses[slot];
  }

  /** The generation a slot was last inserted or hit in. */
  ageOf(slot: number): number {
    return this.ages[slot];
  }

  /**
   * Give `pageAddress` its slot, stamped with `generation`, under QEMU's ageing rule (`cache_insert`
   * without the bytes). @returns the slot, or -1 when it holds another page that is still fresh
   * (`age + 2 > generation`): refused, the cache is unchanged.
   */
  claim(pageAddress: number, generation: number = this.generation): number {
    const slot = this.slotOf(pageAddress);
    const held = this.addresses[slot];
    if (held !== EMPTY && held !== pageAddress && this.ages[slot] + CACHED_PAGE_LIFETIME > generation) return -1;
    this.addresses[slot] = pageAddress;
    this.ages[slot] = generation;
    return slot;
  }

  /** Count a lookup that missed (`cache-miss`). */
  countMiss(): void {
    this.missCount++;
  }

  /**
   * Count a page that hit and went through the encoder: `length` > 0 a delta of that many bytes, 0
   * unchanged (nothing sent), -1 an overflow (sent normally; counts a page size, as QEMU does).
   */
  countEncoded(length: number): void {
    this.pagesCount++;
    if (length < 0) {
      this.overflowCount++;
      this.bytesCount += this.pageSizeBytes;
    } else if (length > 0) this.bytesCount += length + this.frameOverheadBytes;
  }

  /**
   * Close a rate period (QEMU's `migration_update_rates`, XBZRLE part).
   * @param transferredPages cumulative target pages transferred so far (zero + normal + XBZRLE pages).
   */
  updateRates(transferredPages: number): void {
    this.period.update(transferredPages, this.missCount, this.pagesCount, this.bytesCount, this.pageSizeBytes);
  }

  get pages(): number {
    return this.pagesCount;
  }
  get bytes(): number {
    return this.bytesCount;
  }
  get cacheMiss(): number {
    return this.missCount;
  }
  get overflow(): number {
    return this.overflowCount;
  }
  get cacheMissRate(): number {
    return this.period.missRate;
  }
  get encodingRate(): number {
    return this.period.encodingRate;
  }

  /** The statistics in QEMU's `xbzrle-cache` names. */
  stats(): XbzrleCacheStats {
    return {
      'cache-size': this.cacheSizeBytes,
      bytes: this.bytesCount,
      pages: this.pagesCount,
      'cache-miss': this.missCount,
      'cache-miss-rate': this.period.missRate,
      'encoding-rate': this.period.encodingRate,
      overflow: this.overflowCount,
    };
  }
}

function checkCacheSizes(cacheSizeBytes: number, pageSizeBytes: number): void {
  if (!isPowerOfTwo(pageSizeBytes)) throw new RangeError(`page cache: page size must be a power of two, got ${String(pageSizeBytes)}`);
  if (!isPowerOfTwo(cacheSizeBytes) || cacheSizeBytes < pageSizeBytes) {
    throw new RangeError(`page cache: cache size must be a power of two of at least one page (${pageSizeBytes} B), got ${String(cacheSizeBytes)}`);
  }
}

export class PageCache extends XbzrleCacheBook {
  /** True when the cache lives in a WebAssembly memory and `scratchPage` encodes in place. */
  readonly inPlace: boolean;
  /**
   * One page of scratch in the cache's memory, for the sender's private copy of the page being sent:
   * `encodePage(address, scratchPage, encodedBuffer)` then runs in place (see `inPlace`).
   */
  readonly scratchPage: Uint8Array;
  /** One page in the cache's memory for the delta `encodePage` writes (pass it as `encoded`). */
  readonly encodedBuffer: Uint8Array;

  /** The one allocation: slot bytes, addresses (f64), ages (f64), scratch page. */
  private readonly storage: Uint8Array;
  private readonly data: Uint8Array;
  private readonly views: (Uint8Array | undefined)[];
  private readonly zeroPage: Uint8Array;
  private readonly kernel: XbzrleKernel | null;
  private readonly dataOffset: number;
  private readonly scratchOffset: number;
  private readonly encodedOffset: number;

  /**
   * @param cacheSizeBytes a power of two, at least one page (QEMU's rule for `xbzrle-cache-size`)
   * @param pageSizeBytes a power of two
   * @throws RangeError on sizes that break those rules (option validation reports them to users first)
   */
  constructor(cacheSizeBytes: number, pageSizeBytes: number, options: PageCacheOptions = {}) {
    checkCacheSizes(cacheSizeBytes, pageSizeBytes);
    const slotCount = cacheSizeBytes / pageSizeBytes;
    const metadataOffset = cacheSizeBytes;
    const scratchOffset = metadataOffset + slotCount * 16;
    const encodedOffset = scratchOffset + pageSizeBytes;
    const total = encodedOffset + pageSizeBytes;
    const wasmBytes = options.inPlace === false ? null : createXbzrleMemory(total, pageSizeBytes);
    const storage = wasmBytes ?? new Uint8Array(total);
    const base = storage.byteOffset;
    super(cacheSizeBytes, pageSizeBytes, options.frameOverheadBytes ?? XBZRLE_FRAME_OVERHEAD_BYTES, {
      addresses: new Float64Array(storage.buffer, base + metadataOffset, slotCount),
      ages: new Float64Array(storage.buffer, base + metadataOffset + slotCount * 8, slotCount),
    });
    this.inPlace = wasmBytes !== null;
    this.storage = storage;
    this.kernel = wasmBytes === null ? null : xbzrleKernelFor(wasmBytes);
    this.data = this.storage.subarray(0, cacheSizeBytes);
    this.scratchPage = this.storage.subarray(scratchOffset, scratchOffset + pageSizeBytes);
    this.encodedBuffer = this.storage.subarray(encodedOffset, encodedOffset + pageSizeBytes);
    this.dataOffset = base;
    this.scratchOffset = base + scratchOffset;
    this.encodedOffset = base + encodedOffset;
    this.views = new Array<Uint8Array | undefined>(this.slotCount);
    this.zeroPage = new Uint8Array(pageSizeBytes);
    // First touch now, when the cache is made (the migration's preparation, before its clock), not at
    // each slot's first insert during the rounds: on a host that faults fresh memory in slowly (80 MB/s
    // measured here) a 256 MiB cache cost 0.7 s of a 3 s migration. The bytes stay zero.
    for (let i = 0; i < cacheSizeBytes; i += 4096) this.data[i] = 0;
  }

  /** The bytes of a slot (a view into the cache, made once per slot). */
  slotBytes(slot: number): Uint8Array {
    let view = this.views[slot];
    if (view === undefined) {
      if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slotCount)) throw new RangeError(`page cache: no slot ${String(slot)}`);
      view = this.data.subarray(slot * this.pageSizeBytes, (slot + 1) * this.pageSizeBytes);
      this.views[slot] = view;
    }
    return view;
  }

  /**
   * Store `bytes` (one page) as the cached copy of `pageAddress`, stamped with `generation` (QEMU's
   * `cache_insert`).
   * @returns false when the slot holds another page that is still fresh (`age + 2 > generation`): the
   *   insert is refused and the cache is unchanged.
   */
  insert(pageAddress: number, bytes: Uint8Array, generation: number = this.currentGeneration): boolean {
    if (bytes.length !== this.pageSizeBytes) {
      throw new RangeError(`page cache: a page is ${this.pageSizeBytes} bytes, got ${bytes.length}`);
    }
    const slot = this.claim(pageAddress, generation);
    if (slot < 0) return false;
    this.data.set(bytes, slot * this.pageSizeBytes);
    return true;
  }

  /**
   * The XBZRLE step for one page, with accounting (QEMU's `save_xbzrle_page`). `current` is the sender's
   * private copy of the page; `encoded` receives the delta (at most one page is used: QEMU's limit).
   * - miss: counts `cache-miss`; outside the last stage, inserts `current` (if the ageing rule allows);
   *   returns -1: send `current` normally.
   * - hit: counts `pages`; encodes; outside the last stage, updates the slot to `current` unless
   *   unchanged; returns the delta's length (counts `bytes` += length + frame overhead), 0 for an
   *   unchanged page (send nothing), or -1 on overflow (counts `overflow`, `bytes` += page size; send
   *   `current` normally).
   */
  encodePage(pageAddress: number, current: Uint8Array, encoded: Uint8Array, lastStage = false): number {
    const pageSize = this.pageSizeBytes;
    if (current.length !== pageSize) throw new RangeError(`page cache: a page is ${pageSize} bytes, got ${current.length}`);
    const slot = this.lookup(pageAddress);
    if (slot < 0) {
      this.countMiss();
      if (!lastStage) this.insert(pageAddress, current, this.currentGeneration);
      return XBZRLE_SEND_NORMAL;
    }
    const cached = this.slotBytes(slot);
    const kernel = this.kernel;
    const length =
      kernel !== null && current === this.scratchPage && encoded === this.encodedBuffer
        ? kernel(this.dataOffset + slot * pageSize, this.scratchOffset, pageSize, this.encodedOffset, pageSize)
        : encodeXbzrleInto(cached, current, encoded, pageSize < encoded.length ? pageSize : encoded.length);
    // The cache keeps what is sent: the delta decodes to `current`, and an overflowed page goes out whole.
    if (!lastStage && length !== 0) cached.set(current);
    this.countEncoded(length < 0 ? -1 : length);
    if (length === 0) return XBZRLE_SKIP;
    if (length < 0) return XBZRLE_SEND_NORMAL;
    return length;
  }

  /**
   * Record that `pageAddress` was sent as a zero page (QEMU's `xbzrle_cache_zero_page`): insert a page of
   * zeros, subject to the ageing rule (a refusal is ignored, as in QEMU).
   */
  cacheZeroPage(pageAddress: number): void {
    this.insert(pageAddress, this.zeroPage, this.currentGeneration);
  }
}
