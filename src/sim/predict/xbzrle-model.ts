/**
 * XBZRLE in the fluid model: what a re-sent page costs on the wire after the bulk round (pending-set.ts
 * keeps which pages hit the cache). As simulate mode and the engine send them, one page per frame:
 *  - a zero page: a header (it also takes its cache slot);
 *  - a miss: a header and the page;
 *  - a hit: a header and the delta, whose size follows the writes since the page was last sent (simulate
 *    mode's content model, `ContentModel.xbzrleDeltaBytes`, the one formula: `workload.writeBytes` at
 *    uniform offsets, ULEB128 run and gap per stretch), or a header and the page when the delta would not
 *    fit (overflow); nothing when the page is unchanged since it was last sent.
 * A hit page of a class written at r writes/s, in a round after one of d seconds (x = r·d): it is pending
 * because written in the last round. The writes since its last send are Poisson(x) given at least one;
 * and when it went in the last round too and every write came before the cursor reached it there, the
 * page is unchanged now (skipped): on average e^{−x}·(1 − (1 − e^{−x})/x) of the hits.
 * Pure.
 */
import type { Scenario } from '../../options.ts';
import { HEADER_BYTES } from '../../transport/frame.ts';
import { align8 } from '../../transport/ring.ts';
import { ContentModel } from '../content-model.ts';

export interface XbzrleModel {
  /** the cache's size in pages */
  cachePages: number;
  /** wire bytes of a zero page (after the bulk round) and of a miss */
  zeroWireBytes: number;
  missWireBytes: number;
  /** expected wire bytes of a hit on a page written at x expected writes per round (see above) */
  hitWireBytes(x: number): number;
}

const MAX_WRITES = 1e9;

/** ln k! (exact sums up to 32, Stirling's series beyond) */
function logFactorial(k: number): number {
  if (k <= 32) {
    let t = 0;
    for (let j = 2; j <= k; j++) t += Math.log(j);
    return t;
  }
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

export function xbzrleModel(s: Scenario): XbzrleModel | null {
  const x = s.precopy.xbzrle;
  if (!x.enabled) return null;
  const ps = s.guest.pageSize;
  const content = new ContentModel(s);
  const missWireBytes = align8(HEADER_BYTES + ps);
  /** frame bytes of a page written k >= 1 times since it was last sent; memo up to the first overflow */
  const wire: number[] = [0];
  let overflowFrom = Infinity;
  const wireOf = (k: number): number => {
    if (k >= overflowFrom) return missWireBytes;
    while (wire.length <= k) {
      const delta = content.xbzrleDeltaBytes(wire.length);
      if (delta > ps) {
        overflowFrom = wire.length;
        return missWireBytes;
      }
      wire.push(align8(HEADER_BYTES + delta));
    }
    return wire[k];
  };
  const memo = new Map<number, number>();
  const hitWireBytes = (x: number): number => {
    if (!(x > 0)) return wireOf(1);
    // rates a part in 1e4 apart cost the same here: one sum per such step (rounds and classes repeat them)
    const key = Number(x.toPrecision(4));
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const rate = key;
    const some = -Math.expm1(-rate); // P(K >= 1)
    const carried = rate < 1e-6 ? rate / 2 : 1 - some / rate;
    const skipped = Math.exp(-rate) * carried;
    // E[wire(K) | K >= 1], K ~ Poisson(rate), over the terms within 12 standard deviations of the mean
    const spread = 12 * Math.sqrt(rate) + 10;
    const first = Math.max(1, Math.floor(rate - spread));
    const last = Math.min(MAX_WRITES, Math.ceil(rate + spread));
    let sum = 0;
    let mass = 0;
    const lnRate = Math.log(rate);
    let logP = -rate + first * lnRate - logFactorial(first);
    for (let k = first; k <= last; k++) {
      if (k > first) logP += lnRate - Math.log(k);
      if (wireOf(k) === missWireBytes) break;
      const p = Math.exp(logP);
      sum += p * wire[k];
      mass += p;
    }
    // the rest of K >= 1 overflows (or is too rare to count)
    const tail = Math.max(0, some - mass);
    const cost = (1 - skipped) * ((sum + tail * missWireBytes) / some);
    if (memo.size > 4096) memo.clear();
    memo.set(key, cost);
    return cost;
  };
  return { cachePages: Math.max(1, Math.floor(x.cacheSize / ps)), zeroWireBytes: align8(HEADER_BYTES), missWireBytes, hitWireBytes };
}
