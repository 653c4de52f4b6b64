/**
 * Fuzz property of `migbench fit`'s input: a QMP log (the three real QEMU logs of test/fixtures/qemu/),
 * mutated line by line as JSON (dropped keys, wrong types, huge numbers, deep nesting) and as text
 * (bytes flipped, cut, repeated). The reader and the fit either accept it, giving a scenario that
 * `resolveScenario` accepts, or refuse it with E_SCENARIO and a one-line message naming a line or an
 * entry; nothing else is thrown, within the case time limit.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fitLog } from '../../src/fit/fit.ts';
import { readQmpLog } from '../../src/fit/qmp-log.ts';
import { resolveScenario } from '../../src/options.ts';
import { FuzzFailure, outcome } from './check.ts';
import { jsonMutation, jsonText, mutateJson, mutateText, textMutations, type JsonMutation } from './mutate.ts';
import type { FuzzProperty } from './properties.ts';

const LOGS = ['idle_bw128_dt300', 'med_bw32_dt300', 'high_bw128_dt300_xbzrle256'].map((name) =>
  readFileSync(new URL(`../fixtures/qemu/${name}.jsonl`, import.meta.url), 'utf8'),
);

export function qmpLogProperty(): FuzzProperty {
  return {
    name: 'qmp-log',
    weight: 4,
    async make() {
      const arb = fc.record({
        log: fc.nat({ max: LOGS.length - 1 }),
        // mutate a few lines as JSON, or the text as bytes, or both; or write it as a JSON array
        lineEdits: fc.array(fc.record({ at: fc.nat(), mutations: fc.array(jsonMutation, { minLength: 1, maxLength: 2 }) }), { maxLength: 3 }),
        text: fc.option(textMutations, { nil: undefined }),
        asArray: fc.boolean(),
        dropLines: fc.array(fc.nat(), { maxLength: 2 }),
      });
      return fc.property(arb, ({ log, lineEdits, text, asArray, dropLines }) => {
        let lines = LOGS[log].trim().split('\n');
        for (const d of dropLines) lines = lines.filter((_, i) => i !== d % lines.length);
        // one mutateJson call per line (a line mutated twice would be cloned again, deep nesting and all)
        const byLine = new Map<number, JsonMutation[]>();
        for (const e of lineEdits) if (lines.length > 0) byLine.set(e.at % lines.length, [...(byLine.get(e.at % lines.length) ?? []), ...e.mutations]);
        for (const [i, mutations] of byLine) lines[i] = jsonText(mutateJson(JSON.parse(lines[i]), mutations)).replace(/\n/g, ' ');
        let body = asArray ? `[${lines.join(',\n')}]` : lines.join('\n');
        if (text) body = mutateText(body, text);
        const r = outcome(['E_SCENARIO'], () => fitLog(readQmpLog(body)), 'readQmpLog + fitLog');
        if (r.ok) resolveScenario(JSON.parse(JSON.stringify(r.value.scenario)));
        else if (!/^QMP log( (line|entry) \d+)?: /.test(r.error.message)) throw new FuzzFailure(`a refusal that names no line: ${r.error.message}`);
        return true;
      });
    },
  };
}
