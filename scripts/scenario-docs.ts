/**
 * Regenerate what is made from the scenario key table (src/scenario/keys.ts): the README's
 * "Scenario keys" table (between its markers) and results/scenario.schema.json.
 *
 *   npx tsx scripts/scenario-docs.ts           check: exit 1 and name the files that differ
 *   npx tsx scripts/scenario-docs.ts --write   rewrite them (npm run docs:scenario)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { scenarioDocFiles } from '../src/scenario/doc-files.ts';

const root = new URL('../', import.meta.url);
const write = process.argv.includes('--write');
const stale: string[] = [];
for (const file of scenarioDocFiles((path) => readFileSync(new URL(path, root), 'utf8'))) {
  if (file.current === file.wanted) continue;
  if (write) writeFileSync(new URL(file.path, root), file.wanted);
  stale.push(file.path);
}
if (write) console.log(stale.length ? `rewrote ${stale.join(', ')}` : 'up to date');
else if (stale.length) {
  console.error(`out of date with src/scenario/keys.ts: ${stale.join(', ')} (run npm run docs:scenario)`);
  process.exitCode = 1;
} else console.log('up to date');
