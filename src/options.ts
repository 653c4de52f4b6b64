/**
 * The scenario: what the user writes (all keys optional) and what migbench runs (every key resolved,
 * in base units, frozen). The keys are declared once, in scenario/keys.ts (kind, unit, default, rule,
 * meaning); validation (scenario/resolve.ts), the README's key table and the JSON Schema
 * (results/scenario.schema.json) come from there. A bad value gets one line naming the key, the rule
 * and the value: ``guest.memory: expected a size like "64MiB", got "64 potatoes"``.
 *
 * The resolved form keeps the user's keys, with numbers in base units (bytes, bytes/s, pages/s, ms)
 * and Infinity for "unlimited" (written back as "unlimited" in JSON), so a resolved scenario is
 * itself a valid scenario file. This file adds what works on whole scenarios: `--set` overrides, the
 * JSON form, and warnings.
 */
import { MigbenchError } from './errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.ts';
import { decimalSize, formatBitRate, formatByteRate, formatBytes, formatCount, parseSizeBytes } from './units.ts';
import { fail, isPlainObject } from './scenario/refuse.ts';
import { valueAt } from './scenario/resolve.ts';
import { SCENARIO_KEY_DECLS } from './scenario/keys.ts';
import { POLICY_PARAM_DECLS } from './scenario/policy-params.ts';
import type { Scenario } from './scenario/types.ts';

export type { AutoConverge, CompressionCodec, FillInput, Scenario, ScenarioInput } from './scenario/types.ts';
export { COMPRESSION_CODECS, COMPRESSION_LEVELS } from './scenario/types.ts';
export { MAX_FLEET_GUESTS, MAX_PAGE_SIZE, MAX_VCPUS, MIN_PAGE_SIZE, SCENARIO_KEY_DECLS } from './scenario/keys.ts';
export { SCENARIO_KEY_PATHS, suggestKey } from './scenario/key-tree.ts';
export { SCENARIO_KEYS } from './scenario/docs.ts';
export { resolveScenario } from './scenario/resolve.ts';

/** JSON form of a resolved scenario: Infinity becomes "unlimited". */
export function scenarioToJson(s: Scenario): unknown {
  return JSON.parse(JSON.stringify(s, (_k, v) => (v === Infinity ? 'unlimited' : v)));
}

/**
 * Apply `--set key.path=value` overrides to a scenario input (a copy). The value is read as JSON when
 * it parses (numbers, true/false, null, objects), else taken as a string: `--set workload.dirtyRate=50000/s`.
 */
export function applyOverrides(input: unknown, sets: readonly string[]): Record<string, unknown> {
  // A scenario (a file's JSON) is an object; anything else (an array, a string, a number, null) is
  // refused here, where it used to become {} and run the default scenario without a word.
  // `undefined` means no scenario was given (the default one).
  if (input !== undefined && !isPlainObject(input)) fail('scenario', 'expected a JSON object (a scenario)', input);
  // refused before structuredClone and the checks recurse into it (they would throw a RangeError)
  if (nestedDeeperThan(input)) throw new MigbenchError('E_SCENARIO', `scenario: nested more than ${MAX_JSON_DEPTH} levels deep (a scenario nests a few)`);
  const out: Record<string, unknown> = input === undefined ? {} : structuredClone(input);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new MigbenchError('E_USAGE', `--set: expected key.path=value, got ${JSON.stringify(s)}`);
    const path = s.slice(0, eq).trim().split('.');
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    if (nestedDeeperThan(value)) throw new MigbenchError('E_SCENARIO', `--set ${s.slice(0, eq).trim()}: nested more than ${MAX_JSON_DEPTH} levels deep (a scenario nests a few)`);
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new MigbenchError('E_USAGE', `--set: bad key path ${JSON.stringify(s.slice(0, eq))}`);
    }
    let node: Record<string, unknown> = out;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (next === undefined) node[path[i]] = {};
      else if (!isPlainObject(next)) fail(path.slice(0, i + 1).join('.'), 'expected an object to set a key in', next);
      node = node[path[i]] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

/** Size keys: a decimal unit there ("64MB") is accepted with a warning (`scenarioWarnings`). */
const SIZE_KEY_PATHS: readonly string[] = SCENARIO_KEY_DECLS.filter((d) => d.kind === 'size').map((d) => d.key);
/** Byte-rate keys: a bare number there is bytes/s. */
const BYTE_RATE_KEY_PATHS: readonly string[] = [
  ...SCENARIO_KEY_DECLS.filter((d) => d.kind === 'rate').map((d) => d.key),
  ...POLICY_PARAM_DECLS.filter((d) => d.kind === 'rate').map((d) => `precopy.policyParams.${d.key}`),
];

/**
 * What a valid scenario input says that it may not mean, one line per key (pure; the CLI prints them
 * on stderr as warnings): a size with a decimal unit ("64MB" is 64,000,000 bytes, 61.0 MiB, where QEMU
 * and most memory sizes read M as MiB). The reading is kept; the line names it and the binary spelling.
 */
export function scenarioWarnings(input: unknown): string[] {
  const out: string[] = [];
  for (const path of SIZE_KEY_PATHS) {
    const v = valueAt(input, path);
    const d = decimalSize(v);
    if (d === null) continue;
    const binary = d.binary === null ? null : parseSizeBytes(d.binary);
    const instead = binary === null ? 'binary units are KiB, MiB, GiB, TiB' : `write "${d.binary}" for ${formatBytes(binary)}`;
    out.push(`${path}: ${JSON.stringify(v)} is decimal, ${formatCount(d.bytes)} bytes (${formatBytes(d.bytes)}); ${instead}, or ${d.bytes} to keep this size without this warning`);
  }
  return out;
}

/**
 * Warnings for `--set key=value` overrides (pure): a bare number for a byte rate is bytes/s, as in a
 * scenario file (QMP's max-bandwidth, and the resolved scenarios migbench writes), but on a command
 * line QEMU's HMP `migrate_set_parameter max-bandwidth` and `virsh migrate-setspeed` read MiB/s, and
 * tc or iperf users think in bits: the line names the unit assumed. (workload.dirtyRate has one unit,
 * page writes/s, so a bare number there is unambiguous.)
 */
export function overrideWarnings(sets: readonly string[], flag = '--set'): string[] {
  const out: string[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) continue;
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1).trim();
    if (!BYTE_RATE_KEY_PATHS.includes(key)) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) continue;
    const n = /^(\d+(\.\d+)?|\.\d+)$/.test(raw) ? raw : String(value);
    out.push(`${flag} ${key}=${raw}: a bare number is read as bytes/s, ${formatByteRate(value)} (${formatBitRate(value)}); give the unit you mean, e.g. "${n}MiB/s" or "${n}Mbit/s" ("${n}B/s" keeps this reading without this warning)`);
  }
  return out;
}
