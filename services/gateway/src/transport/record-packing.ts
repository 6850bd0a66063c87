/**
 * Records packed into one transferable buffer, to hand a batch to a producer thread without copying
 * per record or serialising objects: keys (UTF-8) and values laid end to end, plus an offsets array.
 * Record i's key is bytes [o[2i], o[2i+1]) and its value [o[2i+1], o[2i+2]).
 */
import type { OutgoingRecord } from '../ingest/prepare-ingest.ts';

export interface PackedRecords {
  /** Owned by this batch alone (never Node's shared buffer pool), so it can be transferred. */
  readonly data: ArrayBuffer;
  /** 2n + 1 byte offsets into `data`. */
  readonly offsets: Int32Array;
}

/** A record as the Kafka client takes it: views into the packed buffer. */
export interface PackedRecordView {
  readonly key: Buffer;
  readonly value: Buffer;
}

export function packRecords(records: readonly OutgoingRecord[]): PackedRecords {
  let capacity = 0;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: an upper bound that avoids measuring each key twice.
  for (const r of records) capacity += r.key.length * 3 + r.value.length;
  const buffer = Buffer.from(new ArrayBuffer(capacity));
  const offsets = new Int32Array(records.length * 2 + 1);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as OutgoingRecord;
    offsets[2 * i] = at;
    at += buffer.write(r.key, at, 'utf8');
    offsets[2 * i + 1] = at;
    at += r.value.copy(buffer, at);
  }
  offsets[records.length * 2] = at;
  return { data: buffer.buffer as ArrayBuffer, offsets };
}

export function unpackRecords(packed: PackedRecords): PackedRecordView[] {
  const { data, offsets } = packed;
  const n = (offsets.length - 1) / 2;
  const views = new Array<PackedRecordView>(n);
  for (let i = 0; i < n; i++) {
    const keyStart = offsets[2 * i] as number;
    const valueStart = offsets[2 * i + 1] as number;
    const valueEnd = offsets[2 * i + 2] as number;
    views[i] = {
      key: Buffer.from(data, keyStart, valueStart - keyStart),
      value: Buffer.from(data, valueStart, valueEnd - valueStart),
    };
  }
  return views;
}
