/**
 * Which pages start as zero, as the predictor sees it: `guest.fill`'s zero share everywhere, except the
 * hot set's pages when `workload.workingSetZero` gives them their own share (hotset only; as simulate
 * mode's content model and emulate mode's fill do). Expected values, per write-model region. Pure.
 */
import type { Scenario } from '../../options.ts';
import { hotSetFill } from '../../workload/fill.ts';
import type { Region } from './write-model.ts';

/** guest.fill's zero share (its weights need not add up to 1) */
export function fillZeroShare(s: Scenario): number {
  const f = s.guest.fill;
  const total = f.zero + f.random + f.text;
  return total > 0 ? f.zero / total : 0;
}

/**
 * The share of each region's pages that start as zero. A region inside the hot set [0, W) takes
 * workingSetZero, one outside it guest.fill's share, one across its edge the mix of the two.
 */
export function regionZeroShares(s: Scenario, regions: readonly Region[]): number[] {
  const fill = fillZeroShare(s);
  const hot = hotSetFill(s);
  return regions.map((r) => {
    const len = r.end - r.start;
    if (hot === undefined || !(len > 0)) return fill;
    const inHot = Math.max(0, Math.min(r.end, hot.pages) - r.start);
    return (inHot * hot.zero + (len - inHot) * fill) / len;
  });
}

/** Expected pages of the guest that start as zero. */
export function initialZeroPages(s: Scenario): number {
  const N = s.guest.memory / s.guest.pageSize;
  const f = s.guest.fill;
  const hot = hotSetFill(s);
  return hot === undefined ? (N * f.zero) / (f.zero + f.random + f.text) : hot.pages * hot.zero + (N - hot.pages) * fillZeroShare(s);
}
