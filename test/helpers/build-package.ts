/**
 * vitest globalSetup: build the package (`npm run build`: tsc into dist/, incremental) before the test
 * files run, and again before each rerun in watch mode. The CLI tests start bin/migbench.js, which runs
 * the compiled CLI in dist/ — what users of the package run — so it must be the code of the sources
 * under test. Up to date, this takes about 1.5 s; from nothing, 20–45 s on a loaded 2-core machine.
 *
 * Type errors do not stop the tests (vitest does not type-check either): tsc still emits, the errors are
 * printed here, and `npm run typecheck` is what fails on them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

function build(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
  if (r.error) throw new Error(`could not run \`npm run build\`: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write(`warning: \`npm run build\` exited with ${r.status}; the CLI tests run what it emitted:\n${r.stdout}${r.stderr}\n`);
  }
}

export default function setup(project: TestProject): void {
  build();
  project.onTestsRerun(() => build());
}
