import type avro from 'avsc';
import type { TopicNames } from '../../../../shared/kafka/topics.ts';
import { readAvsc } from '../../../../shared/registry/avro-schemas.ts';
import type { AvroSchemaRegistry } from '../../../../shared/registry/schema-registry.ts';
import type {
  AttributedEventRecord,
  CovariateEventRecord,
  UnitExposureRecord,
} from '../domain/output-rows.ts';

/** A decoded Confluent-framed Avro value, or why it could not be decoded. */
export type AvroRead = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Reads Confluent-framed Avro (magic 0, 4-byte schema id, body) synchronously on the hot path:
 * `prepare` fetches the writer schemas of a batch once (the registry client caches them), then
 * `read` decodes each record without a promise per record. A schema id the registry does not
 * know (404) is remembered as unreadable, so a stray record is dropped with a reason instead of
 * stalling its partition; a registry that is down is an exception (retried with the batch).
 */
export class ConfluentAvroReader {
  private readonly types = new Map<number, avro.Type>();
  private readonly unknownIds = new Set<number>();

  constructor(private readonly registry: AvroSchemaRegistry) {}

  /** Loads the writer schemas of `values` that are not cached yet. */
  async prepare(values: ReadonlyArray<Buffer | null>): Promise<void> {
    const missing = new Set<number>();
    for (const value of values) {
      const id = schemaIdOf(value);
      if (id !== null && !this.types.has(id) && !this.unknownIds.has(id)) missing.add(id);
    }
    for (const id of missing) {
      try {
        this.types.set(id, (await this.registry.forId(id)).type);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.unknownIds.add(id);
      }
    }
  }

  /** Decodes one record whose schema `prepare` loaded. */
  read(value: Buffer | null): AvroRead {
    const id = schemaIdOf(value);
    if (value === null || id === null) return { ok: false, reason: 'not Confluent-framed Avro' };
    const type = this.types.get(id);
    if (type === undefined) return { ok: false, reason: `unknown schema id ${id}` };
    try {
      return { ok: true, value: type.fromBuffer(value.subarray(5)) };
    } catch (error) {
      return { ok: false, reason: `Avro decode failed: ${(error as Error).message}` };
    }
  }
}

function schemaIdOf(value: Buffer | null): number | null {
  if (value === null || value.length < 5 || value.readUInt8(0) !== 0) return null;
  return value.readUInt32BE(1);
}

function isNotFound(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { status?: unknown }).status === 404) return true;
  }
  return false;
}

/** Encoders of the public output topics, with their schemas registered. */
export interface OutputEncoders {
  exposure(record: UnitExposureRecord): Buffer;
  attributed(record: AttributedEventRecord): Buffer;
  covariate(record: CovariateEventRecord): Buffer;
}

/**
 * Registers `unit-exposure`, `attributed-event` and `covariate-event` under the output topics' subjects
 * (TopicNameStrategy, `<topic>-value`) and returns their synchronous encoders. Idempotent.
 */
export async function registerOutputSchemas(
  registry: AvroSchemaRegistry,
  topics: Pick<TopicNames, 'exposures' | 'attributed' | 'covariates'>,
): Promise<OutputEncoders> {
  const exposure = await registry.register(`${topics.exposures}-value`, readAvsc('unit-exposure'));
  const attributed = await registry.register(`${topics.attributed}-value`, readAvsc('attributed-event'));
  const covariate = await registry.register(`${topics.covariates}-value`, readAvsc('covariate-event'));
  return {
    exposure: (r) => exposure.encode(r),
    attributed: (r) => attributed.encode(r),
    covariate: (r) => covariate.encode(r),
  };
}
