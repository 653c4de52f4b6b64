/**
 * `npm run fuzz [-- --seed N] [-- --cases N]`: every fuzz property (test/fuzz/properties.ts), the
 * cases shared out by weight (default 120 000 in all, seed from the clock), a line per property with
 * its cases and time, and last the line `fuzz: N cases, F failures`. Exit 1 on any failure, after
 * printing the seed, the property and its (shrunk) counterexample; rerun with that seed to reproduce.
 */
import fc from 'fast-check';
import { allProperties, removeScratch } from './properties.ts';

function flag(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

function positiveInt(name: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text)) {
    process.stderr.write(`fuzz: --${name}: expected a whole number, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return Number(text);
}

const seed = positiveInt('seed', flag('seed'), Date.now() % 2 ** 31);
const total = positiveInt('cases', flag('cases'), 120_000);
const only = flag('only');

function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 1;
}

async function main(): Promise<number> {
  const properties = allProperties().filter((p) => only === undefined || only.split(',').includes(p.name));
  const weights = properties.reduce((a, p) => a + p.weight, 0);
  process.stdout.write(`fuzz: seed ${seed}, ${total} cases over ${properties.length} properties\n`);
  let cases = 0;
  let failures = 0;
  const started = performance.now();
  for (const p of properties) {
    const numRuns = Math.max(1, Math.round((total * p.weight) / weights));
    const t0 = performance.now();
    const property = await p.make();
    // each property gets its own seed, from the run's and its name, so --only reproduces a failure alone
    const propertySeed = (seed ^ nameHash(p.name)) | 0;
    const details = await fc.check(property as fc.IRawProperty<unknown[]>, { seed: propertySeed, numRuns, endOnFailure: true });
    const ran = details.failed ? details.numRuns : numRuns;
    cases += ran;
    const ms = performance.now() - t0;
    process.stdout.write(`  ${p.name.padEnd(22)} ${String(ran).padStart(7)} cases  ${(ms / 1000).toFixed(1).padStart(6)} s${details.failed ? '  FAILED' : ''}\n`);
    if (details.failed) {
      failures++;
      process.stdout.write(`\nproperty ${p.name} failed (run seed ${seed}, property seed ${propertySeed}; rerun: npm run fuzz -- --seed ${seed} --only ${p.name})\n`);
      process.stdout.write(`${fc.defaultReportMessage(details) ?? ''}\n`);
      const error = details.errorInstance;
      process.stdout.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n\n`);
    }
  }
  removeScratch();
  process.stdout.write(`  ${'total'.padEnd(22)} ${String(cases).padStart(7)} cases  ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s\n`);
  process.stdout.write(`fuzz: ${cases} cases, ${failures} failures\n`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    removeScratch();
    process.stderr.write(`fuzz: setup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
