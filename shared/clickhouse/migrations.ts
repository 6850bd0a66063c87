import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Applies `migrations/NNNN_name.sql` in order, once each, recording them in `schema_migrations`.
 * Every statement is idempotent (IF NOT EXISTS) so two processes starting together cannot break it.
 */
export async function migrate(client: ClickHouseClient): Promise<string[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
            ENGINE = ReplacingMergeTree ORDER BY name`,
  });
  const done = new Set(
    (
      await (
        await client.query({ query: 'SELECT name FROM schema_migrations FINAL', format: 'JSONEachRow' })
      ).json<{
        name: string;
      }>()
    ).map((r) => r.name),
  );
  const applied: string[] = [];
  for (const file of fs
    .readdirSync(migrationsDir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()) {
    if (done.has(file)) continue;
    await client.command({ query: fs.readFileSync(path.join(migrationsDir, file), 'utf8') });
    await client.insert({ table: 'schema_migrations', values: [{ name: file }], format: 'JSONEachRow' });
    applied.push(file);
  }
  return applied;
}
