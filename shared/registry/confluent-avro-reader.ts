/**
 * The one reader of Confluent-framed Avro (magic byte 0, 4-byte big-endian schema id, Avro body) that
 * every consumer uses: the processor's ingest stage, `liftstream tail`, the ClickHouse sink. Frame
 * parsing says precisely why a value is not a frame; writer schemas are looked up by id once and kept
 * for the life of the reader (one per consuming service, i.e. per process; the registry client caches
 * underneath too); decoding is synchronous, without a promise per record.
 *
 * What to do when the registry is down is the caller's policy: `load` and `prepare` throw, and the
 * processor retries the batch while the sink retries with backoff and heartbeats.
 */
import type avro from 'avsc';
import { causeChain } from '../errors.ts';
import type { AvroSchemaRegistry } from './schema-registry.ts';

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro binary body. */
export const CONFLUENT_MAGIC_BYTE = 0;
/** Magic byte and schema id: the smallest frame (an Avro body may be empty). */
export const CONFLUENT_HEADER_BYTES = 5;

/** Why a value is not a Confluent frame. */
export type FrameProblem = 'no-value' | 'too-short' | 'wrong-magic-byte';

export type ConfluentFrame =
  { ok: true; schemaId: number; body: Buffer } | { ok: false; problem: FrameProblem; detail: string };

/** Splits a record value into schema id and Avro body, or says precisely why it is not a frame. */
export function readConfluentFrame(value: Buffer | null): ConfluentFrame {
  if (value === null) return { ok: false, problem: 'no-value', detail: 'no value (a tombstone)' };
  if (value.length < CONFLUENT_HEADER_BYTES) {
    return {
      ok: false,
      problem: 'too-short',
      detail: `${value.length} bytes, shorter than the ${CONFLUENT_HEADER_BYTES}-byte Confluent header`,
    };
  }
  const magic = value.readUInt8(0);
  if (magic !== CONFLUENT_MAGIC_BYTE) {
    return {
      ok: false,
      problem: 'wrong-magic-byte',
      detail: `magic byte ${magic}, expected ${CONFLUENT_MAGIC_BYTE}`,
    };
  }
  return { ok: true, schemaId: value.readUInt32BE(1), body: value.subarray(CONFLUENT_HEADER_BYTES) };
}

/** The schema id of a Confluent frame, null when `value` is not one. */
export function schemaIdOf(value: Buffer | null): number | null {
  const frame = readConfluentFrame(value);
  return frame.ok ? frame.schemaId : null;
}

/** A registry 404 (an unknown schema id), wherever it sits in the cause chain. */
export function isSchemaNotFound(error: unknown): boolean {
  return causeChain(error).some((e) => (e as { status?: unknown }).status === 404);
}

/**
 * Why a record could not be read: a frame problem, a schema id the registry does not know (404), a
 * schema id not loaded yet (`prepare`/`load` was not called for it), or a body its writer schema cannot
 * decode.
 */
export type AvroReadProblem = FrameProblem | 'unknown-schema-id' | 'schema-not-loaded' | 'decode-failed';

/**
 * A decoded Confluent-framed Avro value, or why it could not be decoded: `problem` precisely, `reason`
 * in the words the processor (and `liftstream tail`) report, `detail` the precise wording.
 */
export type AvroRead =
  | { ok: true; value: unknown; schemaId: number }
  | { ok: false; reason: string; problem: AvroReadProblem; detail: string; schemaId?: number };

/** The schema registry as the reader needs it: writer schemas by id. */
export type SchemaSource = Pick<AvroSchemaRegistry, 'forId'>;

/**
 * Reads Confluent-framed Avro synchronously on the hot path: `prepare` fetches the writer schemas of a
 * batch once, then `read` decodes each record without a promise per record. A schema id the registry
 * does not know (404) is remembered as unreadable, so a stray record is dropped with a reason instead of
 * stalling its partition; a registry that is down is an exception (for the caller to retry).
 */
export class ConfluentAvroReader {
  private readonly types = new Map<number, avro.Type>();
  private readonly unknownIds = new Set<number>();

  constructor(private readonly registry: SchemaSource) {}

  /** Schema ids framed in `values` that are neither loaded nor known to be unknown, first seen first. */
  unloadedSchemaIds(values: Iterable<Buffer | null>): number[] {
    const missing = new Set<number>();
    for (const value of values) {
      const id = schemaIdOf(value);
      if (id !== null && !this.types.has(id) && !this.unknownIds.has(id)) missing.add(id);
    }
    return [...missing];
  }

  /**
   * Looks up one writer schema by id: 'loaded', or 'unknown' when the registry answers 404 (remembered:
   * never asked again). Throws when the registry fails otherwise; the next call asks again.
   */
  async load(id: number): Promise<'loaded' | 'unknown'> {
    if (this.types.has(id)) return 'loaded';
    if (this.unknownIds.has(id)) return 'unknown';
    try {
      this.types.set(id, (await this.registry.forId(id)).type);
      return 'loaded';
    } catch (error) {
      if (!isSchemaNotFound(error)) throw error;
      this.unknownIds.add(id);
      return 'unknown';
    }
  }

  /** Loads the writer schemas of `values` that are not cached yet; throws at the first registry failure. */
  async prepare(values: Iterable<Buffer | null>): Promise<void> {
    for (const id of this.unloadedSchemaIds(values)) await this.load(id);
  }

  /** Decodes one record whose schema `prepare` (or `load`) loaded. */
  read(value: Buffer | null): AvroRead {
    const frame = readConfluentFrame(value);
    if (!frame.ok) {
      return { ok: false, reason: 'not Confluent-framed Avro', problem: frame.problem, detail: frame.detail };
    }
    const schemaId = frame.schemaId;
    const type = this.types.get(schemaId);
    if (type === undefined) {
      const unknown = this.unknownIds.has(schemaId);
      return {
        ok: false,
        reason: `unknown schema id ${schemaId}`,
        problem: unknown ? 'unknown-schema-id' : 'schema-not-loaded',
        detail: unknown
          ? `schema id ${schemaId} unknown to the registry`
          : `schema id ${schemaId} not loaded from the registry yet`,
        schemaId,
      };
    }
    try {
      return { ok: true, value: type.fromBuffer(frame.body), schemaId };
    } catch (error) {
      const reason = `Avro decode failed: ${error instanceof Error ? error.message : String(error)}`;
      return { ok: false, reason, problem: 'decode-failed', detail: reason, schemaId };
    }
  }
}
