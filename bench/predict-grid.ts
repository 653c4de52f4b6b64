/**
 * Records `predict`'s JSON for a grid of scenarios (bench/predict-cases.ts), one line per scenario, to
 * prove a change to the predictor leaves its outputs as they were:
 *
 *   npx tsx bench/predict-grid.ts --out /tmp/before.jsonl     (on the old code)
 *   npx tsx bench/predict-grid.ts --out /tmp/after.jsonl      (on the new code)
 *   cmp /tmp/before.jsonl /tmp/after.jsonl
 *
 * Each line: {"name", "sha256" of the prediction's JSON, "json"}. With --check FILE it compares with a
 * recorded file instead and lists every scenario whose prediction differs (exit 1 if any).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveScenario, scenarioToJson } from '../src/options.ts';
import { predict } from '../src/sim/predict/predict.ts';
import { predictionToJson } from '../src/sim/predict/prediction.ts';
import { gridCases, speedCases } from './predict-cases.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, check: { type: 'string' } } });
const lines: string[] = [];
for (const input of [...gridCases(), ...speedCases()]) {
  const s = resolveScenario(input);
  const json = predictionToJson(predict(s), scenarioToJson(s));
  lines.push(JSON.stringify({ name: s.name, sha256: createHash('sha256').update(json).digest('hex'), json }));
}
const text = `${lines.join('\n')}\n`;
if (values.out) writeFileSync(values.out, text);
if (values.check) {
  const old = new Map(readFileSync(values.check, 'utf8').trim().split('\n').map((l) => { const r = JSON.parse(l) as { name: string; sha256: string }; return [r.name, r.sha256]; }));
  let differ = 0;
  for (const l of lines) {
    const r = JSON.parse(l) as { name: string; sha256: string };
    if (old.get(r.name) !== r.sha256) {
      differ++;
      process.stdout.write(`differs: ${r.name}\n`);
    }
  }
  process.stdout.write(`${lines.length} scenarios, ${differ} differ\n`);
  process.exitCode = differ > 0 ? 1 : 0;
} else process.stdout.write(`${lines.length} scenarios recorded\n`);
