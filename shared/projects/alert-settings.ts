/**
 * A project's optional `alerts` block (docs/semantics.md, "Monitoring"): where the stats service posts
 * the project's alerts and which environment variable holds the secret it signs them with.
 *
 *   "alerts": { "webhook": { "url": "https://ops.example/hooks/liftstream", "secret_env": "LIFTSTREAM_ALERT_SECRET_SHOP" } }
 *
 * The secret itself never sits in PROJECTS_FILE (the file is meant to be committed): only the name of the
 * variable does, and the stats service refuses to start its alerting when that variable is unset or empty
 * (`resolveAlertSecrets`). Only http(s) URLs are accepted, and none with a user:password part, which would
 * put a credential in the file after all.
 */
import { z } from 'zod';
import { LiftstreamError } from '../errors.ts';
import { rule } from './zod-rules.ts';

/** Environment variable names as POSIX shells accept them, upper case by convention. */
const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;
const ENV_NAME_RULE =
  'an environment variable name: upper-case letters, digits and _, not starting with a digit';
const URL_RULE = 'an http:// or https:// URL without user:password';

const webhookUrl = z.string({ error: rule(URL_RULE) }).superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: rule(URL_RULE)({ input: value }) });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be ${URL_RULE}, got the scheme "${url.protocol}"` });
  } else if (url.username !== '' || url.password !== '') {
    ctx.addIssue({
      code: 'custom',
      message: `must be ${URL_RULE}: the file is meant to be committed; authenticate the receiver with the signature`,
    });
  }
});

const webhookSchema = z.strictObject(
  {
    url: webhookUrl,
    secret_env: z
      .string({ error: rule(ENV_NAME_RULE) })
      .regex(ENV_NAME_PATTERN, { error: rule(ENV_NAME_RULE) }),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; a webhook has url and secret_env (the secret itself comes from that environment variable)`
        : rule('an object { "url": ..., "secret_env": ... }')(issue),
  },
);

/** Spread into the project schema: `alerts` is optional, and a project without it raises no alert. */
export const alertSettingsSchema = {
  alerts: z
    .strictObject(
      { webhook: webhookSchema },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; alerts has webhook`
            : rule('an object { "webhook": { "url": ..., "secret_env": ... } }')(issue),
      },
    )
    .optional(),
};

export type AlertSettings = NonNullable<z.infer<typeof alertSettingsSchema.alerts>>;

/** A project's webhook with its secret read from the environment. */
export interface AlertWebhook {
  project: string;
  url: string;
  secret: string;
}

/**
 * The webhook of every project with an `alerts` block, secrets read from `env`. Throws CONFIG_INVALID
 * naming the project and the field when a variable is unset or empty: called when a service starts its
 * alerting, so a missing secret stops it at once instead of sending unsigned or unverifiable alerts.
 */
export function resolveAlertSecrets(
  projects: readonly { id: string; alerts?: AlertSettings | undefined }[],
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): AlertWebhook[] {
  const webhooks: AlertWebhook[] = [];
  for (const project of projects) {
    const webhook = project.alerts?.webhook;
    if (webhook === undefined) continue;
    const secret = env[webhook.secret_env];
    if (secret === undefined || secret === '') {
      throw new LiftstreamError(
        'CONFIG_INVALID',
        `Invalid alert configuration: project "${project.id}", "alerts.webhook.secret_env": the environment variable ` +
          `${webhook.secret_env} is ${secret === undefined ? 'unset' : 'empty'}; set it to the secret the receiver ` +
          'verifies signatures with (services/stats/README.md, "Alerts")',
      );
    }
    webhooks.push({ project: project.id, url: webhook.url, secret });
  }
  return webhooks;
}
