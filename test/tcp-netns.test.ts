/**
 * A real network between two processes (issue 16 item 5): two network namespaces joined by a veth pair,
 * the link shaped with tc (tbf: a rate; netem delay too where the kernel has it), the receiver in one
 * namespace and the sender (`migbench run`) in the other. The migration is verified, and it follows the
 * shaping at any machine speed: it never goes faster than the shaped rate, so the bulk round takes at
 * least its bytes over that rate; with a delay, the setup (three trips before the guest is
 * accepted) and the downtime (the last frames there, the resume back) each take at least a round trip.
 *
 * Needs root, `ip netns` and `tc` with tbf; skipped, with the reason, where any is missing. Every name and
 * address (10.213.x.1/2 on a /30) is created by the test and removed in afterAll.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killReceivers, startReceiver } from './helpers/receive-child.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const tag = `mb${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
const NS_SENDER = `${tag}s`;
const NS_RECEIVER = `${tag}r`;
const subnet = 1 + Math.floor(Math.random() * 250);
const SENDER_IP = `10.213.${subnet}.1`;
const RECEIVER_IP = `10.213.${subnet}.2`;
const RATE_MBIT = 40;
const DELAY_MS = 20;

function sh(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** Why the test cannot run here, or null. Creates the namespaces and the shaped veth when it can. */
function setUp(): { skip: string | null; delay: boolean } {
  if (process.getuid?.() !== 0) return { skip: 'needs root (network namespaces)', delay: false };
  const probe = sh(['ip', 'netns', 'list']);
  if (!probe.ok) return { skip: `\`ip netns\` is not usable here: ${probe.out.slice(0, 120)}`, delay: false };
  const steps: string[][] = [
    ['ip', 'netns', 'add', NS_SENDER],
    ['ip', 'netns', 'add', NS_RECEIVER],
    ['ip', 'link', 'add', `${tag}a`, 'netns', NS_SENDER, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', NS_RECEIVER],
    ['ip', '-n', NS_SENDER, 'addr', 'add', `${SENDER_IP}/30`, 'dev', `${tag}a`],
    ['ip', '-n', NS_RECEIVER, 'addr', 'add', `${RECEIVER_IP}/30`, 'dev', `${tag}b`],
    ['ip', '-n', NS_SENDER, 'link', 'set', `${tag}a`, 'up'],
    ['ip', '-n', NS_RECEIVER, 'link', 'set', `${tag}b`, 'up'],
  ];
  for (const step of steps) {
    const r = sh(step);
    if (!r.ok) return { skip: `cannot build the namespaces (${step.join(' ')}): ${r.out.slice(0, 120)}`, delay: false };
  }
  // netem (delay and rate) where the kernel has it, else tbf (rate only)
  const shape = (ns: string, dev: string, delay: boolean): { ok: boolean; out: string } =>
    delay
      ? sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${DELAY_MS}ms`, 'rate', `${RATE_MBIT}mbit`, 'limit', '10000'])
      : sh(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${RATE_MBIT}mbit`, 'burst', '32kbit', 'latency', '50ms']);
  let delay = shape(NS_SENDER, `${tag}a`, true).ok && shape(NS_RECEIVER, `${tag}b`, true).ok;
  if (!delay) {
    sh(['ip', 'netns', 'exec', NS_SENDER, 'tc', 'qdisc', 'del', 'dev', `${tag}a`, 'root']);
    sh(['ip', 'netns', 'exec', NS_RECEIVER, 'tc', 'qdisc', 'del', 'dev', `${tag}b`, 'root']);
    const a = shape(NS_SENDER, `${tag}a`, false);
    const b = shape(NS_RECEIVER, `${tag}b`, false);
    if (!a.ok || !b.ok) return { skip: `tc cannot shape the veth (neither netem nor tbf): ${(a.ok ? b : a).out.slice(0, 120)}`, delay: false };
    delay = false;
  }
  return { skip: null, delay };
}

function tearDown(): void {
  killReceivers();
  sh(['ip', 'netns', 'del', NS_SENDER]); // the veth pair goes with its namespaces
  sh(['ip', 'netns', 'del', NS_RECEIVER]);
}

let setup: { skip: string | null; delay: boolean } = { skip: 'not set up', delay: false };
beforeAll(() => {
  setup = setUp();
  if (setup.skip) tearDown();
});
afterAll(() => tearDown());

describe('tcp across two network namespaces, shaped with tc', () => {
  it('migrates an 8 MiB guest, verified, and follows the shaping', async (ctx) => {
    if (setup.skip) {
      ctx.skip(setup.skip);
      return;
    }
    const rx = await startReceiver(['--once'], 30_000, { host: RECEIVER_IP, wrap: ['ip', 'netns', 'exec', NS_RECEIVER] });
    const run = spawnSync('ip', [
      'netns', 'exec', NS_SENDER, process.execPath, BIN, 'run', '--json', '-q', '--only', 'precopy',
      '--set', 'guest.memory=8MiB', '--set', 'guest.vcpus=1', '--set', 'guest.deviceState=64KiB',
      '--set', 'workload.pattern=uniform', '--set', 'workload.dirtyRate=100/s', '--set', 'workload.workingSet=1MiB',
      '--set', 'link.bandwidth=unlimited', '--set', 'link.transport=tcp', '--set', `link.target=${RECEIVER_IP}:${rx.port}`,
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
    // (not the bulk round alone: the ring and the kernel's socket and queue buffers hold megabytes, and what they
    // hold counts as sent, as in QEMU, whose rounds also end when the socket has taken the pages)
    if (setup.delay) {
      expect(p.stats['setup-time']).toBeGreaterThanOrEqual(3 * DELAY_MS);
      expect(p.stats.downtime).toBeGreaterThanOrEqual(2 * DELAY_MS);
    }
  }, 180_000);
});
