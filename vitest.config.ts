import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure logic, no I/O, runs anywhere in seconds) and `integration`
 * (real Kafka, schema registry and ClickHouse, started once by the global setup).
 * Integration files run one at a time: they share one broker and its ports.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
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
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
