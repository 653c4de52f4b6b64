/**
 * Simulate mode's post-copy: the loop's PostcopyPort (precopy/postcopy-port.ts) on the virtual clock,
 * synchronous, modelling what emulate mode's port (postcopy/emulate.ts) and its vCPU workers
 * (workload/vcpu-loop.ts) do:
 *
 * - **the switch** (QEMU postcopy_start), the guest paused: the bitmap of missing pages in chunks of
 *   control frames, the device state, the run command, all at the link's full rate; the guest resumes
 *   on the destination when the run command has arrived (+ `link.latencyMs`). That is the downtime.
 * - **the source** after it: one link, one frame at a time, at the post-copy rate
 *   (`postcopy.maxBandwidth`, at most the link's). Before each frame it serves the requests that have
 *   reached it (`link.latencyMs` after the fault), each requested page still unsent on a frame of its
 *   own, and the background push goes on from just after the last requested page (QEMU
 *   get_queued_page); else one background run from the cursor: 64 pages without `postcopy.preempt`
 *   (a request then waits behind the run), one page with it (the urgent lane overtakes). A frame
 *   arrives `link.latencyMs` after it left the link.
 * - **the guest** on the destination: each vCPU writes (`workload.dirtyRate`) and reads
 *   (`workload.readRate`) at its share, drawn from the same pattern generators as emulate mode (the
 *   writes go on with the pre-copy sequence; the reads from their own seed), paced as a vCPU worker
 *   paces them: in 100 ms windows, a chunk of the writes then of the reads due at each look, so after a
 *   stall it catches up with what fell due in its window. A touch of a page that has not arrived is a
 *   fault: one request, and the vCPU stalls until the page arrives.
 *
 * - **recovery** (`postcopy.recovery`, as emulate mode's port recovers: postcopy/emulate.ts): a frame
 *   that would arrive after `faults.linkDownAtMs` (left the link + `link.latencyMs`) is lost, its pages
 *   never arrive; the source pauses (postcopy-paused) at its first frame the link refuses (booked while
 *   it is down), or when the end it sent is lost; the vCPUs that touch a missing page stay blocked.
 *   When the link is back (`faults.linkDownForMs`; postcopy-recover) the source sends the resume frame,
 *   the destination answers with its received bitmap (one latency each way): post-copy-active again,
 *   the lost pages pending again, those the guest had asked for asked for again, the guest's requests
 *   made meanwhile due then. A link that never comes back (linkDownForMs 0) loses the guest.
 *
 * Time is event-driven: the vCPUs advance only as far as the source can have heard of them (its link
 * time − latency), so a page's arrival is always known before a vCPU could see it. The cost follows
 * the accesses drawn and the pages sent, never the virtual time.
 */
import type { PostcopyPhaseFacts } from '../postcopy/figures.ts';
import { receivedWords } from '../memory/received-bitmap.ts';
import type { PostcopyPort } from '../precopy/postcopy-port.ts';
import type { PostcopyStatus } from '../results/postcopy-result.ts';
import { DEVICE_CHUNK_BYTES, maxRunPages } from '../transport/frame.ts';
import { LinkDown } from '../transport/link-fault.ts';
import type { PageGenerator } from '../workload/patterns.ts';
import { PageSet } from './page-set.ts';

/** The vCPU workers' pacing window, the accesses of each kind between two looks at the clock, and their shortest sleep (workload/vcpu-loop.ts). */
const WINDOW_MS = 100;
const CHUNK = 64;
const MIN_SLEEP_MS = 0.05;
/** Link time one step of the post-copy push takes at most (ms), as a live batch's (simulate-precopy.ts BATCH_MAX_MS). */
export const STEP_LINK_MS = 5;
/** RAM block size of the engine (a frame's pages never cross a block). */
const BLOCK_BYTES = 1024 * 1024 * 1024;

/** What the port needs of the simulation around it (simulate-precopy.ts). */
export interface SimPostcopyParts {
  readonly startAfterRounds: number;
  readonly preempt: boolean;
  readonly latencyMs: number;
  readonly pageSizeBytes: number;
  readonly totalPages: number;
  readonly deviceStateBytes: number;
  /** the migration bitmap: pages not yet sent */
  readonly pending: PageSet;
  /** one generator per vCPU for its writes (continuing the pre-copy sequence), and one for its reads (null: none) */
  readonly writers: readonly (PageGenerator | null)[];
  readonly readers: readonly (PageGenerator | null)[];
  /** page writes and reads per second of each vCPU */
  readonly writeRatePerVcpu: number;
  readonly readRatePerVcpu: number;
  /** faults.linkDownAtMs (ms since the request), or null */
  readonly linkDownAtMs: number | null;
  /** postcopy.recovery: a link outage during post-copy pauses it and the migration recovers when the link is back */
  readonly recovery: boolean;
  /** when the link is back (ms since the request); Infinity: never (no recovery, or faults.linkDownForMs 0) */
  readonly linkUpAtMs: number;
  /** the virtual clock, ms since the request */
  nowMs(): number;
  setNowMs(ms: number): void;
  /** bytes/s of the link now (its share of link.bandwidth), and of the post-copy phase */
  linkRateBytesPerSec(): number;
  postcopyRateBytesPerSec(): number;
  /** the wire: each books a frame on the totals and returns its bytes */
  sendRun(page: number, len: number): number;
  sendControl(payloadBytes: number): number;
  sendDeviceState(): number;
  sendEnd(): number;
  totalBytes(): number;
  /** page writes since the start of the migration, pre-copy's */
  precopyWrites(): number;
}

/** What the phase did (times on the virtual clock, ms since the request), as emulate's PostcopyFacts. */
export interface SimPostcopyFacts extends PostcopyPhaseFacts {
  /** per vCPU: [begin, end] of each stall */
  stalls: [number, number][][];
  /** page writes of the after window (the guest alone on the destination), and its length */
  writesAfter: number;
  afterWindowMs: number;
  /** QEMU's migration status changes of a link outage (postcopy-paused, postcopy-recover, postcopy-active), in order */
  outageStatuses: { status: PostcopyStatus; atMs: number }[];
  /** the link outage recovered from, or null */
  outage: SimOutageFacts | null;
}

/** A link outage post-copy recovered from (ms since the request), as emulate's OutageFacts and the destination's side of it. */
export interface SimOutageFacts {
  linkDownAtMs: number;
  sourcePausedAtMs: number;
  destinationPausedAtMs: number;
  linkUpAtMs: number;
  /** the received bitmap was back at the source: post-copy active again */
  recoveredAtMs: number;
  lostFrames: number;
  lostPages: number;
  resentPages: number;
  rerequestedPages: number;
  bitmapBytes: number;
}

interface Vcpu {
  /** the vCPU has done every access due before this time */
  t: number;
  windowStartMs: number;
  writesInWindow: number;
  readsInWindow: number;
  /** writes and reads left of the chunk worked out at the last look */
  todoWrites: number;
  todoReads: number;
  /** the page it is blocked on (-1: running), since when, and whether the blocked access is a write */
  blockedPage: number;
  blockedSinceMs: number;
  blockedWrite: boolean;
  writes: number;
  stalls: [number, number][];
}

interface Request {
  page: number;
  dueMs: number;
}

export class SimPostcopy implements PostcopyPort {
  readonly startAfterRounds: number;
  readonly facts: SimPostcopyFacts = {
    missingPages: 0, requests: 0, urgentPages: 0, backgroundPages: 0, bytesAtSwitch: 0, bytesAtResume: 0, bytesAtEnd: 0,
    writesAtSwitch: 0, writesAtEnd: 0, resumedAtMs: 0, completedAtMs: 0, stalls: [], writesAfter: 0, afterWindowMs: 0,
    outageStatuses: [], outage: null,
  };
  private readonly vcpus: Vcpu[];
  /** pages sent whose frame has not arrived yet: page → arrival (ms) */
  private readonly inFlight = new Map<number, number>();
  /** the same pages in the order they were sent (arrivals never decrease), for eviction */
  private readonly inFlightOrder: number[] = [];
  private inFlightHead = 0;
  /** requests made, not yet served, in the order they were made */
  private waiting: Request[] = [];
  private readonly perWindowWrites: number;
  private readonly perWindowReads: number;
  /** the source's link time (ms): free from then on */
  private linkMs = 0;
  /** complete() has begun: the push goes on from `linkMs` */
  private pushing = false;
  /** where the background push goes on */
  private cursor = 0;
  /** recovery only: pages lost in flight to the outage (they never arrive), and every page the guest asked for */
  private lost: PageSet | null;
  private requested: PageSet | null;
  /** recovery only: frames and pages the destination lost in flight */
  private lostFrames = 0;
  private lostPages = 0;
  /** requests made before this (ms) were made again by the destination at the resume: due from then */
  private returnPathUpAtMs = -Infinity;

  constructor(private readonly parts: SimPostcopyParts) {
    this.startAfterRounds = parts.startAfterRounds;
    const watch = parts.recovery && parts.linkDownAtMs !== null;
    this.lost = watch ? new PageSet(parts.totalPages) : null;
    this.requested = watch ? new PageSet(parts.totalPages) : null;
    this.perWindowWrites = (parts.writeRatePerVcpu * WINDOW_MS) / 1000;
    this.perWindowReads = (parts.readRatePerVcpu * WINDOW_MS) / 1000;
    this.vcpus = parts.writers.map(() => ({
      t: 0, windowStartMs: 0, writesInWindow: 0, readsInWindow: 0, todoWrites: 0, todoReads: 0, blockedPage: -1, blockedSinceMs: 0, blockedWrite: false, writes: 0, stalls: [],
    }));
  }

  /** true once the guest runs on the destination (a link failure then loses it) */
  get resumed(): boolean {
    return this.facts.resumedAtMs > 0;
  }

  /** Book a frame at the link time `atMs`, at `rate`: the link time when it has left. Throws LinkDown while the link is down. */
  private book(atMs: number, send: () => number, rate: number): number {
    const down = this.parts.linkDownAtMs;
    this.parts.setNowMs(atMs);
    if (down !== null && atMs >= down && atMs < this.parts.linkUpAtMs) throw new LinkDown(down);
    return atMs + (send() * 1000) / rate;
  }

  /** Recovery: is a frame arriving at `arrivalMs` lost to the outage? (after the link went down, before the resume) */
  private lostInFlight(arrivalMs: number): boolean {
    const down = this.parts.linkDownAtMs;
    return this.lost !== null && down !== null && this.facts.outage === null && arrivalMs > down;
  }

  private status(status: PostcopyStatus, atMs: number): void {
    this.facts.outageStatuses.push({ status, atMs });
  }

  /** The recovery's page sets go back for the next simulation in this thread (nothing is lost any more). */
  private releaseSets(): void {
    this.lost?.release();
    this.requested?.release();
    this.lost = this.requested = null;
  }

  switchover(): number {
    const p = this.parts;
    const f = this.facts;
    f.bytesAtSwitch = p.totalBytes();
    f.writesAtSwitch = p.precopyWrites();
    f.missingPages = p.pending.count;
    const rate = p.linkRateBytesPerSec(); // the stop-and-copy's: the live limit is lifted
    let t = p.nowMs();
    // 1. the missing pages: the migration bitmap's 32-bit words, in chunks of control frames
    const bitmapBytes = Math.ceil(p.totalPages / 32) * 4;
    for (let off = 0; off < bitmapBytes; off += DEVICE_CHUNK_BYTES) {
      const n = Math.min(DEVICE_CHUNK_BYTES, bitmapBytes - off);
      t = this.book(t, () => p.sendControl(n), rate);
    }
    // 2. the device state and the run command; the guest runs on the destination when it has arrived
    if (p.deviceStateBytes > 0) t = this.book(t, () => p.sendDeviceState(), rate);
    t = this.book(t, () => p.sendControl(0), rate);
    p.setNowMs(t);
    f.bytesAtResume = p.totalBytes();
    f.resumedAtMs = t + p.latencyMs;
    for (const v of this.vcpus) {
      v.t = v.windowStartMs = f.resumedAtMs;
    }
    return f.resumedAtMs;
  }

  complete(): number {
    for (;;) {
      const at = this.completeStep();
      if (at !== null) return at;
    }
  }

  /**
   * One step of `complete()`: the push for up to STEP_LINK_MS of link time at the rate of the moment
   * (a fleet's link share: run-simulated.ts re-divides the link between steps); null while pages
   * remain, then the end frame and the completion time. The steps and their order are the same
   * however they are cut, so one guest's result is that of `complete()` in one go.
   */
  completeStep(): number | null {
    const p = this.parts;
    const f = this.facts;
    const latency = p.latencyMs;
    if (!this.pushing) {
      this.pushing = true;
      this.linkMs = f.resumedAtMs - latency; // the source's link time: free since the run command left
    }
    try {
      if (!this.push(this.linkMs + STEP_LINK_MS)) {
        p.setNowMs(this.linkMs); // where this migration stands (a fleet steps the one furthest behind)
        return null;
      }
      // the end frame; the migration completes when it has arrived
      const left = this.book(this.linkMs, () => p.sendEnd(), p.postcopyRateBytesPerSec());
      this.linkMs = left;
      if (this.lostInFlight(left + latency)) {
        // lost in flight: the destination paused when the link went down, the source learns it now
        this.lostFrames++;
        p.setNowMs(Math.max(left, p.linkDownAtMs!));
        throw new LinkDown(p.linkDownAtMs!);
      }
    } catch (error) {
      // one outage per run: a second failure, or one without recovery, ends the run (simulate-precopy.ts)
      if (!(error instanceof LinkDown) || this.lost === null || f.outage !== null) {
        this.releaseSets();
        throw error;
      }
      try {
        this.recover(error);
      } catch (lost) {
        this.releaseSets(); // the link never came back: the run ends here
        throw lost;
      }
      return null; // the push goes on from the recovery
    }
    this.releaseSets();
    return this.finish();
  }

  /** Every page has arrived: the completion time, the guest's figures until then and in the after window. */
  private finish(): number {
    const p = this.parts;
    const f = this.facts;
    const link = this.linkMs;
    p.setNowMs(link);
    f.completedAtMs = link + p.latencyMs;
    f.bytesAtEnd = p.totalBytes();
    // the guest until then: a vCPU may still fault on a page on its way (QEMU counts every request)
    this.advance(f.completedAtMs);
    this.waiting = [];
    f.writesAtEnd = f.writesAtSwitch + this.postcopyWrites();
    f.stalls = this.vcpus.map((v) => v.stalls);
    // after: the guest alone on the destination (every page there), as emulate measures its rate
    const writesBefore = this.postcopyWrites();
    f.afterWindowMs = AFTER_WINDOW_MS;
    this.advance(f.completedAtMs + AFTER_WINDOW_MS);
    f.writesAfter = this.postcopyWrites() - writesBefore;
    p.setNowMs(f.completedAtMs);
    return f.completedAtMs;
  }

  /**
   * Send pending pages, the guest's requests first, the background push between them, until none is
   * left (true) or the link time has reached `untilMs` (false: the next step goes on). Throws LinkDown
   * while the link is down.
   */
  private push(untilMs: number): boolean {
    const p = this.parts;
    const f = this.facts;
    const pending = p.pending;
    const total = p.totalPages;
    const latency = p.latencyMs;
    const perBlock = BLOCK_BYTES / p.pageSizeBytes;
    const backgroundRun = p.preempt ? 1 : maxRunPages(p.pageSizeBytes);
    const rate = p.postcopyRateBytesPerSec();
    const sendRun = (page: number, len: number): void => {
      const left = this.book(this.linkMs, () => p.sendRun(page, len), rate);
      pending.takeRun(page, len);
      this.linkMs = left;
      if (this.lostInFlight(left + latency)) {
        // in flight when the link went down: it never arrives (postcopy.recovery sends it again)
        this.lost!.addRange(page, page + len);
        this.lostFrames++;
        this.lostPages += len;
        return;
      }
      for (let q = page; q < page + len; q++) {
        this.inFlight.set(q, left + latency);
        this.inFlightOrder.push(q);
      }
    };
    while (pending.count > 0) {
      if (this.linkMs >= untilMs) return false;
      // the vCPUs, as far as the source can have heard of them
      this.advance(this.linkMs - latency);
      // requests first (urgent), those that have reached the source
      const now = this.linkMs;
      let served = 0;
      try {
        for (const r of this.waiting) {
          if (r.dueMs > now) break; // made in time order: the rest are later
          if (pending.has(r.page)) {
            sendRun(r.page, 1); // (a frame the link refuses leaves its request waiting)
            f.urgentPages++;
            this.cursor = r.page + 1 >= total ? 0 : r.page + 1; // the background goes on near the faulted address
          } // else sent already (on its way, or placed): it arrives anyway
          served++;
          if (pending.count === 0) break;
        }
      } finally {
        if (served > 0) this.waiting = this.waiting.slice(served);
      }
      if (pending.count === 0) break;
      // one background run from the cursor
      let page = pending.nextFrom(this.cursor);
      if (page < 0) page = pending.nextFrom(0);
      const blockEnd = Math.min(total, (Math.floor(page / perBlock) + 1) * perBlock);
      const len = pending.runLength(page, backgroundRun, blockEnd);
      sendRun(page, len);
      f.backgroundPages += len;
      this.cursor = page + len >= total ? 0 : page + len;
    }
    return true;
  }

  /**
   * The link is down and the source has noticed (its link time, `parts.nowMs()`): postcopy-paused; the
   * guest goes on until then. When the link is back: postcopy-recover, the resume frame, the received
   * bitmap back one latency later: postcopy-active, the lost pages pending again (those the guest had
   * asked for asked for again, due then). Throws `down` again when the link never comes back.
   */
  private recover(down: LinkDown): void {
    const p = this.parts;
    const latency = p.latencyMs;
    const downAtMs = p.linkDownAtMs!;
    const pausedAtMs = p.nowMs();
    this.advance(pausedAtMs); // every arrival until the resume is known: nothing more arrives
    this.status('postcopy-paused', pausedAtMs);
    if (!Number.isFinite(p.linkUpAtMs)) throw down;
    const upAtMs = Math.max(p.linkUpAtMs, pausedAtMs);
    this.status('postcopy-recover', upAtMs);
    const left = this.book(upAtMs, () => p.sendControl(0), p.postcopyRateBytesPerSec());
    const answeredAtMs = left + latency; // the destination applied the resume and answered with its received bitmap
    const recoveredAtMs = answeredAtMs + latency; // … which is back at the source
    // QEMU ram_dirty_bitmap_reload: pending = not received at the destination: the pages lost in flight
    const lost = this.lost!;
    const again: Request[] = [];
    for (let q = lost.nextFrom(0); q >= 0; q = q + 1 < p.totalPages ? lost.nextFrom(q + 1) : -1) {
      p.pending.add(q);
      if (this.requested!.has(q)) again.push({ page: q, dueMs: recoveredAtMs }); // asked for again at the resume
    }
    const resentPages = lost.count;
    lost.clear();
    // every request made so far is due by now (made before the pause: t + latency ≤ the resume)
    if (again.length > 0) this.waiting = mergeByDue(this.waiting, again);
    this.returnPathUpAtMs = answeredAtMs;
    this.facts.outage = {
      linkDownAtMs: downAtMs,
      sourcePausedAtMs: pausedAtMs,
      destinationPausedAtMs: Math.max(downAtMs, this.facts.resumedAtMs), // it watches for the outage once the guest runs there
      linkUpAtMs: p.linkUpAtMs,
      recoveredAtMs,
      lostFrames: this.lostFrames,
      lostPages: this.lostPages,
      resentPages,
      rerequestedPages: again.length,
      bitmapBytes: receivedWords(p.totalPages) * 4,
    };
    this.status('postcopy-active', recoveredAtMs);
    this.linkMs = recoveredAtMs;
    p.setNowMs(recoveredAtMs);
  }

  /** page writes each vCPU has done on the destination so far */
  writesPerVcpu(): number[] {
    return this.vcpus.map((v) => v.writes);
  }

  private postcopyWrites(): number {
    let n = 0;
    for (const v of this.vcpus) n += v.writes;
    return n;
  }

  /** Has `page` arrived at the destination by `atMs`? Its arrival time (Infinity: not sent yet), or -1 when it is there. */
  private arrival(page: number, atMs: number): number {
    if (this.parts.pending.has(page) || this.lost?.has(page)) return Infinity;
    const a = this.inFlight.get(page);
    return a === undefined || a <= atMs ? -1 : a;
  }

  /** Every vCPU does its accesses due up to `horizonMs` (or until it blocks on a page not sent yet). */
  private advance(horizonMs: number): void {
    const made: Request[] = [];
    for (let i = 0; i < this.vcpus.length; i++) this.advanceVcpu(i, horizonMs, made);
    if (made.length > 0) {
      // the ring holds them in the order they were made
      made.sort((a, b) => a.dueMs - b.dueMs);
      this.waiting = this.waiting.length === 0 ? made : mergeByDue(this.waiting, made);
      this.facts.requests += made.length;
      if (this.requested) for (const r of made) this.requested.add(r.page);
    }
    // frames that every vCPU has seen arrive are placed: no longer in flight
    let oldest = Infinity;
    for (const v of this.vcpus) oldest = Math.min(oldest, v.blockedPage >= 0 ? v.blockedSinceMs : v.t);
    const order = this.inFlightOrder;
    while (this.inFlightHead < order.length) {
      const q = order[this.inFlightHead];
      const a = this.inFlight.get(q);
      if (a !== undefined && a > oldest) break;
      this.inFlight.delete(q);
      this.inFlightHead++;
    }
    if (this.inFlightHead > 4096 && this.inFlightHead * 2 > order.length) {
      order.splice(0, this.inFlightHead);
      this.inFlightHead = 0;
    }
  }

  /**
   * One vCPU worker's loop (workload/vcpu-loop.ts) up to `horizonMs`: at each look it works out the
   * writes and the reads due in its window (at most CHUNK of each) and does them back to back, the
   * writes first, stalling on each missing page; when none is due it sleeps until the next one is.
   */
  private advanceVcpu(i: number, horizonMs: number, made: Request[]): void {
    const v = this.vcpus[i];
    const writer = this.parts.writers[i];
    const reader = this.parts.readers[i];
    const perW = writer ? this.perWindowWrites : 0;
    const perR = reader ? this.perWindowReads : 0;
    if (perW <= 0 && perR <= 0) {
      v.t = Math.max(v.t, horizonMs);
      return;
    }
    for (;;) {
      if (v.blockedPage >= 0) {
        const a = this.arrival(v.blockedPage, v.blockedSinceMs);
        if (a === Infinity || a > horizonMs) return; // still blocked
        // placed: the stall ends, the access is done
        v.stalls.push([v.blockedSinceMs, a]);
        v.t = Math.max(v.t, a);
        v.blockedPage = -1;
        if (v.blockedWrite) v.writes++;
      }
      if (v.todoWrites <= 0 && v.todoReads <= 0) {
        // a look at the clock: a window that has ended starts again now
        if (v.t - v.windowStartMs >= WINDOW_MS) {
          v.windowStartMs = v.t;
          v.writesInWindow = v.readsInWindow = 0;
        }
        const into = (v.t - v.windowStartMs) / WINDOW_MS;
        v.todoWrites = perW > 0 ? Math.min(CHUNK, Math.ceil(Math.min(perW, perW * into) - v.writesInWindow)) : 0;
        v.todoReads = perR > 0 ? Math.min(CHUNK, Math.ceil(Math.min(perR, perR * into) - v.readsInWindow)) : 0;
        if (v.todoWrites <= 0 && v.todoReads <= 0) {
          v.todoWrites = v.todoReads = 0;
          // ahead of the rate: sleep until the next write or read is due, or the window ends
          const nextWrite = perW > v.writesInWindow ? v.windowStartMs + ((v.writesInWindow + 1) * WINDOW_MS) / perW : v.windowStartMs + WINDOW_MS;
          const nextRead = perR > v.readsInWindow ? v.windowStartMs + ((v.readsInWindow + 1) * WINDOW_MS) / perR : v.windowStartMs + WINDOW_MS;
          const wake = v.t + Math.max(MIN_SLEEP_MS, Math.min(nextWrite, nextRead, v.windowStartMs + WINDOW_MS) - v.t);
          if (wake > horizonMs) {
            v.t = Math.max(v.t, horizonMs);
            return;
          }
          v.t = wake;
          continue;
        }
      }
      if (v.t > horizonMs) return;
      const isWrite = v.todoWrites > 0;
      const page = isWrite ? writer!.next() : reader!.next();
      if (isWrite) {
        v.todoWrites--;
        v.writesInWindow++;
      } else {
        v.todoReads--;
        v.readsInWindow++;
      }
      const a = this.arrival(page, v.t);
      if (a < 0) {
        if (isWrite) v.writes++;
        continue;
      }
      // a fault: the request goes to the source, the vCPU stalls until the page is placed
      v.blockedPage = page;
      v.blockedSinceMs = v.t;
      v.blockedWrite = isWrite;
      // (after an outage, a request made before the destination's resume went out with it)
      made.push({ page, dueMs: Math.max(v.t, this.returnPathUpAtMs) + this.parts.latencyMs });
    }
  }
}

/** How long the guest runs on the destination after completion to measure its write rate (postcopy/result.ts DEFAULT_AFTER_WINDOW_MS). */
export const AFTER_WINDOW_MS = 200;

function mergeByDue(a: Request[], b: Request[]): Request[] {
  const out: Request[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].dueMs <= b[j].dueMs)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
