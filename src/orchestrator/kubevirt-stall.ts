/**
 * KubeVirt's MigrationStallDetection, ALPHA upstream (feature gate MigrationStallDetection), as pure
 * decisions. Source: the design, kubevirt/enhancements veps/sig-compute/248-migration-convergence/vep.md
 * ("Live Migration Stability & Convergence Improvements": Stall Detection, Defining Stall, Iterative
 * Switch-over Relaxation, Switch-over Budget Check, Switchover policy, Completion timeout, the pseudocode
 * ON_ITERATION_BOUNDARY / onStallDetected / onStalledIteration / nearLocalMinimum) and
 * migration-hyperparameters.md (the defaults). The implementation in kubevirt/kubevirt was not among the
 * stored sources; this follows the VEP text and no more.
 *
 * How it maps onto migbench's port:
 * - the poll arm runs every 400 ms (the VEP keeps virt-launcher's cadence): bandwidth samples for the
 *   EWMA (libvirt's `bandwidth` is a ~100 ms snapshot; here it is Δ bytes transferred / Δ elapsed between
 *   polls), the completion-timeout checks and the switchover deadline;
 * - the iteration arm (QEMU's MIGRATION_PASS event) runs when a poll sees `iterations` grown: an
 *   orchestrator is polled, so the boundary is seen at the first poll after it (at most 400 ms late);
 * - times: the VEP reads libvirt TimeElapsed for the stall bookkeeping and wall-clock time for the
 *   deadlines; both are `elapsedMs` here (one clock).
 * The legacy progressTimeout ("remaining bytes did not decrease") is not part of this kind: the stall
 * detector does not read it.
 */
import { QEMU_MAX_DOWNTIME_MS, type MigrationView, type Orchestrator, type OrchestratorAction, type StartOverrides } from '../precopy/orchestrator-port.ts';
import type { KubevirtStallSettings } from '../scenario/orchestrator-settings.ts';

/** virt-launcher's migration monitor polls every 400 ms. */
export const KUBEVIRT_POLL_INTERVAL_MS = 400;
/** QEMU's default downtime-limit: the VEP starts at min(maxDowntimeMs, 300 ms). */
const QEMU_DEFAULT_DOWNTIME_MS = 300;

/** The VEP's defaults (migration-hyperparameters.md) with KubeVirt's MigrationConfiguration defaults. */
export const KUBEVIRT_STALL_DEFAULTS: KubevirtStallSettings = {
  kind: 'kubevirt-stall',
  bandwidthPerMigration: Infinity,
  completionTimeoutPerGiB: 150,
  allowAutoConverge: false,
  allowPostCopy: false,
  allowWorkloadDisruption: false,
  maxDowntimeMs: 900,
  stallProgressTimeout: 40,
  switchoverTimeout: 60,
  stallMargin: 4,
  ewmaAlpha: 0.4,
  precopyPossibleFactor: 1.5,
  patienceWindowDecayFactor: 0.5,
  searchLocalMinima: true,
  completionTimeoutFactor: 2,
};

/** "virt-launcher must set QEMU target downtime once at migration start to min(maxDowntimeMs, 300ms)". */
export function kubevirtStallStartOverrides(settings: KubevirtStallSettings): StartOverrides {
  return {
    downtimeLimitMs: Math.min(settings.maxDowntimeMs, QEMU_DEFAULT_DOWNTIME_MS),
    maxBandwidthBytesPerSec: settings.bandwidthPerMigration,
    autoConverge: settings.allowAutoConverge,
    postcopy: settings.allowPostCopy,
  };
}

/**
 * The guest's size as KubeVirt counts it for the budget: pkg/virt-launcher/virtwrap/manager.go
 * `getVMIMigrationDataSize` returns `memory.ScaledValue(resource.Giga)`, whole 10^9 bytes rounded up
 * (a 4 GiB guest counts 5).
 */
export function kubevirtDataSizeGB(memoryBytes: number): number {
  return Math.ceil(memoryBytes / 1e9);
}

/** maxCompletionTime = completionTimeoutPerGiB × the guest's size as KubeVirt counts it, in ms. */
export function kubevirtStallMaxCompletionMs(settings: KubevirtStallSettings, memoryBytes: number): number {
  return settings.completionTimeoutPerGiB * kubevirtDataSizeGB(memoryBytes) * 1000;
}

/** nearLocalMinimum: remainingBytes ≤ bestRemainingBytes × (1 + stallMargin/100). */
export function nearLocalMinimum(remainingBytes: number, bestRemainingBytes: number, stallMargin: number): boolean {
  return remainingBytes <= bestRemainingBytes * (1 + stallMargin / 100);
}

/** Defining Stall: remainingBytes ≥ minRecordOutsideWindowRemainingBytes × (1 − stallMargin/100). */
export function isStalled(remainingBytes: number, outsideWindowMin: number | null, stallMargin: number): boolean {
  return outsideWindowMin !== null && remainingBytes >= outsideWindowMin * (1 - stallMargin / 100);
}

/** What `decideAction` / the completion-timeout path choose. */
export type StallDecision =
  | { readonly kind: 'wait'; readonly why: string }
  | { readonly kind: 'postcopy' }
  | { readonly kind: 'set-downtime'; readonly downtimeLimitMs: number; readonly path: 'disruption' | 'soft' }
  | { readonly kind: 'abort'; readonly why: string };

/**
 * The VEP's "Switchover policy" table at a local minimum (decideAction): the budget check, then post-copy
 * (allowPostCopy and allowWorkloadDisruption), QEMU's maximum downtime (disruption allowed), the soft
 * stop-and-copy at maxDowntimeMs (within precopyPossibleFactor of it), or abort.
 */
export function decideStallAction(
  s: KubevirtStallSettings,
  impliedDowntimeMs: number,
  elapsedMs: number,
  maxCompletionMs: number,
  postcopyCapable: boolean,
): StallDecision {
  const budgetLeftMs = maxCompletionMs * s.completionTimeoutFactor - elapsedMs;
  if (!(impliedDowntimeMs <= budgetLeftMs)) return { kind: 'wait', why: 'the implied downtime does not fit the budget left' };
  if (s.allowPostCopy && s.allowWorkloadDisruption && postcopyCapable) return { kind: 'postcopy' };
  if (s.allowWorkloadDisruption) return { kind: 'set-downtime', downtimeLimitMs: QEMU_MAX_DOWNTIME_MS, path: 'disruption' };
  if (impliedDowntimeMs <= s.maxDowntimeMs * s.precopyPossibleFactor) return { kind: 'set-downtime', downtimeLimitMs: s.maxDowntimeMs, path: 'soft' };
  return { kind: 'abort', why: `the implied downtime ${Math.round(impliedDowntimeMs)} ms is above maxDowntimeMs ${s.maxDowntimeMs} × precopyPossibleFactor ${s.precopyPossibleFactor}` };
}

/**
 * The VEP's "Completion timeout" table, when the elapsed time first passes maxCompletionTime and no
 * switchover has started: post-copy (allowPostCopy) or QEMU's maximum downtime (allowWorkloadDisruption)
 * when the implied downtime fits maxCompletionTime × completionTimeoutFactor − elapsed, else abort.
 */
export function decideCompletionTimeout(
  s: KubevirtStallSettings,
  impliedDowntimeMs: number,
  elapsedMs: number,
  maxCompletionMs: number,
  postcopyCapable: boolean,
): StallDecision {
  const fits = impliedDowntimeMs <= maxCompletionMs * s.completionTimeoutFactor - elapsedMs;
  if (fits && s.allowPostCopy && postcopyCapable) return { kind: 'postcopy' };
  if (fits && s.allowWorkloadDisruption) return { kind: 'set-downtime', downtimeLimitMs: QEMU_MAX_DOWNTIME_MS, path: 'disruption' };
  return { kind: 'abort', why: `not completed within maxCompletionTime ${Math.round(maxCompletionMs / 1000)} s (completionTimeoutPerGiB ${s.completionTimeoutPerGiB} s/GiB)` };
}

interface IterationRecord {
  readonly elapsedMs: number;
  readonly remainingBytes: number;
}

/** The stall detector for one migration (alpha). */
export function createKubevirtStallOrchestrator(settings: KubevirtStallSettings, memoryBytes: number): Orchestrator {
  const s = settings;
  const windowMs = s.stallProgressTimeout * 1000;
  const maxCompletionMs = kubevirtStallMaxCompletionMs(s, memoryBytes);
  // the poll arm
  let ewmaBytesPerMs: number | null = null;
  let lastSample: { elapsedMs: number; transferredBytes: number } | null = null;
  // the iteration arm
  // QEMU emits MIGRATION_PASS at every dirty sync, the first one included
  let lastIterations = 0;
  let outsideWindowMin: number | null = null;
  const candidates: IterationRecord[] = []; // iterations inside the window, oldest first
  let stallDetected = false;
  let bestRemainingBytes = Infinity;
  const history: number[] = []; // remainingBytesHistory since the stall
  let relaxationPatienceMs = windowMs;
  let relaxationDeadlineMs = Infinity;
  // switchover and deadlines
  let switchoverStarted = false;
  let switchoverDeadlineMs: number | null = null;
  let abortDeadlineMs: number | null = null;
  let timeoutFired = false;
  let done = false;

  const impliedDowntimeMs = (remainingBytes: number): number => (ewmaBytesPerMs !== null && ewmaBytesPerMs > 0 ? remainingBytes / ewmaBytesPerMs : Infinity);

  const act = (d: StallDecision, view: MigrationView, out: OrchestratorAction[], reason: string, cause: string): void => {
    switch (d.kind) {
      case 'wait':
        return;
      case 'postcopy':
        switchoverStarted = true;
        done = true;
        out.push({ kind: 'postcopy', reason, detail: `kubevirt-stall: ${cause}; switch to post-copy` });
        return;
      case 'set-downtime':
        switchoverStarted = true;
        switchoverDeadlineMs = view.elapsedMs + s.switchoverTimeout * 1000;
        out.push({ kind: 'set-downtime', downtimeLimitMs: d.downtimeLimitMs });
        return;
      case 'abort':
        done = true;
        out.push({ kind: 'abort', reason, detail: `kubevirt-stall: ${cause}; ${d.why}` });
        return;
    }
  };

  const trySwitchover = (view: MigrationView, out: OrchestratorAction[]): void => {
    if (switchoverStarted) return;
    act(decideStallAction(s, impliedDowntimeMs(view.remainingBytes), view.elapsedMs, maxCompletionMs, view.postcopyCapable), view, out, 'stalled', 'pre-copy stalled (at a local minimum of the remaining bytes)');
  };

  const checkCompletionTimeout = (view: MigrationView, out: OrchestratorAction[]): void => {
    if (!timeoutFired && view.elapsedMs > maxCompletionMs) {
      timeoutFired = true;
      if (switchoverStarted) {
        act({ kind: 'abort', why: 'the switchover started but did not finish' }, view, out, 'completion-timeout', `maxCompletionTime ${Math.round(maxCompletionMs / 1000)} s passed`);
        return;
      }
      const d = decideCompletionTimeout(s, impliedDowntimeMs(view.remainingBytes), view.elapsedMs, maxCompletionMs, view.postcopyCapable);
      if (d.kind === 'set-downtime') abortDeadlineMs = maxCompletionMs * s.completionTimeoutFactor;
      act(d, view, out, 'completion-timeout', `maxCompletionTime ${Math.round(maxCompletionMs / 1000)} s passed`);
      return;
    }
    if (abortDeadlineMs !== null && view.elapsedMs > abortDeadlineMs) {
      act({ kind: 'abort', why: `not completed by maxCompletionTime × completionTimeoutFactor (${Math.round(abortDeadlineMs / 1000)} s)` }, view, out, 'completion-timeout', 'the extended deadline passed');
    }
  };

  const onIterationBoundary = (view: MigrationView, out: OrchestratorAction[]): void => {
    const t = view.elapsedMs;
    const rem = view.remainingBytes;
    // updateOutsideWindowMin: iterations at least stallProgressTimeout in the past leave the window
    while (candidates.length > 0 && candidates[0]!.elapsedMs <= t - windowMs) {
      const old = candidates.shift()!;
      outsideWindowMin = outsideWindowMin === null ? old.remainingBytes : Math.min(outsideWindowMin, old.remainingBytes);
    }
    candidates.push({ elapsedMs: t, remainingBytes: rem });
    checkCompletionTimeout(view, out);
    if (done) return;
    if (!stallDetected) {
      if (isStalled(rem, outsideWindowMin, s.stallMargin)) {
        // onStallDetected
        stallDetected = true;
        if (!s.searchLocalMinima) return trySwitchover(view, out);
        bestRemainingBytes = Math.min(outsideWindowMin!, ...candidates.map((c) => c.remainingBytes));
        relaxationPatienceMs = windowMs;
        relaxationDeadlineMs = t + relaxationPatienceMs;
        if (nearLocalMinimum(rem, bestRemainingBytes, s.stallMargin)) trySwitchover(view, out);
      }
      return;
    }
    // onStalledIteration
    if (!s.searchLocalMinima) return trySwitchover(view, out);
    history.push(rem);
    if (nearLocalMinimum(rem, bestRemainingBytes, s.stallMargin)) return trySwitchover(view, out);
    if (t >= relaxationDeadlineMs && history.length > 0) {
      let lowest = 0;
      for (let k = 1; k < history.length; k++) if (history[k]! < history[lowest]!) lowest = k;
      bestRemainingBytes = history[lowest]!;
      history.splice(lowest, 1);
      relaxationPatienceMs *= s.patienceWindowDecayFactor;
      relaxationDeadlineMs = t + relaxationPatienceMs;
    }
    if (nearLocalMinimum(rem, bestRemainingBytes, s.stallMargin)) trySwitchover(view, out);
  };

  return {
    kind: 'kubevirt-stall',
    nextPollInMs: () => KUBEVIRT_POLL_INTERVAL_MS,
    poll(view: MigrationView): readonly OrchestratorAction[] {
      // post-copy is not aborted on a completion timeout; after an abort the job is over
      if (done || view.phase === 'postcopy') return [];
      const out: OrchestratorAction[] = [];
      // the poll arm: the EWMA of the bandwidth, seeded with the first sample
      if (lastSample !== null && view.elapsedMs > lastSample.elapsedMs) {
        const sample = (view.transferredBytes - lastSample.transferredBytes) / (view.elapsedMs - lastSample.elapsedMs);
        ewmaBytesPerMs = ewmaBytesPerMs === null ? sample : s.ewmaAlpha * sample + (1 - s.ewmaAlpha) * ewmaBytesPerMs;
      }
      lastSample = { elapsedMs: view.elapsedMs, transferredBytes: view.transferredBytes };
      // the iteration arm, when a dirty sync happened since the last poll
      if (view.iterations > lastIterations) onIterationBoundary(view, out);
      else checkCompletionTimeout(view, out);
      lastIterations = view.iterations;
      if (!done && switchoverDeadlineMs !== null && view.elapsedMs > switchoverDeadlineMs) {
        act({ kind: 'abort', why: `no switchover within switchoverTimeout ${s.switchoverTimeout} s` }, view, out, 'switchover-timeout', 'the switchover deadline passed');
      }
      return out;
    },
  };
}
