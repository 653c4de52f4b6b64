/**
 * Module management for the in-place XBZRLE encoder: the WebAssembly SIMD kernel (xbzrle-kernel.ts) is
 * compiled once, on first use; every memory made by `createXbzrleMemory` gets its own instance, found
 * again by the memory's buffer. Without WebAssembly SIMD no such memory is made and everything runs in
 * JavaScript (xbzrle-encode.ts).
 *
 * Pure: imports nothing from the rest of migbench except the kernel.
 */
import { assembleXbzrleKernel } from './xbzrle-kernel.ts';

// The few WebAssembly JS API members used here (the project's type libraries do not declare them).
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let kernelModule: WasmModule | null | undefined;

/** The compiled kernel module, or null when this runtime has no WebAssembly (SIMD). */
function xbzrleKernelModule(): WasmModule | null {
  if (kernelModule === undefined) {
    kernelModule = null;
    if (wasmApi !== undefined) {
      try {
        kernelModule = new wasmApi.Module(assembleXbzrleKernel());
      } catch {
        kernelModule = null;
      }
    }
  }
  return kernelModule;
}

/** The in-place encoder by byte offsets into its memory (see `xbzrleKernelFor`). */
export type XbzrleKernel = (oldOffset: number, newOffset: number, pageBytes: number, dstOffset: number, dlen: number) => number;

/** A memory's kernel instance, with the room it keeps for deltas bound elsewhere. */
export interface Kernel {
  readonly encode: XbzrleKernel;
  readonly bytes: Uint8Array; // the whole memory
  readonly outputOffset: number; // a reserved area for deltas bound for arrays outside the memory
  readonly outputBytes: number;
}

const kernelsByBuffer = new WeakMap<ArrayBufferLike, Kernel>();

const WASM_PAGE = 65536;
/** Room reserved after the caller's bytes for deltas that go to arrays outside the memory. */
const DEFAULT_OUTPUT_BYTES = 65536;

/**
 * Make `byteLength` bytes of memory in which XBZRLE encodes in place with the WebAssembly SIMD kernel:
 * `encodeXbzrle(old, cur, dst)` takes that path when `old` and `cur` are both views of the returned
 * array's buffer (any alignment), whether `dst` is in it or not (a delta of up to `outputBytes` is then
 * written in a reserved area past `byteLength` and copied out).
 * @returns a zero-filled Uint8Array of `byteLength` bytes over the start of a new WebAssembly memory, or
 *   null when WebAssembly SIMD is missing or the memory cannot be had (use an ordinary buffer then).
 */
export function createXbzrleMemory(byteLength: number, outputBytes: number = DEFAULT_OUTPUT_BYTES): Uint8Array | null {
  if (!(Number.isSafeInteger(byteLength) && byteLength >= 0 && Number.isSafeInteger(outputBytes) && outputBytes >= 0)) {
    throw new RangeError(`createXbzrleMemory: sizes must be non-negative integers, got ${String(byteLength)} and ${String(outputBytes)}`);
  }
  const module = xbzrleKernelModule();
  if (module === null || wasmApi === undefined) return null;
  const outputOffset = Math.ceil(byteLength / 16) * 16;
  const pages = Math.ceil((outputOffset + outputBytes) / WASM_PAGE);
  if (pages > 65536) return null; // beyond 4 GiB
  let memory: WasmMemory;
  try {
    memory = new wasmApi.Memory({ initial: pages, maximum: pages });
  } catch {
    return null;
  }
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const buffer = memory.buffer;
  kernelsByBuffer.set(buffer, {
    encode: instance.exports.encode as XbzrleKernel,
    bytes: new Uint8Array(buffer),
    outputOffset,
    outputBytes,
  });
  return new Uint8Array(buffer, 0, byteLength);
}

/** True when `bytes` is a view of a memory made by `createXbzrleMemory` (pages there encode in place). */
export function isXbzrleMemory(bytes: Uint8Array): boolean {
  return kernelsByBuffer.has(bytes.buffer);
}

/**
 * The in-place encoder, by byte offsets: `kernel(oldOffset, newOffset, pageBytes, dstOffset, dlen)`
 * encodes the page at `newOffset` against the page at `oldOffset` into `dstOffset`, all offsets into
 * the buffer of `bytes` (a view of a memory made by `createXbzrleMemory`), with the results of
 * `encodeXbzrleInto`. No checks: the caller keeps every range inside the memory and dlen >= 0. It saves
 * the typed-array getters (~10 ns each for `buffer`) that `encodeXbzrle` needs to find the memory; the
 * page cache uses it for its own slots and scratch page.
 * @returns the kernel, or null when `bytes` is not in such a memory.
 */
export function xbzrleKernelFor(bytes: Uint8Array): XbzrleKernel | null {
  return kernelsByBuffer.get(bytes.buffer)?.encode ?? null;
}

let classifiedBuffer: ArrayBufferLike | null = null;
let classifiedKernel: Kernel | null = null;

/** The kernel of the memory `buffer` belongs to, or null (remembered for the next call). */
export function kernelOf(buffer: ArrayBufferLike): Kernel | null {
  if (buffer === classifiedBuffer) return classifiedKernel;
  const kernel = kernelsByBuffer.get(buffer) ?? null;
  classifiedBuffer = buffer;
  classifiedKernel = kernel;
  return kernel;
}

/** Forget the buffer `kernelOf` remembers (see `forgetRecentBuffers` in xbzrle-encode.ts). */
export function forgetClassifiedBuffer(): void {
  classifiedBuffer = null;
  classifiedKernel = null;
}

// ---------------------------------------------------------------------------------------------------
// Scratch memory: for pages held in ordinary buffers, `encodeXbzrle` copies both pages into a small
// kernel memory of its own and runs the kernel there (two native copies of the page cost less than the
// JavaScript scan of a changed page). One per thread, grown when a larger page comes.

/** A kernel memory with room for an old page at 0, a new page at `curOffset` and a delta at `outOffset`. */
export interface ScratchKernel {
  readonly kernel: Kernel;
  readonly curOffset: number;
  readonly outOffset: number;
  /** the largest page (bytes) it holds */
  readonly pageBytes: number;
  /** the largest dlen it takes */
  readonly deltaBytes: number;
}

let scratch: ScratchKernel | null | undefined;

/**
 * The scratch kernel memory for pages of `pageBytes` and deltas of up to `deltaBytes`, made (or
 * remade larger) on demand; null when WebAssembly SIMD is missing.
 */
export function scratchKernel(pageBytes: number, deltaBytes: number): ScratchKernel | null {
  const s = scratch;
  if (s !== undefined && (s === null || (pageBytes <= s.pageBytes && deltaBytes <= s.deltaBytes))) return s;
  const page = Math.max(pageBytes, s?.pageBytes ?? 0, 4096);
  const delta = Math.max(deltaBytes, s?.deltaBytes ?? 0, 2 * 4096);
  const curOffset = Math.ceil(page / 64) * 64;
  const outOffset = curOffset + Math.ceil(page / 64) * 64;
  const bytes = createXbzrleMemory(outOffset, delta);
  if (bytes === null) {
    scratch = null;
    return null;
  }
  const kernel = kernelsByBuffer.get(bytes.buffer);
  if (kernel === undefined || kernel.outputOffset !== outOffset) throw new Error('scratchKernel: the memory lost its kernel'); // broken invariant
  scratch = { kernel, curOffset, outOffset, pageBytes: page, deltaBytes: delta };
  return scratch;
}
