/**
 * Reading a run document back (`migbench run --out`, for `report`): checks the shape and the types
 * of everything the report reads and charts, so that a corrupt document is refused with `E_RESULT`
 * and a one-line message naming the first bad key, instead of crashing a renderer or feeding a chart
 * an array where it plots a number (found by fuzzing: one such document took seconds to render).
 *
 * Lenient where documents of older migbench versions differ (no series, no channels, no
 * xbzrle/compression blocks). Numbers are finite or null (JSON has no Infinity: writers put null).
 */
import { MigbenchError } from '../errors.ts';
import type { ResultDocument } from './document.ts';
import { isObject, isFiniteOrNull, describeValue, provenanceProblem, type Json } from './json-checks.ts';
import { scenarioViewProblem } from './scenario-view.ts';


const isScalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));


const ROUND_NUMBERS = [
  'round', 'startMs', 'durationMs', 'dirtyPages', 'pendingPages', 'sentPages', 'zeroPages', 'normalPages', 'bytes', 'bandwidthBytesPerSec',
  'dirtyRatePagesPerSec', 'expectedDowntimeMs', 'thresholdBytes', 'downtimeLimitMs', 'throttlePercent', 'guestSlowdown',
] as const;
const ORCHESTRATOR_ACTIONS = ['set-downtime', 'postcopy', 'pause', 'abort'] as const;
const SERIES_NUMBERS = ['tMs', 'transferredBytes', 'remainingBytes', 'linkBytesPerSec', 'dirtyRatePagesPerSec', 'throttlePercent'] as const;

/**
 * Check a parsed run document. `label` (usually the file name) starts every message. Returns the value
 * itself, typed; throws `MigbenchError('E_RESULT')` naming the first problem.
 */
export function checkRunDocument(raw: unknown, label: string): ResultDocument {
  const fail = (message: string): never => {
    throw new MigbenchError('E_RESULT', `${label}: ${message}`);
  };
  /** `at` is an object whose listed keys, where present, are numbers or null */
  const numbers = (o: Json, keys: readonly string[], at: string, required = false): void => {
    for (const k of keys) {
      if (o[k] === undefined && !required) continue;
      if (!isFiniteOrNull(o[k])) fail(`${at}.${k}: expected a number or null, got ${describeValue(o[k])}`);
    }
  };
  /** an object of scalars only (a flat record), or absent when `optional` */
  /** an object of numbers (or null) only, e.g. `stats.ram` or `quick.phases`; or absent when `optional` */
  const allNumbers = (v: unknown, at: string, optional: boolean): Json | null => {
    if ((v === undefined || v === null) && optional) return null;
    if (!isObject(v)) return fail(`${at}: expected an object, got ${describeValue(v)}`);
    numbers(v, Object.keys(v), at);
    return v;
  };
  const flat = (v: unknown, at: string, optional: boolean): Json | null => {
    if (v === undefined || v === null) {
      if (optional) return null;
      fail(`${at}: expected an object, got ${describeValue(v)}`);
    }
    if (!isObject(v)) return fail(`${at}: expected an object, got ${describeValue(v)}`);
    for (const [k, x] of Object.entries(v)) if (!isScalar(x)) fail(`${at}.${k}: expected a number, a string, true/false or null, got ${describeValue(x)}`);
    return v;
  };
  const list = (v: unknown, at: string, optional: boolean): unknown[] => {
    if (v === undefined && optional) return [];
    if (!Array.isArray(v)) return fail(`${at}: expected an array, got ${describeValue(v)}`);
    return v;
  };
  const text = (o: Json, k: string, at: string, nullable: boolean): void => {
    const v = o[k];
    if (typeof v === 'string' || (nullable && (v === null || v === undefined))) return;
    fail(`${at}.${k}: expected a string${nullable ? ' or null' : ''}, got ${describeValue(v)}`);
  };
  const flag = (o: Json, k: string, at: string): void => {
    const v = o[k];
    if (v !== undefined && v !== null && typeof v !== 'boolean') fail(`${at}.${k}: expected true, false or null, got ${describeValue(v)}`);
  };
  /** post-copy's stall figures (a post-copy phase, a lazy quick restore): the blocktimes and the latency histogram */
  const stallFigures = (st: Json, at: string): void => {
    numbers(st, ['postcopy-blocktime', 'postcopy-latency'], at);
    for (const k of ['postcopy-vcpu-blocktime', 'postcopy-latency-dist'] as const) {
      const v = st[k];
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.length <= 64 && v.every(isFiniteOrNull))) fail(`${at}.${k}: expected a list of at most 64 numbers, got ${describeValue(v)}`);
    }
  };
  /** a method's verification: pages that differ, the first of them, whether the device state matched */
  const verification = (v: unknown, at: string): void => {
    if (v === undefined || v === null) return;
    const o = flat(v, at, false)!;
    numbers(o, ['badPages', 'firstBadPage'], at);
    flag(o, 'deviceStateEqual', at);
  };

  if (!isObject(raw)) return fail(`expected a JSON object (a migbench run document), got ${describeValue(raw)}`);
  if (raw.schemaVersion !== 1) return fail(`schemaVersion ${describeValue(raw.schemaVersion)} is not supported (this migbench reads schemaVersion 1)`);
  const scenario = scenarioViewProblem(raw.scenario, 'scenario');
  if (scenario !== null) fail(scenario);
  if (raw.mode !== undefined && raw.mode !== 'emulate' && raw.mode !== 'simulate') fail(`mode: expected "emulate" or "simulate", got ${describeValue(raw.mode)}`);
  const provenance = provenanceProblem(raw);
  if (provenance !== null) fail(provenance);
  if (raw.precopy === undefined && raw.quick === undefined) fail('neither precopy nor quick: not a run document');

  const p = raw.precopy;
  if (p !== null && p !== undefined) {
    if (!isObject(p)) return fail(`precopy: expected an object or null, got ${describeValue(p)}`);
    text(p, 'outcome', 'precopy', false);
    text(p, 'reason', 'precopy', true);
    text(p, 'error', 'precopy', true);
    flag(p, 'verified', 'precopy');
    flag(p, 'engineBound', 'precopy');
    verification(p.verification, 'precopy.verification');
    if (!isObject(p.stats)) return fail(`precopy.stats: expected an object, got ${describeValue(p.stats)}`);
    numbers(p.stats, ['total-time', 'setup-time', 'downtime', 'expected-downtime'], 'precopy.stats');
    allNumbers(p.stats.ram, 'precopy.stats.ram', false);
    allNumbers(p.stats['xbzrle-cache'], 'precopy.stats.xbzrle-cache', true);
    // post-copy's figures (issue 14): the reports chart the histogram and print the rest
    stallFigures(p.stats, 'precopy.stats');
    if (p.postcopy !== undefined && p.postcopy !== null) {
      if (!isObject(p.postcopy)) return fail(`precopy.postcopy: expected an object or null, got ${describeValue(p.postcopy)}`);
      const pc = p.postcopy;
      numbers(pc, ['startMs', 'resumedMs', 'completedMs', 'durationMs', 'missingPages', 'urgentPages', 'backgroundPages', 'droppedPages', 'faults'], 'precopy.postcopy', true);
      numbers(pc, ['rateLimitBytesPerSec', 'loggedWrites', 'logDroppedWrites', 'stallRecordsDropped'], 'precopy.postcopy');
      flag(pc, 'preempt', 'precopy.postcopy');
      const w = flat(pc.writeRate, 'precopy.postcopy.writeRate', false)!;
      numbers(w, ['beforePagesPerSec', 'duringPagesPerSec', 'afterPagesPerSec', 'afterWindowMs'], 'precopy.postcopy.writeRate');
    }
    list(p.rounds, 'precopy.rounds', false).forEach((r, i) => {
      const at = `precopy.rounds[${i}]`;
      const round = flat(r, at, false)!;
      text(round, 'stage', at, false);
      numbers(round, ROUND_NUMBERS, at);
    });
    list(p.series, 'precopy.series', true).forEach((s, i) => numbers(flat(s, `precopy.series[${i}]`, false)!, SERIES_NUMBERS, `precopy.series[${i}]`));
    {
      // every renderer prints the guest's dirty rate
      if (!isObject(p.workload)) fail(`precopy.workload: expected an object, got ${describeValue(p.workload)}`);
      const w = p.workload as Json;
      numbers(w, ['targetPagesPerSec', 'achievedPagesPerSec'], 'precopy.workload');
      if (w.perVcpuPagesPerSec !== undefined && !(Array.isArray(w.perVcpuPagesPerSec) && w.perVcpuPagesPerSec.every(isFiniteOrNull))) {
        fail(`precopy.workload.perVcpuPagesPerSec: expected a list of numbers, got ${describeValue(w.perVcpuPagesPerSec)}`);
      }
    }
    allNumbers(p.engine, 'precopy.engine', true);
    numbers(p, ['deviceStateBytes'], 'precopy');
    allNumbers(p.xbzrle, 'precopy.xbzrle', true);
    if (p.compression !== undefined && p.compression !== null) {
      const z = flat(p.compression, 'precopy.compression', true)!;
      text(z, 'codec', 'precopy.compression', false);
      numbers(z, ['level', 'frames', 'inputBytes', 'outputBytes', 'ratio'], 'precopy.compression');
    }
    if (p.orchestrator !== undefined && p.orchestrator !== null) {
      // what the orchestrator did (issue 19): the reports mark each action on the time series and list it
      if (!isObject(p.orchestrator)) return fail(`precopy.orchestrator: expected an object or null, got ${describeValue(p.orchestrator)}`);
      const o = p.orchestrator;
      text(o, 'kind', 'precopy.orchestrator', false);
      const start = flat(o.start, 'precopy.orchestrator.start', true);
      if (start !== null) {
        numbers(start, ['downtimeLimitMs', 'maxBandwidthBytesPerSec', 'xbzrleCacheBytes'], 'precopy.orchestrator.start');
        for (const k of ['autoConverge', 'postcopy']) flag(start, k, 'precopy.orchestrator.start');
      }
      list(o.actions, 'precopy.orchestrator.actions', false).forEach((a, i) => {
        const at = `precopy.orchestrator.actions[${i}]`;
        const action = flat(a, at, false)!;
        numbers(action, ['atMs'], at, true);
        // the kind of action decides how `before` and `after` read (ms, or states): one of the four
        if (!ORCHESTRATOR_ACTIONS.includes(action.action as never)) fail(`${at}.action: expected one of ${ORCHESTRATOR_ACTIONS.join(', ')}, got ${describeValue(action.action)}`);
        text(action, 'reason', at, true);
        text(action, 'detail', at, true);
        // a downtime step: the limits in ms; the others: the migration's states, as words
        for (const k of ['before', 'after']) {
          const v = action[k];
          if (action.action === 'set-downtime' ? !isFiniteOrNull(v) : typeof v !== 'string' && !isFiniteOrNull(v)) {
            fail(`${at}.${k}: expected ${action.action === 'set-downtime' ? 'a number (ms) or null' : 'a string, a number or null'}, got ${describeValue(v)}`);
          }
        }
      });
    }
    if (p.channels !== undefined && p.channels !== null) {
      if (!isObject(p.channels)) return fail(`precopy.channels: expected an object, got ${describeValue(p.channels)}`);
      const ch = p.channels;
      numbers(ch, ['count'], 'precopy.channels', true);
      numbers(ch, ['dispatchWaitMs', 'flushes', 'flushWaitMs'], 'precopy.channels');
      list(ch.lanes, 'precopy.channels.lanes', false).forEach((l, i) => allNumbers(l, `precopy.channels.lanes[${i}]`, false));
    }
  }

  const q = raw.quick;
  if (q !== null && q !== undefined) {
    if (!isObject(q)) return fail(`quick: expected an object or null, got ${describeValue(q)}`);
    text(q, 'outcome', 'quick', false);
    text(q, 'reason', 'quick', true);
    text(q, 'error', 'quick', true);
    text(q, 'format', 'quick', true);
    text(q, 'imagePath', 'quick', true);
    flag(q, 'verified', 'quick');
    if (!isObject(q.stats)) return fail(`quick.stats: expected an object, got ${describeValue(q.stats)}`);
    const stats = q.stats;
    numbers(stats, ['total-time', 'downtime'], 'quick.stats');
    // a lazy restore's stalls, with post-copy's names: the reports print and chart them
    stallFigures(stats, 'quick.stats');
    for (const [k, v] of Object.entries(stats)) if (!isScalar(v) && k !== 'postcopy-vcpu-blocktime' && k !== 'postcopy-latency-dist') fail(`quick.stats.${k}: expected a number, a string, true/false or null, got ${describeValue(v)}`);
    if (q.lazy !== undefined && q.lazy !== null) {
      if (!isObject(q.lazy)) return fail(`quick.lazy: expected an object or null, got ${describeValue(q.lazy)}`);
      const l = flat(q.lazy, 'quick.lazy', false)!;
      numbers(l, ['resumedMs', 'bytesBeforeResume', 'faultBytes', 'backgroundBytes', 'requests', 'faultPages', 'zeroFaultPages', 'backgroundPages', 'faults'], 'quick.lazy', true);
      numbers(l, ['completedMs', 'duringPagesPerSec', 'loggedWrites', 'logDroppedWrites', 'stallRecordsDropped'], 'quick.lazy');
      flag(l, 'guestLost', 'quick.lazy');
    }
    numbers(q, ['savedBytes', 'imageBytes', 'restoredBytes', 'storageBandwidthBytesPerSec'], 'quick');
    allNumbers(q.phases, 'quick.phases', true);
    allNumbers(q.pages, 'quick.pages', true);
    verification(q.verification, 'quick.verification');
  }

  if (raw.comparison !== undefined && raw.comparison !== null) {
    if (!isObject(raw.comparison)) fail(`comparison: expected an object or null, got ${describeValue(raw.comparison)}`);
    text(raw.comparison as Json, 'verdict', 'comparison', false);
  }
  if (raw.simulation !== undefined) {
    if (!isObject(raw.simulation)) fail(`simulation: expected an object, got ${describeValue(raw.simulation)}`);
    const sim = raw.simulation as Json;
    numbers(sim, ['wallTimeMs', 'modelledTimeMs', 'speedup'], 'simulation');
    if (sim.perMethod !== undefined) {
      if (!isObject(sim.perMethod)) fail(`simulation.perMethod: expected an object, got ${describeValue(sim.perMethod)}`);
      for (const m of ['precopy', 'quick'] as const) {
        const speed = (sim.perMethod as Json)[m];
        if (speed === null || speed === undefined) continue;
        if (!isObject(speed)) fail(`simulation.perMethod.${m}: expected an object or null, got ${describeValue(speed)}`);
        numbers(speed as Json, ['wallTimeMs', 'modelledTimeMs', 'speedup'], `simulation.perMethod.${m}`);
      }
    }
    allNumbers(sim.compressionRatios, 'simulation.compressionRatios', true);
  }
  const f = raw.fleet;
  if (f !== undefined && f !== null) {
    if (!isObject(f)) return fail(`fleet: expected an object or null, got ${describeValue(f)}`);
    numbers(f, ['count', 'concurrency'], 'fleet', true);
    for (const k of ['precopy', 'quick'] as const) {
      const m = f[k];
      if (m === null || m === undefined) continue;
      const at = `fleet.${k}`;
      if (!isObject(m)) return fail(`${at}: expected an object or null, got ${describeValue(m)}`);
      numbers(m, ['evacuationTimeMs', 'completed', 'cancelled', 'bytes'], at);
      allNumbers(m.outcomes, `${at}.outcomes`, true); // absent in documents before it
      for (const d of ['downtime', 'totalTime'] as const) if (m[d] !== undefined && m[d] !== null) numbers(flat(m[d], `${at}.${d}`, false)!, ['min', 'median', 'p95', 'max', 'mean'], `${at}.${d}`, true);
      list(m.guests, `${at}.guests`, true).forEach((g, i) => flat(g, `${at}.guests[${i}]`, false));
    }
  }
  return raw as unknown as ResultDocument;
}
