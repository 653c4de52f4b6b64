/**
 * Guest memory: RAM blocks, each one SharedArrayBuffer holding a contiguous range of pages.
 *
 * A guest of M bytes is split into blocks of at most `MAX_BLOCK_BYTES` (1 GiB), so guests above the
 * 4 GiB SharedArrayBuffer limit work. Pages are numbered globally across blocks; block b holds pages
 * [b * pagesPerBlock, min((b + 1) * pagesPerBlock, totalPages)).
 *
 * Ownership: on the source side the vCPU workers write pages (and then set dirty bits); the migration
 * thread only reads. On the destination side only the destination worker writes.
 */
export const MAX_BLOCK_BYTES = 1 << 30;
/** How often (in bytes) `touch` and `fillGuest` report their progress, when asked to. */
export const PROGRESS_BYTES = 16 << 20;

export interface GuestLayout {
  readonly memoryBytes: number;
  readonly pageSizeBytes: number;
  readonly totalPages: number;
  readonly pagesPerBlock: number;
  /** byte length of each RAM block */
  readonly blockBytes: readonly number[];
}

export function guestLayout(memoryBytes: number, pageSizeBytes: number): GuestLayout {
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0) throw new RangeError(`memoryBytes must be a positive integer, got ${memoryBytes}`);
  if (!Number.isInteger(pageSizeBytes) || pageSizeBytes <= 0 || (pageSizeBytes & (pageSizeBytes - 1)) !== 0) {
    throw new RangeError(`pageSizeBytes must be a power of two, got ${pageSizeBytes}`);
  }
  if (memoryBytes % pageSizeBytes !== 0) throw new RangeError(`memoryBytes ${memoryBytes} is not a multiple of the page size ${pageSizeBytes}`);
  const totalPages = memoryBytes / pageSizeBytes;
  const pagesPerBlock = Math.max(1, Math.floor(MAX_BLOCK_BYTES / pageSizeBytes));
  const blockBytes: number[] = [];
  for (let first = 0; first < totalPages; first += pagesPerBlock) {
    blockBytes.push(Math.min(pagesPerBlock, totalPages - first) * pageSizeBytes);
  }
  return Object.freeze({ memoryBytes, pageSizeBytes, totalPages, pagesPerBlock, blockBytes: Object.freeze(blockBytes) });
}

/** The shareable part (what crosses to workers in workerData). */
export interface GuestMemoryShared {
  readonly layout: GuestLayout;
  readonly blocks: readonly SharedArrayBuffer[];
}

export class GuestMemory {
  readonly layout: GuestLayout;
  #blocks: readonly SharedArrayBuffer[];
  #views: readonly Uint8Array[];

  constructor(layout: GuestLayout, blocks?: readonly SharedArrayBuffer[]) {
    this.layout = layout;
    this.#blocks = blocks ?? layout.blockBytes.map((n) => new SharedArrayBuffer(n));
    if (this.#blocks.length !== layout.blockBytes.length || this.#blocks.some((b, i) => b.byteLength !== layout.blockBytes[i])) {
      throw new RangeError('RAM blocks do not match the layout');
    }
    this.#views = this.#blocks.map((b) => new Uint8Array(b));
  }

  /** The RAM blocks (throws once released). */
  get blocks(): readonly SharedArrayBuffer[] {
    if (this.#blocks.length === 0) throw new Error('guest memory was released');
    return this.#blocks;
  }

  /** One byte view per block, created once (throws once released). */
  get views(): readonly Uint8Array[] {
    if (this.#views.length === 0) throw new Error('guest memory was released');
    return this.#views;
  }

  /**
   * Drop this object's references to the RAM blocks, so that the memory can be freed once no worker
   * holds it (see reclaim.ts). Any later use throws.
   */
  release(): void {
    this.#blocks = [];
    this.#views = [];
  }

  get released(): boolean {
    return this.#blocks.length === 0;
  }

  static attach(shared: GuestMemoryShared): GuestMemory {
    return new GuestMemory(shared.layout, shared.blocks);
  }

  shared(): GuestMemoryShared {
    return { layout: this.layout, blocks: this.blocks };
  }

  get pageSizeBytes(): number {
    return this.layout.pageSizeBytes;
  }
  get totalPages(): number {
    return this.layout.totalPages;
  }

  blockOf(page: number): number {
    return Math.floor(page / this.layout.pagesPerBlock);
  }

  /** Byte offset of `page` inside its block. */
  offsetOf(page: number): number {
    return (page % this.layout.pagesPerBlock) * this.layout.pageSizeBytes;
  }

  /** A fresh view of one page (allocates: not for hot paths). */
  page(page: number): Uint8Array {
    const b = this.blockOf(page);
    const off = this.offsetOf(page);
    return this.views[b].subarray(off, off + this.layout.pageSizeBytes);
  }

  /**
   * Fault every OS page in, so first-touch costs are paid before any clock starts.
   * Writes one zero byte per 4 KiB; memory already written keeps its content only if it was zero there,
   * so call this on fresh memory only.
   */
  touch(onProgress?: (doneBytes: number) => void): void {
    let done = 0;
    for (const v of this.views) {
      for (let start = 0; start < v.length; start += PROGRESS_BYTES) {
        const end = Math.min(v.length, start + PROGRESS_BYTES);
        for (let i = start; i < end; i += 4096) v[i] = 0;
        done += end - start;
        onProgress?.(done);
      }
    }
  }

  /**
   * Fault every OS page in again right before a clock starts, keeping the content: memory that sat idle
   * since `touch` (while the source was filled and the workers started) may have been taken back by the
   * machine (measured here: a destination touched, then idle for the source's fill, took 17 s for one
   * write per page, the same as a first touch). Each 4 KiB gets its own byte written back (`write`: a
   * memory only this thread and idle workers use, e.g. a destination before its first frame) or read.
   * Returns a value of the bytes read so no engine can drop the reads.
   */
  rewarm(write: boolean): number {
    let sink = 0;
    for (const v of this.views) {
      if (write) for (let i = 0; i < v.length; i += 4096) v[i] = v[i];
      else for (let i = 0; i < v.length; i += 4096) sink ^= v[i];
    }
    return sink;
  }
}
