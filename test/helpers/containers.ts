/**
 * Opt-in (LIFTSTREAM_TESTCONTAINERS=1) real infrastructure in Docker containers, for machines that have
 * a Docker engine. The default harness (local processes) needs none; see global-setup.ts.
 */
export interface ContainerStack {
  kafkaBrokers: string;
  registryUrl: string;
  clickhouseUrl: string;
  stop: () => Promise<void>;
}

export async function startContainers(): Promise<ContainerStack> {
  // Imported lazily: testcontainers is only needed (and only works) where a Docker engine runs.
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const network = await new Network().start();
  const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.9.1')
    .withKraft()
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .start();
  const registry = await new GenericContainer('apicurio/apicurio-registry:3.3.3')
    .withNetwork(network)
    .withEnvironment({ APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD' })
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .start();
  const clickhouse = await new GenericContainer('clickhouse/clickhouse-server:25.8')
    .withNetwork(network)
    .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
    .withExposedPorts(8123)
    .withWaitStrategy(Wait.forHttp('/ping', 8123))
    .start();
  return {
    kafkaBrokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    clickhouseUrl: `http://${clickhouse.getHost()}:${clickhouse.getMappedPort(8123)}`,
    stop: async () => {
      await Promise.all([kafka.stop(), registry.stop(), clickhouse.stop()]);
      await network.stop();
    },
  };
}
