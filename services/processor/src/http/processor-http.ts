import swagger from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ProcessorHttpDeps {
  /** The processor's metrics registry. */
  registry: Registry;
  /** Whether the processor joined its group and every task it owns is restored and ready. */
  isReady(): boolean;
}

const statusSchema = Type.Object({ status: Type.String() });
const healthzSchema = {
  summary: 'The process is up',
  response: { 200: statusSchema },
};
const readyzSchema = {
  summary: 'The processor joined its consumer group and every task it owns is restored and ready',
  response: { 200: statusSchema, 503: statusSchema },
};
const metricsSchema = {
  summary: 'Prometheus metrics (text exposition format)',
  response: { 200: Type.String() },
};

/**
 * The processor's small HTTP surface: liveness, readiness, Prometheus metrics and the OpenAPI
 * document. Built without listening (main listens; tests use inject).
 */
export async function buildProcessorHttp(deps: ProcessorHttpDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(swagger, {
    openapi: { info: { title: 'liftstream processor', version: '0.1.0' } },
  });
  app.get('/healthz', { schema: healthzSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: readyzSchema }, async (_req, reply) =>
    deps.isReady() ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' }),
  );
  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
