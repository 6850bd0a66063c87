/**
 * Produce requests (v3) that exercise every branch of kafkajs's record encoding: Buffer, string
 * (multi-byte and lone-surrogate) and null keys and values, headers (including repeated keys),
 * explicit timestamps far before and after "now" (varlongs above 2^32), string timestamps, empty and
 * 2,000-record partitions, gzip, transactional and plain idempotent producers (the gateway's), and
 * requests to one or two topics. Deterministic (seeded), so the digests in
 * upstream-digests.json, computed with unpatched kafkajs 2.2.4 by generate-digests.ts, stay valid.
 */
export interface CaseMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  timestamp?: number | string;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
}

export interface ProduceCase {
  compression: 0 | 1; // None | GZIP
  acks: -1 | 1;
  /** null: an idempotent producer outside transactions, as the gateway's. */
  transactionalId: string | null;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence: number; messages: CaseMessage[] }[];
  }[];
}

/** The clock the cases are encoded at (kafkajs fills missing timestamps with Date.now()). */
export const CASES_NOW = 1_700_000_000_500;

export function produceCases(): ProduceCase[] {
  let seed = 1;
  const rnd = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const int = (n: number): number => Math.floor(rnd() * n);
  const message = (i: number): CaseMessage => {
    const m: CaseMessage = { value: null };
    const k = rnd();
    if (k < 0.1) m.key = null;
    else if (k < 0.4) m.key = `ключ-${i}-\u{1F600}-\ud800`;
    else if (k < 0.9) m.key = Buffer.from(`user-${i}`);
    const v = rnd();
    m.value =
      v < 0.05 ? null : v < 0.3 ? `value ✓ ${'x'.repeat(int(300))}` : Buffer.alloc(int(3_000), i % 251);
    const t = rnd();
    if (t < 0.1) m.timestamp = 1_700_000_000_000 + int(1e6);
    else if (t < 0.2) m.timestamp = 1_700_000_000_000 - int(1e12);
    else if (t < 0.25) m.timestamp = '1700000000123';
    const h = rnd();
    if (h < 0.2) m.headers = { a: 'x', ü: Buffer.from([1, 2]), multi: ['1', '22', Buffer.from('333')] };
    else if (h < 0.3) m.headers = {};
    return m;
  };
  const cases: ProduceCase[] = [];
  for (let c = 0; c < 40; c++) {
    const partitions = () =>
      Array.from({ length: 1 + int(4) }, (_, partition) => ({
        partition,
        firstSequence: int(1e6),
        messages: Array.from({ length: c % 10 === 0 ? 2_000 : int(40) }, (_, i) => message(i)),
      }));
    const topics = c % 5 === 4 ? [`topic-${c}`, `topic-${c}-b`] : [`topic-${c}`];
    cases.push({
      compression: c % 4 === 3 ? 1 : 0,
      acks: c % 3 === 2 ? 1 : -1,
      transactionalId: c % 2 === 0 ? null : `tx-${c}`,
      topicData: topics.map((topic) => ({ topic, partitions: partitions() })),
    });
  }
  return cases;
}
