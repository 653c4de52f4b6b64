import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests run bin/migbench.js, which runs the compiled package (dist/): build it first.
    globalSetup: ['test/helpers/build-package.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real worker threads and real-time migrations: keep files from competing for the 2 cores.
    fileParallelism: false,
  },
});
