import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { TimeoutMiddleware } from 'mappersmith/middleware/timeout';
import { LiftstreamError } from '../errors.ts';
import { confluentEncoder } from './confluent-encoder.ts';

export interface RegisteredAvro {
  subject: string;
  id: number;
  type: avro.Type;
  /** Synchronous encoder into the Confluent wire format (hot path: no promise per record). */
  encode(value: unknown): Buffer;
}

type RegistryMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

/**
 * How long one registry request may take: one that outlasts it fails as REGISTRY_UNAVAILABLE (retriable for
 * the caller; the client does not retry it). As the direct registration's 10 s: generous for a registry
 * warming up on a busy host.
 */
export const REGISTRY_REQUEST_TIMEOUT_MS = 10_000;

/** Registrations tried when the registry lets a request time out (see `register`). */
const REGISTER_ATTEMPTS = 3;

/**
 * Speaks only the Confluent REST API and wire format, so Confluent's registry, Karapace, Redpanda and
 * Apicurio's ccompat API all work. Registration is idempotent: registering an identical schema returns
 * its existing id.
 */
export class AvroSchemaRegistry {
  readonly client: SchemaRegistry;

  constructor(
    readonly url: string,
    opts: { timeoutMs?: number; requestTimeoutMs?: number } = {},
  ) {
    this.client = new SchemaRegistry({
      host: url,
      clientId: 'liftstream',
      // Bounded: a registry that is down surfaces as REGISTRY_UNAVAILABLE within seconds, never a hang.
      retry: {
        retries: 3,
        initialRetryTimeInSecs: 0.1,
        maxRetryTimeInSecs: (opts.timeoutMs ?? 3_000) / 1000,
      },
      // The retries bound refused and failed requests; the timeout bounds one that a registry accepts and
      // never answers (the client sets no timeout of its own, so such a request waited forever).
      middlewares: [
        // mappersmith declares its types twice (ESM and CommonJS builds); the registry client names the
        // CommonJS ones. The middleware is the same plain function either way.
        TimeoutMiddleware(
          opts.requestTimeoutMs ?? REGISTRY_REQUEST_TIMEOUT_MS,
        ) as unknown as RegistryMiddleware,
      ],
    });
  }

  /** Registers `schema` under `subject` (TopicNameStrategy: `<topic>-value`) with BACKWARD compatibility. */
  async register(subject: string, schema: Record<string, unknown>): Promise<RegisteredAvro> {
    // Registering is idempotent (an identical schema gets its existing id), so a request the registry
    // let time out is asked again. Seen in CI: a processor's start stopped for good right after creating its
    // topics, where it registers its output schemas (the local Apicurio, fresh subjects).
    for (let attempt = 1; ; attempt++) {
      try {
        return this.forId(await this.registerOnce(subject, schema), subject);
      } catch (err) {
        if (attempt >= REGISTER_ATTEMPTS || !isRequestTimeout(err)) throw err;
      }
    }
  }

  private async registerOnce(subject: string, schema: Record<string, unknown>): Promise<number> {
    const attempt = () =>
      this.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      );
    try {
      // Two processes starting together both find the subject without a compatibility rule and
      // both create it: the registry refuses the second (409 on PUT /config). Once more then finds it.
      const { id } = await attempt().catch((err: unknown) => {
        if (isConcurrentConfigCreate(err)) return attempt();
        throw err;
      });
      return id;
    } catch (err) {
      if (!isCompatibilityConfigMismatch(err)) throw wrap(err, `registering ${subject}`);
      // Some registries answer GET /config/{subject} with a level other than the client's default
      // (Apicurio #1097/#5337); the client then refuses before registering. Register with the plain
      // Confluent call instead: POST /subjects/{subject}/versions.
      return this.registerDirect(subject, schema);
    }
  }

  /** The avsc type of a registered id (fetched once, then cached by the client). */
  async forId(id: number, subject = `id:${id}`): Promise<RegisteredAvro> {
    const type = (await this.client.getSchema(id).catch((err: unknown) => {
      throw wrap(err, `fetching schema ${id}`);
    })) as unknown as avro.Type;
    return { subject, id, type, encode: confluentEncoder(type, id) };
  }

  /** Decodes any Confluent-framed Avro record, fetching (and caching) its writer schema by id. */
  async decode<T = unknown>(buffer: Buffer): Promise<T> {
    return (await this.client.decode(buffer)) as T;
  }

  async ping(timeoutMs = 2_000): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok;
    } catch {
      return false;
    }
  }

  private async registerDirect(subject: string, schema: Record<string, unknown>): Promise<number> {
    const res = await fetch(`${this.url}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
      signal: AbortSignal.timeout(10_000),
    }).catch((err: unknown) => {
      throw wrap(err, `registering ${subject}`);
    });
    const body = (await res.json().catch(() => ({}))) as { id?: number; message?: string };
    if (!res.ok || typeof body.id !== 'number') {
      throw new LiftstreamError(
        'REGISTRY_REJECTED',
        `registry refused ${subject}: ${res.status} ${body.message ?? ''}`,
      );
    }
    return body.id;
  }
}

/** A registry request that outlasted its timeout (mappersmith's or an AbortSignal's), however wrapped. */
export function isRequestTimeout(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === 'TimeoutError' || /\bTimeout \(\d+ ?ms\)/.test(e.message)) return true;
  }
  return false;
}

function isConcurrentConfigCreate(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { status, url } = err as { status?: unknown; url?: unknown };
  return status === 409 && typeof url === 'string' && url.includes('/config/');
}

function isCompatibilityConfigMismatch(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConfluentSchemaRegistryCompatibilityError';
}

function wrap(err: unknown, what: string): LiftstreamError {
  if (err instanceof LiftstreamError) return err;
  const status =
    typeof err === 'object' && err !== null && 'status' in err
      ? (err as { status: unknown }).status
      : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (status === 409 || status === 422) {
    return new LiftstreamError('REGISTRY_REJECTED', `schema registry refused ${what}: ${message}`, {
      cause: err,
    });
  }
  return new LiftstreamError('REGISTRY_UNAVAILABLE', `schema registry failed while ${what}: ${message}`, {
    cause: err,
    retriable: true,
  });
}
