/**
 * The scenario's two forms as types: what a scenario file may say (ScenarioInput, every key optional)
 * and what migbench runs (Scenario: complete, in base units, frozen). The keys themselves, their
 * units, defaults, rules and meanings are declared once in keys.ts.
 */
import type { PatternName } from '../workload/patterns.ts';
import type { PolicyName, PolicyParams } from '../precopy-params.ts';
import type { OrchestratorKind, OrchestratorSettings } from './orchestrator-settings.ts';

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
export type FillInput = 'zero' | 'random' | 'text' | { zero?: number; random?: number; text?: number };

export const COMPRESSION_CODECS = ['none', 'zlib', 'zstd'] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];
/** Level range per codec, as QEMU's multifd-zlib-level and multifd-zstd-level ('none' keeps zlib's). */
export const COMPRESSION_LEVELS: Record<CompressionCodec, { min: number; max: number }> = {
  none: { min: 0, max: 9 },
  zlib: { min: 0, max: 9 },
  zstd: { min: 0, max: 20 },
};

/** What a scenario file may say. Units, defaults and rules: see SCENARIO_KEY_DECLS (keys.ts). */
export interface ScenarioInput {
  /** the JSON Schema an editor checks the file against (results/scenario.schema.json); migbench ignores it */
  $schema?: string;
  name?: string;
  seed?: number;
  guest?: { memory?: string | number; pageSize?: string | number; vcpus?: number; fill?: FillInput; deviceState?: string | number };
  workload?: {
    pattern?: PatternName;
    dirtyRate?: string | number;
    workingSet?: string | number;
    workingSetZero?: number | null;
    hotFraction?: number;
    zipfExponent?: number;
    writeBytes?: number;
    readRate?: string | number;
  };
  link?: {
    bandwidth?: string | number;
    latencyMs?: number | string;
    transport?: 'memory' | 'tcp';
    target?: string | null;
    tokenFile?: string | null;
    tls?: { cert?: string; key?: string; ca?: string } | null;
  };
  quick?: {
    storageBandwidth?: string | number;
    handoverMs?: number | string;
    format?: 'stream' | 'mapped';
    dir?: string | null;
    path?: string | null;
    keepImage?: boolean;
    restore?: 'eager' | 'lazy';
  };
  /** post-copy after pre-copy (QEMU postcopy-ram) */
  postcopy?: { enabled?: boolean; startAfterRounds?: number; maxBandwidth?: string | number; preempt?: boolean; recovery?: boolean };
  /** the orchestrator above the hypervisor: its kind and that system's settings (keys of another kind are refused) */
  orchestrator?: {
    kind?: OrchestratorKind;
    bandwidthPerMigration?: string | number;
    completionTimeoutPerGiB?: number;
    progressTimeout?: number;
    allowAutoConverge?: boolean;
    allowPostCopy?: boolean;
    allowWorkloadDisruption?: boolean;
    parallelMigrationsPerCluster?: number;
    parallelOutboundMigrationsPerNode?: number;
    liveMigrationDowntime?: number;
    liveMigrationDowntimeSteps?: number;
    liveMigrationDowntimeDelay?: number;
    liveMigrationCompletionTimeout?: number;
    liveMigrationTimeoutAction?: 'abort' | 'force_complete';
    liveMigrationPermitPostCopy?: boolean;
    liveMigrationPermitAutoConverge?: boolean;
    migrateDowntime?: number;
    timeout?: number | null;
    timeoutAction?: 'suspend' | 'postcopy';
  } & OrchestratorPolicyKeysInput;
  /** a link failure during the migration */
  faults?: { linkDownAtMs?: number | string | null; linkDownForMs?: number | string };
  /** simulate mode: a host evacuation of `count` guests like this one, `concurrency` at a time */
  fleet?: { count?: number; concurrency?: number } | null;
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
    /** hotset: share of the hot set's pages that start as zero (null: as guest.fill, which then covers the whole guest) */ readonly workingSetZero: number | null;
    readonly hotFraction: number;
    readonly zipfExponent: number;
    /** bytes changed per page write */ readonly writeBytes: number;
    /** page reads per second, all vCPUs together (they fault in post-copy too); 0 = none */ readonly readRate: number;
  };
  readonly link: {
    /** bytes/s; Infinity = unlimited */ readonly bandwidth: number;
    readonly latencyMs: number;
    /** "memory": a destination thread in this process; "tcp": `migbench receive` at `target` */
    readonly transport: 'memory' | 'tcp';
    /** "HOST:PORT" of the receiver (tcp only), else null */
    readonly target: string | null;
    /** a file holding the receiver's token (tcp only), or null for none */
    readonly tokenFile: string | null;
    /** TLS over tcp (PEM files: this side's certificate and key, the CA that signed the receiver's), or null for plaintext */
    readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null;
  };
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
    /** eager: restore everything before the resume; lazy: resume after the hand-over and fault pages in from the image */
    readonly restore: 'eager' | 'lazy';
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
  /** the orchestrator watching the migration: the chosen kind and its own settings only (src/orchestrator/) */
  readonly orchestrator: OrchestratorSettings;
  /** a link failure: it goes down `linkDownAtMs` after the migration request (null: never) for `linkDownForMs` */
  readonly faults: { readonly linkDownAtMs: number | null; readonly linkDownForMs: number };
  /** a host evacuation (simulate mode): `count` guests like this one share the link, `concurrency` at a time; null = one guest */
  readonly fleet: { readonly count: number; readonly concurrency: number } | null;
}


/**
 * The `orchestrator` block's keys of kinds ovirt and kubevirt-stall, as a scenario file may write them
 * (issue 19; keys in orchestrator-policy-keys.ts). For the lead: intersect with ScenarioInput's
 * `orchestrator` block (`orchestrator?: { … } & OrchestratorPolicyKeysInput`); the resolved side is
 * OvirtSettings / KubevirtStallSettings in orchestrator-settings.ts.
 */
export interface OrchestratorPolicyKeysInput {
  // ovirt
  policy?: 'minimal-downtime' | 'suspend-workload-if-needed' | 'post-copy' | 'custom';
  /** read by its own reader (a free-form object to the key table, like policyParams): unknown keys are refused there */
  convergenceSchedule?: ({ init?: string[]; stalling?: { limit: number; action: string }[] } & Record<string, unknown>) | null;
  autoConvergence?: boolean;
  migrationCompression?: boolean;
  migrationMonitorInterval?: number;
  // kubevirt-stall (besides kubevirt's bandwidthPerMigration, completionTimeoutPerGiB, allowAutoConverge, allowPostCopy, allowWorkloadDisruption)
  maxDowntimeMs?: number;
  stallProgressTimeout?: number;
  switchoverTimeout?: number;
  stallMargin?: number;
  ewmaAlpha?: number;
  precopyPossibleFactor?: number;
  patienceWindowDecayFactor?: number;
  searchLocalMinima?: boolean;
  completionTimeoutFactor?: number;
}
