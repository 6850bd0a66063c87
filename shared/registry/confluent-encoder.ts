import type avro from 'avsc';
import { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC_BYTE } from './confluent-avro-reader.ts';

/** Scratch space an encoder starts with; it doubles (and stays grown) for a larger record. */
const INITIAL_SCRATCH_BYTES = 4_096;

/**
 * A synchronous encoder of `type` into the Confluent wire format (magic byte, schema id, Avro body), one
 * record at a time: RegisteredAvro.encode, the processor's encoder of every output row. (The gateway
 * encodes a request's records at once with its ConfluentBatchEncoder, services/gateway/src/transport/.)
 * avsc's toBuffer allocates a zero-filled buffer of its own per record, outside Node's buffer pool, and
 * framing it took a second one: this encodes into one scratch buffer that already holds the header and
 * copies the frame out once, into a pooled buffer. Same bytes; bench/avro-encode.ts measures both. The
 * scratch is allocated at the first record (a type only read never needs it) and keeps the size of the
 * largest record encoded so far.
 */
export function confluentEncoder(type: avro.Type, id: number): (value: unknown) => Buffer {
  let scratch: Buffer | null = null;
  const withHeader = (bytes: number): Buffer => {
    const buffer = Buffer.allocUnsafe(bytes);
    buffer.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
    buffer.writeUInt32BE(id, 1);
    return buffer;
  };
  return (value) => {
    scratch ??= withHeader(INITIAL_SCRATCH_BYTES);
    // avsc answers a too-small buffer with a negative count of the bytes missing (after validating the
    // value: an invalid one throws either way).
    let end = type.encode(value, scratch, CONFLUENT_HEADER_BYTES);
    if (end < 0) {
      scratch = withHeader(Math.max(2 * scratch.length, scratch.length - end));
      end = type.encode(value, scratch, CONFLUENT_HEADER_BYTES);
      // Only a value that changed between the two passes (a getter) could still not fit.
      if (end < 0) throw new Error(`Avro value of schema ${id} changed while it was encoded`);
    }
    // A copy: the scratch is overwritten by the next record.
    return Buffer.from(scratch.subarray(0, end));
  };
}
