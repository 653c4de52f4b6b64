/**
 * The TCP wire and the receiving session (no sockets): a real stream reproduces the guest however the
 * socket cuts it; garbage, a wrong token, another version, a lying length, an unknown type, pages beyond
 * the guest are each refused with E_STREAM_CORRUPT or E_AUTH, before anything is allocated or written.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { GuestMemory, guestLayout } from '../src/memory/guest-memory.ts';
import { FRAME_VERSION, HEADER_BYTES, H_BLOCK, H_FIRST, H_FRAME_BYTES, H_PAYLOAD_BYTES, H_TYPE, H_VERSION } from '../src/transport/frame.ts';
import { ReceiveSession, type ReceiveTarget } from '../src/transport/tcp-receive-session.ts';
import { answerVerifyRequest, blockHashes, compareRemote } from '../src/transport/tcp-verify.ts';
import {
  HELLO_FIXED_BYTES, MAX_WIRE_CHANNELS, PREFACE_BYTES, PrefaceReader, TCP_WIRE_VERSION, checkPreface, encodePreface, decodeChannelHello, decodeHello, encodeChannelHello, encodeHello, encodeMessage, encodeSyncFrame, helloMac, maxFrameBytes, parseHostPort,
  type ChannelHello, type Hello,
} from '../src/transport/tcp-wire.ts';
import { buildTcpStream, concat, type TcpStream } from './helpers/tcp-stream.ts';

const TOKEN = new TextEncoder().encode('s3cret');
const NONCE = new Uint8Array(32).fill(9);
const PS = 4096;
const PAGES = 96;
let stream: TcpStream;

beforeAll(async () => {
  stream = await buildTcpStream({ pageSizeBytes: PS, pages: PAGES, deviceBytes: 5000, token: TOKEN, nonce: NONCE });
});

class Rig {
  allocated: Hello | null = null;
  target: ReceiveTarget | null = null;
  readonly session: ReceiveSession;
  constructor(token = TOKEN) {
    this.session = new ReceiveSession(token, NONCE, (hello) => {
      this.allocated = hello;
      const memory = new GuestMemory(hello.layout);
      for (const v of memory.views) v.fill(0xcd); // a marker: untouched pages keep it
      this.target = { memory, deviceState: new Uint8Array(hello.deviceStateBytes) };
      return this.target;
    });
  }
  push(bytes: Uint8Array): ReturnType<ReceiveSession['push']> {
    return this.session.push(bytes);
  }
  refusal(bytes: Uint8Array): MigbenchError {
    try {
      this.push(bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(MigbenchError);
      expect((error as MigbenchError).message).not.toContain('\n');
      return error as MigbenchError;
    }
    throw new Error('expected a refusal');
  }
}

/** A frame of the stream with an i32 field changed. */
function withField(frame: Uint8Array, slot: number, value: number): Uint8Array {
  const out = frame.slice();
  new DataView(out.buffer).setInt32(4 * slot, value, true);
  return out;
}

/** The hello with a u32 changed and the MAC made again (a sender that holds the token but lies). */
function helloWith(offset: number, value: number, resign = true): Uint8Array {
  const out = stream.hello.slice();
  new DataView(out.buffer).setUint32(offset, value, true);
  if (resign) out.set(helloMac(TOKEN, NONCE, out), 80);
  return out;
}

describe('tcp wire: a real stream', () => {
  it('reproduces the source and the device state, in one chunk or cut anywhere', () => {
    const whole = concat([stream.hello, ...stream.frames]);
    for (const cut of [whole.length, 1, 7, 4093]) {
      const rig = new Rig();
      const events = [];
      for (let at = 0; at < whole.length; at += cut) events.push(...rig.push(whole.subarray(at, at + cut)));
      expect(events.map((e) => e.type)).toEqual(['hello', 'resumed']);
      expect(rig.allocated?.memoryBytes).toBe(PAGES * PS);
      expect(Buffer.from(rig.target!.memory.views[0]).equals(Buffer.from(stream.source.views[0]))).toBe(true);
      expect(Buffer.from(rig.target!.deviceState).equals(Buffer.from(stream.device))).toBe(true);
    }
  });

  it('answers verification requests after END, and a message cut in two arrives whole', () => {
    const rig = new Rig();
    rig.push(concat([stream.hello, ...stream.frames]));
    const m = encodeMessage({ type: 'ranges', block: 0 });
    expect(rig.push(m.subarray(0, 3))).toEqual([]);
    const [ev] = rig.push(m.subarray(3));
    expect(ev).toEqual({ type: 'message', message: { type: 'ranges', block: 0 } });
    const answer = answerVerifyRequest(rig.target!.memory, (ev as { message: { type: string } }).message);
    expect((answer?.hashes as string[]).length).toBe(1); // 384 KiB: one 2 MiB range
  });
});

describe('tcp wire: refusals (nothing allocated, nothing written)', () => {
  it('garbage bytes instead of a hello', () => {
    const rig = new Rig();
    const e = rig.refusal(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(e.code).toBe('E_STREAM_CORRUPT');
    expect(e.message).toContain('magic');
    expect(rig.allocated).toBeNull();
  });

  it('a wrong token is E_AUTH', () => {
    const rig = new Rig(new TextEncoder().encode('another'));
    const e = rig.refusal(concat([stream.hello, ...stream.frames]));
    expect(e.code).toBe('E_AUTH');
    expect(rig.allocated).toBeNull();
  });

  it('a changed hello field without the MAC made again is E_AUTH (the MAC covers the geometry)', () => {
    const rig = new Rig();
    expect(rig.refusal(helloWith(36, 1 << 20, false)).code).toBe('E_AUTH');
    expect(rig.allocated).toBeNull();
  });

  it('another wire version, and another frame version in the hello', () => {
    const rig = new Rig();
    const e = rig.refusal(helloWith(8, 1));
    expect(e.code).toBe('E_STREAM_CORRUPT');
    expect(e.message).toContain('wire version 1, this migbench speaks 3');
    expect(new Rig().refusal(helloWith(16, FRAME_VERSION + 1)).message).toContain('frame version');
  });

  it('a hello that lies about the geometry (page size, memory, block count, its own length)', () => {
    expect(new Rig().refusal(helloWith(20, 3000)).message).toContain('page size 3000');
    expect(new Rig().refusal(helloWith(32, 2)).message).toContain('RAM blocks');
    expect(new Rig().refusal(helloWith(12, 1 << 30)).message).toContain('hello of');
    const rig = new Rig();
    const short = helloWith(12, HELLO_FIXED_BYTES, false).slice(0, HELLO_FIXED_BYTES); // no block list, signed as such
    short.set(helloMac(TOKEN, NONCE, short), 80);
    expect(rig.refusal(short).message).toContain('1 RAM blocks in a hello of 112 bytes');
    expect(rig.allocated).toBeNull();
  });

  it('a frame whose length lies (beyond what this guest allows) is refused on its header', () => {
    const rig = new Rig();
    rig.push(stream.hello);
    const e = rig.refusal(withField(stream.frames[0], H_FRAME_BYTES, maxFrameBytes(PS) + 8));
    expect(e.code).toBe('E_STREAM_CORRUPT');
    expect(e.message).toContain('frame length');
    expect(rig.target!.memory.views[0].every((b) => b === 0xcd)).toBe(true);
  });

  it('pages beyond the announced guest are refused before any write', () => {
    const rig = new Rig();
    rig.push(stream.hello);
    const beyond = withField(stream.frames[0], H_FIRST, PAGES - 2); // a run of 64 pages from page 94 of 96
    expect(rig.refusal(beyond).message).toContain('outside block 0');
    const rig2 = new Rig();
    rig2.push(stream.hello);
    expect(rig2.refusal(withField(stream.frames[0], H_BLOCK, 1)).message).toContain('RAM block 1 out of range');
    for (const r of [rig, rig2]) expect(r.target!.memory.views[0].every((b) => b === 0xcd)).toBe(true);
  });

  it('an unknown frame type, a WRAP frame, another frame version', () => {
    for (const [slot, value, words] of [[H_TYPE, 99, 'unknown frame type'], [H_TYPE, 4, 'unknown frame type'], [H_VERSION, 7, 'frame version 7']] as const) {
      const rig = new Rig();
      rig.push(stream.hello);
      const e = rig.refusal(withField(stream.frames[0], slot, value));
      expect(e.code).toBe('E_STREAM_CORRUPT');
      expect(e.message).toContain(words);
      expect(rig.target!.memory.views[0].every((b) => b === 0xcd)).toBe(true);
    }
  });

  it('a session refuses everything after its first refusal', () => {
    const rig = new Rig();
    rig.refusal(new Uint8Array(16));
    expect(rig.refusal(stream.hello).message).toContain('after a refusal');
  });
});

describe('tcp wire: channel connections (precopy.channels > 1)', () => {
  const ID = 'c3'.repeat(16);
  const channelHello = (channel: number, channels = 4, token = TOKEN, id = ID): Uint8Array => encodeChannelHello({ channel, channels, migrationId: id }, token, NONCE);

  /** A channel session of a migration `ID` of 4 channels into a marked guest (the receiver's join, as tcp-receiver.ts checks it). */
  class ChannelRig {
    readonly memory = new GuestMemory(guestLayout(PAGES * PS, PS));
    readonly session: ReceiveSession;
    joined: ChannelHello | null = null;
    constructor(join?: (h: ChannelHello) => void) {
      for (const v of this.memory.views) v.fill(0xcd);
      this.session = new ReceiveSession(TOKEN, NONCE, () => {
        throw new Error('a channel connection never allocates');
      }, (h) => {
        join?.(h);
        this.joined = h;
        return { memory: this.memory, deviceState: new Uint8Array(0) };
      });
    }
    untouched(): boolean {
      return this.memory.views[0].every((b) => b === 0xcd);
    }
  }

  it('the hello carries the channel count; 0 and more than the wire allows are refused', () => {
    const withChannels = encodeHello({ pageSizeBytes: PS, memoryBytes: PAGES * PS, deviceStateBytes: 0, zstd: false, scenarioHash: '00'.repeat(32), channels: 4 }, TOKEN, NONCE);
    expect(decodeHello(withChannels, TOKEN, NONCE).channels).toBe(4);
    expect(decodeHello(stream.hello, TOKEN, NONCE).channels).toBe(1);
    for (const n of [0, MAX_WIRE_CHANNELS + 1]) expect(new Rig().refusal(helloWith(44, n)).message).toContain(`${n} channels`);
  });

  it('a channel carries pages into the migration\'s guest and answers each SYNC after the frames before it', () => {
    const rig = new ChannelRig();
    const pages = stream.frames.slice(0, Math.ceil(PAGES / 64)); // the bulk's PAGES frames (runs of 64 pages), sequence numbers 0, 1, …
    expect(pages.every((f) => new DataView(f.buffer, f.byteOffset).getInt32(4 * H_TYPE, true) === 1)).toBe(true);
    const events = rig.session.push(concat([channelHello(2), pages[0], encodeSyncFrame(1), ...pages.slice(1), encodeSyncFrame(2)]));
    expect(events.map((e) => e.type)).toEqual(['channel', 'sync', 'sync']);
    expect(events[0]).toEqual({ type: 'channel', hello: { channel: 2, channels: 4, migrationId: ID } });
    expect(events.slice(1)).toEqual([{ type: 'sync', sync: 1 }, { type: 'sync', sync: 2 }]);
    expect(rig.session.pagesApplied).toBe(PAGES);
  });

  it.each([
    ['the wrong token', () => channelHello(0, 4, new TextEncoder().encode('guess')), 'E_AUTH', /token/],
    ['a channel number ≥ its count', () => {
      const h = channelHello(0);
      new DataView(h.buffer).setUint32(16, 4, true);
      h.set(encodeChannelHello({ channel: 0, channels: 4, migrationId: ID }, TOKEN, NONCE).subarray(40), 40); // the MAC of another hello
      return h;
    }, 'E_AUTH', /token/],
    ['a count of 1', () => channelHello(0, 1), 'E_STREAM_CORRUPT', /a channel hello of 1 channels/],
    ['a channel hello of another length', () => {
      const h = channelHello(0);
      new DataView(h.buffer).setUint32(12, 80, true);
      return h;
    }, 'E_STREAM_CORRUPT', /channel hello of 80 bytes/],
  ] as const)('refuses %s before joining', (_what, bytes, code, message) => {
    const rig = new ChannelRig();
    let e: MigbenchError | null = null;
    try {
      rig.session.push(bytes());
    } catch (error) {
      e = error as MigbenchError;
    }
    expect(e?.code).toBe(code);
    expect(e?.message).toMatch(message);
    expect(rig.joined).toBeNull();
  });

  it('a channel number ≥ its count, signed, is refused', () => {
    expect(() => decodeChannelHello(channelHello(4, 4), TOKEN, NONCE)).toThrow(/channel 4 of 4/);
  });

  it('the receiver\'s refusal (unknown migration, duplicate number) reaches the socket before any frame is read', () => {
    const rig = new ChannelRig((h) => {
      if (h.migrationId !== 'ff'.repeat(16)) throw new MigbenchError('E_AUTH', 'tcp stream refused: a channel of a migration this receiver does not know');
    });
    expect(() => rig.session.push(concat([channelHello(1), stream.frames[0]]))).toThrow(/does not know/);
    expect(rig.untouched()).toBe(true);
  });

  it('a channel carries no device state and no END; a main connection no SYNC; a session without channels refuses a channel hello', () => {
    const device = stream.frames.find((f) => new DataView(f.buffer, f.byteOffset).getInt32(4 * H_TYPE, true) === 2)!;
    for (const frame of [device, stream.frames.at(-1)!]) {
      const rig = new ChannelRig();
      rig.session.push(channelHello(0));
      expect(() => rig.session.push(frame)).toThrow(/a channel connection carries pages only, not frame type [23]/);
    }
    const main = new Rig();
    main.push(stream.hello);
    expect(main.refusal(encodeSyncFrame(1)).message).toContain('unknown frame type 64');
    const plain = new ReceiveSession(TOKEN, NONCE, () => {
      throw new Error('unreachable');
    });
    expect(() => plain.push(channelHello(0))).toThrow(/a channel hello where a migration's hello was expected/);
  });

  it('a SYNC frame with a payload is refused', () => {
    const rig = new ChannelRig();
    rig.session.push(channelHello(0));
    const sync = new Uint8Array(HEADER_BYTES + 8);
    sync.set(encodeSyncFrame(1));
    const v = new DataView(sync.buffer);
    v.setInt32(4 * H_FRAME_BYTES, HEADER_BYTES + 8, true);
    v.setInt32(4 * H_PAYLOAD_BYTES, 8, true);
    expect(() => rig.session.push(sync)).toThrow(/a sync frame of 56 bytes/);
  });
});

describe('tcp verification by hashes', () => {
  it('names the first bad page and counts the bad pages and the device state', async () => {
    const layout = guestLayout(8 * 1024 * 1024, PS); // four 2 MiB ranges
    const source = new GuestMemory(layout);
    const dest = new GuestMemory(layout);
    source.views[0].fill(1);
    dest.views[0].fill(1);
    for (const p of [700, 701, 1500]) dest.page(p)[10] = 2;
    const device = new Uint8Array(10);
    const remote = { type: 'hashes', ...blockHashes(dest, device) };
    const asked: string[] = [];
    const report = await compareRemote(source, device, remote, async (request) => {
      asked.push(`${request.type}:${String(request.range ?? '')}`);
      return answerVerifyRequest(dest, request)!;
    });
    expect(report).toEqual({ equal: false, firstBadPage: 700, badPages: 3, deviceStateEqual: true });
    expect(asked).toEqual(['ranges:', 'pages:1', 'pages:2']); // only the bad ranges are looked into
    const same = await compareRemote(dest, device, remote, async () => {
      throw new Error('no request when the hashes match');
    });
    expect(same.equal).toBe(true);
    const otherDevice = await compareRemote(dest, new Uint8Array(10).fill(1), remote, async () => ({ type: 'x' }));
    expect(otherDevice).toMatchObject({ equal: false, deviceStateEqual: false, badPages: 0 });
  });

  it('a request for a block or range that does not exist is refused', () => {
    const m = new GuestMemory(guestLayout(PS * 4, PS));
    expect(() => answerVerifyRequest(m, { type: 'ranges', block: 1 })).toThrow(/block 1 of 1/);
    expect(() => answerVerifyRequest(m, { type: 'pages', block: 0, range: -1 })).toThrow(/range -1/);
  });
});

describe('tcp addresses', () => {
  it.each([
    ['127.0.0.1:4444', { host: '127.0.0.1', port: 4444 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['dest.example:0', { host: 'dest.example', port: 0 }],
    ['127.0.0.1', null],
    ['127.0.0.1:70000', null],
    [':4444', null],
  ])('%s', (text, want) => {
    expect(parseHostPort(text)).toEqual(want);
  });
  it('decodeHello checks the whole hello length', () => {
    expect(() => decodeHello(stream.hello.subarray(0, stream.hello.length - 8), TOKEN, NONCE)).toThrow(/bytes/);
  });
});

describe('the sender\'s preface (wire version 3)', () => {
  const refusal = (bytes: Uint8Array): string => {
    try {
      checkPreface(bytes);
    } catch (error) {
      expect((error as MigbenchError).code).toBe('E_STREAM_CORRUPT');
      return (error as MigbenchError).message;
    }
    return 'accepted';
  };

  it('accepts the preface, whole or in part, and hands on the bytes after it however the socket cuts them', () => {
    const preface = encodePreface();
    expect(preface.length).toBe(PREFACE_BYTES);
    for (let n = 0; n <= PREFACE_BYTES; n++) expect(refusal(preface.subarray(0, n))).toBe('accepted');
    const after = Uint8Array.from([1, 2, 3, 4, 5]);
    const whole = concat([preface, after]);
    for (let cut = 0; cut <= whole.length; cut++) {
      const reader = new PrefaceReader();
      expect(concat([reader.take(whole.subarray(0, cut)), reader.take(whole.subarray(cut))])).toEqual(after);
    }
  });

  it('refuses a TLS client at its first byte, garbage at its first wrong byte, another wire version', () => {
    expect(refusal(Uint8Array.from([0x16]))).toBe('tcp stream refused: a TLS client (the sender has link.tls), and this receiver is plaintext (start it with --tls-cert, --tls-key and --tls-ca)');
    expect(refusal(new TextEncoder().encode('MIGX'))).toMatch(/^tcp stream refused: not a migbench sender \(no MIGBSND preface/);
    // a sender of wire version 2 begins with its hello, after the challenge
    expect(refusal(stream.hello.subarray(0, PREFACE_BYTES))).toMatch(/no MIGBSND preface; a sender of wire version 2 or older\?/);
    const other = encodePreface();
    new DataView(other.buffer).setUint32(8, TCP_WIRE_VERSION + 1, true);
    expect(refusal(other)).toBe(`tcp stream refused: wire version ${TCP_WIRE_VERSION + 1}, this migbench speaks ${TCP_WIRE_VERSION}`);
    expect(() => new PrefaceReader().take(Uint8Array.from([0x16, 3, 1]))).toThrow(/a TLS client/);
  });
});
