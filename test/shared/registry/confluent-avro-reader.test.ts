import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { LiftstreamError } from '../../../shared/errors.ts';
import {
  ConfluentAvroReader,
  isSchemaNotFound,
  readConfluentFrame,
  schemaIdOf,
} from '../../../shared/registry/confluent-avro-reader.ts';
import type { SchemaSource } from '../../../shared/registry/confluent-avro-reader.ts';
import type { RegisteredAvro } from '../../../shared/registry/schema-registry.ts';

const type = avro.Type.forSchema({
  type: 'record',
  name: 'Greeting',
  fields: [
    { name: 'text', type: 'string' },
    { name: 'n', type: 'int' },
  ],
});

function framed(value: unknown, id = 7, magic = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(magic, 0);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

/** The registry as the reader sees it: id 7 known, 404 for the rest; `failures` makes it fail first. */
function fakeRegistry(failures = 0) {
  const calls: number[] = [];
  let failing = failures;
  const registry: SchemaSource = {
    forId: async (id: number) => {
      calls.push(id);
      if (failing > 0) {
        failing -= 1;
        throw new LiftstreamError('REGISTRY_UNAVAILABLE', 'schema registry failed: ECONNREFUSED', {
          retriable: true,
        });
      }
      if (id !== 7) {
        // As the registry client reports it: the 404 wrapped in a LiftstreamError.
        throw new LiftstreamError(
          'REGISTRY_UNAVAILABLE',
          `schema registry failed while fetching schema ${id}`,
          {
            cause: Object.assign(new Error('Schema not found'), { status: 404 }),
          },
        );
      }
      return { id, subject: `id:${id}`, type, encode: () => Buffer.alloc(0) } as RegisteredAvro;
    },
  };
  return { registry, calls };
}

describe('readConfluentFrame', () => {
  it('splits a frame into schema id and Avro body', () => {
    const value = framed({ text: 'hi', n: 1 }, 0x01020304);
    const frame = readConfluentFrame(value);
    expect(frame.ok && frame.schemaId).toBe(0x01020304);
    expect(frame.ok && type.fromBuffer(frame.body)).toEqual({ text: 'hi', n: 1 });
    expect(schemaIdOf(value)).toBe(0x01020304);
  });

  it('says precisely why a value is not a frame', () => {
    expect(readConfluentFrame(null)).toEqual({
      ok: false,
      problem: 'no-value',
      detail: 'no value (a tombstone)',
    });
    expect(readConfluentFrame(Buffer.from([0, 0, 0, 7]))).toEqual({
      ok: false,
      problem: 'too-short',
      detail: '4 bytes, shorter than the 5-byte Confluent header',
    });
    expect(readConfluentFrame(Buffer.from('{"not":"avro"}'))).toEqual({
      ok: false,
      problem: 'wrong-magic-byte',
      detail: 'magic byte 123, expected 0',
    });
    expect(schemaIdOf(Buffer.from('junk')), 'too short and not magic byte 0').toBeNull();
    expect(schemaIdOf(null)).toBeNull();
  });

  it('takes an empty Avro body as a frame (the header is the minimum)', () => {
    const frame = readConfluentFrame(Buffer.from([0, 0, 0, 0, 9]));
    expect(frame.ok && frame.schemaId).toBe(9);
    expect(frame.ok && frame.body.length).toBe(0);
  });
});

describe('isSchemaNotFound', () => {
  it('finds a 404 anywhere in the cause chain, and nothing else', () => {
    const notFound = Object.assign(new Error('Schema not found'), { status: 404 });
    expect(isSchemaNotFound(notFound)).toBe(true);
    expect(isSchemaNotFound(new Error('outer', { cause: new Error('middle', { cause: notFound }) }))).toBe(
      true,
    );
    expect(isSchemaNotFound(new Error('outer', { cause: { status: 404 } })), 'a plain object cause').toBe(
      true,
    );
    expect(isSchemaNotFound(Object.assign(new Error('down'), { status: 503 }))).toBe(false);
    expect(isSchemaNotFound('404')).toBe(false);
    const loop = new Error('loop') as Error & { cause?: unknown };
    loop.cause = loop;
    expect(isSchemaNotFound(loop), 'a cause cycle ends the walk').toBe(false);
  });
});

describe('ConfluentAvroReader', () => {
  it('fetches each writer schema once, then decodes synchronously', async () => {
    const { registry, calls } = fakeRegistry();
    const reader = new ConfluentAvroReader(registry);
    const values = [framed({ text: 'a', n: 1 }), framed({ text: 'b', n: 2 }), null];
    await reader.prepare(values);
    await reader.prepare(values);
    expect(calls, 'one lookup per schema id per reader').toEqual([7]);
    expect(values.map((v) => reader.read(v))).toEqual([
      { ok: true, value: { text: 'a', n: 1 }, schemaId: 7 },
      { ok: true, value: { text: 'b', n: 2 }, schemaId: 7 },
      {
        ok: false,
        reason: 'not Confluent-framed Avro',
        problem: 'no-value',
        detail: 'no value (a tombstone)',
      },
    ]);
  });

  it('remembers an id the registry does not know (404) and reads its records as unreadable', async () => {
    const { registry, calls } = fakeRegistry();
    const reader = new ConfluentAvroReader(registry);
    const stray = framed({ text: 'x', n: 0 }, 99);
    await reader.prepare([stray]);
    await reader.prepare([stray]);
    expect(await reader.load(99)).toBe('unknown');
    expect(calls, 'the 404 is not asked again').toEqual([99]);
    expect(reader.unloadedSchemaIds([stray])).toEqual([]);
    expect(reader.read(stray)).toEqual({
      ok: false,
      reason: 'unknown schema id 99',
      problem: 'unknown-schema-id',
      detail: 'schema id 99 unknown to the registry',
      schemaId: 99,
    });
  });

  it('throws while the registry is down, and asks again on the next call', async () => {
    const { registry, calls } = fakeRegistry(2);
    const reader = new ConfluentAvroReader(registry);
    const value = framed({ text: 'a', n: 1 });
    await expect(reader.prepare([value])).rejects.toThrow('ECONNREFUSED');
    await expect(reader.load(7)).rejects.toThrow('ECONNREFUSED');
    expect(reader.read(value)).toMatchObject({
      ok: false,
      reason: 'unknown schema id 7',
      problem: 'schema-not-loaded',
    });
    expect(reader.unloadedSchemaIds([value]), 'still to load').toEqual([7]);
    expect(await reader.load(7)).toBe('loaded');
    expect(calls).toEqual([7, 7, 7]);
    expect(reader.read(value)).toEqual({ ok: true, value: { text: 'a', n: 1 }, schemaId: 7 });
  });

  it('lists the ids still to load, each once, first seen first, skipping what is not a frame', () => {
    const { registry } = fakeRegistry();
    const reader = new ConfluentAvroReader(registry);
    expect(
      reader.unloadedSchemaIds([
        framed({ text: 'a', n: 1 }, 12),
        Buffer.from('junk'),
        framed({ text: 'a', n: 1 }, 7),
        framed({ text: 'a', n: 1 }, 12, 1),
        framed({ text: 'b', n: 2 }, 12),
        null,
      ]),
    ).toEqual([12, 7]);
  });

  it('reads frame problems and undecodable bodies as unreadable, with a reason', async () => {
    const { registry } = fakeRegistry();
    const reader = new ConfluentAvroReader(registry);
    await reader.prepare([framed({ text: 'a', n: 1 })]);
    expect(reader.read(Buffer.from('junk'))).toMatchObject({
      ok: false,
      reason: 'not Confluent-framed Avro',
      problem: 'too-short',
    });
    expect(reader.read(framed({ text: 'a', n: 1 }, 7, 1))).toEqual({
      ok: false,
      reason: 'not Confluent-framed Avro',
      problem: 'wrong-magic-byte',
      detail: 'magic byte 1, expected 0',
    });
    const truncated = framed({ text: 'hello', n: 1 }).subarray(0, 8);
    const read = reader.read(truncated);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problem).toBe('decode-failed');
    expect(!read.ok && read.reason).toMatch(/^Avro decode failed: /);
    expect(!read.ok && read.schemaId).toBe(7);
  });
});
