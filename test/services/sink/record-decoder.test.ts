import avro from 'avsc';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LiftstreamError } from '../../../shared/errors.ts';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import type { AvroSchemaRegistry, RegisteredAvro } from '../../../shared/registry/schema-registry.ts';
import { RecordDecoder } from '../../../services/sink/src/record-decoder.ts';
import type { FetchedRecord, SinkContext } from '../../../services/sink/src/sink-context.ts';
import { createSinkMetrics } from '../../../services/sink/src/sink-metrics.ts';

const exposureType = avro.Type.forSchema(readAvsc('unit-exposure') as avro.Schema);
const exposure = {
  project: 'shop',
  experiment: 'checkout',
  unit: 'u-1',
  variation: 'treatment',
  first_exposure_at: Date.UTC(2026, 0, 31, 12, 30, 5, 7),
  multiple_exposure: false,
  dimensions: { country: 'DE' },
  sign: 1,
};

function framed(value: unknown, id = 7): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, exposureType.toBuffer(value)]);
}

function record(offset: number, value: Buffer | null): FetchedRecord {
  return { offset, value, timestamp: 0 };
}

/**
 * The parts of a SinkContext the decoder uses, around a registry that knows id 7 (404 for others) and
 * fails `failures` times first.
 */
function harness(failures = 0) {
  const lookups: number[] = [];
  let failing = failures;
  const registry = {
    forId: async (id: number) => {
      lookups.push(id);
      if (failing > 0) {
        failing -= 1;
        throw new LiftstreamError(
          'REGISTRY_UNAVAILABLE',
          'schema registry failed while fetching: ECONNREFUSED',
          {
            retriable: true,
          },
        );
      }
      if (id !== 7) {
        throw new LiftstreamError(
          'REGISTRY_UNAVAILABLE',
          `schema registry failed while fetching schema ${id}`,
          {
            cause: Object.assign(new Error('Schema not found'), { status: 404 }),
          },
        );
      }
      return { id, subject: `id:${id}`, type: exposureType, encode: () => Buffer.alloc(0) } as RegisteredAvro;
    },
  } as unknown as AvroSchemaRegistry;
  const warnings: { context: Record<string, unknown>; msg: string }[] = [];
  const errors: string[] = [];
  const metrics = new Registry();
  const ctx = {
    deps: { registry },
    config: { retry: { initialMs: 1, maxMs: 2 } },
    skipped: { alreadyStored: 0, invalid: 0 },
    metrics: createSinkMetrics(metrics),
    logger: { warn: (context: Record<string, unknown>, msg: string) => void warnings.push({ context, msg }) },
    noteError: (err: unknown) => void errors.push(err instanceof Error ? err.message : String(err)),
  } as unknown as SinkContext;
  const skippedMetric = async () =>
    (await metrics.getSingleMetric('liftstream_sink_records_skipped_total')?.get())?.values ?? [];
  return { decoder: new RecordDecoder(ctx), ctx, lookups, warnings, errors, skippedMetric };
}

const heartbeat = async () => undefined;
const running = () => true;

describe('RecordDecoder', () => {
  it('decodes Confluent-framed Avro into rows, looking each writer schema up once', async () => {
    const h = harness();
    const rows = await h.decoder.decode(
      'exposures',
      3,
      [record(10, framed(exposure)), record(11, framed({ ...exposure, unit: 'u-2' }))],
      heartbeat,
      running,
    );
    expect(rows?.map((r) => [(r as { unit: string }).unit, r.src_partition, r.src_offset])).toEqual([
      ['u-1', 3, 10],
      ['u-2', 3, 11],
    ]);
    await h.decoder.decode('exposures', 3, [record(12, framed(exposure))], heartbeat, running);
    expect(h.lookups, 'the schema is cached').toEqual([7]);
    expect(h.ctx.skipped.invalid).toBe(0);
  });

  it('skips, logs and counts records it cannot read, with their reasons, and keeps the rest', async () => {
    const h = harness();
    const rows = await h.decoder.decode(
      'exposures',
      0,
      [
        record(1, Buffer.from('{"not":"avro"}')),
        record(2, null),
        record(3, framed(exposure, 99)),
        record(4, framed(exposure).subarray(0, 9)),
        record(5, framed({ ...exposure, sign: 0 })),
        record(6, framed(exposure)),
      ],
      heartbeat,
      running,
    );
    expect(
      rows?.map((r) => r.src_offset),
      'the good record still goes in',
    ).toEqual([6]);
    expect(h.ctx.skipped.invalid).toBe(5);
    const reasons = h.warnings.map((w) => w.context.reason);
    expect(reasons.slice(0, 3)).toEqual([
      'not Confluent-framed Avro',
      'not Confluent-framed Avro',
      'schema id 99 unknown to the registry',
    ]);
    expect(String(reasons[3])).toMatch(/^Avro decode failed: /);
    expect(h.warnings.every((w) => w.msg === 'invalid record skipped')).toBe(true);
    expect(h.warnings[2]?.context).toEqual({
      table: 'exposures',
      partition: 0,
      offset: 3,
      reason: 'schema id 99 unknown to the registry',
    });
    expect(h.errors[2]).toBe('invalid record exposures/0@3: schema id 99 unknown to the registry');
    expect(await h.skippedMetric()).toEqual([
      { labels: { table: 'exposures', reason: 'invalid' }, value: 5 },
    ]);
    await h.decoder.decode('exposures', 0, [record(7, framed(exposure, 99))], heartbeat, running);
    expect(h.lookups, 'an id the registry does not know is not asked again').toEqual([99, 7]);
  });

  it('retries a registry that does not answer with backoff, heartbeating, then decodes', async () => {
    const h = harness(2);
    let beats = 0;
    const rows = await h.decoder.decode(
      'exposures',
      0,
      [record(1, framed(exposure))],
      async () => void (beats += 1),
      running,
    );
    expect(rows?.length).toBe(1);
    expect(h.lookups).toEqual([7, 7, 7]);
    const retries = h.warnings.filter((w) => w.msg === 'schema registry failed; retrying');
    expect(retries.map((w) => [w.context.schemaId, w.context.err])).toEqual([
      [7, 'schema registry failed while fetching: ECONNREFUSED'],
      [7, 'schema registry failed while fetching: ECONNREFUSED'],
    ]);
    expect(retries.every((w) => typeof w.context.retryInMs === 'number')).toBe(true);
    expect(h.errors, 'each failure is the last error meanwhile').toHaveLength(2);
    expect(beats, 'heartbeats while waiting').toBeGreaterThan(0);
    expect(h.ctx.skipped.invalid, 'nothing is invalid because the registry was down').toBe(0);
  });

  it('gives up (null) when the sink stops while the registry is down', async () => {
    const h = harness(Number.POSITIVE_INFINITY);
    let stopped = false;
    const rows = await h.decoder.decode(
      'exposures',
      0,
      [record(1, framed(exposure))],
      async () => void (stopped = true),
      () => !stopped,
    );
    expect(rows).toBeNull();
    expect(h.ctx.skipped.invalid).toBe(0);
  });
});
