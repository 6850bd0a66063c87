import path from 'node:path';
import { z } from 'zod';
import { hostPortList, httpUrl, logLevel, positiveInt, loadEnv } from './load-env.ts';

/**
 * Variables every liftstream service reads. Defaults suit the local mode (`npm run start:local`);
 * the README's configuration table is generated from the same names.
 */
export const commonEnvSchema = z.object({
  /** Kafka bootstrap servers. */
  KAFKA_BROKERS: hostPortList.default(['127.0.0.1:9092']),
  /** Confluent-compatible schema registry base URL (Apicurio: `.../apis/ccompat/v7`). */
  SCHEMA_REGISTRY_URL: httpUrl.default('http://127.0.0.1:8081/apis/ccompat/v7'),
  /** Prefix of every topic liftstream creates, so several installations can share a cluster. */
  TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'letters, digits, . _ - only')
    .default('liftstream.'),
  /** Partitions of topics liftstream creates (the processor's parallelism ceiling). */
  TOPIC_PARTITIONS: positiveInt.default(8),
  TOPIC_REPLICATION_FACTOR: positiveInt.default(1),
  /** ClickHouse server URL; unset means embedded chDB in CLICKHOUSE_DATA_DIR. */
  CLICKHOUSE_URL: httpUrl.optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a plain identifier')
    .default('liftstream'),
  /** Embedded chDB data directory; one process may open it at a time. */
  CLICKHOUSE_DATA_DIR: z.string().default(path.join('.local', 'data', 'clickhouse')),
  LOG_LEVEL: logLevel.default('info'),
});

export type CommonEnv = z.infer<typeof commonEnvSchema>;

export interface KafkaConfig {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
}

export interface ClickHouseConfig {
  url: string | undefined;
  user: string;
  password: string;
  database: string;
  dataDir: string;
}

export interface CommonConfig {
  kafka: KafkaConfig;
  registryUrl: string;
  clickhouse: ClickHouseConfig;
  logLevel: CommonEnv['LOG_LEVEL'];
}

export function toCommonConfig(env: CommonEnv): CommonConfig {
  return {
    kafka: {
      brokers: env.KAFKA_BROKERS,
      topicPrefix: env.TOPIC_PREFIX,
      partitions: env.TOPIC_PARTITIONS,
      replicationFactor: env.TOPIC_REPLICATION_FACTOR,
    },
    registryUrl: env.SCHEMA_REGISTRY_URL,
    clickhouse: {
      url: env.CLICKHOUSE_URL,
      user: env.CLICKHOUSE_USER,
      password: env.CLICKHOUSE_PASSWORD,
      database: env.CLICKHOUSE_DATABASE,
      dataDir: env.CLICKHOUSE_DATA_DIR,
    },
    logLevel: env.LOG_LEVEL,
  };
}

export function loadCommonConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): CommonConfig {
  return toCommonConfig(loadEnv(commonEnvSchema, env));
}
