/**
 * The sink on a ClickHouse session of its own (`SinkDeps.ownClickHouseSession`, what the stats process gives
 * it with embedded chDB) skips the dedup-token reset after each insert. What that relies on: each insert
 * still carries its own token (a retry of a landed insert is dropped, the next insert is not), another
 * session never inherits the token, and the other session sees the rows at once.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClickHouse } from '../../../shared/clickhouse/clickhouse-client.ts';
import { insertRows } from '../../../services/sink/src/sink-clickhouse.ts';
import { insertDedupToken } from '../../../services/sink/src/sink-rows.ts';
import type { ExposureRow } from '../../../services/sink/src/sink-rows.ts';
import { exposureRow } from '../../helpers/sink/exposure-row.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';

const TOPIC = 'own-session.exposures';

let ch: ClickHouseFixture;
/** The sink's own session: a second connection to the same data directory (a second client with a server). */
let own: ClickHouseClient;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'own-session');
  own = await createClickHouse(ch.config);
});

afterAll(async () => {
  await own?.close();
  await ch?.close();
});

function exposures(units: readonly string[], firstOffset: number): ExposureRow[] {
  return units.map((unit, i) => exposureRow(unit, { src_offset: firstOffset + i }));
}

async function storedUnits(client: ClickHouseClient): Promise<string[]> {
  const rows = await (
    await client.query({
      query: `SELECT unit FROM exposures WHERE project = 'p' ORDER BY unit`,
      format: 'JSONEachRow',
    })
  ).json<{ unit: string }>();
  return rows.map((r) => r.unit);
}

describe('sink inserts on a ClickHouse session of their own, without the token reset', () => {
  it('drops the retry of a landed insert, stores the next one and another session’s insert, visible at once', async () => {
    const first = exposures(['u1', 'u2'], 0);
    const firstToken = insertDedupToken(TOPIC, 0, 0, 1);
    await insertRows(own, 'exposures', first, firstToken, false);
    expect(await storedUnits(ch.client), 'rows inserted on the own session, read on the other').toEqual([
      'u1',
      'u2',
    ]);

    await insertRows(own, 'exposures', first, firstToken, false);
    expect(await storedUnits(ch.client), 'a retry with the same token is dropped').toEqual(['u1', 'u2']);

    await insertRows(own, 'exposures', exposures(['u3'], 2), insertDedupToken(TOPIC, 0, 2, 2), false);
    expect(await storedUnits(ch.client), 'the next insert sets its own token and is stored').toEqual([
      'u1',
      'u2',
      'u3',
    ]);

    // Another writer on the shared session, no token of its own: it must not inherit the sink's.
    await ch.client.insert({ table: 'exposures', values: exposures(['u4'], 100), format: 'JSONEachRow' });
    expect(await storedUnits(own), 'the other session’s insert is stored, seen from the own one').toEqual([
      'u1',
      'u2',
      'u3',
      'u4',
    ]);
  });
});
