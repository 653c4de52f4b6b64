#!/usr/bin/env node
// The `migbench` command. Node 20 does not run TypeScript itself: register tsx's loader, then hand
// over to the CLI (DESIGN §8).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv.slice(2));
