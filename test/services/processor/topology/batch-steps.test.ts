import avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { readAvsc } from '../../../../shared/registry/avro-schemas.ts';
import type { AvroSchemaRegistry } from '../../../../shared/registry/schema-registry.ts';
import type { UnitState } from '../../../../services/processor/src/domain/attribution/unit-state.ts';
import type { IdentityState } from '../../../../services/processor/src/domain/identity/identity-state.ts';
import type { IngestEvent } from '../../../../services/processor/src/domain/ingest-event.ts';
import type { SignedRow } from '../../../../services/processor/src/domain/output-rows.ts';
import {
  deserializeUnitMessage,
  serializeUnitMessage,
} from '../../../../services/processor/src/domain/unit-message-codec.ts';
import type { UnitMessage } from '../../../../services/processor/src/domain/unit-message.ts';
import type { UnitEvent } from '../../../../services/processor/src/domain/unit-event.ts';
import {
  identityStoreCodec,
  unitStoreCodec,
} from '../../../../services/processor/src/topology/store-codecs.ts';
import { storeOf } from '../../../helpers/processor/stores.ts';
import { processIdentityBatch } from '../../../../services/processor/src/topology/identity-batch.ts';
import { processUnitBatch, unitSweepRule } from '../../../../services/processor/src/topology/unit-batch.ts';
import { BatchOutput } from '../../../../shared/streams/batch-output.ts';
import { EvictionSweep } from '../../../../shared/streams/stores/eviction-sweep.ts';
import { ConfluentAvroReader } from '../../../../services/processor/src/transport/avro-codecs.ts';
import { ingestValue } from '../../../helpers/processor/kafka-harness.ts';
import {
  exposure,
  ingestAlias,
  ingestExposure,
  ingestTrack,
  track,
} from '../../../helpers/processor/builders.ts';

const ingestType = avro.Type.forSchema(readAvsc('ingest-event') as avro.Schema);
// A registry stand-in that knows one id (the batch steps only call forId).
const fakeRegistry = {
  forId: async (id: number) => {
    if (id !== 7) throw Object.assign(new Error('not found'), { status: 404 });
    return { type: ingestType };
  },
} as unknown as AvroSchemaRegistry;

function framed(event: IngestEvent, id = 7): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, ingestType.toBuffer(ingestValue(event))]);
}

function record(offset: number, value: Buffer | string | null, key: string | null = null): KafkaMessage {
  return {
    key: key === null ? null : Buffer.from(key),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

describe('processIdentityBatch', () => {
  const deps = () => ({
    reader: new ConfluentAvroReader(fakeRegistry),
    unitsTopic: 'units',
    dimensionsOf: (project: string) => (project === 'p' ? ['country', 'plan'] : []),
    onDropped: () => undefined,
  });

  it('routes events to their unit on the repartition topic and drops a retried message_id', async () => {
    const store = storeOf<IdentityState>(identityStoreCodec);
    const x = ingestExposure({
      id: 'x',
      user: 'u',
      messageId: 'm1',
      properties: { country: 'DE', seats: 3 },
      context: { plan: 'pro', locale: 'de-DE' },
    });
    const out = await processIdentityBatch(
      store,
      [record(0, framed(x)), record(1, framed({ ...x, event_id: 'x2' }))],
      deps(),
    );
    const [units] = out.topicMessages();
    expect(units?.topic).toBe('units');
    expect(
      units?.messages.map((m) => m.key),
      'one message keyed by unit',
    ).toEqual(['p/u']);
    const message = deserializeUnitMessage(String(units?.messages[0]?.value));
    const routed = message.ok && message.value.type === 'event' ? message.value.event : undefined;
    expect(routed?.event_id).toBe('x');
    expect(
      routed?.kind === 'exposure' && routed.dimensions,
      "the project's declared dimensions, read from the Avro record's properties and context",
    ).toEqual({ country: 'DE', plan: 'pro' });
    expect(out.counters.get('duplicates_dropped'), 'the retry').toBe(1);
    expect(
      store.changes().map((c) => c.key),
      'the identity remembers m1',
    ).toEqual(['p/u']);
  });

  it('an alias sends the merge command and is remembered in the store', async () => {
    const store = storeOf<IdentityState>(identityStoreCodec);
    const out = await processIdentityBatch(
      store,
      [record(0, framed(ingestAlias({ id: 'al', anon: 'a', user: 'u' })))],
      deps(),
    );
    const value = out.topicMessages()[0]?.messages[0];
    expect(value?.key, 'to the anonymous unit').toBe('p/a');
    expect(deserializeUnitMessage(String(value?.value))).toEqual({
      ok: true,
      value: { type: 'merge', project: 'p', unit: 'a', into: 'u' },
    });
    expect(store.get('p/a')?.aliasTo).toBe('u');
  });

  it('drops unreadable records with a reason and counts them, without stopping the batch', async () => {
    const store = storeOf<IdentityState>(identityStoreCodec);
    const reasons: string[] = [];
    const t = ingestTrack({ id: 't', user: 'u' });
    const out = await processIdentityBatch(
      store,
      [record(0, Buffer.from('junk')), record(1, framed(t, 99)), record(2, framed(t))],
      { ...deps(), onDropped: (_offset, reason) => reasons.push(reason) },
    );
    expect(out.counters.get('undecodable_dropped')).toBe(2);
    expect(reasons).toEqual(['not Confluent-framed Avro', 'unknown schema id 99']);
    expect(out.sizeOf('units'), 'the good record still goes through').toBe(1);
  });

  it('keeps the received_at of every decoded event, duplicates included, for the freshness histogram', async () => {
    const store = storeOf<IdentityState>(identityStoreCodec);
    const x = ingestExposure({ id: 'x', user: 'u', messageId: 'm1', receivedAt: 5_000 });
    const out = await processIdentityBatch(
      store,
      [
        record(0, framed(x)),
        record(1, Buffer.from('junk')),
        record(2, framed({ ...x, event_id: 'x2', received_at: 6_000 })),
      ],
      deps(),
    );
    expect(out.receivedAt, 'the undecodable record has no received_at').toEqual([5_000, 6_000]);
  });
});

describe('processUnitBatch', () => {
  const encode = (row: object) => Buffer.from(JSON.stringify(row));
  const deps = {
    encoders: { exposure: encode, attributed: encode, covariate: encode },
    modeOf: () => 'cumulative' as const,
    topics: { units: 'units', exposures: 'exposures', attributed: 'attributed', covariates: 'covariates' },
  };
  const event = (unit: string, e: UnitEvent): UnitMessage => ({
    type: 'event',
    project: 'p',
    unit,
    event: e,
    via: [],
  });

  it('emits exposure and attributed rows keyed by unit, and counts retractions', () => {
    const store = storeOf<UnitState>(unitStoreCodec);
    const out = processUnitBatch(
      store,
      [
        record(0, serializeUnitMessage(event('u', track('t1', 2000)))),
        record(1, serializeUnitMessage(event('u', exposure('x1', 1500, 'A')))),
        // an earlier exposure: retracts the exposure row and re-asserts it with the new time
        record(2, serializeUnitMessage(event('u', exposure('x0', 1000, 'A')))),
      ],
      deps,
    );
    const rows = (topic: string) =>
      (out.topicMessages().find((t) => t.topic === topic)?.messages ?? []).map(
        (m) => JSON.parse(String(m.value)) as SignedRow['record'],
      );
    expect(
      rows('exposures').map((r) => [r.sign, 'first_exposure_at' in r ? r.first_exposure_at : null]),
    ).toEqual([
      [1, 1500],
      [-1, 1500],
      [1, 1000],
    ]);
    expect(
      rows('attributed').map((r) => r.sign),
      'the track counts once the exposure arrives',
    ).toEqual([1]);
    expect(out.counters.get('exposure_retracted')).toBe(1);
    expect(
      out.topicMessages().every((t) => t.messages.every((m) => m.key === 'p/u')),
      'keyed by unit',
    ).toBe(true);
  });

  it('emits covariate rows to the covariates topic for a project with CUPED, and none for the others', () => {
    const messages = [
      record(0, serializeUnitMessage(event('u', track('t0', 500)))),
      record(1, serializeUnitMessage(event('u', exposure('x1', 1500, 'A')))),
      record(2, serializeUnitMessage(event('u', exposure('x0', 1000, 'A')))),
    ];
    const withCuped = processUnitBatch(storeOf<UnitState>(unitStoreCodec), messages, {
      ...deps,
      covariatesOf: (project): Record<string, number> => (project === 'p' ? { buy: 10_000 } : {}),
    });
    const covariates = (withCuped.topicMessages().find((t) => t.topic === 'covariates')?.messages ?? []).map(
      (m) => JSON.parse(String(m.value)) as { sign: number; first_exposure_at: number; event_id: string },
    );
    expect(
      covariates.map((r) => [r.sign, r.event_id, r.first_exposure_at]),
      'asserted against 1500, then moved to the earlier first exposure',
    ).toEqual([
      [1, 't0', 1500],
      [-1, 't0', 1500],
      [1, 't0', 1000],
    ]);
    expect(withCuped.counters.get('covariate_retracted')).toBe(1);
    const without = processUnitBatch(storeOf<UnitState>(unitStoreCodec), messages, deps);
    expect(without.sizeOf('covariates')).toBe(0);
  });

  it('a merge forwards the content to the target unit on the repartition topic', () => {
    const store = storeOf<UnitState>(unitStoreCodec);
    const out = processUnitBatch(
      store,
      [
        record(0, serializeUnitMessage(event('a', exposure('x', 1000)))),
        record(1, serializeUnitMessage({ type: 'merge', project: 'p', unit: 'a', into: 'u' })),
      ],
      deps,
    );
    const forwards = out.topicMessages().find((t) => t.topic === 'units')?.messages ?? [];
    expect(forwards.map((m) => m.key)).toEqual(['p/u']);
    expect(store.get('p/a'), 'the merged unit keeps only its target').toEqual({
      kind: 'merged',
      mergedInto: 'u',
    });
  });

  it('drops a message of an unknown version with a reason', () => {
    const store = storeOf<UnitState>(unitStoreCodec);
    const reasons: string[] = [];
    const out = processUnitBatch(store, [record(0, '{"v":3,"state":{}}')], {
      ...deps,
      onDropped: (_o, r) => reasons.push(r),
    });
    expect(out.counters.get('undecodable_dropped')).toBe(1);
    expect(reasons[0]).toContain('unsupported version 3');
  });
});

describe('unitSweepRule (the unit store sweep: retention, then the current CUPED lookback)', () => {
  const encode = (row: object) => Buffer.from(JSON.stringify(row));
  const topics = {
    units: 'units',
    exposures: 'exposures',
    attributed: 'attributed',
    covariates: 'covariates',
  };

  it('re-derives the covariate rows of units that got no message after cuped was added, in the sweep', () => {
    const store = storeOf<UnitState>(unitStoreCodec);
    const event = (unit: string, e: UnitEvent): UnitMessage => ({
      type: 'event',
      project: 'p',
      unit,
      event: e,
      via: [],
    });
    // Processed before the catalogue had a CUPED metric: no covariate rows, no lookback stored.
    processUnitBatch(
      store,
      [
        record(0, serializeUnitMessage(event('quiet', track('pre', 900)))),
        record(1, serializeUnitMessage(event('quiet', exposure('x', 1000, 'A')))),
      ],
      {
        encoders: { exposure: encode, attributed: encode, covariate: encode },
        modeOf: () => 'cumulative',
        topics,
      },
    );
    store.commit();
    let lookback: Record<string, number> = { buy: 500 };
    const sweep = new EvictionSweep(
      store,
      unitSweepRule({
        retentionMs: 86_400_000,
        covariatesOf: () => lookback,
        encoders: { exposure: encode, attributed: encode, covariate: encode },
        topics,
      }),
      { intervalMs: 1, keysPerStep: 10 },
    );
    const out = new BatchOutput();
    sweep.step(2_000, out);
    const rows = (out.topicMessages().find((t) => t.topic === 'covariates')?.messages ?? []).map(
      (m) => JSON.parse(String(m.value)) as { sign: number; event_id: string; first_exposure_at: number },
    );
    expect(rows.map((r) => [r.sign, r.event_id, r.first_exposure_at])).toEqual([[1, 'pre', 1000]]);
    expect(store.get('p/quiet')).toMatchObject({ covariates: { buy: 500 } });
    store.commit();

    const again = new BatchOutput();
    sweep.step(4_000, again);
    expect(again.sizeOf('covariates'), 'nothing more while the lookback is unchanged').toBe(0);

    lookback = {};
    const removed = new BatchOutput();
    sweep.step(6_000, removed);
    expect(removed.counters.get('covariate_retracted'), 'cuped removed: the row is retracted').toBe(1);
  });
});
