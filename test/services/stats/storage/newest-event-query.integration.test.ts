/**
 * Freshness (storage/newest-event-query.ts) against embedded ClickHouse: the newest counted event of an
 * experiment is the newest live analysed exposure or live attributed event; retracted rows, multiple-exposure
 * units and other projects never count, whether the retraction is in another hour or the same one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestCountedEvents } from '../../../../services/stats/src/storage/newest-event-query.ts';
import { openClickHouse } from '../../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../../helpers/stats/clickhouse-fixture.ts';
import type { AttributedRecord, ExposureRecord } from '../../../helpers/stats/signed-rows-scenario.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T = Date.UTC(2026, 0, 5, 8, 0);

const exposure = (
  experiment: string,
  unit: string,
  at: number,
  sign: 1 | -1 = 1,
  multiple = false,
  project = 'shop',
): ExposureRecord => ({
  project,
  experiment,
  unit,
  variation: unit.endsWith('t') ? 'treatment' : 'control',
  first_exposure_at: at,
  multiple_exposure: multiple,
  sign,
});

const event = (
  experiment: string,
  unit: string,
  id: string,
  at: number,
  sign: 1 | -1 = 1,
  project = 'shop',
): AttributedRecord => ({
  project,
  experiment,
  unit,
  variation: unit.endsWith('t') ? 'treatment' : 'control',
  event_id: id,
  event: 'purchase',
  timestamp: at,
  weight: 1,
  value: 10,
  sign,
});

let ch: ClickHouseFixture;

beforeAll(async () => {
  ch = await openClickHouse(undefined, 'newest_event_query');
  await ch.store(
    {
      exposures: [
        // events_newest: exposures older than its events.
        exposure('events_newest', 'u1c', T),
        exposure('events_newest', 'u2t', T + 10 * MINUTE),
        // exposure_newest: a unit first exposed after every event.
        exposure('exposure_newest', 'u3c', T),
        exposure('exposure_newest', 'u4t', T + 6 * HOUR),
        // ...and later ones that do not count: a multiple-exposure unit, a retracted exposure.
        exposure('exposure_newest', 'u5c', T + 7 * HOUR, 1, true),
        exposure('exposure_newest', 'u6t', T + 8 * HOUR),
        exposure('exposure_newest', 'u6t', T + 8 * HOUR, -1),
        // nothing_live: its only unit retracted.
        exposure('nothing_live', 'u7c', T + HOUR),
        exposure('nothing_live', 'u7c', T + HOUR, -1),
        // another project's newer exposure of the same experiment name.
        exposure('events_newest', 'x1c', T + 20 * HOUR, 1, false, 'other'),
      ],
      attributed: [
        event('events_newest', 'u1c', 'e1', T + 2 * HOUR),
        // Retracted in a later hour: that hour has no live row.
        event('events_newest', 'u1c', 'e2', T + 9 * HOUR),
        event('events_newest', 'u1c', 'e2', T + 9 * HOUR, -1),
        // The newest live event shares its hour with a later retracted one.
        event('events_newest', 'u2t', 'e3', T + 5 * HOUR + MINUTE),
        event('events_newest', 'u2t', 'e4', T + 5 * HOUR + 30 * MINUTE),
        event('events_newest', 'u2t', 'e4', T + 5 * HOUR + 30 * MINUTE, -1),
        event('exposure_newest', 'u3c', 'e5', T + HOUR),
        event('events_newest', 'x1c', 'e6', T + 21 * HOUR, 1, 'other'),
      ],
    },
    { rowsPerInsert: 3 },
  );
});

afterAll(async () => {
  await ch?.close();
});

describe('the newest counted event of each experiment', () => {
  it('is the newest live row of either table, never a retracted, multiple-exposure or other project row', async () => {
    const newest = await newestCountedEvents(ch.client, { project: 'shop' });
    expect(Object.fromEntries(newest)).toEqual({
      events_newest: T + 5 * HOUR + MINUTE,
      exposure_newest: T + 6 * HOUR,
    });
  });

  it('answers for one experiment when asked, and nothing for one with nothing live', async () => {
    const one = await newestCountedEvents(ch.client, { project: 'shop', experiment: 'exposure_newest' });
    expect([...one]).toEqual([['exposure_newest', T + 6 * HOUR]]);
    const none = await newestCountedEvents(ch.client, { project: 'shop', experiment: 'nothing_live' });
    expect(none.size).toBe(0);
    const other = await newestCountedEvents(ch.client, { project: 'other', experiment: 'events_newest' });
    expect([...other]).toEqual([['events_newest', T + 21 * HOUR]]);
  });
});
