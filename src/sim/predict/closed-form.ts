/**
 * DESIGN §6 as written (every write a new page, each round sends all it started with):
 *   V_0 = M, V_i = M·λ^i, λ = D/R, V_thd = R × downtimeLimit, n = ceil(log_λ(V_thd / M)) capped by
 *   precopy.maxRounds, bytes = M(1 − λ^{n+1})/(1 − λ), live time = (bytes − V_n)/R,
 *   downtime = (V_n + device state)/link rate.
 * The reference and the textbook check beside the prediction proper (fluid-loop.ts). Pure.
 */
import { switchoverThresholdBytes } from '../../precopy/convergence.ts';

/** DESIGN §6, literally. */
export interface ClosedForm {
  lambda: number;
  thresholdBytes: number;
  /** live rounds (bulk included) before the stop-and-copy; Infinity when λ >= 1 and nothing caps it */
  n: number;
  /** V_n <= V_thd was reached (false: λ >= 1, or maxRounds capped n) */
  converges: boolean;
  /** V_0 … V_n (V_n goes in the stop-and-copy); empty when n is Infinity */
  roundBytes: number[];
  totalBytes: number;
  liveTimeMs: number;
  downtimeMs: number;
  totalTimeMs: number;
}

export interface ClosedFormInput {
  memoryBytes: number;
  liveRateBytesPerSec: number;
  linkRateBytesPerSec: number;
  dirtyRateBytesPerSec: number;
  downtimeLimitMs: number;
  maxRounds: number | null;
  deviceStateBytes: number;
}

const msFor = (bytes: number, rate: number): number => (bytes === 0 || rate === Infinity ? 0 : (bytes * 1000) / rate);

export function closedFormPrecopy(i: ClosedFormInput): ClosedForm {
  const M = i.memoryBytes;
  const R = i.liveRateBytesPerSec;
  const lambda = R === Infinity ? 0 : i.dirtyRateBytesPerSec / R;
  const thd = switchoverThresholdBytes(R, i.downtimeLimitMs);
  let n: number;
  let converges = true;
  if (M <= thd) n = 0;
  else if (lambda === 0) n = 1;
  else if (lambda < 1) n = Math.max(0, Math.ceil(Math.log(thd / M) / Math.log(lambda) - 1e-9));
  else {
    n = Infinity;
    converges = false;
  }
  if (i.maxRounds !== null && n > i.maxRounds) {
    n = i.maxRounds;
    converges = false;
  }
  if (n === Infinity) {
    return { lambda, thresholdBytes: thd, n, converges, roundBytes: [], totalBytes: Infinity, liveTimeMs: Infinity, downtimeMs: Infinity, totalTimeMs: Infinity };
  }
  const roundBytes: number[] = [];
  for (let k = 0; k <= n; k++) roundBytes.push(M * lambda ** k);
  const totalBytes = lambda === 1 ? M * (n + 1) : (M * (1 - lambda ** (n + 1))) / (1 - lambda);
  const vn = roundBytes[n];
  const liveTimeMs = msFor(totalBytes - vn, R);
  const downtimeMs = msFor(vn + i.deviceStateBytes, i.linkRateBytesPerSec);
  return { lambda, thresholdBytes: thd, n, converges, roundBytes, totalBytes, liveTimeMs, downtimeMs, totalTimeMs: liveTimeMs + downtimeMs };
}
