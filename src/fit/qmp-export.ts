/**
 * A run's own pre-copy progress as the QMP log a script polling QEMU would have kept (issue 17 item 5):
 * JSON lines of `{"execute": …, "return": …}` replies — `query-migrate-parameters`, then
 * `query-migrate-capabilities`, then one `query-migrate` reply for the `setup` status, one per sample of
 * the result's progress `series` (every 100 ms, wider for long simulated migrations) and the final reply,
 * whose figures are the result's `stats` exactly. `migbench fit` reads it back (src/fit/qmp-log.ts).
 *
 * Pure: a resolved scenario and a pre-copy result in, lines of text out. What a sample does not hold is
 * derived from the round records, and said here:
 * - `dirty-sync-count`: QEMU's count: 1 during the bulk round (QEMU syncs once at setup), plus one for
 *   each live round that ended (each ends with a dirty sync) by the sample's time; the last reply shows
 *   the result's own count;
 * - `duplicate` / `normal`: the finished rounds' counts, plus the running round's in proportion to the
 *   pages it has sent so far (the drop of `remaining` since the round began);
 * - `dirty-pages-rate`: as QEMU computes it, the pages found dirty at the syncs of a period of at least
 *   one second, per second; 0 until the first such period ends;
 * - `expected-downtime`: `remaining` ÷ the link rate over the last sample interval (QEMU: remaining ÷
 *   the bandwidth it measured), the downtime limit until a rate is known;
 * - `xbzrle-cache` counters: the final counters spread over the rounds after the bulk round (XBZRLE
 *   only encodes re-sent pages) in proportion to the pages each sent.
 */
import type { Scenario } from '../options.ts';
import type { PrecopyResult } from '../results/document.ts';
import type { RoundRecord } from '../results/migration-stats.ts';

type Json = Record<string, unknown>;

/** Round-off between a round's start + duration and a sample's time (both sums of the same clock readings). */
const EPS_MS = 1e-6;

const reply = (execute: string, pollS: number | null, ret: unknown): string =>
  JSON.stringify(pollS === null ? { execute, return: ret } : { execute, poll_s: Math.round(pollS * 1e4) / 1e4, return: ret }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? 0 : v));

/** The `query-migrate-parameters` reply for the scenario (QEMU's names; a rate of 0 means no limit). */
export function qmpParameters(s: Scenario): Json {
  const ac = s.precopy.autoConverge;
  return {
    'downtime-limit': s.precopy.downtimeLimitMs,
    'max-bandwidth': Number.isFinite(s.precopy.maxBandwidth) ? s.precopy.maxBandwidth : 0,
    'xbzrle-cache-size': s.precopy.xbzrle.cacheSize,
    'multifd-channels': s.precopy.channels,
    'multifd-compression': s.precopy.compression,
    ...(ac ? { 'cpu-throttle-initial': ac.initial, 'cpu-throttle-increment': ac.increment, 'max-cpu-throttle': ac.max, 'throttle-trigger-threshold': ac.triggerThreshold } : {}),
  };
}

/** The `query-migrate-capabilities` reply for the scenario. */
export function qmpCapabilities(s: Scenario): { capability: string; state: boolean }[] {
  return [
    { capability: 'xbzrle', state: s.precopy.xbzrle.enabled },
    { capability: 'auto-converge', state: s.precopy.autoConverge !== null },
    { capability: 'dirty-limit', state: s.precopy.dirtyLimit !== null },
    { capability: 'multifd', state: s.precopy.channels > 1 },
  ];
}

/** Times (ms) of the dirty syncs that ended the live rounds. */
function syncTimes(rounds: readonly RoundRecord[]): number[] {
  return rounds.filter((r) => r.stage !== 'stop-and-copy').map((r) => r.startMs + r.durationMs);
}

/** QEMU's dirty-pages-rate at each sync: pages found dirty over a period of ≥ 1 s, per second. */
function dirtyRates(rounds: readonly RoundRecord[], times: readonly number[], startMs: number): { atMs: number; rate: number }[] {
  const out: { atMs: number; rate: number }[] = [];
  let periodStart = startMs;
  let found = 0;
  times.forEach((t, i) => {
    found += rounds[i].dirtyPages;
    if (t - periodStart >= 1000) {
      out.push({ atMs: t, rate: Math.round((found * 1000) / (t - periodStart)) });
      periodStart = t;
      found = 0;
    }
  });
  return out;
}

/** The QMP log of a run's pre-copy migration: lines of JSON, each ending in "\n". */
export function qmpLogLines(s: Scenario, p: PrecopyResult): string[] {
  const st = p.stats;
  const ps = s.guest.pageSize;
  const totalPages = s.guest.memory / ps;
  const rounds = p.rounds;
  const times = syncTimes(rounds);
  const liveStartMs = st['setup-time'];
  const rates = dirtyRates(rounds, times, liveStartMs);
  const xOn = s.precopy.xbzrle.enabled && st['xbzrle-cache'] !== undefined;
  const laterPages = rounds.slice(1).reduce((a, r) => a + r.sentPages, 0);
  const lines: string[] = [reply('query-migrate-parameters', null, qmpParameters(s)), reply('query-migrate-capabilities', null, qmpCapabilities(s)), reply('query-migrate', 0, { status: 'setup' })];

  let prevDuplicate = 0;
  let prevNormal = 0;
  let prevPages = 0;
  let prevT = 0;
  let expected = s.precopy.downtimeLimitMs;
  const liveEnd = times.at(-1);
  const afterLiveEnd = liveEnd === undefined ? -1 : p.series.findLastIndex((pt) => Math.abs(pt.tMs - liveEnd) <= EPS_MS);
  for (const [i, pt] of p.series.entries()) {
    if (pt.tMs <= 0 || pt.tMs >= st['total-time']) continue;
    // the round running at the sample: the first whose end is after it. A sample at a round's end was
    // taken before that round's sync (it belongs to the round that ends), except the one forced at
    // the end of the live phase, which comes after the last live sync
    const slackMs = i === afterLiveEnd ? 0 : EPS_MS;
    let k = rounds.findIndex((r) => r.startMs + r.durationMs > pt.tMs - slackMs);
    if (k < 0) k = rounds.length - 1;
    const before = rounds.slice(0, k);
    const r = rounds[k];
    const startPending = k === 0 ? totalPages : rounds[k - 1].pendingPages;
    const sentInRound = Math.max(0, startPending - pt.remainingBytes / ps);
    const frac = r.sentPages > 0 ? Math.min(1, sentInRound / r.sentPages) : 0;
    const zeroSoFar = before.reduce((a, x) => a + x.zeroPages, 0) + r.zeroPages * frac;
    const duplicate = Math.max(prevDuplicate, Math.round(zeroSoFar));
    // rounded as one sum, so that duplicate + normal moves with remaining exactly (QEMU's bookkeeping)
    const normal = Math.max(prevNormal, Math.round(zeroSoFar + before.reduce((a, x) => a + x.normalPages, 0) + r.normalPages * frac) - duplicate);
    const pagesSoFar = Math.max(prevPages, Math.round(before.reduce((a, x) => a + x.sentPages, 0) + r.sentPages * frac));
    const dtS = (pt.tMs - prevT) / 1000;
    if (pt.linkBytesPerSec > 0) expected = Math.round((pt.remainingBytes * 1000) / pt.linkBytesPerSec);
    // a sample is taken after a batch, before a sync at the same instant; the one forced at the end of
    // the live phase (the last sample at that instant) comes after the last live sync
    const syncs = Math.min(st.ram['dirty-sync-count'], 1 + times.filter((t) => t < pt.tMs - EPS_MS || (t === liveEnd && i === afterLiveEnd)).length);
    const rate = rates.findLast((x) => x.atMs <= pt.tMs)?.rate ?? 0;
    const ret: Json = {
      status: 'active',
      'total-time': Math.round(pt.tMs),
      'setup-time': st['setup-time'],
      'expected-downtime': expected,
      ram: {
        transferred: pt.transferredBytes,
        remaining: pt.remainingBytes,
        total: s.guest.memory,
        duplicate,
        normal,
        'normal-bytes': normal * ps,
        'dirty-sync-count': syncs,
        'dirty-pages-rate': rate,
        mbps: (pt.linkBytesPerSec * 8) / 1e6,
        'pages-per-second': dtS > 0 ? Math.round((pagesSoFar - prevPages) / dtS) : 0,
        'precopy-bytes': pt.transferredBytes,
        'downtime-bytes': 0,
        'page-size': ps,
      },
    };
    if (xOn) {
      const x = st['xbzrle-cache']!;
      const share = laterPages > 0 && k > 0 ? Math.min(1, (before.slice(1).reduce((a, y) => a + y.sentPages, 0) + r.sentPages * frac) / laterPages) : 0;
      ret['xbzrle-cache'] = {
        'cache-size': x['cache-size'],
        bytes: Math.round(x.bytes * share),
        pages: Math.round(x.pages * share),
        'cache-miss': Math.round(x['cache-miss'] * share),
        'cache-miss-rate': 0,
        'encoding-rate': 0,
        overflow: Math.round(x.overflow * share),
      };
    }
    if (s.precopy.autoConverge !== null || pt.throttlePercent > 0) ret['cpu-throttle-percentage'] = pt.throttlePercent;
    lines.push(reply('query-migrate', pt.tMs / 1000, ret));
    prevDuplicate = duplicate;
    prevNormal = normal;
    prevPages = pagesSoFar;
    prevT = pt.tMs;
  }

  // the last reply: the result's own figures (QEMU's status names: completed, cancelled, failed)
  const last: Json = {
    status: st.status,
    'total-time': st['total-time'],
    'setup-time': st['setup-time'],
    ...(st.downtime !== null ? { downtime: st.downtime } : {}),
    ...(st.status === 'completed' ? {} : { 'expected-downtime': st['expected-downtime'] }),
    ram: st.ram,
  };
  if (st['xbzrle-cache'] !== undefined) last['xbzrle-cache'] = st['xbzrle-cache'];
  lines.push(reply('query-migrate', st['total-time'] / 1000, last));
  return lines.map((l) => `${l}\n`);
}
