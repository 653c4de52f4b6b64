import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { MAX_QMP_LOG_BYTES, readQmpLog } from '../src/fit/qmp-log.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8');
const MED = fixture('med_bw32_dt300');
const lines = MED.trim().split('\n');
const poll = (i: number): Record<string, unknown> => JSON.parse(lines[i]) as Record<string, unknown>;

function refusal(text: string): string {
  try {
    readQmpLog(text);
  } catch (e) {
    expect(e).toBeInstanceOf(MigbenchError);
    expect((e as MigbenchError).code).toBe('E_SCENARIO');
    expect((e as MigbenchError).message).not.toContain('\n');
    return (e as MigbenchError).message;
  }
  throw new Error('accepted');
}

describe('readQmpLog', () => {
  it('reads the three QEMU 10.0.2 logs: parameters, capabilities, every poll in order', () => {
    for (const [name, polls, xbzrle, end] of [
      ['idle_bw128_dt300', 17, false, 1528],
      ['med_bw32_dt300', 94, false, 9216],
      ['high_bw128_dt300_xbzrle256', 27, true, 2536],
    ] as const) {
      const log = readQmpLog(fixture(name));
      expect(log.unit).toBe('line');
      expect(log.parameters?.['downtime-limit']).toBe(300);
      expect(log.capabilities?.xbzrle).toBe(xbzrle);
      expect(log.polls.length).toBe(polls);
      expect(log.polls[0].status).toBe('setup');
      expect(log.polls[0].elapsedMs).toBeCloseTo(Number(poll(2).poll_s) * 1000, 0);
      expect(log.polls.at(-1)!.status).toBe('completed');
      expect(log.polls.at(-1)!.totalTimeMs).toBe(end);
      expect(log.polls.at(-1)!.line).toBe(polls + 2);
      expect(log.polls.at(-1)!.ram!.total).toBe(554_246_144);
      expect(log.polls.some((p) => (p.xbzrle?.pages ?? 0) > 0)).toBe(xbzrle);
    }
  });

  it('reads the same log as a JSON array, as bare objects, and as libvirt qemu-monitor-command output', () => {
    const asLines = readQmpLog(MED);
    const asArray = readQmpLog(`[${lines.join(',\n')}]`);
    expect(asArray.unit).toBe('entry');
    expect(asArray.polls.map((p) => p.ram?.remaining)).toEqual(asLines.polls.map((p) => p.ram?.remaining));
    // bare objects: the return value alone, the poll time beside it
    const bare = lines.map((l) => {
      const o = JSON.parse(l) as { return: unknown; poll_s?: number };
      return JSON.stringify(o.return);
    });
    const bareLog = readQmpLog(bare.filter((_, i) => i !== 2).join('\n')); // the setup poll has no total-time: dropped
    expect(bareLog.parameters?.['max-bandwidth']).toBe(33_554_432);
    expect(bareLog.capabilities?.xbzrle).toBe(false);
    expect(bareLog.polls.map((p) => p.elapsedMs)).toEqual(asLines.polls.slice(1).map((p) => p.totalTimeMs));
    // libvirt: {"return": …, "id": "libvirt-N"}, QMP timestamps as {seconds, microseconds}
    const virsh = lines.map((l, i) => {
      const o = JSON.parse(l) as { return: unknown; poll_s?: number };
      const t = 1_765_000_000 + (o.poll_s ?? 0);
      return JSON.stringify({ return: o.return, id: `libvirt-${i + 10}`, timestamp: { seconds: Math.floor(t), microseconds: Math.round((t % 1) * 1e6) } });
    });
    const v = readQmpLog(virsh.join('\n'));
    expect(v.polls.length).toBe(asLines.polls.length);
    expect(v.polls[0].elapsedMs).toBe(0); // the first timestamp is the origin
  });

  it('takes the elapsed time from poll_s when there is no total-time', () => {
    const o = poll(10) as { return: Record<string, unknown>; poll_s: number };
    delete o.return['total-time'];
    expect(readQmpLog(JSON.stringify(o)).polls[0].elapsedMs).toBeCloseTo(o.poll_s * 1000, 6);
  });

  it.each([
    ['not JSON', (l: string[]) => [l[0], 'Traceback (most recent call last):', ...l.slice(2)], /^QMP log line 2: not JSON: /],
    ['not QMP', (l: string[]) => [l[0], JSON.stringify({ hello: 'world' }), ...l.slice(2)], /^QMP log line 2: not a query-migrate reply \(no "status"\)/],
    ['a QMP error', (l: string[]) => [...l.slice(0, 5), JSON.stringify({ error: { class: 'GenericError', desc: 'no migration' } })], /^QMP log line 6: a QMP error reply/],
    ['no query-migrate reply', (l: string[]) => l.slice(0, 2), /^QMP log: no query-migrate reply/],
    ['time going backwards', (l: string[]) => [...l.slice(0, 40), l[30], ...l.slice(41)], /^QMP log line 41: time goes backwards: 2800 ms after 3700 ms at line 40$/],
    ['two migrations: a second setup', (l: string[]) => [...l.slice(0, 20), l[2], ...l.slice(3)], /^QMP log line 21: "setup" after "active" at line 20: two migrations mixed$/],
    ['two migrations: after completed', (l: string[]) => [...l, l.at(-1)!], /^QMP log line 97: a poll after the migration ended \("completed" at line 96\): two migrations mixed$/],
    ['two migrations: another guest', (l: string[]) => l.map((s, i) => (i === 50 ? s.replace('"total": 554246144', '"total": 1073741824') : s)), /^QMP log line 51: ram.total 1073741824 differs from 554246144 before: two migrations mixed$/],
    ['counters going down', (l: string[]) => l.map((s, i) => (i === 60 ? s.replace(/"transferred": \d+/, '"transferred": 5') : s)), /^QMP log line 61: ram.transferred goes down from \d+ to 5: two migrations mixed$/],
    ['a negative figure', (l: string[]) => l.map((s, i) => (i === 7 ? s.replace(/"remaining": \d+/, '"remaining": -1') : s)), /^QMP log line 8: "remaining" must be a number ≥ 0, got -1$/],
    ['no time at all', (l: string[]) => [l[0], l[1], JSON.stringify({ return: { status: 'active' } })], /^QMP log line 3: no elapsed time/],
  ])('refuses %s, naming the line', (_name, edit, message) => {
    expect(refusal(edit(lines).join('\n'))).toMatch(message);
  });

  it('names the entry of a JSON array', () => {
    expect(refusal(`[${[lines[0], lines[5], lines[4]].join(',')}]`)).toMatch(/^QMP log entry 3: time goes backwards/);
  });

  it('bounds the work: a size cap and the JSON depth limit', () => {
    expect(refusal(' '.repeat(MAX_QMP_LOG_BYTES + 1))).toMatch(/^QMP log: larger than 64 MiB/);
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(refusal(`${lines[0]}\n{"return": {"status": "active", "x": ${deep}}}`)).toMatch(/^QMP log line 2: nested more than 100 levels deep/);
  });
});
