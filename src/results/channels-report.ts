/** `precopy.channels` in the result document: the parallel channels and what each lane did. */

/** Per-channel figures in the result document (`precopy.channels.lanes[]`). */
export interface ChannelLaneReport {
  packets: number;
  pages: number;
  zeroPages: number;
  normalPages: number;
  /** bytes this lane put on the link (frame headers included) */
  bytes: number;
  frames: number;
  /** ms the channel waited for the shared link budget */
  linkWaitMs: number;
  /** ms the channel waited for its destination to free ring space */
  ringWaitMs: number;
  /** ms the lane's destination waited for frames */
  destinationWaitMs: number;
}

/** `precopy.channels` in the result document. */
export interface ChannelsReport {
  count: number;
  lanes: ChannelLaneReport[];
  /** ms the migration thread waited for a free slot in a channel's queue */
  dispatchWaitMs: number;
  /** flushes (one per dirty sync, one more before the device state) and the ms they took */
  flushes: number;
  flushWaitMs: number;
}
