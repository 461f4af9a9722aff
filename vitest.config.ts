import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons (Temporal core bridge, better-sqlite3) need process isolation; server-backed
    // suites share one Temporal server per run, so files run one after another.
    pool: 'forks',
    fileParallelism: false,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
