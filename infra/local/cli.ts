/**
 * `tsx infra/local/cli.ts up|down|status`: the local Kafka broker and schema registry on their own,
 * for benchmarks and manual work. Data, logs and pid files live under .local/infra/.
 * Ports: LOCAL_KAFKA_PORT (9092), LOCAL_KAFKA_CONTROLLER_PORT (9093), LOCAL_REGISTRY_PORT (8081).
 */
import { ensureDownloads } from './fetch.ts';
import { stopByPidFile, isAlive } from './java-process.ts';
import { kafkaPidFile, startLocalKafka } from './kafka-broker.ts';
import { localKafkaDir, localRegistryDir } from './paths.ts';
import { registryPidFile, startLocalRegistry } from './schema-registry.ts';
import fs from 'node:fs';

const kafkaPort = Number(process.env['LOCAL_KAFKA_PORT'] ?? 9092);
const controllerPort = Number(process.env['LOCAL_KAFKA_CONTROLLER_PORT'] ?? 9093);
const registryPort = Number(process.env['LOCAL_REGISTRY_PORT'] ?? 8081);
const kafkaPid = kafkaPidFile(localKafkaDir);
const registryPid = registryPidFile(localRegistryDir);

async function up(): Promise<void> {
  ensureDownloads();
  let t = Date.now();
  const kafka = await startLocalKafka({
    dataDir: localKafkaDir,
    port: kafkaPort,
    controllerPort,
  });
  console.log(
    `kafka     ${kafka.brokers}  pid ${kafka.pid}  ready in ${Date.now() - t} ms  log ${kafka.logFile}`,
  );
  t = Date.now();
  const registry = await startLocalRegistry({
    dataDir: localRegistryDir,
    port: registryPort,
    storage: 'kafkasql',
    kafkaBrokers: kafka.brokers,
  });
  console.log(
    `registry  ${registry.url}  pid ${registry.pid}  ready in ${Date.now() - t} ms  log ${registry.logFile}`,
  );
  // They outlive this command; `down` stops them by their pid files.
  kafka.release();
  registry.release();
}

async function down(): Promise<void> {
  const r = await stopByPidFile(registryPid);
  const k = await stopByPidFile(kafkaPid);
  console.log(`registry ${r ? 'stopped' : 'was not running'}; kafka ${k ? 'stopped' : 'was not running'}`);
}

function status(): void {
  for (const [name, file] of [
    ['kafka', kafkaPid],
    ['registry', registryPid],
  ] as const) {
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : undefined;
    console.log(`${name}: ${pid && isAlive(pid) ? `running (pid ${pid})` : 'not running'}`);
  }
}

const command = process.argv[2];
const run = command === 'up' ? up : command === 'down' ? down : command === 'status' ? status : undefined;
if (!run) {
  console.error('usage: tsx infra/local/cli.ts up|down|status');
  process.exit(2);
}
Promise.resolve(run()).catch((err: unknown) => {
  console.error(`liftstream infra: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
