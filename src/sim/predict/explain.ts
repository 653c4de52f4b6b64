/**
 * The one sentence that says why a pre-copy prediction comes out as it does (`PrecopyPrediction.why`).
 */
import type { Scenario } from '../../options.ts';
import type { Outcome } from '../../precopy/convergence.ts';
import { formatBitRate, formatBytes, formatByteRate, formatDurationMs } from '../../units.ts';
import type { PrecopyPrediction } from './prediction.ts';

export function explainPrecopy(
  s: Scenario,
  p: PrecopyPrediction,
  freeTimeMs: number,
  freeOutcome: Extract<Outcome, { outcome: 'converged' | 'forced-stop' | 'cancelled' }> | null,
): string {
  const f = p.model;
  const lam = `λ = ${f.lambda.toFixed(3)} (dirtying ${formatByteRate(f.dirtyRateBytesPerSec)} against ${formatByteRate(f.liveRateBytesPerSec)})`;
  const thd = `the switchover threshold ${formatBytes(f.thresholdBytes)} (${formatDurationMs(s.precopy.downtimeLimitMs)} × ${formatBitRate(f.liveRateBytesPerSec)})`;
  const live = p.rounds.filter((r) => r.stage !== 'stop-and-copy').length + p.elidedRounds;
  const policy = f.policy === 'qemu' ? '' : ` (policy ${f.policy})`;
  const stop =
    p.reason === 'max-rounds'
      ? s.precopy.maxRounds !== null && live >= s.precopy.maxRounds
        ? `precopy.maxRounds (${s.precopy.maxRounds}) forces a stop-and-copy after ${live} live round${live === 1 ? '' : 's'}`
        : `the ${f.policy} policy's round limit forces a stop-and-copy after ${live} live round${live === 1 ? '' : 's'}`
      : p.reason === 'timeout'
        ? p.outcome === 'cancelled'
          ? `the timeout (${formatDurationMs(s.precopy.timeoutMs)}) cancels it after ${live} live round${live === 1 ? '' : 's'}: the guest stays on the source`
          : `the timeout (${formatDurationMs(s.precopy.timeoutMs)}) forces a stop-and-copy after ${live} live round${live === 1 ? '' : 's'}`
        : `the ${f.policy} policy forces a stop-and-copy (${p.reason}) after ${live} live round${live === 1 ? '' : 's'}`;
  if (f.liveRateBytesPerSec === Infinity) {
    return `the link is unlimited: the model moves memory in no time, so nothing is dirtied meanwhile and it converges after the bulk round (a real run is bound by the engine's own speed)`;
  }
  if (p.outcome === 'converged') {
    if (f.dirtyRateBytesPerSec === 0) {
      const left = p.rounds.find((r) => r.stage === 'stop-and-copy')?.pendingPages ?? 0;
      return `converges after the bulk round${policy}: nothing is written; what the bulk round leaves under ${thd} (${formatBytes(left * f.pageSizeBytes)}) goes in the stop-and-copy`;
    }
    const aid = s.precopy.autoConverge ? 'auto-converge' : s.precopy.dirtyLimit !== null ? 'the dirty limit' : null;
    const maxThrottle = p.rounds.reduce((m, r) => Math.max(m, r.throttlePercent), 0);
    const slowest = p.rounds.reduce((m, r) => (r.stage !== 'stop-and-copy' && r.guestSlowdown !== null ? Math.min(m, r.guestSlowdown) : m), 1);
    const aided = aid && slowest < 1 ? `; ${aid} slows the guest to ${(slowest * 100).toFixed(0)} % of its writes${maxThrottle > 0 ? ` (throttle ${maxThrottle} %)` : ''}` : '';
    const ofLambda =
      f.lambda < 1
        ? `${lam} < 1, so what is pending above the threshold shrinks every round`
        : f.steadyDirtyBytes < f.thresholdBytes
          ? `${lam} >= 1, but writes overlap: the steady dirty set (${formatBytes(f.steadyDirtyBytes)}) is below ${thd}`
          : `${lam} >= 1`;
    return `converges after ${live} live rounds${policy}: ${ofLambda}${aided}`;
  }
  if (p.converges) {
    return `would converge after ${p.roundsToConverge} live rounds (${formatDurationMs(freeTimeMs)})${policy}, but ${stop}`;
  }
  if (p.nonConvergence === 'working-set-above-threshold') {
    const ws = f.steadyHotDirtyBytes ?? f.steadyDirtyBytes;
    const what = s.workload.pattern === 'hotset' ? `the ${formatBytes(f.workingSetBytes)} hot set` : `the zipf working set (half the writes land on ${formatBytes(f.workingSetBytes)})`;
    return `never converges${policy}: ${what} stays dirty at ${formatBytes(ws)} per round, above ${thd}; ${lam}; ${stop}`;
  }
  if (p.nonConvergence === 'lambda-at-least-1') {
    return `never converges${policy}: ${lam} >= 1, the guest dirties memory at least as fast as pre-copy sends it (steady dirty set ${formatBytes(f.steadyDirtyBytes)}, above ${thd}); ${stop}`;
  }
  return `does not converge${policy}: ${stop}${freeOutcome?.outcome === 'forced-stop' ? ' (the policy stops it even without limits)' : ''}; ${lam}`;
}
