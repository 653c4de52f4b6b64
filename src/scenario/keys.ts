/**
 * Every scenario key, declared once: its kind of value, unit, default, rules and meaning. From this
 * table come the validation and its messages (resolve.ts), the README's "Scenario keys" table
 * (docs.ts) and the JSON Schema for scenario files (json-schema.ts, results/scenario.schema.json).
 *
 * The order is the order of the README rows, of the keys in each block of a resolved scenario, of
 * "known: …" in a refusal, and (with a key pulled earlier when a rule reads it) of the checks.
 * A key whose rule reads another key (`ctx.get`) gets that key resolved first.
 *
 * To add a key: add its entry here (and its field to ScenarioInput and Scenario in types.ts), then
 * `npm run docs:scenario` to regenerate the README table and the schema.
 */
import { formatBytes } from '../units.ts';
import { PATTERN_NAMES } from '../workload/patterns.ts';
import { MAX_CHANNELS, POLICY_NAMES, type PolicyName } from '../precopy-params.ts';
import { atMost, between, decimalRefusal, greaterThanZero, integerAtLeast, integerFrom, isPowerOfTwo, notNegative, rule, type KeyDecl } from './kinds.ts';
import { POLICY_PARAM_DECLS, resolvePolicyParams } from './policy-params.ts';
import { ORCHESTRATOR_KEY_DECLS } from './orchestrator-keys.ts';
import type { OrchestratorSettings } from './orchestrator-settings.ts';
import { ORCHESTRATOR_POLICY_KEY_DECLS } from './orchestrator-policy-keys.ts';
import { fail } from './refuse.ts';
import { FILL_KINDS, resolveAutoConverge, resolveFill, resolveLinkTarget } from './special.ts';
import { COMPRESSION_CODECS, COMPRESSION_LEVELS, type CompressionCodec, type ScenarioInput } from './types.ts';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
/** A key of link.transport "tcp" only. */
const tcpOnly = rule((_n, ctx) => (ctx.get('link.transport') === 'tcp' ? null : 'is only for link.transport "tcp"'));

export const MAX_VCPUS = 64;
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 2 * MIB;
export const MAX_FLEET_GUESTS = 10_000;
export const MAX_POSTCOPY_START_ROUNDS = 1000;

/** `"a" | "b"`: the unit column of an enum. */
const oneOf = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(' | ');

const pageSizeOf = (ctx: { get(path: string): unknown }): number => ctx.get('guest.pageSize') as number;

/** A throttle step of auto-converge, percent. */
const percentStep = <K extends string>(key: K, dflt: number, meaning: string) => ({
  key: `precopy.autoConverge.${key}` as const, kind: 'number', default: dflt, row: false, unit: 'percent, 1 … 99', meaning,
  rules: [between(1, 99, 'must be from 1 to 99 (percent)')],
}) satisfies KeyDecl;

const fillWeight = <K extends string>(kind: K) => ({
  key: `guest.fill.${kind}` as const, kind: 'number', default: 0, row: false, unit: 'weight, >= 0', meaning: `share of ${kind} pages (weights are normalized to add up to 1)`, rules: [notNegative],
}) satisfies KeyDecl;

const DECLS = [
  { key: '$schema', kind: 'annotation', row: false, unit: 'URL or path', meaning: 'the JSON Schema an editor checks this file against (results/scenario.schema.json); migbench ignores it' },
  { key: 'name', kind: 'text', default: 'default', unit: 'text', meaning: 'a label for reports' },
  { key: 'seed', kind: 'number', default: 1, unit: 'integer', meaning: "seeds guest content and every vCPU's writes", rules: [integerFrom(0, 0xffffffff)] },

  { key: 'guest', kind: 'block', row: false, unit: 'object', meaning: 'the guest: its memory, vCPUs and content' },
  {
    key: 'guest.memory', kind: 'size', default: '1GiB', after: ['guest.pageSize'], unit: 'bytes ("64MiB", "1GiB")', meaning: 'guest RAM, a multiple of the page size, held in RAM blocks of at most 1 GiB',
    rules: [
      greaterThanZero,
      rule((n, ctx, raw) => {
        const pageSize = pageSizeOf(ctx);
        return n % pageSize === 0 ? null : decimalRefusal(raw, `not a multiple of guest.pageSize (${pageSize} B)`) ?? `must be a multiple of guest.pageSize (${pageSize} B)`;
      }),
    ],
  },
  {
    key: 'guest.pageSize', kind: 'size', default: 4096, unit: 'bytes, a power of two, 512 B … 2 MiB', meaning: 'unit of memory and of dirty tracking',
    rules: [
      rule((n, _ctx, raw) => (isPowerOfTwo(n) ? null : decimalRefusal(raw, 'not a power of two') ?? 'must be a power of two')),
      rule((n) => (n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE ? null : `must be from ${MIN_PAGE_SIZE} B to 2 MiB`), { minimum: MIN_PAGE_SIZE, maximum: MAX_PAGE_SIZE }),
    ],
  },
  { key: 'guest.vcpus', kind: 'number', default: 2, unit: `count, 1 … ${MAX_VCPUS}`, meaning: 'vCPU worker threads that dirty memory', rules: [integerFrom(1, MAX_VCPUS)] },
  {
    key: 'guest.fill', kind: 'special', default: 'random', unit: `${oneOf(FILL_KINDS)} | { zero, random, text } weights`, meaning: 'initial content of each page, drawn from the seed',
    resolve: resolveFill, schema: ({ children }) => ({ anyOf: [{ enum: [...FILL_KINDS] }, children] }),
  },
  fillWeight('zero'),
  fillWeight('random'),
  fillWeight('text'),
  { key: 'guest.deviceState', kind: 'size', default: '256KiB', unit: 'bytes', meaning: 'device state sent in the stop-and-copy', rules: [atMost(GIB, 'must be at most 1 GiB')] },

  { key: 'workload', kind: 'block', row: false, unit: 'object', meaning: 'what the vCPUs write, and how fast' },
  { key: 'workload.pattern', kind: 'enum', values: PATTERN_NAMES, default: 'hotset', unit: oneOf(PATTERN_NAMES), meaning: 'which pages the vCPUs write' },
  {
    key: 'workload.dirtyRate', kind: 'perSecond', default: '20000/s', unit: 'page writes/s ("20000/s", "20k/s")', meaning: 'total over all vCPUs, held over 100 ms windows',
    expected: 'expected page writes per second like "20000/s"',
  },
  {
    key: 'workload.workingSet', kind: 'size', default: '128MiB', defaultDoc: '"128MiB" (at most guest.memory)', unit: 'bytes', meaning: 'hotset: size of the hot set (the first pages of memory)',
    derivedDefault: (ctx, declared) => Math.min(declared as number, ctx.get('guest.memory') as number),
    rules: [
      greaterThanZero,
      rule((n, ctx) => {
        const memory = ctx.get('guest.memory') as number;
        return n <= memory ? null : `must not exceed guest.memory (${formatBytes(memory)})`;
      }),
    ],
  },
  {
    key: 'workload.workingSetZero', kind: 'number', nullable: true, defaultDoc: 'null (as guest.fill)', unit: 'share 0 … 1, or null',
    meaning: 'hotset: share of the hot set\'s pages that start as zero pages (its other pages take guest.fill\'s random:text mix; guest.fill then describes the rest of the guest); null: the hot set is filled like the rest',
    rules: [between(0, 1, 'must be from 0 to 1, or null')],
  },
  { key: 'workload.hotFraction', kind: 'number', default: 0.9, unit: '0 … 1', meaning: 'hotset: share of writes that go to the hot set (the rest: anywhere)', rules: [between(0, 1, 'must be from 0 to 1')] },
  {
    key: 'workload.zipfExponent', kind: 'number', default: 0.99, unit: '> 0', meaning: 'zipf: skew s of P(rank k) ∝ k^-s',
    rules: [rule((n) => (n > 0 && n <= 10 ? null : 'must be greater than 0 (and at most 10)'), { exclusiveMinimum: 0, maximum: 10 })],
  },
  {
    key: 'workload.writeBytes', kind: 'number', default: 8, unit: 'bytes, 1 … pageSize', meaning: 'bytes each page write changes',
    rules: [
      rule((n, ctx) => {
        const pageSize = pageSizeOf(ctx);
        return Number.isInteger(n) && n >= 1 && n <= pageSize ? null : `expected an integer from 1 to guest.pageSize (${pageSize})`;
      }, { integer: true, minimum: 1, maximum: MAX_PAGE_SIZE }),
    ],
  },
  {
    key: 'workload.readRate', kind: 'perSecond', default: 0, unit: 'page reads/s ("5000/s")', expected: 'expected page reads per second like "5000/s"',
    meaning: 'reads of pages by the same pattern, all vCPUs together; they change nothing, but in post-copy a read of a missing page faults like a write',
  },

  { key: 'link', kind: 'block', row: false, unit: 'object', meaning: 'the link between source and destination' },
  { key: 'link.bandwidth', kind: 'rate', default: '1Gbit/s', unit: 'rate ("1Gbit/s", "128MiB/s") or "unlimited"', meaning: 'the link between source and destination' },
  {
    key: 'link.latencyMs', kind: 'duration', default: 0, unit: 'ms', meaning: 'one-way delay of every frame (memory transport; over tcp the network has its own)',
    rules: [
      atMost(10_000, 'must be at most 10000'),
      rule((n, ctx) => (n > 0 && ctx.get('link.transport') === 'tcp' ? 'must be 0 with link.transport "tcp": the network has its own latency (shape it with tc netem)' : null)),
    ],
  },
  {
    key: 'link.transport', kind: 'enum', values: ['memory', 'tcp'], default: 'memory', unit: '"memory" | "tcp"',
    meaning: 'memory: the destination is a thread of this process; tcp: the frames go over a socket to `migbench receive` at link.target (verified by hashes)',
  },
  {
    key: 'link.target', kind: 'special', defaultDoc: 'null (required with tcp)', unit: '"HOST:PORT"', meaning: 'where `migbench receive` listens (link.transport "tcp")',
    resolve: resolveLinkTarget, schema: () => ({ type: ['string', 'null'] }),
  },
  {
    key: 'link.tokenFile', kind: 'path', nullable: true, unit: 'path or null', meaning: "a file with the receiver's token (`receive --token-file`): the sender proves it knows it; tcp only",
    rules: [rule((_n, ctx) => (ctx.get('link.transport') === 'tcp' ? null : 'is only for link.transport "tcp"'))],
  },
  {
    key: 'link.tls', kind: 'block', nullable: true, defaultDoc: 'null (plaintext)', unit: 'null or { cert, key, ca } (PEM files)',
    expected: 'expected null or an object like { "cert": "client-cert.pem", "key": "client-key.pem", "ca": "ca-cert.pem" }',
    meaning: 'tcp: TLS with these files, both ends authenticated (QEMU tls-creds-x509); the receiver takes `--tls-cert/--tls-key/--tls-ca`',
  },
  {
    key: 'link.tls.cert', kind: 'path', row: false, unit: 'PEM file', defaultDoc: 'required with link.tls', meaning: "the sender's certificate (PEM), presented to the receiver",
    derivedDefault: () => fail('link.tls.cert', 'is required with link.tls: the PEM file of the certificate the sender presents', undefined),
    rules: [tcpOnly],
  },
  {
    key: 'link.tls.key', kind: 'path', row: false, unit: 'PEM file', defaultDoc: 'required with link.tls', meaning: 'the private key of link.tls.cert (PEM)',
    derivedDefault: () => fail('link.tls.key', 'is required with link.tls: the PEM file of the private key of link.tls.cert', undefined),
    rules: [tcpOnly],
  },
  {
    key: 'link.tls.ca', kind: 'path', row: false, unit: 'PEM file', defaultDoc: 'required with link.tls', meaning: "the CA certificate(s) (PEM) that signed the receiver's certificate",
    derivedDefault: () => fail('link.tls.ca', "is required with link.tls: the PEM file of the CA that signed the receiver's certificate", undefined),
    rules: [tcpOnly],
  },

  { key: 'precopy', kind: 'block', row: false, unit: 'object', meaning: 'pre-copy: when to switch over, and the aids that help it converge' },
  { key: 'precopy.downtimeLimitMs', kind: 'duration', default: 300, unit: 'ms', meaning: 'QEMU downtime-limit: switch over when pending bytes < bandwidth × this', rules: [greaterThanZero] },
  {
    key: 'precopy.maxBandwidth', kind: 'rate', defaultDoc: 'link.bandwidth', unit: 'rate or "unlimited"', meaning: 'QEMU max-bandwidth: rate limit of the live rounds (the stop-and-copy runs at the link rate)',
    derivedDefault: (ctx) => ctx.get('link.bandwidth'),
  },
  { key: 'precopy.policy', kind: 'enum', values: POLICY_NAMES, default: 'qemu', unit: oneOf(POLICY_NAMES), meaning: 'when to stop and copy (see "Convergence policies")' },
  {
    key: 'precopy.policyParams', kind: 'special', default: {}, defaultDoc: "{} (the real systems' defaults)", unit: 'object (keys per policy)',
    meaning: 'parameters of the policy, e.g. { "xenVariant": "legacy" } (see "Convergence policies")',
    resolve: (v, ctx) => resolvePolicyParams(ctx.get('precopy.policy') as PolicyName, v, ctx),
    schema: ({ valueSchema }) => ({ type: 'object', additionalProperties: false, properties: Object.fromEntries(POLICY_PARAM_DECLS.map((d) => [d.key, valueSchema(d)])) }),
  },
  {
    key: 'precopy.autoConverge', kind: 'special', default: false, unit: 'true | false | { initial, increment, max, triggerThreshold } (percent)',
    meaning: 'QEMU auto-converge: throttle the vCPUs when they dirty more than half of what is sent, twice; 20 %, then +10 % up to 99 %',
    resolve: resolveAutoConverge, schema: ({ children }) => ({ anyOf: [{ type: ['boolean', 'null'] }, children] }),
  },
  percentStep('initial', 20, 'first throttle (QEMU cpu-throttle-initial)'),
  percentStep('increment', 10, 'each further step (QEMU cpu-throttle-increment)'),
  percentStep('max', 99, 'at most (QEMU max-cpu-throttle)'),
  percentStep('triggerThreshold', 50, 'dirtied/sent ratio above which a period counts as too fast (QEMU throttle-trigger-threshold)'),
  {
    key: 'precopy.dirtyLimit', kind: 'rate', nullable: true, unit: 'rate per vCPU ("1MB/s") or null', meaning: "QEMU dirty-limit: armed by the same trigger, caps each vCPU's dirtying rate",
    rules: [
      rule((n) => (Number.isFinite(n) ? null : 'expected a finite rate per vCPU like "1MB/s", or null')),
      rule((_n, ctx) => (ctx.get('precopy.autoConverge') === null ? null : 'cannot be used together with precopy.autoConverge (as in QEMU)')),
    ],
  },
  {
    key: 'precopy.xbzrle', kind: 'block', unit: '{ enabled: true | false, cacheSize: bytes, a power of two }', expected: 'expected { "enabled": true, "cacheSize": "64MiB" }',
    meaning: 'QEMU XBZRLE: re-sent pages go as deltas against the copy last sent, kept in a page cache (not in the bulk round)',
  },
  { key: 'precopy.xbzrle.enabled', kind: 'boolean', default: false, row: false, unit: 'true | false', meaning: 'XBZRLE on' },
  {
    key: 'precopy.xbzrle.cacheSize', kind: 'size', default: '64MiB', row: false, unit: 'bytes, a power of two', meaning: 'the page cache, shared out between the channels (at least a page each)',
    rules: [
      rule((n, ctx, raw) => {
        const pageSize = pageSizeOf(ctx);
        if (isPowerOfTwo(n) && n >= pageSize) return null;
        return (!isPowerOfTwo(n) && decimalRefusal(raw, 'not a power of two')) || `must be a power of two of at least one page (${pageSize} B)`;
      }, { minimum: MIN_PAGE_SIZE }),
      atMost(GIB, 'must be at most 1 GiB'),
      // each channel keeps the XBZRLE cache of the pages it owns: cacheSize ÷ channels, at least a page
      rule((n, ctx) => {
        if (ctx.get('precopy.xbzrle.enabled') !== true) return null;
        const channels = ctx.get('precopy.channels') as number;
        const pageSize = pageSizeOf(ctx);
        return n / channels < pageSize ? `must hold at least one page (${pageSize} B) per channel with precopy.channels ${channels}` : null;
      }),
    ],
  },
  {
    key: 'precopy.compression', kind: 'enum', values: COMPRESSION_CODECS, default: 'none', unit: oneOf(COMPRESSION_CODECS),
    meaning: 'compress the normal pages of each frame (QEMU multifd-compression); a frame that does not shrink goes uncompressed',
  },
  {
    key: 'precopy.compressionLevel', kind: 'number', default: 1, unit: 'zlib 0 … 9, zstd 0 … 20', meaning: 'QEMU multifd-zlib-level / multifd-zstd-level (zstd reads 0 as its default, 3)',
    rules: [
      rule((n, ctx) => {
        const codec = ctx.get('precopy.compression') as CompressionCodec;
        const { min, max } = COMPRESSION_LEVELS[codec];
        return Number.isInteger(n) && n >= min && n <= max ? null : `expected an integer from ${min} to ${max}${codec === 'zstd' ? ' for zstd' : ''}`;
      }, { integer: true, minimum: 0, maximum: Math.max(...Object.values(COMPRESSION_LEVELS).map((l) => l.max)) }),
    ],
  },
  {
    key: 'precopy.channels', kind: 'number', default: 1, unit: `count, 1 … ${MAX_CHANNELS}`,
    rules: [integerFrom(1, MAX_CHANNELS)],
    meaning: "parallel channels (QEMU multifd-channels): worker threads that copy, zero-check, encode, compress and send 512 KiB packets on lanes of their own, sharing the link's rate; flushed at every dirty sync; over tcp one connection each",
  },
  {
    key: 'precopy.maxRounds', kind: 'number', nullable: true, defaultDoc: 'null (no limit)', unit: 'count or null', meaning: 'live rounds (bulk included) before a forced stop-and-copy',
    rules: [integerAtLeast(1, 'expected an integer >= 1 or null')],
  },
  { key: 'precopy.timeoutMs', kind: 'duration', default: 120_000, unit: 'ms', meaning: 'limit on the live phase', rules: [greaterThanZero] },
  { key: 'precopy.onTimeout', kind: 'enum', values: ['cancel', 'force'], default: 'cancel', unit: '"cancel" | "force"', meaning: 'at the timeout: give up (the guest stays on the source) or stop and copy now' },

  { key: 'quick', kind: 'block', row: false, unit: 'object', meaning: 'quick migration: pause, save to shared storage, hand over, restore' },
  {
    key: 'quick.storageBandwidth', kind: 'rate', default: '200MiB/s', unit: 'rate or "unlimited"',
    meaning: 'shared storage rate, enforced on saving and on restoring ("unlimited": this machine\'s disk)',
  },
  { key: 'quick.handoverMs', kind: 'duration', default: 0, unit: 'ms', meaning: 'modelled hand-over of the storage (cluster disk ownership) to the target' },
  { key: 'quick.format', kind: 'enum', values: ['stream', 'mapped'], default: 'stream', unit: '"stream" | "mapped"', meaning: 'image format: page records in order, or pages at fixed offsets in a sparse file' },
  { key: 'quick.dir', kind: 'path', nullable: true, defaultDoc: 'null (the OS temp folder)', unit: 'folder or null', meaning: "where the image's new private folder (`migbench-XXXXXX`) is made" },
  {
    key: 'quick.path', kind: 'path', nullable: true, defaultDoc: 'null (a new file in a new folder in quick.dir)', unit: 'file or null',
    meaning: 'the image file itself; must not exist yet (`--force` on the command line replaces a regular file)',
  },
  { key: 'quick.keepImage', kind: 'boolean', default: false, unit: 'true | false', meaning: 'keep the image after the run (else it is removed)' },
  {
    key: 'quick.restore', kind: 'enum', values: ['eager', 'lazy'], default: 'eager', unit: '"eager" | "lazy"',
    meaning: "eager: read the whole image back before the guest resumes; lazy (Firecracker's userfaultfd restore): resume right after the hand-over, read each page the guest touches from the image on demand (a stall) while a background reader fills the rest in file order",
  },


  { key: 'postcopy', kind: 'block', row: false, unit: 'object', meaning: 'post-copy after pre-copy (QEMU postcopy-ram)' },
  {
    key: 'postcopy.enabled', kind: 'boolean', default: false, unit: 'true | false',
    meaning: 'QEMU postcopy-ram: after startAfterRounds live rounds, pause, send the device state and the list of missing pages, resume the guest on the destination and fetch each page it touches on demand while the rest is pushed (emulate and simulate mode, predict)',
  },
  {
    key: 'postcopy.startAfterRounds', kind: 'number', default: 1, defaultDoc: '1 (after the bulk round, as virsh --postcopy-after-precopy)', unit: `count, 1 … ${MAX_POSTCOPY_START_ROUNDS}`,
    meaning: 'live rounds (bulk included) before the switch to post-copy; a pre-copy that converges sooner completes as pre-copy', rules: [integerFrom(1, MAX_POSTCOPY_START_ROUNDS)],
  },
  {
    key: 'postcopy.maxBandwidth', kind: 'rate', default: 'unlimited', defaultDoc: '"unlimited" (the link\'s rate)', unit: 'rate or "unlimited"',
    meaning: 'QEMU max-postcopy-bandwidth: rate limit of the post-copy phase', rules: [greaterThanZero],
  },
  { key: 'postcopy.preempt', kind: 'boolean', default: true, unit: 'true | false', meaning: 'QEMU postcopy-preempt: requested pages go ahead of the background push instead of waiting behind its frames' },
  { key: 'postcopy.recovery', kind: 'boolean', default: false, unit: 'true | false', meaning: 'QEMU postcopy recovery: when the link fails during post-copy both sides pause (postcopy-paused), the vCPUs that touch a missing page stay blocked, and once the link is back (faults.linkDownForMs) the destination sends its received bitmap, the pages lost in flight are sent again and the migration completes (emulate and simulate mode; not predict)' },

  ...ORCHESTRATOR_KEY_DECLS,
  ...ORCHESTRATOR_POLICY_KEY_DECLS,

  { key: 'faults', kind: 'block', row: false, unit: 'object', meaning: 'a link failure during the migration' },
  {
    key: 'faults.linkDownAtMs', kind: 'duration', nullable: true, defaultDoc: 'null (the link never fails)', unit: 'ms or null', rules: [notNegative],
    meaning: 'the link dies this long after the migration request: pre-copy ends `failed` with the guest running on the source; post-copy ends `failed` with the guest lost, unless postcopy.recovery (emulate and simulate mode)',
  },
  { key: 'faults.linkDownForMs', kind: 'duration', default: 0, unit: 'ms', rules: [notNegative], meaning: 'how long the link stays down: what postcopy.recovery waits out; 0 = it never comes back (post-copy then ends `failed` with the guest lost, recovery or not); pre-copy fails at the outage either way' },

  {
    key: 'fleet', kind: 'block', nullable: true, defaultDoc: 'null (one guest)', unit: 'null or { count, concurrency }', expected: 'expected null or an object like { "count": 8, "concurrency": 2 }',
    meaning: 'simulate mode: evacuate a host of `count` guests like this one over the one link, at most `concurrency` migrating at a time',
  },
  { key: 'fleet.count', kind: 'number', default: 1, unit: `count, 1 … ${MAX_FLEET_GUESTS}`, meaning: 'guests on the host (each with its own seed, derived from `seed`)', rules: [integerFrom(1, MAX_FLEET_GUESTS)] },
  {
    key: 'fleet.concurrency', kind: 'number', default: 1, unit: 'count, 1 … fleet.count',
    defaultDoc: '1; kubevirt: min(fleet.count, orchestrator.parallelOutboundMigrationsPerNode, orchestrator.parallelMigrationsPerCluster)',
    meaning: 'migrations at a time; they share link.bandwidth equally. Under kubevirt the lower of this and KubeVirt\'s two caps wins (one node is evacuated): a value above the caps is lowered to them, a value below lowers them further',
    derivedDefault: (ctx, declared) => {
      const o = ctx.get('orchestrator') as OrchestratorSettings;
      if (o.kind !== 'kubevirt') return declared;
      return Math.min(ctx.get('fleet.count') as number, o.parallelOutboundMigrationsPerNode, o.parallelMigrationsPerCluster);
    },
    rules: [
      rule((n, ctx) => {
        if (!(Number.isInteger(n) && n >= 1)) return 'expected an integer of at least 1';
        const count = ctx.get('fleet.count') as number;
        return n <= count ? null : `must not exceed fleet.count (${count})`;
      }, { integer: true, minimum: 1, maximum: MAX_FLEET_GUESTS }),
    ],
  },
] as const satisfies readonly KeyDecl[];

export const SCENARIO_KEY_DECLS: readonly KeyDecl[] = DECLS;

/** Every key path of a scenario input type: 'guest', 'guest.memory', … (a block of free keys, such as policyParams, ends the path). */
type PathsOf<T, P extends string = ''> = T extends readonly unknown[]
  ? never
  : T extends object
    ? string extends keyof T
      ? never
      : { [K in keyof T & string]-?: `${P}${K}` | PathsOf<NonNullable<T[K]>, `${P}${K}.`> }[keyof T & string]
    : never;

/** A key path of ScenarioInput (types.ts). */
export type ScenarioKeyPath = PathsOf<ScenarioInput>;
type DeclaredKey = (typeof DECLS)[number]['key'];

/**
 * Compile-time: the table and ScenarioInput name the same keys. A key missing from the table, or
 * one ScenarioInput lacks, makes this line a type error that names it.
 */
export const TABLE_MATCHES_INPUT_TYPE: [Exclude<ScenarioKeyPath, DeclaredKey>, Exclude<DeclaredKey, ScenarioKeyPath>] extends [never, never]
  ? true
  : { undeclared: Exclude<ScenarioKeyPath, DeclaredKey>; notInScenarioInput: Exclude<DeclaredKey, ScenarioKeyPath> } = true;
