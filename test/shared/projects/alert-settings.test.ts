import { describe, expect, it } from 'vitest';
import { resolveAlertSecrets } from '../../../shared/projects/alert-settings.ts';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';

const withAlerts = (alerts: unknown) => ({
  projects: [{ id: 'shop', keys: [{ role: 'read', sha256: sha256Hex('shop-read') }], alerts }],
});

function refusal(json: unknown): string {
  try {
    parseProjectCatalog(json, 'projects.json');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the catalog to be refused');
}

const webhook = { url: 'https://ops.example/hooks/liftstream', secret_env: 'LIFTSTREAM_ALERT_SECRET_SHOP' };

describe('a project\'s "alerts" block', () => {
  it('is optional, and kept as given when present', () => {
    expect(parseProjectCatalog(withAlerts(undefined)).project('shop')?.alerts).toBeUndefined();
    expect(parseProjectCatalog(withAlerts({ webhook })).project('shop')?.alerts).toEqual({ webhook });
  });

  it.each([
    ['ftp://ops.example/hook', /"alerts\.webhook\.url".*http:\/\/ or https:\/\/.*"ftp:"/],
    ['not a url', /"alerts\.webhook\.url".*http:\/\/ or https:\/\/ URL.*got "not a url"/],
    ['https://user:pw@ops.example/hook', /"alerts\.webhook\.url".*without user:password/],
  ])('refuses the URL %s at start, naming the field', (url, message) => {
    expect(refusal(withAlerts({ webhook: { ...webhook, url } }))).toMatch(message);
  });

  it('refuses a secret in place of the variable name, and unknown fields', () => {
    expect(refusal(withAlerts({ webhook: { ...webhook, secret_env: 's3cr3t-value' } }))).toMatch(
      /"alerts\.webhook\.secret_env".*environment variable name/,
    );
    expect(refusal(withAlerts({ webhook: { ...webhook, secret: 'x' } }))).toMatch(
      /unknown field "secret".*secret itself comes from that environment variable/,
    );
    expect(refusal(withAlerts({ webhook, email: 'a@b.c' }))).toMatch(/unknown field "email"/);
    expect(refusal(withAlerts({}))).toMatch(/"alerts\.webhook".*missing/);
  });
});

describe('resolveAlertSecrets', () => {
  const projects = [{ id: 'shop', alerts: { webhook } }, { id: 'blog' }];

  it("reads each alerting project's secret from the environment", () => {
    expect(resolveAlertSecrets(projects, { LIFTSTREAM_ALERT_SECRET_SHOP: 'k' })).toEqual([
      { project: 'shop', url: webhook.url, secret: 'k' },
    ]);
  });

  it.each([
    ['unset', {}],
    ['empty', { LIFTSTREAM_ALERT_SECRET_SHOP: '' }],
  ])(
    'refuses to start when the variable is %s, naming the project, the field and the variable',
    (word, env) => {
      expect(() => resolveAlertSecrets(projects, env)).toThrow(
        new RegExp(
          `project "shop", "alerts\\.webhook\\.secret_env".*LIFTSTREAM_ALERT_SECRET_SHOP is ${word}`,
        ),
      );
    },
  );
});
