/** Embedded ClickHouse (chDB) in a fresh temporary directory, for the benches that need one of their own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouse } from '../../shared/clickhouse/clickhouse-client.ts';

/** Opens chDB on a new directory under the system's temp dir (`<prefix>XXXXXX`), database `bench`. */
export async function openTempClickHouse(
  prefix: string,
): Promise<{ client: ClickHouseClient; dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const client = await createClickHouse({
    url: undefined,
    user: 'default',
    password: '',
    database: 'bench',
    dataDir,
  });
  return { client, dataDir };
}
