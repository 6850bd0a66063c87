// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const SERVICES = ['gateway', 'processor', 'sink', 'stats'];

/** shared/ is what the services are built on (the stream runtime included): it never reaches into one. */
const SHARED_IMPORTS_NO_SERVICE = {
  group: ['**/services/**'],
  message: 'shared/ must not import from services/: move what both need into shared/.',
};

/**
 * A service (or the CLI) reaches another service only through its public services/<name>/src/index.ts, so
 * the internals behind it can change freely. Relative paths: '../../sink/src/x.ts' from services/stats.
 */
const ONLY_SERVICE_INDEXES = {
  group: SERVICES.flatMap((name) => [`**/${name}/src/**`, `!**/${name}/src/index.ts`]),
  message: 'Import another service only through its index.ts (services/<name>/src/index.ts).',
};

/** The processor's domain is pure: no Kafka client, no transport, no I/O of any kind. */
const DOMAIN_NO_TRANSPORT = {
  group: [
    'kafkajs',
    '@kafkajs/*',
    '@clickhouse/*',
    'fastify',
    'lmdb',
    'node:net',
    'node:http',
    'node:fs',
    '**/transport/**',
    '**/shared/kafka/**',
    '**/shared/registry/**',
    '**/shared/clickhouse/**',
  ],
  message: 'services/processor/src/domain/ is pure: Kafka, transports and I/O belong outside it.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.local/**', 'coverage/**', 'sdk/dist/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain Node scripts (they run before TypeScript tooling is installed).
    files: ['**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Boundaries (issue 18). Tests and benches (test/**, bench/**) may reach into anything.
  {
    files: ['shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SHARED_IMPORTS_NO_SERVICE] }] },
  },
  {
    files: ['services/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ONLY_SERVICE_INDEXES] }] },
  },
  {
    // Later than services/**: it replaces that rule's options for the domain, so it repeats them.
    files: ['services/processor/src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ONLY_SERVICE_INDEXES, DOMAIN_NO_TRANSPORT] }] },
  },
  {
    files: ['cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ONLY_SERVICE_INDEXES] }] },
  },
);
