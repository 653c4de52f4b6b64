/**
 * The TCP receiving session under fuzzing: a real stream (hello and frames from the real PageSender),
 * mutated in its bytes, cut into arbitrary chunks, or replaced by random bytes. Whatever arrives, the
 * session accepts it or refuses it with E_STREAM_CORRUPT or E_AUTH in one line; it allocates only for a
 * hello that is intact (the MAC covers every field), never writes the device state's guard bytes, and
 * the unmutated stream, however cut, reproduces the source.
 *
 * The channel property does the same for a channel connection (precopy.channels > 1): a channel hello,
 * its pages and SYNC frames. A channel joins only with an intact channel hello (the MAC covers its
 * number, its count and the migration id) that the receiver's rules accept; nothing is written to the
 * guest before it joined, and never a device state or END.
 */
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.ts';
import { ReceiveSession } from '../../src/transport/tcp-receive-session.ts';
import { HEADER_BYTES } from '../../src/transport/frame.ts';
import { guestLayout } from '../../src/memory/guest-memory.ts';
import { MigbenchError } from '../../src/errors.ts';
import { encodeChannelHello, encodeSyncFrame, type ChannelHello } from '../../src/transport/tcp-wire.ts';
import { buildTcpStream, concat } from '../helpers/tcp-stream.ts';
import { check, outcome, sameBytes } from './check.ts';
import { byteMutations, mutateBytes } from './mutate.ts';
import type { FuzzProperty } from './properties.ts';

const TOKEN = new TextEncoder().encode('fuzz-token');
const NONCE = new Uint8Array(32).fill(3);
const GUARD = 64;

export function tcpSessionProperty(): FuzzProperty {
  return {
    name: 'tcp-session',
    weight: 5,
    async make() {
      const stream = await buildTcpStream({ pageSizeBytes: 512, pages: 80, deviceBytes: 3000, token: TOKEN, nonce: NONCE });
      const arb = fc.record({
        target: fc.oneof(fc.constant(-1), fc.nat()), // -1: the hello, else a frame
        mutations: fc.oneof(fc.constant([]), byteMutations(3)),
        random: fc.option(fc.uint8Array({ maxLength: 600 }), { freq: 5 }),
        cuts: fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 6 }),
      });
      return fc.property(arb, ({ target, mutations, random, cuts }) => {
        const parts = [stream.hello, ...stream.frames];
        const i = target < 0 ? 0 : 1 + (target % stream.frames.length);
        if (mutations.length > 0) parts[i] = mutateBytes(parts[i], mutations, i === 0 ? undefined : { start: 0, length: HEADER_BYTES });
        const bytes = random ?? concat(parts);
        // intact: the stream still begins with the sender's hello (bytes added after it belong to the frames)
        const helloIntact = random === null && parts[0].length >= stream.hello.length && sameBytes(parts[0].subarray(0, stream.hello.length), stream.hello);
        let allocated = false;
        let memory: GuestMemory | null = null;
        const region = new Uint8Array(3000 + 2 * GUARD).fill(0x77);
        const session = new ReceiveSession(TOKEN, NONCE, (hello) => {
          allocated = true;
          memory = new GuestMemory(hello.layout);
          return { memory, deviceState: region.subarray(GUARD, GUARD + hello.deviceStateBytes) };
        });
        let resumed = false;
        let at = 0;
        let k = 0;
        while (at < bytes.length) {
          const n = cuts.length > 0 ? cuts[k++ % cuts.length] : bytes.length;
          const got = outcome(['E_STREAM_CORRUPT', 'E_AUTH'], () => session.push(bytes.subarray(at, at + n)), 'ReceiveSession.push');
          if (!got.ok) break;
          if (got.value.some((e) => e.type === 'resumed')) resumed = true;
          at += n;
        }
        check(!allocated || helloIntact, 'a guest was allocated for a hello that is not the sender\'s');
        for (let g = 0; g < GUARD; g++) check(region[g] === 0x77 && region[region.length - 1 - g] === 0x77, 'a write outside the device state');
        if (random === null && mutations.length === 0) {
          check(resumed, 'the valid stream did not reach END');
          check(memory !== null && sameBytes((memory as GuestMemory).views[0], stream.source.views[0]), 'the valid stream did not reproduce the source');
          check(sameBytes(region.subarray(GUARD, GUARD + 3000), stream.device), 'the valid stream did not reproduce the device state');
        }
        return true;
      });
    },
  };
}

const MIGRATION = '5e'.repeat(16);

export function tcpChannelProperty(): FuzzProperty {
  return {
    name: 'tcp-channel',
    weight: 4,
    async make() {
      const stream = await buildTcpStream({ pageSizeBytes: 512, pages: 80, deviceBytes: 300, token: TOKEN, nonce: NONCE });
      // a channel's stream: its hello, the bulk's PAGES frames (sequence numbers 0, 1, …) with SYNC points between them
      const pages = stream.frames.slice(0, 2);
      const arb = fc.record({
        channel: fc.integer({ min: 0, max: 5 }),
        channels: fc.integer({ min: 0, max: 5 }),
        known: fc.boolean(),
        target: fc.integer({ min: -1, max: 3 }), // -1: the channel hello, else a frame
        mutations: fc.oneof(fc.constant([]), byteMutations(3)),
        extra: fc.constantFrom(null, 'device', 'end'),
        taken: fc.option(fc.integer({ min: 0, max: 5 })),
        cuts: fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 6 }),
      });
      return fc.property(arb, ({ channel, channels, known, target, mutations, extra, taken, cuts }) => {
        const hello = encodeChannelHello({ channel, channels, migrationId: known ? MIGRATION : 'ee'.repeat(16) }, TOKEN, NONCE);
        const parts = [hello, pages[0], encodeSyncFrame(1), pages[1], encodeSyncFrame(2)];
        if (extra === 'device') parts.push(stream.frames.at(-2)!);
        if (extra === 'end') parts.push(stream.frames.at(-1)!);
        const i = target < 0 ? 0 : [1, 2, 3, 4][target];
        if (mutations.length > 0) parts[i] = mutateBytes(parts[i], mutations, i === 0 ? undefined : { start: 0, length: HEADER_BYTES });
        const intact = mutations.length === 0 || sameBytes(parts[0], hello);
        const memory = new GuestMemory(guestLayout(80 * 512, 512));
        memory.views[0].fill(0x77);
        let joined: ChannelHello | null = null;
        const session = new ReceiveSession(TOKEN, NONCE, () => {
          throw new Error('a channel connection allocated a guest');
        }, (h) => {
          // the receiver's rules (tcp-receiver.ts): its migration, its count (4), a number not taken
          if (h.migrationId !== MIGRATION) throw new MigbenchError('E_AUTH', 'tcp stream refused: a channel of a migration this receiver does not know');
          if (h.channels !== 4) throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: another count');
          if (h.channel === taken) throw new MigbenchError('E_STREAM_CORRUPT', 'tcp stream refused: already connected');
          joined = h;
          return { memory, deviceState: new Uint8Array(0) };
        });
        const bytes = concat(parts);
        const syncs: number[] = [];
        let at = 0;
        let k = 0;
        let refused = false;
        while (at < bytes.length) {
          const n = cuts.length > 0 ? cuts[k++ % cuts.length] : bytes.length;
          const untouched = joined === null && memory.views[0].every((b) => b === 0x77);
          const got = outcome(['E_STREAM_CORRUPT', 'E_AUTH'], () => session.push(bytes.subarray(at, at + n)), 'ReceiveSession.push (channel)');
          if (!got.ok) {
            refused = true;
            check(joined !== null || untouched, 'a refused channel wrote to the guest before joining');
            break;
          }
          for (const e of got.value) if (e.type === 'sync') syncs.push(e.sync);
          check(!got.value.some((e) => e.type === 'resumed' || e.type === 'hello'), 'a channel connection resumed the guest or said a migration\'s hello');
          at += n;
        }
        const acceptable = known && channels === 4 && channel < 4 && channel !== taken;
        check(joined === null || (intact && acceptable), 'a channel joined with a hello that is not the sender\'s, or one the receiver refuses');
        if (joined === null) check(memory.views[0].every((b) => b === 0x77), 'a channel that never joined wrote to the guest');
        if (mutations.length === 0 && acceptable) {
          check((refused && extra !== null) || (!refused && extra === null), 'a channel\'s device state or END was not refused (or a valid channel was)');
          // (a chunk that ends in a refusal yields no events: its SYNC points count only without one)
          if (extra === null) check(syncs.length === 2 && syncs[0] === 1 && syncs[1] === 2, 'the valid channel did not answer its two SYNC points');
          // the stream's builder changed pages 1 and 3 of the source after the bulk (its XBZRLE frames)
          for (let pg = 0; pg < 80; pg++) if (pg !== 1 && pg !== 3) check(sameBytes(memory.page(pg), stream.source.page(pg)), `the valid channel did not reproduce page ${pg}`);
        }
        return true;
      });
    },
  };
}
