/**
 * docker-compose.yml as Compose resolves it (`docker-compose config`: interpolation, `.env`, YAML merges):
 * secure unless the operator says otherwise. A required secret missing stops Compose before anything
 * starts; infrastructure and API ports listen on 127.0.0.1; liftstream containers run as a non-root user
 * under an init process, and Compose waits longer for them to stop than they take.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../infra/local/paths.ts';
import { composeConfig, type ResolvedService } from '../helpers/docker/compose-config.ts';
import { serviceEnvSchemas } from '../helpers/service-env-schemas.ts';

const composeFile = path.join(repoRoot, 'docker-compose.yml');
const envExample = fs.readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
const secrets = 'CLICKHOUSE_PASSWORD=a-test-secret\nGRAFANA_ADMIN_PASSWORD=another-test-secret\n';
const liftstream = ['gateway', 'processor', 'stats'] as const;

/** Every `${NAME:?...}` in the compose file: variables Compose must refuse to run without. */
const required = [
  ...new Set(
    [...fs.readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1] as string),
  ),
];

function hostPorts(service: ResolvedService | undefined): string[] {
  return (service?.ports ?? []).map((p) =>
    typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`,
  );
}

describe('docker-compose.yml, resolved by Compose', () => {
  it('refuses to start without each required secret, naming it and where to set it', () => {
    expect(required).toContain('CLICKHOUSE_PASSWORD');
    for (const name of required) {
      const withoutIt = secrets
        .split('\n')
        .filter((line) => !line.startsWith(`${name}=`))
        .join('\n');
      const result = composeConfig(composeFile, withoutIt);
      expect(result.status, `compose ran without ${name}`).not.toBe(0);
      expect(result.stderr).toContain(name);
      expect(result.stderr).toContain('.env.example');
    }
  });

  it('refuses .env.example copied as it is: it documents the secrets without giving them values', () => {
    for (const name of required)
      expect(envExample, `.env.example documents ${name}`).toMatch(new RegExp(`^${name}=$`, 'm'));
    const result = composeConfig(composeFile, envExample);
    expect(result.status).not.toBe(0);
  });

  it('publishes every port on 127.0.0.1 by default', () => {
    const { services, status, stderr } = composeConfig(composeFile, secrets);
    expect(status, stderr).toBe(0);
    const published = Object.entries(services).flatMap(([name, s]) =>
      hostPorts(s).map((p) => `${name} ${p}`),
    );
    expect(published.length).toBeGreaterThanOrEqual(5);
    expect(published.filter((p) => !p.split(' ')[1]?.startsWith('127.0.0.1:'))).toEqual([]);
  });

  it('publishes on another address only when the operator opts in', () => {
    const { services } = composeConfig(
      composeFile,
      `${secrets}LIFTSTREAM_BIND_ADDRESS=0.0.0.0\nLIFTSTREAM_API_BIND_ADDRESS=0.0.0.0\n`,
    );
    for (const name of ['kafka', 'registry', 'clickhouse', 'gateway', 'stats'])
      expect(hostPorts(services[name])[0], name).toMatch(/^0\.0\.0\.0:/);
  });

  it('gives ClickHouse a user with the password from .env, and liftstream the same credentials', () => {
    const { services } = composeConfig(composeFile, secrets);
    const clickhouse = services['clickhouse']?.environment ?? {};
    expect(clickhouse['CLICKHOUSE_SKIP_USER_SETUP']).toBeUndefined();
    expect(clickhouse['CLICKHOUSE_PASSWORD']).toBe('a-test-secret');
    const stats = services['stats']?.environment ?? {};
    expect(stats['CLICKHOUSE_USER']).toBe(clickhouse['CLICKHOUSE_USER']);
    expect(stats['CLICKHOUSE_PASSWORD']).toBe('a-test-secret');
  });

  for (const name of liftstream) {
    it(`${name}: non-root, under init, and stopped with more grace than its SHUTDOWN_GRACE_MS`, () => {
      const service = composeConfig(composeFile, secrets).services[name];
      expect(service?.init, 'init: true').toBe(true);
      expect(service?.user, 'user').toBe('node');
      const graceMs = Number(
        serviceEnvSchemas[name].shape['SHUTDOWN_GRACE_MS']?.parse(
          service?.environment?.['SHUTDOWN_GRACE_MS'],
        ),
      );
      const stopGrace = /^(\d+)s$/.exec(service?.stop_grace_period ?? '');
      expect(stopGrace, `stop_grace_period of ${name}`).not.toBeNull();
      expect(Number(stopGrace?.[1]) * 1_000).toBeGreaterThan(graceMs);
    });
  }

  it('mounts no volume where a state cache lives: replicas never share STATE_DIR or SINK_STATE_DIR', () => {
    const { services } = composeConfig(composeFile, secrets);
    for (const name of liftstream) {
      const env = services[name]?.environment ?? {};
      expect(env['STATE_DIR'], `${name} STATE_DIR`).toBeUndefined();
      expect(env['SINK_STATE_DIR'], `${name} SINK_STATE_DIR`).toBeUndefined();
      const targets = (services[name]?.volumes ?? []).map((v) => v.split(':')[1]);
      expect(targets, `${name} volumes`).toEqual(['/etc/liftstream']);
    }
  });
});
