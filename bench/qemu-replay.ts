/**
 * Real QEMU against migbench (issue 15): each shared log of a real QEMU 10.0.2 migration (polled
 * `query-migrate` replies) is fitted to a scenario (src/fit/: guest size, zero pages, rate limit,
 * downtime limit, XBZRLE, dirty rate and working set) and replayed in both modes, pre-copy only. Prints
 * outcome, total time, bytes, dirty syncs and downtime beside QEMU's, with the replay's error, and
 * whether issue 15's target holds: the same outcome, total time and bytes within 10 %, dirty syncs
 * within ±2.
 *
 *   npm run bench:qemu -- [--dir DIR] [--only name,name] [--mode both|simulate|emulate] [--check]
 *
 * DIR holds the logs (*.jsonl; default test/fixtures/qemu, the same three files as the shared
 * reference). --check exits 1 when a target is missed. A bench, not a test: the emulated side moves
 * with this machine's speed and load (`engineBound` says when migbench, not the link, set the pace).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';
import { compareReplay, type ReplayRow } from '../src/fit/replay.ts';
import { resolveScenario } from '../src/options.ts';
import type { PrecopyResult } from '../src/results/document.ts';
import { runScenario } from '../src/run.ts';
import { simulateScenario } from '../src/sim/run-simulated.ts';
import { formatBytes, formatDurationMs } from '../src/units.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: fileURLToPath(new URL('../test/fixtures/qemu/', import.meta.url)) },
    only: { type: 'string' },
    mode: { type: 'string', default: 'both' },
    check: { type: 'boolean', default: false },
  },
});
if (!['both', 'simulate', 'emulate'].includes(values.mode!)) {
  process.stderr.write(`--mode: expected both, simulate or emulate, got ${JSON.stringify(values.mode)}\n`);
  process.exit(2);
}
const modes = values.mode === 'both' ? (['simulate', 'emulate'] as const) : ([values.mode] as ('simulate' | 'emulate')[]);
const only = values.only?.split(',');

/** Issue 15's "done when" on one replay: the misses, empty when it holds. */
function missedTargets(rows: readonly ReplayRow[]): string[] {
  const row = (m: ReplayRow['metric']): ReplayRow => rows.find((r) => r.metric === m)!;
  const misses: string[] = [];
  const outcome = row('outcome');
  if (outcome.log !== outcome.replay) misses.push(`outcome ${String(outcome.replay)}`);
  for (const m of ['total time', 'bytes'] as const) {
    const e = row(m).relativeError;
    if (e === null || Math.abs(e) > 0.1) misses.push(`${m} ${e === null ? '—' : `${(e * 100).toFixed(1)} %`}`);
  }
  const syncs = row('syncs');
  if (typeof syncs.log !== 'number' || typeof syncs.replay !== 'number' || Math.abs(syncs.replay - syncs.log) > 2) misses.push(`syncs ${String(syncs.replay)} vs ${String(syncs.log)}`);
  return misses;
}

function show(r: ReplayRow, v: number | string | null): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  if (r.unit === 'ms') return formatDurationMs(v);
  if (r.unit === 'bytes') return formatBytes(v);
  return String(v);
}
const pct = (e: number | null): string => (e === null ? '' : ` (${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)} %)`);

const files = readdirSync(values.dir!).filter((f) => f.endsWith('.jsonl')).sort();
let missed = 0;
for (const file of files) {
  const name = file.replace(/\.jsonl$/, '');
  if (only && !only.includes(name)) continue;
  const fit = fitLog(readQmpLog(readFileSync(join(values.dir!, file), 'utf8')), name);
  const scenario = resolveScenario(fit.scenario);
  const results: { mode: string; p: PrecopyResult }[] = [];
  for (const mode of modes) {
    const doc = mode === 'simulate' ? await simulateScenario(scenario, { methods: ['precopy'] }) : await runScenario(scenario, { methods: ['precopy'] });
    results.push({ mode, p: doc.precopy! });
  }
  const replays = results.map(({ mode, p }) => ({ mode, p, rows: compareReplay(fit.log, p).rows }));
  const table = new Table({ head: [name, 'QEMU', ...replays.map((r) => r.mode)], style: { head: [], border: [] } });
  for (const [i, qemuRow] of replays[0].rows.entries()) {
    table.push([qemuRow.metric, show(qemuRow, qemuRow.log), ...replays.map((r) => `${show(r.rows[i], r.rows[i].replay)}${pct(r.rows[i].relativeError)}`)]);
  }
  table.push(['issue 15 target', '', ...replays.map((r) => {
    const misses = missedTargets(r.rows);
    missed += misses.length > 0 ? 1 : 0;
    return misses.length === 0 ? 'met' : `missed: ${misses.join(', ')}`;
  })]);
  const emu = replays.find((r) => r.mode === 'emulate');
  if (emu) table.push(['emulate engine', '', ...replays.map((r) => (r.mode === 'emulate' ? `${r.p.engineBound ? 'engine-bound' : 'link-bound'}; prepare ${formatDurationMs(r.p.engine.prepareMs ?? 0)} (not counted)` : ''))]);
  process.stdout.write(`${table.toString()}\n`);
}
// the emulated side is only as fast as this machine is free
const [load1, load5] = loadavg();
process.stdout.write(`load average ${load1.toFixed(1)} (1 min), ${load5.toFixed(1)} (5 min) on ${availableParallelism()} cores\n`);
if (values.check && missed > 0) {
  process.stderr.write(`qemu-replay: ${missed} replay(s) missed issue 15's target\n`);
  process.exit(1);
}
