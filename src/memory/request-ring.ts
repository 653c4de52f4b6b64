/**
 * The page-request ring of post-copy: a vCPU that touches a missing page puts the page here and blocks;
 * the source (emulate mode's migration thread; later the image reader of a lazy restore) takes the
 * requests in order and sends those pages first. QEMU's destination sends the same thing on its return
 * path (postcopy_request_page → migrate_send_rp_req_pages, MIG_RP_MSG_REQ_PAGES); the source queues it
 * (ram_save_queue_pages) and serves it before the background search (get_queued_page).
 *
 * A bounded multi-producer, single-consumer queue in one SharedArrayBuffer (Vyukov's bounded queue,
 * sequence number per slot), lock-free for the producers:
 *   Int32 ENQ        written by the producers (compareExchange): requests claimed so far (wrapping)
 *   Int32 DEQ        written by the consumer only: requests taken so far (wrapping); producers wait on it when full
 *   Int32 DOORBELL   written by the producers (Atomics.add after publishing): the consumer may wait on it
 *   Int32 SEQ[i]     slot i's sequence: written by the producer that claimed it (publish: pos + 1) and by the
 *                    consumer (free: pos + capacity)
 *   Int32 PAGE[i]    written by the producer that claimed slot i, before it publishes SEQ[i]: the page (unsigned)
 *   Float64 AT[i]    written likewise: when the vCPU asked (ms on the shared clock, performance.now's origin differs
 *                    per thread, so absolute ms: `absoluteNowMs`)
 */
export const RQ_ENQ = 0;
export const RQ_DEQ = 1;
export const RQ_DOORBELL = 2;
const HEADER_WORDS = 4;

export interface RequestRingShared {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
}

/** The bytes of a ring of `capacity` requests: the header, SEQ + PAGE (Int32 each), AT (Float64). */
export function requestRingBytes(capacity: number): number {
  return HEADER_WORDS * 4 + capacity * 8 + capacity * 8;
}

export function createRequestRing(capacity: number): RequestRingShared {
  if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`request ring capacity must be a power of two >= 2, got ${capacity}`);
  const shared = { buffer: new SharedArrayBuffer(requestRingBytes(capacity)), capacity };
  const seq = new Int32Array(shared.buffer, HEADER_WORDS * 4, capacity);
  for (let i = 0; i < capacity; i++) seq[i] = i;
  return shared;
}

export class RequestRing {
  readonly head: Int32Array;
  private readonly seq: Int32Array;
  private readonly page: Int32Array;
  private readonly at: Float64Array;
  private readonly mask: number;
  readonly capacity: number;

  constructor(shared: RequestRingShared) {
    const c = shared.capacity;
    this.capacity = c;
    this.mask = c - 1;
    this.head = new Int32Array(shared.buffer, 0, HEADER_WORDS);
    this.seq = new Int32Array(shared.buffer, HEADER_WORDS * 4, c);
    this.page = new Int32Array(shared.buffer, HEADER_WORDS * 4 + c * 4, c);
    this.at = new Float64Array(shared.buffer, HEADER_WORDS * 4 + c * 8, c);
  }

  /** Producer: enqueue a request; false when the ring is full (the caller waits on DEQ and tries again). */
  tryPush(page: number, atMs: number): boolean {
    for (;;) {
      const pos = Atomics.load(this.head, RQ_ENQ);
      const slot = pos & this.mask;
      const dif = (Atomics.load(this.seq, slot) - pos) | 0;
      if (dif === 0) {
        if (Atomics.compareExchange(this.head, RQ_ENQ, pos, (pos + 1) | 0) !== pos) continue;
        this.page[slot] = page | 0;
        this.at[slot] = atMs;
        Atomics.store(this.seq, slot, (pos + 1) | 0); // publish (after the page and time)
        Atomics.add(this.head, RQ_DOORBELL, 1);
        Atomics.notify(this.head, RQ_DOORBELL);
        return true;
      }
      if (dif < 0) return false; // full: the consumer has not freed this slot yet
    }
  }

  /** Producer: enqueue, blocking this thread (Atomics.wait) while the ring is full; false if `stop()` says so. */
  push(page: number, atMs: number, stop: () => boolean): boolean {
    while (!this.tryPush(page, atMs)) {
      if (stop()) return false;
      Atomics.wait(this.head, RQ_DEQ, Atomics.load(this.head, RQ_DEQ), 20);
    }
    return true;
  }

  private deqPos = -1;

  /**
   * Consumer: the next request's page (unsigned) and when it was asked, into `out`; false when none is
   * published yet. Only one thread may call it.
   */
  tryTake(out: { page: number; atMs: number }): boolean {
    if (this.deqPos < 0) this.deqPos = Atomics.load(this.head, RQ_DEQ);
    const pos = this.deqPos;
    const slot = pos & this.mask;
    if (((Atomics.load(this.seq, slot) - ((pos + 1) | 0)) | 0) !== 0) return false;
    out.page = this.page[slot] >>> 0;
    out.atMs = this.at[slot];
    Atomics.store(this.seq, slot, (pos + this.capacity) | 0); // free the slot for the lap after
    this.deqPos = (pos + 1) | 0;
    Atomics.store(this.head, RQ_DEQ, this.deqPos);
    Atomics.notify(this.head, RQ_DEQ);
    return true;
  }

  /** The doorbell's value now: wait for it to change (Atomics.waitAsync) to hear of a new request. */
  doorbell(): number {
    return Atomics.load(this.head, RQ_DOORBELL);
  }
}
