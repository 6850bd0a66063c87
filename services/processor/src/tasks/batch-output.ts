import type { Message, TopicMessages } from 'kafkajs';

/** What processing one chunk of input records produced, before the transaction sends it. */
export class BatchOutput {
  private readonly byTopic = new Map<string, Message[]>();
  /** Domain and transport counters of the chunk; published only once its transaction commits. */
  readonly counters = new Map<string, number>();
  /** received_at (unix ms) of each ingest event read, for the freshness histogram at commit. */
  readonly receivedAt: number[] = [];

  push(topic: string, key: string, value: Buffer | string | null, partition?: number): void {
    let list = this.byTopic.get(topic);
    if (list === undefined) this.byTopic.set(topic, (list = []));
    list.push(partition === undefined ? { key, value } : { key, value, partition });
  }

  count(name: string, n = 1): void {
    if (n !== 0) this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  countAll(counters: Partial<Record<string, number>>): void {
    for (const [name, n] of Object.entries(counters)) this.count(name, n ?? 0);
  }

  /** Records per topic, in the order pushed (Kafka keeps that order per partition). */
  topicMessages(): TopicMessages[] {
    return [...this.byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  /** Number of records pushed to `topic`. */
  sizeOf(topic: string): number {
    return this.byTopic.get(topic)?.length ?? 0;
  }
}
