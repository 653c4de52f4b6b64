import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real worker threads and real-time migrations: keep files from competing for the 2 cores.
    fileParallelism: false,
  },
});
