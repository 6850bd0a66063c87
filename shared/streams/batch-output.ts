import type { Message, TopicMessages } from 'kafkajs';
import { attachDecoded, carryDecoded } from './decoded-values.ts';

/** What processing one chunk of input records produced, before the transaction sends it. */
export class BatchOutput {
  private readonly byTopic = new Map<string, Message[]>();
  /** Domain and transport counters of the chunk; published only once its transaction commits. */
  readonly counters = new Map<string, number>();
  /** received_at (unix ms) of each ingest event read, for the freshness histogram at commit. */
  readonly receivedAt: number[] = [];

  push(topic: string, key: string, value: Buffer | string | null, partition?: number): Message {
    let list = this.byTopic.get(topic);
    if (list === undefined) this.byTopic.set(topic, (list = []));
    const message: Message = partition === undefined ? { key, value } : { key, value, partition };
    list.push(message);
    return message;
  }

  /**
   * Like push(), with the object `value` was encoded from: if the record is processed in place by
   * its own task, the reader gets the object and skips decoding (decoded-values.ts).
   */
  pushWithDecoded(topic: string, key: string, value: Buffer | string, decoded: object): void {
    attachDecoded(this.push(topic, key, value), decoded);
  }

  count(name: string, n = 1): void {
    if (n !== 0) this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  countAll(counters: Partial<Record<string, number>>): void {
    for (const [name, n] of Object.entries(counters)) this.count(name, n ?? 0);
  }

  /** True when nothing was pushed or counted. */
  isEmpty(): boolean {
    return this.byTopic.size === 0 && this.counters.size === 0 && this.receivedAt.length === 0;
  }

  /** Adds `later`'s records after this output's (same topics keep their order), its counters and times. */
  append(later: BatchOutput): void {
    for (const { topic, messages } of later.topicMessages()) {
      for (const m of messages) {
        const partition = (m as { partition?: number }).partition;
        carryDecoded(m, this.push(topic, m.key as string, m.value as Buffer | string | null, partition));
      }
    }
    this.countAll(Object.fromEntries(later.counters));
    this.receivedAt.push(...later.receivedAt);
  }

  /**
   * Removes the records of `topic` that `pick` chooses (it may set a record's partition) and returns
   * them in the order pushed; the others keep theirs.
   */
  take(topic: string, pick: (message: Message) => boolean): Message[] {
    const list = this.byTopic.get(topic);
    if (list === undefined) return [];
    const taken: Message[] = [];
    const kept: Message[] = [];
    for (const m of list) (pick(m) ? taken : kept).push(m);
    if (kept.length === 0) this.byTopic.delete(topic);
    else this.byTopic.set(topic, kept);
    return taken;
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
