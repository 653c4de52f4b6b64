/**
 * The part of a resolved scenario that the reports print (run and sweep documents embed the resolved
 * scenario; `report/` shows its name, guest, workload, link and method settings): its type, and the
 * check a reader runs before anything is rendered. A document is untrusted input: a string where a
 * number belongs would otherwise be printed as it is.
 *
 * Lenient where documents of other migbench versions differ: every key may be absent (and null), and
 * keys the reports do not print are not looked at (the whole scenario is shown as escaped JSON only).
 */
import { describeValue, isObject } from './json-checks.ts';

/** A rate in bytes/s, or "unlimited" (null in JSON for Infinity). */
export type RateValue = number | 'unlimited' | null;

export interface ScenarioView {
  name?: string;
  seed?: number;
  guest?: { memory?: number; pageSize?: number; vcpus?: number; deviceState?: number };
  workload?: { pattern?: string; dirtyRate?: number; workingSet?: number; hotFraction?: number };
  link?: { bandwidth?: RateValue; latencyMs?: number };
  precopy?: { downtimeLimitMs?: number; maxBandwidth?: RateValue; policy?: string; autoConverge?: unknown; timeoutMs?: number };
  quick?: { storageBandwidth?: RateValue; format?: string; handoverMs?: number };
}

type Kind = 'string' | 'number' | 'rate';

/** Every key of `ScenarioView` the reports print, with what it must be. */
const PRINTED: Record<string, Record<string, Kind>> = {
  '': { name: 'string', seed: 'number' },
  guest: { memory: 'number', pageSize: 'number', vcpus: 'number', deviceState: 'number' },
  workload: { pattern: 'string', dirtyRate: 'number', workingSet: 'number', hotFraction: 'number' },
  link: { bandwidth: 'rate', latencyMs: 'number' },
  precopy: { downtimeLimitMs: 'number', maxBandwidth: 'rate', policy: 'string', timeoutMs: 'number' },
  quick: { storageBandwidth: 'rate', format: 'string', handoverMs: 'number' },
};

const EXPECTED: Record<Kind, string> = { string: 'a string', number: 'a number', rate: 'a rate in bytes/s or "unlimited"' };

function fits(v: unknown, kind: Kind): boolean {
  if (v === undefined || v === null) return true;
  if (kind === 'string') return typeof v === 'string';
  if (kind === 'rate' && v === 'unlimited') return true;
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * The first problem of an embedded scenario, as a message starting with the key path under `at`
 * (`scenario.guest.vcpus: expected a number, got "<b>"`), or null when the reports can print it.
 */
export function scenarioViewProblem(raw: unknown, at: string): string | null {
  if (!isObject(raw)) return `${at}: expected the resolved scenario (an object), got ${describeValue(raw)}`;
  for (const [section, keys] of Object.entries(PRINTED)) {
    const where = section === '' ? at : `${at}.${section}`;
    const o = section === '' ? raw : raw[section];
    if (o === undefined || o === null) continue;
    if (!isObject(o)) return `${where}: expected an object, got ${describeValue(o)}`;
    for (const [key, kind] of Object.entries(keys)) {
      if (!fits(o[key], kind)) return `${where}.${key}: expected ${EXPECTED[kind]}, got ${describeValue(o[key])}`;
    }
  }
  return null;
}
