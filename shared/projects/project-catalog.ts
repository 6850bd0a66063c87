import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { LiftstreamError } from '../errors.ts';
import { originEntryProblem, ORIGIN_RULE } from './origin-patterns.ts';
import { alertSettingsSchema } from './alert-settings.ts';
import { analysisSettingsSchema, checkAnalysisReferences, cupedBeyondRetention } from './metric-catalog.ts';
import { rule } from './zod-rules.ts';

/**
 * Projects, their API keys and per-project settings, from one JSON file (PROJECTS_FILE) that every
 * service reads. Keys are stored as SHA-256 hex digests, never in clear: the file can be committed to
 * an ops repo and a leaked file grants nothing.
 *
 * {
 *   "projects": [{
 *     "id": "shop",
 *     "attribution": "cumulative" | "decision",          // default cumulative
 *     "keys": [{ "role": "write" | "read" | "client", "sha256": "<hex digest of the key>" }],
 *     "expectedSplit": { "<experiment>": { "control": 1, "treatment": 1 } },   // SRM weights; default equal
 *     "eventDefinitions": { ... },                       // gateway's config-as-code definitions (optional)
 *     "allowedOrigins": ["https://shop.example"],        // pages that may use the client keys (gateway)
 *     "rateLimits": { "client": { "perSecond": 50, "burst": 100 }, "write": { ... } },  // gateway, per key
 *     "dimensions": [...], "metrics": [...], "experiments": { ... }   // analysis: see metric-catalog.ts
 *     "alerts": { "webhook": { "url": "https://...", "secret_env": "<VARIABLE>" } }   // stats: see alert-settings.ts
 *   }]
 * }
 */
const projectIdPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The project id rule, in words: error messages and the CLI quote it. */
export const PROJECT_ID_RULE = 'lowercase letters, digits, _ and -, at most 64, not starting with _ or -';

export function isValidProjectId(id: string): boolean {
  return projectIdPattern.test(id);
}

/** The roles in words: error messages and the CLI quote them. */
export const KEY_ROLES_RULE =
  '"write" (may ingest), "read" (may query) or "client" (may ingest from web pages; publishable)';

export const KEY_ROLES = ['write', 'read', 'client'] as const;

const keySchema = z.object(
  {
    role: z.enum(KEY_ROLES, { error: rule(KEY_ROLES_RULE) }),
    sha256: z
      .string({ error: rule('a lowercase hex SHA-256 digest (64 characters)', { echo: false }) })
      .regex(/^[0-9a-f]{64}$/, {
        error: rule('a lowercase hex SHA-256 digest (64 characters)', { echo: false }),
      }),
  },
  { error: rule('an object { "role": ..., "sha256": ... }') },
);

/**
 * A key's request rate: a token bucket that refills `perSecond` requests per second and holds at most
 * `burst` (the requests a key may send at once after being idle).
 */
const rateLimitSchema = z.strictObject(
  {
    perSecond: z.number({ error: rule('a number of requests per second > 0') }).positive({
      error: rule('a number of requests per second > 0'),
    }),
    burst: z
      .number({ error: rule('a whole number of requests >= 1') })
      .int({ error: rule('a whole number of requests >= 1') })
      .min(1, { error: rule('a whole number of requests >= 1') }),
  },
  { error: rule('an object { "perSecond": <number>, "burst": <whole number> }') },
);

const projectSchema = z
  .object(
    {
      id: z
        .string({ error: rule(PROJECT_ID_RULE) })
        .regex(projectIdPattern, { error: rule(PROJECT_ID_RULE) }),
      attribution: z
        .enum(['cumulative', 'decision'], { error: rule('"cumulative" or "decision"') })
        .default('cumulative'),
      keys: z
        .array(keySchema, { error: rule('a list of { "role": ..., "sha256": ... } entries') })
        .min(1, 'a project needs at least one key'),
      expectedSplit: z.record(z.string(), z.record(z.string(), z.number().positive())).default({}),
      eventDefinitions: z.unknown().optional(),
      allowedOrigins: z
        .array(
          z.string({ error: rule(ORIGIN_RULE) }).superRefine((entry, ctx) => {
            const problem = originEntryProblem(entry);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          }),
          { error: rule(`a list of origins, each ${ORIGIN_RULE}`) },
        )
        .default([]),
      rateLimits: z
        .strictObject(
          { client: rateLimitSchema.optional(), write: rateLimitSchema.optional() },
          {
            error: (issue) =>
              issue.code === 'unrecognized_keys'
                ? `only "client" and "write" keys are rate-limited (the gateway's roles), not ${issue.keys.map((k) => `"${k}"`).join(', ')}`
                : rule('an object { "client"?: {...}, "write"?: {...} }')(issue),
          },
        )
        .default({}),
      ...analysisSettingsSchema,
      ...alertSettingsSchema,
    },
    { error: rule('an object { "id": ..., "keys": [...] }') },
  )
  .superRefine((project, ctx) => {
    for (const issue of checkAnalysisReferences(project)) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }
  });

const catalogSchema = z.object(
  {
    projects: z
      .array(projectSchema, { error: rule('a list of projects') })
      .min(1, 'must list at least one project'),
  },
  { error: rule('an object { "projects": [...] }') },
);

export type ProjectSettings = z.infer<typeof projectSchema>;
export type KeyRole = (typeof KEY_ROLES)[number];
export type RateLimitSetting = z.infer<typeof rateLimitSchema>;

export interface Principal {
  project: ProjectSettings;
  role: KeyRole;
  /**
   * The first 16 hex digits of the key's SHA-256: names the key in limits and logs without revealing
   * it (the catalog file holds the full digest anyway).
   */
  keyId: string;
}

export class ProjectCatalog {
  private readonly byDigest = new Map<string, Principal>();
  private readonly byId = new Map<string, ProjectSettings>();

  /** `source` (a file name) only makes error messages say where the catalog came from. */
  constructor(
    projects: ProjectSettings[],
    private readonly source?: string,
  ) {
    const keyIndex = new Map<string, string>(); // digest -> 'project "x" key i', for the message
    for (const [p, project] of projects.entries()) {
      if (this.byId.has(project.id)) {
        throw invalid(
          `project "${project.id}" is defined twice (again at projects.${p}); ids must be unique`,
          source,
        );
      }
      this.byId.set(project.id, project);
      for (const [k, key] of project.keys.entries()) {
        const here = `project "${project.id}" key ${k}`;
        const other = keyIndex.get(key.sha256);
        if (other !== undefined) {
          throw invalid(
            `a key of project "${project.id}" is also used elsewhere: ${here} has the same digest as ${other}; ` +
              `every key must be unique. ${keyHint(project.id, key.role)}`,
            source,
          );
        }
        keyIndex.set(key.sha256, here);
        this.byDigest.set(key.sha256, { project, role: key.role, keyId: key.sha256.slice(0, 16) });
      }
    }
  }

  /**
   * The project and role of a bearer token, or undefined. The lookup is by the token's SHA-256: timing
   * reveals at most something about a digest, which says nothing about any key; the final comparison is
   * constant-time anyway.
   */
  authenticate(token: string): Principal | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    const digest = sha256Hex(token);
    const found = this.byDigest.get(digest);
    if (!found) return undefined;
    const stored = found.project.keys.find((k) => k.sha256 === digest);
    return stored && timingSafeEqual(Buffer.from(stored.sha256, 'hex'), Buffer.from(digest, 'hex'))
      ? found
      : undefined;
  }

  project(id: string): ProjectSettings | undefined {
    return this.byId.get(id);
  }

  /**
   * Refuses a CUPED lookback longer than the state retention (`RETENTION_DAYS`, which the processor and the
   * stats service read): the processor evicts older events, so such a covariate would silently be partial.
   */
  assertCupedWithinRetention(retentionDays: number): void {
    for (const project of this.byId.values()) {
      const [issue] = cupedBeyondRetention(project.metrics, retentionDays);
      if (issue === undefined) continue;
      const metric = project.metrics[Number(issue.path[1])];
      throw invalid(
        `project "${project.id}", metric "${metric?.id ?? '?'}", "cuped.days": ${issue.message}`,
        this.source,
      );
    }
  }

  projects(): ProjectSettings[] {
    return [...this.byId.values()];
  }
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Parses catalog JSON (already read). A problem is one line naming `source`, the project, key and
 * field, the rule and, for keys, the command that makes a valid one: the services print it and stop.
 */
export function parseProjectCatalog(json: unknown, source?: string): ProjectCatalog {
  const result = catalogSchema.safeParse(json);
  if (!result.success) throw invalid(describeIssues(result.error.issues, json), source);
  return new ProjectCatalog(result.data.projects, source);
}

/**
 * The JSON of a catalog file, not yet validated: for tools that edit the file (they validate with
 * parseProjectCatalog). `source` is the name messages use, by default `file`.
 */
export function readProjectCatalogJson(file: string, source = file): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`cannot read the file: ${(err as Error).message}`, source);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(`not valid JSON: ${(err as Error).message}`, source);
  }
}

export function loadProjectCatalog(file: string): ProjectCatalog {
  return parseProjectCatalog(readProjectCatalogJson(file), file);
}

/** Shown issues; more would make the line unreadable, and fixing the first few reveals the rest. */
const maxIssuesShown = 3;

function describeIssues(issues: readonly z.core.$ZodIssue[], json: unknown): string {
  const lines = issues.slice(0, maxIssuesShown).map((issue) => {
    const path = issue.path.map(String).join('.');
    const where = subject(issue.path, json);
    return `${where}${where === `"${path}"` || path === '' ? '' : ` (${path})`}: ${issue.message}`;
  });
  if (issues.length > maxIssuesShown) lines.push(`and ${issues.length - maxIssuesShown} more`);
  const keyIssue = issues.find((i) => i.path[0] === 'projects' && i.path[2] === 'keys');
  let hint = '';
  if (keyIssue) {
    const project = validProjectId(json, keyIssue.path[1]);
    const role =
      typeof keyIssue.path[3] === 'number'
        ? at(json, ['projects', keyIssue.path[1], 'keys', keyIssue.path[3], 'role'])
        : undefined;
    hint = ` ${keyHint(
      project,
      KEY_ROLES.find((r) => r === role),
    )}`;
  }
  return `${lines.join('; ')}.${hint}`;
}

/** "project "shop", key 0, "sha256"" for projects.0.keys.0.sha256; a project with a bad id by its index. */
function subject(path: readonly PropertyKey[], json: unknown): string {
  if (path.length === 0) return 'the top level';
  if (path[0] !== 'projects' || typeof path[1] !== 'number') return `"${path.map(String).join('.')}"`;
  const parts: string[] = [];
  const id = path[2] === 'id' ? undefined : validProjectId(json, path[1]);
  parts.push(id === undefined ? `project #${path[1]}` : `project "${id}"`);
  let rest = path.slice(2);
  if (rest[0] === 'keys' && typeof rest[1] === 'number') {
    parts.push(`key ${rest[1]}`);
    rest = rest.slice(2);
  } else if (rest[0] === 'metrics' && typeof rest[1] === 'number') {
    const id = at(json, ['projects', path[1], 'metrics', rest[1], 'id']);
    parts.push(
      typeof id === 'string' && id.length <= 128 ? `metric ${JSON.stringify(id)}` : `metric #${rest[1]}`,
    );
    rest = rest.slice(2);
  } else if (rest[0] === 'experiments' && typeof rest[1] === 'string') {
    parts.push(`experiment ${JSON.stringify(rest[1])}`);
    rest = rest.slice(2);
  }
  if (rest.length > 0) parts.push(`"${rest.map(String).join('.')}"`);
  return parts.join(', ');
}

function validProjectId(json: unknown, index: PropertyKey | undefined): string | undefined {
  const id = at(json, ['projects', index, 'id']);
  return typeof id === 'string' && isValidProjectId(id) ? id : undefined;
}

function at(json: unknown, path: readonly (PropertyKey | undefined)[]): unknown {
  let value = json;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || segment === undefined) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function keyHint(project: string | undefined, role: KeyRole | undefined): string {
  return `Fix the entry, or replace it with one printed by: liftstream keys create --project ${project ?? '<id>'} --role ${role ?? KEY_ROLES.join('|')}`;
}

function invalid(message: string, source?: string): LiftstreamError {
  return new LiftstreamError(
    'CONFIG_INVALID',
    `Invalid project catalog${source ? ` ${source}` : ''}: ${message}`,
  );
}
