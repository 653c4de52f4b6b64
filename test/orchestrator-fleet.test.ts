/**
 * A host evacuation under an orchestrator (issue 19 item 5, simulate mode): KubeVirt's concurrency caps
 * hold at every instant, each migration has its own orchestrator timed from its own start, the fleet
 * counts its guests by outcome (they add up to fleet.count), an aborted guest stays aborted, and the
 * same scenario gives the same fleet. Small guests and 1-second budgets (completionTimeoutPerGiB: 1 on
 * an 8 MiB guest), so every run takes milliseconds of wall time; nothing depends on this machine's speed.
 */
import { describe, expect, it } from 'vitest';
import { resolveScenario, type ScenarioInput } from '../src/options.ts';
import { countOutcomes, simulateScenario } from '../src/sim/run-simulated.ts';
import { fleetConcurrency } from '../src/orchestrator/fleet-cap.ts';
import { documentToJson, type FleetGuest, type FleetResult, type ResultDocument } from '../src/results/document.ts';
import { checkRunDocument } from '../src/results/run-reader.ts';
import { renderSummary } from '../src/report/summary.ts';
import { colorsFor } from '../src/report/style.ts';
import { renderReport } from '../src/report/html.ts';
import { MARKUP, liveMarkupInHtml, tagsOf } from './helpers/inert-markup.ts';

/** An 8 MiB guest whose 4 MiB hot set cannot converge over 4 MiB/s (50 ms of it is 51 pages). */
const stuck: ScenarioInput = {
  guest: { memory: '8MiB', vcpus: 1 },
  link: { bandwidth: '4MiB/s' },
  workload: { pattern: 'hotset', dirtyRate: '5000/s', workingSet: '4MiB', hotFraction: 1 },
  precopy: { downtimeLimitMs: 50, timeoutMs: 20_000 },
};
/** The same guest, idle: it converges after its bulk round. */
const idle: ScenarioInput = { ...stuck, workload: { pattern: 'idle' } };

const fleetOf = async (input: ScenarioInput): Promise<FleetResult> => (await simulateScenario(resolveScenario(input), { methods: ['precopy'] })).fleet!;

/** The most migrations running at any instant ([startMs, endMs) per guest; an end frees its slot before a start at the same time). */
function peakRunning(guests: readonly FleetGuest[]): number {
  const events = guests.flatMap((g) => [[g.startMs, 1], [g.startMs + g.totalTimeMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (running += d));
  return peak;
}

describe('fleet concurrency under an orchestrator (orchestrator/fleet-cap.ts)', () => {
  it.each<[string, ScenarioInput, number, string]>([
    ['kubevirt defaults: 2 out of one node (fleet.concurrency defaults to the caps)', { orchestrator: { kind: 'kubevirt' }, fleet: { count: 8 } }, 2, 'orchestrator.parallelOutboundMigrationsPerNode'],
    ['the cluster cap below the node cap', { orchestrator: { kind: 'kubevirt', parallelOutboundMigrationsPerNode: 6, parallelMigrationsPerCluster: 3 }, fleet: { count: 8 } }, 3, 'orchestrator.parallelMigrationsPerCluster'],
    ['fleet.concurrency below the caps lowers them', { orchestrator: { kind: 'kubevirt', parallelOutboundMigrationsPerNode: 4 }, fleet: { count: 8, concurrency: 3 } }, 3, 'fleet.concurrency'],
    ['fleet.concurrency above the caps is lowered to them', { orchestrator: { kind: 'kubevirt' }, fleet: { count: 8, concurrency: 6 } }, 2, 'orchestrator.parallelOutboundMigrationsPerNode'],
    ['a tie goes to KubeVirt\'s key', { orchestrator: { kind: 'kubevirt' }, fleet: { count: 8, concurrency: 2 } }, 2, 'orchestrator.parallelOutboundMigrationsPerNode'],
    ['fewer guests than the caps', { orchestrator: { kind: 'kubevirt' }, fleet: { count: 1 } }, 1, 'fleet.concurrency'],
    ['other kinds: fleet.concurrency alone', { orchestrator: { kind: 'nova' }, fleet: { count: 8, concurrency: 4 } }, 4, 'fleet.concurrency'],
    ['no orchestrator: fleet.concurrency, default 1', { fleet: { count: 8 } }, 1, 'fleet.concurrency'],
  ])('%s', (_name, input, concurrency, by) => {
    expect(fleetConcurrency(resolveScenario(input))).toEqual({ concurrency, by });
  });
});

describe('a host evacuation under kubevirt (simulate mode)', () => {
  const capped: ScenarioInput = { ...stuck, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1 }, fleet: { count: 7, concurrency: 6 } };

  it('never runs more than min(parallelOutboundMigrationsPerNode, parallelMigrationsPerCluster) at once, fleet.concurrency set higher or not', async () => {
    for (const [orchestrator, cap] of [[{ parallelOutboundMigrationsPerNode: 2 }, 2], [{ parallelOutboundMigrationsPerNode: 5, parallelMigrationsPerCluster: 3 }, 3]] as const) {
      const f = await fleetOf({ ...capped, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1, ...orchestrator } });
      expect(f.concurrency).toBe(cap);
      expect(f.precopy!.guests).toHaveLength(7);
      expect(peakRunning(f.precopy!.guests)).toBe(cap); // at every instant at most the cap, and the cap is used
      // a migration waits for a slot: the first `cap` start at once, the rest only when one ends
      const starts = f.precopy!.guests.map((g) => g.startMs);
      expect(starts.filter((t) => t === 0)).toHaveLength(cap);
      const ends = f.precopy!.guests.map((g) => g.startMs + g.totalTimeMs);
      for (const t of starts.filter((x) => x > 0)) expect(ends).toContain(t);
    }
  });

  it('each migration has its own orchestrator: its budget runs from its own start, and an aborted guest stays aborted', async () => {
    const f = (await fleetOf(capped)).precopy!;
    expect(f.outcomes).toEqual({ converged: 0, postcopy: 0, paused: 0, aborted: 7 });
    expect(f.guests.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6]); // each guest once: none retried
    for (const g of f.guests) {
      expect(g.outcome).toBe('aborted');
      expect(g.downtimeMs).toBeNull(); // left running on the source
      // budget 1 s, KubeVirt aborts when elapsed / 1 s > 1, at a 400 ms poll: 2 s after its own start,
      // however late it started (a fleet-wide clock would abort the later ones at their first poll)
      expect(g.totalTimeMs).toBeGreaterThanOrEqual(2000);
      expect(g.totalTimeMs).toBeLessThan(3000);
    }
    expect(f.guests.filter((g) => g.startMs >= 4000).length).toBeGreaterThan(0);
    expect(f.completed).toBe(0);
    expect(f.cancelled).toBe(7);
    expect(f.evacuationTimeMs).toBe(Math.max(...f.guests.map((g) => g.startMs + g.totalTimeMs)));
  });

  it('counts guests by outcome: moved, paused, aborted; they add up to fleet.count', async () => {
    for (const [input, expected] of [
      [capped, { aborted: 7 }],
      [{ ...capped, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1, allowWorkloadDisruption: true } }, { paused: 7 }],
      // 8 MiB at half of 4 MiB/s takes 4 s: within a 5 s budget
      [{ ...idle, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 5 }, fleet: { count: 5 } }, { converged: 5 }],
    ] as const) {
      const f = await fleetOf(input);
      const m = f.precopy!;
      expect(m.outcomes).toEqual({ converged: 0, postcopy: 0, paused: 0, aborted: 0, ...(expected as Record<string, number>) });
      expect(Object.values(m.outcomes!).reduce((a, b) => a + b, 0)).toBe(f.count);
      expect(m.completed + m.cancelled).toBe(f.count);
      expect(m.completed).toBe((m.outcomes!.converged ?? 0) + (m.outcomes!.postcopy ?? 0) + (m.outcomes!.paused ?? 0));
    }
    // with a 1 s budget the guests that share the link (2 at a time) abort at 2 s, and the last one,
    // alone on the link, moves in its 2 s: the counts mix and still add up
    const mixed = (await fleetOf({ ...idle, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1 }, fleet: { count: 5 } })).precopy!;
    expect(mixed.outcomes!.aborted).toBeGreaterThan(0);
    expect(mixed.outcomes!.converged).toBeGreaterThan(0);
    expect(mixed.outcomes!.aborted + mixed.outcomes!.converged).toBe(5);
    expect(mixed.guests.filter((g) => g.outcome === 'converged').every((g) => g.downtimeMs !== null)).toBe(true);
    // any outcome beyond the four is counted too
    expect(countOutcomes('precopy', [{ outcome: 'cancelled' }, { outcome: 'aborted' }, { outcome: 'cancelled' }])).toEqual({ converged: 0, postcopy: 0, paused: 0, aborted: 1, cancelled: 2 });
  });

  it('a paused guest moves with the whole remainder as its downtime', async () => {
    const f = (await fleetOf({ ...capped, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1, allowWorkloadDisruption: true } })).precopy!;
    for (const g of f.guests) {
      expect(g.outcome).toBe('paused');
      expect(g.downtimeMs).toBeGreaterThan(0);
      expect(g.downtimeMs!).toBeLessThan(g.totalTimeMs);
    }
    expect(f.downtime!.min).toBeGreaterThan(0);
  });

  it('is deterministic: the same scenario gives the same fleet', async () => {
    const input: ScenarioInput = { ...stuck, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 2, allowWorkloadDisruption: true }, fleet: { count: 5 } };
    const strip = (d: ResultDocument) => ({ fleet: d.fleet, precopy: d.precopy });
    const a = strip(await simulateScenario(resolveScenario(input), { methods: ['precopy'] }));
    const b = strip(await simulateScenario(resolveScenario(input), { methods: ['precopy'] }));
    expect(b).toEqual(a);
    expect(a.fleet!.precopy!.guests.map((g) => g.outcome)).toEqual(['paused', 'paused', 'paused', 'paused', 'paused']);
  });

  it('other kinds run a fleet with fleet.concurrency as the cap, each guest under its own orchestrator', async () => {
    const f = await fleetOf({ ...stuck, orchestrator: { kind: 'virsh', timeout: 1 }, fleet: { count: 4, concurrency: 3 } });
    expect(f.concurrency).toBe(3);
    expect(f.concurrencyBy).toBe('fleet.concurrency');
    expect(peakRunning(f.precopy!.guests)).toBe(3);
    expect(f.precopy!.outcomes!.paused).toBe(4); // virsh --timeout 1 --timeout-suspend, each from its own start
  });

  it('the document keeps the counts and the cap, and a reader refuses a count that is not a number', async () => {
    const doc = await simulateScenario(resolveScenario(capped), { methods: ['precopy'] });
    const raw = JSON.parse(documentToJson(doc));
    expect(raw.fleet).toMatchObject({ count: 7, concurrency: 2, concurrencyBy: 'orchestrator.parallelOutboundMigrationsPerNode', precopy: { outcomes: { aborted: 7 } } });
    expect(checkRunDocument(raw, 'run.json').fleet!.precopy!.outcomes).toEqual(doc.fleet!.precopy!.outcomes);
    raw.fleet.precopy.outcomes.aborted = 'seven';
    expect(() => checkRunDocument(raw, 'run.json')).toThrow(/fleet\.precopy\.outcomes/);
  });
});

describe('the terminal summary of an evacuation under kubevirt', () => {
  it('names the cap that held and counts the guests by outcome', async () => {
    const doc = await simulateScenario(resolveScenario({ ...stuck, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1 }, fleet: { count: 3 } }), { methods: ['precopy'] });
    const text = renderSummary(doc, colorsFor({ isTTY: false } as NodeJS.WriteStream, {}));
    expect(text).toMatch(/host evacuation: 3 guests, 2 at a time \(orchestrator\.parallelOutboundMigrationsPerNode\)/);
    expect(text).toMatch(/guests by outcome\s*│?\s*0 converged, 0 postcopy, 0 paused, 3 aborted/);
  });
});

describe('post-copy in a host evacuation (issue 19 item 5, simulate mode)', () => {
  /** A 4 MiB guest whose 2 MiB hot set cannot converge over its half of 4 MiB/s; a 1 s budget, so KubeVirt switches at 2 s. */
  const hot: ScenarioInput = {
    guest: { memory: '4MiB', vcpus: 1 },
    link: { bandwidth: '4MiB/s' },
    workload: { pattern: 'hotset', dirtyRate: '1000/s', workingSet: '2MiB', hotFraction: 1 },
    precopy: { downtimeLimitMs: 50, timeoutMs: 20_000 },
  };
  const postcopyFleet: ScenarioInput = { ...hot, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1, allowPostCopy: true }, fleet: { count: 4 } };
  /** a frame of one page, and the end frame (transport/frame.ts: a 48-byte header, 8-byte aligned) */
  const PAGE_FRAME = 48 + 4096;
  const END_FRAME = 48;

  it('a 4-guest kubevirt fleet with allowPostCopy moves all 4 through post-copy, 2 at a time, each pushing its missing pages on its share of the link', async () => {
    const doc = await simulateScenario(resolveScenario(postcopyFleet), { methods: ['precopy'] });
    const f = doc.fleet!;
    const m = f.precopy!;
    expect(f.concurrency).toBe(2);
    expect(m.outcomes).toEqual({ converged: 0, postcopy: 4, paused: 0, aborted: 0 });
    expect(m.completed).toBe(4);
    expect(peakRunning(m.guests)).toBe(2); // under the caps, a post-copy phase holding its slot
    for (const g of m.guests) {
      expect(g.outcome).toBe('postcopy');
      expect(g.missingPages).toBeGreaterThan(256); // most of the 512-page hot set at the switch
      // post-copy bytes: each missing page once (postcopy.preempt: a frame per page), then the end frame
      expect(g.postcopyBytes).toBeGreaterThanOrEqual(g.missingPages! * 4096);
      expect(g.postcopyBytes).toBeLessThanOrEqual(g.missingPages! * PAGE_FRAME + END_FRAME);
      expect(g.bytes).toBeGreaterThan(g.postcopyBytes!);
    }
    // a later guest starts in the slot a guest's post-copy phase freed: the evacuation time includes post-copy
    const ends = m.guests.map((g) => g.startMs + g.totalTimeMs);
    for (const g of m.guests.filter((x) => x.startMs > 0)) expect(ends).toContain(g.startMs);
    expect(m.evacuationTimeMs).toBe(Math.max(...ends));
    // guest 0 (the document's precopy block) switched at the budget and completed when its last page arrived
    const p = doc.precopy!;
    expect(p.outcome).toBe('postcopy');
    expect(p.orchestrator!.actions.map((a) => a.action)).toEqual(['postcopy']);
    expect(p.stats['total-time']).toBe(m.guests[0].totalTimeMs);
    expect(p.postcopy!.completedMs).toBe(p.stats['total-time']);
    expect(p.postcopy!.missingPages).toBe(m.guests[0].missingPages);
    // its partner was in post-copy all along: the push ran at half the link (alone it would take half as long)
    const halfLinkMs = (m.guests[0].postcopyBytes! * 1000) / (2 * 2 ** 20);
    expect(p.postcopy!.durationMs).toBeGreaterThan(0.98 * halfLinkMs);
    expect(p.postcopy!.durationMs).toBeLessThan(1.02 * halfLinkMs + 5);
  });

  it('the same post-copy phase alone takes the whole link (the fleet shares it, the single guest does not)', async () => {
    const solo = (await simulateScenario(resolveScenario({ ...hot, orchestrator: { kind: 'kubevirt', completionTimeoutPerGiB: 1, allowPostCopy: true } }), { methods: ['precopy'] })).precopy!;
    expect(solo.outcome).toBe('postcopy');
    const fullLinkMs = (solo.stats.ram['postcopy-bytes']! * 1000) / 2 ** 22;
    expect(solo.postcopy!.durationMs).toBeGreaterThan(0.98 * fullLinkMs);
    expect(solo.postcopy!.durationMs).toBeLessThan(1.02 * fullLinkMs + 5);
  });

  it('the HTML report counts the guests by outcome and names the cap that held; outcome names are escaped', async () => {
    const doc = await simulateScenario(resolveScenario(postcopyFleet), { methods: ['precopy'] });
    const section = (html: string): string => html.slice(html.indexOf('<h3>Host evacuation'), html.indexOf('</table>', html.indexOf('<h3>Host evacuation')));
    const html = section(renderReport([doc]));
    expect(html).toContain('<h3>Host evacuation: 4 guests, 2 at a time (orchestrator.parallelOutboundMigrationsPerNode)</h3>');
    expect(html).toContain('<th>guests by outcome</th>');
    expect(html).toContain('0 converged, 4 postcopy, 0 paused, 0 aborted');
    const hostile = structuredClone(doc);
    hostile.fleet!.precopy!.outcomes = { [MARKUP]: 4 };
    const bad = renderReport([checkRunDocument(JSON.parse(documentToJson(hostile)), 'x.json')]);
    expect(liveMarkupInHtml(bad, tagsOf(renderReport([doc])))).toBeNull();
    expect(section(bad)).toContain('4 &lt;img');
  });

  it('is deterministic, and postcopy.enabled alone (no orchestrator) runs in a fleet too', async () => {
    const strip = (d: ResultDocument) => ({ fleet: d.fleet, precopy: d.precopy });
    const a = strip(await simulateScenario(resolveScenario(postcopyFleet), { methods: ['precopy'] }));
    const b = strip(await simulateScenario(resolveScenario(postcopyFleet), { methods: ['precopy'] }));
    expect(b).toEqual(a);
    const plain = (await fleetOf({ ...hot, postcopy: { enabled: true, startAfterRounds: 1 }, fleet: { count: 3, concurrency: 3 } })).precopy!;
    expect(plain.outcomes).toEqual({ converged: 0, postcopy: 3, paused: 0, aborted: 0 });
    expect(peakRunning(plain.guests)).toBe(3);
  });
});
