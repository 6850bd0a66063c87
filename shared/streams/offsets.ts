import type { Admin } from 'kafkajs';

/** Low (log start) and high (high watermark) offsets of one partition. */
export interface PartitionBounds {
  low: number;
  high: number;
}

/** Bounds of every partition of `topic`, by partition number. */
export async function topicBounds(admin: Admin, topic: string): Promise<Map<number, PartitionBounds>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
}

/** High watermark of one partition. */
export async function highWatermark(admin: Admin, topic: string, partition: number): Promise<number> {
  const bounds = (await topicBounds(admin, topic)).get(partition);
  if (bounds === undefined) throw new Error(`topic ${topic} has no partition ${partition}`);
  return bounds.high;
}

/**
 * Committed offsets of `groupId` on `topic`, by partition; a partition without a commit reads
 * from its log start (the consumers are `fromBeginning`), so that is its "committed" offset.
 * Read after the task's producer was initialised, these are settled: no transaction of the
 * task's id is pending (kafkajs's OffsetFetch has no require_stable, KIP-447).
 */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const [fetched, bounds] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [topic] }),
    topicBounds(admin, topic),
  ]);
  const out = new Map<number, number>();
  for (const [partition, { low }] of bounds) out.set(partition, low);
  for (const { partition, offset } of fetched[0]?.partitions ?? []) {
    const committed = Number(offset);
    // A committed offset below the log start (retention deleted it) reads from the log start.
    if (committed >= 0) out.set(partition, Math.max(committed, bounds.get(partition)?.low ?? 0));
  }
  return out;
}

/** Committed offset of one partition (see `committedOffsets`). */
export async function committedOffset(
  admin: Admin,
  groupId: string,
  topic: string,
  partition: number,
): Promise<number> {
  const offset = (await committedOffsets(admin, groupId, topic)).get(partition);
  if (offset === undefined) throw new Error(`topic ${topic} has no partition ${partition}`);
  return offset;
}
