import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { describe, expect, inject, it } from 'vitest';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { confluentDecode } from '../../helpers/confluent-deserializer.ts';

const registryUrl = inject('registryUrl');

/** avsc's in-memory form: the record union is wrapped by its full name, simple unions are plain values. */
const sampleTrack = {
  event_id: randomUUID(),
  project: 'demo',
  received_at: 1_763_000_000_000,
  timestamp: 1_763_000_000_000,
  message_id: 'm-1',
  user_id: 'user-ü-🚀',
  anonymous_id: null,
  body: {
    'io.liftstream.ingest.Track': {
      event: 'purchase',
      value: 49.99,
      properties: { plan: 'pro', seats: 3, trial: false },
      decision_id: null,
      sample: 0.5,
    },
  },
  context: { user_agent: 'Mozilla/5.0' },
};

describe('schema registry (real registry, Confluent API)', () => {
  it('registers a new subject from several processes at once (processors starting together)', async () => {
    // Each client first finds no compatibility rule and creates one; the registry refuses all but the
    // first (409): seen taking a second processor down at start before the retry.
    const subject = `test-${randomUUID()}-value`;
    const schema = readAvsc('covariate-event');
    const registered = await Promise.all(
      Array.from({ length: 4 }, () => new AvroSchemaRegistry(registryUrl).register(subject, schema)),
    );
    expect(new Set(registered.map((r) => r.id)).size, 'one schema id for all').toBe(1);
  });

  it('registers the ingest schema from schemas/ and round-trips a record through it', async () => {
    const registry = new AvroSchemaRegistry(registryUrl);
    const subject = `test-${randomUUID()}-value`;
    const registered = await registry.register(subject, readAvsc('ingest-event'));
    expect(registered.id, 'registry returns a positive schema id').toBeGreaterThan(0);

    const wire = registered.encode(sampleTrack);
    expect(wire.readUInt8(0), 'magic byte').toBe(0);
    expect(wire.readUInt32BE(1), 'schema id in the header').toBe(registered.id);

    const decoded = await registry.decode<Record<string, unknown>>(wire);
    expect(decoded['user_id']).toBe('user-ü-🚀');
    expect(decoded, 'every field survives the round trip').toEqual(sampleTrack);
  });

  it('registering the same schema twice returns the same id (idempotent start-up)', async () => {
    const registry = new AvroSchemaRegistry(registryUrl);
    const subject = `test-${randomUUID()}-value`;
    const a = await registry.register(subject, readAvsc('attributed-event'));
    const b = await registry.register(subject, readAvsc('attributed-event'));
    expect(b.id).toBe(a.id);
  });

  it('records it writes are readable by a plain Confluent-style deserializer', async () => {
    const registry = new AvroSchemaRegistry(registryUrl);
    const registered = await registry.register(`test-${randomUUID()}-value`, readAvsc('unit-exposure'));
    const row = {
      project: 'p',
      experiment: 'checkout',
      unit: 'u1',
      variation: 'treatment',
      first_exposure_at: 1_763_000_000_000,
      multiple_exposure: false,
      dimensions: { country: 'DE' },
      sign: -1,
    };
    const { id, value } = await confluentDecode(registryUrl, registered.encode(row));
    expect(id).toBe(registered.id);
    expect(value).toEqual(row);
  });

  it('adding an optional field is BACKWARD compatible and old readers still decode new records', async () => {
    const registry = new AvroSchemaRegistry(registryUrl);
    const subject = `test-${randomUUID()}-value`;
    const v1 = readAvsc('unit-exposure');
    const fields = v1['fields'] as object[];
    const v2 = { ...v1, fields: [...fields, { name: 'segment', type: ['null', 'string'], default: null }] };
    const old = await registry.register(subject, v1);
    const next = await registry.register(subject, v2);
    expect(next.id, 'a new version gets a new id').not.toBe(old.id);

    const row = {
      project: 'p',
      experiment: 'e',
      unit: 'u',
      variation: 'control',
      first_exposure_at: 1,
      multiple_exposure: false,
      dimensions: {},
      sign: 1,
    };
    const wire = next.encode({ ...row, segment: 'mobile' });
    // An old consumer reads with its own (v1) schema, resolving from the writer's (v2).
    const writer = (await registry.forId(next.id)).type;
    const reader = avro.Type.forSchema(v1 as avro.Schema);
    const resolved = reader.createResolver(writer);
    expect(reader.fromBuffer(wire.subarray(5), resolved)).toEqual(row);
  });

  it('refuses an incompatible change (a new required field) with a clear error', async () => {
    const registry = new AvroSchemaRegistry(registryUrl);
    const subject = `test-${randomUUID()}-value`;
    const v1 = readAvsc('unit-exposure');
    await registry.register(subject, v1);
    const v2 = { ...v1, fields: [...(v1['fields'] as object[]), { name: 'required_new', type: 'string' }] };
    await expect(registry.register(subject, v2)).rejects.toMatchObject({ code: 'REGISTRY_REJECTED' });
  });
});
