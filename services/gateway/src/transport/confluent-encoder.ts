/**
 * Encodes a request's records into the Confluent wire format (magic byte 0, 4-byte schema id, Avro
 * body) in one pass over a reusable scratch buffer, then copies them out with one allocation per
 * request; each record's value is a view into that copy.
 *
 * Why: avsc's `toBuffer` plus a `Buffer.concat` for the header cost about 4 µs per small record,
 * mostly allocation; `Type.encode` into a scratch buffer costs about 1.5 µs. At 50,000 events/s that
 * difference is an eighth of a core.
 */
import type avro from 'avsc';
import {
  CONFLUENT_HEADER_BYTES,
  CONFLUENT_MAGIC_BYTE,
} from '../../../../shared/registry/confluent-avro-reader.ts';

/** Encodes the Avro values of one request; returns one Confluent-framed value per input, in order. */
export interface BatchEncoder {
  /** The registered schema id written in every header. */
  readonly schemaId: number;
  encodeBatch(values: readonly unknown[]): Buffer[];
}

export class ConfluentBatchEncoder implements BatchEncoder {
  private scratch: Buffer;

  constructor(
    private readonly type: avro.Type,
    readonly schemaId: number,
    initialScratchBytes = 256 * 1024,
  ) {
    this.scratch = Buffer.allocUnsafe(initialScratchBytes);
  }

  encodeBatch(values: readonly unknown[]): Buffer[] {
    const ends = new Array<number>(values.length);
    let pos = 0;
    for (let i = 0; i < values.length; i++) {
      for (;;) {
        const start = pos;
        if (start + CONFLUENT_HEADER_BYTES <= this.scratch.length) {
          this.scratch[start] = CONFLUENT_MAGIC_BYTE;
          this.scratch.writeUInt32BE(this.schemaId, start + 1);
          // avsc returns a negative position when the value did not fit (nothing usable written).
          const end = this.type.encode(values[i], this.scratch, start + CONFLUENT_HEADER_BYTES);
          if (end >= 0) {
            pos = end;
            break;
          }
        }
        this.grow(pos);
      }
      ends[i] = pos;
    }
    const out = Buffer.allocUnsafeSlow(pos);
    this.scratch.copy(out, 0, 0, pos);
    const views = new Array<Buffer>(values.length);
    let start = 0;
    for (let i = 0; i < values.length; i++) {
      const end = ends[i] as number;
      views[i] = out.subarray(start, end);
      start = end;
    }
    return views;
  }

  /** Doubles the scratch buffer, keeping the `used` bytes already encoded. */
  private grow(used: number): void {
    const next = Buffer.allocUnsafe(this.scratch.length * 2);
    this.scratch.copy(next, 0, 0, used);
    this.scratch = next;
  }
}
