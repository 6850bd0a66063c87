/**
 * The tricky cases of semantics.md run end to end through both stages (in memory, everything
 * in order), checking the rows whose signs sum to 1 against the batch reference and by hand.
 */
import { describe, expect, it } from 'vitest';
import type { AttributionMode } from '../../../../services/processor/src/domain/attribution/unit-state.ts';
import type { IngestEvent } from '../../../../services/processor/src/domain/ingest-event.ts';
import type {
  AttributedEventRow,
  UnitExposureRow,
} from '../../../../services/processor/src/domain/output-rows.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../../helpers/processor/builders.ts';
import { simulate, sortRows } from '../../../helpers/processor/pipeline-simulator.ts';
import { referenceRows } from '../../../helpers/processor/reference-attribution.ts';

interface Scenario {
  name: string;
  events: IngestEvent[];
  mode?: AttributionMode;
  /** Expected final exposure rows, as [unit, variation, first_exposure_at, multiple]. */
  exposures: [string, string, number, boolean][];
  /** Expected final attributed rows, as [unit, event_id] (experiment e, variation of the unit). */
  attributed: [string, string][];
}

const scenarios: Scenario[] = [
  {
    name: 'a conversion sent before the exposure is attributed once the exposure arrives',
    events: [
      ingestTrack({ id: 't1', user: 'u', ts: 1500 }),
      ingestExposure({ id: 'x1', user: 'u', ts: 1000 }),
    ],
    exposures: [['u', 'A', 1000, false]],
    attributed: [['u', 't1']],
  },
  {
    name: 'conversions of an anonymous visitor move to the user when the alias comes later',
    events: [
      ingestExposure({ id: 'x1', anon: 'a', ts: 1000 }),
      ingestTrack({ id: 't1', anon: 'a', ts: 1100 }),
      ingestTrack({ id: 't2', user: 'u', ts: 1200 }),
      ingestAlias({ id: 'al', anon: 'a', user: 'u', ts: 1300 }),
    ],
    exposures: [['u', 'A', 1000, false]],
    attributed: [
      ['u', 't1'],
      ['u', 't2'],
    ],
  },
  {
    name: 'an alias bringing an earlier exposure moves first exposure and attributes what it now covers',
    events: [
      ingestExposure({ id: 'x1', user: 'u', ts: 2000 }),
      ingestTrack({ id: 't1', user: 'u', ts: 1500 }),
      ingestExposure({ id: 'x0', anon: 'a', ts: 1000 }),
      ingestAlias({ id: 'al', anon: 'a', user: 'u', ts: 2100 }),
    ],
    exposures: [['u', 'A', 1000, false]],
    attributed: [['u', 't1']],
  },
  {
    name: "an alias bringing a conflicting variation makes the user multiple-exposure and drops the user's rows",
    events: [
      ingestExposure({ id: 'x1', user: 'u', ts: 1000, variation: 'A' }),
      ingestTrack({ id: 't1', user: 'u', ts: 1500 }),
      ingestExposure({ id: 'x2', anon: 'a', ts: 900, variation: 'B' }),
      ingestAlias({ id: 'al', anon: 'a', user: 'u', ts: 1600 }),
    ],
    exposures: [['u', 'B', 900, true]],
    attributed: [],
  },
  {
    name: 'a retried event (same message_id) counts once, the first accepted copy',
    events: [
      ingestExposure({ id: 'x1', user: 'u', ts: 1000 }),
      ingestTrack({ id: 't1', user: 'u', ts: 1100, messageId: 'm', value: 5 }),
      ingestTrack({ id: 't2', user: 'u', ts: 1150, messageId: 'm', value: 5 }),
    ],
    exposures: [['u', 'A', 1000, false]],
    attributed: [['u', 't1']],
  },
  {
    name: 'a second alias of the same anonymous id is ignored',
    events: [
      ingestExposure({ id: 'x1', anon: 'a', ts: 1000 }),
      ingestAlias({ id: 'al1', anon: 'a', user: 'u1', ts: 1100 }),
      ingestAlias({ id: 'al2', anon: 'a', user: 'u2', ts: 1200 }),
      ingestTrack({ id: 't1', anon: 'a', ts: 1300 }),
    ],
    exposures: [['u1', 'A', 1000, false]],
    attributed: [['u1', 't1']],
  },
  {
    name: 'decision mode: a tracked decision counts only where it was made; no decision falls back',
    mode: 'decision',
    events: [
      ingestExposure({ id: 'x1', user: 'u', ts: 1000, decision: 'd1' }),
      ingestTrack({ id: 't-d1', user: 'u', ts: 1100, decision: 'd1' }),
      ingestTrack({ id: 't-d2', user: 'u', ts: 1100, decision: 'd2' }),
      ingestTrack({ id: 't-none', user: 'u', ts: 1100 }),
    ],
    exposures: [['u', 'A', 1000, false]],
    attributed: [
      ['u', 't-d1'],
      ['u', 't-none'],
    ],
  },
];

describe('pipeline scenarios', () => {
  it.each(scenarios)('$name', ({ events, mode = 'cumulative', exposures, attributed }) => {
    const result = simulate(events, { modeOf: () => mode });
    expect(result.violations, 'every sign total stays 0 or 1').toEqual([]);
    const variationOf = new Map(exposures.map(([unit, variation]) => [unit, variation]));
    const expectedExposures: UnitExposureRow[] = exposures.map(([unit, variation, first, multiple]) => ({
      project: 'p',
      experiment: 'e',
      unit,
      variation,
      first_exposure_at: first,
      multiple_exposure: multiple,
      dimensions: {},
    }));
    expect(sortRows(result.rows.exposures), 'exposure rows').toEqual(sortRows(expectedExposures));
    const byId = new Map(events.map((e) => [e.event_id, e]));
    const expectedAttributed: AttributedEventRow[] = attributed.map(([unit, id]) => {
      const e = byId.get(id)!;
      if (e.body.kind !== 'track') throw new Error(`${id} is not a track`);
      return {
        project: 'p',
        experiment: 'e',
        unit,
        variation: variationOf.get(unit)!,
        event_id: id,
        event: e.body.event,
        timestamp: e.timestamp,
        weight: 1 / e.body.sample,
        value: e.body.value,
      };
    });
    expect(sortRows(result.rows.attributed), 'attributed rows').toEqual(sortRows(expectedAttributed));
    const reference = referenceRows(events, () => mode);
    expect(sortRows(reference.exposures), 'the batch reference agrees').toEqual(sortRows(expectedExposures));
    expect(sortRows(reference.attributed), 'the batch reference agrees').toEqual(
      sortRows(expectedAttributed),
    );
  });

  it("retracts the user's earlier rows when an alias brings a conflicting variation", () => {
    const result = simulate(scenarios[3]!.events);
    const retracted = result.emitted.filter(({ row }) => row.record.sign === -1).map(({ row }) => row);
    expect(retracted).toContainEqual({
      kind: 'attributed',
      record: expect.objectContaining({ unit: 'u', event_id: 't1', variation: 'A', sign: -1 }),
    });
    expect(retracted).toContainEqual({
      kind: 'exposure',
      record: expect.objectContaining({ unit: 'u', variation: 'A', multiple_exposure: false, sign: -1 }),
    });
  });

  it("moves a unit's dimension values to the earlier exposure an alias brings, retracting the old ones", () => {
    const events = [
      ingestExposure({
        id: 'x1',
        user: 'u',
        ts: 2000,
        properties: { country: 'DE' },
        context: { plan: 'pro' },
      }),
      ingestExposure({ id: 'x0', anon: 'a', ts: 1000, properties: { seats: 2 }, context: { country: 'FR' } }),
      ingestAlias({ id: 'al', anon: 'a', user: 'u', ts: 2100 }),
    ];
    const dimensionsOf = () => ['country', 'plan', 'seats'];
    const result = simulate(events, { dimensionsOf });
    expect(result.violations).toEqual([]);
    const uRows = result.emitted.filter(({ row }) => row.kind === 'exposure' && row.record.unit === 'u');
    expect(
      uRows.map(({ row }) => [row.record.sign, row.kind === 'exposure' && row.record.dimensions]),
      "u's exposure rows: asserted from x1, retracted with the same values, asserted from x0",
    ).toEqual([
      [1, { country: 'DE', plan: 'pro' }],
      [-1, { country: 'DE', plan: 'pro' }],
      [1, { country: 'FR', seats: '2' }],
    ]);
    expect(result.rows.exposures, 'only the first exposure’s values remain').toEqual(
      referenceRows(events, () => 'cumulative', dimensionsOf).exposures,
    );
    expect(result.rows.exposures.map((r) => r.dimensions)).toEqual([{ country: 'FR', seats: '2' }]);
  });

  it('retracts the anonymous unit’s rows when it merges', () => {
    const result = simulate(scenarios[1]!.events);
    const anon = result.emitted
      .filter(({ row }) => row.record.unit === 'a')
      .map(({ row }) => row.record.sign);
    expect(anon.filter((s) => s === 1).length, 'a asserted its exposure and t1').toBe(2);
    expect(anon.filter((s) => s === -1).length, 'and retracted both when merged').toBe(2);
  });

  it('forwards an event that reaches the anonymous unit after its merge', () => {
    const events = [
      ingestExposure({ id: 'x1', anon: 'a', ts: 1000 }),
      ingestAlias({ id: 'al', anon: 'a', user: 'u', ts: 1100 }),
    ];
    // any-order delivery, scheduler choice 1 on the unit queue of a: the merge overtakes x1.
    const result = simulate(events, { delivery: 'any-order', pick: (step) => (step === 2 ? 1 : 0) });
    expect(result.counters.forwarded, 'x1 forwarded by the merged unit a').toBe(1);
    expect(result.rows.exposures).toEqual([
      {
        project: 'p',
        experiment: 'e',
        unit: 'u',
        variation: 'A',
        first_exposure_at: 1000,
        multiple_exposure: false,
        dimensions: {},
      },
    ]);
  });
});
