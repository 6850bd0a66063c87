/** How a chunk's transaction ended (`unknown`: EndTxn failed; settled afterwards). */
export type TransactionResult = 'commit' | 'abort' | 'fenced' | 'unknown';

/**
 * What the runtime reports, for the application to publish (Prometheus, logs). Counts of a chunk
 * are reported only when its transaction commits, so an aborted and retried chunk counts once.
 */
export interface RuntimeMetrics {
  /** A chunk's transaction ended; `seconds` (processing plus transaction) for commits. */
  transactionEnded(stage: string, result: TransactionResult, seconds?: number): void;
  /** A chunk's transaction committed. */
  chunkCommitted(stage: string, chunk: CommittedChunk): void;
  /** Items dropped by retention from `store`. */
  evicted(store: string, items: number): void;
  /** Lag of an input partition after a fetched batch; null when the partition left this instance. */
  consumerLag(topic: string, partition: number, lag: number | null): void;
  /** A restore of an assignment's tasks finished. */
  restored(seconds: number, records: number): void;
}

/** What a committed chunk read and wrote. */
export interface CommittedChunk {
  recordsIn: number;
  /** Records written per sink name (`changelog` for state changes; `other` for an undeclared topic). */
  recordsOut: ReadonlyMap<string, number>;
  /**
   * Records sent to a source of the same task that landed on its partition: processed in place,
   * in the same transaction, instead of produced (not in `recordsOut`).
   */
  recordsInPlace: number;
  /** The stage's own counters (duplicates dropped, rows retracted, ...). */
  counters: ReadonlyMap<string, number>;
  /** received_at (unix ms) of the input events that carry one, for freshness. */
  receivedAt: readonly number[];
}
