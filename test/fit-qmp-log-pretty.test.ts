/**
 * libvirt's `virsh qemu-monitor-command DOMAIN --pretty '{"execute":"query-migrate"}'` in a polling loop:
 * pretty-printed replies back to back (src/fit/concatenated-json.ts, src/fit/qmp-log.ts).
 * The fixture med_bw32_dt300.pretty.txt was made from the shared med_bw32_dt300.jsonl: each line's
 * `return` with a libvirt `"id"`, printed with JSON.stringify(reply, null, 2), no `execute`, no `poll_s`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitConcatenatedJson } from '../src/fit/concatenated-json.ts';
import { fitLog } from '../src/fit/fit.ts';
import { readQmpLog } from '../src/fit/qmp-log.ts';

const fixture = (file: string): string => readFileSync(new URL(`./fixtures/qemu/${file}`, import.meta.url), 'utf8');
const PRETTY = fixture('med_bw32_dt300.pretty.txt');
const LINES = fixture('med_bw32_dt300.jsonl');

describe('readQmpLog: pretty-printed replies back to back', () => {
  it('reads the same parameters, capabilities and polls as the JSON lines, each poll at the line its reply starts on', () => {
    const pretty = readQmpLog(PRETTY);
    const lines = readQmpLog(LINES);
    expect(pretty.parameters).toEqual(lines.parameters);
    expect(pretty.capabilities).toEqual(lines.capabilities);
    expect(pretty.polls).toHaveLength(lines.polls.length);
    const strip = (p: (typeof lines.polls)[number]) => ({ ...p, line: 0, elapsedMs: p.status === 'setup' ? 0 : p.elapsedMs });
    expect(pretty.polls.map(strip)).toEqual(lines.polls.map(strip));
    // the setup reply has no total-time (and here no poll_s): taken at 0 ms
    expect(pretty.polls[0]).toMatchObject({ status: 'setup', elapsedMs: 0 });
    const text = PRETTY.split('\n');
    for (const p of pretty.polls) expect(text[p.line - 1]).toBe('{');
    expect(text[pretty.polls[1].line]).toBe('  "return": {');
  });

  it('fits the same scenario', () => {
    const a = fitLog(readQmpLog(PRETTY), 'med');
    const b = fitLog(readQmpLog(LINES), 'med');
    expect(a.scenario).toEqual(b.scenario);
    expect(a.dirtyRatePagesPerSec).toBe(b.dirtyRatePagesPerSec);
  });

  it.each([
    ['text between replies', (t: string) => t.replace('}\n{\n  "return": {\n    "status": "setup"', '}\nvirsh # \n{\n  "return": {\n    "status": "setup"'), /^QMP log line 127: not JSON between pretty-printed replies: "virsh #"$/],
    ['a reply cut short', (t: string) => t.slice(0, t.lastIndexOf('}')), /^QMP log line 2709: a pretty-printed reply that does not end$/],
    ['a reply that is not JSON', (t: string) => t.replace('"status": "setup"', '"status": setup'), /^QMP log line 127: a pretty-printed reply that is not JSON \(/],
  ])('refuses %s, naming the line', (_name, edit, message) => {
    expect(() => readQmpLog(edit(PRETTY))).toThrow(message);
  });
});

describe('splitConcatenatedJson', () => {
  it('splits on the top level only: braces and quotes inside strings do not count', () => {
    const r = splitConcatenatedJson('{"a": "}{\\"", "b": [1, {"c": 2}]}\n\n[\n 1\n]{"d":1}', 10);
    expect(r).toEqual({ chunks: [{ line: 1, text: '{"a": "}{\\"", "b": [1, {"c": 2}]}' }, { line: 3, text: '[\n 1\n]' }, { line: 5, text: '{"d":1}' }] });
    expect(splitConcatenatedJson('{}{}{}', 2)).toEqual({ tooMany: true });
  });
});
