import fs from 'node:fs';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { ClickHouseConfig } from '../config/common-config.ts';
import { assertWritableDir } from '../storage/writable-dir.ts';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/**
 * One `@clickhouse/client` for both deployments, so every query is the same SQL:
 * - `CLICKHOUSE_URL` set: a ClickHouse server over HTTP;
 * - unset: embedded chDB (a real ClickHouse engine in-process) at `dataDir`. chDB allows one data
 *   directory per process; each call opens one more connection to it (same engine, same data), and chDB
 *   runs one statement at a time per connection, statements of different connections in parallel.
 * The database is created if missing; queries run with it as the default.
 */
export async function createClickHouse(config: ClickHouseConfig): Promise<ClickHouseClient> {
  let client: ClickHouseClient;
  if (config.url) {
    client = createClient({
      url: config.url,
      username: config.user,
      password: config.password,
      request_timeout: 30_000,
    });
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
    await client.close();
    client = createClient({
      url: config.url,
      username: config.user,
      password: config.password,
      database: config.database,
      request_timeout: 30_000,
    });
  } else {
    assertWritableDir(config.dataDir, 'CLICKHOUSE_DATA_DIR', 'embedded ClickHouse');
    // Loaded lazily: chDB's engine is a ~500 MB native library that server-mode users never need.
    const { createChdbConnection } = await import('chdb/connection');
    // chDB types its connection against @clickhouse/client-common, the client against its own copy of the
    // same interface; they are structurally the same, the declarations just come from two packages.
    let connection: ClientConnection;
    try {
      connection = createChdbConnection({ path: config.dataDir }) as unknown as ClientConnection;
    } catch (err) {
      throw new Error(
        `embedded ClickHouse could not open CLICKHOUSE_DATA_DIR ${JSON.stringify(path.resolve(config.dataDir))}: ` +
          (dataDirHolder(config.dataDir) ?? (err as Error).message),
        { cause: err },
      );
    }
    client = createClient({ connection });
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
    // chDB sessions have no per-request database; qualify through a USE that persists in the session.
    await client.command({ query: `USE ${config.database}` });
  }
  return client;
}

/**
 * chDB (like a ClickHouse server) locks `<dataDir>/status` and writes its PID there; a second process on
 * the same directory fails with a generic connection error. Name the holder when it is still alive.
 */
function dataDirHolder(dataDir: string): string | undefined {
  let status: string;
  try {
    status = fs.readFileSync(path.join(dataDir, 'status'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(status)?.[1]);
  if (!Number.isInteger(pid) || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  return (
    `it is locked by another process (pid ${pid}); chDB allows one process per data directory, ` +
    'so stop that one or give this one a directory of its own'
  );
}
