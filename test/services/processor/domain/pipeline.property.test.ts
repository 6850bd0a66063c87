/**
 * Property: whatever the interleaving, the signed rows the two stages emit sum, per row, to
 * exactly the rows a batch computation of semantics.md gives, and no row's total ever leaves
 * {0, 1}. Data: a few projects, identities, experiments and variations, retries (same
 * message_id), aliases (anonymous → user only, so no chains: the stages resolve chains
 * transitively, semantics.md one step), exposures whose properties and context hold the declared
 * dimensions or not, with few values so that ties at the first instant are common.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttributionMode } from '../../../../services/processor/src/domain/attribution/unit-state.ts';
import type { IngestEvent } from '../../../../services/processor/src/domain/ingest-event.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../../helpers/processor/builders.ts';
import { simulate, sortRows, type SimulationOptions } from '../../../helpers/processor/pipeline-simulator.ts';
import { referenceRows } from '../../../helpers/processor/reference-attribution.ts';

const PROJECTS = ['p1', 'p2'] as const;
const USERS = ['u1', 'u2', 'u3'];
const ANONS = ['a1', 'a2', 'a3'];

const arbTs = fc.integer({ min: 0, max: 6 });
const arbIdentity = fc.oneof(
  fc.record({ user: fc.constantFrom(...USERS), anon: fc.constantFrom(null, ...ANONS) }),
  fc.record({ user: fc.constant(null), anon: fc.constantFrom(...ANONS) }),
);
const arbEnvelope = fc.record({
  project: fc.constantFrom(...PROJECTS),
  ts: arbTs,
  hasMessageId: fc.boolean(),
});
const arbDecision = fc.constantFrom(null, 'd1', 'd2');
const arbProperties = fc.record(
  { country: fc.constantFrom('DE', 'FR'), seats: fc.constantFrom<string | number | boolean>(1, 2.5, true) },
  { requiredKeys: [] },
);
const arbContext = fc.record(
  { country: fc.constant('US'), plan: fc.constantFrom('free', 'pro') },
  { requiredKeys: [] },
);
/** Declared dimensions: p1 reads properties and context, p2 only country. */
const DIMENSIONS: Record<string, readonly string[]> = { p1: ['country', 'plan', 'seats'], p2: ['country'] };
const dimensionsOf = (project: string): readonly string[] => DIMENSIONS[project] ?? [];

type Spec =
  | {
      kind: 'exposure';
      env: Envelope;
      who: Who;
      experiment: string;
      variation: string;
      decision: string | null;
      properties?: Record<string, string | number | boolean>;
      context?: Record<string, string>;
    }
  | {
      kind: 'track';
      env: Envelope;
      who: Who;
      event: string;
      value: number | null;
      sample: number;
      decision: string | null;
    }
  | { kind: 'alias'; env: Envelope; anon: string; user: string };
type Envelope = { project: (typeof PROJECTS)[number]; ts: number; hasMessageId: boolean };
type Who = { user: string | null; anon: string | null };

const arbSpec: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('exposure' as const),
      env: arbEnvelope,
      who: arbIdentity,
      experiment: fc.constantFrom('e1', 'e2'),
      variation: fc.constantFrom('A', 'B'),
      decision: arbDecision,
      properties: arbProperties,
      context: arbContext,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('track' as const),
      env: arbEnvelope,
      who: arbIdentity,
      event: fc.constantFrom('buy', 'view'),
      value: fc.constantFrom(null, 0, 2.5, 10),
      sample: fc.constantFrom(1, 0.5, 0.3, 0.1),
      decision: arbDecision,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('alias' as const),
      env: arbEnvelope,
      anon: fc.constantFrom(...ANONS),
      user: fc.constantFrom(...USERS),
    }),
  },
);

/** A retry of an earlier event: same identity, body and message_id, a new event_id, maybe a new timestamp. */
const arbRetry = fc.record({ source: fc.nat(), offset: fc.nat(), ts: fc.option(arbTs, { nil: undefined }) });

const arbScenario = fc.record({
  specs: fc.array(arbSpec, { maxLength: 24, size: 'max' }),
  retries: fc.array(arbRetry, { maxLength: 6, size: 'max' }),
  modes: fc.record({
    p1: fc.constantFrom<AttributionMode>('cumulative', 'decision'),
    p2: fc.constantFrom<AttributionMode>('cumulative', 'decision'),
  }),
  schedule: fc.array(fc.nat({ max: 10_000 }), { maxLength: 400, size: 'max' }),
});

/** The accepted events, in acceptance order. */
function buildEvents(
  specs: Spec[],
  retries: { source: number; offset: number; ts: number | undefined }[],
): IngestEvent[] {
  const events = specs.map((spec, i): IngestEvent => {
    const base = {
      id: `ev${i}`,
      project: spec.env.project,
      ts: spec.env.ts,
      messageId: spec.env.hasMessageId ? `m${i}` : null,
    };
    switch (spec.kind) {
      case 'exposure':
        return ingestExposure({
          ...base,
          ...spec.who,
          experiment: spec.experiment,
          variation: spec.variation,
          decision: spec.decision,
          properties: spec.properties ?? {},
          context: spec.context ?? {},
        });
      case 'track':
        return ingestTrack({
          ...base,
          ...spec.who,
          event: spec.event,
          value: spec.value,
          sample: spec.sample,
          decision: spec.decision,
        });
      case 'alias':
        return ingestAlias({ ...base, anon: spec.anon, user: spec.user });
    }
  });
  retries.forEach((retry, j) => {
    if (events.length === 0) return;
    const at = retry.source % events.length;
    const source = events[at]!;
    const copy: IngestEvent = { ...source, event_id: `retry${j}`, timestamp: retry.ts ?? source.timestamp };
    const position = at + 1 + (retry.offset % (events.length - at));
    events.splice(position, 0, copy);
  });
  return events;
}

function modeLookup(modes: Record<string, AttributionMode>): (project: string) => AttributionMode {
  return (project) => modes[project] ?? 'cumulative';
}

/** CUPED lookbacks: p1 looks back 5 ms on buy (timestamps are small integers), p2 has no CUPED metric. */
const lookbackOf = (project: string): Record<string, number> => (project === 'p1' ? { buy: 5 } : {});

function optionsFor(modes: Record<string, AttributionMode>, schedule: number[]): SimulationOptions {
  return { modeOf: modeLookup(modes), dimensionsOf, lookbackOf, pick: (step) => schedule[step] ?? 0 };
}

describe('identity and unit stages against the batch semantics', () => {
  it.each(['per-key-fifo', 'any-order'] as const)(
    'sum to the batch rows, each total 0 or 1, under any interleaving (%s delivery to units)',
    (delivery) => {
      const seen = {
        retractions: 0,
        multiple: 0,
        merges: 0,
        duplicates: 0,
        forwarded: 0,
        attributed: 0,
        valuesRetracted: 0,
        covariates: 0,
        covariatesRetracted: 0,
      };
      fc.assert(
        fc.property(arbScenario, ({ specs, retries, modes, schedule }) => {
          const events = buildEvents(specs, retries);
          const result = simulate(events, { ...optionsFor(modes, schedule), delivery });
          const expected = referenceRows(events, modeLookup(modes), dimensionsOf, lookbackOf);
          expect(result.violations, 'sign totals outside {0, 1}').toEqual([]);
          expect(sortRows(result.rows.exposures), 'exposure rows').toEqual(sortRows(expected.exposures));
          expect(sortRows(result.rows.attributed), 'attributed rows').toEqual(sortRows(expected.attributed));
          expect(sortRows(result.rows.covariates), 'covariate rows').toEqual(sortRows(expected.covariates));
          seen.covariates += expected.covariates.length;
          seen.covariatesRetracted += result.emitted.filter(
            ({ row }) => row.kind === 'covariate' && row.record.sign === -1,
          ).length;

          seen.retractions += result.emitted.filter((e) => e.row.record.sign === -1).length;
          seen.multiple += expected.exposures.filter((r) => r.multiple_exposure).length;
          seen.merges += result.counters.merged ?? 0;
          seen.duplicates += result.counters.duplicates_dropped ?? 0;
          seen.forwarded += result.counters.forwarded ?? 0;
          seen.attributed += expected.attributed.length;
          seen.valuesRetracted += result.emitted.filter(
            ({ row }) =>
              row.kind === 'exposure' &&
              row.record.sign === -1 &&
              Object.keys(row.record.dimensions).length > 0,
          ).length;
        }),
        { numRuns: 1000 },
      );
      // Guard against a generator that never reaches the hard cases.
      expect(seen.retractions, 'retractions').toBeGreaterThan(200);
      expect(seen.multiple, 'multiple-exposure units').toBeGreaterThan(100);
      expect(seen.merges, 'alias merges').toBeGreaterThan(200);
      expect(seen.duplicates, 'retries dropped').toBeGreaterThan(200);
      expect(seen.attributed, 'attributed rows').toBeGreaterThan(200);
      expect(seen.valuesRetracted, 'exposure rows retracted with their dimension values').toBeGreaterThan(
        100,
      );
      expect(seen.covariates, 'covariate rows').toBeGreaterThan(100);
      expect(
        seen.covariatesRetracted,
        'covariate rows retracted (moved first exposure, merge)',
      ).toBeGreaterThan(5); // seen 25 to 48 over 1,000 runs: a reachability guard, seeds vary per run
      if (delivery === 'any-order') expect(seen.forwarded, 'in-flight events forwarded').toBeGreaterThan(50);
    },
  );

  it.each(['per-key-fifo', 'any-order'] as const)(
    'sum to the batch rows with tasks per partition: unit messages for the sender’s partition processed in place (%s delivery)',
    (delivery) => {
      // Two partitions, so a unit's events arrive both in place (its own raw id, or an id that shares
      // its partition) and through the repartition queue (an aliased id on the other partition).
      const partitionOf = (key: string): number =>
        [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 2;
      const seen = { inPlace: 0, queued: 0, merges: 0, retractions: 0 };
      fc.assert(
        fc.property(arbScenario, ({ specs, retries, modes, schedule }) => {
          const events = buildEvents(specs, retries);
          const result = simulate(events, { ...optionsFor(modes, schedule), delivery, partitionOf });
          const expected = referenceRows(events, modeLookup(modes), dimensionsOf, lookbackOf);
          expect(result.violations, 'sign totals outside {0, 1}').toEqual([]);
          expect(sortRows(result.rows.exposures), 'exposure rows').toEqual(sortRows(expected.exposures));
          expect(sortRows(result.rows.attributed), 'attributed rows').toEqual(sortRows(expected.attributed));
          expect(sortRows(result.rows.covariates), 'covariate rows').toEqual(sortRows(expected.covariates));
          seen.inPlace += result.counters.in_place ?? 0;
          seen.queued += (result.counters.merged ?? 0) + (result.counters.forwarded ?? 0);
          seen.merges += result.counters.merged ?? 0;
          seen.retractions += result.emitted.filter((e) => e.row.record.sign === -1).length;
        }),
        { numRuns: 500 },
      );
      console.log(`per-partition tasks (${delivery}): ${JSON.stringify(seen)}`);
      // Guards far below what random seeds give: both paths and the hard cases are reached.
      expect(seen.inPlace, 'messages processed in place').toBeGreaterThan(1000);
      expect(seen.merges, 'alias merges').toBeGreaterThan(50);
      expect(seen.retractions, 'retractions').toBeGreaterThan(50);
    },
  );

  it('keep exposure rows exact and never touch an evicted event again, with evictions interleaved', () => {
    let evictedSeen = 0;
    fc.assert(
      fc.property(
        arbScenario,
        fc.array(fc.record({ afterStep: fc.nat({ max: 60 }), beforeMs: fc.integer({ min: 0, max: 7 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        ({ specs, retries, modes, schedule }, evictions) => {
          const events = buildEvents(specs, retries);
          const result = simulate(events, {
            ...optionsFor(modes, schedule),
            evictions,
            delivery: 'any-order',
          });
          const expected = referenceRows(events, modeLookup(modes), dimensionsOf);
          expect(result.violations, 'totals in {0, 1}; nothing emitted for evicted events').toEqual([]);
          expect(sortRows(result.rows.exposures), 'exposure rows unaffected by eviction').toEqual(
            sortRows(expected.exposures),
          );
          const kept = (rows: { event_id: string }[]) => rows.filter((r) => !result.evicted.has(r.event_id));
          expect(sortRows(kept(result.rows.attributed)), 'rows of tracks still held are exact').toEqual(
            sortRows(kept(expected.attributed)),
          );
          evictedSeen += result.evicted.size;
        },
      ),
      { numRuns: 300 },
    );
    expect(evictedSeen, 'evictions happened').toBeGreaterThan(50);
  });
});

describe('a CUPED catalogue change mid-stream', () => {
  it('equals the batch reference under the new lookback once every unit was refreshed (the sweep)', () => {
    let refreshed = 0;
    const before = (project: string): Record<string, number> => (project === 'p1' ? { buy: 2 } : {});
    const after = (project: string): Record<string, number> => (project === 'p1' ? { buy: 5 } : { view: 3 });
    fc.assert(
      fc.property(arbScenario, fc.nat({ max: 80 }), ({ specs, retries, modes, schedule }, afterStep) => {
        const events = buildEvents(specs, retries);
        const result = simulate(events, {
          ...optionsFor(modes, schedule),
          lookbackOf: before,
          lookbackChange: { afterStep, lookbackOf: after },
          delivery: 'any-order',
        });
        const expected = referenceRows(events, modeLookup(modes), dimensionsOf, after);
        expect(result.violations, 'sign totals outside {0, 1}').toEqual([]);
        expect(sortRows(result.rows.covariates), 'covariate rows').toEqual(sortRows(expected.covariates));
        expect(sortRows(result.rows.attributed), 'attributed rows untouched').toEqual(
          sortRows(expected.attributed),
        );
        refreshed += result.emitted.filter(
          // At the change: right after afterStep, or after the last step when the run ended first.
          ({ step, row }) =>
            row.kind === 'covariate' && (step === afterStep || step === Number.POSITIVE_INFINITY),
        ).length;
      }),
      { numRuns: 300 },
    );
    // A reachability guard, not a figure: fast-check draws new seeds each run (seen 40 to 90 here).
    expect(refreshed, 'the refresh emitted covariate rows').toBeGreaterThan(10);
  });
});

describe('identity and unit stages with chained and cyclic aliases', () => {
  // Any id may alias any other (chains, cycles, self-aliases): the stages diverge from the
  // one-step semantics here by design, but must still settle, keep every total in {0, 1}, and
  // hold every accepted track in exactly one live unit.
  const IDS = ['a1', 'a2', 'u1', 'u2'];
  const arbAny = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('exposure' as const),
        env: arbEnvelope,
        who: fc.record({ user: fc.constantFrom(null, ...IDS), anon: fc.constantFrom(...IDS) }),
        experiment: fc.constantFrom('e1', 'e2'),
        variation: fc.constantFrom('A', 'B'),
        decision: arbDecision,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('track' as const),
        env: arbEnvelope,
        who: fc.record({ user: fc.constantFrom(null, ...IDS), anon: fc.constantFrom(...IDS) }),
        event: fc.constant('buy'),
        value: fc.constant(1),
        sample: fc.constant(1),
        decision: arbDecision,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('alias' as const),
        env: arbEnvelope,
        anon: fc.constantFrom(...IDS),
        user: fc.constantFrom(...IDS),
      }),
    },
  ) as fc.Arbitrary<Spec>;

  it('settle without loss, duplication or a total outside {0, 1}', () => {
    let cycles = 0;
    fc.assert(
      fc.property(
        fc.array(arbAny, { maxLength: 24, size: 'max' }),
        fc.array(fc.nat({ max: 10_000 }), { maxLength: 400, size: 'max' }),
        (specs, schedule) => {
          const events = buildEvents(specs, []);
          const result = simulate(events, {
            pick: (step) => schedule[step] ?? 0,
            delivery: 'any-order',
            maxSteps: 5000,
          });
          expect(result.violations).toEqual([]);
          const held = [...result.unitStates.values()].flatMap((s) =>
            s.kind === 'live' ? s.content.tracks.map((t) => t.event_id) : [],
          );
          const tracks = events.filter((e) => e.body.kind === 'track').map((e) => e.event_id);
          expect(held.sort(), 'every track in exactly one live unit').toEqual(tracks.sort());
          cycles += result.counters.alias_cycle_broken ?? 0;
        },
      ),
      { numRuns: 400 },
    );
    expect(cycles, 'alias cycles were exercised').toBeGreaterThan(20);
  });
});
