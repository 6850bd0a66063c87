/**
 * Kafka stopped for 30 s in the middle of the load, then restarted, under the whole pipeline (gateway,
 * processor, sink + stats as child processes on a broker of this file's own). While it is down the
 * gateway refuses with 503 and acknowledges nothing; clients retry refused batches with the same
 * message_ids; the processor and the sink ride the outage out. Afterwards every experiment × metric must
 * equal the reference over the accepted events: each event that got a 200 counted exactly once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { PrivateKafka } from '../helpers/private-kafka.ts';
import { awaitReferenceResults, pipelineProjects, postBatch, verdictDifferences } from './e2e-client.ts';
import { generateScenario, type Scenario } from './scenario/scenario-generator.ts';

const OUTAGE_MS = 30_000;
/** The load is spread over this long; the outage starts a quarter of the way in. */
const LOAD_MS = 60_000;
const CLIENTS = 4;
const CONVERGE_TIMEOUT_MS = 180_000;

type Phase = 'up' | 'stopping' | 'down' | 'starting';

describe('Kafka stopped for 30 s mid-load under the whole pipeline', () => {
  let kafka: PrivateKafka;
  let pipeline: Pipeline;
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = generateScenario({ seed: 9_001, now: Date.now(), users: 300 });
    kafka = await PrivateKafka.start('e2e-broker-outage');
    pipeline = await startPipeline({
      kafkaBrokers: kafka.brokers,
      registryUrl: inject('registryUrl'),
      projects: pipelineProjects(scenario),
      // Refuse within 2 s while Kafka is down, so clients see the outage rather than hanging.
      extraEnv: { PRODUCE_TIMEOUT_MS: '2000', TOPIC_PARTITIONS: '2' },
    });
  }, 300_000);

  afterAll(async () => {
    await pipeline?.stop();
    await kafka?.dispose();
  });

  it('refuses while down, loses nothing that got a 200, counts nothing twice', async () => {
    let phase: Phase = 'up';
    const refusedWhileDown: number[] = [];
    const acceptedWhileDown: number[] = [];
    const verdicts: string[] = [];
    const started = Date.now();
    const pace = LOAD_MS / scenario.requests.length;
    let next = 0;

    const client = async (): Promise<void> => {
      for (let i = next++; i < scenario.requests.length; i = next++) {
        const request = scenario.requests[i];
        if (!request) continue;
        const due = started + i * pace;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const sentIn = phase;
        const body = await postBatch(pipeline, request.project, request.batch, {
          retryUntil: Date.now() + OUTAGE_MS + 60_000,
          onRefused: (status) => {
            if (phase === 'down') refusedWhileDown.push(status);
          },
        });
        // A request sent and answered while the broker was fully down cannot have been acknowledged by it.
        if (sentIn === 'down' && phase === 'down') acceptedWhileDown.push(i);
        verdicts.push(...verdictDifferences(scenario, i, body));
      }
    };

    const outage = (async () => {
      await new Promise((r) => setTimeout(r, LOAD_MS / 4));
      phase = 'stopping';
      await kafka.down();
      phase = 'down';
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      phase = 'starting';
      await kafka.up();
      phase = 'up';
    })();

    await Promise.all([...Array.from({ length: CLIENTS }, client), outage]);

    expect(acceptedWhileDown, 'no 200 for a request sent and answered while Kafka was down').toEqual([]);
    expect(
      refusedWhileDown.filter((s) => s === 503).length,
      'the gateway answered 503 while Kafka was down',
    ).toBeGreaterThan(0);
    expect(
      refusedWhileDown.filter((s) => s !== 503),
      'the gateway itself stayed up',
    ).toEqual([]);
    expect(verdicts, 'every request got the verdict its events deserve').toEqual([]);

    expect(await awaitReferenceResults(pipeline, scenario, CONVERGE_TIMEOUT_MS)).toEqual({});

    // The services survived the outage on their own: none of them exited.
    for (const [name, service] of Object.entries(pipeline.services)) {
      expect(service.child.exitCode ?? service.child.signalCode, `${name} still running`).toBeNull();
    }
  }, 420_000);
});
