/**
 * Byte copies between arrays without allocating (Buffer#copy and TypedArray#set over a subarray both make
 * a view per call): short runs byte by byte, longer ones 8 bytes per step through DataViews over the
 * whole buffers (unaligned 32-bit accesses; integers, so every bit pattern is kept). The XBZRLE encoder
 * and decoder copy runs with it.
 *
 * Pure: imports nothing.
 */

const dataViewsByBuffer = new WeakMap<ArrayBufferLike, DataView>();
let lastSourceBuffer: ArrayBufferLike | null = null;
let lastSourceView: DataView | null = null;
let lastTargetBuffer: ArrayBufferLike | null = null;
let lastTargetView: DataView | null = null;

function dataViewOf(buffer: ArrayBufferLike): DataView {
  let view = dataViewsByBuffer.get(buffer);
  if (view === undefined) {
    view = new DataView(buffer);
    dataViewsByBuffer.set(buffer, view);
  }
  return view;
}

/** dst[d, d + length) = src[s, s + length); both ranges in bounds. */
export function copyBytes(src: Uint8Array, s: number, dst: Uint8Array, d: number, length: number): void {
  if (length < 16) {
    for (let k = 0; k < length; k++) dst[d + k] = src[s + k];
    return;
  }
  const sb = src.buffer;
  const db = dst.buffer;
  let sv: DataView;
  let dv: DataView;
  if (sb === lastSourceBuffer && lastSourceView !== null) sv = lastSourceView;
  else {
    sv = dataViewOf(sb);
    lastSourceBuffer = sb;
    lastSourceView = sv;
  }
  if (db === lastTargetBuffer && lastTargetView !== null) dv = lastTargetView;
  else {
    dv = dataViewOf(db);
    lastTargetBuffer = db;
    lastTargetView = dv;
  }
  const so = src.byteOffset + s;
  const to = dst.byteOffset + d;
  const whole = length & ~7;
  let k = 0;
  for (; k < whole; k += 8) {
    dv.setInt32(to + k, sv.getInt32(so + k, true), true);
    dv.setInt32(to + k + 4, sv.getInt32(so + k + 4, true), true);
  }
  for (; k < length; k++) dst[d + k] = src[s + k];
}

/** Forget the last source and target buffers (strong references; see `forgetRecentBuffers` in xbzrle-encode.ts). */
export function forgetCopyBuffers(): void {
  lastSourceBuffer = lastTargetBuffer = null;
  lastSourceView = lastTargetView = null;
}
