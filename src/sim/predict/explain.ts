/**
 * The one sentence that says why a pre-copy prediction comes out as it does (`PrecopyPrediction.why`).
 */
import type { Scenario } from '../../options.ts';
import type { Outcome } from '../../results/outcome.ts';
import { formatBitRate, formatBytes, formatByteRate, formatCount, formatDurationMs } from '../../units.ts';
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

/**
 * What to tell a user whose pre-copy was cancelled or forced to stop at `precopy.timeoutMs`, from the
 * model's view of the same scenario: a longer timeout only helps a migration that converges at all. One
 * line, naming the keys to change. `maxTimeoutMs`: the longest timeout the run's mode accepts (simulate
 * mode bounds its modelled work), so the advice never suggests one that would be refused.
 */
export function adviseAfterTimeout(s: Scenario, p: PrecopyPrediction, maxTimeoutMs = Infinity): string {
  const at = `pre-copy gave up at precopy.timeoutMs (${formatDurationMs(s.precopy.timeoutMs)})`;
  const f = p.model;
  if (!p.converges) {
    const cause =
      p.nonConvergence === 'working-set-above-threshold'
        ? `the working set stays dirty at ${formatBytes(f.steadyHotDirtyBytes ?? f.steadyDirtyBytes)} per round, above the switchover threshold ${formatBytes(f.thresholdBytes)}`
        : `λ = ${f.lambda.toFixed(2)}: the guest dirties memory (${formatByteRate(f.dirtyRateBytesPerSec)}) at least as fast as pre-copy sends it (${formatByteRate(f.liveRateBytesPerSec)})`;
    return `${at}; a longer timeout will not help, the model says it never converges: ${cause}. Raise precopy.downtimeLimitMs or link.bandwidth, lower workload.dirtyRate, or turn on precopy.autoConverge`;
  }
  const needMs = p.timeToConvergeMs;
  if (needMs === null || !Number.isFinite(needMs)) return `${at}; raise it for a longer migration`;
  if (needMs < s.precopy.timeoutMs) {
    return `${at}; the model expects it to converge after ${formatDurationMs(needMs)}, within the timeout: this run was slower than the model (a loaded machine, or the engine bound by its own speed)`;
  }
  const suggestion = suggestTimeout(needMs, maxTimeoutMs);
  if (suggestion === null) {
    return `${at}; the model expects it to converge after ${formatDurationMs(needMs)}, more than simulate mode models at workload.dirtyRate ${formatCount(s.workload.dirtyRate)}/s (a timeout of at most ${formatDurationMs(maxTimeoutMs)}): \`migbench predict\` answers without that bound, or raise link.bandwidth`;
  }
  return `${at}; the model expects it to converge after ${formatDurationMs(needMs)}: raise it, e.g. --set precopy.timeoutMs=${suggestion.text}`;
}

/**
 * A round timeout above `needMs`, with half as much again to spare where `maxMs` allows (else as little
 * as a minute's rounding), in the largest whole unit that fits; null when none fits under `maxMs`.
 */
function suggestTimeout(needMs: number, maxMs: number): { ms: number; text: string } | null {
  const round = (ms: number): { ms: number; text: string } =>
    ms >= 3_600_000
      ? { ms: Math.ceil(ms / 3_600_000) * 3_600_000, text: `${Math.ceil(ms / 3_600_000)}h` }
      : ms >= 60_000
        ? { ms: Math.ceil(ms / 60_000) * 60_000, text: `${Math.ceil(ms / 60_000)}min` }
        : { ms: Math.ceil(ms / 1000) * 1000, text: `${Math.ceil(ms / 1000)}s` };
  const roomy = round(needMs * 1.5);
  if (roomy.ms <= maxMs) return roomy;
  const tight = needMs >= 60_000 ? { ms: Math.ceil(needMs / 60_000) * 60_000, text: `${Math.ceil(needMs / 60_000)}min` } : round(needMs);
  return tight.ms <= maxMs ? tight : null;
}
