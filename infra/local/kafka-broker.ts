import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { awaitReady, spawnJava, type ManagedProcess } from './java-process.ts';
import { kafkaHome } from './paths.ts';
import { assertPortFree } from './ports.ts';

export interface LocalKafkaOptions {
  /** Folder for this broker's log dir, config, logs and pid file; reused on the next start. */
  dataDir: string;
  host?: string;
  port: number;
  controllerPort: number;
  /** JVM heap, MB (default 512). */
  heapMb?: number;
  startTimeoutMs?: number;
}

export interface LocalKafka extends ManagedProcess {
  readonly brokers: string;
}

/**
 * The JVM options of Kafka's own launcher (KAFKA_JVM_PERFORMANCE_OPTS in bin/kafka-run-class.sh, 3.9),
 * which this one replaces: the Maven artifacts have no bin/ scripts. Without them the JVM's G1 aims at
 * 200 ms pauses and sizes its young generation to match: under the soak's load, young collections
 * averaged 43 ms (jstat: 107 in 4.6 s), and every produce request waiting on one waits that long.
 */
export const KAFKA_JVM_PERFORMANCE_OPTS = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

/** Where a broker started with `dataDir` keeps its pid. */
export const kafkaPidFile = (dataDir: string): string => path.join(dataDir, 'kafka.pid');

/**
 * A single-node KRaft broker (broker + controller in one JVM) on loopback only.
 * The log dir is formatted once; later starts reuse it, which is what makes local data survive restarts.
 */
export async function startLocalKafka(opts: LocalKafkaOptions): Promise<LocalKafka> {
  const host = opts.host ?? '127.0.0.1';
  await assertPortFree(host, opts.port, 'Kafka broker', 'LOCAL_KAFKA_PORT');
  await assertPortFree(host, opts.controllerPort, 'Kafka controller', 'LOCAL_KAFKA_CONTROLLER_PORT');

  const logDir = path.join(opts.dataDir, 'kraft-logs');
  const configFile = path.join(opts.dataDir, 'server.properties');
  fs.mkdirSync(opts.dataDir, { recursive: true });
  fs.writeFileSync(configFile, serverProperties(host, opts.port, opts.controllerPort, logDir));
  fs.writeFileSync(path.join(opts.dataDir, 'log4j.properties'), LOG4J);

  const classpath = path.join(kafkaHome, 'libs', '*');
  const jvmArgs = [
    `-Xms${opts.heapMb ?? 512}m`,
    `-Xmx${opts.heapMb ?? 512}m`,
    ...KAFKA_JVM_PERFORMANCE_OPTS,
    `-Dlog4j.configuration=file:${path.join(opts.dataDir, 'log4j.properties')}`,
    `-Dkafka.logs.dir=${path.join(opts.dataDir, 'logs')}`,
    '-cp',
    classpath,
  ];

  if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
    // KRaft needs its storage formatted with a cluster id once; 16 random bytes, base64url, is Kafka's own format.
    const clusterId = newClusterId();
    const format = spawnSync(
      'java',
      [
        ...jvmArgs,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId}`,
        '-c',
        configFile,
        '--ignore-formatted',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (format.status !== 0) {
      throw new Error(
        `Kafka storage format failed: ${(format.stderr || format.stdout || '').trim().slice(-500)}`,
      );
    }
  }

  const proc = spawnJava({
    name: 'kafka',
    args: [...jvmArgs, 'kafka.Kafka', configFile],
    cwd: opts.dataDir,
    logFile: path.join(opts.dataDir, 'logs', 'server.out'),
    pidFile: kafkaPidFile(opts.dataDir),
  });
  const brokers = `${host}:${opts.port}`;
  await awaitReady(
    proc,
    `Kafka broker at ${brokers}`,
    () => brokerAnswers(brokers),
    opts.startTimeoutMs ?? 90_000,
  );
  return { ...proc, brokers };
}

/** True once the broker serves metadata (an open port alone is not enough: KRaft may still be electing). */
export async function brokerAnswers(brokers: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'liftstream-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function serverProperties(host: string, port: number, controllerPort: number, logDir: string): string {
  return `# Written by liftstream's local launcher on every start; edit infra/local/kafka-broker.ts instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${host}:${controllerPort}
listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}
advertised.listeners=PLAINTEXT://${host}:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${logDir}
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.segment.bytes=268435456
log.cleaner.enable=true
transaction.abort.timed.out.transaction.cleanup.interval.ms=10000
`;
}

const LOG4J = `log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=\${kafka.logs.dir}/kafka.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
`;

/**
 * A KRaft cluster id: 16 random bytes, base64url (Kafka's own format). Like Kafka's Uuid.randomUuid,
 * never one starting with '-': the storage tool's argument parser would read it as an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
