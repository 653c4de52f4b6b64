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

const MAX_WRITES = 100_000;

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
  const hitWireBytes = (rate: number): number => {
    if (!(rate > 0)) return wireOf(1);
    const hit = memo.get(rate);
    if (hit !== undefined) return hit;
    const some = -Math.expm1(-rate); // P(K >= 1)
    const carried = rate < 1e-6 ? rate / 2 : 1 - some / rate;
    const skipped = Math.exp(-rate) * carried;
    // E[wire(K) | K >= 1], K ~ Poisson(rate)
    let sum = 0;
    let mass = 0;
    let logP = -rate;
    const lnRate = Math.log(rate);
    for (let k = 1; k <= MAX_WRITES; k++) {
      logP += lnRate - Math.log(k);
      const p = Math.exp(logP);
      if (k >= overflowFrom || wireOf(k) === missWireBytes) break;
      sum += p * wire[k];
      mass += p;
      if (k > rate && p < 1e-12 * Math.max(mass, 1e-300)) break;
    }
    // what is left of K >= 1 overflows (or is too rare to count)
    const tail = Math.max(0, some - mass);
    const cost = (1 - skipped) * ((sum + tail * (overflowFrom === Infinity ? wireOf(Math.ceil(rate) + 1) : missWireBytes)) / some);
    if (memo.size > 256) memo.clear();
    memo.set(rate, cost);
    return cost;
  };
  return { cachePages: Math.max(1, Math.floor(x.cacheSize / ps)), zeroWireBytes: align8(HEADER_BYTES), missWireBytes, hitWireBytes };
}
