// A TCP relay that delays every chunk by DELAY_MS in each direction: a WAN's latency in user space, for
// kernels without sch_netem (tc tbf still shapes the rate). Plain JavaScript, run with node outside the
// test runner (e.g. inside a network namespace):
//   node delay-relay.mjs LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
// It prints "listening on HOST:PORT" on stdout once it listens (port 0: the kernel picks one), and relays
// each connection to TARGET. Each chunk is written DELAY_MS after it was read, in order; a side's end or
// reset is passed on after the chunks before it. A slow reader pauses the other side (no unbounded buffer).
import net from 'node:net';

const [listenHost, listenPort, targetHost, targetPort, delayText] = process.argv.slice(2);
const delayMs = Number(delayText);
if (!listenHost || !targetHost || !Number.isInteger(Number(listenPort)) || !Number.isInteger(Number(targetPort)) || !(delayMs >= 0)) {
  process.stderr.write('usage: delay-relay.mjs LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS\n');
  process.exit(2);
}

/** Bytes written to a side and not yet taken by its socket beyond which the other side is paused. */
const HIGH_WATER_BYTES = 256 * 1024;

/** Carry `from`'s bytes to `to`, each chunk DELAY_MS after it arrived; `from`'s end after the chunks before it. */
function delayLine(from, to) {
  const queue = []; // { dueMs, chunk } | { dueMs, end: true }
  let timer = null;
  const pump = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0].dueMs <= now) {
      const item = queue.shift();
      if (item.end) {
        to.end();
        return;
      }
      to.write(item.chunk);
      if (to.writableLength > HIGH_WATER_BYTES && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0].dueMs - now));
  };
  const push = (item) => {
    queue.push(item);
    if (timer === null) timer = setTimeout(pump, Math.max(0, item.dueMs - performance.now()));
  };
  from.on('data', (chunk) => {
    push({ dueMs: performance.now() + delayMs, chunk });
  });
  from.on('end', () => push({ dueMs: performance.now() + delayMs, end: true }));
  return () => {
    if (timer !== null) clearTimeout(timer);
    queue.length = 0;
  };
}

const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const upstream = net.connect({ host: targetHost, port: Number(targetPort), allowHalfOpen: true });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const stops = [delayLine(client, upstream), delayLine(upstream, client)];
  // one side closed or reset: the other goes too, once what was on its way has been delivered (as on a real path)
  let killing = false;
  const kill = () => {
    if (killing) return;
    killing = true;
    setTimeout(() => {
      for (const stop of stops) stop();
      client.destroy();
      upstream.destroy();
    }, delayMs + 100);
  };
  for (const side of [client, upstream]) {
    side.on('error', kill);
    side.on('close', kill);
  }
});
server.listen(Number(listenPort), listenHost, () => {
  const a = server.address();
  process.stdout.write(`listening on ${a.address}:${a.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
