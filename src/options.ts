/**
 * The scenario: what the user writes (all keys optional) and what migbench runs (every key resolved,
 * in base units, frozen). Every check and its message live here. A bad value gets one line naming
 * the key, the rule and the value: ``guest.memory: expected a size like "64MiB", got "64 potatoes"``.
 *
 * The resolved form keeps the user's keys, with numbers in base units (bytes, bytes/s, pages/s, ms)
 * and Infinity for "unlimited" (written back as "unlimited" in JSON), so a resolved scenario is
 * itself a valid scenario file.
 */
import { MigbenchError } from './errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.ts';
import { PATTERN_NAMES, type PatternName } from './workload/patterns.ts';
import { DEFAULT_POLICY_PARAMS, MAX_CHANNELS, POLICY_NAMES, type PolicyName, type PolicyParams } from './precopy-params.ts';

export interface AutoConverge {
  /** first throttle, percent (QEMU cpu-throttle-initial, 20) */
  readonly initial: number;
  /** each further step, percent (cpu-throttle-increment, 10) */
  readonly increment: number;
  /** at most, percent (max-cpu-throttle, 99) */
  readonly max: number;
  /** dirtied/sent ratio in percent above which a period counts as too fast (throttle-trigger-threshold, 50) */
  readonly triggerThreshold: number;
}
import { decimalSize, formatBitRate, formatByteRate, formatBytes, formatCount, parseDurationMs, parsePerSecond, parseRateBytesPerSec, parseSizeBytes, rateUnitHint, sizeUnitHint } from './units.ts';
import { nearest, orList } from './suggest.ts';

export type FillInput = 'zero' | 'random' | 'text' | { zero?: number; random?: number; text?: number };

export const COMPRESSION_CODECS = ['none', 'zlib', 'zstd'] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];
/** Level range per codec, as QEMU's multifd-zlib-level and multifd-zstd-level ('none' keeps zlib's). */
export const COMPRESSION_LEVELS: Record<CompressionCodec, { min: number; max: number }> = {
  none: { min: 0, max: 9 },
  zlib: { min: 0, max: 9 },
  zstd: { min: 0, max: 20 },
};

/** What a scenario file may say. Units: see SCENARIO_KEYS. */
export interface ScenarioInput {
  name?: string;
  seed?: number;
  guest?: { memory?: string | number; pageSize?: string | number; vcpus?: number; fill?: FillInput; deviceState?: string | number };
  workload?: {
    pattern?: PatternName;
    dirtyRate?: string | number;
    workingSet?: string | number;
    hotFraction?: number;
    zipfExponent?: number;
    writeBytes?: number;
    readRate?: string | number;
  };
  link?: { bandwidth?: string | number; latencyMs?: number | string };
  quick?: {
    storageBandwidth?: string | number;
    handoverMs?: number | string;
    format?: 'stream' | 'mapped';
    dir?: string | null;
    path?: string | null;
    keepImage?: boolean;
  };
  /** simulate mode: a host evacuation of `count` guests like this one, `concurrency` at a time */
  fleet?: { count?: number; concurrency?: number } | null;
  /** post-copy after pre-copy (QEMU postcopy-ram) */
  postcopy?: { enabled?: boolean; startAfterRounds?: number; maxBandwidth?: string | number; preempt?: boolean; recovery?: boolean };
  /** a link failure during the migration */
  faults?: { linkDownAtMs?: number | string | null; linkDownForMs?: number | string };
  precopy?: {
    downtimeLimitMs?: number | string;
    maxBandwidth?: string | number;
    policy?: PolicyName;
    policyParams?: Record<string, unknown>;
    autoConverge?: boolean | { initial?: number; increment?: number; max?: number; triggerThreshold?: number };
    dirtyLimit?: string | number | null;
    xbzrle?: { enabled?: boolean; cacheSize?: string | number };
    compression?: 'none' | 'zlib' | 'zstd';
    compressionLevel?: number;
    channels?: number;
    maxRounds?: number | null;
    timeoutMs?: number | string;
    onTimeout?: 'cancel' | 'force';
  };
}

/** The resolved scenario: complete, in base units, frozen. */
export interface Scenario {
  readonly name: string;
  readonly seed: number;
  readonly guest: {
    /** bytes */ readonly memory: number;
    /** bytes, a power of two */ readonly pageSize: number;
    readonly vcpus: number;
    /** weights of zero / random / text pages, summing to 1 */
    readonly fill: { readonly zero: number; readonly random: number; readonly text: number };
    /** bytes of device state sent during the downtime */ readonly deviceState: number;
  };
  readonly workload: {
    readonly pattern: PatternName;
    /** page writes per second, all vCPUs together */ readonly dirtyRate: number;
    /** bytes of the hot set (hotset pattern) */ readonly workingSet: number;
    readonly hotFraction: number;
    readonly zipfExponent: number;
    /** bytes changed per page write */ readonly writeBytes: number;
    /** page reads per second, all vCPUs together (they fault in post-copy too); 0 = none */ readonly readRate: number;
  };
  readonly link: { /** bytes/s; Infinity = unlimited */ readonly bandwidth: number; readonly latencyMs: number };
  readonly precopy: {
    readonly downtimeLimitMs: number;
    /** bytes/s for the live rounds; Infinity = unlimited */ readonly maxBandwidth: number;
    readonly policy: PolicyName;
    /** the chosen policy's parameters, each resolved (defaults from DEFAULT_POLICY_PARAMS); only its own keys */
    readonly policyParams: Partial<PolicyParams>;
    /** QEMU auto-converge: throttle steps in percent, or null when off */
    readonly autoConverge: AutoConverge | null;
    /** QEMU dirty-limit: bytes/s each vCPU may dirty once armed, or null when off */
    readonly dirtyLimit: number | null;
    /** QEMU XBZRLE: delta-encode re-sent pages against a page cache of cacheSize bytes (a power of two) */
    readonly xbzrle: { readonly enabled: boolean; readonly cacheSize: number };
    /** generic compression of normal pages on the link (QEMU multifd-compression) */
    readonly compression: CompressionCodec;
    /** zlib level 0–9 (QEMU multifd-zlib-level, 1); zstd level 0–20 (QEMU multifd-zstd-level, 1) */
    readonly compressionLevel: number;
    /** parallel channels (QEMU multifd-channels), 1 … 16; 1 = the single lane */
    readonly channels: number;
    readonly maxRounds: number | null;
    readonly timeoutMs: number;
    readonly onTimeout: 'cancel' | 'force';
  };
  readonly quick: {
    /** bytes/s of the shared storage, for writing and for reading; Infinity = this machine's disk */
    readonly storageBandwidth: number;
    /** modelled hand-over of the storage to the target host */
    readonly handoverMs: number;
    readonly format: 'stream' | 'mapped';
    /** folder for the image; null = the OS temp folder */
    readonly dir: string | null;
    /** the image file itself (overrides dir); null = a new file in dir */
    readonly path: string | null;
    readonly keepImage: boolean;
  };
  /** post-copy (QEMU postcopy-ram): after `startAfterRounds` live rounds the guest resumes on the destination and faults missing pages in */
  readonly postcopy: {
    readonly enabled: boolean;
    /** live rounds (bulk included) before the switch to post-copy (1: after the bulk round, virsh --postcopy-after-precopy) */
    readonly startAfterRounds: number;
    /** bytes/s of the post-copy phase (QEMU max-postcopy-bandwidth); Infinity = the link's rate */
    readonly maxBandwidth: number;
    /** requested pages on a lane of their own, ahead of the background push (QEMU postcopy-preempt) */
    readonly preempt: boolean;
    /** survive a link failure during post-copy (QEMU postcopy-paused / migrate-recover) */
    readonly recovery: boolean;
  };
  /** a link failure: it goes down `linkDownAtMs` after the migration request (null: never) for `linkDownForMs` */
  readonly faults: { readonly linkDownAtMs: number | null; readonly linkDownForMs: number };
  /** a host evacuation (simulate mode): `count` guests like this one share the link, `concurrency` at a time; null = one guest */
  readonly fleet: { readonly count: number; readonly concurrency: number } | null;
}

/** Documentation of every key: used by the README and checked by a test against it. */
export const SCENARIO_KEYS: readonly { key: string; unit: string; default: string; meaning: string }[] = [
  { key: 'name', unit: 'text', default: '"default"', meaning: 'a label for reports' },
  { key: 'seed', unit: 'integer', default: '1', meaning: 'seeds guest content and every vCPU\'s writes' },
  { key: 'guest.memory', unit: 'bytes ("64MiB", "1GiB")', default: '"1GiB"', meaning: 'guest RAM, a multiple of the page size, held in RAM blocks of at most 1 GiB' },
  { key: 'guest.pageSize', unit: 'bytes, a power of two, 512 B … 2 MiB', default: '4096', meaning: 'unit of memory and of dirty tracking' },
  { key: 'guest.vcpus', unit: 'count, 1 … 64', default: '2', meaning: 'vCPU worker threads that dirty memory' },
  { key: 'guest.fill', unit: '"zero" | "random" | "text" | { zero, random, text } weights', default: '"random"', meaning: 'initial content of each page, drawn from the seed' },
  { key: 'guest.deviceState', unit: 'bytes', default: '"256KiB"', meaning: 'device state sent in the stop-and-copy' },
  { key: 'workload.pattern', unit: PATTERN_NAMES.map((p) => `"${p}"`).join(' | '), default: '"hotset"', meaning: 'which pages the vCPUs write' },
  { key: 'workload.dirtyRate', unit: 'page writes/s ("20000/s", "20k/s")', default: '"20000/s"', meaning: 'total over all vCPUs, held over 100 ms windows' },
  { key: 'workload.workingSet', unit: 'bytes', default: '"128MiB" (at most guest.memory)', meaning: 'hotset: size of the hot set (the first pages of memory)' },
  { key: 'workload.hotFraction', unit: '0 … 1', default: '0.9', meaning: 'hotset: share of writes that go to the hot set (the rest: anywhere)' },
  { key: 'workload.zipfExponent', unit: '> 0', default: '0.99', meaning: 'zipf: skew s of P(rank k) ∝ k^-s' },
  { key: 'workload.writeBytes', unit: 'bytes, 1 … pageSize', default: '8', meaning: 'bytes each page write changes' },
  { key: 'workload.readRate', unit: 'page reads/s ("5000/s")', default: '0', meaning: 'reads of pages by the same pattern, all vCPUs together; they change nothing, but in post-copy a read of a missing page faults like a write' },
  { key: 'link.bandwidth', unit: 'rate ("1Gbit/s", "128MiB/s") or "unlimited"', default: '"1Gbit/s"', meaning: 'the link between source and destination' },
  { key: 'link.latencyMs', unit: 'ms', default: '0', meaning: 'one-way delay of every frame' },
  { key: 'precopy.downtimeLimitMs', unit: 'ms', default: '300', meaning: 'QEMU downtime-limit: switch over when pending bytes < bandwidth × this' },
  { key: 'precopy.maxBandwidth', unit: 'rate or "unlimited"', default: 'link.bandwidth', meaning: 'QEMU max-bandwidth: rate limit of the live rounds (the stop-and-copy runs at the link rate)' },
  { key: 'precopy.policy', unit: POLICY_NAMES.map((p) => `"${p}"`).join(' | '), default: '"qemu"', meaning: 'when to stop and copy (see "Convergence policies")' },
  { key: 'precopy.policyParams', unit: 'object (keys per policy)', default: '{} (the real systems\' defaults)', meaning: 'parameters of the policy, e.g. { "xenVariant": "legacy" } (see "Convergence policies")' },
  { key: 'precopy.autoConverge', unit: 'true | false | { initial, increment, max, triggerThreshold } (percent)', default: 'false', meaning: 'QEMU auto-converge: throttle the vCPUs when they dirty more than half of what is sent, twice; 20 %, then +10 % up to 99 %' },
  { key: 'precopy.dirtyLimit', unit: 'rate per vCPU ("1MB/s") or null', default: 'null', meaning: 'QEMU dirty-limit: armed by the same trigger, caps each vCPU\'s dirtying rate' },
  { key: 'precopy.xbzrle', unit: '{ enabled: true | false, cacheSize: bytes, a power of two }', default: '{ "enabled": false, "cacheSize": "64MiB" }', meaning: 'QEMU XBZRLE: re-sent pages go as deltas against the copy last sent, kept in a page cache (not in the bulk round)' },
  { key: 'precopy.compression', unit: '"none" | "zlib" | "zstd"', default: '"none"', meaning: 'compress the normal pages of each frame (QEMU multifd-compression); a frame that does not shrink goes uncompressed' },
  { key: 'precopy.compressionLevel', unit: 'zlib 0 … 9, zstd 0 … 20', default: '1', meaning: 'QEMU multifd-zlib-level / multifd-zstd-level (zstd reads 0 as its default, 3)' },
  { key: 'precopy.channels', unit: `count, 1 … ${MAX_CHANNELS}`, default: '1', meaning: 'parallel channels (QEMU multifd-channels): worker threads that copy, zero-check, encode, compress and send 512 KiB packets on lanes of their own, sharing the link\'s rate; flushed at every dirty sync' },
  { key: 'precopy.maxRounds', unit: 'count or null', default: 'null (no limit)', meaning: 'live rounds (bulk included) before a forced stop-and-copy' },
  { key: 'precopy.timeoutMs', unit: 'ms', default: '120000', meaning: 'limit on the live phase' },
  { key: 'quick.storageBandwidth', unit: 'rate or "unlimited"', default: '"200MiB/s"', meaning: 'shared storage rate, enforced on saving and on restoring ("unlimited": this machine\'s disk)' },
  { key: 'quick.handoverMs', unit: 'ms', default: '0', meaning: 'modelled hand-over of the storage (cluster disk ownership) to the target' },
  { key: 'quick.format', unit: '"stream" | "mapped"', default: '"stream"', meaning: 'image format: page records in order, or pages at fixed offsets in a sparse file' },
  { key: 'quick.dir', unit: 'folder or null', default: 'null (the OS temp folder)', meaning: "where the image's new private folder (migbench-XXXXXX) is made" },
  { key: 'quick.path', unit: 'file or null', default: 'null (a new file in a new folder in quick.dir)', meaning: 'the image file itself; must not exist yet (--force on the command line replaces a regular file)' },
  { key: 'quick.keepImage', unit: 'true | false', default: 'false', meaning: 'keep the image after the run (else it is removed)' },
  { key: 'precopy.onTimeout', unit: '"cancel" | "force"', default: '"cancel"', meaning: 'at the timeout: give up (the guest stays on the source) or stop and copy now' },
  { key: 'postcopy.enabled', unit: 'true | false', default: 'false', meaning: 'QEMU postcopy-ram: after startAfterRounds live rounds, pause, send the device state and the list of missing pages, resume the guest on the destination and fetch each page it touches on demand while the rest is pushed (emulate mode)' },
  { key: 'postcopy.startAfterRounds', unit: 'count, 1 … 1000', default: '1 (after the bulk round, as virsh --postcopy-after-precopy)', meaning: 'live rounds (bulk included) before the switch to post-copy; a pre-copy that converges sooner completes as pre-copy' },
  { key: 'postcopy.maxBandwidth', unit: 'rate or "unlimited"', default: '"unlimited" (the link\'s rate)', meaning: 'QEMU max-postcopy-bandwidth: rate limit of the post-copy phase' },
  { key: 'postcopy.preempt', unit: 'true | false', default: 'true', meaning: 'QEMU postcopy-preempt: requested pages go ahead of the background push instead of waiting behind its frames' },
  { key: 'postcopy.recovery', unit: 'true | false', default: 'false', meaning: 'QEMU postcopy recovery: survive a link failure during post-copy (not built yet: refused when true)' },
  { key: 'faults.linkDownAtMs', unit: 'ms or null', default: 'null (the link never fails)', meaning: 'the link dies this long after the migration request: pre-copy ends `failed` with the guest running on the source; post-copy ends `failed` with the guest lost (emulate mode)' },
  { key: 'faults.linkDownForMs', unit: 'ms', default: '0', meaning: 'how long the link stays down (what postcopy.recovery would wait out; not built yet)' },
  { key: 'fleet', unit: 'null or { count, concurrency }', default: 'null (one guest)', meaning: 'simulate mode: evacuate a host of `count` guests like this one over the one link, at most `concurrency` migrating at a time' },
  { key: 'fleet.count', unit: `count, 1 … ${10_000}`, default: '1', meaning: 'guests on the host (each with its own seed, derived from `seed`)' },
  { key: 'fleet.concurrency', unit: 'count, 1 … fleet.count', default: '1', meaning: 'migrations at a time; they share link.bandwidth equally' },
];

const GIB = 2 ** 30;
export const MAX_VCPUS = 64;
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 2 * 1024 * 1024;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    // JSON.stringify gives up on deep nesting (and String() of a deep array too: found by fuzzing)
    return Array.isArray(value) ? 'an array' : typeof value === 'object' && value !== null ? 'an object' : String(value);
  }
}

function fail(key: string, rule: string, value: unknown): never {
  throw new MigbenchError('E_SCENARIO', `${key}: ${rule}, got ${show(value)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function section(input: Record<string, unknown>, name: string, allowed: readonly string[]): Record<string, unknown> {
  const v = input[name];
  if (v === undefined) return {};
  if (!isPlainObject(v)) fail(name, 'expected an object', v);
  rejectUnknown(v, allowed, `${name}.`);
  return v;
}

/** The keys of every block of a scenario ('' is the top level): what is checked, and what "did you mean" searches. */
const BLOCK_KEYS = {
  '': ['name', 'seed', 'guest', 'workload', 'link', 'precopy', 'quick', 'postcopy', 'faults', 'fleet'],
  guest: ['memory', 'pageSize', 'vcpus', 'fill', 'deviceState'],
  'guest.fill': ['zero', 'random', 'text'],
  workload: ['pattern', 'dirtyRate', 'workingSet', 'hotFraction', 'zipfExponent', 'writeBytes', 'readRate'],
  link: ['bandwidth', 'latencyMs'],
  precopy: ['downtimeLimitMs', 'maxBandwidth', 'policy', 'policyParams', 'autoConverge', 'dirtyLimit', 'xbzrle', 'compression', 'compressionLevel', 'channels', 'maxRounds', 'timeoutMs', 'onTimeout'],
  'precopy.xbzrle': ['enabled', 'cacheSize'],
  'precopy.autoConverge': ['initial', 'increment', 'max', 'triggerThreshold'],
  quick: ['storageBandwidth', 'handoverMs', 'format', 'dir', 'path', 'keepImage'],
  postcopy: ['enabled', 'startAfterRounds', 'maxBandwidth', 'preempt', 'recovery'],
  faults: ['linkDownAtMs', 'linkDownForMs'],
  fleet: ['count', 'concurrency'],
} as const satisfies Record<string, readonly string[]>;

/** Every key path of a scenario: `guest.memory`, `precopy.xbzrle.cacheSize`, … (blocks included). */
export const SCENARIO_KEY_PATHS: readonly string[] = Object.entries(BLOCK_KEYS).flatMap(([block, keys]) => keys.map((k) => (block ? `${block}.${k}` : k)));

/**
 * "did you mean …" for an unknown key `k` in `block` ('' = top level), or null: a near spelling in
 * the same block first; else the same or a near name in another block (`downtimeLimitMs` at the top
 * → `precopy.downtimeLimitMs`, `guest.dirtyRate` → `workload.dirtyRate`); a dotted key that names a
 * path is told to nest.
 */
export function suggestKey(block: string, k: string): string | null {
  const full = block ? `${block}.${k}` : k;
  if (k.includes('.') && SCENARIO_KEY_PATHS.includes(full)) {
    const parts = full.split('.');
    return `a key is one name, not a path: nest it, { ${parts.map((p) => `"${p}": {`).join(' ').slice(0, -2)} … ${'}'.repeat(parts.length - 1)} }`;
  }
  const own = (BLOCK_KEYS as Record<string, readonly string[]>)[block] ?? [];
  const same = nearest(k, own);
  if (same.length > 0) return `did you mean ${orList(same.map((c) => (block ? `${block}.${c}` : c)))}?`;
  const elsewhere = SCENARIO_KEY_PATHS.filter((path) => path.lastIndexOf('.') >= 0 ? path.slice(0, path.lastIndexOf('.')) !== block : block !== '');
  const leaf = (path: string): string => path.slice(path.lastIndexOf('.') + 1);
  const names = nearest(k.slice(k.lastIndexOf('.') + 1), elsewhere.map(leaf));
  if (names.length === 0) return null;
  return `did you mean ${orList(elsewhere.filter((path) => names.includes(leaf(path))).slice(0, 3))}?`;
}

function rejectUnknown(obj: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const hint = suggestKey(prefix.replace(/\.$/, ''), k);
    fail(`${prefix}${k}`, hint ? `unknown key (${hint}); known: ${allowed.join(', ')}` : `unknown key (known: ${allowed.join(', ')})`, obj[k]);
  }
}

function size(key: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const n = parseSizeBytes(v);
  if (n === null) {
    const hint = sizeUnitHint(v);
    fail(key, hint ? `expected a size like "64MiB" (${hint})` : 'expected a size like "64MiB"', v);
  }
  return n;
}

function rate(key: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const n = parseRateBytesPerSec(v);
  if (n === null) {
    const hint = rateUnitHint(v);
    fail(key, hint ? `expected a rate like "1Gbit/s", "128MiB/s" or "unlimited" (${hint})` : 'expected a rate like "1Gbit/s", "128MiB/s" or "unlimited"', v);
  }
  return n;
}

function duration(key: string, v: unknown, dflt: number, positive: boolean): number {
  if (v === undefined) return dflt;
  const n = parseDurationMs(v);
  if (n === null) fail(key, 'expected milliseconds (a number, or a string like "300ms")', v);
  if (positive && n <= 0) fail(key, 'must be greater than 0', v);
  return n;
}

function num(key: string, v: unknown, dflt: number, check: (n: number) => string | null): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(key, 'expected a number', v);
  const problem = check(v);
  if (problem) fail(key, problem, v);
  return v;
}

function oneOf<T extends string>(key: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(key, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  return v as T;
}

function fill(v: unknown): Scenario['guest']['fill'] {
  if (v === undefined) return { zero: 0, random: 1, text: 0 };
  if (typeof v === 'string') {
    const kind = oneOf('guest.fill', v, ['zero', 'random', 'text'], 'random');
    return { zero: kind === 'zero' ? 1 : 0, random: kind === 'random' ? 1 : 0, text: kind === 'text' ? 1 : 0 };
  }
  if (!isPlainObject(v)) fail('guest.fill', 'expected "zero", "random", "text" or an object of weights like { "zero": 0.3, "random": 0.7 }', v);
  rejectUnknown(v, BLOCK_KEYS['guest.fill'], 'guest.fill.');
  const w = { zero: 0, random: 0, text: 0 };
  for (const k of ['zero', 'random', 'text'] as const) {
    w[k] = num(`guest.fill.${k}`, v[k], 0, (n) => (n < 0 ? 'must not be negative' : null));
  }
  const sum = w.zero + w.random + w.text;
  if (!(sum > 0)) fail('guest.fill', 'weights must add up to more than 0', v);
  // Weights that already add up to 1 (to rounding) are kept as they are: dividing normalized weights
  // by their float sum moves them by an ulp, so a result's resolved scenario, resolved again, had
  // other weights (found by fuzzing).
  if (Math.abs(sum - 1) <= 1e-12) return w;
  return { zero: w.zero / sum, random: w.random / sum, text: w.text / sum };
}

/**
 * The rule for a size refused for its value when the user wrote it with a decimal unit (a likely
 * slip for the binary one): `"1GB" is decimal, 1,000,000,000 bytes, not a multiple of …; write
 * "1GiB" for 1,073,741,824 bytes`. null when the value has no decimal unit.
 */
function decimalRefusal(v: unknown, why: string): string | null {
  const d = decimalSize(v);
  if (d === null) return null;
  const binary = d.binary === null ? null : parseSizeBytes(d.binary);
  return `${JSON.stringify(v)} is decimal, ${formatCount(d.bytes)} bytes, ${why}${binary === null ? '; binary units are KiB, MiB, GiB, TiB' : `; write "${d.binary}" for ${formatCount(binary)} bytes`}`;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Validate and resolve a scenario. Throws MigbenchError E_SCENARIO on the first bad key. */
export function resolveScenario(input: unknown): Scenario {
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) fail('scenario', 'expected a JSON object', input);
  rejectUnknown(input, BLOCK_KEYS[''], '');
  const g = section(input, 'guest', BLOCK_KEYS.guest);
  const w = section(input, 'workload', BLOCK_KEYS.workload);
  const l = section(input, 'link', BLOCK_KEYS.link);
  const p = section(input, 'precopy', BLOCK_KEYS.precopy);
  const q = section(input, 'quick', BLOCK_KEYS.quick);
  const pc = section(input, 'postcopy', BLOCK_KEYS.postcopy);
  const fl = section(input, 'faults', BLOCK_KEYS.faults);

  const name = input.name === undefined ? 'default' : input.name;
  if (typeof name !== 'string' || name.length === 0) fail('name', 'expected a non-empty string', name);
  const seed = num('seed', input.seed, 1, (n) => (Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? null : 'expected an integer from 0 to 4294967295'));

  const pageSize = size('guest.pageSize', g.pageSize, 4096);
  if (!isPowerOfTwo(pageSize)) fail('guest.pageSize', decimalRefusal(g.pageSize, 'not a power of two') ?? 'must be a power of two', g.pageSize);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE) fail('guest.pageSize', `must be from ${MIN_PAGE_SIZE} B to 2 MiB`, g.pageSize);
  const memory = size('guest.memory', g.memory, GIB);
  if (memory <= 0) fail('guest.memory', 'must be greater than 0', g.memory);
  if (memory % pageSize !== 0) fail('guest.memory', decimalRefusal(g.memory, `not a multiple of guest.pageSize (${pageSize} B)`) ?? `must be a multiple of guest.pageSize (${pageSize} B)`, g.memory);
  const vcpus = num('guest.vcpus', g.vcpus, 2, (n) => (Number.isInteger(n) && n >= 1 && n <= MAX_VCPUS ? null : `expected an integer from 1 to ${MAX_VCPUS}`));
  const deviceState = size('guest.deviceState', g.deviceState, 256 * 1024);
  if (deviceState > GIB) fail('guest.deviceState', 'must be at most 1 GiB', g.deviceState);

  const pattern = oneOf('workload.pattern', w.pattern, PATTERN_NAMES, 'hotset');
  let dirtyRate = 20000;
  if (w.dirtyRate !== undefined) {
    const r = parsePerSecond(w.dirtyRate);
    if (r === null) fail('workload.dirtyRate', 'expected page writes per second like "20000/s"', w.dirtyRate);
    dirtyRate = r;
  }
  const workingSet = size('workload.workingSet', w.workingSet, Math.min(128 * 1024 * 1024, memory));
  if (workingSet <= 0) fail('workload.workingSet', 'must be greater than 0', w.workingSet);
  if (workingSet > memory) fail('workload.workingSet', `must not exceed guest.memory (${formatBytes(memory)})`, w.workingSet);
  const hotFraction = num('workload.hotFraction', w.hotFraction, 0.9, (n) => (n >= 0 && n <= 1 ? null : 'must be from 0 to 1'));
  const zipfExponent = num('workload.zipfExponent', w.zipfExponent, 0.99, (n) => (n > 0 && n <= 10 ? null : 'must be greater than 0 (and at most 10)'));
  const writeBytes = num('workload.writeBytes', w.writeBytes, 8, (n) =>
    Number.isInteger(n) && n >= 1 && n <= pageSize ? null : `expected an integer from 1 to guest.pageSize (${pageSize})`,
  );
  let readRate = 0;
  if (w.readRate !== undefined) {
    const r = parsePerSecond(w.readRate);
    if (r === null) fail('workload.readRate', 'expected page reads per second like "5000/s"', w.readRate);
    readRate = r;
  }

  const bandwidth = rate('link.bandwidth', l.bandwidth, 125_000_000);
  const latencyMs = duration('link.latencyMs', l.latencyMs, 0, false);
  if (latencyMs > 10_000) fail('link.latencyMs', 'must be at most 10000', l.latencyMs);

  const downtimeLimitMs = duration('precopy.downtimeLimitMs', p.downtimeLimitMs, 300, true);
  const maxBandwidth = rate('precopy.maxBandwidth', p.maxBandwidth, bandwidth);
  const policy = oneOf('precopy.policy', p.policy, POLICY_NAMES, 'qemu');
  const policyParams = resolvePolicyParams(policy, p.policyParams);
  const autoConverge = resolveAutoConverge(p.autoConverge);
  let dirtyLimit: number | null = null;
  if (p.dirtyLimit !== undefined && p.dirtyLimit !== null) {
    dirtyLimit = rate('precopy.dirtyLimit', p.dirtyLimit, 0);
    if (!Number.isFinite(dirtyLimit)) fail('precopy.dirtyLimit', 'expected a finite rate per vCPU like "1MB/s", or null', p.dirtyLimit);
  }
  const xbzrle = resolveXbzrle(p.xbzrle, pageSize);
  const compression = oneOf('precopy.compression', p.compression, COMPRESSION_CODECS, 'none');
  const levels = COMPRESSION_LEVELS[compression];
  const compressionLevel = num('precopy.compressionLevel', p.compressionLevel, 1, (n) =>
    Number.isInteger(n) && n >= levels.min && n <= levels.max ? null : `expected an integer from ${levels.min} to ${levels.max}${compression === 'zstd' ? ' for zstd' : ''}`,
  );
  const channels = num('precopy.channels', p.channels, 1, (n) => (Number.isInteger(n) && n >= 1 && n <= MAX_CHANNELS ? null : `expected an integer from 1 to ${MAX_CHANNELS}`));
  if (xbzrle.enabled && xbzrle.cacheSize / channels < pageSize) {
    // each channel keeps the XBZRLE cache of the pages it owns: cacheSize ÷ channels, at least a page
    fail('precopy.xbzrle.cacheSize', `must hold at least one page (${pageSize} B) per channel with precopy.channels ${channels}`, p.xbzrle && (p.xbzrle as Record<string, unknown>).cacheSize);
  }
  if (autoConverge && dirtyLimit !== null) fail('precopy.dirtyLimit', 'cannot be used together with precopy.autoConverge (as in QEMU)', p.dirtyLimit);
  let maxRounds: number | null = null;
  if (p.maxRounds !== undefined && p.maxRounds !== null) {
    maxRounds = num('precopy.maxRounds', p.maxRounds, 0, (n) => (Number.isInteger(n) && n >= 1 ? null : 'expected an integer >= 1 or null'));
  }
  const timeoutMs = duration('precopy.timeoutMs', p.timeoutMs, 120_000, true);
  const onTimeout = oneOf('precopy.onTimeout', p.onTimeout, ['cancel', 'force'] as const, 'cancel');

  const storageBandwidth = rate('quick.storageBandwidth', q.storageBandwidth, 200 * 1024 * 1024);
  const handoverMs = duration('quick.handoverMs', q.handoverMs, 0, false);
  const format = oneOf('quick.format', q.format, ['stream', 'mapped'] as const, 'stream');
  const dir = optionalPath('quick.dir', q.dir);
  const path = optionalPath('quick.path', q.path);
  let keepImage = false;
  if (q.keepImage !== undefined) {
    if (typeof q.keepImage !== 'boolean') fail('quick.keepImage', 'expected true or false', q.keepImage);
    keepImage = q.keepImage;
  }

  return deepFreeze({
    name,
    seed,
    guest: { memory, pageSize, vcpus, fill: fill(g.fill), deviceState },
    workload: { pattern, dirtyRate, workingSet, hotFraction, zipfExponent, writeBytes, readRate },
    link: { bandwidth, latencyMs },
    precopy: { downtimeLimitMs, maxBandwidth, policy, policyParams, autoConverge, dirtyLimit, xbzrle, compression, compressionLevel, channels, maxRounds, timeoutMs, onTimeout },
    quick: { storageBandwidth, handoverMs, format, dir, path, keepImage },
    postcopy: resolvePostcopy(pc),
    faults: {
      linkDownAtMs: fl.linkDownAtMs === null || fl.linkDownAtMs === undefined ? null : duration('faults.linkDownAtMs', fl.linkDownAtMs, 0, false),
      linkDownForMs: duration('faults.linkDownForMs', fl.linkDownForMs, 0, false),
    },
    fleet: resolveFleet(input.fleet),
  });
}

export const MAX_FLEET_GUESTS = 10_000;
export const MAX_POSTCOPY_START_ROUNDS = 1000;

/** `postcopy`: { enabled, startAfterRounds, maxBandwidth, preempt, recovery }. */
function resolvePostcopy(v: Record<string, unknown>): Scenario['postcopy'] {
  const bool = (k: 'enabled' | 'preempt' | 'recovery', dflt: boolean): boolean => {
    if (v[k] === undefined) return dflt;
    if (typeof v[k] !== 'boolean') fail(`postcopy.${k}`, 'expected true or false', v[k]);
    return v[k] as boolean;
  };
  const startAfterRounds = num('postcopy.startAfterRounds', v.startAfterRounds, 1, (n) =>
    Number.isInteger(n) && n >= 1 && n <= MAX_POSTCOPY_START_ROUNDS ? null : `expected an integer from 1 to ${MAX_POSTCOPY_START_ROUNDS}`,
  );
  const maxBandwidth = rate('postcopy.maxBandwidth', v.maxBandwidth, Infinity);
  if (!(maxBandwidth > 0)) fail('postcopy.maxBandwidth', 'must be greater than 0', v.maxBandwidth);
  return { enabled: bool('enabled', false), startAfterRounds, maxBandwidth, preempt: bool('preempt', true), recovery: bool('recovery', false) };
}

/** `fleet`: null, or { count, concurrency } with 1 <= concurrency <= count <= MAX_FLEET_GUESTS. */
function resolveFleet(v: unknown): Scenario['fleet'] {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) fail('fleet', 'expected null or an object like { "count": 8, "concurrency": 2 }', v);
  rejectUnknown(v, BLOCK_KEYS.fleet, 'fleet.');
  const count = num('fleet.count', v.count, 1, (n) => (Number.isInteger(n) && n >= 1 && n <= MAX_FLEET_GUESTS ? null : `expected an integer from 1 to ${MAX_FLEET_GUESTS}`));
  const concurrency = num('fleet.concurrency', v.concurrency, 1, (n) => (Number.isInteger(n) && n >= 1 ? (n <= count ? null : `must not exceed fleet.count (${count})`) : 'expected an integer of at least 1'));
  return { count, concurrency };
}

/** Which parameter keys each policy takes (the rest are refused, so a typo is caught). */
const POLICY_PARAM_KEYS: Record<PolicyName, readonly (keyof PolicyParams)[]> = {
  qemu: ['availSwitchoverBandwidth'],
  xen: ['xenVariant', 'xenMaxIterations', 'xenTargetDirtyPages', 'xenMaxFactor'],
  hyperv: ['hypervMaxPasses'],
  phaul: ['phaulMaxIterations', 'phaulMinPages', 'phaulMaxGrowth'],
  'cloud-hypervisor': [],
  vmotion: ['vmotionSwitchoverGoalMs'],
};

function resolvePolicyParams(policy: PolicyName, v: unknown): Partial<PolicyParams> {
  const all = resolveAllPolicyParams(policy, v);
  return Object.fromEntries(POLICY_PARAM_KEYS[policy].map((k) => [k, all[k]]));
}

/** "; did you mean …" for a parameter the policy does not take: a near name of its own, or the policy that takes it. */
function policyParamHint(policy: PolicyName, k: string): string {
  const own = nearest(k, POLICY_PARAM_KEYS[policy]);
  if (own.length > 0) return `; did you mean ${orList(own)}?`;
  const names = Object.values(POLICY_PARAM_KEYS).flat();
  const near = nearest(k, names);
  if (near.length === 0) return '';
  const owner = (POLICY_NAMES as readonly PolicyName[]).find((pn) => POLICY_PARAM_KEYS[pn].includes(near[0] as never));
  return near[0] === k ? `; ${k} is a parameter of policy "${owner}"` : `; did you mean ${near[0]} (policy "${owner}")?`;
}

function resolveAllPolicyParams(policy: PolicyName, v: unknown): PolicyParams {
  const out: { -readonly [K in keyof PolicyParams]: PolicyParams[K] } = { ...DEFAULT_POLICY_PARAMS };
  if (v === undefined) return out;
  if (!isPlainObject(v)) fail('precopy.policyParams', 'expected an object', v);
  const allowed = POLICY_PARAM_KEYS[policy];
  for (const k of Object.keys(v)) {
    if (!(allowed as readonly string[]).includes(k)) {
      fail(`precopy.policyParams.${k}`, `not a parameter of policy "${policy}" (it takes: ${allowed.length ? allowed.join(', ') : 'none'})${policyParamHint(policy, k)}`, v[k]);
    }
  }
  const key = (k: string): string => `precopy.policyParams.${k}`;
  const int = (k: keyof PolicyParams, min: number): void => {
    if (v[k] !== undefined) out[k] = num(key(k), v[k], 0, (n) => (Number.isInteger(n) && n >= min ? null : `expected an integer >= ${min}`)) as never;
  };
  if (v.availSwitchoverBandwidth !== undefined && v.availSwitchoverBandwidth !== null) {
    out.availSwitchoverBandwidth = rate(key('availSwitchoverBandwidth'), v.availSwitchoverBandwidth, 0);
  }
  if (v.xenVariant !== undefined) {
    out.xenVariant = oneOf(key('xenVariant'), v.xenVariant, ['simple', 'legacy'] as const, 'simple');
    if (out.xenVariant === 'legacy' && v.xenMaxIterations === undefined) out.xenMaxIterations = 30;
  }
  int('xenMaxIterations', 1);
  int('xenTargetDirtyPages', 0);
  if (v.xenMaxFactor !== undefined) out.xenMaxFactor = num(key('xenMaxFactor'), v.xenMaxFactor, 3, (n) => (n > 0 ? null : 'must be greater than 0'));
  int('hypervMaxPasses', 1);
  int('phaulMaxIterations', 1);
  int('phaulMinPages', 0);
  if (v.phaulMaxGrowth !== undefined) out.phaulMaxGrowth = num(key('phaulMaxGrowth'), v.phaulMaxGrowth, 0.1, (n) => (n >= 0 ? null : 'must not be negative'));
  if (v.vmotionSwitchoverGoalMs !== undefined) out.vmotionSwitchoverGoalMs = duration(key('vmotionSwitchoverGoalMs'), v.vmotionSwitchoverGoalMs, 500, true);
  return out;
}

function resolveXbzrle(v: unknown, pageSize: number): { enabled: boolean; cacheSize: number } {
  if (v === undefined) return { enabled: false, cacheSize: 64 * 1024 * 1024 };
  if (!isPlainObject(v)) fail('precopy.xbzrle', 'expected { "enabled": true, "cacheSize": "64MiB" }', v);
  rejectUnknown(v, BLOCK_KEYS['precopy.xbzrle'], 'precopy.xbzrle.');
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean') fail('precopy.xbzrle.enabled', 'expected true or false', v.enabled);
  const cacheSize = size('precopy.xbzrle.cacheSize', v.cacheSize, 64 * 1024 * 1024);
  if (!isPowerOfTwo(cacheSize) || cacheSize < pageSize) {
    fail('precopy.xbzrle.cacheSize', (!isPowerOfTwo(cacheSize) && decimalRefusal(v.cacheSize, 'not a power of two')) || `must be a power of two of at least one page (${pageSize} B)`, v.cacheSize);
  }
  if (cacheSize > 2 ** 30) fail('precopy.xbzrle.cacheSize', 'must be at most 1 GiB', v.cacheSize);
  return { enabled: v.enabled === true, cacheSize };
}

function resolveAutoConverge(v: unknown): AutoConverge | null {
  if (v === undefined || v === false || v === null) return null;
  const dflt = { initial: 20, increment: 10, max: 99, triggerThreshold: 50 };
  if (v === true) return dflt;
  if (!isPlainObject(v)) fail('precopy.autoConverge', 'expected true, false or { initial, increment, max, triggerThreshold }', v);
  rejectUnknown(v, BLOCK_KEYS['precopy.autoConverge'], 'precopy.autoConverge.');
  const pct = (k: keyof typeof dflt, lo: number): number =>
    num(`precopy.autoConverge.${k}`, v[k], dflt[k], (n) => (n >= lo && n <= 99 ? null : `must be from ${lo} to 99 (percent)`));
  const out = { initial: pct('initial', 1), increment: pct('increment', 1), max: pct('max', 1), triggerThreshold: pct('triggerThreshold', 1) };
  if (out.initial > out.max) fail('precopy.autoConverge.initial', `must not exceed max (${out.max})`, out.initial);
  return out;
}

function optionalPath(key: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0) fail(key, 'expected a non-empty path or null', v);
  return v;
}

function deepFreeze<T>(o: T): T {
  if (isPlainObject(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

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
const SIZE_KEY_PATHS = ['guest.memory', 'guest.pageSize', 'guest.deviceState', 'workload.workingSet', 'precopy.xbzrle.cacheSize'] as const;
/** Byte-rate keys: a bare number there is bytes/s. */
const BYTE_RATE_KEY_PATHS = ['link.bandwidth', 'precopy.maxBandwidth', 'postcopy.maxBandwidth', 'precopy.dirtyLimit', 'quick.storageBandwidth', 'precopy.policyParams.availSwitchoverBandwidth'] as const;

function valueAt(input: unknown, path: string): unknown {
  let node = input;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

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
    if (!(BYTE_RATE_KEY_PATHS as readonly string[]).includes(key)) continue;
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
