#!/usr/bin/env node
// The `migbench` command: the CLI compiled to JavaScript in dist/ (`npm run build`, which `npm ci` and
// `npm pack` run through the `prepare` script). Node 20 does not run TypeScript itself (DESIGN §8).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('migbench: this checkout is not built (no dist/): run `npm run build` (npm ci runs it)\n');
  process.exit(3);
}
const { runCli } = await import(main.href);
await runCli(process.argv.slice(2));
