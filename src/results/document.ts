/**
 * The result document: one JSON document per run, `schemaVersion: 1`, documented in
 * results/README.md. `report/` reads these; it never imports the engine.
 */
import type { ChannelsReport } from './channels-report.ts';
import type { PrecopyEngineFacts } from './engine-facts.ts';
import type { MigrationStats, RoundRecord, SeriesPoint } from './migration-stats.ts';
import type { Outcome } from './outcome.ts';
import type { QuickResult } from './quick-result.ts';
import type { PostcopyResult } from './postcopy-result.ts';
import type { OrchestratorReport } from './orchestrator-report.ts';
import type { EnvironmentInfo, GitInfo } from './environment.ts';

export const SCHEMA_VERSION = 1;

export interface PrecopyResult {
  outcome: Outcome['outcome'];
  /** why a forced stop or a cancel happened (null when converged) */
  reason: string | null;
  /** the error of an errored run (null otherwise) */
  error: string | null;
  /** destination equals source byte for byte; null when there was nothing to verify (cancelled, errored) */
  verified: boolean | null;
  verification: { badPages: number; firstBadPage: number | null; deviceStateEqual: boolean } | null;
  stats: MigrationStats;
  rounds: RoundRecord[];
  /** progress sampled every 100 ms: bytes transferred and remaining, link and dirty rates, throttle */
  series: SeriesPoint[];
  /** true when migbench itself, not the configured link, limited the live transfer rate */
  engineBound: boolean;
  engine: PrecopyEngineFacts;
  workload: {
    targetPagesPerSec: number;
    achievedPagesPerSec: number;
    perVcpuPagesPerSec: number[];
  };
  deviceStateBytes: number;
  /**
   * Parallel channels (`precopy.channels`): the count and what each lane sent; one lane (the migration
   * thread's) with a single channel; absent in documents written before channels existed.
   */
  channels?: ChannelsReport;
  /** XBZRLE frames on the wire (pages, bytes with headers) and pages skipped as unchanged; null when off */
  xbzrle: { pages: number; bytes: number; skippedPages: number } | null;
  /** generic compression of normal pages: frames compressed, bytes before and after, ratio; null when off */
  compression: { codec: 'zlib' | 'zstd'; level: number; frames: number; inputBytes: number; outputBytes: number; ratio: number | null } | null;
  /** outcome `failed` only: true when the link died after the switch to post-copy (the guest is split between the hosts) */
  guestLost?: boolean;
  /** outcome `postcopy` only: the post-copy phase (issue 14) */
  postcopy?: PostcopyResult;
  /** scenario `orchestrator` other than "none": what it set before the run and every action it took (issue 19) */
  orchestrator?: OrchestratorReport;
}

export interface ResultDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'migbench'; version: string };
  startedAt: string;
  finishedAt: string;
  git: GitInfo;
  env: EnvironmentInfo;
  /** the resolved scenario (base units; "unlimited" for no rate limit) */
  scenario: unknown;
  /** emulate: real threads and bytes on the wall clock; simulate: the same loop on a virtual clock (sim/) */
  mode: 'emulate' | 'simulate';
  /** simulate mode only: how fast the model ran, and what it assumed */
  simulation?: SimulationInfo;
  /** simulate mode with `fleet`: the host evacuation (precopy/quick above are guest 0's) */
  fleet?: FleetResult | null;
  /** which methods ran (`--only` narrows it) */
  methods: Method[];
  /** the live migration; null when it did not run (`--only quick`) */
  precopy: PrecopyResult | null;
  /** quick migration (suspend to storage, restore); null when it did not run (`--only precopy`) */
  quick: QuickResult | null;
  /** both side by side; null unless both ran */
  comparison: MethodComparison | null;
}

/** Pre-copy beside quick migration (results/method-comparison.ts computes it). */
export interface MethodComparison {
  /** quick downtime ÷ pre-copy downtime (> 1: pre-copy paused the guest for less) */
  downtimeRatio: number | null;
  /** quick total time ÷ pre-copy total time */
  totalTimeRatio: number | null;
  /** bytes quick migration wrote to storage ÷ bytes pre-copy put on the link */
  bytesRatio: number | null;
  verdict: string;
}

/** One method's simulation: its modelled time (a fleet: its evacuation time) and the wall time it took. */
export interface MethodSpeed {
  /** wall-clock ms (not deterministic) */
  wallTimeMs: number;
  modelledTimeMs: number;
  /** modelledTimeMs ÷ wallTimeMs (not deterministic) */
  speedup: number;
}

export interface SimulationInfo {
  /** wall-clock ms the simulation took (not deterministic, like the timestamps) */
  wallTimeMs: number;
  /** modelled ms: the methods' total times added up (a fleet: its evacuation times) */
  modelledTimeMs: number;
  /** modelledTimeMs ÷ wallTimeMs (both methods together: quick migration's long modelled time inflates it; see `perMethod`) */
  speedup: number;
  /** each simulated method alone (null when not simulated); absent in documents written before it */
  perMethod?: { precopy: MethodSpeed | null; quick: MethodSpeed | null };
  /** the content model's measured compression ratios (raw ÷ compressed) per page kind; null without compression */
  compressionRatios: { random: number; text: number; writtenZero: number } | null;
}

/** A host evacuation: `count` guests like the scenario's, at most `concurrency` migrating at a time over one link. */
export interface FleetResult {
  count: number;
  /** migrations at a time: fleet.concurrency, or under kubevirt the lower of it and KubeVirt's caps */
  concurrency: number;
  /** the key whose value `concurrency` is (orchestrator/fleet-cap.ts); absent in documents before it */
  concurrencyBy?: string;
  precopy: FleetMethodResult | null;
  quick: FleetMethodResult | null;
}

export interface FleetMethodResult {
  /** ms from the first migration's start to the last guest resuming on the destination */
  evacuationTimeMs: number;
  /** guests that completed (converged or forced), and those cancelled */
  completed: number;
  cancelled: number;
  /**
   * guests per outcome; they add up to the guests. Pre-copy always counts `converged` (moved),
   * `postcopy` (moved through post-copy), `paused` (paused to finish, then moved), `aborted` (left on
   * the source by the orchestrator); quick `completed`; any other outcome that occurred is added.
   * Absent in documents before it.
   */
  outcomes?: Record<string, number>;
  bytes: number;
  /** per-guest distributions (ms) over the completed guests */
  downtime: Distribution | null;
  totalTime: Distribution | null;
  guests: FleetGuest[];
}

export interface Distribution {
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export interface FleetGuest {
  index: number;
  outcome: string;
  /** ms after the evacuation started that this guest's migration started */
  startMs: number;
  totalTimeMs: number;
  downtimeMs: number | null;
  bytes: number;
  rounds: number;
  /** outcome `postcopy` only: the pages missing at the switch, and the bytes sent after the resume (QEMU postcopy-bytes) */
  missingPages?: number;
  postcopyBytes?: number;
}

export type Method = 'precopy' | 'quick';
export const METHODS: readonly Method[] = ['precopy', 'quick'];

/** JSON text of a document: Infinity (an unlimited rate, an unknowable expectation) becomes null. */
export function documentToJson(doc: ResultDocument): string {
  return JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}
