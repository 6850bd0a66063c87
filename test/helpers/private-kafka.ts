/**
 * A broker of one test file's own, for fault tests that stop and restart Kafka: the shared broker of
 * the suite must never be stopped. Restarts reuse the data dir and ports, as an operator's restart does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalKafka, type LocalKafka } from '../../infra/local/kafka-broker.ts';
import { pickFreePorts } from '../../infra/local/ports.ts';

async function freePortPair(): Promise<[number, number]> {
  const [broker, controller] = await pickFreePorts('127.0.0.1', 2);
  return [broker as number, controller as number];
}

export class PrivateKafka {
  private broker: LocalKafka | undefined;

  private constructor(
    private readonly dataDir: string,
    private readonly ports: [number, number],
  ) {}

  static async start(name: string): Promise<PrivateKafka> {
    const kafka = new PrivateKafka(fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`)), await freePortPair());
    await kafka.up();
    return kafka;
  }

  get brokers(): string {
    return `127.0.0.1:${this.ports[0]}`;
  }

  get running(): boolean {
    return this.broker !== undefined;
  }

  /** Starts the broker again on the same data dir and ports. */
  async up(): Promise<void> {
    if (this.broker) return;
    this.broker = await startLocalKafka({
      dataDir: this.dataDir,
      port: this.ports[0],
      controllerPort: this.ports[1],
      heapMb: 384,
    });
  }

  /** A clean shutdown (SIGTERM, then SIGKILL after the grace period). */
  async down(graceMs = 10_000): Promise<void> {
    const broker = this.broker;
    this.broker = undefined;
    await broker?.stop(graceMs);
  }

  /** Stops the broker and deletes its data (topics and all). */
  async dispose(): Promise<void> {
    await this.down();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
