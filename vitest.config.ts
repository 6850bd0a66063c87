import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure logic, no I/O, runs anywhere in seconds) and `integration`
 * (real Kafka, schema registry and ClickHouse, started once by the global setup).
 */
export default defineConfig({
  test: {
    // One file at a time: integration files share one broker (and fault tests stop it); a fresh process per
    // file, because embedded ClickHouse (chDB) allows one data directory per process.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          // Property-based tests run hundreds of cases; on a loaded 2-core CI box 5 s is too tight.
          testTimeout: 60_000,
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.integration.test.ts', 'node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts'],
          environment: 'node',
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
