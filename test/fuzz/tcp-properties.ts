/**
 * The TCP receiving session under fuzzing: a real stream (hello and frames from the real PageSender),
 * mutated in its bytes, cut into arbitrary chunks, or replaced by random bytes. Whatever arrives, the
 * session accepts it or refuses it with E_STREAM_CORRUPT or E_AUTH in one line; it allocates only for a
 * hello that is intact (the MAC covers every field), never writes the device state's guard bytes, and
 * the unmutated stream, however cut, reproduces the source.
 */
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.ts';
import { ReceiveSession } from '../../src/transport/tcp-receive-session.ts';
import { HEADER_BYTES } from '../../src/transport/frame.ts';
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
