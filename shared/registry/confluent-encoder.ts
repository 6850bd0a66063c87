import type avro from 'avsc';
import { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC_BYTE } from './confluent-avro-reader.ts';

/** Scratch space an encoder starts with; it doubles (and stays grown) for a larger record. */
const INITIAL_SCRATCH_BYTES = 4_096;

/**
 * A synchronous encoder of `type` into the Confluent wire format (magic byte, schema id, Avro body), the
 * hot path of the gateway (every ingest event) and the processor (every output row). avsc's toBuffer
 * allocates a zero-filled buffer of its own per record, outside Node's buffer pool, and framing it took a
 * second one: this encodes into one scratch buffer that already holds the header and copies the frame
 * out once, into a pooled buffer. Same bytes; bench/avro-encode.ts measures both.
 */
export function confluentEncoder(type: avro.Type, id: number): (value: unknown) => Buffer {
  let scratch = Buffer.allocUnsafe(INITIAL_SCRATCH_BYTES);
  const writeHeader = (into: Buffer): void => {
    into.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
    into.writeUInt32BE(id, 1);
  };
  writeHeader(scratch);
  return (value) => {
    // avsc answers a too-small buffer with a negative count of the bytes missing (after validating the
    // value: an invalid one throws either way).
    let end = type.encode(value, scratch, CONFLUENT_HEADER_BYTES) as unknown as number;
    if (end < 0) {
      const grown = Buffer.allocUnsafe(Math.max(2 * scratch.length, scratch.length - end));
      writeHeader(grown);
      scratch = grown;
      end = type.encode(value, scratch, CONFLUENT_HEADER_BYTES) as unknown as number;
    }
    // A copy: the scratch is overwritten by the next record.
    return Buffer.from(scratch.subarray(0, end));
  };
}
