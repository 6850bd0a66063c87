import type { Admin, ITopicConfig } from 'kafkajs';
import type { KafkaConfig } from '../config/common-config.ts';

/**
 * Every topic liftstream owns, with its key and why. All keys are UTF-8 strings `<project>/<id>`;
 * Kafka's default (murmur2) partitioner places equal keys on one partition, in any client language.
 */
export interface TopicNames {
  /** Gateway → processor. Key `<project>/<raw identity>`: user_id if present, else anonymous_id (alias: anonymous_id). */
  ingest: string;
  /** Processor internal repartition, key `<project>/<canonical unit>`: one unit's events meet in one task. */
  units: string;
  /** Compacted changelog of the identity store (alias map + seen message ids), key `<project>/<raw identity>`. */
  identityChangelog: string;
  /** Compacted changelog of the unit store (exposures + tracks per unit), key `<project>/<canonical unit>`. */
  unitsChangelog: string;
  /** Public: assignment changelog (sign ±1), key `<project>/<unit>`. */
  exposures: string;
  /** Public: attributed track events (sign ±1), key `<project>/<unit>`. */
  attributed: string;
  /**
   * Public: pre-exposure track events feeding CUPED covariates (sign ±1), key `<project>/<unit>`; only for
   * events some metric with `cuped` names (schemas/covariate-event.avsc).
   */
  covariates: string;
  /**
   * Gateways → stats: per project, JSON counts of the events a gateway accepted, rejected (by code) and
   * dropped (by reason) over a window (services/gateway/src/ingest-reports/). Key `<project>` (no id part).
   */
  ingestReports: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    ingest: `${prefix}ingest`,
    units: `${prefix}processor.units`,
    identityChangelog: `${prefix}processor.identity-changelog`,
    unitsChangelog: `${prefix}processor.units-changelog`,
    exposures: `${prefix}exposures`,
    attributed: `${prefix}attributed`,
    covariates: `${prefix}covariates`,
    ingestReports: `${prefix}ingest-reports`,
  };
}

/** Topic specs: event topics keep data by time, changelogs are compacted (latest state per key wins). */
export function topicSpecs(config: KafkaConfig, retentionMs: number): ITopicConfig[] {
  const names = topicNames(config.topicPrefix);
  const base = { numPartitions: config.partitions, replicationFactor: config.replicationFactor };
  const timed = [{ name: 'retention.ms', value: String(retentionMs) }];
  const compacted = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.compaction.lag.ms', value: '60000' },
  ];
  return [
    { topic: names.ingest, ...base, configEntries: timed },
    { topic: names.units, ...base, configEntries: timed },
    { topic: names.identityChangelog, ...base, configEntries: compacted },
    { topic: names.unitsChangelog, ...base, configEntries: compacted },
    { topic: names.exposures, ...base, configEntries: timed },
    { topic: names.attributed, ...base, configEntries: timed },
    { topic: names.covariates, ...base, configEntries: timed },
    { topic: names.ingestReports, ...base, configEntries: timed },
  ];
}

/**
 * Creates missing topics and checks existing ones have the partition count the processor's
 * co-partitioning relies on (ingest, units and both changelogs must match).
 */
export async function ensureTopics(admin: Admin, specs: ITopicConfig[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  for (const spec of specs) {
    const found = metadata.topics.find((t) => t.name === spec.topic);
    if (found && spec.numPartitions !== undefined && found.partitions.length !== spec.numPartitions) {
      throw new Error(
        `topic ${spec.topic} has ${found.partitions.length} partitions but TOPIC_PARTITIONS is ${spec.numPartitions}; ` +
          'co-partitioned topics must agree (change TOPIC_PARTITIONS or the topic)',
      );
    }
  }
  return missing.map((s) => s.topic);
}
