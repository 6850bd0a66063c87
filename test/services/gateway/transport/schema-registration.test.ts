import avro from 'avsc';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RegisteredAvro } from '../../../../shared/registry/schema-registry.ts';
import { SchemaRegistration } from '../../../../services/gateway/src/transport/schema-registration.ts';

const silent = pino({ level: 'silent' });
const registered = {
  subject: 's-value',
  id: 7,
  type: avro.Type.forSchema('string'),
  encode: () => Buffer.alloc(0),
} as RegisteredAvro;

/** A registrar that fails `failures` times, then succeeds; counts calls. */
function flakyRegistrar(failures: number) {
  const calls = { n: 0 };
  return {
    calls,
    registrar: {
      register: async () => {
        calls.n++;
        if (calls.n <= failures) throw new Error(`registry down (call ${calls.n})`);
        return registered;
      },
      ping: async () => false,
    },
  };
}

describe('SchemaRegistration', () => {
  it('is pending with the last error until the registry answers, then registered with the id', async () => {
    const { registrar, calls } = flakyRegistrar(2);
    const reg = new SchemaRegistration({
      registrar,
      subject: 's-value',
      schema: {},
      logger: silent,
      initialBackoffMs: 1,
      maxBackoffMs: 5,
    });
    expect(reg.current(), 'nothing before start').toBeUndefined();
    reg.start();
    const result = await reg.whenRegistered();
    expect(result.id).toBe(7);
    expect(calls.n, 'retried after each failure').toBe(3);
    expect(reg.state()).toEqual({ status: 'registered', subject: 's-value', id: 7 });
    expect(reg.current()).toBe(registered);
    expect(reg.encoder()?.schemaId, 'an encoder for the registered id').toBe(7);
  });

  it('reports attempts and the error while pending', async () => {
    const { registrar } = flakyRegistrar(Number.POSITIVE_INFINITY);
    const reg = new SchemaRegistration({
      registrar,
      subject: 's-value',
      schema: {},
      logger: silent,
      initialBackoffMs: 10_000,
    });
    reg.start();
    await new Promise((r) => setTimeout(r, 5));
    reg.stop();
    expect(reg.state()).toEqual({
      status: 'pending',
      subject: 's-value',
      attempts: 1,
      lastError: 'registry down (call 1)',
    });
  });

  it('never calls the registry again once registered', async () => {
    const { registrar, calls } = flakyRegistrar(0);
    const reg = new SchemaRegistration({ registrar, subject: 's-value', schema: {}, logger: silent });
    reg.start();
    await reg.whenRegistered();
    reg.start();
    await new Promise((r) => setTimeout(r, 5));
    expect(calls.n).toBe(1);
  });
});
