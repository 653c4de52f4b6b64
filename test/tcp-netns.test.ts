/**
 * A real network between two processes (issue 16 item 5): two network namespaces joined by a veth pair,
 * shaped like a WAN (DELAY_MS each way, RATE_MBIT), the receiver in one namespace and the sender
 * (`migbench run`) in the other. Where the kernel has sch_netem, tc netem gives the delay and the rate;
 * without it (this machine), tc tbf shapes the rate on the veth and the delay is put in user space: a
 * relay in the receiver's namespace (helpers/delay-relay.mjs) that forwards each chunk DELAY_MS after it
 * arrived, each way. The migration is verified, and it follows the shaping at any machine speed: the
 * preparation (challenge, hello, accept: three trips before the guest is accepted) takes at least three
 * delays, the downtime (the last frames there, the resume back) at least a round trip, and the bulk
 * round at least its bytes over the rate, but for what the buffers on this side of the shaped link hold
 * (the ring and the socket's send buffer count as sent, as in QEMU) and the shaper's queue.
 *
 * Needs root, `ip netns` and `tc` with tbf (or netem); skipped, with the reason, where any is missing.
 * Every name and address (10.213.x.1/2 on a /30) is created by the test and removed in afterAll; the
 * receiver and the relay are killed there too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killReceivers, startReceiver } from './helpers/receive-child.ts';
import { TCP_RING_BYTES } from '../src/transport/tcp-destination.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const tag = `mb${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
const NS_SENDER = `${tag}s`;
const NS_RECEIVER = `${tag}r`;
const subnet = 1 + Math.floor(Math.random() * 250);
const SENDER_IP = `10.213.${subnet}.1`;
const RECEIVER_IP = `10.213.${subnet}.2`;
const RATE_MBIT = 40;
const DELAY_MS = 20;
const RELAY = fileURLToPath(new URL('./helpers/delay-relay.mjs', import.meta.url));
/** netem's queue, in packets: rate × delay is about 70 of them */
const NETEM_LIMIT_PACKETS = 1000;
/** tbf's queue bounds the time a packet waits in it (and so the bytes it holds at the rate) */
const TBF_LATENCY_MS = 50;
const TBF_BURST_BYTES = 4096;
/** tcp_wmem's maximum in the sender's namespace (sendBufferMaxBytes reads what holds) */
const SEND_BUFFER_MAX_BYTES = 256 * 1024;

function sh(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** Why the test cannot run here, or null. Creates the namespaces and the shaped veth when it can. */
type Setup = { skip: string | null; delay: 'netem' | 'relay' };

function setUp(): Setup {
  if (process.getuid?.() !== 0) return { skip: 'needs root (network namespaces)', delay: 'relay' };
  const probe = sh(['ip', 'netns', 'list']);
  if (!probe.ok) return { skip: `\`ip netns\` is not usable here: ${probe.out.slice(0, 120)}`, delay: 'relay' };
  const steps: string[][] = [
    ['ip', 'netns', 'add', NS_SENDER],
    ['ip', 'netns', 'add', NS_RECEIVER],
    ['ip', 'link', 'add', `${tag}a`, 'netns', NS_SENDER, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', NS_RECEIVER],
    ['ip', '-n', NS_SENDER, 'addr', 'add', `${SENDER_IP}/30`, 'dev', `${tag}a`],
    ['ip', '-n', NS_RECEIVER, 'addr', 'add', `${RECEIVER_IP}/30`, 'dev', `${tag}b`],
    ['ip', '-n', NS_SENDER, 'link', 'set', `${tag}a`, 'up'],
    ['ip', '-n', NS_RECEIVER, 'link', 'set', `${tag}b`, 'up'],
    ['ip', '-n', NS_RECEIVER, 'link', 'set', 'lo', 'up'], // the relay reaches the receiver on 127.0.0.1
  ];
  for (const step of steps) {
    const r = sh(step);
    if (!r.ok) return { skip: `cannot build the namespaces (${step.join(' ')}): ${r.out.slice(0, 120)}`, delay: 'relay' };
  }
  // a small send buffer in the sender's namespace (its own sysctl): less of a round hides in it, as sent
  sh(['ip', 'netns', 'exec', NS_SENDER, 'sh', '-c', `echo '4096 16384 ${SEND_BUFFER_MAX_BYTES}' > /proc/sys/net/ipv4/tcp_wmem`]);
  // netem (delay and rate) where the kernel has it, else tbf (rate only)
  const shape = (ns: string, dev: string, delay: boolean): { ok: boolean; out: string } =>
    delay
      ? sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${DELAY_MS}ms`, 'rate', `${RATE_MBIT}mbit`, 'limit', String(NETEM_LIMIT_PACKETS)])
      : sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${RATE_MBIT}mbit`, 'burst', String(TBF_BURST_BYTES), 'latency', `${TBF_LATENCY_MS}ms`]);
  const netem = shape(NS_SENDER, `${tag}a`, true).ok && shape(NS_RECEIVER, `${tag}b`, true).ok;
  if (!netem) {
    sh(['ip', 'netns', 'exec', NS_SENDER, 'tc', 'qdisc', 'del', 'dev', `${tag}a`, 'root']);
    sh(['ip', 'netns', 'exec', NS_RECEIVER, 'tc', 'qdisc', 'del', 'dev', `${tag}b`, 'root']);
    const a = shape(NS_SENDER, `${tag}a`, false);
    const b = shape(NS_RECEIVER, `${tag}b`, false);
    if (!a.ok || !b.ok) return { skip: `tc cannot shape the veth (neither netem nor tbf): ${(a.ok ? b : a).out.slice(0, 120)}`, delay: 'relay' };
  }
  return { skip: null, delay: netem ? 'netem' : 'relay' };
}

let relay: ChildProcess | null = null;

/** The delay relay in the receiver's namespace, in front of the receiver (127.0.0.1:targetPort there); resolves with its port. */
function startRelay(targetPort: number): Promise<number> {
  const child = spawn('ip', ['netns', 'exec', NS_RECEIVER, process.execPath, RELAY, RECEIVER_IP, '0', '127.0.0.1', String(targetPort), String(DELAY_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  relay = child;
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the delay relay did not start within 30 s: ${out}`)), 30_000);
    const take = (s: Buffer): void => {
      out += s.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the delay relay exited with ${code}: ${out}`));
    });
  });
}

/** The most a socket's send buffer may grow to in the sender's namespace (tcp_wmem's maximum). */
function sendBufferMaxBytes(): number {
  const r = sh(['ip', 'netns', 'exec', NS_SENDER, 'cat', '/proc/sys/net/ipv4/tcp_wmem']);
  const max = Number(r.out.split(/\s+/)[2]);
  return r.ok && max > 0 ? max : 4 * 1024 * 1024;
}

function tearDown(): void {
  killReceivers();
  relay?.kill('SIGKILL');
  relay = null;
  sh(['ip', 'netns', 'del', NS_SENDER]); // the veth pair goes with its namespaces
  sh(['ip', 'netns', 'del', NS_RECEIVER]);
}

let setup: Setup = { skip: 'not set up', delay: 'relay' };
beforeAll(() => {
  setup = setUp();
  if (setup.skip) tearDown();
});
afterAll(() => tearDown());

describe('tcp across two network namespaces, shaped with tc', () => {
  it(`migrates a 12 MiB guest across ${DELAY_MS} ms each way and ${RATE_MBIT} Mbit/s, verified, and its rounds follow the shaping`, async (ctx) => {
    if (setup.skip) {
      ctx.skip(setup.skip);
      return;
    }
    // with netem the receiver listens on the veth; without, behind the relay that delays each chunk
    const rx = await startReceiver(['--once'], 30_000, { host: setup.delay === 'netem' ? RECEIVER_IP : '127.0.0.1', wrap: ['ip', 'netns', 'exec', NS_RECEIVER] });
    const port = setup.delay === 'netem' ? rx.port : await startRelay(rx.port);
    const memoryBytes = 12 * 1024 * 1024;
    const run = spawnSync('ip', [
      'netns', 'exec', NS_SENDER, process.execPath, BIN, 'run', '--json', '-q', '--only', 'precopy',
      '--set', 'guest.memory=12MiB', '--set', 'guest.vcpus=1', '--set', 'guest.deviceState=64KiB',
      '--set', 'workload.pattern=uniform', '--set', 'workload.dirtyRate=100/s', '--set', 'workload.workingSet=1MiB',
      '--set', 'link.bandwidth=unlimited', '--set', 'link.transport=tcp', '--set', `link.target=${RECEIVER_IP}:${port}`,
      '--set', 'precopy.downtimeLimitMs=500', '--set', 'precopy.timeoutMs=60000',
    ], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
    expect(run.status, run.stderr).toBe(0);
    const p = JSON.parse(run.stdout).precopy;
    expect(p.verified).toBe(true);
    expect(p.outcome).toBe('converged');
    expect(await rx.exited).toBe(0);
    const rateBytesPerSec = (RATE_MBIT * 1e6) / 8;
    // never faster than the shaped link (a little slack for the token bucket's burst)
    expect(p.stats.ram.mbps).toBeLessThan(RATE_MBIT * 1.1);
    // every byte crossed the shaped link before the receiver resumed: the migration takes at least bytes ÷ rate
    expect(p.stats['total-time'] - p.stats['setup-time']).toBeGreaterThanOrEqual((p.stats.ram.transferred / rateBytesPerSec) * 1000 * 0.9);
    // the delay: three trips before the receiver accepted (in the preparation, before the clock starts),
    // and the last frames there and the resume back within the downtime
    expect(p.engine.prepareMs).toBeGreaterThanOrEqual(3 * DELAY_MS);
    expect(p.stats.downtime).toBeGreaterThanOrEqual(2 * DELAY_MS);
    // the bulk round: every page crossed the shaped link at its rate, but for what was still on this side
    // of it when the round ended (the ring, the socket's send buffer, the shaper's queue)
    const bulk = p.rounds[0];
    expect(bulk.stage).toBe('bulk');
    const queueBytes = setup.delay === 'netem' ? NETEM_LIMIT_PACKETS * 1514 : (rateBytesPerSec * TBF_LATENCY_MS) / 1000 + TBF_BURST_BYTES;
    const heldBytes = TCP_RING_BYTES + sendBufferMaxBytes() + queueBytes;
    expect(heldBytes).toBeLessThan(memoryBytes / 2); // the bound says something (the send buffer is capped in setUp)
    expect(bulk.durationMs).toBeGreaterThanOrEqual((Math.max(0, bulk.bytes - heldBytes) / rateBytesPerSec) * 1000);
  }, 180_000);
});
