/**
 * vitest globalSetup: build the package (`npm run build`: tsc into dist/, incremental) once before any
 * test file runs. The CLI tests start bin/migbench.js, which runs the compiled CLI in dist/ — what users
 * of the package run — so it must be the code of the sources under test. Up to date, this takes about
 * 1.5 s; from nothing, about 20 s on a loaded 2-core machine.
 *
 * Type errors do not stop the tests (vitest does not type-check either): tsc still emits, the errors are
 * printed here, and `npm run typecheck` is what fails on them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
  if (build.error) throw new Error(`could not run \`npm run build\`: ${build.error.message}`);
  if (build.status !== 0) {
    process.stderr.write(`warning: \`npm run build\` exited with ${build.status}; the CLI tests run what it emitted:\n${build.stdout}${build.stderr}\n`);
  }
}
