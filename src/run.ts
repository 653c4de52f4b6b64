/**
 * One run of a scenario: allocate and fill the guest, start its vCPUs, migrate it with pre-copy to a
 * destination worker, verify, tear down, and return the result document.
 */
import { realClock, type Clock } from './clock.ts';
import { MigbenchError } from './errors.ts';
import { createDirtyLog } from './memory/dirty-bitmap.ts';
import { GuestMemory, guestLayout } from './memory/guest-memory.ts';
import { verifyGuest } from './memory/verify.ts';
import { reserveMemory } from './memory/ledger.ts';
import { reclaimMemory } from './memory/reclaim.ts';
import { checkResources, destinationMemoryBytes, postcopyLogEntries, ringCapacityBytes, runMemoryBytes } from './resources.ts';
import { checkTimers } from './timer-bounds.ts';
import type { Scenario } from './options.ts';
import { runPrecopy } from './precopy/emulate.ts';
import type { PrecopyRun } from './precopy/loop.ts';
import { compressionResult, precopyResult } from './precopy/result.ts';
import { ramStats } from './precopy/stats.ts';
import { PageSender } from './precopy/page-sender.ts';
import { PageCache } from './codec/page-cache.ts';
import { zstdReady } from './codec/zstd.ts';
import type { RoundRecord } from './results/migration-stats.ts';
import { METHODS, type Method, type PrecopyResult, type ResultDocument } from './results/document.ts';
import { runDocument } from './results/run-document.ts';
import { migrateQuick } from './quick/quick-migration.ts';
import type { QuickPhases, QuickResult } from './results/quick-result.ts';
import { checkImagePaths } from './quick/image-file.ts';
import { DestinationHandle } from './transport/destination-handle.ts';
import { TCP_RING_BYTES, TcpDestination, isLinkLost } from './transport/tcp-destination.ts';
import { readToken } from './transport/tcp-token.ts';
import { SCENARIO_TLS_LABELS, readTlsFiles } from './transport/tcp-tls.ts';
import { parseHostPort } from './transport/tcp-wire.ts';
import { createHash } from 'node:crypto';
import type { VerifyReport } from './memory/verify.ts';
import { BandwidthMeter, RateLimiter, SharedRateLimiter } from './transport/link.ts';
import { ChannelLanes, singleLaneReport } from './precopy/channels.ts';
import { faultFor, type WorkerFault } from './faults.ts';
import { createRing, type RingShared } from './transport/ring.ts';
import { formatByteRate, formatBytes } from './units.ts';
import { fillGuest, hotSetFill } from './workload/fill.ts';
import { Rng, deriveSeed } from './workload/rng.ts';
import { precopySettingsFor } from './precopy/settings.ts';
import { VcpuPool } from './workload/vcpu-pool.ts';
import { createPostcopyShared, type PostcopyShared } from './memory/postcopy-shared.ts';
import { EmulatePostcopy } from './postcopy/emulate.ts';
import { finishPostcopy } from './postcopy/result.ts';
import { FaultyLink, LinkDown } from './transport/link-fault.ts';
import { createOrchestrator, orchestratorStartOverrides } from './orchestrator/index.ts';
import { withOrchestratorStart } from './orchestrator/start.ts';
import { checkOrchestratorMode } from './orchestrator/support.ts';
import type { LinkBudget } from './transport/link.ts';
import type { PostcopyStatus } from './results/postcopy-result.ts';

/** A running guest: its memory (twice: source and destination), dirty log, device state and vCPUs. */
export interface Guest {
  readonly scenario: Scenario;
  readonly source: GuestMemory;
  readonly dest: GuestMemory;
  readonly dirtyLog: SharedArrayBuffer;
  readonly deviceState: Uint8Array;
  readonly destDeviceState: SharedArrayBuffer;
  readonly vcpus: VcpuPool;
  /** post-copy's shared memory (received bitmap, request ring, write logs, stall records) when postcopy.enabled or quick.restore is "lazy", else null */
  readonly postcopy: PostcopyShared | null;
  /**
   * Stop the vCPUs, drop every reference to the guest's memory (the guest is unusable afterwards) and
   * give it back to the machine (reclaim.ts) before resolving. Idempotent.
   */
  dispose(): Promise<void>;
}

/**
 * A guest whose destination is another process (pre-copy with link.transport "tcp": `migbench receive`
 * allocates it there): the source side only, no destination memory here.
 */
export interface SourceGuest extends Omit<Guest, 'dest' | 'destDeviceState'> {
  readonly dest: null;
  readonly destDeviceState: null;
}

export interface GuestOptions {
  /** tests only (src/faults.ts): a vCPU given this fault dies once a migration arms it */
  fault?: WorkerFault;
  /**
   * Allocation progress (for a progress bar): bytes touched and filled so far of `totalBytes` (both
   * guest copies touched, the source filled: 3 × guest.memory), heard synchronously about every 16 MiB.
   */
  onAllocation?: (doneBytes: number, totalBytes: number) => void;
  /**
   * Start the vCPUs ready for a lazy restore (its received bitmap, request ring, write logs and stall
   * records); default: when quick.restore is "lazy". runScenario passes false for the pre-copy guest.
   */
  lazyRestore?: boolean;
  /** tests only: how long a pause or resume waits for the vCPUs' acknowledgement (default 10 s) */
  vcpuAckTimeoutMs?: number;
}

/**
 * Allocate, touch and fill a guest and start its vCPUs. Checks first that the run fits in what the
 * machine has free (counting what earlier runs still hold); the memory is reserved in the ledger
 * until `dispose`.
 */
export function createGuest(scenario: Scenario, options: GuestOptions = {}): Promise<Guest> {
  return allocateGuest(scenario, options, true) as Promise<Guest>;
}

/**
 * The source side of a guest for pre-copy over tcp: as createGuest, without the destination's memory
 * (the ledger holds no destination bytes for it; `migbench receive` allocates them on its host).
 */
export function createSourceGuest(scenario: Scenario, options: GuestOptions = {}): Promise<SourceGuest> {
  if (scenario.link.transport !== 'tcp') throw new RangeError('createSourceGuest: for link.transport "tcp" only (the in-process destination needs createGuest)');
  return allocateGuest(scenario, options, false) as Promise<SourceGuest>;
}

async function allocateGuest(userScenario: Scenario, options: GuestOptions, local: boolean): Promise<Guest | SourceGuest> {
  // the orchestrator's start settings (max-bandwidth, auto-converge, postcopy-ram, …) are the guest's
  // migration settings from here on (orchestrator/start.ts); the document keeps the user's scenario
  checkOrchestratorMode(userScenario, 'emulate'); // what emulate mode cannot run under it: refused before anything is allocated
  const scenario = withOrchestratorStart(userScenario);
  // a local destination holds what quick migration (or pre-copy in memory) needs; a remote one the source only
  const method = local ? 'quick' : 'precopy';
  checkResources(scenario, {}, [method]);
  checkTimers(scenario);
  const destinationBytes = destinationMemoryBytes(scenario, method);
  const reservation = reserveMemory(runMemoryBytes(scenario, method) - destinationBytes, `guest ${scenario.name}: source`);
  const destinationReservation = local ? reserveMemory(destinationBytes, `guest ${scenario.name}: destination`) : null;
  const layout = guestLayout(scenario.guest.memory, scenario.guest.pageSize);
  const held: GuestMemory[] = [];
  const release = async (): Promise<void> => {
    for (const memory of held.splice(0)) memory.release();
    reservation.release();
    destinationReservation?.release();
    await reclaimMemory();
  };
  try {
    const source = new GuestMemory(layout);
    held.push(source);
    const dest = local ? new GuestMemory(layout) : null;
    if (dest) held.push(dest);
    // First touch before any clock starts (DESIGN §8): page faults are not the engine's cost.
    const m = scenario.guest.memory;
    const heard = options.onAllocation;
    // progress: both copies touched and the source filled (3 × m), or the source alone (2 × m)
    const total = (dest ? 3 : 2) * m;
    source.touch(heard && ((done) => heard(done, total)));
    dest?.touch(heard && ((done) => heard(m + done, total)));
    fillGuest(source, scenario.guest.fill, scenario.seed, heard && ((done) => heard(total - m + done, total)), hotSetFill(scenario));
    const deviceState = new Uint8Array(new SharedArrayBuffer(scenario.guest.deviceState));
    new Rng(deriveSeed(scenario.seed, 3)).fill(deviceState);
    const destDeviceState = local ? new SharedArrayBuffer(scenario.guest.deviceState) : null;
    const dirtyLog = createDirtyLog(layout.totalPages);
    const w = scenario.workload;
    // post-copy, and a lazy restore of quick migration (its vCPUs fault pages in from the image the same
    // way): both on the in-process destination only (postcopy/support.ts refuses link.transport "tcp")
    const lazyRestore = options.lazyRestore ?? scenario.quick.restore === 'lazy';
    const postcopy = (scenario.postcopy.enabled || lazyRestore) && dest
      ? createPostcopyShared({
          dest,
          vcpus: scenario.guest.vcpus,
          writeBytes: w.writeBytes,
          logEntries: postcopyLogEntries(scenario, lazyRestore),
        })
      : null;
    const vcpus = await VcpuPool.start({
      memory: source,
      dirtyLog,
      vcpus: scenario.guest.vcpus,
      pattern: {
        pattern: w.pattern,
        totalPages: layout.totalPages,
        workingSetPages: Math.max(1, Math.ceil(w.workingSet / layout.pageSizeBytes)),
        hotFraction: w.hotFraction,
        zipfExponent: w.zipfExponent,
      },
      dirtyRatePagesPerSec: w.dirtyRate,
      writeBytes: w.writeBytes,
      seed: scenario.seed,
      readRatePagesPerSec: w.readRate,
      postcopy,
      fault: options.fault,
      ackTimeoutMs: options.vcpuAckTimeoutMs,
    });
    let disposed: Promise<void> | null = null;
    return {
      scenario,
      source,
      dest,
      dirtyLog,
      deviceState,
      destDeviceState,
      vcpus,
      postcopy,
      dispose: () => (disposed ??= vcpus.stop().then(release)),
    } as Guest | SourceGuest;
  } catch (error) {
    await release();
    throw error;
  }
}

export interface MigrateOptions {
  /** the loop's clock (with `precopy.channels` > 1 the channels pace the link on the real clock) */
  clock?: Clock;
  /**
   * tests only (src/faults.ts): make one worker die mid-migration: a channel or the destination this
   * migration starts, or a vCPU (give the same fault to createGuest, which starts the vCPUs; this arms it)
   */
  fault?: WorkerFault;
  /**
   * How long a destination may hold unread frames without taking one before the run counts it as hung
   * and ends `errored` (default 30 s, plus the link latency; a slow destination still takes frames)
   */
  stallLimitMs?: number;
  signal?: AbortSignal;
  onRound?: (round: RoundRecord) => void;
  /**
   * While pre-copy runs (for a progress bar), about every LIVE_PROGRESS_MS of real time: the pages sent
   * so far in the round that is running, and since the start.
   */
  onLive?: (p: { roundPagesSent: number; totalPagesSent: number }) => void;
  /** post-copy: how long the guest runs on the destination after completion, to measure its write rate then (default 200 ms) */
  postcopyAfterWindowMs?: number;
  /** post-copy: each change of QEMU's migration status (postcopy-active, postcopy-paused, …) as it happens, ms from the start */
  onPostcopyStatus?: (status: PostcopyStatus, tMs: number) => void;
}

/** How often `onLive` hears from a running pre-copy migration (real time). */
export const LIVE_PROGRESS_MS = 200;

/**
 * Everything a pre-copy migration needs before its clock starts (issue 15): the channel workers, the
 * destination worker, the ring between them and the XBZRLE cache, each started or allocated. QEMU's
 * `setup-time` is about 1 ms because its destination runs before `migrate` is issued; migbench's own
 * preparation is reported apart, as `engine.prepareMs`.
 */
export interface PreparedPrecopy {
  readonly limiter: RateLimiter | SharedRateLimiter;
  readonly lanes: ChannelLanes | null;
  readonly destination: DestinationHandle | TcpDestination;
  readonly xbzrleCache: PageCache | null;
  readonly compression: { codec: 'zlib' | 'zstd'; level: number } | null;
  /** ms the preparation took, on the migration's clock */
  readonly prepareMs: number;
}

/** Start every worker and allocate every buffer of a pre-copy migration; the clock has not started. */
export async function preparePrecopy(guest: Guest | SourceGuest, options: MigrateOptions = {}): Promise<PreparedPrecopy> {
  const { scenario } = guest;
  if (scenario.link.transport !== 'tcp' && guest.dest === null) throw new RangeError('preparePrecopy: the memory transport needs a guest with its destination (createGuest)');
  const clock = options.clock ?? realClock;
  const prepareStartMs = clock.nowMs();
  const channels = scenario.precopy.channels;
  const compression = scenario.precopy.compression === 'none' ? null : { codec: scenario.precopy.compression, level: scenario.precopy.compressionLevel };
  if (compression?.codec === 'zstd') await zstdReady(); // this thread compresses too (single lane)
  // one rate budget for the link: the migration thread's own, or one shared by every channel
  const limiter = channels > 1 ? SharedRateLimiter.create(scenario.precopy.maxBandwidth) : new RateLimiter(clock, scenario.precopy.maxBandwidth);
  // Booting a worker thread loads migbench's JavaScript (≈ 100 ms of CPU each on this machine), a cost
  // QEMU's multifd threads and its already-running destination do not have: all of it happens here.
  // Over tcp the main connection comes first: its accept names the migration its channels then join.
  const tcp = scenario.link.transport === 'tcp';
  const ring = createRing(tcp ? TCP_RING_BYTES : ringCapacityBytes(scenario));
  const main = tcp ? await startTcpDestination(scenario, guest.source, ring, clock, options.stallLimitMs) : null;
  let lanes: ChannelLanes | null;
  try {
    lanes = channels > 1
      ? await ChannelLanes.start({
          count: channels,
          source: guest.source,
          ...(main ? { destinations: (laneRing: RingShared, i: number) => main.startChannel(laneRing, i) } : { dest: guest.dest! }),
          ringBytes: tcp ? TCP_RING_BYTES : ringCapacityBytes(scenario),
          latencyMs: scenario.link.latencyMs,
          link: limiter as SharedRateLimiter,
          compression,
          // each channel caches the pages it owns: an equal share of the cache, a power of two
          xbzrleCacheBytes: scenario.precopy.xbzrle.enabled ? 2 ** Math.floor(Math.log2(scenario.precopy.xbzrle.cacheSize / channels)) : null,
          fault: options.fault,
          stallLimitMs: options.stallLimitMs,
        })
      : null;
  } catch (error) {
    await main?.stop();
    throw error;
  }
  let destination: DestinationHandle | TcpDestination;
  try {
    destination = main ?? await DestinationHandle.start({
      ring,
      memory: guest.dest!,
      deviceState: guest.destDeviceState!,
      latencyMs: scenario.link.latencyMs,
      zstd: compression?.codec === 'zstd',
      ...(guest.postcopy && scenario.postcopy.enabled ? { received: guest.postcopy.received } : {}),
      ...(guest.postcopy && scenario.postcopy.enabled && scenario.postcopy.recovery ? { recoveryReply: guest.postcopy.recoveryReply } : {}),
      fault: faultFor(options.fault, 'destination'),
      stallLimitMs: options.stallLimitMs,
    });
  } catch (error) {
    await lanes?.stop();
    throw error;
  }
  const xbzrleCache = scenario.precopy.xbzrle.enabled && lanes === null ? new PageCache(scenario.precopy.xbzrle.cacheSize, scenario.guest.pageSize) : null;
  // last: the guest's memory, idle since its first touch, faulted in again out of the clock (rewarm);
  // the destination's is written back byte for byte before its first frame, the source's only read
  guest.source.rewarm(false);
  guest.dest?.rewarm(true);
  return { limiter, lanes, destination, xbzrleCache, compression, prepareMs: clock.nowMs() - prepareStartMs };
}

/**
 * Migrate a running guest with pre-copy and verify the destination. Leaves the vCPUs as the
 * migration left them: paused after a stop-and-copy (the guest now runs on the destination), running
 * after a cancel (the guest stays on the source). The workers start and the buffers are allocated
 * first (`preparePrecopy`); the migration's clock (`total-time`, `setup-time`) starts after that.
 */
export async function migratePrecopy(guest: Guest | SourceGuest, options: MigrateOptions = {}): Promise<PrecopyResult> {
  return runPreparedPrecopy(guest, await preparePrecopy(guest, options), options);
}

/** Run a prepared pre-copy migration: the migration's clock starts here. */
export async function runPreparedPrecopy(guest: Guest | SourceGuest, prepared: PreparedPrecopy, options: MigrateOptions = {}): Promise<PrecopyResult> {
  const { scenario } = guest;
  const clock = options.clock ?? realClock;
  const { limiter, lanes, destination, compression } = prepared;
  const startedAtMs = clock.nowMs();
  const writesAtStart = guest.vcpus.totalWrites();
  // the destinations waited for frames through the preparation too (faulting memory in): not the migration's
  const destinationWaitAtStartMs = destination.waitMs;
  lanes?.markClockStart();
  // faults.linkDownAtMs: the link refuses every byte from then on (the single lane: support.ts refuses
  // channels); with postcopy.recovery it comes back after faults.linkDownForMs (0: never), and the
  // destination loses what was in flight when it went down (destination.ts)
  const downAt = scenario.faults.linkDownAtMs;
  const recovery = downAt !== null && scenario.postcopy.recovery && guest.postcopy !== null && destination instanceof DestinationHandle
    ? { linkDownAtMs: startedAtMs + downAt, linkUpAtMs: scenario.faults.linkDownForMs > 0 ? startedAtMs + downAt + scenario.faults.linkDownForMs : Infinity, startedAtMs }
    : null;
  if (recovery && destination instanceof DestinationHandle) destination.setLinkDownAt(recovery.linkDownAtMs);
  const link: LinkBudget = downAt !== null && lanes === null ? new FaultyLink(limiter, clock, startedAtMs + downAt, startedAtMs, recovery?.linkUpAtMs ?? Infinity) : limiter;
  guest.vcpus.armFault(); // tests only: a vCPU given a fault counts its work from here (no-op otherwise)
  const meter = new BandwidthMeter(clock);
  const sender = new PageSender({
    producer: destination.producer,
    source: guest.source,
    limiter: link,
    meter,
    clock,
    closedReason: destination.closedReason,
    compression,
  });
  let run: PrecopyRun;
  let postcopy: EmulatePostcopy | null = null;
  const shared = guest.postcopy;
  // the loop yields to the event loop every 50 ms: a timer can read the sender's counters meanwhile
  const live = options.onLive;
  const ticker = live ? setInterval(() => live({ roundPagesSent: sender.round.pages, totalPagesSent: sender.total.pages }), LIVE_PROGRESS_MS) : null;
  ticker?.unref();
  try {
    run = await runPrecopy({
      settings: precopySettingsFor(scenario),
      source: guest.source,
      dirtyLog: new Int32Array(guest.dirtyLog),
      vcpus: guest.vcpus,
      destination,
      sender,
      limiter: link,
      meter,
      deviceState: guest.deviceState,
      lanes,
      xbzrleCache: prepared.xbzrleCache,
      clock,
      startedAtMs,
      signal: options.signal,
      onRound: options.onRound,
      orchestrator: createOrchestrator(scenario.orchestrator, scenario.guest.memory),
      orchestratorStart: orchestratorStartOverrides(scenario.orchestrator, scenario.guest.memory),
      // post-copy runs on the in-process destination only (postcopy/support.ts refuses link.transport "tcp")
      // (a guest made for a lazy quick restore has the shared memory too: post-copy only when enabled)
      postcopy: shared && scenario.postcopy.enabled && destination instanceof DestinationHandle
        ? (pages) =>
            (postcopy = new EmulatePostcopy({
              startAfterRounds: scenario.postcopy.startAfterRounds,
              preempt: scenario.postcopy.preempt,
              rateBytesPerSec: Math.min(scenario.postcopy.maxBandwidth, scenario.link.bandwidth),
              latencyMs: scenario.link.latencyMs,
              pages,
              pageSizeBytes: scenario.guest.pageSize,
              pagesPerBlock: guest.source.layout.pagesPerBlock,
              sender,
              limiter: link,
              destination,
              vcpus: guest.vcpus,
              shared,
              deviceState: guest.deviceState,
              clock,
              recovery,
              onStatus: options.onPostcopyStatus && ((status, atMs) => options.onPostcopyStatus!(status, atMs - startedAtMs)),
            }))
        : null,
    });
  } catch (error) {
    if (error instanceof LinkDown) {
      await destination.stop();
      await lanes?.stop();
      // after the switch to post-copy the guest runs on the destination without all its pages: lost
      const guestLost = postcopy !== null && (postcopy as EmulatePostcopy).facts.resumedAtMs > 0;
      // before it, the guest goes on on the source (resumed if the link died in the stop-and-copy)
      if (!guestLost && guest.vcpus.isAnyPaused()) await guest.vcpus.resume();
      return failedResult(scenario, guest, error, clock.nowMs() - startedAtMs, guestLost, sender);
    }
    const e = (await destination.settledError()) ?? (await lanes?.settledError()) ?? guest.vcpus.error ?? error;
    if (isLinkLost(e)) {
      // over tcp the connection (or a channel's) went away: the receiver died or the network reset it.
      // Nothing was handed over, so the guest goes on on the source, as after faults.linkDownAtMs.
      lanes?.poll(sender, meter);
      await destination.stop();
      await lanes?.stop();
      if (guest.vcpus.isAnyPaused()) await guest.vcpus.resume();
      return failedResult(scenario, guest, e as Error, clock.nowMs() - startedAtMs, false, sender);
    }
    await destination.stop();
    await lanes?.stop();
    if (!(e instanceof MigbenchError) || e.code === 'E_VERIFY') throw e;
    // The guest stays on the source: let its living vCPUs run again if the failure came mid
    // stop-and-copy (one of them may be the one that died: it stays dead).
    if (guest.vcpus.isAnyPaused()) await guest.vcpus.resume().catch(() => undefined);
    return erroredResult(scenario, guest, e, clock.nowMs() - startedAtMs);
  } finally {
    if (ticker) clearInterval(ticker);
  }
  // over tcp the receiver hashes its memory now, before the connection closes (the vCPUs are paused)
  let remoteReport: VerifyReport | null = null;
  if (destination instanceof TcpDestination && run.stats.status === 'completed') {
    try {
      remoteReport = await destination.verify(guest.source, guest.deviceState);
    } catch (error) {
      await destination.stop();
      await lanes?.stop();
      // the receiver went away (or stopped answering) before its verdict: not a mismatch (exit 3) but a
      // failed migration. The receiver ran no vCPU and its copy is gone, so the guest goes on on the
      // source, intact (libvirt's Confirm with the migration cancelled resumes the source the same way).
      if (!isLinkLost(error)) throw error;
      if (guest.vcpus.isAnyPaused()) await guest.vcpus.resume();
      return failedResult(scenario, guest, error as Error, clock.nowMs() - startedAtMs, false, sender);
    }
  }
  await destination.stop();
  const destinationWaitMs = destination.waitMs - destinationWaitAtStartMs;
  const channelsReport = lanes ? lanes.report() : singleLaneReport(sender, destinationWaitMs);
  await lanes?.stop();
  run.engine.destinationWaitMs = destinationWaitMs;
  run.engine.prepareMs = prepared.prepareMs;
  let verification: PrecopyResult['verification'] = null;
  let verified: boolean | null = null;
  const pc = run.outcome.outcome === 'postcopy' && postcopy !== null && shared !== null && destination instanceof DestinationHandle && guest.dest !== null
    ? await finishPostcopy({ run, facts: (postcopy as EmulatePostcopy).facts, shared, guest: guest as Guest, destination, scenario, clock, startedAtMs, writesAtStart, afterWindowMs: options.postcopyAfterWindowMs })
    : null;
  if (pc) {
    // post-copy: the destination equals the frozen source with the guest's logged writes replayed
    verified = pc.verified;
    verification = pc.verification;
  } else if (run.stats.status === 'completed') {
    // The vCPUs are paused: the source cannot change under the comparison.
    const report = remoteReport ?? verifyGuest(guest.source, guest.dest!, guest.deviceState, new Uint8Array(guest.destDeviceState!));
    verified = report.equal;
    verification = { badPages: report.badPages, firstBadPage: report.firstBadPage, deviceStateEqual: report.deviceStateEqual };
  }
  const rates = guest.vcpus.rates();
  const result = precopyResult(run, {
    verified,
    verification,
    workload: {
      targetPagesPerSec: scenario.workload.dirtyRate,
      achievedPagesPerSec: rates.totalPagesPerSec,
      perVcpuPagesPerSec: [...rates.perVcpuPagesPerSec],
    },
    deviceStateBytes: scenario.guest.deviceState,
    channels: channelsReport,
    xbzrle: scenario.precopy.xbzrle.enabled ? sender.xbzrleFigures() : null,
    compression: compressionResult(scenario.precopy.compression, scenario.precopy.compressionLevel, sender.compressionFigures()),
  });
  return pc ? { ...result, stats: pc.stats, postcopy: pc.postcopy } : result;
}

/** link.transport "tcp": connect to `migbench receive` at link.target; it allocates the guest before it accepts. */
function startTcpDestination(scenario: Scenario, source: GuestMemory, ring: RingShared, clock: Clock, stallLimitMs: number | undefined): Promise<TcpDestination> {
  const target = scenario.link.target ?? '';
  const address = parseHostPort(target);
  if (address === null) throw new MigbenchError('E_SCENARIO', `link.target: expected "HOST:PORT", got ${JSON.stringify(target)}`);
  return TcpDestination.start({
    ring,
    ...address,
    target,
    token: readToken(scenario.link.tokenFile, 'link.tokenFile', 'E_SCENARIO'),
    tls: scenario.link.tls ? readTlsFiles(scenario.link.tls, SCENARIO_TLS_LABELS, 'E_SCENARIO') : null,
    memory: source,
    deviceStateBytes: scenario.guest.deviceState,
    zstd: scenario.precopy.compression === 'zstd',
    scenarioHash: createHash('sha256').update(JSON.stringify(scenario)).digest('hex'),
    clock,
    stallLimitMs,
    // the stop-and-copy runs at the link's rate (the live rounds at most at it)
    pacedBytesPerSec: scenario.link.bandwidth,
    channels: scenario.precopy.channels,
  });
}

/** The link died (faults.linkDownAtMs, or a tcp connection lost): outcome `failed`, what was sent until then, and whether the guest is lost. */
function failedResult(scenario: Scenario, guest: Guest | SourceGuest, error: Error, elapsedMs: number, guestLost: boolean, sender: PageSender): PrecopyResult {
  const r = erroredResult(scenario, guest, new MigbenchError('E_IO', error.message), elapsedMs);
  const t = sender.total;
  return {
    ...r,
    outcome: 'failed',
    reason: 'link-down',
    error: error.message,
    stats: {
      ...r.stats,
      ram: ramStats({
        transferredBytes: t.bytes, transferredPages: t.pages, zeroPages: t.zeroPages, normalPages: t.normalPages, remainingBytes: scenario.guest.memory,
        memoryBytes: scenario.guest.memory, pageSizeBytes: scenario.guest.pageSize, dirtySyncCount: 0, dirtyPagesPerSec: 0,
        precopyBytes: t.bytes, downtimeBytes: 0, totalTimeMs: elapsedMs, setupTimeMs: 0,
      }),
    },
    guestLost,
  };
}

function erroredResult(scenario: Scenario, guest: Guest | SourceGuest, error: MigbenchError, elapsedMs: number): PrecopyResult {
  const rates = guest.vcpus.rates();
  return {
    outcome: 'errored',
    reason: error.code,
    error: error.message,
    verified: null,
    verification: null,
    stats: {
      status: 'failed',
      'total-time': elapsedMs,
      'setup-time': 0,
      downtime: null,
      'expected-downtime': 0,
      ram: ramStats({
        transferredBytes: 0, transferredPages: 0, zeroPages: 0, normalPages: 0, remainingBytes: scenario.guest.memory,
        memoryBytes: scenario.guest.memory, pageSizeBytes: scenario.guest.pageSize, dirtySyncCount: 0, dirtyPagesPerSec: 0,
        precopyBytes: 0, downtimeBytes: 0, totalTimeMs: elapsedMs, setupTimeMs: 0,
      }),
    },
    rounds: [],
    series: [],
    engineBound: false,
    engine: { liveRateLimitBytesPerSec: null, liveBytesPerSec: 0, liveDurationMs: 0, linkWaitMs: 0, ringWaitMs: 0, destinationWaitMs: 0 },
    workload: { targetPagesPerSec: scenario.workload.dirtyRate, achievedPagesPerSec: rates.totalPagesPerSec, perVcpuPagesPerSec: [...rates.perVcpuPagesPerSec] },
    deviceStateBytes: scenario.guest.deviceState,
    channels: { count: scenario.precopy.channels, lanes: [], dispatchWaitMs: 0, flushes: 0, flushWaitMs: 0 },
    xbzrle: null,
    compression: null,
  };
}

export interface RunOptions extends MigrateOptions {
  /** which methods to run, in this order (default: both) */
  methods?: readonly Method[];
  /** progress of the steps before and after the migration ("allocating 1.00 GiB", …) */
  onPhase?: (message: string) => void;
  /** allocation progress of each method's guest (GuestOptions.onAllocation) */
  onAllocation?: (doneBytes: number, totalBytes: number) => void;
  /** each quick-migration phase as it ends */
  onQuickPhase?: (phase: keyof QuickPhases, ms: number) => void;
  /**
   * The command line's `--force` (never a scenario key): the quick-migration image may replace a
   * regular file already at `quick.path`. Without it, a `quick.path` that is there is refused before
   * the run starts (E_SCENARIO).
   */
  force?: boolean;
}

/**
 * Run a scenario from nothing to a result document. Each method gets a fresh guest made from the same
 * seed (same content, same vCPU write sequence), so both migrate the same workload.
 */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ResultDocument> {
  const startedAt = new Date();
  const methods = options.methods ?? METHODS;
  if (methods.includes('quick')) checkImagePaths([{ label: scenario.name, scenario, runs: 1 }], options.force ?? false);
  // an unreadable token file is refused before the guest is allocated (read again when the migration connects)
  if (methods.includes('precopy') && scenario.link.transport === 'tcp') {
    readToken(scenario.link.tokenFile, 'link.tokenFile', 'E_SCENARIO');
    if (scenario.link.tls) readTlsFiles(scenario.link.tls, SCENARIO_TLS_LABELS, 'E_SCENARIO');
  }
  let precopy: PrecopyResult | null = null;
  let quick: QuickResult | null = null;
  for (const method of methods) {
    if (options.signal?.aborted) break;
    // pre-copy over tcp: the destination's memory is `migbench receive`'s, none is allocated here
    const remote = method === 'precopy' && scenario.link.transport === 'tcp';
    options.onPhase?.(`allocating and filling ${formatBytes(scenario.guest.memory)} of guest memory (${remote ? `the source; the destination is at ${scenario.link.target}` : 'source + destination'})`);
    const guestOptions = { fault: options.fault, onAllocation: options.onAllocation, lazyRestore: method === 'quick' && scenario.quick.restore === 'lazy' };
    const guest = remote ? await createSourceGuest(scenario, guestOptions) : await createGuest(scenario, guestOptions);
    try {
      if (method === 'precopy') {
        options.onPhase?.(`migrating with pre-copy; ${scenario.guest.vcpus} vCPUs dirtying memory`);
        precopy = await migratePrecopy(guest, options);
      } else {
        options.onPhase?.(`quick migration: pause, save to ${scenario.quick.format} image at ${formatByteRate(scenario.quick.storageBandwidth)}, restore`);
        quick = await migrateQuick(guest as Guest, { clock: options.clock, signal: options.signal, onPhase: options.onQuickPhase, force: options.force });
      }
    } finally {
      await guest.dispose();
    }
  }
  return runDocument({ scenario, startedAt, mode: 'emulate', methods, precopy, quick });
}
